//! Results per subject for studies with a per-subject protocol: the subjects × configurations
//! table (mean over seeds per cell), each configuration's mean and spread over subjects, and
//! each subject's accuracy against its chance level.

use super::csv::field;
use super::model::Study;
use super::sentences::sentence;
use crate::report::stats::{self, Comparison};
use crate::results::At;
use crate::store::read::Run;
use std::collections::BTreeMap;
use std::fmt::Write;

/// Subjects shown in full on the terminal; beyond, the summary rows and the best and worst.
const SHOWN_IN_FULL: usize = 30;
/// Best and worst subjects shown beyond [`SHOWN_IN_FULL`].
const EXTREMES: usize = 5;

/// One unit's cell: its mean accuracy over seeds, in [0, 1], and whether it is above the
/// unit's chance level.
#[derive(Clone, Debug)]
struct Cell {
    accuracy: f64,
    above_chance: bool,
    /// Seeds the mean is over.
    seeds: usize,
    /// The unit's test trials.
    trials: usize,
    /// The unit's first run of the configuration, which the subjects figure links to.
    run: String,
}

/// A unit's mean accuracy of a configuration (a fraction) and its first run of it.
pub type AccuracyOf<'a> = (f64, &'a str);

/// A subjects × configurations table of one experiment on one data set.
pub struct SubjectTable {
    /// The experiment's name.
    pub experiment: String,
    /// The experiment, the accuracy and the test, in one line.
    pub caption: String,
    /// The configurations, "model label".
    pub columns: Vec<String>,
    /// Each column's model.
    models: Vec<String>,
    /// The study's margin of practical equivalence, as a fraction.
    rope: f64,
    /// Per unit (subject or fold, sorted): its chance level and a cell per column.
    rows: Vec<(String, f64, Vec<Option<Cell>>)>,
}

/// The unit's cell from its runs (one per seed): the mean accuracy at `at`, and the one-sided
/// binomial test of the mean correct count over seeds (rounded down) against the share of
/// the unit's majority class among its test trials, at α 0.05.
fn cell(runs: &[&Run], at: At) -> Option<(Cell, f64)> {
    let predictions: Vec<_> = runs.iter().filter_map(|r| r.predictions.as_ref()).collect();
    let trials = predictions.first()?.labels.len();
    let correct: Vec<f64> = predictions
        .iter()
        .map(|p| p.scores(at, false).iter().sum::<f64>())
        .collect();
    let mean_correct = correct.iter().sum::<f64>() / correct.len() as f64;
    let classes = predictions[0]
        .labels
        .iter()
        .copied()
        .max()
        .map_or(2, |m| m as usize + 1);
    let chance = crate::results::chance_level(&predictions[0].labels, classes);
    let p = stats::binomial_upper_tail(mean_correct.floor() as u64, trials as u64, chance);
    Some((
        Cell {
            accuracy: mean_correct / trials.max(1) as f64,
            above_chance: p < stats::ALPHA,
            seeds: correct.len(),
            trials,
            run: runs[0].id.clone(),
        },
        chance,
    ))
}

/// One table per experiment and data set whose runs follow a per-subject protocol.
pub fn subject_tables(studies: &[Study]) -> Vec<SubjectTable> {
    let mut by_experiment: BTreeMap<(String, String), Vec<&Study>> = BTreeMap::new();
    for s in studies {
        let per_subject = s
            .configs
            .iter()
            .any(|c| c.by_seed.keys().any(|(_, unit)| !unit.is_empty()));
        if per_subject {
            by_experiment
                .entry((s.experiment.clone(), s.data.clone()))
                .or_default()
                .push(s);
        }
    }
    let mut out = Vec::new();
    for ((experiment, _), of) in by_experiment {
        let at = of[0].at;
        let mut columns = Vec::new();
        let mut models = Vec::new();
        let mut cells: BTreeMap<String, (f64, Vec<Option<Cell>>)> = BTreeMap::new();
        let width = of.iter().map(|s| s.configs.len()).sum::<usize>();
        for s in &of {
            for c in &s.configs {
                let column = columns.len();
                columns.push(format!("{} {}", s.model, c.label));
                models.push(s.model.to_string());
                let mut units: BTreeMap<&str, Vec<&Run>> = BTreeMap::new();
                for ((_, unit), run) in c.by_seed.iter().filter(|((_, unit), _)| !unit.is_empty()) {
                    units.entry(unit.as_str()).or_default().push(run);
                }
                for (unit, runs) in units {
                    if let Some((value, chance)) = cell(&runs, at) {
                        let row = cells
                            .entry(unit.to_string())
                            .or_insert_with(|| (chance, vec![None; width]));
                        row.1[column] = Some(value);
                    }
                }
            }
        }
        // Configurations without a per-subject run (pooled ones) get no column.
        let kept: Vec<usize> = (0..width)
            .filter(|&j| cells.values().any(|(_, row)| row[j].is_some()))
            .collect();
        let columns: Vec<String> = kept.iter().map(|&j| columns[j].clone()).collect();
        let models: Vec<String> = kept.iter().map(|&j| models[j].clone()).collect();
        let mut rows: Vec<(String, f64, Vec<Option<Cell>>)> = cells
            .into_iter()
            .map(|(unit, (chance, row))| (unit, chance, kept.iter().map(|&j| row[j].clone()).collect()))
            .collect();
        rows.sort_by_key(|r| natural(&r.0));
        out.push(SubjectTable {
            experiment: experiment.clone(),
            caption: format!(
                "{experiment} per subject: {} (%), mean over seeds; * above the subject's chance level (one-sided binomial test of the mean correct count over seeds against the share of the subject's majority class among its test trials, α 0.05 per subject, uncorrected; with several seeds it is conservative)",
                match at {
                    At::Final => "final-epoch test accuracy",
                    At::BestTest => "highest test accuracy",
                    At::BestVal => "test accuracy at the best validation epoch",
                }
            ),
            columns,
            models,
            rope: of[0].findings.rope_points / 100.0,
            rows,
        });
    }
    out
}

/// A name's sort key with its digits as a number ("fold 2/12" before "fold 10/12").
fn natural(name: &str) -> (String, Vec<u64>) {
    let numbers = name
        .split(|c: char| !c.is_ascii_digit())
        .filter_map(|d| d.parse().ok())
        .collect();
    (
        name.trim_end_matches(|c: char| c.is_ascii_digit() || c == '/')
            .to_string(),
        numbers,
    )
}

impl SubjectTable {
    /// The models compared per subject (studies are per model, so nothing else compares
    /// them): each pair of columns of different models, by the subject-level rule
    /// ([`stats::compare_units`]: a paired t over the units both have, each unit's accuracy
    /// a mean over its own seeds), Holm over these pairs.
    pub fn model_comparisons(&self) -> Vec<(usize, usize, Comparison)> {
        let unit = match self.rows.iter().any(|r| r.0.starts_with("fold ")) {
            true => "fold",
            false => "subject",
        };
        let mut out = Vec::new();
        for i in 0..self.columns.len() {
            for j in i + 1..self.columns.len() {
                if self.models[i] == self.models[j] {
                    continue;
                }
                let both: Vec<(&Cell, &Cell)> = self
                    .rows
                    .iter()
                    .filter_map(|r| Some((r.2[i].as_ref()?, r.2[j].as_ref()?)))
                    .collect();
                let differences: Vec<f64> = both.iter().map(|(a, b)| a.accuracy - b.accuracy).collect();
                let seeds = both.iter().map(|(a, b)| a.seeds.min(b.seeds)).min().unwrap_or(0);
                let trials = both.iter().map(|(a, _)| a.trials).sum();
                out.push((
                    i,
                    j,
                    stats::compare_units(unit, &differences, seeds, trials, false, self.rope, stats::ALPHA),
                ));
            }
        }
        let family = out.len();
        let mut adjusted: Vec<Comparison> = out.iter().map(|(_, _, c)| c.clone()).collect();
        stats::holm(&mut adjusted, family);
        out.iter_mut().zip(adjusted).for_each(|((_, _, c), a)| *c = a);
        out
    }

    /// [`SubjectTable::model_comparisons`] as sentences under a heading (empty where the
    /// table holds one model).
    pub fn model_findings(&self) -> Vec<String> {
        let comparisons = self.model_comparisons();
        if comparisons.is_empty() {
            return Vec::new();
        }
        let unit = match self.rows.iter().any(|r| r.0.starts_with("fold ")) {
            true => "folds",
            false => "subjects",
        };
        let pairs = match comparisons.len() {
            1 => "1 pair".to_string(),
            n => format!("the {n} pairs"),
        };
        let mut lines = vec![format!(
            "{} per subject, models compared — claims about new subjects like these {} {unit}; paired t over {unit} (seeds nested), Holm over {pairs} of configurations of different models; equivalence margin ±{} points:",
            self.experiment,
            self.rows.len(),
            100.0 * self.rope
        )];
        lines.extend(
            comparisons
                .iter()
                .map(|(i, j, c)| format!("  {}", sentence(&self.columns[*i], &self.columns[*j], c))),
        );
        lines
    }

    /// The summary rows: each column's mean and sd over units, and how many are above chance.
    fn summary(&self) -> Vec<Vec<String>> {
        let column = |j: usize| -> Vec<Cell> { self.rows.iter().filter_map(|r| r.2[j].clone()).collect() };
        let each =
            |f: &dyn Fn(&[Cell]) -> String| -> Vec<String> { (0..self.columns.len()).map(|j| f(&column(j))).collect() };
        let accuracies = |c: &[Cell]| c.iter().map(|c| c.accuracy).collect::<Vec<f64>>();
        vec![
            [
                vec!["mean".to_string(), String::new()],
                each(&|c| {
                    let a = accuracies(c);
                    match a.is_empty() {
                        true => "-".into(),
                        false => format!("{:.1}", 100.0 * a.iter().sum::<f64>() / a.len() as f64),
                    }
                }),
            ]
            .concat(),
            [
                vec!["sd".to_string(), String::new()],
                each(&|c| stats::sample_sd(&accuracies(c)).map_or("-".into(), |sd| format!("{:.1}", 100.0 * sd))),
            ]
            .concat(),
            [
                vec!["above chance".to_string(), String::new()],
                each(&|c| format!("{}/{}", c.iter().filter(|c| c.above_chance).count(), c.len())),
            ]
            .concat(),
        ]
    }

    fn row(&self, i: usize) -> Vec<String> {
        let (unit, chance, cells) = &self.rows[i];
        let mut row = vec![unit.clone(), format!("{:.1}", 100.0 * chance)];
        row.extend(cells.iter().map(|c| match c {
            Some(c) => format!("{:.1}{}", 100.0 * c.accuracy, if c.above_chance { "*" } else { "" }),
            None => "-".into(),
        }));
        row
    }

    fn header(&self) -> Vec<String> {
        [vec!["subject".to_string(), "chance".to_string()], self.columns.clone()].concat()
    }

    /// The header and the rows shown on a screen: every unit up to 30, else the 5 best and
    /// 5 worst units by their mean over the columns around a line that counts the others
    /// (the whole table is in `subjects.csv`); then the summary rows.
    pub fn shown(&self) -> (Vec<String>, Vec<Vec<String>>) {
        let mut rows = Vec::new();
        if self.rows.len() <= SHOWN_IN_FULL {
            rows.extend((0..self.rows.len()).map(|i| self.row(i)));
        } else {
            let mean = |i: usize| {
                let a: Vec<f64> = self.rows[i].2.iter().flatten().map(|c| c.accuracy).collect();
                a.iter().sum::<f64>() / a.len().max(1) as f64
            };
            let mut order: Vec<usize> = (0..self.rows.len()).collect();
            order.sort_by(|&a, &b| mean(b).total_cmp(&mean(a)));
            let mut gap = vec![String::new(); self.columns.len() + 2];
            gap[0] = format!("… {} more subjects (subjects.csv)", self.rows.len() - 2 * EXTREMES);
            rows.extend(order[..EXTREMES].iter().map(|&i| self.row(i)));
            rows.push(gap);
            rows.extend(order[order.len() - EXTREMES..].iter().map(|&i| self.row(i)));
        }
        rows.extend(self.summary());
        (self.header(), rows)
    }

    /// The table as text under its caption ([`SubjectTable::shown`]).
    pub fn text(&self) -> String {
        let (header, shown) = self.shown();
        let rows: Vec<Vec<String>> = std::iter::once(header).chain(shown).collect();
        let widths: Vec<usize> = (0..rows[0].len())
            .map(|c| {
                rows.iter()
                    .filter(|r| !r[1..].iter().all(String::is_empty))
                    .map(|r| r[c].chars().count())
                    .max()
                    .unwrap_or(0)
            })
            .collect();
        let mut out = format!("{}\n", self.caption);
        for r in rows {
            let cells: Vec<String> = r.iter().zip(&widths).map(|(c, w)| format!("{c:<w$}")).collect();
            let _ = writeln!(out, "{}", cells.join("  ").trim_end());
        }
        out
    }

    /// Each unit's name, chance level and, per column, its accuracy (fractions) with its
    /// first run, for figures.
    pub fn accuracies(&self) -> Vec<(&str, f64, Vec<Option<AccuracyOf<'_>>>)> {
        self.rows
            .iter()
            .map(|(unit, chance, cells)| {
                (
                    unit.as_str(),
                    *chance,
                    cells
                        .iter()
                        .map(|c| c.as_ref().map(|c| (c.accuracy, c.run.as_str())))
                        .collect(),
                )
            })
            .collect()
    }

    /// Every cell as a CSV line: experiment, unit, configuration, chance, mean accuracy
    /// (percent) and whether it is above chance.
    pub fn csv(&self) -> String {
        let mut out = String::new();
        for (unit, chance, cells) in &self.rows {
            for (column, c) in self.columns.iter().zip(cells) {
                if let Some(c) = c {
                    let _ = writeln!(
                        out,
                        "{},{},{},{:.4},{:.4},{}",
                        field(&self.experiment),
                        field(unit),
                        field(column),
                        100.0 * chance,
                        100.0 * c.accuracy,
                        c.above_chance
                    );
                }
            }
        }
        out
    }
}

/// Every per-subject table as text, each with its models compared.
pub fn subjects_text(studies: &[Study]) -> String {
    subject_tables(studies)
        .iter()
        .map(|t| {
            let findings: String = t.model_findings().iter().map(|l| format!("{l}\n")).collect();
            format!("{}{findings}\n", t.text())
        })
        .collect()
}

/// `subjects.csv`: one row per experiment, unit and configuration.
pub fn subjects_csv(studies: &[Study]) -> String {
    let mut out = String::from("experiment,subject,configuration,chance,accuracy,above_chance\n");
    for table in subject_tables(studies) {
        out.push_str(&table.csv());
    }
    out
}

//! A grid's factorial findings: each varied setting's main effect, the two-way
//! interactions, and the best configuration with its ties, by the rule of
//! [`crate::report::grid`]. Data set, subject and fold are blocks, never averaged over:
//! a study is one data set, and a block is a seed, or, where models are per subject or
//! fold, a unit with its seeds averaged.

use super::labels::setting;
use super::model::{
    BestAndTies, ComparisonFindings, Config, Factorial, Interaction, Kind, LevelMean, MainEffect, Ranked, Study,
    LARGE_STUDY,
};
use super::sentences::{level, sentence};
use crate::report::grid::{self, Residual};
use crate::report::stats::{self, Comparison, Verdict};
use crate::results::At;
use std::collections::{BTreeMap, BTreeSet};

/// What [`factorial`] needs of the study's test set: each configuration's per-trial scores
/// by seed (pooled runs only) and the trials' clusters.
pub(super) struct TrialScores {
    /// Per configuration, its scores per seed (empty where runs are per unit).
    pub by_config: Vec<BTreeMap<u64, Vec<f64>>>,
    /// Each test trial's cluster.
    pub clusters: Vec<usize>,
}

/// The grid of a study: each configuration's setting values and its runs' metric per block.
struct Grid<'s> {
    /// The varied settings.
    factors: Vec<&'static str>,
    /// Per configuration, its value of each factor.
    values: Vec<Vec<String>>,
    /// Per factor, its levels in order.
    levels: Vec<Vec<String>>,
    /// Per configuration, the metric of each shared block (a unit's seeds averaged where
    /// models are per unit; each of its runs where the configurations share no block).
    rows: Vec<Vec<f64>>,
    /// Per configuration, per shared seed, its per-trial scores: where every run is pooled
    /// and scored on the same test trials.
    trial_scores: Option<Vec<Vec<Vec<f64>>>>,
    /// The residual, where configurations share at least two blocks.
    residual: Option<Residual>,
    /// Whether a block is a unit (subject or fold) with its seeds averaged, not a seed.
    per_unit: bool,
    scores: &'s TrialScores,
    rope: f64,
    alpha: f64,
}

/// The factorial findings of a designed study that varies two or more settings or holds
/// more than [`LARGE_STUDY`] configurations; `metric(run)` is the study's accuracy.
pub(super) fn factorial(
    s: &Study,
    metric: impl Fn(&crate::store::read::Run, At) -> Option<f64>,
    scores: &TrialScores,
    (rope, alpha): (f64, f64),
) -> Option<Factorial> {
    let grid_like = s.varying.len() >= 2 || s.configs.len() > LARGE_STUDY;
    if s.findings.kind != Kind::Designed || s.configs.len() < 2 || !grid_like {
        return None;
    }
    let blocks: BTreeSet<(u64, String)> = shared_blocks(&s.configs, |r| metric(r, s.at).is_some());
    let rows: Vec<Vec<f64>> = s
        .configs
        .iter()
        .map(|c| match blocks.is_empty() {
            true => c.by_seed.values().filter_map(|r| metric(r, s.at)).collect(),
            false => blocks.iter().filter_map(|b| metric(c.by_seed[b], s.at)).collect(),
        })
        .collect();
    // A configuration without the metric (runs of eegrun 0.1 hold no predictions) has no
    // mean to average: no factorial findings rather than a wrong one.
    if rows.iter().any(Vec::is_empty) {
        return None;
    }
    let (rows, per_unit) = by_unit(rows, &blocks);
    let factors = s.varying.clone();
    let values: Vec<Vec<String>> = s
        .configs
        .iter()
        .map(|c| {
            let run = c.by_seed.values().next().expect("a configuration has a run");
            factors.iter().map(|f| setting(run, f)).collect()
        })
        .collect();
    let levels = (0..factors.len())
        .map(|f| ordered_levels(values.iter().map(|v| &v[f])))
        .collect();
    let trial_scores: Option<Vec<Vec<Vec<f64>>>> = scores
        .by_config
        .iter()
        .map(|by_seed| {
            blocks
                .iter()
                .map(|(seed, unit)| {
                    by_seed
                        .get(seed)
                        .filter(|v| unit.is_empty() && v.len() == scores.clusters.len())
                        .cloned()
                })
                .collect()
        })
        .collect::<Option<Vec<_>>>()
        .filter(|v| v.len() == s.configs.len() && !scores.clusters.is_empty());
    let grid = Grid {
        residual: grid::residual(&rows),
        per_unit,
        factors,
        values,
        levels,
        rows,
        trial_scores,
        scores,
        rope,
        alpha,
    };
    let mut main_effects: Vec<MainEffect> = (0..grid.factors.len()).map(|f| grid.main_effect(f)).collect();
    let mut interactions: Vec<Interaction> = (0..grid.factors.len())
        .flat_map(|f| (f + 1..grid.factors.len()).map(move |g| (f, g)))
        .map(|(f, g)| grid.interaction(f, g))
        .collect();
    let family_size = correct_together(&mut main_effects, &mut interactions);
    let best = best_and_ties(s, &grid);
    let residual_df = grid.residual.map_or(0.0, |r| r.df);
    Some(Factorial {
        method: method(&grid, family_size),
        blocks: grid.residual.map_or(0, |r| r.blocks),
        residual_df,
        family_size,
        main_effects,
        interactions,
        best,
    })
}

/// `rows[config][block]` over `blocks`, with each unit's seeds averaged where models are
/// per subject or fold: a unit's seeds share its test set, so the unit is one block
/// ([`grid::unit_means`]; one unit leaves no residual, as the pairwise rule over units
/// decides nothing from one subject); whether they were.
fn by_unit(rows: Vec<Vec<f64>>, blocks: &BTreeSet<(u64, String)>) -> (Vec<Vec<f64>>, bool) {
    let units: BTreeSet<&String> = blocks.iter().map(|(_, unit)| unit).collect();
    if units.iter().all(|u| u.is_empty()) {
        return (rows, false);
    }
    let unit_of: Vec<usize> = blocks
        .iter()
        .map(|(_, unit)| units.iter().position(|u| *u == unit).unwrap_or(0))
        .collect();
    (grid::unit_means(&rows, &unit_of), true)
}

/// The (seed, unit) blocks every configuration has, with the metric known.
fn shared_blocks(configs: &[Config], known: impl Fn(&crate::store::read::Run) -> bool) -> BTreeSet<(u64, String)> {
    let mut shared: Option<BTreeSet<(u64, String)>> = None;
    for c in configs {
        let mine: BTreeSet<(u64, String)> = c
            .by_seed
            .iter()
            .filter(|(_, r)| known(r))
            .map(|(k, _)| k.clone())
            .collect();
        shared = Some(match shared {
            None => mine,
            Some(s) => s.intersection(&mine).cloned().collect(),
        });
    }
    shared.unwrap_or_default()
}

/// Levels in numeric order where every one is a number, else in order of first appearance.
fn ordered_levels<'a>(values: impl Iterator<Item = &'a String>) -> Vec<String> {
    let mut levels: Vec<String> = Vec::new();
    for v in values {
        if !levels.contains(v) {
            levels.push(v.clone());
        }
    }
    if levels.iter().all(|l| l.parse::<f64>().is_ok()) {
        levels.sort_by(|a, b| {
            a.parse::<f64>()
                .unwrap_or(0.0)
                .total_cmp(&b.parse::<f64>().unwrap_or(0.0))
        });
    }
    levels
}

impl Grid<'_> {
    /// Configurations keyed by their values of every factor but `skip`.
    fn by_rest(&self, skip: &[usize]) -> BTreeMap<Vec<&str>, Vec<usize>> {
        let mut out: BTreeMap<Vec<&str>, Vec<usize>> = BTreeMap::new();
        for (c, v) in self.values.iter().enumerate() {
            let rest = (0..self.factors.len())
                .filter(|f| !skip.contains(f))
                .map(|f| v[f].as_str())
                .collect();
            out.entry(rest).or_default().push(c);
        }
        out
    }

    /// The configuration among `cells` whose factors `fs` take `want`.
    fn find(&self, cells: &[usize], fs: &[usize], want: &[&str]) -> Option<usize> {
        cells
            .iter()
            .copied()
            .find(|&c| fs.iter().zip(want).all(|(&f, w)| self.values[c][f] == *w))
    }

    /// The contrast with these weights per configuration, judged by [`grid::contrast`] with
    /// the test set's part where runs share one.
    fn contrast(&self, weights: &[f64]) -> Comparison {
        let trials = self.scores.clusters.len();
        let clusters = self.scores.clusters.iter().max().map_or(0, |m| m + 1);
        grid::contrast(
            &self.rows,
            weights,
            self.residual,
            match &self.trial_scores {
                Some(scores) => grid::test_part(scores, weights, &self.scores.clusters),
                None => (0.0, 0.0),
            },
            (trials, clusters),
            self.rope,
            self.alpha,
        )
    }

    /// The mean of the configurations' means, in percent.
    fn mean_of(&self, cells: &[usize]) -> f64 {
        let mean = |row: &Vec<f64>| row.iter().sum::<f64>() / row.len().max(1) as f64;
        100.0 * cells.iter().map(|&c| mean(&self.rows[c])).sum::<f64>() / cells.len().max(1) as f64
    }

    /// Factor `f`'s marginal means and its adjacent levels' contrasts (lower − higher,
    /// over the configurations that match on every other factor).
    fn main_effect(&self, f: usize) -> MainEffect {
        let name = self.factors[f];
        let levels = self.levels[f]
            .iter()
            .map(|l| {
                let cells: Vec<usize> = (0..self.values.len()).filter(|&c| self.values[c][f] == *l).collect();
                let mean = self.mean_of(&cells);
                let interval = self.residual.map(|r| {
                    let half = 100.0
                        * stats::t_quantile(1.0 - self.alpha / 2.0, r.df)
                        * (r.variance / (cells.len() * r.blocks) as f64).sqrt();
                    (mean - half, mean + half)
                });
                LevelMean {
                    level: l.clone(),
                    configurations: cells.len(),
                    mean,
                    interval,
                }
            })
            .collect();
        let rest = self.by_rest(&[f]);
        let contrasts = self.levels[f]
            .windows(2)
            .map(|pair| {
                let mut weights = vec![0.0; self.values.len()];
                let matched: Vec<(usize, usize)> = rest
                    .values()
                    .filter_map(|cells| {
                        Some((
                            self.find(cells, &[f], &[&pair[0]])?,
                            self.find(cells, &[f], &[&pair[1]])?,
                        ))
                    })
                    .collect();
                for &(lo, hi) in &matched {
                    weights[lo] += 1.0 / matched.len() as f64;
                    weights[hi] -= 1.0 / matched.len() as f64;
                }
                findings(
                    format!("{name} {}", pair[0]),
                    format!("{name} {}", pair[1]),
                    self.contrast(&weights),
                )
            })
            .collect();
        MainEffect {
            setting: name,
            levels,
            contrasts,
        }
    }

    /// Factors `f` and `g`: their two-way means, and for each adjacent pair of levels of
    /// each, how much more `g`'s change gains at `f`'s higher level than at its lower.
    fn interaction(&self, f: usize, g: usize) -> Interaction {
        let (rows, columns) = (&self.levels[f], &self.levels[g]);
        let means = rows
            .iter()
            .map(|r| {
                columns
                    .iter()
                    .map(|c| {
                        let cells: Vec<usize> = (0..self.values.len())
                            .filter(|&i| self.values[i][f] == *r && self.values[i][g] == *c)
                            .collect();
                        (!cells.is_empty()).then(|| self.mean_of(&cells))
                    })
                    .collect()
            })
            .collect();
        let rest = self.by_rest(&[f, g]);
        let (nf, ng) = (self.factors[f], self.factors[g]);
        let mut contrasts = Vec::new();
        for fr in rows.windows(2) {
            for gc in columns.windows(2) {
                let corners = |cells: &Vec<usize>| -> Option<[usize; 4]> {
                    let at = |a: &str, b: &str| self.find(cells, &[f, g], &[a, b]);
                    Some([
                        at(&fr[1], &gc[1])?,
                        at(&fr[1], &gc[0])?,
                        at(&fr[0], &gc[1])?,
                        at(&fr[0], &gc[0])?,
                    ])
                };
                let matched: Vec<[usize; 4]> = rest.values().filter_map(corners).collect();
                if matched.is_empty() {
                    continue;
                }
                let mut weights = vec![0.0; self.values.len()];
                let share = 1.0 / matched.len() as f64;
                for [hh, hl, lh, ll] in &matched {
                    weights[*hh] += share;
                    weights[*hl] -= share;
                    weights[*lh] -= share;
                    weights[*ll] += share;
                }
                contrasts.push(findings(
                    format!("{ng} {}→{} at {nf} {}", gc[0], gc[1], fr[1]),
                    format!("at {nf} {}", fr[0]),
                    self.contrast(&weights),
                ));
            }
        }
        Interaction {
            settings: [nf, ng],
            rows: rows.clone(),
            columns: columns.clone(),
            means,
            contrasts,
        }
    }
}

/// A contrast as findings (its sentence written after Holm, by [`correct_together`]).
fn findings(a: String, b: String, statistics: Comparison) -> ComparisonFindings {
    ComparisonFindings {
        a,
        b,
        verdict: statistics.verdict(),
        sentence: String::new(),
        seeds_needed: statistics.seeds_needed(),
        statistics,
    }
}

/// Holm over every main-effect and interaction contrast together; their verdicts and
/// sentences follow. Returns the family's size.
fn correct_together(main: &mut [MainEffect], interactions: &mut [Interaction]) -> usize {
    let mut all: Vec<&mut ComparisonFindings> = main
        .iter_mut()
        .flat_map(|m| m.contrasts.iter_mut())
        .chain(interactions.iter_mut().flat_map(|i| i.contrasts.iter_mut()))
        .collect();
    let mut statistics: Vec<Comparison> = all.iter().map(|c| c.statistics.clone()).collect();
    let family = statistics.len();
    stats::holm(&mut statistics, family);
    for (c, adjusted) in all.iter_mut().zip(statistics) {
        c.verdict = adjusted.verdict();
        c.seeds_needed = adjusted.seeds_needed();
        c.sentence = sentence(&c.a, &c.b, &adjusted);
        c.statistics = adjusted;
    }
    family
}

/// The best configuration and its ties: on mean best validation accuracy where every run
/// validates, else on the study's test accuracy (then optimistic: chosen and scored on the
/// same trials).
fn best_and_ties(s: &Study, grid: &Grid) -> Option<BestAndTies> {
    let validation = |r: &crate::store::read::Run| r.history.iter().filter_map(|m| m.val_acc).reduce(f64::max);
    let validated = s
        .configs
        .iter()
        .all(|c| c.by_seed.values().all(|r| validation(r).is_some()));
    let mean = |row: &[f64]| row.iter().sum::<f64>() / row.len().max(1) as f64;
    let test: Vec<f64> = grid.rows.iter().map(|row| 100.0 * mean(row)).collect();
    let (estimates, residual, fixed): (Vec<f64>, Option<Residual>, bool) = match validated {
        true => {
            let blocks = shared_blocks(&s.configs, |r| validation(r).is_some());
            let rows: Vec<Vec<f64>> = s
                .configs
                .iter()
                .map(|c| blocks.iter().filter_map(|b| validation(c.by_seed[b])).collect())
                .collect();
            let (rows, _) = by_unit(rows, &blocks);
            let estimates = rows.iter().map(|row| mean(row)).collect();
            (estimates, grid::residual(&rows), false)
        }
        false => (test.iter().map(|t| t / 100.0).collect(), grid.residual, true),
    };
    // Each pair's test-set part, looked up once (a study of k configurations has k(k − 1)/2).
    let test_set: std::collections::HashMap<(usize, usize), f64> = match fixed {
        true => s
            .comparisons
            .iter()
            .map(|(i, j, c)| ((*i.min(j), *i.max(j)), c.fixed_variance))
            .filter(|(_, v)| v.is_finite() && *v > 0.0)
            .collect(),
        false => Default::default(),
    };
    let variance = |i: usize, j: usize| -> f64 {
        let Some(r) = residual else { return f64::NAN };
        2.0 * r.variance / r.blocks as f64 + test_set.get(&(i.min(j), i.max(j))).copied().unwrap_or(0.0)
    };
    let df = residual.map_or(1.0, |r| r.df);
    let (best, tied) = grid::best_and_ties(&estimates, variance, df, grid.alpha)?;
    let ranked = |i: usize| Ranked {
        label: s.configs[i].label.clone(),
        test: test[i],
        validation: validated.then(|| 100.0 * estimates[i]),
    };
    let mut ties: Vec<usize> = tied;
    ties.sort_by(|&a, &b| estimates[b].total_cmp(&estimates[a]).then(a.cmp(&b)));
    let chosen_on = match validated {
        true => "validation accuracy".to_string(),
        false => s.findings.accuracy.to_string(),
    };
    let others = ties.len() - 1;
    let shown =
        match residual {
            Some(_) => format!(
            "{others} other {} not shown worse at {}% (multiple comparisons with the best, Bonferroni over {} others)",
            if others == 1 { "configuration is" } else { "configurations are" },
            level(grid.alpha),
            s.configs.len() - 1
        ),
            None => format!(
                "no configuration is shown worse: the configurations share fewer than 2 {}",
                if grid.per_unit { "units" } else { "seeds" }
            ),
        };
    let sentence = match validated {
        true => format!(
            "Best by validation accuracy: {} ({:.2}% validation, {:.2}% test at its best validation epoch); {shown}.",
            s.configs[best].label,
            100.0 * estimates[best],
            test[best]
        ),
        false => format!(
            "Best by {chosen_on}: {} ({:.2}%); {shown}. Chosen on the test set (no validation split), so its accuracy is optimistic.",
            s.configs[best].label, test[best]
        ),
    };
    Some(BestAndTies {
        chosen_on,
        best: s.configs[best].label.clone(),
        ties: ties.into_iter().map(ranked).collect(),
        ranked: s.configs.len(),
        sentence,
    })
}

/// The factorial rule in one paragraph, for the page and `findings.json`.
fn method(grid: &Grid, family: usize) -> String {
    let residual = match grid.residual {
        Some(r) if grid.per_unit => format!(
            "models are per subject or fold, and a unit's seeds share its test set, so a unit (the mean of its seeds) is one block: the residual variance is the configurations × units interaction ({} units shared by every configuration, {} degrees of freedom)",
            r.blocks, r.df
        ),
        Some(r) => format!(
            "the residual variance of one run is the configurations × seeds interaction ({} seeds shared by every configuration, {} degrees of freedom)",
            r.blocks, r.df
        ),
        None if grid.per_unit => "no residual: models are per subject or fold and the configurations share fewer than 2 units, so nothing is decided".into(),
        None => "no residual: the configurations share fewer than 2 seeds, so nothing is decided".into(),
    };
    format!(
        "Main effects and interactions: a main effect compares two adjacent levels of a setting, averaged over the configurations that match on every other setting and over seeds; an interaction compares one setting's change at two adjacent levels of another; {residual}; the test set's own sampling is added where runs share test trials. t tests and two one-sided equivalence tests (±{} points), Holm over the {family} contrasts together at {}. Assumptions: runs independent around their configuration and seed effects, with one variance, near normal.",
        significant_points(grid.rope),
        grid.alpha
    )
}

/// A margin in points as labels show numbers.
fn significant_points(rope: f64) -> String {
    super::labels::significant(100.0 * rope, 3)
}

/// A large grid's headline: the settings that matter with their decided steps, those shown
/// not to, those undecided, and the best with how many tie with it.
pub(super) fn headline(s: &Study, f: &Factorial) -> String {
    let mut matter = Vec::new();
    let (mut equivalent, mut undecided) = (Vec::new(), Vec::new());
    for m in &f.main_effects {
        let steps: Vec<String> = m
            .contrasts
            .iter()
            .filter_map(|c| {
                let d = 100.0 * c.statistics.difference;
                match c.verdict {
                    Verdict::ABetter => Some(format!("{} > {} by {d:.2} points", c.a, c.b)),
                    Verdict::BBetter => Some(format!("{} > {} by {:.2} points", c.b, c.a, -d)),
                    _ => None,
                }
            })
            .collect();
        if !steps.is_empty() {
            matter.push(format!("{} ({})", m.setting, steps.join(", ")));
        } else if m.contrasts.iter().all(|c| c.verdict == Verdict::Equivalent) {
            equivalent.push(m.setting);
        } else {
            undecided.push(m.setting);
        }
    }
    let mut parts = vec![match matter.is_empty() {
        true => "no setting shown to matter".to_string(),
        false => format!("settings that matter: {}", matter.join("; ")),
    }];
    if !equivalent.is_empty() {
        parts.push(format!(
            "equivalent within ±{} points between adjacent levels: {}",
            s.findings.rope_points,
            equivalent.join(", ")
        ));
    }
    if !undecided.is_empty() {
        parts.push(format!("undecided: {}", undecided.join(", ")));
    }
    if let Some(b) = &f.best {
        let others = b.ties.len().saturating_sub(1);
        parts.push(format!(
            "best by {} {} ({:.2}% test{}), {others} of the other {} {} not shown worse",
            b.chosen_on,
            b.best,
            b.ties.first().map_or(f64::NAN, |t| t.test),
            if b.chosen_on == "validation accuracy" {
                ""
            } else {
                ", optimistic: chosen on the test set"
            },
            b.ranked - 1,
            if others == 1 { "is" } else { "are" }
        ));
    }
    format!(
        "{} {} ({}): {}.",
        s.experiment,
        s.model,
        s.findings.accuracy,
        parts.join("; ")
    )
}

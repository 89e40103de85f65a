//! Studies from finished runs: their configurations, their declared family of comparisons
//! (Holm-adjusted), and their findings with the headline.

use super::claims::lab_claims;
use super::factorial::{factorial, headline as factorial_headline, TrialScores};
use super::labels::{labels, varying};
use super::methods::methods;
use super::model::{
    oriented, unit_of, ComparisonFindings, Config, ConfigFindings, Kind, Part, Study, StudyFindings, LARGE_STUDY,
};
use super::sentences::sentence;
use crate::config::{ActivationName, ModelKind, Protocol};
use crate::report::stats::{self, Comparison, Verdict};
use crate::results::At;
use crate::store::read::{Declaration, Run};
use crate::store::study::StudyFile;
use crate::store::RunState;
use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

/// The studies in `runs` (finished runs only), in (experiment, model) order: each
/// declaration of an experiment folder (`declared`, by folder) is its own study over the
/// runs it covers, and the runs no declaration covers form one more (a folder without
/// study.json: all its runs). A run covered by two declarations belongs to both.
pub fn studies<'a>(runs: &'a [Run], declared: &BTreeMap<PathBuf, Declaration>) -> Vec<Study<'a>> {
    let mut groups: BTreeMap<(String, PathBuf, ModelKind, String), Vec<&Run>> = BTreeMap::new();
    for run in runs.iter().filter(|r| r.run_state == RunState::Done) {
        let folder = run.dir.parent().map(|p| p.to_path_buf()).unwrap_or_default();
        let key = (
            run.record.experiment.clone(),
            folder,
            run.record.config.model,
            run.record.data_fingerprint.clone(),
        );
        groups.entry(key).or_default().push(run);
    }
    let mut out = Vec::new();
    for ((experiment, folder, model, data), group) in groups {
        let declaration = declared.get(&folder).cloned().unwrap_or_default();
        let parts = by_declaration(&group, &declaration.studies, model, &data);
        let count = parts.len();
        for (index, (file, runs)) in parts.into_iter().enumerate() {
            let mut s = study(experiment.clone(), model, data.clone(), runs, &declaration, file);
            if count > 1 {
                let description = describe_part(index, count, file);
                s.findings.part = Some(description.clone());
                s.part = Some(Part {
                    tag: format!("d{}", index + 1),
                    description,
                });
            }
            out.push(s);
        }
    }
    out
}

/// The runs of `group` per declaration that covers any of them (in the file's order),
/// then those none covers.
fn by_declaration<'a, 'f>(
    group: &[&'a Run],
    declarations: &'f [StudyFile],
    model: ModelKind,
    data: &str,
) -> Vec<(Option<&'f StudyFile>, Vec<&'a Run>)> {
    let mut out = Vec::new();
    let mut covered = BTreeSet::new();
    for file in declarations {
        let keys: BTreeSet<String> = file.configuration_keys(model, data).into_iter().collect();
        let runs: Vec<&Run> = group
            .iter()
            .copied()
            .filter(|r| keys.contains(&r.record.configuration()))
            .collect();
        if !runs.is_empty() {
            covered.extend(runs.iter().map(|r| r.id.clone()));
            out.push((Some(file), runs));
        }
    }
    let rest: Vec<&Run> = group.iter().copied().filter(|r| !covered.contains(&r.id)).collect();
    if !rest.is_empty() {
        out.push((None, rest));
    }
    out
}

/// How a study is told from the others of its folder: by its declaration's number, command
/// line and time, or as the runs none declares.
fn describe_part(index: usize, count: usize, file: Option<&StudyFile>) -> String {
    let Some(file) = file else {
        return format!(
            "study {} of {count}: runs that no declaration in study.json covers",
            index + 1
        );
    };
    let when = file
        .declared_unix
        .map_or_else(String::new, |t| format!(" on {}", crate::report::dates::utc(t)));
    match &file.command {
        Some(command) => format!("study {} of {count}: declared by `{command}`{when}", index + 1),
        None => format!(
            "study {} of {count}: declaration {} of study.json{when}",
            index + 1,
            index + 1
        ),
    }
}

/// One study from its finished runs and its folder's declaration.
fn study<'a>(
    experiment: String,
    model: ModelKind,
    data: String,
    group: Vec<&'a Run>,
    declaration: &Declaration,
    declared: Option<&StudyFile>,
) -> Study<'a> {
    let varying = varying(&group);
    let labels = labels(&group);
    let mut configs: Vec<Config> = Vec::new();
    for (run, label) in group.iter().zip(labels) {
        let key = run.record.configuration();
        let index = match configs.iter().position(|c| c.key == key) {
            Some(i) => i,
            None => {
                configs.push(Config {
                    label,
                    key,
                    by_seed: BTreeMap::new(),
                });
                configs.len() - 1
            }
        };
        configs[index]
            .by_seed
            .entry((run.record.config.seed, unit_of(run)))
            .or_insert(run);
    }
    configs.sort_by(|a, b| {
        order_key(a)
            .partial_cmp(&order_key(b))
            .unwrap_or(std::cmp::Ordering::Equal)
    });
    let protocol =
        Some(group[0].record.config.protocol).filter(|p| group.iter().all(|r| r.record.config.protocol == *p));
    let validated = group.iter().all(|r| accuracy(r, At::BestVal).is_some());
    let at = if validated { At::BestVal } else { At::Final };
    let rope = declared.map_or(crate::config::DEFAULT_ROPE, |s| s.rope);
    let alpha = declared.map_or(stats::ALPHA, |s| s.alpha);
    let chosen = declaration
        .chosen
        .as_ref()
        .and_then(|id| configs.iter().position(|c| c.by_seed.values().any(|r| &r.id == id)));
    let kind = if declaration.is_search {
        Kind::Search
    } else {
        Kind::Designed
    };
    // The family: a search's chosen configuration against each other one; a designed
    // study's every pair of its declared configurations (plus any found beyond them).
    let (pairs, family, family_text): (Vec<(usize, usize)>, usize, String) = match (kind, chosen) {
        (Kind::Search, Some(c)) => {
            let pairs: Vec<(usize, usize)> = (0..configs.len()).filter(|&j| j != c).map(|j| (c, j)).collect();
            let n = pairs.len();
            (
                pairs,
                n,
                format!("the search's chosen configuration against the {n} other fully trained ones"),
            )
        }
        (Kind::Search, None) => (Vec::new(), 0, "none: the search's chosen run has not finished".into()),
        (Kind::Designed, _) => {
            let mut keys: BTreeSet<String> = declared
                .map(|s| s.configuration_keys(model, &data).into_iter().collect())
                .unwrap_or_default();
            let declared = !keys.is_empty();
            keys.extend(configs.iter().map(|c| c.key.clone()));
            let k = keys.len();
            let pairs = (0..configs.len())
                .flat_map(|i| (i + 1..configs.len()).map(move |j| (i, j)))
                .collect();
            let source = if declared {
                "declared by the study (study.json)"
            } else {
                "found in the folder (no study.json)"
            };
            (
                pairs,
                k * (k.saturating_sub(1)) / 2,
                format!("every pair of the {k} configurations {source}"),
            )
        }
    };
    let extra = usize::from(kind == Kind::Designed && varying == ["dropout"] && configs.len() >= 3);
    let family_text = match extra {
        0 => family_text,
        _ => format!("{family_text}, and the over-fitting test"),
    };
    let subjects = declared.and_then(|s| s.test_subjects.as_deref());
    let names = declared.map_or(&[][..], |s| s.subject_names.as_slice());
    let balanced = declared.is_some_and(|s| s.metric == crate::config::FindingsMetric::BalancedAccuracy);
    let layout = TestLayout { subjects, names };
    let mut comparisons = compare_pairs(&configs, &pairs, at, balanced, rope, alpha, &layout);
    let grouped = comparisons
        .first()
        .map(|(_, _, c)| c.clusters)
        .filter(|&g| comparisons.first().is_some_and(|(_, _, c)| g < c.trials));
    let mut stats_only: Vec<Comparison> = comparisons.iter().map(|(_, _, c)| c.clone()).collect();
    stats::holm(&mut stats_only, family + extra);
    comparisons
        .iter_mut()
        .zip(stats_only)
        .for_each(|((_, _, c), adjusted)| *c = adjusted);
    let mut s = Study {
        part: None,
        seed_rounds: declared.and_then(|d| d.seed_rounds),
        experiment,
        model,
        data,
        varying,
        configs,
        at,
        balanced,
        comparisons,
        findings: StudyFindings {
            experiment: String::new(),
            model: String::new(),
            data_fingerprint: String::new(),
            kind,
            accuracy: at_name(at, balanced),
            varying: Vec::new(),
            rope_points: 100.0 * rope,
            family: family_text,
            family_size: family + extra,
            target: target(grouped, protocol),
            configurations: Vec::new(),
            chosen: chosen.map(|_| String::new()),
            headline: String::new(),
            comparisons: Vec::new(),
            claims: Vec::new(),
            methods: String::new(),
            part: None,
            factorial: None,
        },
    };
    s.findings = describe_study(&s, chosen, extra > 0);
    let scores = TrialScores {
        by_config: match s.configs.iter().all(|c| c.by_seed.keys().all(|(_, u)| u.is_empty())) {
            true => s
                .configs
                .iter()
                .map(|c| scores_by_seed(c, at, balanced, &layout))
                .collect(),
            false => Vec::new(),
        },
        clusters: clusters(s.comparisons.first().map_or(0, |(_, _, c)| c.trials), layout.subjects),
    };
    s.findings.factorial = factorial(&s, |r, at| metric_of(r, at, balanced), &scores, (rope, alpha));
    if let (Some(f), true) = (&s.findings.factorial, s.configs.len() > LARGE_STUDY) {
        s.findings.headline = factorial_headline(&s, f);
    }
    s.findings.methods = methods(&s);
    s
}

/// One sentence on what a study's findings are about. Where the data names its test trials'
/// subjects, trials are grouped by subject and the claim depends on the protocol: new trials
/// of subjects also trained on (pooled), or new subjects (within-subject: each with a model
/// of its own; cross-subject: never trained on). Else new seeds and new test trials.
pub fn target(subjects: Option<usize>, protocol: Option<Protocol>) -> String {
    let Some(n) = subjects else {
        return "Claims are about the expected test accuracy over new training seeds and new test trials from the population of this test set.".into();
    };
    match protocol {
        Some(Protocol::Pooled) => format!(
            "Claims are about the expected test accuracy over new training seeds and new test trials of this test set's {n} subjects, whose other trials were trained on (pooled protocol: not about new subjects; trials grouped by subject)."
        ),
        Some(Protocol::WithinSubject) => format!(
            "Claims are about the expected test accuracy over new training seeds and new subjects like this test set's {n}, each with a model of its own trained on its own trials (within-subject protocol; trials grouped by subject)."
        ),
        Some(Protocol::CrossSubject) => format!(
            "Claims are about the expected test accuracy over new training seeds and new subjects never trained on, like this test set's {n} (cross-subject protocol: each tested by a model trained on the other subjects; trials grouped by subject)."
        ),
        None => format!(
            "Claims are about the expected test accuracy over new training seeds and new test trials of this test set's {n} subjects under the protocols compared (trials grouped by subject)."
        ),
    }
}

/// Accuracy of a run's predictions at `at`, in [0, 1].
fn accuracy(run: &Run, at: At) -> Option<f64> {
    run.predictions.as_ref().and_then(|p| p.accuracy(at))
}

/// The findings' metric of a run at `at`: accuracy, or balanced accuracy.
fn metric_of(run: &Run, at: At, balanced: bool) -> Option<f64> {
    match balanced {
        false => accuracy(run, at),
        true => run.predictions.as_ref().and_then(|p| p.balanced_accuracy(at)),
    }
}

/// Report order: activations as the report lists them, then numeric settings ascending.
fn order_key(c: &Config) -> (usize, f64, String) {
    let run = c.by_seed.values().next().expect("a run");
    let activation = ActivationName::ALL
        .iter()
        .position(|a| *a == run.record.config.activation.name())
        .unwrap_or(0);
    (activation, run.record.config.dropout, c.label.clone())
}

/// The test trials' clusters: their subjects where the study declares them for this many
/// trials, else one cluster per trial.
fn clusters(trials: usize, subjects: Option<&[u32]>) -> Vec<usize> {
    match subjects {
        Some(s) if s.len() == trials => s.iter().map(|&g| g as usize).collect(),
        _ => (0..trials).collect(),
    }
}

/// Where the test trials' subjects are, as the study declared them: each trial's subject
/// number and the subjects' names (empty for a pooled study).
struct TestLayout<'a> {
    subjects: Option<&'a [u32]>,
    names: &'a [String],
}

/// A configuration's scores per seed over the whole test set: a pooled run's own, or the
/// runs of a per-subject protocol's units placed at their subjects' test trials, in the test
/// set's order (so protocols pair trial by trial). A seed whose units do not cover every
/// test trial (some unfinished, or no declared layout) is left out.
fn scores_by_seed(c: &Config, at: At, balanced: bool, layout: &TestLayout) -> BTreeMap<u64, Vec<f64>> {
    let mut out: BTreeMap<u64, Vec<Option<f64>>> = BTreeMap::new();
    let mut broken = BTreeSet::new();
    for ((seed, _), run) in &c.by_seed {
        let Some(scores) = run.predictions.as_ref().map(|p| p.scores(at, balanced)) else {
            broken.insert(*seed);
            continue;
        };
        let Some(unit) = &run.record.unit else {
            out.insert(*seed, scores.into_iter().map(Some).collect());
            continue;
        };
        let (Some(subjects), false) = (layout.subjects, layout.names.is_empty()) else {
            broken.insert(*seed);
            continue;
        };
        let placed: Vec<usize> = (0..subjects.len())
            .filter(|&i| {
                let name = layout.names.get(subjects[i] as usize);
                name.is_some_and(|n| unit.subjects.contains(n))
            })
            .collect();
        let slots = out.entry(*seed).or_insert_with(|| vec![None; subjects.len()]);
        if placed.len() != scores.len() || slots.len() != subjects.len() {
            broken.insert(*seed);
            continue;
        }
        placed.iter().zip(scores).for_each(|(&i, v)| slots[i] = Some(v));
    }
    out.into_iter()
        .filter(|(seed, _)| !broken.contains(seed))
        .filter_map(|(seed, v)| Some((seed, v.into_iter().collect::<Option<Vec<f64>>>()?)))
        .collect()
}

/// The listed pairs that share seeds with predictions, each before Holm. Two pooled
/// configurations are compared by the crossed rule (trials grouped by subject where the data
/// names them); where either has models per subject or fold, by [`compare_over_units`].
fn compare_pairs(
    configs: &[Config],
    pairs: &[(usize, usize)],
    at: At,
    balanced: bool,
    rope: f64,
    alpha: f64,
    layout: &TestLayout,
) -> Vec<(usize, usize, Comparison)> {
    let scores: Vec<BTreeMap<u64, Vec<f64>>> = configs
        .iter()
        .map(|c| scores_by_seed(c, at, balanced, layout))
        .collect();
    let mut out = Vec::new();
    for &(i, j) in pairs {
        let shared: Vec<(Vec<f64>, Vec<f64>)> = scores[i]
            .iter()
            .filter_map(|(s, a)| Some((a.clone(), scores[j].get(s)?.clone())))
            .filter(|(a, b)| !a.is_empty() && a.len() == b.len())
            .collect();
        // One data set per study, so one test set; never pair vectors of other lengths.
        let trials = shared.first().map_or(0, |(a, _)| a.len());
        let shared: Vec<(Vec<f64>, Vec<f64>)> = shared.into_iter().filter(|(a, _)| a.len() == trials).collect();
        if shared.is_empty() {
            continue;
        }
        let (a, b): (Vec<Vec<f64>>, Vec<Vec<f64>>) = shared.into_iter().unzip();
        let per_unit = [i, j]
            .iter()
            .any(|&k| configs[k].by_seed.keys().any(|(_, u)| !u.is_empty()));
        let comparison = match (per_unit, layout.subjects) {
            (true, Some(subjects)) if subjects.len() == trials => compare_over_units(
                &a,
                &b,
                &units_of_trials(&configs[i], &configs[j], layout, subjects),
                rope,
                alpha,
            ),
            _ => stats::compare_scores(&a, &b, &clusters(trials, layout.subjects), rope, alpha),
        };
        out.push((i, j, comparison));
    }
    out
}

/// Each test trial's unit where models are trained per subject or fold: its subject, or,
/// where either configuration holds out several subjects per fold, its fold (subjects of one
/// fold share that fold's models, so they are not independent).
fn units_of_trials(a: &Config, b: &Config, layout: &TestLayout, subjects: &[u32]) -> (&'static str, Vec<usize>) {
    let mut fold_of: BTreeMap<&str, usize> = BTreeMap::new();
    for run in a.by_seed.values().chain(b.by_seed.values()) {
        if let Some(unit) = run.record.unit.as_ref().filter(|u| u.subjects.len() > 1) {
            let fold = unit.fold.map_or(0, |(k, _)| k);
            for s in &unit.subjects {
                fold_of.insert(s, fold);
            }
        }
    }
    if fold_of.is_empty() {
        return ("subject", subjects.iter().map(|&s| s as usize).collect());
    }
    let mut numbers: BTreeMap<usize, usize> = BTreeMap::new();
    let units = subjects
        .iter()
        .map(|&s| {
            let name = layout.names.get(s as usize).map_or("", String::as_str);
            let fold = fold_of.get(name).copied().unwrap_or(usize::MAX);
            let next = numbers.len();
            *numbers.entry(fold).or_insert(next)
        })
        .collect();
    ("fold", units)
}

/// The subject-level rule ([`stats::compare_units`]): each unit's difference averaged over
/// its trials and the shared seeds.
fn compare_over_units(
    a: &[Vec<f64>],
    b: &[Vec<f64>],
    units: &(&'static str, Vec<usize>),
    rope: f64,
    alpha: f64,
) -> Comparison {
    let (name, of_trial) = units;
    let count = of_trial.iter().max().map_or(0, |m| m + 1);
    let mut sums = vec![0.0f64; count];
    let mut sizes = vec![0usize; count];
    for (seed_a, seed_b) in a.iter().zip(b) {
        for (t, &u) in of_trial.iter().enumerate() {
            sums[u] += seed_a[t] - seed_b[t];
            sizes[u] += 1;
        }
    }
    let differences: Vec<f64> = sums
        .iter()
        .zip(&sizes)
        .filter(|(_, &n)| n > 0)
        .map(|(s, &n)| s / n as f64)
        .collect();
    stats::compare_units(name, &differences, a.len(), of_trial.len(), a == b, rope, alpha)
}

/// Name of the accuracy that `at` selects (balanced: the mean of the classes' recalls).
fn at_name(at: At, balanced: bool) -> &'static str {
    match (at, balanced) {
        (At::Final, false) => "final-epoch test accuracy",
        (At::BestTest, false) => "highest test accuracy",
        (At::BestVal, false) => "test accuracy at the best validation epoch",
        (At::Final, true) => "final-epoch balanced test accuracy",
        (At::BestTest, true) => "balanced test accuracy at the highest-test epoch",
        (At::BestVal, true) => "balanced test accuracy at the best validation epoch",
    }
}

/// The findings of a study as data.
fn describe_study(s: &Study, chosen: Option<usize>, gap_test: bool) -> StudyFindings {
    let mean = |c: &Config| {
        let v: Vec<f64> = c
            .by_seed
            .values()
            .filter_map(|r| metric_of(r, s.at, s.balanced))
            .collect();
        (!v.is_empty()).then(|| v.iter().sum::<f64>() / v.len() as f64)
    };
    let configurations = s
        .configs
        .iter()
        .map(|c| ConfigFindings {
            label: c.label.clone(),
            seeds: c
                .by_seed
                .keys()
                .map(|(seed, _)| *seed)
                .collect::<BTreeSet<u64>>()
                .into_iter()
                .collect(),
            mean_accuracy: mean(c).map(|m| 100.0 * m),
            runs: c.by_seed.values().map(|r| r.id.clone()).collect(),
        })
        .collect();
    let comparisons = s
        .comparisons
        .iter()
        .map(|(i, j, c)| ComparisonFindings {
            a: s.configs[*i].label.clone(),
            b: s.configs[*j].label.clone(),
            verdict: c.verdict(),
            sentence: sentence(&s.configs[*i].label, &s.configs[*j].label, c),
            seeds_needed: c.seeds_needed(),
            statistics: c.clone(),
        })
        .collect();
    let best = (0..s.configs.len())
        .filter(|&i| mean(&s.configs[i]).is_some())
        .max_by(|&a, &b| {
            mean(&s.configs[a])
                .partial_cmp(&mean(&s.configs[b]))
                .unwrap_or(std::cmp::Ordering::Equal)
        });
    let anchor = chosen.or(best);
    let headline = match (s.configs.len(), anchor) {
        (0 | 1, _) => format!("{} {}: one configuration, nothing to compare.", s.experiment, s.model),
        (_, None) => format!(
            "{} {}: no per-trial test predictions (runs of eegrun 0.1), nothing to compare.",
            s.experiment, s.model
        ),
        (_, Some(top)) => {
            let against = |want: fn(Verdict) -> bool| -> String {
                let names: Vec<&str> = (0..s.configs.len())
                    .filter(|&i| i != top && oriented(s, top, i).is_some_and(|c| want(c.verdict())))
                    .map(|i| s.configs[i].label.as_str())
                    .collect();
                match (names.len(), s.configs.len() > LARGE_STUDY) {
                    (0, _) => "none".into(),
                    (1, true) => "1 configuration".into(),
                    (n, true) => format!("{n} configurations"),
                    (_, false) => names.join(", "),
                }
            };
            let lead = match chosen {
                Some(_) => format!(
                    "the search chose {} by validation accuracy (selected on validation data; {} here {:.2}%)",
                    s.configs[top].label,
                    at_name(s.at, s.balanced),
                    100.0 * mean(&s.configs[top]).unwrap_or(f64::NAN)
                ),
                None => format!(
                    "highest mean {} {:.2}%",
                    s.configs[top].label,
                    100.0 * mean(&s.configs[top]).unwrap_or(f64::NAN)
                ),
            };
            format!(
                "{} {} ({}): {lead}; better than: {}; practically equivalent: {}; worse than: {}; undecided against: {}.",
                s.experiment,
                s.model,
                at_name(s.at, s.balanced),
                against(|v| v == Verdict::ABetter),
                against(|v| v == Verdict::Equivalent),
                against(|v| v == Verdict::BBetter),
                against(|v| v == Verdict::Undecided),
            )
        }
    };
    let claims = match (s.findings.kind, best) {
        (Kind::Designed, Some(best)) => lab_claims(s, best, gap_test),
        _ => Vec::new(),
    };
    StudyFindings {
        experiment: s.experiment.clone(),
        model: s.model.to_string(),
        data_fingerprint: s.data.clone(),
        varying: s.varying.clone(),
        configurations,
        chosen: chosen.map(|c| s.configs[c].label.clone()),
        headline,
        comparisons,
        claims,
        ..s.findings.clone()
    }
}

//! What a study's finished runs say, as data: the report's tables in its layout, every
//! comparison of the study's declared family with its verdict (see [`super::stats`]), and,
//! for designed studies, the lab report's claims answered. `findings.json`, `summarize`'s
//! text and the HTML report are all rendered from [`StudyFindings`].

use super::stats::{self, Comparison, Verdict};
use crate::config::{ActivationName, ModelKind};
use crate::results::At;
use crate::store::read::{Declaration, Run};
use crate::store::RunState;
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write;
use std::path::PathBuf;

/// One configuration of a study: its label (the settings that vary, seed aside), its key
/// ([`crate::store::RunRecord::configuration`]) and its finished runs by seed.
pub struct Config<'a> {
    /// Its varying settings, e.g. "relu" or "dropout 0.5".
    pub label: String,
    /// Its identity ([`crate::store::RunRecord::configuration`]).
    pub key: String,
    /// Its finished run per seed.
    pub by_seed: BTreeMap<u64, &'a Run>,
}

/// How a study's configurations came to be.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// A grid: every configuration was chosen before training.
    Designed,
    /// A search: configurations were sampled and promoted by validation accuracy.
    Search,
}

/// The finished runs of one model in one experiment on one data set, grouped into
/// configurations (runs on different data never share test trials, so never pair).
pub struct Study<'a> {
    /// The experiment's name.
    pub experiment: String,
    /// The network.
    pub model: ModelKind,
    /// The data's fingerprint.
    pub data: String,
    /// Which settings vary between configurations (e.g. `["activation"]`).
    pub varying: Vec<&'static str>,
    /// The configurations, in the study's order.
    pub configs: Vec<Config<'a>>,
    /// Which epoch's test predictions the comparisons use.
    pub at: At,
    /// True when the comparisons are of balanced accuracy (`[findings] metric`).
    pub balanced: bool,
    /// The compared pairs (i, j) with their comparison of i against j.
    pub comparisons: Vec<(usize, usize, Comparison)>,
    /// Everything the study says, as data.
    pub findings: StudyFindings,
}

/// A study's findings, as written to `findings.json`.
#[derive(Clone, Debug, Serialize)]
pub struct StudyFindings {
    /// The experiment's name.
    pub experiment: String,
    /// The network.
    pub model: String,
    /// The data's fingerprint.
    pub data_fingerprint: String,
    /// A designed study or a search.
    pub kind: Kind,
    /// Which accuracy the comparisons use.
    pub accuracy: &'static str,
    /// Which settings vary between configurations.
    pub varying: Vec<&'static str>,
    /// Margin of practical equivalence, in points.
    pub rope_points: f64,
    /// What population the claims are about, in one sentence.
    pub target: String,
    /// How the family of comparisons was defined, and its size.
    pub family: String,
    /// How many comparisons the family holds (Holm's m).
    pub family_size: usize,
    /// Each configuration with its seeds and mean accuracy.
    pub configurations: Vec<ConfigFindings>,
    /// A search's chosen configuration (by validation accuracy).
    pub chosen: Option<String>,
    /// One sentence: the study's headline.
    pub headline: String,
    /// Every compared pair.
    pub comparisons: Vec<ComparisonFindings>,
    /// The lab report's claims (designed studies only).
    pub claims: Vec<Claim>,
}

/// One configuration in `findings.json`.
#[derive(Clone, Debug, Serialize)]
pub struct ConfigFindings {
    /// Its varying settings.
    pub label: String,
    /// The seeds it has finished.
    pub seeds: Vec<u64>,
    /// Mean accuracy over seeds, in percent.
    pub mean_accuracy: Option<f64>,
    /// Its run ids.
    pub runs: Vec<String>,
}

/// One comparison in `findings.json`: the statistics and the verdict in words.
#[derive(Clone, Debug, Serialize)]
pub struct ComparisonFindings {
    /// The first configuration's label.
    pub a: String,
    /// The second configuration's label.
    pub b: String,
    /// A better, B better, equivalent or undecided.
    pub verdict: Verdict,
    /// The verdict in one sentence.
    pub sentence: String,
    /// Seeds that would detect ±rope with 80% power, or why no count can.
    pub seeds_needed: Result<usize, String>,
    /// The test's numbers.
    pub statistics: Comparison,
}

/// What a lab-report claim comes to here.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ClaimVerdict {
    /// The data support the claim.
    Supported,
    /// The data support its opposite (or equality where it claims a difference).
    Contradicted,
    /// The data decide neither.
    Undecided,
}

/// A lab-report claim with its verdict and the evidence in one sentence.
#[derive(Clone, Debug, Serialize)]
pub struct Claim {
    /// The lab report's claim.
    pub claim: String,
    /// What the data say about it.
    pub verdict: ClaimVerdict,
    /// The verdict in one sentence, with the evidence.
    pub sentence: String,
}

/// One sentence on what a study's findings are about: new seeds and new subjects where the
/// data names its test trials' subjects (trials are then grouped by subject), else new seeds
/// and new test trials.
pub fn target(subjects: Option<usize>) -> String {
    match subjects {
        Some(n) => format!(
            "Claims are about the expected test accuracy over new training seeds and new subjects from the population of this test set's {n} subjects (trials grouped by subject)."
        ),
        None => "Claims are about the expected test accuracy over new training seeds and new test trials from the population of this test set.".into(),
    }
}

/// How a run shows one of its settings.
type Show = fn(&Run) -> String;

/// Every setting but the model and the seed, with how a run shows it (labels only: which
/// runs are one configuration is [`crate::store::RunRecord::configuration`]).
const SETTINGS: [(&str, Show); 22] = [
    ("activation", |r| r.record.config.activation.to_string()),
    ("leaky_slope", |r| match r.record.config.activation {
        crate::config::Activation::LeakyRelu { slope } => slope.to_string(),
        _ => "-".into(),
    }),
    ("dropout", |r| r.record.config.dropout.to_string()),
    ("batch_size", |r| r.record.config.batch_size.to_string()),
    ("lr", |r| r.record.config.lr.to_string()),
    ("weight_decay", |r| r.record.config.weight_decay.to_string()),
    ("epochs", |r| r.record.config.epochs.to_string()),
    ("beta1", |r| r.record.config.beta1.to_string()),
    ("beta2", |r| r.record.config.beta2.to_string()),
    ("eps", |r| r.record.config.eps.to_string()),
    ("val_fraction", |r| r.record.config.val_fraction.to_string()),
    ("device", |r| r.record.config.device.to_string()),
    ("eegnet.f1", |r| r.record.config.eegnet.f1.to_string()),
    ("eegnet.d", |r| r.record.config.eegnet.d.to_string()),
    ("eegnet.f2", |r| r.record.config.eegnet.f2.to_string()),
    ("eegnet.kernel", |r| r.record.config.eegnet.kernel.to_string()),
    ("eegnet.separable_kernel", |r| {
        r.record.config.eegnet.separable_kernel.to_string()
    }),
    ("eegnet.pool1", |r| r.record.config.eegnet.pool1.to_string()),
    ("eegnet.pool2", |r| r.record.config.eegnet.pool2.to_string()),
    ("deepconvnet.filters", |r| {
        format!("{:?}", r.record.config.deepconvnet.filters).replace(' ', "")
    }),
    ("deepconvnet.kernel", |r| r.record.config.deepconvnet.kernel.to_string()),
    ("deepconvnet.pool", |r| r.record.config.deepconvnet.pool.to_string()),
];

/// How many different slopes the group's leaky_relu runs have.
fn leaky_slopes(group: &[&Run]) -> usize {
    group
        .iter()
        .filter_map(|r| match r.record.config.activation {
            crate::config::Activation::LeakyRelu { slope } => Some(slope.to_string()),
            _ => None,
        })
        .collect::<BTreeSet<_>>()
        .len()
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

/// The settings (of [`SETTINGS`]) whose values differ between the runs of `group`.
pub fn varying(group: &[&Run]) -> Vec<&'static str> {
    SETTINGS
        .iter()
        .filter(|(_, show)| group.iter().any(|r| show(r) != show(group[0])))
        .map(|(name, _)| *name)
        // A slope that only tells leaky_relu from the others is the activation's.
        .filter(|name| *name != "leaky_slope" || leaky_slopes(group) > 1)
        .collect()
}

/// The value of one of [`SETTINGS`] for `run`, as shown in labels.
pub fn setting(run: &Run, name: &str) -> String {
    SETTINGS
        .iter()
        .find(|(n, _)| *n == name)
        .map_or_else(String::new, |(_, show)| show(run))
}

/// `value` with `digits` significant digits and no trailing zeros ("0.000123", "0.5", "64");
/// below 1e-12 in size (binary noise around zero, as on an axis's ticks) it is "0".
pub fn significant(value: f64, digits: i32) -> String {
    if value.abs() < 1e-12 {
        return "0".into();
    }
    if !value.is_finite() {
        return value.to_string();
    }
    let decimals = (digits - 1 - value.abs().log10().floor() as i32).max(0) as usize;
    let text = format!("{value:.decimals$}");
    match text.contains('.') {
        true => text.trim_end_matches('0').trim_end_matches('.').to_string(),
        false => text,
    }
}

/// The label of `run` among `group`: its values of the `varying` settings, activation
/// first, numbers with `digits` significant digits.
fn label_of(run: &Run, varying: &[&str], digits: i32) -> String {
    let parts: Vec<String> = SETTINGS
        .iter()
        .filter(|(name, _)| varying.contains(name))
        .map(|(name, show)| {
            let value = show(run);
            let value = value.parse::<f64>().map_or(value, |v| significant(v, digits));
            match *name {
                "activation" => value,
                _ => format!("{name} {value}"),
            }
        })
        .collect();
    if parts.is_empty() {
        run.record.config.activation.to_string()
    } else {
        parts.join(", ")
    }
}

/// A label per run of `group` ([`label_of`] over the settings that vary in it): three
/// significant digits, more where two configurations would otherwise read alike.
pub fn labels(group: &[&Run]) -> Vec<String> {
    let varying = varying(group);
    let configurations: Vec<String> = group.iter().map(|r| r.record.configuration()).collect();
    let mut digits = 3;
    loop {
        let labels: Vec<String> = group.iter().map(|r| label_of(r, &varying, digits)).collect();
        let mut seen: BTreeMap<&str, &str> = BTreeMap::new();
        let distinct = labels
            .iter()
            .zip(&configurations)
            .all(|(l, c)| *seen.entry(l.as_str()).or_insert(c.as_str()) == c.as_str());
        if distinct || digits >= 17 {
            return labels;
        }
        digits += 1;
    }
}

/// The studies in `runs` (finished runs only), in (experiment, model) order, each judged
/// against its experiment folder's declaration (`declared`, by experiment folder).
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
    groups
        .into_iter()
        .map(|((experiment, folder, model, data), group)| {
            let declaration = declared.get(&folder).cloned().unwrap_or_default();
            study(experiment, model, data, group, &declaration)
        })
        .collect()
}

/// One study from its finished runs and its folder's declaration.
fn study<'a>(
    experiment: String,
    model: ModelKind,
    data: String,
    group: Vec<&'a Run>,
    declaration: &Declaration,
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
        configs[index].by_seed.entry(run.record.config.seed).or_insert(run);
    }
    configs.sort_by(|a, b| {
        order_key(a)
            .partial_cmp(&order_key(b))
            .unwrap_or(std::cmp::Ordering::Equal)
    });
    let validated = group.iter().all(|r| accuracy(r, At::BestVal).is_some());
    let at = if validated { At::BestVal } else { At::Final };
    let rope = declaration
        .study
        .as_ref()
        .map_or(crate::config::DEFAULT_ROPE, |s| s.rope);
    let alpha = declaration.study.as_ref().map_or(stats::ALPHA, |s| s.alpha);
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
            let mut keys: BTreeSet<String> = declaration
                .study
                .as_ref()
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
    let subjects = declaration.study.as_ref().and_then(|s| s.test_subjects.as_deref());
    let balanced = declaration
        .study
        .as_ref()
        .is_some_and(|s| s.metric == crate::config::FindingsMetric::BalancedAccuracy);
    let mut comparisons = compare_pairs(&configs, &pairs, at, balanced, rope, alpha, subjects);
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
            target: target(grouped),
            configurations: Vec::new(),
            chosen: chosen.map(|_| String::new()),
            headline: String::new(),
            comparisons: Vec::new(),
            claims: Vec::new(),
        },
    };
    s.findings = describe_study(&s, chosen, extra > 0);
    s
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

/// The listed pairs that share seeds with predictions, each before Holm.
fn compare_pairs(
    configs: &[Config],
    pairs: &[(usize, usize)],
    at: At,
    balanced: bool,
    rope: f64,
    alpha: f64,
    subjects: Option<&[u32]>,
) -> Vec<(usize, usize, Comparison)> {
    let mut out = Vec::new();
    for &(i, j) in pairs {
        let correct = |c: &Config, seed: &u64| c.by_seed[seed].predictions.as_ref().map(|p| p.scores(at, balanced));
        let shared: Vec<(Vec<f64>, Vec<f64>)> = configs[i]
            .by_seed
            .keys()
            .filter(|s| configs[j].by_seed.contains_key(s))
            .filter_map(|s| Some((correct(&configs[i], s)?, correct(&configs[j], s)?)))
            .filter(|(a, b)| !a.is_empty() && a.len() == b.len())
            .collect();
        // One data set per study, so one test set; never pair vectors of other lengths.
        let trials = shared.first().map_or(0, |(a, _)| a.len());
        let shared: Vec<(Vec<f64>, Vec<f64>)> = shared.into_iter().filter(|(a, _)| a.len() == trials).collect();
        if shared.is_empty() {
            continue;
        }
        let (a, b): (Vec<Vec<f64>>, Vec<Vec<f64>>) = shared.into_iter().unzip();
        out.push((
            i,
            j,
            stats::compare_scores(&a, &b, &clusters(trials, subjects), rope, alpha),
        ));
    }
    out
}

/// "mean ± sd (n)" in percent, or "-".
fn mean_sd(values: &[f64]) -> String {
    if values.is_empty() {
        return "-".into();
    }
    let mean = values.iter().sum::<f64>() / values.len() as f64;
    match stats::sample_sd(values) {
        Some(sd) => format!("{:.2} ± {:.2} (n={})", 100.0 * mean, 100.0 * sd, values.len()),
        None => format!("{:.2} (n=1)", 100.0 * mean),
    }
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

/// A run's value of one of the table metrics.
fn metric(run: &Run, name: &str) -> Option<f64> {
    let s = run.summary()?;
    match name {
        "highest test" => Some(s.best_test_acc),
        "final test" => Some(s.final_test_acc),
        "test at best val" => s.test_acc_at_best_val,
        "final train" => Some(s.final_train_acc),
        "gap" => Some(s.final_train_acc - s.final_test_acc),
        _ => None,
    }
}

/// One table in the lab report's layout: a caption, a header row and rows of text cells.
pub struct LabTable {
    /// What the table holds, with its units.
    pub caption: String,
    /// The column headings.
    pub header: Vec<String>,
    /// One row per activation or dropout rate.
    pub rows: Vec<Vec<String>>,
}

/// The report's tables: for an activation study, rows ReLU / LeakyReLU / ELU and one
/// column per model, for the highest test, final test and (when validating) the test
/// accuracy at the best validation epoch; for a dropout study, rows dropout and, per
/// model, final train, final test and their gap. Mean ± sd over seeds (n), percent.
pub fn lab_tables(studies: &[Study]) -> Vec<LabTable> {
    let mut out = Vec::new();
    let mut experiments: Vec<&str> = studies.iter().map(|s| s.experiment.as_str()).collect();
    experiments.dedup();
    for experiment in experiments {
        let of: Vec<&Study> = studies.iter().filter(|s| s.experiment == experiment).collect();
        let several_data = of.iter().any(|s| s.data != of[0].data);
        let models: Vec<String> = of
            .iter()
            .map(|s| match several_data {
                true => format!("{} (data {})", s.model, &s.data[..s.data.len().min(8)]),
                false => s.model.to_string(),
            })
            .collect();
        if of.iter().any(|s| s.varying == ["activation"]) {
            let validated = of.iter().any(|s| s.at == At::BestVal);
            let metrics: &[&str] = if validated {
                &["highest test", "final test", "test at best val"]
            } else {
                &["highest test", "final test"]
            };
            for name in metrics {
                let header = std::iter::once("activation".to_string())
                    .chain(models.iter().cloned())
                    .collect::<Vec<_>>();
                let mut rows = Vec::new();
                for activation in ActivationName::ALL {
                    let cells: Vec<String> = of
                        .iter()
                        .map(|s| {
                            let values: Vec<f64> = s
                                .configs
                                .iter()
                                .flat_map(|c| c.by_seed.values())
                                .filter(|r| r.record.config.activation.name() == *activation)
                                .filter_map(|r| metric(r, name))
                                .collect();
                            mean_sd(&values)
                        })
                        .collect();
                    rows.push(std::iter::once(activation.to_string()).chain(cells).collect());
                }
                out.push(LabTable {
                    caption: format!("{experiment}: {name} accuracy (%), mean ± sd over seeds (n)"),
                    header,
                    rows,
                });
            }
        }
        if of.iter().any(|s| s.varying == ["dropout"]) {
            let mut header = vec!["dropout".to_string()];
            for m in &models {
                header.extend(["final train", "final test", "gap"].map(|k| format!("{m} {k}")));
            }
            let mut rates: Vec<f64> = of
                .iter()
                .flat_map(|s| s.configs.iter().flat_map(|c| c.by_seed.values()))
                .map(|r| r.record.config.dropout)
                .collect();
            rates.sort_by(|a, b| a.total_cmp(b));
            rates.dedup();
            let mut rows = Vec::new();
            for rate in rates {
                let mut row = vec![rate.to_string()];
                for s in &of {
                    for name in ["final train", "final test", "gap"] {
                        let values: Vec<f64> = s
                            .configs
                            .iter()
                            .flat_map(|c| c.by_seed.values())
                            .filter(|r| r.record.config.dropout == rate)
                            .filter_map(|r| metric(r, name))
                            .collect();
                        row.push(mean_sd(&values));
                    }
                }
                rows.push(row);
            }
            out.push(LabTable {
                caption: format!("{experiment}: accuracy against dropout (%), mean ± sd over seeds (n)"),
                header,
                rows,
            });
        }
    }
    out
}

/// [`lab_tables`] as aligned text, each under its caption.
pub fn tables(studies: &[Study]) -> String {
    let mut out = String::new();
    for table in lab_tables(studies) {
        let _ = writeln!(out, "{}", table.caption);
        let rows: Vec<Vec<String>> = std::iter::once(table.header).chain(table.rows).collect();
        out.push_str(&align(&rows));
        out.push('\n');
    }
    out
}

/// Rows as an aligned text table.
fn align(rows: &[Vec<String>]) -> String {
    let widths: Vec<usize> = (0..rows[0].len())
        .map(|c| rows.iter().map(|r| r[c].chars().count()).max().unwrap_or(0))
        .collect();
    rows.iter()
        .map(|r| {
            let cells: Vec<String> = r.iter().zip(&widths).map(|(c, w)| format!("{c:<w$}")).collect();
            format!("{}\n", cells.join("  ").trim_end())
        })
        .collect()
}

/// A p-value as text: three decimals, or "< 0.001".
pub fn p_text(p: f64) -> String {
    if p < 0.001 {
        "< 0.001".into()
    } else {
        format!("{p:.3}")
    }
}

/// "(95% CI +0.50 to +2.90; p 0.031, Holm 0.094; 8 seeds, 1363 test trials)", with the
/// equivalence p where that is the question.
fn evidence(c: &Comparison, equivalence: bool) -> String {
    let Some((low, high)) = c.interval else {
        if c.seeds < 2 {
            return format!("({} seed, {} test trials: no interval)", c.seeds, c.trials);
        }
        return format!(
            "({} seeds, {} test trials: every seed and trial shows the same difference, no spread to judge it by: no interval)",
            c.seeds, c.trials
        );
    };
    // A study that looks after each round of seeds decides each look at α over the looks:
    // said beside the p-values, so a Holm p above it but below 0.05 reads as it is.
    let look = if c.alpha < stats::ALPHA {
        format!(" against this look's level {}", significant(c.alpha, 3))
    } else {
        String::new()
    };
    let test = if equivalence {
        format!(
            "equivalence p {}, Holm {}{look}",
            p_text(c.p_equivalent),
            p_text(c.p_equivalent_adjusted)
        )
    } else {
        format!("p {}, Holm {}{look}", p_text(c.p), p_text(c.p_adjusted))
    };
    let subjects = if c.clusters < c.trials {
        format!(" of {} subjects", c.clusters)
    } else {
        String::new()
    };
    format!(
        "({}% CI {:+.2} to {:+.2}; {test}; {} seeds, {} test trials{subjects})",
        level(c.alpha),
        100.0 * low,
        100.0 * high,
        c.seeds,
        c.trials
    )
}

/// An interval's confidence in percent, as short as it reads: "95", "98.3".
fn level(alpha: f64) -> String {
    let text = format!("{:.1}", 100.0 * (1.0 - alpha));
    text.trim_end_matches(".0").to_string()
}

/// What more seeds would do, in words.
fn needs(c: &Comparison) -> String {
    let margin = format!("±{} points", 100.0 * c.rope);
    match c.seeds_needed() {
        Ok(n) if n > stats::MOST_SEEDS => format!(
            "more than {} seeds would be needed to detect {margin}",
            stats::MOST_SEEDS
        ),
        Ok(n) => format!("about {n} seeds would detect {margin} with 80% power"),
        Err(why) => format!("to detect {margin}: {why}"),
    }
}

/// The verdict of `a` against `b` in one sentence.
fn sentence(a: &str, b: &str, c: &Comparison) -> String {
    let d = 100.0 * c.difference;
    match c.verdict() {
        Verdict::ABetter => format!("{a} > {b} by {d:.2} points {}", evidence(c, false)),
        Verdict::BBetter => format!("{b} > {a} by {:.2} points {}", -d, evidence(c, false)),
        Verdict::Equivalent => format!(
            "{a} ≈ {b}: practically equivalent within ±{} points, {d:+.2} points {}",
            100.0 * c.rope,
            evidence(c, true)
        ),
        Verdict::Undecided => format!(
            "{a} vs {b}: undecided, {d:+.2} points {}; {}",
            evidence(c, false),
            needs(c)
        ),
    }
}

/// The comparison of configurations `a` and `b` of a study, oriented as a − b.
fn oriented(s: &Study, a: usize, b: usize) -> Option<Comparison> {
    s.comparisons
        .iter()
        .find_map(|(i, j, c)| match (*i == a && *j == b, *i == b && *j == a) {
            (true, _) => Some(c.clone()),
            (_, true) => Some(Comparison {
                difference: -c.difference,
                interval: c.interval.map(|(low, high)| (-high, -low)),
                ..c.clone()
            }),
            _ => None,
        })
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
            seeds: c.by_seed.keys().copied().collect(),
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
                if names.is_empty() {
                    "none".into()
                } else {
                    names.join(", ")
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

/// A claim "a > b" (or "a = b") answered by the comparison of `a` against `b`.
fn claim(text: String, a: &str, b: &str, c: &Comparison, equal: bool) -> Claim {
    let verdict = match (c.verdict(), equal) {
        (Verdict::ABetter, false) | (Verdict::Equivalent, true) => ClaimVerdict::Supported,
        (Verdict::BBetter, _) | (Verdict::ABetter, true) | (Verdict::Equivalent, false) => ClaimVerdict::Contradicted,
        (Verdict::Undecided, _) => ClaimVerdict::Undecided,
    };
    let word = match (verdict, equal) {
        (ClaimVerdict::Supported, _) => "supported".to_string(),
        (ClaimVerdict::Contradicted, _) => "contradicted".to_string(),
        (ClaimVerdict::Undecided, true) => format!("undecided, no equivalence within ±{} points shown", 100.0 * c.rope),
        (ClaimVerdict::Undecided, false) => "undecided".to_string(),
    };
    Claim {
        sentence: format!("report claims {text}: {word} — {}", sentence(a, b, c)),
        claim: text,
        verdict,
    }
}

/// The lab report's claims that this designed study can answer.
fn lab_claims(s: &Study, best: usize, gap_test: bool) -> Vec<Claim> {
    let mut out = Vec::new();
    let index = |label: &str| s.configs.iter().position(|c| c.label == label);
    if s.varying == ["activation"] {
        // The report: EEGNet ReLU 87.31 > LeakyReLU 86.94 > ELU 83.43;
        // DeepConvNet ReLU 81.11 > LeakyReLU 81.02 = ELU 81.02 (one seed each).
        let claims: &[(&str, &str, bool)] = match s.model {
            ModelKind::EegNet => &[
                ("relu", "leaky_relu", false),
                ("leaky_relu", "elu", false),
                ("relu", "elu", false),
            ],
            ModelKind::DeepConvNet => &[
                ("relu", "leaky_relu", false),
                ("relu", "elu", false),
                ("leaky_relu", "elu", true),
            ],
        };
        for (a, b, equal) in claims {
            if let Some(c) = index(a).zip(index(b)).and_then(|(i, j)| oriented(s, i, j)) {
                let relation = if *equal { "=" } else { ">" };
                out.push(claim(format!("{} {a} {relation} {b}", s.model), a, b, &c, *equal));
            }
        }
    }
    if s.varying == ["dropout"] && s.configs.len() >= 3 {
        let (low, high) = (0, s.configs.len() - 1);
        let text = format!(
            "under-fitting at high dropout ({} below the best)",
            s.configs[high].label
        );
        if high != best {
            if let Some(c) = oriented(s, best, high) {
                out.push(claim(text, &s.configs[best].label, &s.configs[high].label, &c, false));
            }
        } else {
            // The highest rate has the highest mean: that contradicts the claim only if it
            // is shown better than every other rate.
            let better_than_all =
                (0..high).all(|i| oriented(s, high, i).is_some_and(|c| c.verdict() == Verdict::ABetter));
            let verdict = if better_than_all {
                ClaimVerdict::Contradicted
            } else {
                ClaimVerdict::Undecided
            };
            out.push(Claim {
                sentence: format!(
                    "report claims {text}: {} — the highest rate has the highest mean here{}",
                    if better_than_all { "contradicted" } else { "undecided" },
                    if better_than_all {
                        " and is better than every other rate"
                    } else {
                        ""
                    }
                ),
                claim: text,
                verdict,
            });
        }
        if gap_test {
            out.push(overfitting(s, low, reference_rate(s)));
        }
        let range: Vec<&str> = std::iter::once(best)
            .chain(
                (0..s.configs.len())
                    .filter(|&i| i != best && oriented(s, best, i).is_some_and(|c| c.verdict() != Verdict::ABetter)),
            )
            .map(|i| s.configs[i].label.as_str())
            .collect();
        // Supported once some rate is shown worse than the best: the choice matters.
        let matters = range.len() < s.configs.len();
        out.push(Claim {
            claim: "dropout must be chosen".into(),
            verdict: if matters {
                ClaimVerdict::Supported
            } else {
                ClaimVerdict::Undecided
            },
            sentence: format!(
                "report claims dropout must be chosen: {} — rates not shown worse than the best here: {}",
                if matters { "supported" } else { "undecided" },
                range.join(", ")
            ),
        });
    }
    out
}

/// The rate the over-fitting test compares the lowest with, chosen before any result so the
/// test set plays no part in the choice: the model's lab rate where the study has it above
/// the lowest, else the study's middle rate. (Comparing with the rate of the highest test
/// accuracy would pick, by the test set, a rate whose gap is small: biased upward.)
fn reference_rate(s: &Study) -> usize {
    let dropout = |i: usize| s.configs[i].by_seed.values().next().map(|r| r.record.config.dropout);
    let lab = s.configs[0]
        .by_seed
        .values()
        .next()
        .map(|r| r.record.config.model.default_dropout());
    (1..s.configs.len())
        .find(|&i| lab.is_some() && dropout(i) == lab)
        .unwrap_or(s.configs.len() / 2)
}

/// Over-fitting at the lowest rate: its train–test gap exceeds the gap at the reference
/// rate ([`reference_rate`]), paired by seed (paired t over seeds, Holm over the study's
/// family with this test).
fn overfitting(s: &Study, low: usize, best: usize) -> Claim {
    let text = format!(
        "over-fitting at low dropout ({}: train near 100%, test lower)",
        s.configs[low].label
    );
    let undecided = |why: String| Claim {
        sentence: format!("report claims {text}: undecided — {why}"),
        claim: text.clone(),
        verdict: ClaimVerdict::Undecided,
    };
    if low == best {
        return undecided("the study has one rate only".into());
    }
    let gap = |r: &Run| metric(r, "gap");
    let diffs: Vec<f64> = s.configs[low]
        .by_seed
        .iter()
        .filter_map(|(seed, r)| Some(gap(r)? - gap(s.configs[best].by_seed.get(seed)?)?))
        .collect();
    let alpha = s.comparisons.first().map_or(stats::ALPHA, |(_, _, c)| c.alpha);
    let Some(t) = stats::paired_t(&diffs, alpha) else {
        let n = diffs.len();
        return undecided(format!(
            "{n} shared {}: at least 2 are needed",
            if n == 1 { "seed" } else { "seeds" }
        ));
    };
    // This test is one member of the study's Holm family: the others are its pairs.
    let mut family: Vec<f64> = s.comparisons.iter().map(|(_, _, c)| c.p).collect();
    family.resize(s.findings.family_size.max(family.len() + 1) - 1, 1.0);
    family.push(t.p);
    let adjusted = *stats::holm_adjust(&family).last().expect("one p-value");
    let train: Vec<f64> = s.configs[low]
        .by_seed
        .values()
        .filter_map(|r| metric(r, "final train"))
        .collect();
    let detail = format!(
        "gap {:+.2} points larger than at {} ({}% CI {:+.2} to {:+.2}; paired t p {}, Holm {}; {} seeds); final train accuracy there {}",
        100.0 * t.mean,
        s.configs[best].label,
        level(alpha),
        100.0 * t.low,
        100.0 * t.high,
        p_text(t.p),
        p_text(adjusted),
        diffs.len(),
        mean_sd(&train)
    );
    let verdict = match (adjusted < alpha, t.mean > 0.0) {
        (true, true) => ClaimVerdict::Supported,
        (true, false) => ClaimVerdict::Contradicted,
        _ => ClaimVerdict::Undecided,
    };
    let word = match verdict {
        ClaimVerdict::Supported => "supported",
        ClaimVerdict::Contradicted => "contradicted",
        ClaimVerdict::Undecided => "undecided",
    };
    Claim {
        sentence: format!("report claims {text}: {word} — {detail}"),
        claim: text,
        verdict,
    }
}

/// Every comparison of every study, one line each.
pub fn comparisons(studies: &[Study]) -> String {
    let mut out = String::new();
    for s in studies.iter().filter(|s| !s.comparisons.is_empty()) {
        let f = &s.findings;
        let _ = writeln!(
            out,
            "{} {} — {}; Holm over {} ({}); equivalence margin ±{} points:",
            s.experiment, s.model, f.accuracy, f.family_size, f.family, f.rope_points
        );
        for c in &f.comparisons {
            let _ = writeln!(out, "  {}", c.sentence);
        }
    }
    out
}

/// The findings as sentences: per study its headline, then the lab report's claims.
pub fn findings(studies: &[Study]) -> String {
    let mut out = String::new();
    for s in studies.iter().filter(|s| s.configs.len() > 1) {
        let _ = writeln!(out, "{}", s.findings.headline);
        for c in &s.findings.claims {
            let _ = writeln!(out, "  {}", c.sentence);
        }
    }
    for t in targets(studies) {
        let _ = writeln!(out, "({t} README \"Findings\" states the method.)");
    }
    out
}

/// The findings as markdown: per study its headline, a table of every comparison and the
/// lab report's claims.
pub fn markdown(studies: &[Study]) -> String {
    let mut out = String::new();
    for s in studies.iter().filter(|s| !s.comparisons.is_empty()) {
        let f = &s.findings;
        let _ = writeln!(out, "### {} {}\n\n{}\n", f.experiment, f.model, f.headline);
        let _ = writeln!(
            out,
            "{}; A − B in points; Holm over {} ({}); equivalence margin ±{} points.\n",
            f.accuracy, f.family_size, f.family, f.rope_points
        );
        // The interval's level is the study's per-look level (α over the looks of seed
        // rounds): said in the heading, as is the level every p is held to.
        let alpha = f.comparisons.first().map_or(stats::ALPHA, |c| c.statistics.alpha);
        let _ = writeln!(
            out,
            "| A | B | verdict | A − B | {}% interval | p (Holm; decided below {}) | equivalence p (Holm) | seeds |",
            level(alpha),
            significant(alpha, 3)
        );
        out.push_str("|---|---|---|---|---|---|---|---|\n");
        for c in &f.comparisons {
            let st = &c.statistics;
            let verdict = match c.verdict {
                Verdict::ABetter => format!("**{} better**", c.a),
                Verdict::BBetter => format!("**{} better**", c.b),
                Verdict::Equivalent => "equivalent".into(),
                Verdict::Undecided => "undecided".into(),
            };
            let interval = st
                .interval
                .map(|(low, high)| format!("{:+.2} to {:+.2}", 100.0 * low, 100.0 * high))
                .unwrap_or_else(|| "-".into());
            let _ = writeln!(
                out,
                "| {} | {} | {verdict} | {:+.2} | {interval} | {} ({}) | {} ({}) | {} |",
                c.a.replace('|', "\\|"),
                c.b.replace('|', "\\|"),
                100.0 * st.difference,
                p_text(st.p),
                p_text(st.p_adjusted),
                p_text(st.p_equivalent),
                p_text(st.p_equivalent_adjusted),
                st.seeds
            );
        }
        out.push('\n');
        for claim in &f.claims {
            let _ = writeln!(out, "- {}", claim.sentence);
        }
        if !f.claims.is_empty() {
            out.push('\n');
        }
    }
    if !out.is_empty() {
        for t in targets(studies) {
            let _ = writeln!(out, "{t}");
        }
    }
    out
}

/// The distinct targets of the studies that compare anything, in order.
pub fn targets(studies: &[Study]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for s in studies.iter().filter(|s| s.configs.len() > 1) {
        if !out.contains(&s.findings.target) {
            out.push(s.findings.target.clone());
        }
    }
    out
}

/// `findings.json`: every study's findings, each with its one-sentence target.
pub fn to_json(studies: &[Study]) -> serde_json::Result<Vec<u8>> {
    let records: Vec<&StudyFindings> = studies.iter().map(|s| &s.findings).collect();
    serde_json::to_vec_pretty(&serde_json::json!({
        "alpha": stats::ALPHA,
        "studies": records,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_get_three_significant_digits() {
        assert_eq!(significant(0.366_123_456_789_012_3, 3), "0.366");
        assert_eq!(significant(0.000_123_456, 3), "0.000123");
        assert_eq!(significant(0.5, 3), "0.5");
        assert_eq!(significant(64.0, 3), "64");
        assert_eq!(significant(1234.6, 3), "1235");
        assert_eq!(significant(-2.5, 3), "-2.5");
        assert_eq!(significant(-2.220_446e-16, 3), "0");
        assert_eq!(significant(0.366_123, 5), "0.36612");
    }

    /// A comparison of A against B with this difference, interval and p-values.
    fn comparison(difference: f64, p: f64, p_equivalent: f64) -> Comparison {
        Comparison {
            seeds: 10,
            trials: 1363,
            clusters: 1363,
            difference,
            se: Some(0.005),
            df: 9.0,
            interval: Some((difference - 0.01, difference + 0.01)),
            per_seed_variance: 0.0002,
            seed_mean_variance: 0.00002,
            interaction_variance: 0.00001,
            fixed_variance: 0.000001,
            p,
            p_adjusted: p,
            rope: 0.01,
            p_equivalent,
            p_equivalent_adjusted: p_equivalent,
            family: 3,
            alpha: stats::ALPHA,
        }
    }

    #[test]
    fn equality_is_claimed_only_from_equivalence() {
        let undecided = comparison(0.0103, 0.3, 0.5);
        let c = claim(
            "deepconvnet leaky_relu = elu".into(),
            "leaky_relu",
            "elu",
            &undecided,
            true,
        );
        assert_eq!(c.verdict, ClaimVerdict::Undecided, "{}", c.sentence);
        assert!(
            c.sentence.contains("no equivalence within ±1 points shown"),
            "{}",
            c.sentence
        );
        let equivalent = comparison(0.001, 0.8, 0.01);
        assert_eq!(
            claim("a = b".into(), "a", "b", &equivalent, true).verdict,
            ClaimVerdict::Supported
        );
        // An ordering claim is not supported by equivalence.
        assert_eq!(
            claim("a > b".into(), "a", "b", &equivalent, false).verdict,
            ClaimVerdict::Contradicted
        );
    }

    #[test]
    fn sentences_name_the_better_configuration_and_small_p_values() {
        let worse = comparison(-0.012, 0.0001, 1.0);
        let s = sentence("relu", "elu", &worse);
        assert!(s.starts_with("elu > relu by 1.20 points"), "{s}");
        assert!(s.contains("p < 0.001") && !s.contains("0.000,"), "{s}");
        let undecided = comparison(0.003, 0.4, 0.2);
        let s = sentence("relu", "elu", &undecided);
        assert!(
            s.starts_with("relu vs elu: undecided") && s.contains("seeds would detect ±1 points"),
            "{s}"
        );
        let one = Comparison {
            seeds: 1,
            se: None,
            interval: None,
            ..comparison(0.05, 1.0, 1.0)
        };
        let s = sentence("relu", "elu", &one);
        assert!(
            s.ends_with("(1 seed, 1363 test trials: no interval); to detect ±1 points: one seed shows no seed-to-seed spread, train at least 2"),
            "{s}"
        );
    }
}

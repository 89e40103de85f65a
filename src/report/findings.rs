//! What a study's finished runs say: the report's tables in its layout, every pairwise
//! comparison with its interval (see [`super::stats`]), and the lab report's claims
//! restated with a verdict — supported, contradicted, or not distinguishable with this
//! many seeds.

use super::runs::RunInfo;
use super::stats::{self, Comparison};
use crate::config::{ActivationName, ModelKind};
use crate::store::predictions::At;
use crate::store::RunState;
use std::collections::BTreeMap;
use std::fmt::Write;

/// One configuration of a study: its label (the settings that vary, seed aside) and its
/// finished runs by seed.
pub struct Config<'a> {
    pub label: String,
    pub by_seed: BTreeMap<u64, &'a RunInfo>,
}

/// The finished runs of one model in one experiment on one data set, grouped into
/// configurations (runs on different data never share test trials, so never pair).
pub struct Study<'a> {
    pub experiment: String,
    pub model: ModelKind,
    /// The data's fingerprint.
    pub data: String,
    /// Which settings vary between configurations (e.g. `["activation"]`).
    pub varying: Vec<&'static str>,
    pub configs: Vec<Config<'a>>,
    /// Which epoch's test predictions the comparisons use.
    pub at: At,
    /// Every pair (i, j) of configurations that share seeds, comparing i against j.
    pub comparisons: Vec<(usize, usize, Comparison)>,
}

/// How a run shows one of its settings.
type Show = fn(&RunInfo) -> String;

/// Every setting but the model and the seed, with how a run shows it: two runs are one
/// configuration when all of these agree.
const SETTINGS: [(&str, Show); 12] = [
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
];

/// How many different slopes the group's leaky_relu runs have.
fn leaky_slopes(group: &[&RunInfo]) -> usize {
    let mut slopes: Vec<String> = group
        .iter()
        .filter_map(|r| match r.record.config.activation {
            crate::config::Activation::LeakyRelu { slope } => Some(slope.to_string()),
            _ => None,
        })
        .collect();
    slopes.sort();
    slopes.dedup();
    slopes.len()
}

/// Accuracy of a run's predictions at `at`, in [0, 1].
fn accuracy(run: &RunInfo, at: At) -> Option<f64> {
    run.predictions.as_ref().and_then(|p| p.accuracy(at))
}

/// The studies in `runs` (finished runs only), in (experiment, model) order.
pub fn studies(runs: &[RunInfo]) -> Vec<Study<'_>> {
    let mut groups: BTreeMap<(String, ModelKind, String), Vec<&RunInfo>> = BTreeMap::new();
    for run in runs.iter().filter(|r| r.run_state == RunState::Done) {
        let key = (
            run.record.experiment.clone(),
            run.record.config.model,
            run.record.data_fingerprint.clone(),
        );
        groups.entry(key).or_default().push(run);
    }
    groups
        .into_iter()
        .map(|((experiment, model, data), group)| {
            let varying: Vec<&'static str> = SETTINGS
                .iter()
                .filter(|(_, show)| group.iter().any(|r| show(r) != show(group[0])))
                .map(|(name, _)| *name)
                // A slope that only tells leaky_relu from the others is the activation's.
                .filter(|name| *name != "leaky_slope" || leaky_slopes(&group) > 1)
                .collect();
            let label = |r: &RunInfo| {
                let parts: Vec<String> = SETTINGS
                    .iter()
                    .filter(|(name, _)| varying.contains(name))
                    .map(|(name, show)| {
                        if *name == "activation" {
                            show(r)
                        } else {
                            format!("{name} {}", show(r))
                        }
                    })
                    .collect();
                if parts.is_empty() {
                    r.record.config.activation.to_string()
                } else {
                    parts.join(", ")
                }
            };
            let mut configs: Vec<Config> = Vec::new();
            for run in &group {
                let key = label(run);
                let index = match configs.iter().position(|c| c.label == key) {
                    Some(i) => i,
                    None => {
                        configs.push(Config {
                            label: key,
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
            let comparisons = compare_all(&configs, at);
            Study {
                experiment,
                model,
                data,
                varying,
                configs,
                at,
                comparisons,
            }
        })
        .collect()
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

/// Every pair of configurations that share seeds with predictions, Holm-corrected.
fn compare_all(configs: &[Config], at: At) -> Vec<(usize, usize, Comparison)> {
    let mut out = Vec::new();
    for i in 0..configs.len() {
        for j in i + 1..configs.len() {
            let correct = |c: &Config, seed: &u64| c.by_seed[seed].predictions.as_ref().map(|p| p.correct(at));
            let shared: Vec<(Vec<u8>, Vec<u8>)> = configs[i]
                .by_seed
                .keys()
                .filter(|s| configs[j].by_seed.contains_key(s))
                .filter_map(|s| Some((correct(&configs[i], s)?, correct(&configs[j], s)?)))
                .filter(|(a, b)| !a.is_empty() && a.len() == b.len())
                .collect();
            // One data set per study, so one test set; never pair vectors of other lengths.
            let trials = shared.first().map_or(0, |(a, _)| a.len());
            let shared: Vec<(Vec<u8>, Vec<u8>)> = shared.into_iter().filter(|(a, _)| a.len() == trials).collect();
            if shared.is_empty() {
                continue;
            }
            let (a, b): (Vec<Vec<u8>>, Vec<Vec<u8>>) = shared.into_iter().unzip();
            out.push((i, j, stats::compare(&a, &b, (i * 1000 + j) as u64)));
        }
    }
    let mut comparisons: Vec<Comparison> = out.iter().map(|(_, _, c)| c.clone()).collect();
    stats::holm(&mut comparisons);
    out.iter_mut()
        .zip(comparisons)
        .for_each(|((_, _, c), adjusted)| *c = adjusted);
    out
}

/// "mean ± sd (n)" in percent, or "-".
fn mean_sd(values: &[f64]) -> String {
    if values.is_empty() {
        return "-".into();
    }
    let n = values.len() as f64;
    let mean = values.iter().sum::<f64>() / n;
    if values.len() == 1 {
        return format!("{:.2} (n=1)", 100.0 * mean);
    }
    let sd = (values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0)).sqrt();
    format!("{:.2} ± {:.2} (n={})", 100.0 * mean, 100.0 * sd, values.len())
}

/// Name of the accuracy that `at` selects.
fn at_name(at: At) -> &'static str {
    match at {
        At::Final => "final-epoch test accuracy",
        At::BestTest => "highest test accuracy",
        At::BestVal => "test accuracy at the best validation epoch",
    }
}

/// A run's value of one of the table metrics.
fn metric(run: &RunInfo, name: &str) -> Option<f64> {
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

/// The report's tables: for an activation study, rows ReLU / LeakyReLU / ELU and one
/// column per model, for the highest test, final test and (when validating) the test
/// accuracy at the best validation epoch; for a dropout study, rows dropout and, per
/// model, final train, final test and their gap. Mean ± sd over seeds (n), percent.
pub fn tables(studies: &[Study]) -> String {
    let mut out = String::new();
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
                let mut rows = vec![std::iter::once("activation".to_string())
                    .chain(models.iter().cloned())
                    .collect::<Vec<_>>()];
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
                let _ = writeln!(out, "{experiment}: {name} accuracy (%), mean ± sd over seeds (n)");
                out.push_str(&align(&rows));
                out.push('\n');
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
            let mut rows = vec![header];
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
            let _ = writeln!(
                out,
                "{experiment}: accuracy against dropout (%), mean ± sd over seeds (n)"
            );
            out.push_str(&align(&rows));
            out.push('\n');
        }
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

/// "+1.23 points (95% CI −0.50 to +2.90; p 0.031, Holm 0.094; 8 seeds)".
fn describe(c: &Comparison) -> String {
    format!(
        "{:+.2} points (95% CI {:+.2} to {:+.2}; sign-flip p {:.3}, Holm {:.3}; {} seeds)",
        100.0 * c.difference,
        100.0 * c.low,
        100.0 * c.high,
        c.p,
        c.p_adjusted,
        c.seeds
    )
}

/// Every comparison of every study, one line each.
pub fn comparisons(studies: &[Study]) -> String {
    let mut out = String::new();
    for s in studies.iter().filter(|s| !s.comparisons.is_empty()) {
        let _ = writeln!(out, "{} {} — {}, A − B:", s.experiment, s.model, at_name(s.at));
        for (i, j, c) in &s.comparisons {
            let verdict = if c.distinguishable() {
                "distinguishable"
            } else {
                "not distinguishable"
            };
            let _ = writeln!(
                out,
                "  {} vs {}: {} — {verdict}",
                s.configs[*i].label,
                s.configs[*j].label,
                describe(c)
            );
        }
    }
    out
}

/// The comparison of configurations `a` and `b` of a study, oriented as a − b.
fn oriented(s: &Study, a: usize, b: usize) -> Option<Comparison> {
    s.comparisons
        .iter()
        .find_map(|(i, j, c)| match (*i == a && *j == b, *i == b && *j == a) {
            (true, _) => Some(c.clone()),
            (_, true) => Some(Comparison {
                difference: -c.difference,
                low: -c.high,
                high: -c.low,
                ..c.clone()
            }),
            _ => None,
        })
}

/// A claim "a > b" (or "a = b") checked against a comparison.
fn verdict(claim: &str, c: &Comparison, equal: bool) -> String {
    let needed = c
        .seeds_needed()
        .map(|n| format!("; roughly {n} seeds would be needed to separate a difference this size"))
        .unwrap_or_default();
    let detail = describe(c);
    match (c.distinguishable(), c.difference > 0.0, equal) {
        (true, true, false) => format!("{claim}: supported — {detail}"),
        (true, _, _) => format!("{claim}: contradicted — {detail}"),
        (false, _, true) => format!("{claim}: not distinguishable, as claimed — {detail}"),
        (false, _, false) => format!("{claim}: not distinguishable with {} seeds — {detail}{needed}", c.seeds),
    }
}

/// The findings as sentences: per study the best configuration and those not
/// distinguishable from it, then each of the lab report's claims with its verdict.
pub fn findings(studies: &[Study]) -> String {
    let mut out = String::new();
    for s in studies.iter().filter(|s| s.configs.len() > 1) {
        let mean = |c: &Config| {
            let v: Vec<f64> = c.by_seed.values().filter_map(|r| accuracy(r, s.at)).collect();
            (!v.is_empty()).then(|| v.iter().sum::<f64>() / v.len() as f64)
        };
        let Some(best) = (0..s.configs.len())
            .filter(|&i| mean(&s.configs[i]).is_some())
            .max_by(|&a, &b| {
                mean(&s.configs[a])
                    .partial_cmp(&mean(&s.configs[b]))
                    .unwrap_or(std::cmp::Ordering::Equal)
            })
        else {
            continue;
        };
        let tied: Vec<&str> = (0..s.configs.len())
            .filter(|&i| i != best && oriented(s, best, i).is_some_and(|c| !c.distinguishable()))
            .map(|i| s.configs[i].label.as_str())
            .collect();
        let _ = writeln!(
            out,
            "{} {} ({}): highest mean {}; not distinguishable from it: {}.",
            s.experiment,
            s.model,
            at_name(s.at),
            format_args!(
                "{} {:.2}%",
                s.configs[best].label,
                100.0 * mean(&s.configs[best]).unwrap_or(0.0)
            ),
            if tied.is_empty() {
                "none".to_string()
            } else {
                tied.join(", ")
            }
        );
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
                if let (Some(i), Some(j)) = (index(a), index(b)) {
                    if let Some(c) = oriented(s, i, j) {
                        let relation = if *equal { "=" } else { ">" };
                        let claim = format!("  report claims {} {a} {relation} {b}", s.model);
                        let _ = writeln!(out, "{}", verdict(&claim, &c, *equal));
                    }
                }
            }
        }
        if s.varying == ["dropout"] && s.configs.len() >= 3 {
            let (low, high) = (0, s.configs.len() - 1);
            let claim = format!(
                "  report claims under-fitting at high dropout ({} below the best)",
                s.configs[high].label
            );
            if high != best {
                if let Some(c) = oriented(s, best, high) {
                    let _ = writeln!(out, "{}", verdict(&claim, &c, false));
                }
            } else {
                // The highest rate has the highest mean: that contradicts the claim only
                // if it is distinguishably better than every other rate.
                let better_than_all =
                    (0..high).all(|i| oriented(s, high, i).is_some_and(|c| c.distinguishable() && c.difference > 0.0));
                let word = if better_than_all {
                    "contradicted"
                } else {
                    "not distinguishable"
                };
                let _ = writeln!(
                    out,
                    "{claim}: {word} — the highest rate has the highest mean here ({} seeds)",
                    s.configs[high].by_seed.len()
                );
            }
            let _ = writeln!(out, "{}", overfitting(s, low, best));
            let range: Vec<&str> = std::iter::once(best)
                .chain(
                    (0..s.configs.len())
                        .filter(|&i| i != best && oriented(s, best, i).is_some_and(|c| !c.distinguishable())),
                )
                .map(|i| s.configs[i].label.as_str())
                .collect();
            let _ = writeln!(
                out,
                "  report claims dropout must be chosen: best range here (not distinguishable from the best): {}",
                range.join(", ")
            );
        }
    }
    out
}

/// Over-fitting at the lowest rate: its train–test gap exceeds the gap at the best rate,
/// paired by seed (exact sign-flip test on the per-seed gap differences).
fn overfitting(s: &Study, low: usize, best: usize) -> String {
    let claim = format!(
        "  report claims over-fitting at low dropout ({}: train near 100%, test lower)",
        s.configs[low].label
    );
    if low == best {
        return format!("{claim}: not distinguishable — the lowest rate is also the best");
    }
    let gap = |r: &RunInfo| metric(r, "gap");
    let diffs: Vec<f64> = s.configs[low]
        .by_seed
        .iter()
        .filter_map(|(seed, r)| Some(gap(r)? - gap(s.configs[best].by_seed.get(seed)?)?))
        .collect();
    if diffs.is_empty() {
        return format!("{claim}: no shared seeds");
    }
    let mean = diffs.iter().sum::<f64>() / diffs.len() as f64;
    let p = stats::sign_flip_p(&diffs);
    let train: Vec<f64> = s.configs[low]
        .by_seed
        .values()
        .filter_map(|r| metric(r, "final train"))
        .collect();
    let detail = format!(
        "gap {:+.2} points larger than at {} (sign-flip p {p:.3}, {} seeds); final train accuracy there {}",
        100.0 * mean,
        s.configs[best].label,
        diffs.len(),
        mean_sd(&train)
    );
    match (p < stats::ALPHA, mean > 0.0) {
        (true, true) => format!("{claim}: supported — {detail}"),
        (true, false) => format!("{claim}: contradicted — {detail}"),
        _ => format!("{claim}: not distinguishable with {} seeds — {detail}", diffs.len()),
    }
}

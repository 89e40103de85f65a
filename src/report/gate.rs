//! The nightly regression gate: finished runs against a recorded baseline, paired by
//! seed. For each configuration and metric (highest and final test accuracy), the change
//! of each seed's accuracy from its recorded value is averaged, with a 95% t-interval over
//! the seeds; the configuration *regressed* when the whole interval lies below
//! −tolerance — worse beyond the tolerance with confidence, not a single noisy mean. With
//! one paired seed (or a baseline of means only, as eegrun 0.1 recorded) there is no
//! interval, and the point change is held against the tolerance, as the output says.
//!
//! A configuration is [`crate::store::RunRecord::configuration`] (every training setting
//! but the seed, and the data's fingerprint), recorded as `configuration`; baselines
//! recorded before it are matched by their shorter key, with a warning. Two finished runs of
//! one configuration and seed are refused; a recorded seed with no finished run fails the
//! check; `--update` adds or replaces the (configuration, seed) pairs of finished runs and
//! keeps every other recorded pair; a seed recorded twice is refused.

use super::columns;
use crate::store::read::Run;
use anyhow::{bail, Context, Result};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::Path;

/// A recorded baseline.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Baseline {
    /// Allowed drop, in percentage points, before a configuration counts as regressed.
    pub tolerance: f64,
    /// One entry per configuration.
    pub entries: Vec<Entry>,
}

/// One configuration's accuracies (percent): seed means, and each seed's values.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Entry {
    /// The settings, for people.
    pub key: String,
    /// The configuration's identity: experiment and [`crate::store::RunRecord::configuration`],
    /// hashed (absent in baselines recorded before it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub configuration: Option<String>,
    /// Runs (seeds) recorded.
    pub runs: usize,
    /// Mean highest test accuracy, percent.
    pub best_test_acc: f64,
    /// Mean final test accuracy, percent.
    pub final_test_acc: f64,
    /// Absent in baselines of eegrun 0.1 (means only).
    #[serde(default)]
    pub per_seed: Vec<SeedResult>,
}

/// One seed's accuracies (percent).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SeedResult {
    /// The run's seed.
    pub seed: u64,
    /// Its highest test accuracy, percent.
    pub best_test_acc: f64,
    /// Its final test accuracy, percent.
    pub final_test_acc: f64,
}

/// What the check found for one configuration and metric.
#[derive(Clone, Debug, PartialEq)]
pub enum Verdict {
    /// Not shown to be worse than the tolerance allows.
    Ok,
    /// Worse beyond the tolerance with confidence (the interval of the change lies below it).
    Regressed,
    /// In the baseline, not among the runs.
    Missing,
    /// Among the runs, not in the baseline.
    New,
}

/// One line of the check's report (changes in points).
#[derive(Clone, Debug)]
pub struct Comparison {
    /// The configuration's short key.
    pub key: String,
    /// Which accuracy.
    pub metric: &'static str,
    /// Its baseline mean.
    pub baseline: Option<f64>,
    /// Its current mean.
    pub current: Option<f64>,
    /// Mean change over paired seeds (or of the means, without per-seed values).
    pub change: Option<f64>,
    /// 95% t-interval of the mean change (two or more paired seeds).
    pub interval: Option<(f64, f64)>,
    /// Seeds found in both.
    pub paired_seeds: usize,
    /// Recorded seeds with no finished run now.
    pub missing_seeds: Vec<u64>,
    /// What the gate concludes.
    pub verdict: Verdict,
}

impl Comparison {
    /// The verdict as the check's table shows it (a new configuration fails under
    /// `strict`; a recorded configuration with some seeds gone is "MISSING SEEDS").
    pub fn label(&self, strict: bool) -> &'static str {
        match self.verdict {
            Verdict::Ok => "ok",
            Verdict::Regressed => "REGRESSED",
            Verdict::Missing if !self.missing_seeds.is_empty() && self.current.is_some() => "MISSING SEEDS",
            Verdict::Missing => "MISSING",
            Verdict::New if strict => "NEW (not in baseline; --strict)",
            Verdict::New => "new (not in baseline)",
        }
    }
}

/// How a check ends: how many configurations regressed, went missing or are new, and
/// whether that fails it (regressed or missing always; new ones under `strict`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Outcome {
    /// Configurations whose change lies below −tolerance with confidence.
    pub regressed: usize,
    /// Configurations (or some of their seeds) recorded with no finished run now.
    pub missing: usize,
    /// Configurations among the runs that the baseline does not hold.
    pub new: usize,
    /// Whether new configurations fail the check.
    pub strict: bool,
}

impl Outcome {
    /// The outcome of these comparisons.
    pub fn of(comparisons: &[Comparison], strict: bool) -> Outcome {
        let count = |v: Verdict| comparisons.iter().filter(|c| c.verdict == v).count();
        Outcome {
            regressed: count(Verdict::Regressed),
            missing: count(Verdict::Missing),
            new: count(Verdict::New),
            strict,
        }
    }

    /// True when the check fails.
    pub fn failed(&self) -> bool {
        self.regressed + self.missing > 0 || (self.strict && self.new > 0)
    }
}

/// The key of a run's configuration: every setting but the seed, as `name=value` pairs.
fn key(run: &Run) -> String {
    let c = &run.record.config;
    [
        (columns::EXPERIMENT, run.record.experiment.clone()),
        (columns::MODEL, c.model.to_string()),
        (columns::ACTIVATION, c.activation.to_string()),
        (columns::DROPOUT, c.dropout.to_string()),
        (columns::BATCH_SIZE, c.batch_size.to_string()),
        (columns::LR, c.lr.to_string()),
        (columns::WEIGHT_DECAY, c.weight_decay.to_string()),
        (columns::EPOCHS, c.epochs.to_string()),
    ]
    .map(|(k, v)| format!("{k}={v}"))
    .join(" ")
}

/// The identity of a run's configuration in a baseline.
fn configuration(run: &Run) -> String {
    let identity = format!("{} {}", run.record.experiment, run.record.configuration());
    crate::store::sha256_hex(identity.as_bytes())[..16].to_string()
}

/// Entries of finished runs, one per configuration, in key order; two finished runs of one
/// configuration and seed (a copied run folder) are an error naming both.
pub fn entries(runs: &[Run]) -> Result<Vec<Entry>> {
    let mut groups: BTreeMap<(String, String), Vec<(SeedResult, &Path)>> = BTreeMap::new();
    for run in runs {
        if let Some(s) = run.summary() {
            let seed = run.record.config.seed;
            let group = groups.entry((key(run), configuration(run))).or_default();
            if let Some((_, other)) = group.iter().find(|(r, _)| r.seed == seed) {
                bail!(
                    "{} and {}: two finished runs of one configuration and seed {seed}; keep one (a copied run folder?)",
                    other.display(),
                    run.dir.display()
                );
            }
            group.push((
                SeedResult {
                    seed,
                    best_test_acc: 100.0 * s.best_test_acc,
                    final_test_acc: 100.0 * s.final_test_acc,
                },
                &run.dir,
            ));
        }
    }
    Ok(groups
        .into_iter()
        .map(|((key, configuration), runs)| {
            let mut per_seed: Vec<SeedResult> = runs.into_iter().map(|(r, _)| r).collect();
            per_seed.sort_by_key(|r| r.seed);
            let mean = |f: fn(&SeedResult) -> f64| per_seed.iter().map(f).sum::<f64>() / per_seed.len() as f64;
            let key = format!("{key} config={}", &configuration[..8]);
            Entry {
                key,
                configuration: Some(configuration),
                runs: per_seed.len(),
                best_test_acc: mean(|r| r.best_test_acc),
                final_test_acc: mean(|r| r.final_test_acc),
                per_seed,
            }
        })
        .collect())
}

/// The entry of `current` that `recorded` describes: by configuration, or for a baseline
/// recorded before configurations, by its short key.
fn matching<'a>(recorded: &Entry, current: &'a [Entry]) -> Option<&'a Entry> {
    match &recorded.configuration {
        Some(c) => current.iter().find(|e| e.configuration.as_ref() == Some(c)),
        None => current
            .iter()
            .find(|e| e.key.rsplit_once(" config=").map_or(e.key.as_str(), |(k, _)| k) == recorded.key),
    }
}

/// What [`merged`] did, counted in (configuration, seed) pairs.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Recorded {
    /// Pairs written from the finished runs (new or replacing a recorded value).
    pub written: usize,
    /// Recorded pairs kept because no finished run replaced them.
    pub kept: usize,
    /// Pairs in the baseline before and after.
    pub before: usize,
    /// See `before`.
    pub after: usize,
}

/// The baseline after recording `current`: a set of (configuration, seed). Each finished
/// run's seed is added or replaces its recorded value; every recorded seed that no finished
/// run replaces is kept — of the configurations these runs have too, and of every other (a
/// filtered update, or one after a failed run, never drops what it did not see). An entry of
/// means only (eegrun 0.1) is replaced by the runs' seeds.
pub fn merged(old: Option<Baseline>, current: &[Entry], tolerance: f64) -> (Baseline, Recorded) {
    let old = old.map(|b| b.entries).unwrap_or_default();
    let pairs = |entries: &[Entry]| {
        entries
            .iter()
            .map(|e| {
                if e.per_seed.is_empty() {
                    e.runs
                } else {
                    e.per_seed.len()
                }
            })
            .sum::<usize>()
    };
    let mut counts = Recorded {
        before: pairs(&old),
        written: current.iter().map(|e| e.per_seed.len()).sum(),
        ..Recorded::default()
    };
    let mut entries: Vec<Entry> = old.iter().filter(|e| matching(e, current).is_none()).cloned().collect();
    counts.kept = pairs(&entries);
    for now in current {
        let mut per_seed = now.per_seed.clone();
        if let Some(recorded) = old.iter().find(|e| matching(e, std::slice::from_ref(now)).is_some()) {
            let kept: Vec<SeedResult> = recorded
                .per_seed
                .iter()
                .filter(|r| !per_seed.iter().any(|c| c.seed == r.seed))
                .cloned()
                .collect();
            counts.kept += kept.len();
            per_seed.extend(kept);
        }
        per_seed.sort_by_key(|r| r.seed);
        let mean = |f: fn(&SeedResult) -> f64| per_seed.iter().map(f).sum::<f64>() / per_seed.len() as f64;
        entries.push(Entry {
            runs: per_seed.len(),
            best_test_acc: mean(|r| r.best_test_acc),
            final_test_acc: mean(|r| r.final_test_acc),
            per_seed,
            ..now.clone()
        });
    }
    entries.sort_by(|a, b| a.key.cmp(&b.key));
    counts.after = pairs(&entries);
    (Baseline { tolerance, entries }, counts)
}

/// Two-sided 95% quantiles of Student's t for 1–30 degrees of freedom.
const T_975: [f64; 30] = [
    12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.160, 2.145, 2.131, 2.120,
    2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048, 2.045, 2.042,
];

/// Mean and 95% t-interval of paired changes (no interval below two values).
fn mean_interval(changes: &[f64]) -> (f64, Option<(f64, f64)>) {
    let n = changes.len();
    let mean = changes.iter().sum::<f64>() / n as f64;
    if n < 2 {
        return (mean, None);
    }
    let sd = (changes.iter().map(|c| (c - mean).powi(2)).sum::<f64>() / (n - 1) as f64).sqrt();
    let t = T_975.get(n - 2).copied().unwrap_or(1.96);
    let half = t * sd / (n as f64).sqrt();
    (mean, Some((mean - half, mean + half)))
}

/// Compares current entries with the baseline.
pub fn compare(baseline: &Baseline, current: &[Entry], tolerance: f64) -> Vec<Comparison> {
    type Metric = fn(&SeedResult) -> f64;
    let metrics: [(&str, Metric); 2] = [
        (columns::BEST_TEST_ACC, |r| r.best_test_acc),
        (columns::FINAL_TEST_ACC, |r| r.final_test_acc),
    ];
    let mean_of = |e: &Entry, metric: &str| {
        if metric == columns::BEST_TEST_ACC {
            e.best_test_acc
        } else {
            e.final_test_acc
        }
    };
    let mut out = Vec::new();
    for b in &baseline.entries {
        let now = matching(b, current);
        for (metric, get) in metrics {
            let Some(now) = now else {
                out.push(Comparison {
                    key: b.key.clone(),
                    metric,
                    baseline: Some(mean_of(b, metric)),
                    current: None,
                    change: None,
                    interval: None,
                    paired_seeds: 0,
                    missing_seeds: b.per_seed.iter().map(|r| r.seed).collect(),
                    verdict: Verdict::Missing,
                });
                continue;
            };
            let missing_seeds: Vec<u64> = b
                .per_seed
                .iter()
                .map(|r| r.seed)
                .filter(|s| !now.per_seed.iter().any(|c| c.seed == *s))
                .collect();
            let changes: Vec<f64> = b
                .per_seed
                .iter()
                .filter_map(|r| Some(get(now.per_seed.iter().find(|c| c.seed == r.seed)?) - get(r)))
                .collect();
            let (change, interval) = if changes.is_empty() {
                (mean_of(now, metric) - mean_of(b, metric), None)
            } else {
                mean_interval(&changes)
            };
            let worst_plausible = interval.map_or(change, |(_, high)| high);
            out.push(Comparison {
                key: b.key.clone(),
                metric,
                baseline: Some(mean_of(b, metric)),
                current: Some(mean_of(now, metric)),
                change: Some(change),
                interval,
                paired_seeds: changes.len(),
                verdict: if !missing_seeds.is_empty() {
                    Verdict::Missing
                } else if worst_plausible < -tolerance {
                    Verdict::Regressed
                } else {
                    Verdict::Ok
                },
                missing_seeds,
            });
        }
    }
    for c in current.iter().filter(|c| {
        !baseline
            .entries
            .iter()
            .any(|b| matching(b, std::slice::from_ref(c)).is_some())
    }) {
        out.push(Comparison {
            key: c.key.clone(),
            metric: columns::BEST_TEST_ACC,
            baseline: None,
            current: Some(c.best_test_acc),
            change: None,
            interval: None,
            paired_seeds: 0,
            missing_seeds: Vec::new(),
            verdict: Verdict::New,
        });
    }
    out
}

/// Checks a tolerance: points in [0, 100) (at 100 or more, or NaN, nothing could fail).
pub fn check_tolerance(tolerance: f64) -> Result<f64> {
    if (0.0..100.0).contains(&tolerance) {
        Ok(tolerance)
    } else {
        bail!("tolerance must be a number of percentage points at least 0 and below 100 (at 100 nothing could fail), got {tolerance}")
    }
}

/// Reads a baseline file, refusing one that could not fail a check: no entries, a bad
/// tolerance, accuracies outside 0–100 or non-finite, or a key recorded twice.
pub fn load(path: &Path) -> Result<Baseline> {
    let text = crate::bounded_read::read_text(path, crate::bounded_read::TABLE_LIMIT)
        .with_context(|| format!("{}: cannot read baseline", path.display()))?
        .with_context(|| format!("{}: cannot read baseline: no such file", path.display()))?;
    let baseline: Baseline =
        serde_json::from_str(&text).with_context(|| format!("{}: not a valid baseline file", path.display()))?;
    let bad = |what: String| anyhow::anyhow!("{}: not a valid baseline file: {what}", path.display());
    check_tolerance(baseline.tolerance).map_err(|e| bad(e.to_string()))?;
    if baseline.entries.is_empty() {
        return Err(bad(
            "it records no configurations, so it could not fail; record one with --update".into(),
        ));
    }
    let mut keys = std::collections::HashSet::new();
    for e in &baseline.entries {
        for (name, v) in [("best_test_acc", e.best_test_acc), ("final_test_acc", e.final_test_acc)] {
            if !(0.0..=100.0).contains(&v) {
                return Err(bad(format!(
                    "'{}': {name} is {v}, expected a percentage in 0–100",
                    e.key
                )));
            }
        }
        let mut seeds = std::collections::HashSet::new();
        if let Some(twice) = e.per_seed.iter().find(|r| !seeds.insert(r.seed)) {
            return Err(bad(format!(
                "'{}': seed {} recorded twice (a baseline is a set of configurations and seeds)",
                e.key, twice.seed
            )));
        }
        let seeds_ok = e.per_seed.is_empty() || e.per_seed.len() == e.runs;
        let finite = e
            .per_seed
            .iter()
            .all(|r| (0.0..=100.0).contains(&r.best_test_acc) && (0.0..=100.0).contains(&r.final_test_acc));
        let mean = |f: fn(&SeedResult) -> f64| e.per_seed.iter().map(f).sum::<f64>() / e.per_seed.len() as f64;
        let means_agree = e.per_seed.is_empty()
            || ((mean(|r| r.best_test_acc) - e.best_test_acc).abs() < 1e-6
                && (mean(|r| r.final_test_acc) - e.final_test_acc).abs() < 1e-6);
        if !seeds_ok || !finite || !means_agree {
            return Err(bad(format!(
                "'{}': its per-seed values do not match its runs and means, or are not percentages",
                e.key
            )));
        }
        if e.runs == 0 || !keys.insert(e.configuration.as_ref().unwrap_or(&e.key)) {
            return Err(bad(format!("'{}': recorded twice or with 0 runs", e.key)));
        }
    }
    Ok(baseline)
}

/// Writes a baseline file atomically.
pub fn save(path: &Path, baseline: &Baseline) -> Result<()> {
    crate::atomic_write::write_atomic(path, serde_json::to_string_pretty(baseline)?.as_bytes())
        .with_context(|| format!("{}: cannot write baseline", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(key: &str, final_acc: &[f64]) -> Entry {
        let per_seed: Vec<SeedResult> = final_acc
            .iter()
            .enumerate()
            .map(|(seed, &a)| SeedResult {
                seed: seed as u64,
                best_test_acc: 80.0,
                final_test_acc: a,
            })
            .collect();
        Entry {
            key: key.into(),
            configuration: None,
            runs: per_seed.len(),
            best_test_acc: 80.0,
            final_test_acc: final_acc.iter().sum::<f64>() / final_acc.len() as f64,
            per_seed,
        }
    }

    fn verdict(baseline: &[f64], current: &[f64], tolerance: f64) -> (Verdict, Option<(f64, f64)>) {
        let b = Baseline {
            tolerance,
            entries: vec![entry("k", baseline)],
        };
        let c = compare(&b, &[entry("k", current)], tolerance);
        let line = c.iter().find(|c| c.metric == columns::FINAL_TEST_ACC).unwrap();
        (line.verdict.clone(), line.interval)
    }

    #[test]
    fn a_new_configuration_fails_only_a_strict_check_and_a_missing_one_always() {
        let b = Baseline {
            tolerance: 2.0,
            entries: vec![entry("old", &[75.0, 75.0])],
        };
        let new_only = compare(&b, &[entry("old", &[75.0, 75.0]), entry("new", &[70.0, 70.0])], 2.0);
        assert!(!Outcome::of(&new_only, false).failed());
        assert!(Outcome::of(&new_only, true).failed());
        let label = |strict| {
            new_only
                .iter()
                .find(|c| c.verdict == Verdict::New)
                .map(|c| c.label(strict))
        };
        assert_eq!(label(false), Some("new (not in baseline)"));
        assert_eq!(label(true), Some("NEW (not in baseline; --strict)"));
        let missing = compare(&b, &[entry("new", &[70.0, 70.0])], 2.0);
        let outcome = Outcome::of(&missing, false);
        assert!(outcome.failed() && outcome.missing > 0, "{outcome:?}");
    }

    #[test]
    fn a_consistent_drop_regresses_a_noisy_one_of_the_same_mean_does_not() {
        let base = [75.0; 5];
        // Every seed 3 points lower: the interval is [−3.2, −2.8] < −2.
        let (v, interval) = verdict(&base, &[72.0, 71.9, 72.1, 72.0, 72.0], 2.0);
        assert_eq!(v, Verdict::Regressed, "{interval:?}");
        // Mean −3 as well, but seeds disagree: the interval reaches above −2.
        let (v, interval) = verdict(&base, &[66.0, 76.0, 69.0, 75.0, 74.0], 2.0);
        assert_eq!(v, Verdict::Ok, "{interval:?}");
        let (low, high) = interval.unwrap();
        // Changes −9, +1, −6, 0, −1: mean −3, sd 4.30, t(4) = 2.776 → ±5.34.
        assert!((low + 8.34).abs() < 0.01 && (high - 2.34).abs() < 0.01, "{low} {high}");
    }

    #[test]
    fn mean_only_baselines_and_single_seeds_compare_the_point_change() {
        let mut old = entry("k", &[75.0]);
        old.per_seed.clear();
        let b = Baseline {
            tolerance: 2.0,
            entries: vec![old],
        };
        let c = compare(&b, &[entry("k", &[72.0])], 2.0);
        let line = c.iter().find(|c| c.metric == columns::FINAL_TEST_ACC).unwrap();
        assert_eq!(
            (line.verdict.clone(), line.interval, line.paired_seeds),
            (Verdict::Regressed, None, 0)
        );
    }

    #[test]
    fn a_recorded_seed_without_a_run_fails_and_updates_never_drop_entries() {
        let b = Baseline {
            tolerance: 2.0,
            entries: vec![entry("k", &[75.0, 75.0, 75.0])],
        };
        // Seed 2's run is gone; the two left are fine, yet the configuration is missing a seed.
        let c = compare(&b, &[entry("k", &[75.0, 75.0])], 2.0);
        let line = c.iter().find(|c| c.metric == columns::FINAL_TEST_ACC).unwrap();
        assert_eq!(
            (line.verdict.clone(), line.missing_seeds.clone()),
            (Verdict::Missing, vec![2])
        );
        // Recording one configuration keeps the other.
        let two = Baseline {
            tolerance: 2.0,
            entries: vec![entry("k", &[75.0]), entry("other", &[60.0])],
        };
        let (after, counts) = merged(Some(two), &[entry("k", &[70.0])], 2.0);
        let keys: Vec<&str> = after.entries.iter().map(|e| e.key.as_str()).collect();
        assert_eq!(keys, ["k", "other"]);
        assert_eq!(after.entries[0].final_test_acc, 70.0);
        assert_eq!((counts.written, counts.kept, counts.before, counts.after), (1, 1, 2, 2));
        // Seeds 0-2 recorded; only seed 0 finished now: seeds 1 and 2 stay recorded.
        let three = Baseline {
            tolerance: 2.0,
            entries: vec![entry("k", &[75.0, 76.0, 77.0])],
        };
        let (after, counts) = merged(Some(three), &[entry("k", &[70.0])], 2.0);
        let seeds: Vec<(u64, f64)> = after.entries[0]
            .per_seed
            .iter()
            .map(|r| (r.seed, r.final_test_acc))
            .collect();
        assert_eq!(seeds, [(0, 70.0), (1, 76.0), (2, 77.0)]);
        assert_eq!(after.entries[0].runs, 3);
        assert_eq!((counts.written, counts.kept, counts.before, counts.after), (1, 2, 3, 3));
    }

    #[test]
    fn tolerances_that_could_never_fail_are_refused() {
        for t in [100.0, 1e300, f64::INFINITY, f64::NAN, -0.5] {
            assert!(check_tolerance(t).is_err(), "{t}");
        }
        assert_eq!(check_tolerance(99.0).unwrap(), 99.0);
    }
}

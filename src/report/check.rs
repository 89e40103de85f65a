//! The nightly regression gate: seed-mean accuracies of finished runs against a recorded
//! baseline, with a tolerance in percentage points.

use anyhow::{bail, Context, Result};
use polars::prelude::DataFrame;
use serde::{Deserialize, Serialize};
use std::path::Path;

/// A recorded baseline.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Baseline {
    /// Allowed drop, in percentage points, before a configuration counts as regressed.
    pub tolerance: f64,
    pub entries: Vec<Entry>,
}

/// One configuration's accuracies (means over its runs, in percent).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Entry {
    pub key: String,
    pub runs: usize,
    pub best_test_acc: f64,
    pub final_test_acc: f64,
}

/// What the check found for one configuration and metric.
#[derive(Clone, Debug, PartialEq)]
pub enum Verdict {
    Ok,
    Regressed,
    Missing,
    New,
}

/// One line of the check's report.
#[derive(Clone, Debug)]
pub struct Comparison {
    pub key: String,
    pub metric: &'static str,
    pub baseline: Option<f64>,
    pub current: Option<f64>,
    pub verdict: Verdict,
}

/// Entries from a grouped summary frame (see `summary::grouped`), keyed by `key_columns`.
pub fn entries(grouped: &DataFrame, key_columns: &[String]) -> Result<Vec<Entry>> {
    let value = |name: &str, i: usize| -> Result<f64> {
        let v = grouped.column(name)?.get(i)?;
        v.extract::<f64>().with_context(|| format!("{name} is not numeric"))
    };
    (0..grouped.height())
        .map(|i| {
            let key = key_columns
                .iter()
                .map(|c| Ok(format!("{c}={}", super::summary::cell_text(grouped, c, i)?)))
                .collect::<Result<Vec<_>>>()?
                .join(" ");
            Ok(Entry {
                key,
                runs: value("runs", i)? as usize,
                best_test_acc: value("best_test_acc_mean", i)?,
                final_test_acc: value("final_test_acc_mean", i)?,
            })
        })
        .collect()
}

/// Compares current entries with the baseline.
pub fn compare(baseline: &Baseline, current: &[Entry], tolerance: f64) -> Vec<Comparison> {
    type Metric = fn(&Entry) -> f64;
    let metrics: [(&str, Metric); 2] = [
        ("best_test_acc", |e| e.best_test_acc),
        ("final_test_acc", |e| e.final_test_acc),
    ];
    let mut out = Vec::new();
    for b in &baseline.entries {
        let now = current.iter().find(|c| c.key == b.key);
        for (metric, get) in metrics {
            let (base, cur) = (get(b), now.map(get));
            let verdict = match cur {
                None => Verdict::Missing,
                Some(c) if c < base - tolerance => Verdict::Regressed,
                Some(_) => Verdict::Ok,
            };
            out.push(Comparison {
                key: b.key.clone(),
                metric,
                baseline: Some(base),
                current: cur,
                verdict,
            });
        }
    }
    for c in current
        .iter()
        .filter(|c| !baseline.entries.iter().any(|b| b.key == c.key))
    {
        out.push(Comparison {
            key: c.key.clone(),
            metric: "best_test_acc",
            baseline: None,
            current: Some(c.best_test_acc),
            verdict: Verdict::New,
        });
    }
    out
}

/// Checks a tolerance: a finite number of points ≥ 0 (a NaN or infinite one would pass anything).
pub fn check_tolerance(tolerance: f64) -> Result<f64> {
    if tolerance.is_finite() && tolerance >= 0.0 {
        Ok(tolerance)
    } else {
        bail!("tolerance must be a finite number of percentage points ≥ 0, got {tolerance}")
    }
}

/// Reads a baseline file, refusing one that could not fail a check: no entries, a bad
/// tolerance, accuracies outside 0–100 or non-finite, or a key recorded twice.
pub fn load(path: &Path) -> Result<Baseline> {
    let text = std::fs::read_to_string(path).with_context(|| format!("{}: cannot read baseline", path.display()))?;
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
        if e.runs == 0 || !keys.insert(&e.key) {
            return Err(bad(format!("'{}': recorded twice or with 0 runs", e.key)));
        }
    }
    Ok(baseline)
}

/// Writes a baseline file atomically.
pub fn save(path: &Path, baseline: &Baseline) -> Result<()> {
    crate::store::write_atomic(path, serde_json::to_string_pretty(baseline)?.as_bytes())
}

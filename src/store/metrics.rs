//! Per-epoch metrics, a run's summary of them, and `metrics.csv`: one row per epoch,
//! numbers written in Rust's shortest round-trip form so that reading a file back gives
//! the very same f64 values.

use anyhow::{bail, Context, Result};
use serde::{Deserialize, Serialize};

/// Metrics of one epoch (accuracies in [0, 1]).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EpochMetrics {
    /// The epoch, from 1.
    pub epoch: usize,
    /// Mean training loss.
    pub train_loss: f64,
    /// Training accuracy, 0 to 1.
    pub train_acc: f64,
    /// Mean test loss.
    pub test_loss: f64,
    /// Test accuracy, 0 to 1.
    pub test_acc: f64,
    /// Mean validation loss (with a validation split).
    pub val_loss: Option<f64>,
    /// Validation accuracy (with a validation split).
    pub val_acc: Option<f64>,
    /// Seconds spent training.
    pub train_seconds: f64,
    /// Seconds spent evaluating.
    pub eval_seconds: f64,
}

/// What a run reports.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RunSummary {
    /// Epochs recorded.
    pub epochs: usize,
    /// Highest test accuracy over the epochs.
    pub best_test_acc: f64,
    /// The epoch of the highest test accuracy.
    pub best_test_epoch: usize,
    /// Test accuracy at the last epoch.
    pub final_test_acc: f64,
    /// Train accuracy at the last epoch.
    pub final_train_acc: f64,
    /// Test accuracy at the epoch of best validation accuracy (when validating).
    pub test_acc_at_best_val: Option<f64>,
    /// The epoch of best validation accuracy (when validating).
    pub best_val_epoch: Option<usize>,
}

/// Summarises a history (first maximum wins, as in the lab's loop).
pub fn summarize(history: &[EpochMetrics]) -> Option<RunSummary> {
    let last = history.last()?;
    let first_max = |key: fn(&EpochMetrics) -> f64| {
        history
            .iter()
            .fold(&history[0], |best, m| if key(m) > key(best) { m } else { best })
    };
    let best = first_max(|m| m.test_acc);
    let best_val = last.val_acc.map(|_| first_max(|m| m.val_acc.unwrap_or(f64::MIN)));
    Some(RunSummary {
        epochs: history.len(),
        best_test_acc: best.test_acc,
        best_test_epoch: best.epoch,
        final_test_acc: last.test_acc,
        final_train_acc: last.train_acc,
        test_acc_at_best_val: best_val.map(|m| m.test_acc),
        best_val_epoch: best_val.map(|m| m.epoch),
    })
}

/// The header line; the first seven columns are the results, the last two timings.
pub const HEADER: &str = "epoch,train_loss,train_acc,test_loss,test_acc,val_loss,val_acc,train_seconds,eval_seconds";

/// The file's text for `history`.
pub fn render(history: &[EpochMetrics]) -> String {
    let mut csv = format!("{HEADER}\n");
    let opt = |v: Option<f64>| v.map(|v| v.to_string()).unwrap_or_default();
    for m in history {
        csv.push_str(&format!(
            "{},{},{},{},{},{},{},{:.4},{:.4}\n",
            m.epoch,
            m.train_loss,
            m.train_acc,
            m.test_loss,
            m.test_acc,
            opt(m.val_loss),
            opt(m.val_acc),
            m.train_seconds,
            m.eval_seconds
        ));
    }
    csv
}

/// Parses the file: the header, then epochs 1, 2, … in order, with accuracies in [0, 1].
pub fn parse(text: &str) -> Result<Vec<EpochMetrics>> {
    let mut lines = text.lines();
    let header = lines.next().unwrap_or_default();
    if !header.starts_with("epoch,train_loss,train_acc,test_loss,test_acc") {
        bail!("unexpected header '{header}'");
    }
    lines
        .enumerate()
        .map(|(i, line)| {
            let f: Vec<&str> = line.split(',').collect();
            let line_no = i + 2;
            let num = |k: usize| -> Result<f64> {
                f.get(k)
                    .and_then(|v| v.parse().ok())
                    .with_context(|| format!("line {line_no}: bad field {k}"))
            };
            let opt = |k: usize| -> Result<Option<f64>> {
                match f.get(k).copied().unwrap_or_default() {
                    "" => Ok(None),
                    v => v
                        .parse()
                        .map(Some)
                        .with_context(|| format!("line {line_no}: bad field {k}")),
                }
            };
            let m = EpochMetrics {
                epoch: num(0)? as usize,
                train_loss: num(1)?,
                train_acc: num(2)?,
                test_loss: num(3)?,
                test_acc: num(4)?,
                val_loss: opt(5)?,
                val_acc: opt(6)?,
                train_seconds: opt(7)?.unwrap_or(0.0),
                eval_seconds: opt(8)?.unwrap_or(0.0),
            };
            if m.epoch != i + 1 {
                bail!("line {line_no}: epoch {} where epoch {} was expected", m.epoch, i + 1);
            }
            let accuracies = [Some(m.train_acc), Some(m.test_acc), m.val_acc];
            if accuracies.into_iter().flatten().any(|a| !(0.0..=1.0).contains(&a)) {
                bail!("line {line_no}: an accuracy outside [0, 1]");
            }
            Ok(m)
        })
        .collect()
}

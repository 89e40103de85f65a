//! `metrics.csv`: one row per epoch, numbers written in Rust's shortest round-trip form so
//! that reading a file back gives the very same f64 values.

use crate::results::EpochMetrics;
use anyhow::{bail, Context, Result};

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

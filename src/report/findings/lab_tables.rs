//! The report's tables in the lab's layout: accuracy by activation and against dropout.

use super::model::Study;
use crate::config::ActivationName;
use crate::report::stats;
use crate::results::At;
use crate::store::read::Run;
use std::fmt::Write;

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
    // One layout per experiment and declaration (studies are in experiment order).
    let mut parts: Vec<(&str, String)> = studies
        .iter()
        .map(|s| (s.experiment.as_str(), s.part_suffix()))
        .collect();
    parts.dedup();
    for (name, suffix) in parts {
        let of: Vec<&Study> = studies
            .iter()
            .filter(|s| s.experiment == name && s.part_suffix() == suffix)
            .collect();
        let experiment = format!("{name}{suffix}");
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

/// A run's value of one of the table metrics.
pub(super) fn metric(run: &Run, name: &str) -> Option<f64> {
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

/// "mean ± sd (n)" in percent, or "-".
pub(super) fn mean_sd(values: &[f64]) -> String {
    if values.is_empty() {
        return "-".into();
    }
    let mean = values.iter().sum::<f64>() / values.len() as f64;
    match stats::sample_sd(values) {
        Some(sd) => format!("{:.2} ± {:.2} (n={})", 100.0 * mean, 100.0 * sd, values.len()),
        None => format!("{:.2} (n=1)", 100.0 * mean),
    }
}

//! Summary tables with polars: one row per run, grouped means ± standard deviations over
//! seeds, filters, and output as a table, CSV, JSON, Markdown or Parquet.

use super::columns::{self as col, DEFAULT_GROUP_BY};
use crate::atomic_write::write_atomic;
use crate::store::read::Run;
use crate::store::RunState;
use anyhow::{anyhow, bail, Result};
use polars::prelude::*;
use std::path::Path;

/// Output format of a table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// Aligned text.
    Table,
    /// Comma-separated values.
    Csv,
    /// A JSON array of rows.
    Json,
    /// A Markdown table.
    Markdown,
    /// A LaTeX table (`table` with a `tabular`).
    Latex,
}

impl std::str::FromStr for Format {
    type Err = String;
    fn from_str(text: &str) -> Result<Self, String> {
        match text {
            "table" => Ok(Self::Table),
            "csv" => Ok(Self::Csv),
            "json" => Ok(Self::Json),
            "markdown" => Ok(Self::Markdown),
            "latex" => Ok(Self::Latex),
            _ => Err(format!(
                "unknown format '{text}': expected table, csv, json, markdown or latex"
            )),
        }
    }
}

/// A fraction in percent, rounded only to shed binary noise (1e-9 points): grouped
/// means and sds are computed from these, and rounded where they are shown.
fn pct(v: f64) -> f64 {
    (v * 1e11).round() / 1e9
}

/// One row per run (accuracies in percent).
pub fn runs_frame(runs: &[Run]) -> Result<DataFrame> {
    let text = |f: &dyn Fn(&Run) -> String| runs.iter().map(f).collect::<Vec<String>>();
    let float = |f: &dyn Fn(&Run) -> Option<f64>| runs.iter().map(f).collect::<Vec<Option<f64>>>();
    let int = |f: &dyn Fn(&Run) -> i64| runs.iter().map(f).collect::<Vec<i64>>();
    let summary = |r: &Run| r.summary();
    let columns = vec![
        Column::new(col::EXPERIMENT.into(), text(&|r| r.record.experiment.clone())),
        Column::new(col::RUN_ID.into(), text(&|r| r.id.clone())),
        Column::new(col::MODEL.into(), text(&|r| r.record.config.model.to_string())),
        Column::new(
            col::ACTIVATION.into(),
            text(&|r| r.record.config.activation.to_string()),
        ),
        Column::new(col::DROPOUT.into(), float(&|r| Some(r.record.config.dropout))),
        Column::new(col::BATCH_SIZE.into(), int(&|r| r.record.config.batch_size as i64)),
        Column::new(col::LR.into(), float(&|r| Some(r.record.config.lr))),
        Column::new(col::WEIGHT_DECAY.into(), float(&|r| Some(r.record.config.weight_decay))),
        Column::new(col::SEED.into(), int(&|r| r.record.config.seed as i64)),
        Column::new(col::EPOCHS_DONE.into(), int(&|r| r.status.epochs_done as i64)),
        Column::new(col::EPOCHS.into(), int(&|r| r.record.config.epochs as i64)),
        Column::new(
            col::CONFIG.into(),
            text(&|r| crate::store::sha256_hex(r.record.configuration().as_bytes())[..8].to_string()),
        ),
        Column::new(col::STATUS.into(), text(&|r| r.state().to_string())),
        Column::new(
            col::STOPPED_RUNG.into(),
            runs.iter()
                .map(|r| match r.run_state {
                    RunState::Stopped { rung, .. } => rung.map(|k| k as i64),
                    _ => None,
                })
                .collect::<Vec<Option<i64>>>(),
        ),
        Column::new(
            col::BEST_TEST_ACC.into(),
            float(&|r| summary(r).map(|s| pct(s.best_test_acc))),
        ),
        Column::new(
            col::BEST_EPOCH.into(),
            float(&|r| summary(r).map(|s| s.best_test_epoch as f64)),
        ),
        Column::new(
            col::FINAL_TEST_ACC.into(),
            float(&|r| summary(r).map(|s| pct(s.final_test_acc))),
        ),
        Column::new(
            col::FINAL_TRAIN_ACC.into(),
            float(&|r| summary(r).map(|s| pct(s.final_train_acc))),
        ),
        Column::new(
            col::TRAIN_TEST_GAP.into(),
            float(&|r| summary(r).map(|s| pct(s.final_train_acc - s.final_test_acc))),
        ),
        Column::new(
            col::WALL_SECONDS.into(),
            float(&|r| Some((r.status.seconds * 10.0).round() / 10.0)),
        ),
        Column::new(col::ARCHITECTURE.into(), text(&architecture)),
        Column::new(col::DATA.into(), text(&|r| r.record.data.clone())),
        Column::new(col::PROTOCOL.into(), text(&|r| r.record.config.protocol.to_string())),
        Column::new(
            col::SUBJECT.into(),
            text(&|r| {
                r.record
                    .unit
                    .as_ref()
                    .map_or_else(String::new, |u| u.subjects.join(" "))
            }),
        ),
        Column::new(
            col::FOLD.into(),
            text(&|r| {
                r.record
                    .unit
                    .as_ref()
                    .and_then(|u| u.fold)
                    .map_or_else(String::new, |(k, n)| format!("{k}/{n}"))
            }),
        ),
        Column::new(
            col::FINAL_BALANCED_ACC.into(),
            float(&|r| {
                r.predictions
                    .as_ref()?
                    .balanced_accuracy(crate::results::At::Final)
                    .map(pct)
            }),
        ),
        Column::new(
            col::FINAL_KAPPA.into(),
            float(&|r| r.predictions.as_ref()?.kappa(crate::results::At::Final)),
        ),
    ];
    Ok(DataFrame::new_infer_height(columns)?)
}

/// The architecture fields that differ from the lab's, and the temporal kernel in seconds
/// where the data states its sampling rate.
fn architecture(run: &Run) -> String {
    let fields = run.record.config.architecture();
    match run.record.data_sfreq {
        None => fields,
        Some(hz) if fields.is_empty() => run.record.config.kernel_in_seconds(hz),
        Some(hz) => format!("{fields} ({})", run.record.config.kernel_in_seconds(hz)),
    }
}

/// The runs whose rows survived [`filter`]: matched by experiment and run id (one run id
/// can appear in two experiments: the same spec on the same data).
pub fn kept_runs(frame: &DataFrame, runs: Vec<Run>) -> Vec<Run> {
    let kept: std::collections::HashSet<(String, String)> = (0..frame.height())
        .filter_map(|i| {
            Some((
                cell_text(frame, col::EXPERIMENT, i).ok()?,
                cell_text(frame, col::RUN_ID, i).ok()?,
            ))
        })
        .collect();
    runs.into_iter()
        .filter(|r| kept.contains(&(r.record.experiment.clone(), r.id.clone())))
        .collect()
}

/// Keeps the rows matching every `COLUMN=VALUE` (also `!=`, `<`, `<=`, `>`, `>=`).
pub fn filter(df: DataFrame, filters: &[String]) -> Result<DataFrame> {
    let mut keep = vec![true; df.height()];
    for text in filters {
        let op = ["!=", "<=", ">=", "=", "<", ">"]
            .into_iter()
            .find(|op| text.contains(op))
            .ok_or_else(|| anyhow!("--filter '{text}': expected COLUMN=VALUE (or !=, <, <=, >, >=)"))?;
        let (name, value) = text.split_once(op).expect("op found");
        let (name, value) = (name.trim(), value.trim());
        let column = df.column(name).map_err(|_| {
            let names: Vec<String> = df.get_column_names().iter().map(|n| n.to_string()).collect();
            anyhow!("--filter '{text}': no column '{name}' (columns: {})", names.join(", "))
        })?;
        let number = if column.dtype().is_primitive_numeric() {
            Some(
                value
                    .parse::<f64>()
                    .map_err(|_| anyhow!("--filter '{text}': '{value}' is not a number"))?,
            )
        } else {
            None
        };
        for (i, k) in keep.iter_mut().enumerate() {
            let cell = column.get(i)?;
            let ordering = match number {
                Some(n) => cell.extract::<f64>().and_then(|v| v.partial_cmp(&n)),
                None => Some(self::cell(cell).as_str().cmp(value)),
            };
            let pass = ordering.is_some_and(|o| match op {
                "=" => o.is_eq(),
                "!=" => o.is_ne(),
                "<" => o.is_lt(),
                "<=" => o.is_le(),
                ">" => o.is_gt(),
                _ => o.is_ge(),
            });
            *k &= pass;
        }
    }
    Ok(df.filter(&BooleanChunked::from_slice("keep".into(), &keep))?)
}

/// Mean and sample standard deviation of the non-null values.
fn mean_std(values: &[f64]) -> (Option<f64>, Option<f64>) {
    if values.is_empty() {
        return (None, None);
    }
    let mean = values.iter().sum::<f64>() / values.len() as f64;
    (Some(mean), super::stats::sample_sd(values))
}

/// One line per data set of `runs` stating plain accuracy's chance level: the share of the
/// test set's majority class, what always answering it scores (50% on the 3-class
/// stand-in, whose test set is half rest); from the first pooled run with predictions of
/// each. A data set with only per-subject runs has a chance level per subject, which the
/// per-subject table states.
pub fn chance_lines(runs: &[Run]) -> Vec<String> {
    let mut seen = std::collections::BTreeSet::new();
    let mut lines: Vec<String> = runs
        .iter()
        .filter(|r| r.record.unit.is_none())
        .filter_map(|r| Some((r, r.predictions.as_ref()?)))
        .filter(|(r, _)| seen.insert(r.record.data_fingerprint.clone()))
        .map(|(r, p)| {
            let classes = p.classes();
            format!(
                "chance level on {} ({} classes, {} test trials): {:.2}% (always the majority class)\n",
                r.record.data,
                classes,
                p.labels.len(),
                100.0 * crate::results::chance_level(&p.labels, classes)
            )
        })
        .collect();
    for r in runs
        .iter()
        .filter(|r| r.record.unit.is_some() && r.predictions.is_some())
    {
        if seen.insert(r.record.data_fingerprint.clone()) {
            lines.push(format!(
                "chance level on {}: per subject (each subject's majority class), in the per-subject table\n",
                r.record.data
            ));
        }
    }
    lines
}

/// The grouping shown for `by`: the default grouping gains the architecture column (before
/// `config`) where some run's architecture is not the lab's, so its tables name it.
pub fn shown_group_by(df: &DataFrame, by: &[String]) -> Vec<String> {
    let mut by = by.to_vec();
    let default = by.iter().map(String::as_str).eq(DEFAULT_GROUP_BY.iter().copied());
    let varied = df
        .column(col::ARCHITECTURE)
        .ok()
        .and_then(|c| {
            c.str()
                .ok()
                .map(|s| (0..s.len()).any(|i| s.get(i).is_some_and(|v| !v.is_empty())))
        })
        .unwrap_or(false);
    if default && varied {
        by.insert(by.len() - 1, col::ARCHITECTURE.to_string());
    }
    by
}

/// Per group of equal `by` values (sorted by them): number of runs and seeds, the states
/// found, and mean and standard deviation of the accuracies over the group's done runs only
/// (partial, failed and stopped runs ended at other epochs: they are counted, not averaged).
pub fn grouped(df: &DataFrame, by: &[String]) -> Result<DataFrame> {
    for name in by {
        if df.column(name).is_err() || name.ends_with("_acc") {
            bail!(
                "--group-by {name}: not a configuration column (use e.g. {})",
                DEFAULT_GROUP_BY.join(",")
            );
        }
    }
    let key = |i: usize| -> Vec<AnyValue<'_>> {
        by.iter()
            .map(|n| df.column(n).and_then(|c| c.get(i)).unwrap_or(AnyValue::Null))
            .collect()
    };
    let compare = |a: &AnyValue, b: &AnyValue| match (a.extract::<f64>(), b.extract::<f64>()) {
        (Some(x), Some(y)) => x.total_cmp(&y),
        _ => cell(a.clone()).cmp(&cell(b.clone())),
    };
    let mut order: Vec<usize> = (0..df.height()).collect();
    order.sort_by(|&i, &j| {
        key(i)
            .iter()
            .zip(key(j).iter())
            .map(|(a, b)| compare(a, b))
            .find(|o| o.is_ne())
            .unwrap_or(std::cmp::Ordering::Equal)
            .then(i.cmp(&j))
    });
    let mut groups: Vec<Vec<usize>> = Vec::new();
    for i in order {
        match groups.last_mut() {
            Some(g) if key(g[0]).iter().zip(key(i).iter()).all(|(a, b)| compare(a, b).is_eq()) => g.push(i),
            _ => groups.push(vec![i]),
        }
    }
    let firsts: Vec<IdxSize> = groups.iter().map(|g| g[0] as IdxSize).collect();
    let mut out = df
        .select(by.iter().map(|s| s.as_str()))?
        .take(&IdxCa::from_vec("idx".into(), firsts))?;
    let status = df.column(col::STATUS)?.str()?.clone();
    let done = |i: usize| status.get(i) == Some(RunState::Done.name());
    let values = |name: &str, g: &[usize]| -> Result<Vec<f64>> {
        let column = df.column(name)?.f64()?.clone();
        Ok(g.iter().filter(|&&i| done(i)).filter_map(|&i| column.get(i)).collect())
    };
    let seeds = df.column(col::SEED)?.i64()?.clone();
    let states: Vec<String> = groups
        .iter()
        .map(|g| {
            let mut counts: std::collections::BTreeMap<&str, usize> = Default::default();
            g.iter()
                .filter_map(|&i| status.get(i))
                .for_each(|s| *counts.entry(s).or_default() += 1);
            counts
                .iter()
                .map(|(s, n)| format!("{n} {s}"))
                .collect::<Vec<_>>()
                .join(", ")
        })
        .collect();
    let mut columns = vec![
        Column::new(
            col::RUNS.into(),
            groups.iter().map(|g| g.len() as i64).collect::<Vec<_>>(),
        ),
        Column::new(col::STATES.into(), states),
        Column::new(
            col::MEANS_OVER.into(),
            groups
                .iter()
                .map(|g| g.iter().filter(|&&i| done(i)).count() as i64)
                .collect::<Vec<_>>(),
        ),
        Column::new(
            col::SEEDS.into(),
            groups
                .iter()
                .map(|g| {
                    g.iter()
                        .filter_map(|&i| seeds.get(i))
                        .collect::<std::collections::BTreeSet<_>>()
                        .len() as i64
                })
                .collect::<Vec<_>>(),
        ),
    ];
    for name in [
        col::BEST_TEST_ACC,
        col::FINAL_TEST_ACC,
        col::FINAL_TRAIN_ACC,
        col::TRAIN_TEST_GAP,
        col::BEST_EPOCH,
    ] {
        let stats = groups
            .iter()
            .map(|g| values(name, g).map(|v| mean_std(&v)))
            .collect::<Result<Vec<_>>>()?;
        columns.push(Column::new(
            col::mean(name).into(),
            stats.iter().map(|s| s.0).collect::<Vec<_>>(),
        ));
        if name != col::BEST_EPOCH {
            columns.push(Column::new(
                col::std(name).into(),
                stats.iter().map(|s| s.1).collect::<Vec<_>>(),
            ));
        }
    }
    for column in columns {
        out.with_column(column)?;
    }
    Ok(out)
}

/// Text of one cell.
pub(crate) fn cell(value: AnyValue) -> String {
    match value {
        AnyValue::Null => "-".into(),
        AnyValue::Float64(v) if v.is_nan() => "-".into(),
        AnyValue::Float64(v) => format!("{v}"),
        AnyValue::String(s) => s.to_string(),
        AnyValue::StringOwned(s) => s.to_string(),
        other => other.to_string(),
    }
}

/// The text of column `name` at row `i`.
pub fn cell_text(df: &DataFrame, name: &str, i: usize) -> Result<String> {
    Ok(cell(df.column(name)?.get(i)?))
}

/// The grouped frame as the report shows it: "mean ± sd" when a group has several runs.
pub fn display_grouped(g: &DataFrame, by: &[String]) -> Result<(Vec<String>, Vec<Vec<String>>)> {
    let mut header: Vec<String> = by.to_vec();
    header.extend(
        [
            "seeds",
            "runs",
            "highest test acc (%)",
            "@epoch",
            "final test acc (%)",
            "final train acc (%)",
            "gap",
        ]
        .map(String::from),
    );
    let get = |name: &str, i: usize| {
        g.column(name)
            .and_then(|c| c.get(i))
            .map(cell)
            .unwrap_or_else(|_| "-".into())
    };
    let number = |name: &str, i: usize, decimals: usize| {
        let value = g
            .column(name)
            .ok()
            .and_then(|c| c.get(i).ok())
            .and_then(|v| v.extract::<f64>());
        value.map(|v| format!("{v:.decimals$}")).unwrap_or_else(|| "-".into())
    };
    let mean_sd = |name: &str, i: usize| {
        let mean = number(&col::mean(name), i, 2);
        let sd = number(&col::std(name), i, 2);
        if sd == "-" {
            mean
        } else {
            format!("{mean} ± {sd}")
        }
    };
    let rows = (0..g.height())
        .map(|i| {
            let (runs, over) = (get(col::RUNS, i), get(col::MEANS_OVER, i));
            // Settings with 3 significant digits (the config column tells configurations apart).
            let setting = |n: &str| match g.column(n).ok().and_then(|c| c.f64().ok()?.get(i)) {
                Some(v) => super::findings::significant(v, 3),
                None => get(n, i),
            };
            let mut row: Vec<String> = by.iter().map(|n| setting(n)).collect();
            row.push(get(col::SEEDS, i));
            // Said where some runs are averaged and others not; with none done there is no mean.
            row.push(match over == runs || over == "0" {
                true => get(col::STATES, i),
                false => format!("{}; means over the {over} done", get(col::STATES, i)),
            });
            row.push(mean_sd(col::BEST_TEST_ACC, i));
            row.push(number(&col::mean(col::BEST_EPOCH), i, 0));
            row.push(mean_sd(col::FINAL_TEST_ACC, i));
            row.push(mean_sd(col::FINAL_TRAIN_ACC, i));
            row.push(number(&col::mean(col::TRAIN_TEST_GAP), i, 2));
            row
        })
        .collect();
    Ok((header, rows))
}

/// Renders header + rows as an aligned text table or a Markdown table.
pub fn render_text((header, rows): &(Vec<String>, Vec<Vec<String>>), markdown: bool) -> String {
    // Cells come from records (experiment names, settings): hidden characters shown.
    let shown = |cells: &[String]| cells.iter().map(|c| crate::escape::visible(c)).collect::<Vec<_>>();
    let (header, rows) = (&shown(header), &rows.iter().map(|r| shown(r)).collect::<Vec<_>>());
    let widths: Vec<usize> = (0..header.len())
        .map(|c| {
            rows.iter()
                .map(|r| r[c].chars().count())
                .chain([header[c].chars().count()])
                .max()
                .unwrap_or(0)
        })
        .collect();
    let line = |cells: &[String]| {
        let padded: Vec<String> = cells.iter().zip(&widths).map(|(c, w)| format!("{c:<w$}")).collect();
        if markdown {
            format!("| {} |\n", padded.join(" | "))
        } else {
            format!("{}\n", padded.join("  ").trim_end())
        }
    };
    let mut out = line(header);
    if markdown {
        out.push_str(&format!(
            "|{}|\n",
            widths.iter().map(|w| "-".repeat(w + 2)).collect::<Vec<_>>().join("|")
        ));
    }
    rows.iter().for_each(|r| out.push_str(&line(r)));
    out
}

/// The frame as CSV or JSON text.
pub fn render_data(df: &mut DataFrame, format: Format) -> Result<String> {
    let mut buf = Vec::new();
    match format {
        Format::Csv => CsvWriter::new(&mut buf).finish(df)?,
        Format::Json => JsonWriter::new(&mut buf)
            .with_json_format(JsonFormat::Json)
            .finish(df)?,
        _ => bail!("render_data handles csv and json"),
    }
    Ok(String::from_utf8(buf)?)
}

/// Writes summary.csv and summary.parquet (one row per run) into `dir`.
pub fn write_files(df: &mut DataFrame, dir: &Path) -> Result<()> {
    let csv = render_data(df, Format::Csv)?;
    write_atomic(&dir.join("summary.csv"), csv.as_bytes())?;
    let mut parquet = Vec::new();
    ParquetWriter::new(&mut parquet)
        .finish(df)
        .map_err(|e| anyhow!("writing parquet: {e}"))?;
    write_atomic(&dir.join("summary.parquet"), &parquet)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A frame of one configuration's runs: (status, final test accuracy in percent).
    fn frame(runs: &[(&str, Option<f64>)]) -> DataFrame {
        let values: Vec<Option<f64>> = runs.iter().map(|r| r.1).collect();
        df!(
            col::MODEL => vec!["eegnet"; runs.len()],
            col::SEED => (0..runs.len() as i64).collect::<Vec<_>>(),
            col::STATUS => runs.iter().map(|r| r.0).collect::<Vec<_>>(),
            col::BEST_TEST_ACC => values.clone(),
            col::FINAL_TEST_ACC => values.clone(),
            col::FINAL_TRAIN_ACC => values.clone(),
            col::TRAIN_TEST_GAP => values.clone(),
            col::BEST_EPOCH => values,
        )
        .unwrap()
    }

    #[test]
    fn means_leave_out_runs_that_are_not_done_and_say_so() {
        let runs = frame(&[
            ("done", Some(60.0)),
            ("partial", Some(20.0)),
            ("done", Some(62.0)),
            ("failed", None),
            ("stopped", Some(40.0)),
        ]);
        let by = [col::MODEL.to_string()];
        let g = grouped(&runs, &by).unwrap();
        let mean = g.column(&col::mean(col::FINAL_TEST_ACC)).unwrap().f64().unwrap().get(0);
        let sd = g.column(&col::std(col::FINAL_TEST_ACC)).unwrap().f64().unwrap().get(0);
        assert_eq!(mean, Some(61.0));
        assert!((sd.unwrap() - 2f64.sqrt()).abs() < 1e-12);
        let (header, rows) = display_grouped(&g, &by).unwrap();
        let cell = |name: &str| rows[0][header.iter().position(|h| h == name).unwrap()].clone();
        assert_eq!(
            cell("runs"),
            "2 done, 1 failed, 1 partial, 1 stopped; means over the 2 done"
        );
        assert_eq!(cell("final test acc (%)"), "61.00 ± 1.41");
        // A group with no done run has no mean.
        let g = grouped(&frame(&[("partial", Some(20.0))]), &by).unwrap();
        assert_eq!(display_grouped(&g, &by).unwrap().1[0][2], "1 partial");
        assert_eq!(display_grouped(&g, &by).unwrap().1[0][3], "-");
    }

    #[test]
    fn sds_come_from_unrounded_accuracies() {
        // 10.002% and 10.007%: rounded to 2 decimals first they would be 10.00 and 10.01,
        // with an sd of 0.0071 shown as 0.01; unrounded the sd is 0.0035.
        let runs = frame(&[("done", Some(pct(0.10002))), ("done", Some(pct(0.10007)))]);
        let by = [col::MODEL.to_string()];
        let (header, rows) = display_grouped(&grouped(&runs, &by).unwrap(), &by).unwrap();
        let at = header.iter().position(|h| h == "final test acc (%)").unwrap();
        assert_eq!(rows[0][at], "10.00 ± 0.00");
        assert_eq!(pct(0.973_587_674_247), 97.358_767_425);
    }
}

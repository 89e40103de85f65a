//! The page's runs: each folded, with its settings, state, timings, confusion matrices, its
//! curve and epoch table (up to [`MOST_RUN_CURVES`] runs, else one table row each); and its
//! label among its study.

use super::tables::{pairs, table};
use crate::escape::html as escape;
use crate::report::dates::utc;
use crate::report::findings;
use crate::results::At;
use crate::store::read::Run;
use anyhow::Result;
use std::fmt::Write;

/// Each run's label among the runs of its experiment and model: the settings that vary
/// between them (as the findings name configurations), by run id.
pub(super) fn run_labels(runs: &[Run]) -> std::collections::HashMap<String, String> {
    let mut groups: std::collections::BTreeMap<(&str, String), Vec<&Run>> = Default::default();
    for run in runs {
        groups
            .entry((run.record.experiment.as_str(), run.record.config.model.to_string()))
            .or_default()
            .push(run);
    }
    groups
        .values()
        .flat_map(|group| group.iter().map(|r| r.id.clone()).zip(findings::labels(group)))
        .collect()
}

/// Pages of more runs show each run as one row of a table ([`runs_table`]) instead of
/// folded details with its curve; its files hold the rest.
pub(super) const MOST_RUN_CURVES: usize = 60;

/// Every run as one row (its id the row's anchor, so links to a run land on it): its
/// label, seed and unit, state, epochs, accuracies and time.
pub(super) fn runs_table(out: &mut String, runs: &[Run], labels: &std::collections::HashMap<String, String>) {
    out.push_str("<div class=\"scroll\"><table class=\"sortable\">\n<caption>One row per run; its folder holds config.json, metrics.csv and predictions.csv; click a heading to sort</caption>\n");
    out.push_str("<tr><th>run</th><th>experiment</th><th>model</th><th>configuration</th><th>seed</th><th>state</th><th>epochs</th><th>final test acc %</th><th>highest test acc %</th><th>seconds</th></tr>\n");
    for run in runs {
        let summary = crate::results::summarize(&run.history);
        let percent = |v: Option<f64>| v.map_or_else(String::new, |v| format!("{:.2}", 100.0 * v));
        let unit = run
            .record
            .unit
            .as_ref()
            .map_or_else(String::new, |u| format!(" · {}", u.label()));
        let _ = writeln!(
            out,
            "<tr id=\"run-{0}\"><td>{0}</td><td>{1}</td><td>{2}</td><td>{3}</td><td>{4}{5}</td><td>{6}</td><td>{7} of {8}</td><td>{9}</td><td>{10}</td><td>{11:.1}</td></tr>",
            escape(&run.id),
            escape(&run.record.experiment),
            escape(&run.record.config.model.to_string()),
            escape(labels.get(&run.id).map_or("", String::as_str)),
            run.record.config.seed,
            escape(&unit),
            escape(&run.run_state.to_string()),
            run.status.epochs_done,
            run.status.epochs,
            percent(summary.as_ref().map(|s| s.final_test_acc)),
            percent(summary.as_ref().map(|s| s.best_test_acc)),
            run.status.seconds
        );
    }
    out.push_str("</table></div>\n");
}

/// One run, folded: its resolved configuration, state, attempts and timings, per-epoch
/// metrics and confusion matrices.
pub(super) fn run_details(out: &mut String, run: &Run, label: &str) -> Result<()> {
    let config = &run.record.config;
    let unit = run
        .record
        .unit
        .as_ref()
        .map_or_else(String::new, |u| format!(" · {}", u.label()));
    writeln!(
        out,
        "<details id=\"run-{}\">\n<summary>{} · {} · {} · {} · seed {}{} · {}</summary>",
        escape(&run.id),
        escape(&run.id),
        escape(&run.record.experiment),
        escape(&config.model.to_string()),
        escape(label),
        config.seed,
        escape(&unit),
        escape(&run.run_state.to_string())
    )?;
    let status = &run.status;
    let rows = [
        ("folder", run.dir.display().to_string()),
        (
            "data",
            format!("{} (fingerprint {})", run.record.data, run.record.data_fingerprint),
        ),
        ("epochs done", format!("{} of {}", status.epochs_done, status.epochs)),
        ("attempts", status.attempts.to_string()),
        ("training time", format!("{:.1} s", status.seconds)),
        ("started", status.started_unix.map(utc).unwrap_or_default()),
        ("finished", status.finished_unix.map(utc).unwrap_or_default()),
        ("host", status.host.clone()),
        ("CPU", status.cpu.clone().unwrap_or_else(|| "not recorded".into())),
        (
            "threads",
            status
                .threads
                .map(|t| t.to_string())
                .unwrap_or_else(|| "not recorded".into()),
        ),
        (
            "eegrun",
            format!(
                "{} {}",
                status.eegrun_version,
                status.git_revision.clone().unwrap_or_default()
            ),
        ),
    ];
    pairs(out, &rows);
    writeln!(out, "<pre>{}</pre>", escape(&serde_json::to_string_pretty(config)?))?;
    if let Some(predictions) = &run.predictions {
        // Classes as the data files number them (1..K).
        let k = predictions.classes();
        let mut rows = Vec::new();
        for (name, at) in [
            ("final epoch", At::Final),
            ("highest test", At::BestTest),
            ("best validation", At::BestVal),
        ] {
            if predictions.at(at).is_empty() {
                continue;
            }
            let m = predictions.confusion(at);
            let mut row = vec![name.to_string()];
            row.extend(m.iter().flatten().map(|n| n.to_string()));
            row.push(format!(
                "{:.2}",
                100.0 * predictions.balanced_accuracy(at).unwrap_or(0.0)
            ));
            row.push(format!("{:.3}", predictions.kappa(at).unwrap_or(0.0)));
            rows.push(row);
        }
        let mut header = vec!["confusion (label true → predicted)".to_string()];
        header.extend((1..=k).flat_map(|t| (1..=k).map(move |p| format!("{t} → {p}"))));
        header.push("balanced acc %".into());
        header.push("Cohen's κ".into());
        table(out, &header, &rows);
    }
    if run.history.len() > 1 {
        out.push_str(&curves_svg(&run.history));
    }
    let header = [
        "epoch",
        "train loss",
        "train acc %",
        "test loss",
        "test acc %",
        "val acc %",
        "seconds",
    ]
    .map(String::from);
    let rows: Vec<Vec<String>> = run
        .history
        .iter()
        .map(|m| {
            vec![
                m.epoch.to_string(),
                format!("{:.4}", m.train_loss),
                format!("{:.2}", 100.0 * m.train_acc),
                format!("{:.4}", m.test_loss),
                format!("{:.2}", 100.0 * m.test_acc),
                m.val_acc.map(|v| format!("{:.2}", 100.0 * v)).unwrap_or_default(),
                format!("{:.2}", m.train_seconds + m.eval_seconds),
            ]
        })
        .collect();
    table(out, &header, &rows);
    out.push_str("</details>\n");
    Ok(())
}

/// A run's train and test accuracy per epoch as a small inline SVG (0–100% high).
pub(super) fn curves_svg(history: &[crate::store::EpochMetrics]) -> String {
    let (width, height, left, bottom) = (480.0, 150.0, 40.0, 20.0);
    let last = history.len().max(2) as f64;
    let x = |epoch: usize| left + (epoch as f64 - 1.0) / (last - 1.0) * (width - left - 10.0);
    let y = |acc: f64| 10.0 + (1.0 - acc) * (height - bottom - 10.0);
    let line = |acc: &dyn Fn(&crate::store::EpochMetrics) -> f64| -> String {
        let points: Vec<String> = history
            .iter()
            .map(|m| format!("{:.1},{:.1}", x(m.epoch), y(acc(m))))
            .collect();
        points.join(" ")
    };
    let mut svg = format!(
        "<svg width=\"{width}\" height=\"{height}\" viewBox=\"0 0 {width} {height}\" xmlns=\"http://www.w3.org/2000/svg\" font-size=\"10\" font-family=\"sans-serif\">\n"
    );
    for acc in [0.0, 0.5, 1.0] {
        let (level, right, percent) = (y(acc), width - 10.0, acc * 100.0);
        let _ = writeln!(
            svg,
            "<line x1=\"{left}\" x2=\"{right}\" y1=\"{level:.1}\" y2=\"{level:.1}\" stroke=\"#ddd\"/><text x=\"4\" y=\"{:.1}\">{percent}%</text>",
            level + 3.0
        );
    }
    let _ = writeln!(
        svg,
        "<polyline fill=\"none\" stroke=\"#1f77b4\" stroke-dasharray=\"4 3\" points=\"{}\"/>\n<polyline fill=\"none\" stroke=\"#1f77b4\" stroke-width=\"2\" points=\"{}\"/>",
        line(&|m| m.train_acc),
        line(&|m| m.test_acc)
    );
    let _ = writeln!(
        svg,
        "<text x=\"{left}\" y=\"{}\">epochs 1 to {}; solid: test accuracy, dashed: train</text>\n</svg>",
        height - 4.0,
        history.len()
    );
    svg
}

//! The page's section per search: its budget, the run it chose with its scores, a row per
//! rung (the last included), and its figure (each run's score against each setting).

use super::figures::{download, svg_body};
use crate::escape::html as escape;
use crate::report::findings;
use crate::store::read::Run;
use crate::store::RunState;
use anyhow::Result;
use std::fmt::Write;

/// For each search: its budget, the run it chose (by validation accuracy) with that score
/// and its test accuracy, a table of its rungs, and its figure (each run's score against
/// each searched setting), taken out of `figures`.
pub(super) fn search_sections(out: &mut String, runs: &[Run], figures: &mut Vec<(String, String)>) -> Result<()> {
    let (declared, _) = crate::store::read::declarations(runs);
    for search in declared.values().filter_map(|d| d.search.as_ref()) {
        let name = search.experiment.as_str();
        writeln!(out, "<h2 id=\"search-{0}\">Search: {0}</h2>", escape(name))?;
        let metric = search.metric.as_str();
        let (trained, full) = (search.epochs_trained, search.epochs_if_all_trained_fully);
        writeln!(
            out,
            "<p>{}, ranked by {}; {}; {trained} epochs trained of {full} had every sample trained fully ({:.0}%).</p>",
            crate::plural::count(search.rounds, "round", "rounds"),
            escape(metric),
            if search.complete {
                "complete"
            } else {
                "not complete yet"
            },
            100.0 * trained as f64 / full.max(1) as f64
        )?;
        if let Some(chosen) = search.chosen.as_deref() {
            let score = search
                .decisions
                .last()
                .and_then(|d| d.scores.iter().find(|(run, _)| run == chosen))
                .map(|(_, score)| *score);
            let run = runs.iter().find(|r| r.id == chosen);
            let summary = run.and_then(|r| r.summary());
            let pct = |v: Option<f64>| v.map_or("-".to_string(), |v| format!("{:.2}%", 100.0 * v));
            let (metric, id) = (escape(metric), escape(chosen));
            let settings = escape(
                &run.map(|r| short_numbers(&r.record.config.describe()))
                    .unwrap_or_default(),
            );
            let (score, at_best, last) = (
                pct(score),
                pct(summary.as_ref().and_then(|s| s.test_acc_at_best_val)),
                pct(summary.as_ref().map(|s| s.final_test_acc)),
            );
            writeln!(
                out,
                "<p class=\"chosen\">Chosen by {metric}: <a href=\"#run-{id}\">{id}</a> ({settings}), {metric} {score}; test accuracy at its best validation epoch {at_best}, at its last epoch {last} (the test set played no part in the choice).</p>"
            )?;
        }
        out.push_str("<div class=\"scroll\"><table>\n<caption>Each rung: the runs that reached it, the best score, and how many went on (the others stopped there, a normal end)</caption>\n<tr><th>round</th><th>rung</th><th>epoch</th><th>runs</th><th>best score</th><th>promoted</th><th>stopped</th></tr>\n");
        for d in &search.decisions {
            let (scores, promoted) = (d.scores.len(), d.promoted.len());
            let best = d
                .scores
                .first()
                .map_or("-".into(), |(_, v)| format!("{:.2}%", 100.0 * v));
            writeln!(
                out,
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{scores}</td><td>{best}</td><td>{promoted}</td><td>{}</td></tr>",
                d.round,
                d.rung,
                d.epoch,
                scores.saturating_sub(promoted)
            )?;
        }
        last_rung(out, search, runs)?;
        out.push_str("</table></div>\n");
        let stem = crate::report::plots::search_figure_stem(name);
        if let Some(at) = figures.iter().position(|(n, _)| *n == stem) {
            let (stem, svg) = figures.remove(at);
            writeln!(
                out,
                "<figure id=\"figure-{0}\">\n{1}\n<figcaption>{0}: each run's best validation accuracy against each setting the search varied {2}</figcaption>\n</figure>",
                escape(&stem),
                svg_body(&svg),
                download(&stem, &svg)
            )?;
        }
    }
    Ok(())
}

/// The search's last rung, where no decision is taken: the runs that trained to their last
/// epoch, their best validation score, none promoted and none stopped.
fn last_rung(out: &mut String, search: &crate::store::search_record::SearchRecord, runs: &[Run]) -> Result<()> {
    let reached: Vec<&Run> = match search.decisions.last() {
        Some(d) => runs.iter().filter(|r| d.promoted.contains(&r.id)).collect(),
        None => runs
            .iter()
            .filter(|r| r.record.experiment == search.experiment)
            .collect(),
    };
    let finished: Vec<&&Run> = reached.iter().filter(|r| r.run_state == RunState::Done).collect();
    if finished.is_empty() {
        return Ok(());
    }
    let best = finished
        .iter()
        .filter_map(|r| r.history.iter().filter_map(|m| m.val_acc).reduce(f64::max))
        .reduce(f64::max)
        .map_or("-".into(), |v| format!("{:.2}%", 100.0 * v));
    let epoch = finished.iter().map(|r| r.history.len()).max().unwrap_or(0);
    writeln!(
        out,
        "<tr><td>{}</td><td>{} (last)</td><td>{epoch}</td><td>{}</td><td>{best}</td><td>-</td><td>0</td></tr>",
        search.rounds,
        search.rungs.len(),
        finished.len()
    )?;
    Ok(())
}

/// "key=value" settings with each fractional value shown to 3 significant digits (the run's
/// folded details give them in full).
fn short_numbers(settings: &str) -> String {
    let short = |part: &str| match part.split_once('=') {
        Some((key, value)) if value.contains('.') => match value.parse::<f64>() {
            Ok(v) => format!("{key}={}", findings::significant(v, 3)),
            Err(_) => part.to_string(),
        },
        _ => part.to_string(),
    };
    settings.split(' ').map(short).collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_show_three_significant_digits() {
        assert_eq!(
            short_numbers("model=eegnet dropout=0.660533829271418 batch_size=33 lr=0.0034762222041531915 seed=0"),
            "model=eegnet dropout=0.661 batch_size=33 lr=0.00348 seed=0"
        );
    }
}

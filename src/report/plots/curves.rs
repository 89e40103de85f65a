//! Accuracy per epoch, one line per configuration.

use super::lines::{Figure, Line};
use super::style::{mean_sd, Points, COLOURS, GREY, MOST_COLOURED};
use crate::report::findings;
use crate::store::read::Run;
use crate::store::{EpochMetrics, RunState};
use std::collections::BTreeMap;

/// Train and test accuracy per epoch, one line per configuration: the mean over its done
/// runs (or, when none is done, over its runs as far as all of them went), and for test
/// accuracy a band of ± one sd over seeds. The [`MOST_COLOURED`] configurations trained
/// furthest, best first by last test accuracy, get a colour; the rest are thin and grey.
/// A line of one epoch is a dot.
pub(super) fn curves(experiment: &str, model: &str, group: &[&Run]) -> Figure {
    let mut by_label: BTreeMap<String, Vec<&Run>> = BTreeMap::new();
    for (run, label) in group.iter().zip(findings::labels(group)) {
        by_label.entry(label).or_default().push(run);
    }
    let series = |runs: &[&Run], f: fn(&EpochMetrics) -> f64| -> (Points, Points) {
        let epochs = runs.iter().map(|r| r.history.len()).min().unwrap_or(0);
        (0..epochs)
            .map(|e| {
                let values: Vec<f64> = runs.iter().map(|r| 100.0 * f(&r.history[e])).collect();
                let (mean, sd) = mean_sd(&values);
                (((e + 1) as f64, mean), (mean - sd, mean + sd))
            })
            .unzip()
    };
    let mut configurations: Vec<(String, Vec<&Run>, Points, Points)> = by_label
        .into_iter()
        .map(|(name, runs)| {
            let done: Vec<&Run> = runs.iter().copied().filter(|r| r.run_state == RunState::Done).collect();
            let (name, runs) = match done.is_empty() {
                true => (format!("{name} ({})", runs[0].run_state.name()), runs),
                false => (name, done),
            };
            let (test, spread) = series(&runs, |m| m.test_acc);
            (name, runs, test, spread)
        })
        .collect();
    // The configurations trained furthest first, then the best at their last epoch.
    let last = |points: &Points| points.last().map_or(f64::MIN, |p| p.1);
    configurations.sort_by(|a, b| {
        (b.2.len().cmp(&a.2.len()))
            .then(last(&b.2).total_cmp(&last(&a.2)))
            .then(a.0.cmp(&b.0))
    });
    let others = configurations.len().saturating_sub(MOST_COLOURED);
    let mut lines = Vec::new();
    for (rank, (name, runs, test, spread)) in configurations.into_iter().enumerate() {
        let coloured = rank < MOST_COLOURED;
        let legend = match (coloured, rank == MOST_COLOURED) {
            (true, _) if runs.len() > 1 => Some(format!("{name} ({} seeds)", runs.len())),
            (true, _) => Some(name),
            (false, true) => Some(format!("{others} more configurations")),
            (false, false) => None,
        };
        let color = if coloured { COLOURS[rank] } else { GREY };
        let markers = test.len() == 1;
        if coloured {
            lines.push(Line {
                legend: None,
                points: series(&runs, |m| m.train_acc).0,
                spread: Vec::new(),
                color,
                thin: false,
                dashed: true,
                markers,
                runs: Vec::new(),
            });
        }
        lines.push(Line {
            legend,
            points: test,
            spread: if coloured && runs.len() > 1 { spread } else { Vec::new() },
            color,
            thin: !coloured,
            dashed: false,
            markers,
            runs: Vec::new(),
        });
    }
    Figure {
        title: format!("{experiment}: {model} accuracy per epoch"),
        x_label: "epoch",
        lines,
        styles: ["test (band: ± sd over seeds)", "train"],
    }
}

//! Accuracy per epoch, one line per configuration, of a size that does not grow with the
//! length of training nor, past the coloured lines, with the number of configurations.

use super::lines::{Figure, Line};
use super::style::{mean_sd, Points, COLOURS, GREY, MOST_COLOURED};
use crate::report::findings;
use crate::store::read::Run;
use crate::store::{EpochMetrics, RunState};
use std::collections::BTreeMap;

/// The most points a line has: past it, each point is the mean of as many consecutive
/// epochs as it takes (the x axis says how many).
const MOST_POINTS: usize = 100;
/// The most grey lines a figure draws: past it, the configurations beyond the coloured ones
/// are one grey band (their range at each epoch) around their median.
const MOST_GREY: usize = 16;

/// Train and test accuracy per epoch, one line per configuration: the mean over its done
/// runs (or, when none is done, over its runs as far as all of them went), and for test
/// accuracy a band of ± one sd over seeds. The [`MOST_COLOURED`] configurations trained
/// furthest, best first by last test accuracy, get a colour; the rest are thin and grey,
/// or one band past [`MOST_GREY`]. A line of one epoch is a dot. Each configuration's test
/// line (or dots) links to its first run.
pub(super) fn curves(experiment: &str, model: &str, group: &[&Run]) -> Figure {
    let mut by_label: BTreeMap<String, Vec<&Run>> = BTreeMap::new();
    for (run, label) in group.iter().zip(findings::labels(group)) {
        by_label.entry(label).or_default().push(run);
    }
    let configurations: Vec<(String, Vec<&Run>)> = by_label
        .into_iter()
        .map(|(name, runs)| {
            let done: Vec<&Run> = runs.iter().copied().filter(|r| r.run_state == RunState::Done).collect();
            match done.is_empty() {
                true => (format!("{name} ({})", runs[0].run_state.name()), runs),
                false => (name, done),
            }
        })
        .collect();
    let epochs = |runs: &[&Run]| runs.iter().map(|r| r.history.len()).min().unwrap_or(0);
    let longest = configurations.iter().map(|(_, runs)| epochs(runs)).max().unwrap_or(0);
    let per = longest.div_ceil(MOST_POINTS).max(1);
    let mut configurations: Vec<(String, Vec<&Run>, Points, Points)> = configurations
        .into_iter()
        .map(|(name, runs)| {
            let (test, spread) = series(&runs, |m| m.test_acc, per);
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
    let grey = configurations.split_off(MOST_COLOURED.min(configurations.len()));
    let mut lines = Vec::new();
    for (rank, (name, runs, test, spread)) in configurations.into_iter().enumerate() {
        let color = COLOURS[rank];
        let markers = test.len() == 1;
        lines.push(Line {
            legend: None,
            points: series(&runs, |m| m.train_acc, per).0,
            spread: Vec::new(),
            color,
            thin: false,
            dashed: true,
            markers,
            runs: dot_links(&runs, markers),
            link: None,
        });
        let legend = match runs.len() {
            1 => name.clone(),
            n => format!("{name} ({n} seeds)"),
        };
        lines.push(Line {
            legend: Some(legend),
            points: test,
            spread: if runs.len() > 1 { spread } else { Vec::new() },
            color,
            thin: false,
            dashed: false,
            markers,
            runs: dot_links(&runs, markers),
            link: (!markers).then(|| (name, runs[0].id.clone())),
        });
    }
    let others = grey.len();
    if others > MOST_GREY {
        let (points, spread) = median_and_range(grey.iter().map(|c| &c.2));
        lines.push(Line {
            legend: Some(format!("{others} more configurations: median, range")),
            markers: points.len() == 1,
            points,
            spread,
            color: GREY,
            thin: true,
            dashed: false,
            runs: Vec::new(),
            link: None,
        });
    } else {
        for (k, (name, runs, test, _)) in grey.into_iter().enumerate() {
            let markers = test.len() == 1;
            lines.push(Line {
                legend: (k == 0).then(|| format!("{others} more configurations")),
                markers,
                points: test,
                spread: Vec::new(),
                color: GREY,
                thin: true,
                dashed: false,
                runs: dot_links(&runs, markers),
                link: (!markers).then(|| (name, runs[0].id.clone())),
            });
        }
    }
    Figure {
        title: format!("{experiment}: {model} accuracy per epoch"),
        x_label: match per {
            1 => "epoch".into(),
            per => format!("epoch (each point the mean of {per} epochs)"),
        },
        lines,
        styles: ["test (band: ± sd over seeds)", "train"],
    }
}

/// A line of one point is a dot: the dot links to the configuration's first run (a longer
/// line links as a whole).
fn dot_links(runs: &[&Run], markers: bool) -> Vec<String> {
    match markers {
        true => vec![runs[0].id.clone()],
        false => Vec::new(),
    }
}

/// Metric `f` (in percent) of `runs` per epoch, as far as all of them went: the mean over
/// runs, with mean ± sd as its spread, in points of `per` epochs ([`bucketed`]).
fn series(runs: &[&Run], f: fn(&EpochMetrics) -> f64, per: usize) -> (Points, Points) {
    let epochs = runs.iter().map(|r| r.history.len()).min().unwrap_or(0);
    let each: Vec<(f64, f64)> = (0..epochs)
        .map(|e| mean_sd(&runs.iter().map(|r| 100.0 * f(&r.history[e])).collect::<Vec<_>>()))
        .collect();
    bucketed(&each, per)
}

/// Each epoch's (mean, sd) as points of `per` consecutive epochs (the last of fewer), at
/// their middle: the mean of their means, with the mean of their sds as spread.
fn bucketed(each: &[(f64, f64)], per: usize) -> (Points, Points) {
    each.chunks(per)
        .enumerate()
        .map(|(k, values)| {
            let n = values.len() as f64;
            let x = (k * per + 1) as f64 + (n - 1.0) / 2.0;
            let mean = values.iter().map(|v| v.0).sum::<f64>() / n;
            let sd = values.iter().map(|v| v.1).sum::<f64>() / n;
            ((x, mean), (mean - sd, mean + sd))
        })
        .unzip()
}

/// At each x any of `lines` reaches: the median of their values there, and their range.
fn median_and_range<'a>(lines: impl Iterator<Item = &'a Points>) -> (Points, Points) {
    // x is a whole or half epoch: twice it is a whole number to gather by.
    let mut at: BTreeMap<u64, (f64, Vec<f64>)> = BTreeMap::new();
    for &(x, y) in lines.flatten() {
        at.entry((2.0 * x).round() as u64).or_insert((x, Vec::new())).1.push(y);
    }
    at.into_values()
        .map(|(x, mut values)| {
            values.sort_by(f64::total_cmp);
            let n = values.len();
            let median = (values[(n - 1) / 2] + values[n / 2]) / 2.0;
            ((x, median), (values[0], values[n - 1]))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_trainings_are_drawn_in_points_of_several_epochs() {
        let each = [(50.0, 2.0), (60.0, 4.0), (70.0, 0.0), (80.0, 2.0), (90.0, 0.0)];
        let (points, spread) = bucketed(&each, 2);
        assert_eq!(points, vec![(1.5, 55.0), (3.5, 75.0), (5.0, 90.0)]);
        assert_eq!(spread, vec![(52.0, 58.0), (74.0, 76.0), (90.0, 90.0)]);
        // One epoch per point is the data as it is.
        assert_eq!(bucketed(&each, 1).0[1], (2.0, 60.0));
        // 300 epochs in at most MOST_POINTS points.
        let per = 300usize.div_ceil(MOST_POINTS);
        assert_eq!(bucketed(&[(50.0, 1.0); 300], per).0.len(), 100);
        assert_eq!(
            bucketed(&[(50.0, 1.0); 301], 301usize.div_ceil(MOST_POINTS)).0.len(),
            76
        );
    }

    #[test]
    fn the_grey_band_is_the_median_and_range_at_each_epoch() {
        let lines = [
            vec![(1.0, 50.0), (2.0, 60.0), (3.0, 70.0)],
            vec![(1.0, 40.0), (2.0, 80.0)],
            vec![(1.0, 45.0), (2.0, 65.0)],
            vec![(1.0, 55.0), (2.0, 75.0)],
        ];
        let (median, range) = median_and_range(lines.iter());
        assert_eq!(median, vec![(1.0, 47.5), (2.0, 70.0), (3.0, 70.0)]);
        assert_eq!(range, vec![(40.0, 55.0), (60.0, 80.0), (70.0, 70.0)]);
    }
}

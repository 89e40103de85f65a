//! A search told as a figure: each run's best validation accuracy against each setting the
//! search varied, one panel per setting, the chosen run marked.

use super::style::{
    area_of, draw_legend, fit, fitted, percent_tick, Area, Rect, Symbol, COLOURS, GREY, LEGEND_WIDTH, RED, WIDTH,
};
use crate::report::findings;
use crate::store::read::Run;
use crate::store::RunState;
use anyhow::{anyhow, Result};
use plotters::prelude::*;

/// How a search panel places a setting's values along x.
pub(super) enum Axis {
    Linear,
    /// Values spread over decades, placed by their logarithm.
    Log,
    /// Names, placed at 0, 1, 2, …
    Names(Vec<String>),
}

/// One run in a search panel: which run, where it is, its score, and how it ended.
pub(super) struct Dot {
    pub(super) run: String,
    pub(super) x: f64,
    pub(super) score: f64,
    pub(super) ended: Ended,
}

#[derive(Clone, Copy, PartialEq)]
pub(super) enum Ended {
    Trained,
    Stopped,
    Chosen,
}

/// A search told as a figure: each run's best validation accuracy against each searched
/// setting, one panel per setting.
pub(super) struct Search {
    pub(super) title: String,
    pub(super) panels: Vec<(String, Axis, Vec<Dot>)>,
}

/// Settings that act by their order of magnitude: a search panel places them by their
/// logarithm when they span 20× or more.
pub(super) const LOG_SCALED: [&str; 3] = ["lr", "weight_decay", "eps"];

/// A search's runs as dots: each run's best validation accuracy against every setting
/// the search varied, the chosen run marked. `None` without validation scores.
pub(super) fn search_figure(runs: &[&Run], chosen: Option<&str>) -> Option<Search> {
    let scored: Vec<(&Run, f64)> = runs
        .iter()
        .filter_map(|r| {
            let best = r.history.iter().filter_map(|m| m.val_acc).fold(f64::NAN, f64::max);
            (!best.is_nan()).then_some((*r, 100.0 * best))
        })
        .collect();
    let settings: Vec<&str> = findings::varying(&scored.iter().map(|s| s.0).collect::<Vec<_>>())
        .into_iter()
        .filter(|s| *s != "epochs")
        .collect();
    if settings.is_empty() {
        return None;
    }
    let panels = settings
        .into_iter()
        .map(|name| {
            let values: Vec<String> = scored.iter().map(|(r, _)| findings::setting(r, name)).collect();
            let numbers: Option<Vec<f64>> = values.iter().map(|v| v.parse::<f64>().ok()).collect();
            let (axis, xs) = match numbers {
                Some(xs)
                    if LOG_SCALED.contains(&name) && xs.iter().all(|x| *x > 0.0) && {
                        let (low, high) = xs.iter().fold((f64::MAX, 0.0f64), |(a, b), x| (a.min(*x), b.max(*x)));
                        high / low >= 20.0
                    } =>
                {
                    (Axis::Log, xs.iter().map(|x| x.log10()).collect())
                }
                Some(xs) => (Axis::Linear, xs),
                None => {
                    let mut names = values.clone();
                    names.sort();
                    names.dedup();
                    let xs = values
                        .iter()
                        .map(|v| names.iter().position(|n| n == v).unwrap_or(0) as f64)
                        .collect();
                    (Axis::Names(names), xs)
                }
            };
            let dots = scored
                .iter()
                .zip(xs)
                .map(|((run, score), x)| Dot {
                    run: run.id.clone(),
                    x,
                    score: *score,
                    ended: match (Some(run.id.as_str()) == chosen, &run.run_state) {
                        (true, _) => Ended::Chosen,
                        (false, RunState::Done) => Ended::Trained,
                        _ => Ended::Stopped,
                    },
                })
                .collect();
            (name.to_string(), axis, dots)
        })
        .collect();
    Some(Search {
        title: format!(
            "{}: search, best validation accuracy of each run against each searched setting",
            runs[0].record.experiment
        ),
        panels,
    })
}

/// A search's panels in two columns, the legend on the right.
pub(super) fn draw_search<DB: DrawingBackend>(root: Area<DB>, search: &Search) -> Result<Vec<Rect>>
where
    DB::ErrorType: 'static,
{
    let err = |e: &dyn std::fmt::Display| anyhow!("drawing '{}': {e}", search.title);
    root.fill(&WHITE).map_err(|e| err(&e))?;
    let body = root
        .titled(&fit(&root, &search.title, 22, WIDTH - 32), ("sans-serif", 22))
        .map_err(|e| err(&e))?;
    let (grid, legend) = body.split_horizontally(WIDTH - LEGEND_WIDTH + 60);
    let columns = search.panels.len().min(2);
    let cells = grid.split_evenly((search.panels.len().div_ceil(columns), columns));
    let mut areas = Vec::new();
    for ((name, axis, dots), cell) in search.panels.iter().zip(&cells) {
        let (x_low, x_high) = match axis {
            Axis::Names(names) => (-0.5, names.len() as f64 - 0.5),
            _ => {
                let (low, high) = dots
                    .iter()
                    .fold((f64::MAX, f64::MIN), |(a, b), d| (a.min(d.x), b.max(d.x)));
                let pad = if high > low { (high - low) * 0.06 } else { 1.0 };
                (low - pad, high + pad)
            }
        };
        let (y_low, y_high) = fitted(dots.iter().map(|d| d.score));
        let mut chart = ChartBuilder::on(cell)
            .margin(12)
            .x_label_area_size(44)
            .y_label_area_size(56)
            .build_cartesian_2d(x_low..x_high, y_low..y_high)
            .map_err(|e| err(&e))?;
        let x_desc = match axis {
            Axis::Log => format!("{name} (log scale)"),
            _ => name.clone(),
        };
        // Measured before the mesh is drawn: while it draws, the backend is busy.
        let names: Vec<String> = match axis {
            Axis::Names(names) => {
                // Each name within its share of the axis, so that neighbours never touch.
                let share = cell.dim_in_pixel().0.saturating_sub(100) / names.len().max(1) as u32;
                names
                    .iter()
                    .map(|n| fit(cell, n, 14, share.saturating_sub(8)))
                    .collect()
            }
            _ => Vec::new(),
        };
        let x_desc = fit(cell, &x_desc, 15, cell.dim_in_pixel().0 - 80);
        let span = y_high - y_low;
        chart
            .configure_mesh()
            .x_labels(match axis {
                Axis::Names(names) => names.len(),
                _ => 5,
            })
            .x_label_formatter(&|x| match axis {
                Axis::Log => findings::significant(10f64.powf(*x), 3),
                Axis::Linear => findings::significant(*x, 3),
                Axis::Names(_) => {
                    let i = x.round();
                    match (x - i).abs() < 1e-6 && i >= 0.0 && (i as usize) < names.len() {
                        true => names[i as usize].clone(),
                        false => String::new(),
                    }
                }
            })
            .y_label_formatter(&|y| percent_tick(*y, span))
            .x_desc(x_desc)
            .y_desc("best val acc (%)")
            .label_style(("sans-serif", 14))
            .axis_desc_style(("sans-serif", 15))
            .draw()
            .map_err(|e| err(&e))?;
        chart
            .draw_series(in_drawing_order(dots).into_iter().map(|d| {
                let (color, filled, size) = match d.ended {
                    Ended::Trained => (COLOURS[0], true, 5),
                    Ended::Stopped => (GREY, false, 5),
                    Ended::Chosen => (RED, true, 8),
                };
                Circle::new(
                    (d.x, d.score),
                    size,
                    ShapeStyle {
                        color: color.to_rgba(),
                        filled,
                        stroke_width: 2,
                    },
                )
            }))
            .map_err(|e| err(&e))?;
        areas.push(area_of(&chart));
    }
    draw_legend(
        &legend,
        &[
            (Symbol::Dot { filled: true }, COLOURS[0], "trained fully".to_string()),
            (Symbol::Dot { filled: false }, GREY, "stopped by the search".to_string()),
            (Symbol::Dot { filled: true }, RED, "the chosen run".to_string()),
        ],
    )?;
    root.present().map_err(|e| err(&e))?;
    Ok(areas)
}

/// A panel's dots in the order they are drawn: the chosen run last, on top.
fn in_drawing_order(dots: &[Dot]) -> Vec<&Dot> {
    let mut order: Vec<&Dot> = dots.iter().collect();
    order.sort_by_key(|d| d.ended == Ended::Chosen);
    order
}

impl Search {
    /// The run of each point, in the order the figure draws them (panel by panel): the
    /// page links each point to its run.
    pub(super) fn drawn_runs(&self) -> Vec<&str> {
        self.panels
            .iter()
            .flat_map(|(_, _, dots)| in_drawing_order(dots))
            .map(|d| d.run.as_str())
            .collect()
    }
}

//! A figure of lines: its lines (plain or marked, with a spread drawn as a band or as
//! error bars), and how it is drawn.

use super::style::{area_of, draw_legend, fit, fitted, percent_tick, Area, Points, Rect, Symbol, LEGEND_WIDTH, WIDTH};
use super::svg::Stroke;
use crate::report::findings;
use anyhow::{anyhow, Result};
use plotters::prelude::*;

/// A line (or marked line) of a figure, with an optional spread per point (low, high):
/// drawn as a band around a plain line, as error bars on a marked one.
pub(super) struct Line {
    /// The legend entry for this line's colour; `None` when another line carries it.
    pub(super) legend: Option<String>,
    pub(super) points: Points,
    pub(super) spread: Points,
    pub(super) color: RGBColor,
    pub(super) thin: bool,
    pub(super) dashed: bool,
    pub(super) markers: bool,
    /// Where the points stand for configurations: each point's first run, which the page
    /// links the point to; empty otherwise.
    pub(super) runs: Vec<String>,
    /// Where the whole line stands for one configuration: its name and first run, which
    /// the page links the line to.
    pub(super) link: Option<(String, String)>,
}

/// What one figure of lines shows; `styles` explain the line styles (solid, dashed).
pub(super) struct Figure {
    pub(super) title: String,
    pub(super) x_label: String,
    pub(super) lines: Vec<Line>,
    pub(super) styles: [&'static str; 2],
}

impl Figure {
    /// The lines in the order [`draw`] draws them: thin (grey) ones first, so that
    /// coloured ones stay on top.
    fn drawing_order(&self) -> Vec<&Line> {
        let mut order: Vec<&Line> = self.lines.iter().collect();
        order.sort_by_key(|l| !l.thin);
        order
    }

    /// The run of each circle the figure draws, in [`draw`]'s order — first the error bars'
    /// centres of the marked lines with a spread, then every marked line's markers, line by
    /// line — or `""` for a circle that stands for no configuration.
    pub(super) fn drawn_runs(&self) -> Vec<&str> {
        let bars = self.lines.iter().filter(|l| l.markers && !l.spread.is_empty());
        let markers = self.drawing_order().into_iter().filter(|l| l.markers);
        bars.chain(markers).flat_map(circle_runs).collect()
    }
}

/// The run of each of `line`'s points where they stand for configurations, else `""`s.
fn circle_runs(line: &Line) -> Vec<&str> {
    match line.runs.len() == line.points.len() {
        true => line.runs.iter().map(String::as_str).collect(),
        false => vec![""; line.points.len()],
    }
}

/// Draws `figure`; returns its plotting areas. Its lines go to `strokes` where given (for
/// SVG output to write, [`Stroke`]), else plotters draws them.
pub(super) fn draw<DB: DrawingBackend>(
    root: Area<DB>,
    figure: &Figure,
    mut strokes: Option<&mut Vec<Stroke>>,
) -> Result<Vec<Rect>>
where
    DB::ErrorType: 'static,
{
    let err = |e: &dyn std::fmt::Display| anyhow!("drawing '{}': {e}", figure.title);
    root.fill(&WHITE).map_err(|e| err(&e))?;
    let body = root
        .titled(&fit(&root, &figure.title, 24, WIDTH - 32), ("sans-serif", 24))
        .map_err(|e| err(&e))?;
    let (plot, legend) = body.split_horizontally(WIDTH - LEGEND_WIDTH);
    let points = figure.lines.iter().flat_map(|l| l.points.iter());
    let (x_min, x_max) = points
        .clone()
        .fold((f64::MAX, f64::MIN), |(a, b), p| (a.min(p.0), b.max(p.0)));
    let spreads = figure
        .lines
        .iter()
        .flat_map(|l| l.spread.iter().flat_map(|s| [s.0, s.1]));
    let (y_low, y_high) = fitted(points.map(|p| p.1).chain(spreads));
    let x_pad = if x_max > x_min { (x_max - x_min) * 0.03 } else { 1.0 };
    let mut chart = ChartBuilder::on(&plot)
        .margin(16)
        .x_label_area_size(48)
        .y_label_area_size(64)
        .build_cartesian_2d((x_min - x_pad)..(x_max + x_pad), y_low..y_high)
        .map_err(|e| err(&e))?;
    let integer_x = figure.x_label.starts_with("epoch") || figure.x_label.starts_with("configuration");
    let span = y_high - y_low;
    chart
        .configure_mesh()
        .x_label_formatter(&|x| match integer_x {
            true => format!("{x:.0}"),
            false => findings::significant(*x, 3),
        })
        .x_labels(if integer_x {
            ((x_max - x_min) as usize + 1).min(12)
        } else {
            8
        })
        .y_label_formatter(&|y| percent_tick(*y, span))
        .x_desc(&figure.x_label)
        .y_desc("accuracy (%)")
        .label_style(("sans-serif", 16))
        .axis_desc_style(("sans-serif", 18))
        .draw()
        .map_err(|e| err(&e))?;
    for line in figure.lines.iter().filter(|l| !l.spread.is_empty()) {
        let color = line.color;
        if line.markers {
            let bars = line.points.iter().zip(&line.spread).map(|(p, (low, high))| {
                ErrorBar::new_vertical(p.0, low.max(y_low), p.1, high.min(y_high), color.stroke_width(2), 10)
            });
            chart.draw_series(bars).map_err(|e| err(&e))?;
        } else {
            let upper = line
                .points
                .iter()
                .zip(&line.spread)
                .map(|(p, s)| (p.0, s.1.min(y_high)));
            let lower = line
                .points
                .iter()
                .zip(&line.spread)
                .rev()
                .map(|(p, s)| (p.0, s.0.max(y_low)));
            let band: Vec<(f64, f64)> = upper.chain(lower).collect();
            chart
                .draw_series([Polygon::new(band, color.mix(0.18).filled())])
                .map_err(|e| err(&e))?;
        }
    }
    for line in figure.drawing_order() {
        let width = if line.thin { 1 } else { 2 };
        let style = line.color.stroke_width(width);
        match strokes.as_deref_mut() {
            Some(strokes) => strokes.push(Stroke {
                points: line.points.iter().map(|p| chart.backend_coord(p)).collect(),
                color: line.color,
                width,
                dashed: line.dashed,
                link: line.link.clone(),
            }),
            None if line.dashed => chart
                .draw_series(DashedLineSeries::new(line.points.clone(), 6, 4, style))
                .map(|_| ())
                .map_err(|e| err(&e))?,
            None => chart
                .draw_series(LineSeries::new(line.points.clone(), style))
                .map(|_| ())
                .map_err(|e| err(&e))?,
        }
        if line.markers {
            chart
                .draw_series(line.points.iter().map(|p| Circle::new(*p, 4, line.color.filled())))
                .map_err(|e| err(&e))?;
        }
    }
    let mut entries: Vec<(Symbol, RGBColor, String)> = figure
        .lines
        .iter()
        .filter_map(|l| Some((Symbol::Line { dashed: false }, l.color, l.legend.clone()?)))
        .collect();
    entries.push((Symbol::Line { dashed: false }, BLACK, figure.styles[0].to_string()));
    entries.push((Symbol::Line { dashed: true }, BLACK, figure.styles[1].to_string()));
    draw_legend(&legend, &entries)?;
    root.present().map_err(|e| err(&e))?;
    Ok(vec![area_of(&chart)])
}

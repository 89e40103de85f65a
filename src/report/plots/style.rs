//! What every figure shares: its size, colours, the y range and ticks of accuracy, text
//! fitted to its room, the legend panel, and where its plotting area lies.

use anyhow::{anyhow, Result};
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

/// The most configurations a figure gives a colour and a legend entry of their own; the
/// others are drawn thin and grey, under one entry.
pub(super) const MOST_COLOURED: usize = 8;
/// Width of every figure, and of its legend panel on the right.
pub(super) const WIDTH: u32 = 1000;
pub(super) const LEGEND_WIDTH: u32 = 320;

/// Line colours (matplotlib's "tab10" without its grey, which stays readable in print);
/// [`GREY`] is for configurations beyond the first [`MOST_COLOURED`].
pub(super) const COLOURS: [RGBColor; MOST_COLOURED] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(23, 190, 207),
];
pub(super) const GREY: RGBColor = RGBColor(175, 175, 175);
pub(super) const RED: RGBColor = COLOURS[3];

pub(super) type Area<DB> = DrawingArea<DB, Shift>;
/// (x, y) points, or (low, high) spreads.
pub(super) type Points = Vec<(f64, f64)>;
/// A plotting area in pixels: left, top, right, bottom.
pub(super) type Rect = (i32, i32, i32, i32);

/// The pixels of a chart's plotting area.
pub(super) fn area_of<DB: DrawingBackend, X: Ranged, Y: Ranged>(chart: &ChartContext<DB, Cartesian2d<X, Y>>) -> Rect {
    let (x, y) = chart.plotting_area().get_pixel_range();
    (x.start, y.start, x.end, y.end)
}

/// `text` with its hidden characters shown (`escape::visible`), shortened with "…" until it
/// fits `width` pixels in the sans-serif font of `size`.
pub(super) fn fit<DB: DrawingBackend>(area: &Area<DB>, text: &str, size: u32, width: u32) -> String {
    let text = &crate::escape::visible(text);
    let style: TextStyle = ("sans-serif", size).into();
    let wide = |t: &str| area.estimate_text_size(t, &style).is_ok_and(|(w, _)| w > width);
    if !wide(text) {
        return text.to_string();
    }
    let mut chars: Vec<char> = text.chars().collect();
    while !chars.is_empty() {
        chars.pop();
        let short = format!("{}…", chars.iter().collect::<String>().trim_end());
        if !wide(&short) {
            return short;
        }
    }
    "…".to_string()
}

/// A y range (percent) that holds `values` with some room, at least 4 points tall, inside 0–100.
pub(super) fn fitted(values: impl Iterator<Item = f64>) -> (f64, f64) {
    let (low, high) = values
        .filter(|v| v.is_finite())
        .fold((f64::MAX, f64::MIN), |(a, b), v| (a.min(v), b.max(v)));
    if low > high {
        return (0.0, 100.0);
    }
    let pad = ((high - low) * 0.08).max(2.0);
    let (low, high) = ((low - pad).max(0.0), (high + pad).min(100.0));
    (low.min((high - 4.0).max(0.0)), high.max((low + 4.0).min(100.0)))
}

/// Tick text for a percentage axis spanning `span` points.
pub(super) fn percent_tick(y: f64, span: f64) -> String {
    if span < 8.0 {
        format!("{y:.1}")
    } else {
        format!("{y:.0}")
    }
}

/// Mean and sample standard deviation.
pub(super) fn mean_sd(values: &[f64]) -> (f64, f64) {
    let n = values.len() as f64;
    let mean = values.iter().sum::<f64>() / n;
    (mean, crate::report::stats::sample_sd(values).unwrap_or(0.0))
}

/// What a legend entry shows before its text.
pub(super) enum Symbol {
    Line { dashed: bool },
    Dot { filled: bool },
}

/// Draws a legend (symbol, colour, text) down a panel of its own.
pub(super) fn draw_legend<DB: DrawingBackend>(area: &Area<DB>, entries: &[(Symbol, RGBColor, String)]) -> Result<()>
where
    DB::ErrorType: 'static,
{
    let err = |e: &dyn std::fmt::Display| anyhow!("drawing a legend: {e}");
    let width = area.dim_in_pixel().0;
    for (k, (symbol, color, text)) in entries.iter().enumerate() {
        let y = 40 + 26 * k as i32;
        let style = color.stroke_width(2);
        match symbol {
            Symbol::Line { dashed: false } => area.draw(&PathElement::new(vec![(12, y), (40, y)], style)),
            Symbol::Line { dashed: true } => area
                .draw(&PathElement::new(vec![(12, y), (21, y)], style))
                .and_then(|_| area.draw(&PathElement::new(vec![(31, y), (40, y)], style))),
            Symbol::Dot { filled } => area.draw(&Circle::new(
                (26, y),
                5,
                ShapeStyle {
                    color: color.to_rgba(),
                    filled: *filled,
                    stroke_width: 2,
                },
            )),
        }
        .map_err(|e| err(&e))?;
        let text = fit(area, text, 14, width.saturating_sub(56));
        let style = TextStyle::from(("sans-serif", 14)).pos(Pos::new(HPos::Left, VPos::Center));
        area.draw(&Text::new(text, (48, y), style)).map_err(|e| err(&e))?;
    }
    Ok(())
}

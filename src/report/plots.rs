//! Comparison figures (plotters, PNG and SVG) with a bundled font, so they render on
//! headless machines without fonts.

use super::runs::RunInfo;
use anyhow::{anyhow, Result};
use plotters::coord::Shift;
use plotters::prelude::*;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// DejaVu Sans (Bitstream Vera licence, see assets/DejaVuSans.LICENSE).
static FONT: &[u8] = include_bytes!("../../assets/DejaVuSans.ttf");

fn register_font() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let _ = plotters::style::register_font("sans-serif", FontStyle::Normal, FONT);
    });
}

/// Line colours (matplotlib's "tab10", which stays readable in print).
const COLOURS: [RGBColor; 8] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(23, 190, 207),
];

/// A line (or marked line) of a figure.
struct Line {
    label: String,
    points: Vec<(f64, f64)>,
    color: usize,
    dashed: bool,
    markers: bool,
}

/// What one figure shows.
struct Figure {
    title: String,
    x_label: &'static str,
    lines: Vec<Line>,
}

/// Draws every figure the runs support into `dir`; returns the files written.
pub fn write_all(runs: &[RunInfo], dir: &Path) -> Result<Vec<PathBuf>> {
    register_font();
    std::fs::create_dir_all(dir)?;
    let mut groups: BTreeMap<(String, String), Vec<&RunInfo>> = BTreeMap::new();
    for run in runs.iter().filter(|r| !r.history.is_empty()) {
        groups
            .entry((run.record.experiment.clone(), run.record.config.model.to_string()))
            .or_default()
            .push(run);
    }
    let mut written = Vec::new();
    for ((experiment, model), group) in &groups {
        let mut figures = vec![(
            format!("{experiment}-{model}-accuracy"),
            curves(experiment, model, group),
        )];
        if let Some(figure) = dropout_figure(experiment, model, group) {
            figures.push((format!("{experiment}-{model}-dropout"), figure));
        }
        for (stem, figure) in figures {
            let stem = file_stem(&stem);
            let png = dir.join(format!("{stem}.png"));
            let svg = dir.join(format!("{stem}.svg"));
            // The PNG encoder writes to a path: draw beside the target, then rename.
            let tmp = dir.join(format!(".{stem}.tmp{}.png", std::process::id()));
            draw(BitMapBackend::new(&tmp, (1000, 620)).into_drawing_area(), &figure)?;
            std::fs::rename(&tmp, &png).map_err(|e| anyhow!("{}: cannot replace: {e}", png.display()))?;
            let mut text = String::new();
            draw(
                SVGBackend::with_string(&mut text, (1000, 620)).into_drawing_area(),
                &figure,
            )?;
            crate::store::write_atomic(&svg, text.as_bytes())?;
            written.extend([png, svg]);
        }
    }
    Ok(written)
}

/// A file name from names read in run folders: only letters, digits, `-`, `_` and `.`
/// (others become `_`), never starting with a dot, so it stays inside the plots folder.
fn file_stem(name: &str) -> String {
    let mut stem: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "-_.".contains(c) {
                c
            } else {
                '_'
            }
        })
        .take(150)
        .collect();
    if stem.starts_with('.') || stem.is_empty() {
        stem.insert(0, '_');
    }
    stem
}

/// The settings (other than the seed) that differ between runs of a group, as a label.
fn label(run: &RunInfo, group: &[&RunInfo]) -> String {
    let settings = |r: &RunInfo| -> [String; 5] {
        let c = &r.record.config;
        [
            c.activation.to_string(),
            format!("dropout {}", c.dropout),
            format!("batch {}", c.batch_size),
            format!("lr {}", c.lr),
            format!("wd {}", c.weight_decay),
        ]
    };
    let mine = settings(run);
    let first = settings(group[0]);
    let varying: Vec<String> = (0..mine.len())
        .filter(|&k| group.iter().any(|r| settings(r)[k] != first[k]))
        .map(|k| mine[k].clone())
        .collect();
    if varying.is_empty() {
        run.record.config.activation.to_string()
    } else {
        varying.join(", ")
    }
}

/// Train and test accuracy per epoch, one colour per setting (mean over seeds).
fn curves(experiment: &str, model: &str, group: &[&RunInfo]) -> Figure {
    let mut by_label: BTreeMap<String, Vec<&RunInfo>> = BTreeMap::new();
    for run in group {
        by_label.entry(label(run, group)).or_default().push(run);
    }
    let mut lines = Vec::new();
    for (color, (name, runs)) in by_label.iter().enumerate() {
        let epochs = runs.iter().map(|r| r.history.len()).min().unwrap_or(0);
        let mean = |f: fn(&crate::store::EpochMetrics) -> f64| -> Vec<(f64, f64)> {
            (0..epochs)
                .map(|e| {
                    let v = runs.iter().map(|r| f(&r.history[e])).sum::<f64>() / runs.len() as f64;
                    ((e + 1) as f64, 100.0 * v)
                })
                .collect()
        };
        lines.push(Line {
            label: format!("{name} test"),
            points: mean(|m| m.test_acc),
            color,
            dashed: false,
            markers: false,
        });
        lines.push(Line {
            label: format!("{name} train"),
            points: mean(|m| m.train_acc),
            color,
            dashed: true,
            markers: false,
        });
    }
    Figure {
        title: format!("{experiment}: {model} accuracy per epoch"),
        x_label: "epoch",
        lines,
    }
}

/// Highest test, final test and final train accuracy against dropout (mean over runs at
/// each rate), when the group covers at least two rates.
fn dropout_figure(experiment: &str, model: &str, group: &[&RunInfo]) -> Option<Figure> {
    let mut by_rate: Vec<(f64, Vec<crate::store::RunSummary>)> = Vec::new();
    for run in group {
        let Some(summary) = run.summary() else { continue };
        let rate = run.record.config.dropout;
        match by_rate.iter_mut().find(|(r, _)| *r == rate) {
            Some((_, summaries)) => summaries.push(summary),
            None => by_rate.push((rate, vec![summary])),
        }
    }
    by_rate.sort_by(|a, b| a.0.total_cmp(&b.0));
    if by_rate.len() < 2 {
        return None;
    }
    type Metric = fn(&crate::store::RunSummary) -> f64;
    let series: [(&str, Metric); 3] = [
        ("highest test", |s| s.best_test_acc),
        ("final test", |s| s.final_test_acc),
        ("final train", |s| s.final_train_acc),
    ];
    let lines = series
        .iter()
        .enumerate()
        .map(|(color, (name, metric))| Line {
            label: name.to_string(),
            points: by_rate
                .iter()
                .map(|(rate, s)| (*rate, 100.0 * s.iter().map(metric).sum::<f64>() / s.len() as f64))
                .collect(),
            color,
            dashed: false,
            markers: true,
        })
        .collect();
    Some(Figure {
        title: format!("{experiment}: {model} accuracy vs dropout"),
        x_label: "dropout",
        lines,
    })
}

fn draw<DB: DrawingBackend>(root: DrawingArea<DB, Shift>, figure: &Figure) -> Result<()>
where
    DB::ErrorType: 'static,
{
    let err = |e: &dyn std::fmt::Display| anyhow!("drawing '{}': {e}", figure.title);
    root.fill(&WHITE).map_err(|e| err(&e))?;
    let points = figure.lines.iter().flat_map(|l| l.points.iter());
    let (x_min, x_max) = points
        .clone()
        .fold((f64::MAX, f64::MIN), |(a, b), p| (a.min(p.0), b.max(p.0)));
    let y_min = points.fold(100.0f64, |a, p| a.min(p.1));
    let x_pad = if x_max > x_min { 0.0 } else { 1.0 };
    let y_low = ((y_min - 5.0) / 10.0).floor().max(0.0) * 10.0;
    let mut chart = ChartBuilder::on(&root)
        .caption(&figure.title, ("sans-serif", 26))
        .margin(16)
        .x_label_area_size(48)
        .y_label_area_size(60)
        .build_cartesian_2d((x_min - x_pad)..(x_max + x_pad), y_low..100.5)
        .map_err(|e| err(&e))?;
    let integer_x = figure.x_label == "epoch";
    chart
        .configure_mesh()
        .x_label_formatter(&|x| {
            if integer_x {
                format!("{x:.0}")
            } else {
                format!("{x:.2}")
            }
        })
        .x_labels(if integer_x {
            ((x_max - x_min) as usize + 1).min(12)
        } else {
            10
        })
        .x_desc(figure.x_label)
        .y_desc("accuracy (%)")
        .label_style(("sans-serif", 16))
        .axis_desc_style(("sans-serif", 18))
        .draw()
        .map_err(|e| err(&e))?;
    for line in &figure.lines {
        let color = COLOURS[line.color % COLOURS.len()];
        let style = color.stroke_width(2);
        let dashed = line.dashed;
        let series = if line.dashed {
            chart.draw_series(DashedLineSeries::new(line.points.clone(), 6, 4, style))
        } else {
            chart.draw_series(LineSeries::new(line.points.clone(), style))
        }
        .map_err(|e| err(&e))?;
        series.label(&line.label).legend(move |(x, y)| {
            let segments: Vec<(i32, i32)> = if dashed {
                vec![(x, y), (x + 7, y)]
            } else {
                vec![(x, y), (x + 20, y)]
            };
            EmptyElement::at((0, 0))
                + PathElement::new(segments.clone(), style)
                + PathElement::new(
                    if dashed {
                        vec![(x + 13, y), (x + 20, y)]
                    } else {
                        segments
                    },
                    style,
                )
        });
        if line.markers {
            chart
                .draw_series(line.points.iter().map(|p| Circle::new(*p, 4, color.filled())))
                .map_err(|e| err(&e))?;
        }
    }
    chart
        .configure_series_labels()
        .label_font(("sans-serif", 15))
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .position(SeriesLabelPosition::LowerRight)
        .draw()
        .map_err(|e| err(&e))?;
    root.present().map_err(|e| err(&e))?;
    Ok(())
}

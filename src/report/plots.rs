//! Comparison figures (plotters, PNG and SVG) with a bundled font, so they render on
//! headless machines without fonts.

use super::findings;
use super::runs::RunInfo;
use super::stats::{Comparison, Verdict};

/// The most rows a differences figure draws (60 px each): beyond it the figure would grow
/// with the square of a study's configurations.
const MOST_DIFFERENCES: usize = 40;
use anyhow::{anyhow, Context, Result};
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

/// A line (or marked line) of a figure, with an optional spread per point (low, high):
/// drawn as a band around a plain line, as error bars on a marked one.
struct Line {
    label: String,
    points: Vec<(f64, f64)>,
    spread: Vec<(f64, f64)>,
    color: usize,
    dashed: bool,
    markers: bool,
}

/// (x, y) points, or (low, high) spreads.
type Points = Vec<(f64, f64)>;

/// Mean and sample standard deviation.
fn mean_sd(values: &[f64]) -> (f64, f64) {
    let n = values.len() as f64;
    let mean = values.iter().sum::<f64>() / n;
    let sd = if values.len() > 1 {
        (values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0)).sqrt()
    } else {
        0.0
    };
    (mean, sd)
}

/// What one figure shows.
struct Figure {
    title: String,
    x_label: &'static str,
    lines: Vec<Line>,
}

/// One figure to draw: curves or bars ([`Figure`]), or a study's pairwise differences.
enum Plot<'a> {
    Figure(Figure),
    Differences(&'a findings::Study<'a>),
}

impl Plot<'_> {
    fn size(&self) -> (u32, u32) {
        match self {
            Plot::Figure(_) => (1000, 620),
            Plot::Differences(study) => (1000, 140 + 60 * study.comparisons.len().min(MOST_DIFFERENCES) as u32),
        }
    }

    fn draw<DB: DrawingBackend>(&self, root: DrawingArea<DB, Shift>) -> Result<()>
    where
        DB::ErrorType: 'static,
    {
        match self {
            Plot::Figure(figure) => draw(root, figure),
            Plot::Differences(study) => draw_differences(root, study),
        }
    }

    /// The figure as PNG bytes, drawn and encoded in memory.
    fn png(&self) -> Result<Vec<u8>> {
        let (width, height) = self.size();
        let mut rgb = vec![0u8; width as usize * height as usize * 3];
        self.draw(BitMapBackend::with_buffer(&mut rgb, (width, height)).into_drawing_area())?;
        let image = image::RgbImage::from_raw(width, height, rgb).context("figure buffer of the wrong size")?;
        let mut png = std::io::Cursor::new(Vec::new());
        image
            .write_to(&mut png, image::ImageOutputFormat::Png)
            .context("cannot encode the figure as PNG")?;
        Ok(png.into_inner())
    }

    fn svg(&self) -> Result<String> {
        let mut text = String::new();
        self.draw(SVGBackend::with_string(&mut text, self.size()).into_drawing_area())?;
        Ok(text)
    }
}

/// Every figure the runs support, with its file stem: pairwise differences per study,
/// accuracy curves per experiment and model, the dropout figure per experiment.
fn plots<'a>(runs: &'a [RunInfo], studies: &'a [findings::Study<'a>]) -> Vec<(String, Plot<'a>)> {
    let mut groups: BTreeMap<(String, String), Vec<&RunInfo>> = BTreeMap::new();
    for run in runs.iter().filter(|r| !r.history.is_empty()) {
        groups
            .entry((run.record.experiment.clone(), run.record.config.model.to_string()))
            .or_default()
            .push(run);
    }
    let mut plots: Vec<(String, Plot)> = studies
        .iter()
        .filter(|s| !s.comparisons.is_empty())
        .map(|study| {
            (
                format!("{}-{}-differences", study.experiment, study.model),
                Plot::Differences(study),
            )
        })
        .collect();
    for ((experiment, model), group) in &groups {
        plots.push((
            format!("{experiment}-{model}-accuracy"),
            Plot::Figure(curves(experiment, model, group)),
        ));
    }
    let mut experiments: Vec<&str> = groups.keys().map(|(e, _)| e.as_str()).collect();
    experiments.dedup();
    for experiment in experiments {
        let of: Vec<(&str, &[&RunInfo])> = groups
            .iter()
            .filter(|((e, _), _)| e == experiment)
            .map(|((_, m), g)| (m.as_str(), g.as_slice()))
            .collect();
        if let Some(figure) = dropout_figure(experiment, &of) {
            plots.push((format!("{experiment}-dropout"), Plot::Figure(figure)));
        }
    }
    plots.into_iter().map(|(stem, plot)| (file_stem(&stem), plot)).collect()
}

/// Draws every figure the runs support into `dir` as PNG and SVG; returns the files written.
pub fn write_all(runs: &[RunInfo], studies: &[findings::Study], dir: &Path) -> Result<Vec<PathBuf>> {
    register_font();
    std::fs::create_dir_all(dir)?;
    let mut written = Vec::new();
    for (stem, plot) in plots(runs, studies) {
        let (png, svg) = (dir.join(format!("{stem}.png")), dir.join(format!("{stem}.svg")));
        crate::store::write_atomic(&png, &plot.png()?)?;
        crate::store::write_atomic(&svg, plot.svg()?.as_bytes())?;
        written.extend([png, svg]);
    }
    Ok(written)
}

/// Every figure the runs support as (name, SVG text), for pages that embed them.
pub fn svgs(runs: &[RunInfo], studies: &[findings::Study]) -> Result<Vec<(String, String)>> {
    register_font();
    plots(runs, studies)
        .into_iter()
        .map(|(stem, plot)| Ok((stem, plot.svg()?)))
        .collect()
}

/// Each pairwise difference of a study with its 95% interval, a line at 0, and whether
/// one of the pair is better.
fn draw_differences<DB: DrawingBackend>(root: DrawingArea<DB, Shift>, study: &findings::Study) -> Result<()>
where
    DB::ErrorType: 'static,
{
    let shown = study.comparisons.len().min(MOST_DIFFERENCES);
    let title = if shown < study.comparisons.len() {
        format!(
            "{}: {} differences (A − B), the {shown} largest of {}",
            study.experiment,
            study.model,
            study.comparisons.len()
        )
    } else {
        format!("{}: {} pairwise differences (A − B)", study.experiment, study.model)
    };
    let err = |e: &dyn std::fmt::Display| anyhow!("drawing '{title}': {e}");
    root.fill(&WHITE).map_err(|e| err(&e))?;
    // The largest differences first when not all fit; the others are in findings.json.
    let mut order: Vec<&(usize, usize, Comparison)> = study.comparisons.iter().collect();
    if shown < order.len() {
        order.sort_by(|a, b| b.2.difference.abs().total_cmp(&a.2.difference.abs()));
        order.truncate(shown);
    }
    let rows: Vec<(String, f64, f64, f64, bool)> = order
        .into_iter()
        .map(|(i, j, c)| {
            let label = format!("{} − {}", study.configs[*i].label, study.configs[*j].label);
            let (low, high) = c.interval.unwrap_or((c.difference, c.difference));
            (
                label,
                100.0 * c.difference,
                100.0 * low,
                100.0 * high,
                matches!(c.verdict(), Verdict::ABetter | Verdict::BBetter),
            )
        })
        .collect();
    let reach = rows.iter().map(|r| r.2.abs().max(r.3.abs())).fold(1.0f64, f64::max) * 1.15;
    let n = rows.len();
    let mut chart = ChartBuilder::on(&root)
        .caption(&title, ("sans-serif", 24))
        .margin(16)
        .x_label_area_size(48)
        .y_label_area_size(330)
        .build_cartesian_2d(-reach..reach, -0.5..(n as f64 - 0.5))
        .map_err(|e| err(&e))?;
    let labels: Vec<String> = rows.iter().map(|r| r.0.clone()).collect();
    chart
        .configure_mesh()
        .y_labels(n)
        .y_label_formatter(&|y| {
            let i = y.round();
            if (y - i).abs() < 1e-6 && i >= 0.0 && (i as usize) < labels.len() {
                labels[n - 1 - i as usize].clone()
            } else {
                String::new()
            }
        })
        .x_desc("difference in test accuracy (points), 95% interval; red: one is better")
        .label_style(("sans-serif", 15))
        .axis_desc_style(("sans-serif", 16))
        .draw()
        .map_err(|e| err(&e))?;
    chart
        .draw_series(LineSeries::new(
            [(0.0, -0.5), (0.0, n as f64 - 0.5)],
            BLACK.stroke_width(1),
        ))
        .map_err(|e| err(&e))?;
    for (k, (_, d, low, high, distinguishable)) in rows.iter().enumerate() {
        let y = (n - 1 - k) as f64;
        let color = if *distinguishable { COLOURS[3] } else { COLOURS[0] };
        chart
            .draw_series([
                PathElement::new(vec![(*low, y), (*high, y)], color.stroke_width(3)),
                PathElement::new(vec![(*low, y - 0.12), (*low, y + 0.12)], color.stroke_width(2)),
                PathElement::new(vec![(*high, y - 0.12), (*high, y + 0.12)], color.stroke_width(2)),
            ])
            .map_err(|e| err(&e))?;
        chart
            .draw_series([Circle::new((*d, y), 6, color.filled())])
            .map_err(|e| err(&e))?;
    }
    root.present().map_err(|e| err(&e))?;
    Ok(())
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

/// Train and test accuracy per epoch, one colour per setting: the mean over seeds, and
/// for test accuracy a band of ± one standard deviation over seeds.
fn curves(experiment: &str, model: &str, group: &[&RunInfo]) -> Figure {
    let mut by_label: BTreeMap<String, Vec<&RunInfo>> = BTreeMap::new();
    for run in group {
        by_label.entry(label(run, group)).or_default().push(run);
    }
    let mut lines = Vec::new();
    for (color, (name, runs)) in by_label.iter().enumerate() {
        let epochs = runs.iter().map(|r| r.history.len()).min().unwrap_or(0);
        let series = |f: fn(&crate::store::EpochMetrics) -> f64| -> (Points, Points) {
            (0..epochs)
                .map(|e| {
                    let values: Vec<f64> = runs.iter().map(|r| 100.0 * f(&r.history[e])).collect();
                    let (mean, sd) = mean_sd(&values);
                    (((e + 1) as f64, mean), (mean - sd, mean + sd))
                })
                .unzip()
        };
        let (test, spread) = series(|m| m.test_acc);
        let seeds = if runs.len() > 1 {
            format!(" (± sd, {} seeds)", runs.len())
        } else {
            String::new()
        };
        lines.push(Line {
            label: format!("{name} test{seeds}"),
            points: test,
            spread: if runs.len() > 1 { spread } else { Vec::new() },
            color,
            dashed: false,
            markers: false,
        });
        lines.push(Line {
            label: format!("{name} train"),
            points: series(|m| m.train_acc).0,
            spread: Vec::new(),
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

/// Final test and final train accuracy against dropout for every model of an experiment
/// (mean over seeds, error bars ± one standard deviation), when it covers two or more
/// rates: the report compares both networks.
fn dropout_figure(experiment: &str, models: &[(&str, &[&RunInfo])]) -> Option<Figure> {
    let mut lines = Vec::new();
    for (m, (model, group)) in models.iter().enumerate() {
        let mut by_rate: Vec<(f64, Vec<crate::store::RunSummary>)> = Vec::new();
        for run in group.iter() {
            let Some(summary) = run.summary() else { continue };
            let rate = run.record.config.dropout;
            match by_rate.iter_mut().find(|(r, _)| *r == rate) {
                Some((_, summaries)) => summaries.push(summary),
                None => by_rate.push((rate, vec![summary])),
            }
        }
        by_rate.sort_by(|a, b| a.0.total_cmp(&b.0));
        if by_rate.len() < 2 {
            continue;
        }
        type Metric = fn(&crate::store::RunSummary) -> f64;
        let series: [(&str, Metric, bool); 2] = [
            ("final test", |s| s.final_test_acc, false),
            ("final train", |s| s.final_train_acc, true),
        ];
        for (name, metric, dashed) in series {
            let (points, spread) = by_rate
                .iter()
                .map(|(rate, s)| {
                    let values: Vec<f64> = s.iter().map(|x| 100.0 * metric(x)).collect();
                    let (mean, sd) = mean_sd(&values);
                    ((*rate, mean), (mean - sd, mean + sd))
                })
                .unzip();
            lines.push(Line {
                label: format!("{model} {name}"),
                points,
                spread,
                color: m,
                dashed,
                markers: true,
            });
        }
    }
    (!lines.is_empty()).then(|| Figure {
        title: format!("{experiment}: accuracy vs dropout (mean ± sd over seeds)"),
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
    let lowest_spread = figure
        .lines
        .iter()
        .flat_map(|l| l.spread.iter())
        .fold(100.0f64, |a, s| a.min(s.0));
    let y_min = points.fold(100.0f64, |a, p| a.min(p.1)).min(lowest_spread);
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
    for line in figure.lines.iter().filter(|l| !l.spread.is_empty()) {
        let color = COLOURS[line.color % COLOURS.len()];
        if line.markers {
            let bars = line.points.iter().zip(&line.spread).map(|(p, (low, high))| {
                ErrorBar::new_vertical(p.0, low.max(y_low), p.1, high.min(100.5), color.stroke_width(2), 10)
            });
            chart.draw_series(bars).map_err(|e| err(&e))?;
        } else {
            let upper = line.points.iter().zip(&line.spread).map(|(p, s)| (p.0, s.1.min(100.5)));
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

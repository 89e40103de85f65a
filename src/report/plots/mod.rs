//! Comparison figures (plotters, PNG and SVG) with a bundled font, so they render on
//! headless machines without fonts. Text stays out of the plotting areas: legends have a
//! panel of their own, labels are shortened to fit, and each SVG marks its plotting areas
//! (`<rect class="plot-area">`) so that a browser test can check it.

mod search;
mod style;

use super::findings;
use super::stats::{Comparison, Verdict};
use crate::store::read::Run;
use crate::store::{EpochMetrics, RunState, RunSummary};
use anyhow::{anyhow, Context, Result};
use plotters::prelude::*;
use search::{draw_search, search_figure, Search};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use style::{
    area_of, draw_legend, fit, fitted, link_points, percent_tick, Area, Points, Rect, Symbol, COLOURS, GREY,
    LEGEND_WIDTH, MOST_COLOURED, RED, WIDTH,
};

/// The most rows a differences figure draws (60 px each): beyond it the figure would grow
/// with the square of a study's configurations.
const MOST_DIFFERENCES: usize = 40;
/// DejaVu Sans (Bitstream Vera licence, see assets/DejaVuSans.LICENSE).
static FONT: &[u8] = include_bytes!("../../../assets/DejaVuSans.ttf");

fn register_font() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let _ = plotters::style::register_font("sans-serif", FontStyle::Normal, FONT);
    });
}

/// A line (or marked line) of a figure, with an optional spread per point (low, high):
/// drawn as a band around a plain line, as error bars on a marked one.
struct Line {
    /// The legend entry for this line's colour; `None` when another line carries it.
    legend: Option<String>,
    points: Points,
    spread: Points,
    color: RGBColor,
    thin: bool,
    dashed: bool,
    markers: bool,
    /// Where the points stand for configurations: each point's first run, which the page
    /// links the point to; empty otherwise.
    runs: Vec<String>,
}

/// What one figure of lines shows; `styles` explain the line styles (solid, dashed).
struct Figure {
    title: String,
    x_label: &'static str,
    lines: Vec<Line>,
    styles: [&'static str; 2],
}

impl Figure {
    /// The run of each circle the figure draws, in [`draw`]'s order — first the error bars'
    /// centres of the marked lines with a spread, then every marked line's markers, line by
    /// line — where every marked line's points stand for configurations; `None` otherwise.
    fn drawn_runs(&self) -> Option<Vec<&str>> {
        let marked: Vec<&Line> = self.lines.iter().filter(|l| l.markers).collect();
        let linked = !marked.is_empty() && marked.iter().all(|l| l.runs.len() == l.points.len());
        linked.then(|| {
            let bars = marked.iter().filter(|l| !l.spread.is_empty());
            bars.chain(marked.iter())
                .flat_map(|l| l.runs.iter().map(String::as_str))
                .collect()
        })
    }
}

/// One figure to draw.
enum Plot<'a> {
    Figure(Figure),
    Differences(&'a findings::Study<'a>),
    Search(Search),
}

impl Plot<'_> {
    fn size(&self) -> (u32, u32) {
        match self {
            Plot::Figure(_) => (WIDTH, 620),
            Plot::Differences(study) => (WIDTH, 140 + 60 * study.comparisons.len().min(MOST_DIFFERENCES) as u32),
            Plot::Search(search) => (WIDTH, 70 + 320 * search.panels.len().div_ceil(2) as u32),
        }
    }

    /// Draws the figure; returns its plotting areas.
    fn draw<DB: DrawingBackend>(&self, root: Area<DB>) -> Result<Vec<Rect>>
    where
        DB::ErrorType: 'static,
    {
        match self {
            Plot::Figure(figure) => draw(root, figure),
            Plot::Differences(study) => draw_differences(root, study),
            Plot::Search(search) => draw_search(root, search),
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

    /// The figure as SVG text, its plotting areas marked by invisible `plot-area` rects and
    /// a search's points linked to their runs.
    fn svg(&self) -> Result<String> {
        let mut text = String::new();
        let areas = self.draw(SVGBackend::with_string(&mut text, self.size()).into_drawing_area())?;
        let marks: String = areas
            .iter()
            .map(|(l, t, r, b)| {
                format!(
                    "<rect class=\"plot-area\" x=\"{l}\" y=\"{t}\" width=\"{}\" height=\"{}\" fill=\"none\" stroke=\"none\"/>\n",
                    r - l,
                    b - t
                )
            })
            .collect();
        let end = text.rfind("</svg>").context("plotters wrote no </svg>")?;
        text.insert_str(end, &marks);
        match self {
            Plot::Search(search) => Ok(link_points(&text, &search.drawn_runs())),
            Plot::Figure(figure) => Ok(match figure.drawn_runs() {
                Some(runs) => link_points(&text, &runs),
                None => text,
            }),
            Plot::Differences(_) => Ok(text),
        }
    }
}

/// Every figure the runs support, with its file stem: pairwise differences per study,
/// accuracy curves per experiment and model, the dropout figure per experiment, and a
/// figure per search.
fn plots<'a>(runs: &'a [Run], studies: &'a [findings::Study<'a>]) -> Vec<(String, Plot<'a>)> {
    // Where a folder holds several studies (declarations), each draws its own figures: a
    // run goes with the study of its configuration ("experiment (d2)").
    let part_of: BTreeMap<(&str, String), &str> = studies
        .iter()
        .filter_map(|s| Some((s, s.part.as_ref()?.tag.as_str())))
        .flat_map(|(s, tag)| {
            s.configs
                .iter()
                .map(move |c| ((s.experiment.as_str(), c.key.clone()), tag))
        })
        .collect();
    let mut groups: BTreeMap<(String, String), Vec<&Run>> = BTreeMap::new();
    for run in runs.iter().filter(|r| !r.history.is_empty()) {
        let experiment = match part_of.get(&(run.record.experiment.as_str(), run.record.configuration())) {
            Some(tag) => format!("{} ({tag})", run.record.experiment),
            None => run.record.experiment.clone(),
        };
        groups
            .entry((experiment, run.record.config.model.to_string()))
            .or_default()
            .push(run);
    }
    let mut plots: Vec<(String, Plot)> = studies
        .iter()
        .filter(|s| !s.comparisons.is_empty())
        .map(|study| (format!("{}-differences", study.stem()), Plot::Differences(study)))
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
        let of: Vec<(&str, &[&Run])> = groups
            .iter()
            .filter(|((e, _), _)| e == experiment)
            .map(|((_, m), g)| (m.as_str(), g.as_slice()))
            .collect();
        if let Some(figure) = dropout_figure(experiment, &of) {
            plots.push((format!("{experiment}-dropout"), Plot::Figure(figure)));
        }
    }
    for table in findings::subject_tables(studies) {
        plots.push((
            format!("{}-subjects", table.experiment),
            Plot::Figure(subjects_figure(&table)),
        ));
    }
    let (declared, _) = crate::store::read::declarations(runs);
    for (folder, declaration) in declared.iter().filter(|(_, d)| d.is_search) {
        let of: Vec<&Run> = runs
            .iter()
            .filter(|r| r.dir.parent() == Some(folder.as_path()) && !r.history.is_empty())
            .collect();
        if let Some(search) = search_figure(&of, declaration.chosen.as_deref()) {
            plots.push((search_figure_stem(&of[0].record.experiment), Plot::Search(search)));
        }
    }
    plots.into_iter().map(|(stem, plot)| (file_stem(&stem), plot)).collect()
}

/// The file stem of experiment `name`'s search figure.
pub fn search_figure_stem(name: &str) -> String {
    file_stem(&format!("{name}-search"))
}

/// Draws every figure the runs support into `dir` as PNG and SVG; returns the files written.
pub fn write_all(runs: &[Run], studies: &[findings::Study], dir: &Path) -> Result<Vec<PathBuf>> {
    register_font();
    crate::atomic_write::own_folder(dir)?;
    std::fs::create_dir_all(dir)?;
    let mut written = Vec::new();
    for (stem, plot) in plots(runs, studies) {
        let (png, svg) = (dir.join(format!("{stem}.png")), dir.join(format!("{stem}.svg")));
        crate::atomic_write::write_atomic(&png, &plot.png()?)?;
        crate::atomic_write::write_atomic(&svg, plot.svg()?.as_bytes())?;
        written.extend([png, svg]);
    }
    Ok(written)
}

/// Every figure the runs support as (name, SVG text), for pages that embed them.
pub fn svgs(runs: &[Run], studies: &[findings::Study]) -> Result<Vec<(String, String)>> {
    register_font();
    plots(runs, studies)
        .into_iter()
        .map(|(stem, plot)| Ok((stem, plot.svg()?)))
        .collect()
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

/// Mean and sample standard deviation.
fn mean_sd(values: &[f64]) -> (f64, f64) {
    let n = values.len() as f64;
    let mean = values.iter().sum::<f64>() / n;
    (mean, super::stats::sample_sd(values).unwrap_or(0.0))
}

/// Train and test accuracy per epoch, one line per configuration: the mean over its done
/// runs (or, when none is done, over its runs as far as all of them went), and for test
/// accuracy a band of ± one sd over seeds. The [`MOST_COLOURED`] configurations trained
/// furthest, best first by last test accuracy, get a colour; the rest are thin and grey.
/// A line of one epoch is a dot.
fn curves(experiment: &str, model: &str, group: &[&Run]) -> Figure {
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

/// Final test and final train accuracy against dropout for every model of an experiment
/// whose done runs differ in dropout (two or more rates) and in nothing else but the seed:
/// mean over seeds, error bars ± one sd.
fn dropout_figure(experiment: &str, models: &[(&str, &[&Run])]) -> Option<Figure> {
    let mut lines = Vec::new();
    for (m, (model, group)) in models.iter().enumerate().take(MOST_COLOURED) {
        let done: Vec<&Run> = group
            .iter()
            .copied()
            .filter(|r| r.run_state == RunState::Done)
            .collect();
        if done.is_empty() || findings::varying(&done) != ["dropout"] {
            continue;
        }
        // Per rate: its runs' summaries and its first run (the point links to it).
        let mut by_rate: BTreeMap<String, (f64, Vec<RunSummary>, String)> = BTreeMap::new();
        for run in &done {
            let Some(summary) = run.summary() else { continue };
            let rate = run.record.config.dropout;
            by_rate
                .entry(format!("{rate:e}"))
                .or_insert((rate, Vec::new(), run.id.clone()))
                .1
                .push(summary);
        }
        let mut by_rate: Vec<(f64, Vec<RunSummary>, String)> = by_rate.into_values().collect();
        by_rate.sort_by(|a, b| a.0.total_cmp(&b.0));
        type Metric = fn(&RunSummary) -> f64;
        let series: [(Metric, bool); 2] = [(|s| s.final_test_acc, false), (|s| s.final_train_acc, true)];
        for (metric, dashed) in series {
            let (points, spread) = by_rate
                .iter()
                .map(|(rate, s, _)| {
                    let values: Vec<f64> = s.iter().map(|x| 100.0 * metric(x)).collect();
                    let (mean, sd) = mean_sd(&values);
                    ((*rate, mean), (mean - sd, mean + sd))
                })
                .unzip();
            lines.push(Line {
                legend: (!dashed).then(|| model.to_string()),
                points,
                spread,
                color: COLOURS[m],
                thin: false,
                dashed,
                markers: true,
                runs: by_rate.iter().map(|(_, _, first)| first.clone()).collect(),
            });
        }
    }
    (!lines.is_empty()).then(|| Figure {
        title: format!("{experiment}: accuracy against dropout (mean ± sd over seeds)"),
        x_label: "dropout",
        lines,
        styles: ["final test accuracy", "final train accuracy"],
    })
}

/// Each subject's accuracy (mean over seeds) per configuration, one thin grey line per
/// subject joining its points across the configurations (numbered along x, named in the
/// legend), the mean over subjects in colour and the mean chance level dashed.
fn subjects_figure(table: &findings::SubjectTable) -> Figure {
    let units = table.accuracies();
    let at = |j: usize| j as f64;
    let mut lines: Vec<Line> = units
        .iter()
        .map(|(_, _, cells)| Line {
            legend: None,
            points: cells
                .iter()
                .enumerate()
                .filter_map(|(j, a)| Some((at(j), 100.0 * (*a)?)))
                .collect(),
            spread: Vec::new(),
            color: GREY,
            thin: true,
            dashed: false,
            markers: true,
            runs: Vec::new(),
        })
        .collect();
    let mean: Points = (0..table.columns.len())
        .filter_map(|j| {
            let values: Vec<f64> = units.iter().filter_map(|u| u.2[j]).collect();
            (!values.is_empty()).then(|| (at(j), 100.0 * values.iter().sum::<f64>() / values.len() as f64))
        })
        .collect();
    let chance = 100.0 * units.iter().map(|u| u.1).sum::<f64>() / units.len().max(1) as f64;
    let last = at(table.columns.len().saturating_sub(1));
    lines.push(Line {
        legend: Some("mean over subjects".into()),
        points: mean,
        spread: Vec::new(),
        color: COLOURS[0],
        thin: false,
        dashed: false,
        markers: true,
        runs: Vec::new(),
    });
    lines.push(Line {
        legend: Some(format!("mean chance level {chance:.1}%")),
        points: vec![(0.0, chance), (last, chance)],
        spread: Vec::new(),
        color: RED,
        thin: false,
        dashed: true,
        markers: false,
        runs: Vec::new(),
    });
    // The configurations' names, as legend entries of their own.
    lines.extend(table.columns.iter().enumerate().map(|(j, name)| Line {
        legend: Some(format!("{j}: {name}")),
        points: Vec::new(),
        spread: Vec::new(),
        color: BLACK,
        thin: true,
        dashed: false,
        markers: false,
        runs: Vec::new(),
    }));
    Figure {
        title: format!(
            "{}: accuracy per subject (mean over seeds), paired across configurations",
            table.experiment
        ),
        x_label: "configuration (numbered in the legend)",
        lines,
        styles: ["a subject (grey), the mean (colour)", "chance level"],
    }
}

/// Each pairwise difference of a study with its 95% interval, a line at 0, and whether
/// one of the pair is better.
fn draw_differences<DB: DrawingBackend>(root: Area<DB>, study: &findings::Study) -> Result<Vec<Rect>>
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
    let body = root
        .titled(&fit(&root, &title, 24, WIDTH - 32), ("sans-serif", 24))
        .map_err(|e| err(&e))?;
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
                fit(&root, &label, 15, 420),
                100.0 * c.difference,
                100.0 * low,
                100.0 * high,
                matches!(c.verdict(), Verdict::ABetter | Verdict::BBetter),
            )
        })
        .collect();
    let style: TextStyle = ("sans-serif", 15).into();
    let label_width = rows
        .iter()
        .filter_map(|r| root.estimate_text_size(&r.0, &style).ok())
        .map(|(w, _)| w)
        .max()
        .unwrap_or(0);
    let reach = rows.iter().map(|r| r.2.abs().max(r.3.abs())).fold(1.0f64, f64::max) * 1.15;
    let n = rows.len();
    let mut chart = ChartBuilder::on(&body)
        .margin(16)
        .x_label_area_size(48)
        .y_label_area_size(label_width + 24)
        .build_cartesian_2d(-reach..reach, -0.5..(n as f64 - 0.5))
        .map_err(|e| err(&e))?;
    let labels: Vec<String> = rows.iter().map(|r| crate::escape::visible(&r.0)).collect();
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
        .x_label_formatter(&|x| findings::significant(*x, 3))
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
        let color = if *distinguishable { RED } else { COLOURS[0] };
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
    Ok(vec![area_of(&chart)])
}

fn draw<DB: DrawingBackend>(root: Area<DB>, figure: &Figure) -> Result<Vec<Rect>>
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
    let integer_x = figure.x_label == "epoch" || figure.x_label.starts_with("configuration");
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
        .x_desc(figure.x_label)
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
    // Grey lines first, so that coloured ones stay on top.
    let mut order: Vec<&Line> = figure.lines.iter().collect();
    order.sort_by_key(|l| !l.thin);
    for line in order {
        let style = line.color.stroke_width(if line.thin { 1 } else { 2 });
        if line.dashed {
            chart.draw_series(DashedLineSeries::new(line.points.clone(), 6, 4, style))
        } else {
            chart.draw_series(LineSeries::new(line.points.clone(), style))
        }
        .map_err(|e| err(&e))?;
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_y_range_fits_the_data() {
        // Data between 64% and 77% is not squashed into a fixed 40–100% axis.
        let (low, high) = fitted([64.0, 77.0, 70.5].into_iter());
        assert!(
            (60.0..64.0).contains(&low) && (77.0..81.0).contains(&high),
            "{low}..{high}"
        );
        // Never beyond 0–100, at least 4 points tall, and a default without data.
        assert_eq!(fitted([99.5, 100.0].into_iter()).1, 100.0);
        let (low, high) = fitted([0.0].into_iter());
        assert_eq!((low, high), (0.0, 4.0));
        assert_eq!(fitted(std::iter::empty()), (0.0, 100.0));
    }

    #[test]
    fn long_text_is_shortened_to_fit() {
        register_font();
        let mut svg = String::new();
        let area = SVGBackend::with_string(&mut svg, (400, 100)).into_drawing_area();
        let long = "leaky_relu, dropout 0.366, lr 0.000123, weight_decay 0.0001 − elu, dropout 0.5";
        let short = fit(&area, long, 15, 200);
        assert!(short.ends_with('…') && short.chars().count() < long.chars().count());
        let style: TextStyle = ("sans-serif", 15).into();
        assert!(area.estimate_text_size(&short, &style).unwrap().0 <= 200);
        assert_eq!(fit(&area, "relu", 15, 200), "relu");
    }
}

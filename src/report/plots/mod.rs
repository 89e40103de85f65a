//! Comparison figures (plotters, PNG and SVG) with a bundled font, so they render on
//! headless machines without fonts. Text stays out of the plotting areas: legends have a
//! panel of their own, labels are shortened to fit, and each SVG marks its plotting areas
//! (`<rect class="plot-area">`) so that a browser test can check it.

mod curves;
mod lines;
mod search;
mod style;
mod svg;

use super::findings;
use super::stats::{Comparison, Verdict};
use crate::store::read::Run;
use crate::store::{RunState, RunSummary};
use anyhow::{anyhow, Context, Result};
use curves::curves;
use lines::{draw, Figure, Line};
use plotters::prelude::*;
use search::{draw_search, search_figure, Search};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use style::{area_of, fit, mean_sd, Area, Points, Rect, COLOURS, GREY, MOST_COLOURED, RED, WIDTH};
use svg::{link_points, Stroke};

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

    /// Draws the figure; returns its plotting areas. A figure of lines leaves its lines to
    /// `strokes` where given.
    fn draw<DB: DrawingBackend>(&self, root: Area<DB>, strokes: Option<&mut Vec<Stroke>>) -> Result<Vec<Rect>>
    where
        DB::ErrorType: 'static,
    {
        match self {
            Plot::Figure(figure) => draw(root, figure, strokes),
            Plot::Differences(study) => draw_differences(root, study),
            Plot::Search(search) => draw_search(root, search),
        }
    }

    /// The figure as PNG bytes, drawn and encoded in memory.
    fn png(&self) -> Result<Vec<u8>> {
        let (width, height) = self.size();
        let mut rgb = vec![0u8; width as usize * height as usize * 3];
        self.draw(
            BitMapBackend::with_buffer(&mut rgb, (width, height)).into_drawing_area(),
            None,
        )?;
        let image = image::RgbImage::from_raw(width, height, rgb).context("figure buffer of the wrong size")?;
        let mut png = std::io::Cursor::new(Vec::new());
        image
            .write_to(&mut png, image::ImageOutputFormat::Png)
            .context("cannot encode the figure as PNG")?;
        Ok(png.into_inner())
    }

    /// The figure as SVG text: its lines written as [`Stroke`]s, its plotting areas marked
    /// by invisible `plot-area` rects, and its points and lines that stand for runs or
    /// configurations linked to them.
    fn svg(&self) -> Result<String> {
        let mut text = String::new();
        let mut strokes = Vec::new();
        let areas = self.draw(
            SVGBackend::with_string(&mut text, self.size()).into_drawing_area(),
            Some(&mut strokes),
        )?;
        let lines = strokes.iter().map(Stroke::svg);
        let marks: String = lines.chain(areas
            .iter()
            .map(|(l, t, r, b)| {
                format!(
                    "<rect class=\"plot-area\" x=\"{l}\" y=\"{t}\" width=\"{}\" height=\"{}\" fill=\"none\" stroke=\"none\"/>\n",
                    r - l,
                    b - t
                )
            }))
            .collect();
        let end = text.rfind("</svg>").context("plotters wrote no </svg>")?;
        text.insert_str(end, &marks);
        match self {
            Plot::Search(search) => Ok(link_points(&text, &search.drawn_runs())),
            Plot::Figure(figure) => Ok(link_points(&text, &figure.drawn_runs())),
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
                link: None,
            });
        }
    }
    (!lines.is_empty()).then(|| Figure {
        title: format!("{experiment}: accuracy against dropout (mean ± sd over seeds)"),
        x_label: "dropout".into(),
        lines,
        styles: ["final test accuracy", "final train accuracy"],
    })
}

/// Each subject's accuracy (mean over seeds) per configuration, one thin grey line per
/// subject joining its points across the configurations (numbered along x, named in the
/// legend; each point linked to the subject's first run of the configuration), the mean
/// over subjects in colour and the mean chance level dashed.
fn subjects_figure(table: &findings::SubjectTable) -> Figure {
    let units = table.accuracies();
    let at = |j: usize| j as f64;
    let mut lines: Vec<Line> = units
        .iter()
        .map(|(_, _, cells)| {
            let cells: Vec<(f64, f64, &str)> = cells
                .iter()
                .enumerate()
                .filter_map(|(j, a)| a.map(|(a, run)| (at(j), 100.0 * a, run)))
                .collect();
            Line {
                legend: None,
                points: cells.iter().map(|&(x, y, _)| (x, y)).collect(),
                spread: Vec::new(),
                color: GREY,
                thin: true,
                dashed: false,
                markers: true,
                runs: cells.iter().map(|&(_, _, run)| run.to_string()).collect(),
                link: None,
            }
        })
        .collect();
    let mean: Points = (0..table.columns.len())
        .filter_map(|j| {
            let values: Vec<f64> = units.iter().filter_map(|u| Some(u.2[j]?.0)).collect();
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
        link: None,
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
        link: None,
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
        link: None,
    }));
    Figure {
        title: format!(
            "{}: accuracy per subject (mean over seeds), paired across configurations",
            table.experiment
        ),
        x_label: "configuration (numbered in the legend)".into(),
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

#[cfg(test)]
mod tests {
    use super::*;
    use style::fitted;

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

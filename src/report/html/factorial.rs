//! The page's "Main effects" section of a grid study: each setting's level means with their
//! intervals and verdicts, a heatmap table of each two-way mean, the decided interactions,
//! and the best configuration with its ties.

use super::tables::{linked, table_captioned, verdict};
use crate::escape::html as escape;
use crate::report::findings::{ComparisonFindings, Factorial, Study};
use crate::report::stats::Verdict;
use std::fmt::Write;

/// Interaction contrasts and ties listed before the rest are only counted.
const LISTED: usize = 10;

/// The section for every study with factorial findings.
pub(super) fn main_effects(out: &mut String, studies: &[Study]) {
    for s in studies {
        let Some(f) = &s.findings.factorial else { continue };
        let _ = writeln!(
            out,
            "<h2 id=\"main-effects-{}\">Main effects: {} {}{}</h2>\n<p>{}</p>",
            escape(&s.stem()),
            escape(&s.experiment),
            escape(&s.findings.model),
            escape(&s.part_suffix()),
            escape(&f.method)
        );
        levels(out, f);
        for i in &f.interactions {
            heatmap(out, i);
        }
        best(out, f, &s.findings.configurations);
    }
}

/// Per setting: its levels' means, then each adjacent pair's verdict with its interval.
fn levels(out: &mut String, f: &Factorial) {
    for m in &f.main_effects {
        let header: Vec<String> = std::iter::once(m.setting.to_string())
            .chain(m.levels.iter().map(|l| l.level.clone()))
            .collect();
        let means = std::iter::once("mean (%)".to_string())
            .chain(m.levels.iter().map(|l| format!("{:.2}", l.mean)))
            .collect();
        let intervals = std::iter::once("interval".to_string())
            .chain(m.levels.iter().map(|l| {
                l.interval
                    .map_or_else(|| "-".into(), |(low, high)| format!("{low:.2} to {high:.2}"))
            }))
            .collect();
        out.push_str("<div class=\"scroll\">");
        table_captioned(
            out,
            Some(&format!("{}: mean over the other settings and seeds", m.setting)),
            &header,
            &[means, intervals],
        );
        out.push_str("</div>\n<ul>\n");
        for c in &m.contrasts {
            let (class, word) = verdict(c);
            let _ = writeln!(
                out,
                "<li><span class=\"verdict {class}\">{}</span>: {}</li>",
                escape(&word),
                escape(&c.sentence)
            );
        }
        out.push_str("</ul>\n");
    }
}

/// A two-way table of means, each cell shaded by its mean (lighter is lower), and the
/// decided interaction contrasts.
fn heatmap(out: &mut String, i: &crate::report::findings::Interaction) {
    let all: Vec<f64> = i.means.iter().flatten().flatten().copied().collect();
    let (low, high) = all
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| (a.min(*v), b.max(*v)));
    let _ = writeln!(
        out,
        "<div class=\"scroll\"><table class=\"heatmap\">\n<caption>{} (rows) × {} (columns): mean accuracy (%), darker is higher ({low:.2} to {high:.2})</caption>",
        escape(i.settings[0]),
        escape(i.settings[1])
    );
    out.push_str("<tr><th></th>");
    for c in &i.columns {
        let _ = write!(out, "<th>{}</th>", escape(c));
    }
    out.push_str("</tr>\n");
    for (row, means) in i.rows.iter().zip(&i.means) {
        let _ = write!(out, "<tr><th>{}</th>", escape(row));
        for mean in means {
            match mean {
                Some(m) => {
                    let share = if high > low { (m - low) / (high - low) } else { 0.5 };
                    let light = (95.0 - 45.0 * share).round();
                    let ink = if light < 65.0 { "#fff" } else { "#222" };
                    let _ = write!(
                        out,
                        "<td style=\"background: hsl(220 60% {light}%); color: {ink}\">{m:.2}</td>"
                    );
                }
                None => out.push_str("<td>-</td>"),
            }
        }
        out.push_str("</tr>\n");
    }
    out.push_str("</table></div>\n");
    let decided: Vec<&ComparisonFindings> = i.contrasts.iter().filter(|c| c.verdict != Verdict::Undecided).collect();
    let _ = writeln!(
        out,
        "<p>{}, {} decided{}</p>",
        crate::plural::count(i.contrasts.len(), "interaction contrast", "interaction contrasts"),
        decided.len(),
        if decided.len() > LISTED {
            format!(" (the first {LISTED} below; all in findings.json)")
        } else {
            String::new()
        }
    );
    if !decided.is_empty() {
        out.push_str("<ul>\n");
        for c in decided.iter().take(LISTED) {
            let _ = writeln!(out, "<li>{}</li>", escape(&c.sentence));
        }
        out.push_str("</ul>\n");
    }
}

/// The best and its ties, as a sentence and a table.
fn best(out: &mut String, f: &Factorial, configurations: &[crate::report::findings::ConfigFindings]) {
    let Some(b) = &f.best else { return };
    let _ = writeln!(out, "<p id=\"best\"><strong>{}</strong></p>", escape(&b.sentence));
    let validated = b.ties.iter().any(|t| t.validation.is_some());
    let caption = match b.ties.len() > LISTED + 1 {
        true => format!(
            "the best and its ties: the first {} of {} (all in findings.json)",
            LISTED + 1,
            b.ties.len()
        ),
        false => "the best and its ties".to_string(),
    };
    let _ = writeln!(
        out,
        "<div class=\"scroll\"><table>\n<caption>{}; each configuration links to its first run</caption>\n<tr><th>configuration</th><th>test accuracy (%)</th>{}</tr>",
        escape(&caption),
        if validated { "<th>validation accuracy (%)</th>" } else { "" }
    );
    for t in b.ties.iter().take(LISTED + 1) {
        let first = configurations
            .iter()
            .find(|c| c.label == t.label)
            .and_then(|c| c.runs.first());
        let validation = t.validation.map_or_else(String::new, |v| format!("<td>{v:.2}</td>"));
        let _ = writeln!(
            out,
            "<tr><td>{}</td><td>{:.2}</td>{validation}</tr>",
            linked(&t.label, first),
            t.test
        );
    }
    out.push_str("</table></div>\n");
}

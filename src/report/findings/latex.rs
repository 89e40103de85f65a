//! The findings as LaTeX (`summarize --format latex`): the tables in the lab's layout, each
//! grid's main effects, and each study's comparisons (its top configurations above
//! [`LARGE_STUDY`]), as `table` environments with `tabular`s a paper can take as they are.

use super::lab_tables::lab_tables;
use super::model::{Study, LARGE_STUDY};
use super::sentences::p_text;
use super::text::TOP;
use crate::report::stats::Verdict;
use std::fmt::Write;

/// `text` safe in LaTeX's text mode: its special characters escaped, the symbols the
/// findings use written as math.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\\' => out.push_str("\\textbackslash{}"),
            '&' | '%' | '$' | '#' | '_' | '{' | '}' => {
                out.push('\\');
                out.push(c);
            }
            '~' => out.push_str("\\textasciitilde{}"),
            '^' => out.push_str("\\textasciicircum{}"),
            '±' => out.push_str("$\\pm$"),
            '×' => out.push_str("$\\times$"),
            '→' => out.push_str("$\\to$"),
            '−' => out.push_str("$-$"),
            '≈' => out.push_str("$\\approx$"),
            'α' => out.push_str("$\\alpha$"),
            '…' => out.push_str("\\ldots{}"),
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}

/// One `table` with a caption and a `tabular` of these rows (first column left-aligned).
pub fn table(caption: &str, header: &[String], rows: &[Vec<String>]) -> String {
    let mut out = String::new();
    let columns = format!("l{}", "r".repeat(header.len().saturating_sub(1)));
    let line = |cells: &[String]| cells.iter().map(|c| escape(c)).collect::<Vec<_>>().join(" & ");
    let _ = writeln!(
        out,
        "\\begin{{table}}[ht]\n\\centering\n\\caption{{{}}}",
        escape(caption)
    );
    let _ = writeln!(
        out,
        "\\begin{{tabular}}{{{columns}}}\n\\hline\n{} \\\\\n\\hline",
        line(header)
    );
    for row in rows {
        let _ = writeln!(out, "{} \\\\", line(row));
    }
    out.push_str("\\hline\n\\end{tabular}\n\\end{table}\n");
    out
}

/// Every table of the studies' findings, in LaTeX.
pub fn latex(studies: &[Study]) -> String {
    let mut out = String::new();
    for t in lab_tables(studies) {
        out.push_str(&table(&t.caption, &t.header, &t.rows));
    }
    for s in studies {
        let Some(f) = &s.findings.factorial else { continue };
        for m in &f.main_effects {
            let header = ["level", "configurations", "mean (%)", "interval (%)"].map(String::from);
            let rows: Vec<Vec<String>> = m
                .levels
                .iter()
                .map(|l| {
                    vec![
                        l.level.clone(),
                        l.configurations.to_string(),
                        format!("{:.2}", l.mean),
                        l.interval
                            .map_or_else(|| "-".into(), |(low, high)| format!("{low:.2} to {high:.2}")),
                    ]
                })
                .collect();
            let caption = format!(
                "{} {}{}: main effect of {} ({}; mean over the other settings and seeds)",
                s.experiment,
                s.model,
                s.part_suffix(),
                m.setting,
                s.findings.accuracy
            );
            out.push_str(&table(&caption, &header, &rows));
            out.push_str(&comparisons_table(
                &format!(
                    "{} {}: adjacent levels of {} (Holm over the {} main-effect and interaction contrasts)",
                    s.experiment, s.model, m.setting, f.family_size
                ),
                &m.contrasts,
            ));
        }
    }
    for s in studies.iter().filter(|s| !s.comparisons.is_empty()) {
        let f = &s.findings;
        if s.configs.len() > LARGE_STUDY {
            let rows: Vec<Vec<String>> = f
                .top(TOP)
                .iter()
                .enumerate()
                .map(|(rank, c)| {
                    vec![
                        (rank + 1).to_string(),
                        c.label.clone(),
                        format!("{:.2}", c.mean_accuracy.unwrap_or(f64::NAN)),
                        c.seeds.len().to_string(),
                    ]
                })
                .collect();
            let header = ["rank", "configuration", "mean (%)", "seeds"].map(String::from);
            let caption = format!(
                "{} {}{}: the {TOP} highest means of {} configurations ({})",
                s.experiment,
                s.model,
                s.part_suffix(),
                s.configs.len(),
                f.accuracy
            );
            out.push_str(&table(&caption, &header, &rows));
            continue;
        }
        let caption = format!("{} {}{}: {}", s.experiment, s.model, s.part_suffix(), s.family_text());
        out.push_str(&comparisons_table(&caption, &f.comparisons));
    }
    out
}

/// A table of comparisons: A, B, verdict, A − B with its interval, and Holm's p-values.
fn comparisons_table(caption: &str, comparisons: &[super::model::ComparisonFindings]) -> String {
    let header = [
        "A",
        "B",
        "verdict",
        "A − B (points)",
        "interval",
        "p (Holm)",
        "equivalence p (Holm)",
    ]
    .map(String::from);
    let rows: Vec<Vec<String>> = comparisons
        .iter()
        .map(|c| {
            let st = &c.statistics;
            let verdict = match c.verdict {
                Verdict::ABetter => format!("{} better", c.a),
                Verdict::BBetter => format!("{} better", c.b),
                Verdict::Equivalent => "equivalent".into(),
                Verdict::Undecided => "undecided".into(),
            };
            vec![
                c.a.clone(),
                c.b.clone(),
                verdict,
                format!("{:+.2}", 100.0 * st.difference),
                st.interval.map_or_else(
                    || "-".into(),
                    |(l, h)| format!("{:+.2} to {:+.2}", 100.0 * l, 100.0 * h),
                ),
                p_text(st.p_adjusted),
                p_text(st.p_equivalent_adjusted),
            ]
        })
        .collect();
    table(caption, &header, &rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn special_characters_are_escaped_and_symbols_become_math() {
        assert_eq!(
            escape("a_b & 50% #1 {x} ~ ^ \\"),
            "a\\_b \\& 50\\% \\#1 \\{x\\} \\textasciitilde{} \\textasciicircum{} \\textbackslash{}"
        );
        assert_eq!(
            escape("71 ± 2 × 3 → 4 − 5 ≈ 6"),
            "71 $\\pm$ 2 $\\times$ 3 $\\to$ 4 $-$ 5 $\\approx$ 6"
        );
        let t = table("c_1", &["x".into(), "y".into()], &[vec!["a".into(), "1".into()]]);
        assert!(
            t.contains("\\caption{c\\_1}") && t.contains("\\begin{tabular}{lr}") && t.contains("a & 1 \\\\"),
            "{t}"
        );
    }
}

//! The findings as LaTeX (`summarize --format latex`): the tables in the lab's layout, each
//! grid's main effects, and each study's comparisons (its top configurations above
//! [`LARGE_STUDY`]), as `table` environments with `tabular`s a paper can take as they are.

use super::lab_tables::lab_tables;
use super::model::{Study, LARGE_STUDY};
use super::sentences::p_text;
use super::text::TOP;
use std::fmt::Write;

/// `text` safe in LaTeX's text mode (pdfLaTeX's default UTF-8 input): its special
/// characters escaped, the symbols the findings use and a minus before a number written as
/// math, and any other character beyond Latin-1 (which pdfLaTeX cannot set without
/// packages) written as its code point, `[U+4E2D]`.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut previous = ' ';
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        let number_follows = chars.peek().is_some_and(|n| n.is_ascii_digit() || *n == '.');
        match c {
            '\\' => out.push_str("\\textbackslash{}"),
            '&' | '%' | '$' | '#' | '_' | '{' | '}' => {
                out.push('\\');
                out.push(c);
            }
            '~' => out.push_str("\\textasciitilde{}"),
            '^' => out.push_str("\\textasciicircum{}"),
            '<' => out.push_str("\\textless{}"),
            '>' => out.push_str("\\textgreater{}"),
            '|' => out.push_str("\\textbar{}"),
            '-' if number_follows && " (".contains(previous) => out.push_str("$-$"),
            '±' => out.push_str("$\\pm$"),
            '×' => out.push_str("$\\times$"),
            '→' => out.push_str("$\\to$"),
            '−' => out.push_str("$-$"),
            '≈' => out.push_str("$\\approx$"),
            '≤' => out.push_str("$\\le$"),
            '≥' => out.push_str("$\\ge$"),
            'α' => out.push_str("$\\alpha$"),
            'σ' => out.push_str("$\\sigma$"),
            'Δ' => out.push_str("$\\Delta$"),
            '·' => out.push_str("$\\cdot$"),
            '…' => out.push_str("\\ldots{}"),
            '–' => out.push_str("--"),
            '—' => out.push_str("---"),
            c if c.is_control() => {}
            c if (c as u32) < 0xA0 || ('\u{C0}'..='\u{FF}').contains(&c) => out.push(c),
            c => out.push_str(&format!("[U+{:04X}]", c as u32)),
        }
        previous = c;
    }
    out
}

/// The most rows one `table` holds (it must fit a page); a longer table continues in
/// further tables, each caption saying which rows it holds.
const MOST_ROWS: usize = 35;

/// Shrinks its argument to the text width where it is wider, else sets it as it is
/// (`graphicx`'s `\resizebox`); defined before each table so that any table pasted alone
/// compiles.
const FIT: &str = "\\providecommand{\\eegrunfit}[1]{{\\sbox0{#1}\\ifdim\\wd0>\\linewidth\\resizebox{\\linewidth}{!}{\\usebox0}\\else\\usebox0\\fi}}";

/// A `table` with a caption and a `tabular` of these rows (first column left-aligned),
/// shrunk to the text width where wider; past [`MOST_ROWS`] rows, one table per
/// [`MOST_ROWS`]. Needs `\usepackage{graphicx}`.
pub fn table(caption: &str, header: &[String], rows: &[Vec<String>]) -> String {
    let mut out = String::new();
    let columns = format!("l{}", "r".repeat(header.len().saturating_sub(1)));
    let line = |cells: &[String]| cells.iter().map(|c| escape(c)).collect::<Vec<_>>().join(" & ");
    let parts = rows.len().div_ceil(MOST_ROWS).max(1);
    for (k, part) in rows
        .chunks(MOST_ROWS)
        .chain(rows.is_empty().then_some(rows))
        .enumerate()
    {
        let caption = match parts {
            1 => escape(caption),
            _ => format!(
                "{} (rows {}--{} of {})",
                escape(caption),
                k * MOST_ROWS + 1,
                k * MOST_ROWS + part.len(),
                rows.len()
            ),
        };
        let _ = writeln!(out, "{FIT}\n\\begin{{table}}[ht]\n\\centering\n\\caption{{{caption}}}");
        let _ = writeln!(
            out,
            "\\eegrunfit{{\\begin{{tabular}}{{{columns}}}\n\\hline\n{} \\\\\n\\hline",
            line(header)
        );
        for row in part {
            let _ = writeln!(out, "{} \\\\", line(row));
        }
        out.push_str("\\hline\n\\end{tabular}}\n\\end{table}\n");
    }
    out
}

/// The columns of `header` whose cell is the same in every row of `rows` (two rows or
/// more) left out, and said after `caption` as "name value".
pub fn without_constant_columns(
    caption: &str,
    header: &[String],
    rows: &[Vec<String>],
) -> (String, Vec<String>, Vec<Vec<String>>) {
    let constant = |j: usize| rows.len() > 1 && rows.iter().all(|r| r.get(j) == rows[0].get(j));
    let kept: Vec<usize> = (0..header.len()).filter(|&j| !constant(j)).collect();
    let said: Vec<String> = (0..header.len())
        .filter(|&j| constant(j))
        .map(|j| format!("{} {}", header[j], rows[0][j]))
        .collect();
    let caption = match said.is_empty() {
        true => caption.to_string(),
        false => format!("{caption}; every row: {}", said.join(", ")),
    };
    let pick = |cells: &[String]| kept.iter().map(|&j| cells[j].clone()).collect::<Vec<_>>();
    (caption, pick(header), rows.iter().map(|r| pick(r)).collect())
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
            vec![
                c.a.clone(),
                c.b.clone(),
                c.verdict_word(),
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
        // A minus before a number is math; a hyphen in a word stays; what pdfLaTeX cannot set
        // without packages is its code point.
        assert_eq!(
            escape("-6.25 to -0.5 (-1) leaky-relu 1e-4 ≤ <b> 中"),
            "$-$6.25 to $-$0.5 ($-$1) leaky-relu 1e-4 $\\le$ \\textless{}b\\textgreater{} [U+4E2D]"
        );
        let t = table("c_1", &["x".into(), "y".into()], &[vec!["a".into(), "1".into()]]);
        assert!(
            t.contains("\\caption{c\\_1}") && t.contains("\\begin{tabular}{lr}") && t.contains("a & 1 \\\\"),
            "{t}"
        );
    }

    #[test]
    fn a_long_table_continues_in_tables_that_fit_a_page_and_constant_columns_go_to_the_caption() {
        let header: Vec<String> = ["model", "lr", "acc"].map(String::from).to_vec();
        let rows: Vec<Vec<String>> = (0..80)
            .map(|i| vec!["eegnet".into(), format!("{i}"), "50".into()])
            .collect();
        let (caption, header, rows) = without_constant_columns("Means", &header, &rows);
        assert_eq!(caption, "Means; every row: model eegnet, acc 50");
        assert_eq!((header.len(), rows[0].len()), (1, 1));
        let t = table(&caption, &header, &rows);
        assert_eq!(t.matches("\\begin{table}").count(), 3);
        assert!(
            t.contains("(rows 71--80 of 80)") && t.contains("(rows 1--35 of 80)"),
            "{t}"
        );
        assert_eq!(
            t.matches(" \\\\\n").count(),
            80 + 3,
            "every row once, and a header per table"
        );
        // One row: nothing is constant across rows; no rows: one empty table.
        let one = without_constant_columns("c", &header, &rows[..1]);
        assert_eq!(one.1, header);
        assert_eq!(table("c", &header, &[]).matches("\\begin{tabular}").count(), 1);
    }
}

//! The page's tables: a header row of `<th>` cells and rows of `<td>` cells, with an
//! optional caption, and two-column tables of names and values. Every cell is escaped.

use crate::escape::html as escape;
use crate::report::findings::ComparisonFindings;
use crate::report::stats::Verdict;
use std::fmt::Write;

/// A comparison's verdict cell: its class ("better", "equivalent" or "undecided") and words.
pub(super) fn verdict(c: &ComparisonFindings) -> (&'static str, String) {
    let class = match c.verdict {
        Verdict::ABetter | Verdict::BBetter => "better",
        Verdict::Equivalent => "equivalent",
        Verdict::Undecided => "undecided",
    };
    (class, c.verdict_word())
}

pub(super) fn table(out: &mut String, header: &[String], rows: &[Vec<String>]) {
    table_captioned(out, None, header, rows)
}

/// A table with an optional caption; the header row is `<th>` cells.
pub(super) fn table_captioned(out: &mut String, caption: Option<&str>, header: &[String], rows: &[Vec<String>]) {
    out.push_str("<table>\n");
    if let Some(caption) = caption {
        let _ = writeln!(out, "<caption>{}</caption>", escape(caption));
    }
    rows_of(out, header, rows);
    out.push_str("</table>\n");
}

/// A header row of `<th>` cells and rows of `<td>` cells.
pub(super) fn rows_of(out: &mut String, header: &[String], rows: &[Vec<String>]) {
    header_row(out, header);
    for row in rows {
        out.push_str("<tr>");
        for cell in row {
            let _ = write!(out, "<td>{}</td>", escape(cell));
        }
        out.push_str("</tr>\n");
    }
}

/// A header row of `<th>` cells.
pub(super) fn header_row(out: &mut String, header: &[String]) {
    out.push_str("<tr>");
    for cell in header {
        let _ = write!(out, "<th>{}</th>", escape(cell));
    }
    out.push_str("</tr>\n");
}

/// A two-column table of names and values.
pub(super) fn pairs(out: &mut String, rows: &[(&str, String)]) {
    out.push_str("<table>\n");
    for (name, value) in rows {
        let _ = writeln!(out, "<tr><th>{}</th><td>{}</td></tr>", escape(name), escape(value));
    }
    out.push_str("</table>\n");
}

/// `label` as a link to run `id`'s entry on the page (plain text without one).
pub(super) fn linked(label: &str, id: Option<&String>) -> String {
    match id {
        Some(id) => format!("<a href=\"#run-{}\">{}</a>", escape(id), escape(label)),
        None => escape(label),
    }
}

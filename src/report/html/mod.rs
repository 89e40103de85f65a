//! One self-contained HTML page of a study: the tables, findings and comparisons as
//! `summarize` states them, every figure as inline SVG, each run folded away with its
//! details, the runs that need attention, and provenance. No external resources; every
//! value read from a run folder is escaped; one small script sorts the long table, and the
//! page's Content-Security-Policy lets that script alone run (by its hash) and nothing load.
//! The page is well-formed XML (XHTML syntax), so a test can parse it.

mod factorial;
mod figures;
mod rounds;
mod runs;
mod search;
mod tables;

use super::findings;
use super::summary;
use crate::report::dates::utc;
use crate::store::read::Run;
use crate::store::RunState;
use anyhow::Result;
use figures::{download, svg_body};
use runs::{run_details, run_labels, runs_table, MOST_RUN_CURVES};
use sha2::{Digest, Sha256};
use std::fmt::Write;
use tables::{header_row, linked, pairs, table_captioned, verdict};

/// What the page says about how it was made.
pub struct Provenance {
    /// The runs folder and the filters, as the user gave them.
    pub source: String,
    /// When the page was made (seconds since 1970).
    pub made_unix: u64,
}

pub use crate::escape::html as escape;

const STYLE: &str = "
body { font-family: system-ui, sans-serif; max-width: 70rem; margin: 2rem auto; padding: 0 1rem; color: #222; line-height: 1.45; }
h1 { font-size: 1.6rem; } h2 { font-size: 1.25rem; border-bottom: 1px solid #ccc; padding-bottom: .2rem; margin-top: 2.2rem; }
pre { background: #f6f6f6; padding: .7rem; overflow-x: auto; font-size: .82rem; white-space: pre-wrap; }
table { border-collapse: collapse; font-size: .85rem; margin: .5rem 0; }
th, td { border: 1px solid #ccc; padding: .2rem .5rem; text-align: right; overflow-wrap: anywhere; }
.scroll th, .scroll td { overflow-wrap: normal; }
th:first-child, td:first-child { text-align: left; }
caption { text-align: left; font-size: .85rem; color: #555; padding: .2rem 0; }
.scroll { overflow-x: auto; max-width: 100%; }
body, li, p { overflow-wrap: anywhere; }
nav ul { columns: 2; font-size: .9rem; }
.summary { border: 2px solid #446; border-radius: .4rem; padding: .3rem 1rem .6rem; background: #f4f6fb; }
.summary h2 { margin-top: .6rem; border: none; }
.verdict { font-weight: 600; white-space: nowrap; }
.better { color: #064; } .equivalent { color: #035; } .undecided { color: #775; }
.supported { color: #064; } .contradicted { color: #a00; }
.stopped { color: #555; }
th[data-order=\"up\"]::after { content: \" ▲\"; } th[data-order=\"down\"]::after { content: \" ▼\"; }
figure { margin: 1rem 0; page-break-inside: avoid; }
figure svg { max-width: 100%; height: auto; }
figcaption { font-size: .85rem; color: #555; }
details { margin: .3rem 0; } summary { cursor: pointer; font-family: monospace; }
.problem, .problem-link a { color: #a00; }
@media print {
  body { max-width: none; margin: 0; }
  details::details-content { content-visibility: visible; display: block; }
  .scroll { overflow: visible; } table { font-size: .7rem; }
  nav { display: none; }
}
";

/// Sorts a `sortable` table by the column whose heading is clicked (numbers as numbers,
/// again to reverse). Written without `<`, `>` and `&`, so the page stays well-formed XML.
const SORT_SCRIPT: &str = "
document.querySelectorAll('table.sortable th').forEach(function (th) {
  th.title = 'click to sort by this column';
  th.style.cursor = 'pointer';
  th.addEventListener('click', function () {
    var table = th.closest('table');
    var column = Array.prototype.indexOf.call(th.parentNode.children, th);
    var rows = Array.from(table.querySelectorAll('tr')).slice(1);
    var up = th.getAttribute('data-order') !== 'up';
    table.querySelectorAll('th').forEach(function (h) { h.removeAttribute('data-order'); });
    th.setAttribute('data-order', up ? 'up' : 'down');
    function key(row) {
      var text = row.children[column].textContent, number = parseFloat(text);
      return isNaN(number) ? text : number;
    }
    function empty(row) {
      var text = row.children[column].textContent.trim();
      return text === '' || text === '-';
    }
    rows.sort(function (a, b) {
      if (empty(a) || empty(b)) return empty(a) - empty(b);
      var x = key(a), y = key(b);
      var order = typeof x === typeof y ? (typeof x === 'number' ? x - y : x.localeCompare(y)) : (typeof x === 'number' ? -1 : 1);
      return up ? order : -order;
    });
    rows.forEach(function (row) { row.parentNode.appendChild(row); });
  });
});
";

/// The page's Content-Security-Policy: nothing loads, styles are inline, and the one
/// script that runs is [`SORT_SCRIPT`], named by its SHA-256.
fn content_security_policy() -> String {
    use base64::Engine;
    let hash = base64::engine::general_purpose::STANDARD.encode(Sha256::digest(SORT_SCRIPT.as_bytes()));
    format!("default-src 'none'; style-src 'unsafe-inline'; script-src 'sha256-{hash}'; form-action 'none'; base-uri 'none'")
}

/// The long table with its result columns first after the experiment and model (so they
/// show at 1280 px without scrolling), the other settings after them.
fn results_first((header, rows): (Vec<String>, Vec<Vec<String>>)) -> (Vec<String>, Vec<Vec<String>>) {
    let settings = header.iter().position(|h| h == "seeds").unwrap_or(header.len());
    let leading: Vec<usize> = (0..settings)
        .filter(|&i| header[i] == "experiment" || header[i] == "model")
        .collect();
    let order: Vec<usize> = leading
        .iter()
        .copied()
        .chain(settings..header.len())
        .chain((0..settings).filter(|i| !leading.contains(i)))
        .collect();
    let pick = |row: &Vec<String>| order.iter().map(|&i| row[i].clone()).collect::<Vec<String>>();
    (pick(&header), rows.iter().map(pick).collect())
}

/// The first run of the configuration labelled `label` in a study's findings.
fn first_run<'f>(f: &'f findings::StudyFindings, label: &str) -> Option<&'f String> {
    f.configurations
        .iter()
        .find(|c| c.label == label)
        .and_then(|c| c.runs.first())
}

/// The long table's header and rows, each row's `config` cell a link to the
/// configuration's first run (by id) on the page.
fn configuration_rows(out: &mut String, runs: &[Run], header: &[String], rows: &[Vec<String>]) {
    let mut first: std::collections::BTreeMap<String, &String> = Default::default();
    for run in runs {
        let short = crate::store::sha256_hex(run.record.configuration().as_bytes())[..8].to_string();
        first.entry(short).or_insert(&run.id);
    }
    let config = header.iter().position(|h| h == "config");
    header_row(out, header);
    for row in rows {
        out.push_str("<tr>");
        for (i, cell) in row.iter().enumerate() {
            let text = match Some(i) == config {
                true => linked(cell, first.get(cell).copied()),
                false => escape(cell),
            };
            let _ = write!(out, "<td>{text}</td>");
        }
        out.push_str("</tr>\n");
    }
}

/// The page for `runs` (already filtered), with the scan's warnings.
pub fn page(
    runs: &[Run],
    studies: &[findings::Study],
    warnings: &[String],
    group_by: &[String],
    provenance: &Provenance,
) -> Result<String> {
    let mut out = String::new();
    out.push_str("<!DOCTYPE html>\n<html xmlns=\"http://www.w3.org/1999/xhtml\" lang=\"en\">\n<head>\n");
    out.push_str(
        "<meta charset=\"utf-8\"/>\n<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"/>\n",
    );
    writeln!(
        out,
        "<meta http-equiv=\"Content-Security-Policy\" content=\"{}\"/>",
        content_security_policy()
    )?;
    writeln!(out, "<title>eegrun report: {}</title>", escape(&provenance.source))?;
    writeln!(out, "<style>{STYLE}</style>\n</head>\n<body>")?;
    writeln!(out, "<h1>eegrun report: {}</h1>", escape(&provenance.source))?;
    writeln!(out, "<p>{}</p>", escape(&counts(runs)))?;
    summary_box(&mut out, runs, studies)?;
    contents(&mut out, runs, studies, warnings)?;

    lab_tables(&mut out, studies);
    subject_tables(&mut out, studies);
    findings_tables(&mut out, studies)?;
    factorial::main_effects(&mut out, studies);
    let told = findings::rounds_told(runs, &crate::store::read::declarations(runs).0);
    rounds::rounds_sections(&mut out, &told);
    let across = findings::combined_text(studies);
    if !across.is_empty() {
        out.push_str("<h2 id=\"across\">Across data sets</h2>\n");
        for line in across.lines() {
            writeln!(out, "<p>{}</p>", escape(line.trim()))?;
        }
    }
    let mut figures = super::plots::svgs(runs, studies)?;
    search::search_sections(&mut out, runs, &mut figures)?;

    writeln!(
        out,
        "<h2 id=\"long-table\">All configurations (mean ± sd over seeds)</h2>"
    )?;
    let frame = summary::runs_frame(runs)?;
    if frame.height() > 0 {
        let group_by = &summary::shown_group_by(&frame, group_by);
        let (header, rows) = results_first(summary::display_grouped(
            &summary::grouped(&frame, group_by)?,
            group_by,
        )?);
        out.push_str("<div class=\"scroll\">\n<table class=\"sortable\">\n<caption>Means over each configuration's done runs (partial, failed and stopped runs are counted, not averaged); click a heading to sort</caption>\n");
        configuration_rows(&mut out, runs, &header, &rows);
        out.push_str("</table>\n</div>\n");
        for line in summary::chance_lines(runs) {
            writeln!(out, "<p class=\"chance\">{}</p>", escape(line.trim_end()))?;
        }
    } else {
        out.push_str("<p>No finished runs.</p>\n");
    }

    writeln!(out, "<h2 id=\"figures\">Figures</h2>")?;
    for (name, svg) in figures {
        writeln!(
            out,
            "<figure id=\"figure-{0}\">\n{1}\n<figcaption>{0} {2}</figcaption>\n</figure>",
            escape(&name),
            svg_body(&svg),
            download(&name, &svg)
        )?;
    }

    attention(&mut out, runs, warnings)?;
    writeln!(out, "<h2 id=\"runs\">Runs ({})</h2>", runs.len())?;
    let labels = run_labels(runs);
    if runs.len() > MOST_RUN_CURVES {
        writeln!(
            out,
            "<p>Above {MOST_RUN_CURVES} runs each run is one row, to keep the page small: its folder holds its settings, epochs and predictions.</p>"
        )?;
        runs_table(&mut out, runs, &labels);
    } else {
        for run in runs {
            run_details(&mut out, run, labels.get(&run.id).map_or("", String::as_str))?;
        }
    }
    provenance_section(&mut out, runs, provenance)?;
    writeln!(out, "<script>{SORT_SCRIPT}</script>")?;
    out.push_str("</body>\n</html>\n");
    Ok(out)
}

/// "12 runs: 10 done, 1 failed, 1 partial".
fn counts(runs: &[Run]) -> String {
    let mut by_state: Vec<(&str, usize)> = Vec::new();
    for run in runs {
        match by_state.iter_mut().find(|(s, _)| *s == run.state()) {
            Some((_, n)) => *n += 1,
            None => by_state.push((run.state(), 1)),
        }
    }
    let parts: Vec<String> = by_state.iter().map(|(s, n)| format!("{n} {s}")).collect();
    format!("{} runs: {}", runs.len(), parts.join(", "))
}

/// The study in the lab report's layout: one captioned table per metric (nothing when no
/// study has that layout).
fn lab_tables(out: &mut String, studies: &[findings::Study]) {
    let tables = findings::lab_tables(studies);
    if tables.is_empty() {
        return;
    }
    out.push_str("<h2 id=\"tables\">The study in the lab report's layout</h2>\n");
    for t in tables {
        let _ = writeln!(out, "<div class=\"scroll\">");
        table_captioned(out, Some(&t.caption), &t.header, &t.rows);
        out.push_str("</div>\n");
    }
}

/// Results per subject, for studies with a per-subject protocol: each subjects ×
/// configurations table as `summarize` shows it (its figure is among the figures).
fn subject_tables(out: &mut String, studies: &[findings::Study]) {
    let tables = findings::subject_tables(studies);
    if tables.is_empty() {
        return;
    }
    out.push_str("<h2 id=\"subjects\">Results per subject</h2>\n");
    for t in tables {
        let (header, rows) = t.shown();
        let _ = writeln!(out, "<div class=\"scroll\">");
        table_captioned(out, Some(&t.caption), &header, &rows);
        out.push_str("</div>\n");
        for line in t.model_findings() {
            let _ = writeln!(out, "<p>{}</p>", escape(line.trim()));
        }
    }
}

/// Runs that are not done, with their errors, and folders that could not be read.
/// The runs that need a person: neither done nor stopped by a search (a normal end).
fn troubled(runs: &[Run]) -> Vec<&Run> {
    runs.iter()
        .filter(|r| !matches!(r.run_state, RunState::Done | RunState::Stopped { .. }))
        .collect()
}

/// The first screen: each study's headline and the lab report's claims with their
/// verdicts, and how many runs need attention.
fn summary_box(out: &mut String, runs: &[Run], studies: &[findings::Study]) -> Result<()> {
    let compared: Vec<&findings::Study> = studies.iter().filter(|s| s.configs.len() > 1).collect();
    let trouble = troubled(runs).len();
    if compared.is_empty() && trouble == 0 {
        return Ok(());
    }
    writeln!(
        out,
        "<section class=\"summary\">\n<h2 id=\"summary\">Summary</h2>\n<ul>"
    )?;
    for s in &compared {
        writeln!(out, "<li>{}", escape(&s.findings.headline))?;
        if let Some(part) = &s.part {
            writeln!(out, "<span class=\"part\">({})</span>", escape(&part.description))?;
        }
        if !s.findings.claims.is_empty() {
            out.push_str("<ul>\n");
            for claim in &s.findings.claims {
                let class = match claim.verdict {
                    findings::ClaimVerdict::Supported => "supported",
                    findings::ClaimVerdict::Contradicted => "contradicted",
                    findings::ClaimVerdict::Undecided => "undecided",
                };
                writeln!(
                    out,
                    "<li><span class=\"verdict {class}\">{class}</span>: {}</li>",
                    escape(&claim.claim)
                )?;
            }
            out.push_str("</ul>\n");
        }
        out.push_str("</li>\n");
    }
    if trouble > 0 {
        writeln!(
            out,
            "<li class=\"problem-link\"><a href=\"#attention\">{}</a></li>",
            if trouble == 1 {
                "1 run needs attention".to_string()
            } else {
                format!("{trouble} runs need attention")
            }
        )?;
    }
    out.push_str("</ul>\n");
    for t in findings::targets(studies) {
        writeln!(out, "<p>{}</p>", escape(&t))?;
    }
    out.push_str("</section>\n");
    Ok(())
}

/// Links to the page's sections.
fn contents(out: &mut String, runs: &[Run], studies: &[findings::Study], warnings: &[String]) -> Result<()> {
    let mut entries: Vec<(String, String)> = Vec::new();
    if !findings::lab_tables(studies).is_empty() {
        entries.push(("tables".into(), "The study in the lab report's layout".into()));
    }
    if !findings::subject_tables(studies).is_empty() {
        entries.push(("subjects".into(), "Results per subject".into()));
    }
    for s in studies.iter().filter(|s| !s.comparisons.is_empty()) {
        let name = s.stem();
        entries.push((format!("findings-{name}"), format!("Findings: {name}")));
    }
    for s in studies.iter().filter(|s| s.findings.factorial.is_some()) {
        let name = s.stem();
        entries.push((format!("main-effects-{name}"), format!("Main effects: {name}")));
    }
    for s in studies.iter().filter(|s| s.seed_rounds.is_some()) {
        let name = s.stem();
        entries.push((format!("rounds-{name}"), format!("Seed rounds: {name}")));
    }
    let searches: Vec<String> = crate::store::read::declarations(runs)
        .0
        .values()
        .filter_map(|d| Some(d.search.as_ref()?.experiment.clone()))
        .collect();
    entries.extend(
        searches
            .iter()
            .map(|name| (format!("search-{name}"), format!("Search: {name}"))),
    );
    entries.push(("long-table".into(), "All configurations".into()));
    entries.push(("figures".into(), "Figures".into()));
    if !troubled(runs).is_empty() || !warnings.is_empty() {
        entries.push(("attention".into(), "Runs that need attention".into()));
    }
    entries.push(("runs".into(), format!("Runs ({})", runs.len())));
    entries.push(("provenance".into(), "Provenance".into()));
    out.push_str("<nav>\n<ul>\n");
    for (id, title) in entries {
        writeln!(out, "<li><a href=\"#{}\">{}</a></li>", escape(&id), escape(&title))?;
    }
    out.push_str("</ul>\n</nav>\n");
    Ok(())
}

/// One table per study: every comparison with its verdict, difference, interval, p-values
/// and seeds, and the study's claims.
fn findings_tables(out: &mut String, studies: &[findings::Study]) -> Result<()> {
    for s in studies.iter().filter(|s| !s.comparisons.is_empty()) {
        let f = &s.findings;
        writeln!(
            out,
            "<h2 id=\"findings-{}\">Findings: {} {}{}</h2>\n<p>{}</p>",
            escape(&s.stem()),
            escape(&s.experiment),
            escape(&f.model),
            escape(&s.part_suffix()),
            escape(&f.headline)
        )?;
        writeln!(
            out,
            "<p class=\"methods\"><strong>Methods.</strong> {}</p>",
            escape(&f.methods)
        )?;
        if s.configs.len() > findings::LARGE_STUDY {
            writeln!(
                out,
                "<p>{} configurations, {} pairs compared (Holm over {}): every pair is in <code>findings.json</code> and <code>comparisons.csv</code>, which <code>eegrun summarize</code> writes beside the runs. The {} highest means:</p>",
                s.configs.len(),
                f.comparisons.len(),
                f.family_size,
                findings::TOP
            )?;
            writeln!(
                out,
                "<div class=\"scroll\"><table>\n<caption>{}; each configuration links to its first run</caption>\n<tr><th>rank</th><th>configuration</th><th>mean (%)</th><th>seeds</th></tr>",
                escape(f.accuracy)
            )?;
            for (rank, c) in f.top(findings::TOP).iter().enumerate() {
                writeln!(
                    out,
                    "<tr><td>{}</td><td>{}</td><td>{:.2}</td><td>{}</td></tr>",
                    rank + 1,
                    linked(&c.label, c.runs.first()),
                    c.mean_accuracy.unwrap_or(f64::NAN),
                    c.seeds.len()
                )?;
            }
            out.push_str("</table></div>\n");
            continue;
        }
        writeln!(
            out,
            "<div class=\"scroll\"><table>\n<caption>{}; difference A − B in accuracy points; Holm over {} ({}); equivalence margin ±{} points</caption>",
            escape(f.accuracy),
            f.family_size,
            escape(&f.family),
            f.rope_points
        )?;
        out.push_str("<tr><th>A</th><th>B</th><th>verdict</th><th>A − B</th><th>interval</th><th>p (Holm)</th><th>equivalence p (Holm)</th><th>seeds</th></tr>\n");
        for c in &f.comparisons {
            let st = &c.statistics;
            let (class, word) = verdict(c);
            let interval = st
                .interval
                .map(|(low, high)| format!("{:+.2} to {:+.2}", 100.0 * low, 100.0 * high))
                .unwrap_or_else(|| "-".into());
            writeln!(
                out,
                "<tr><td>{}</td><td>{}</td><td><span class=\"verdict {class}\">{}</span></td><td>{:+.2}</td><td>{}</td><td>{} ({})</td><td>{} ({})</td><td>{}</td></tr>",
                linked(&c.a, first_run(f, &c.a)),
                linked(&c.b, first_run(f, &c.b)),
                escape(&word),
                100.0 * st.difference,
                interval,
                escape(&findings::p_text(st.p)),
                escape(&findings::p_text(st.p_adjusted)),
                escape(&findings::p_text(st.p_equivalent)),
                escape(&findings::p_text(st.p_equivalent_adjusted)),
                st.seeds
            )?;
        }
        out.push_str("</table></div>\n");
        if !f.claims.is_empty() {
            out.push_str("<ul>\n");
            for claim in &f.claims {
                writeln!(out, "<li>{}</li>", escape(&claim.sentence))?;
            }
            out.push_str("</ul>\n");
        }
    }
    Ok(())
}

fn attention(out: &mut String, runs: &[Run], warnings: &[String]) -> Result<()> {
    let troubled = troubled(runs);
    if troubled.is_empty() && warnings.is_empty() {
        return Ok(());
    }
    writeln!(out, "<h2 id=\"attention\">Runs that need attention</h2>\n<ul>")?;
    for run in troubled {
        writeln!(
            out,
            "<li class=\"problem\"><a href=\"#run-{}\">{}</a> ({}): {}</li>",
            escape(&run.id),
            escape(&run.id),
            escape(&run.dir.display().to_string()),
            escape(&run.run_state.to_string())
        )?;
    }
    for warning in warnings {
        writeln!(out, "<li class=\"problem\">{}</li>", escape(warning))?;
    }
    out.push_str("</ul>\n");
    Ok(())
}

/// How the page and its runs were made: enough to tell whether two reports compare.
fn provenance_section(out: &mut String, runs: &[Run], provenance: &Provenance) -> Result<()> {
    let distinct = |f: &dyn Fn(&Run) -> String| -> String {
        let mut values: Vec<String> = runs
            .iter()
            .map(|r| f(r).trim().to_string())
            .filter(|v| !v.is_empty())
            .collect();
        values.sort();
        values.dedup();
        if values.is_empty() {
            "not recorded".to_string()
        } else {
            values.join("; ")
        }
    };
    let lock = Sha256::digest(include_bytes!("../../../Cargo.lock"));
    let trained = match (
        runs.iter().filter_map(|r| r.status.started_unix).min(),
        runs.iter().filter_map(|r| r.status.finished_unix).max(),
    ) {
        (Some(first), Some(last)) => format!("{} and {}", utc(first), utc(last)),
        _ => "not recorded".to_string(),
    };
    let rows = [
        ("report made", utc(provenance.made_unix)),
        (
            "by eegrun",
            format!(
                "{} (git {})",
                env!("CARGO_PKG_VERSION"),
                option_env!("EEGRUN_GIT_REVISION").unwrap_or("unknown")
            ),
        ),
        ("Cargo.lock SHA-256", format!("{lock:x}")),
        ("on", format!("{} ({})", crate::machine::host(), crate::machine::cpu())),
        (
            "runs trained by eegrun",
            distinct(&|r| {
                format!(
                    "{} {}",
                    r.status.eegrun_version,
                    r.status.git_revision.clone().unwrap_or_default()
                )
            }),
        ),
        (
            "data",
            distinct(&|r| format!("{} (fingerprint {})", r.record.data, r.record.data_fingerprint)),
        ),
        ("device", distinct(&|r| r.record.config.device.to_string())),
        ("hosts", distinct(&|r| r.status.host.clone())),
        ("CPUs", distinct(&|r| r.status.cpu.clone().unwrap_or_default())),
        (
            "threads per run",
            distinct(&|r| r.status.threads.map(|t| t.to_string()).unwrap_or_default()),
        ),
        ("trained between", trained),
    ];
    writeln!(out, "<h2 id=\"provenance\">Provenance</h2>")?;
    pairs(out, &rows);
    declarations_made(out, runs)
}

/// Each study declaration of the runs' folders: its command line, its time, and the
/// experiment file as it was read.
fn declarations_made(out: &mut String, runs: &[Run]) -> Result<()> {
    let (declared, _) = crate::store::read::declarations(runs);
    let all: Vec<(&std::path::PathBuf, &crate::store::study::StudyFile)> = declared
        .iter()
        .flat_map(|(folder, d)| d.studies.iter().map(move |s| (folder, s)))
        .collect();
    if all.is_empty() {
        return Ok(());
    }
    writeln!(out, "<h3>How the runs were declared (study.json)</h3>\n<ul>")?;
    for (folder, s) in all {
        let when = s.declared_unix.map_or_else(|| "time not recorded".into(), utc);
        let command = s
            .command
            .as_deref()
            .unwrap_or("command not recorded (an earlier eegrun)");
        writeln!(
            out,
            "<li>{}: <code>{}</code>, {} ({} configurations)",
            escape(&folder.display().to_string()),
            escape(command),
            escape(&when),
            s.configurations.len()
        )?;
        if let Some(text) = &s.experiment_file {
            writeln!(
                out,
                "<details><summary>the experiment file</summary><pre>{}</pre></details>",
                escape(text)
            )?;
        }
        out.push_str("</li>\n");
    }
    out.push_str("</ul>\n");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_every_special_character() {
        assert_eq!(
            escape("<a href=\"x\">'&'</a>"),
            "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;"
        );
        // Characters XML forbids and bidi controls become visible code points; every
        // other control character too, tabs and line ends stay.
        assert_eq!(
            escape("a\0b\u{1b}c\u{202e}live\u{2066}\td\n"),
            "a[U+0000]b[U+001B]c[U+202E]live[U+2066]\td\n"
        );
        for c in (0u32..0x20).chain(0x7f..0xa0).filter_map(char::from_u32) {
            let shown = escape(&c.to_string());
            assert!(
                "\t\n\r".contains(c)
                    || (shown.starts_with("[U+") && roxmltree::Document::parse(&format!("<p>{shown}</p>")).is_ok()),
                "{c:?} → {shown:?}"
            );
        }
    }

    #[test]
    fn dates_in_utc() {
        assert_eq!(utc(0), "1970-01-01 00:00 UTC");
        assert_eq!(utc(951_782_400), "2000-02-29 00:00 UTC");
        assert_eq!(utc(1_796_182_800), "2026-12-02 03:40 UTC");
    }
}

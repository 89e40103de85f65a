//! `eegrun report`: one self-contained HTML page of the runs (see `report::html`).

use super::args::ReportArgs;
use crate::report::{html, scan, summary};
use crate::store::{now_unix, write_atomic};
use anyhow::{bail, Result};

pub(super) fn command(args: ReportArgs) -> Result<()> {
    let (runs, warnings) = scan(&args.runs_dir)?;
    warnings.iter().for_each(|w| eprintln!("warning: {w}"));
    let frame = summary::filter(summary::runs_frame(&runs)?, &args.filters)?;
    if frame.height() == 0 {
        bail!(
            "{}: no runs to report{}",
            args.runs_dir.display(),
            if args.filters.is_empty() {
                ""
            } else {
                " (after --filter)"
            }
        );
    }
    let selected = summary::kept_runs(&frame, runs);
    let mut source = args.runs_dir.display().to_string();
    for filter in &args.filters {
        source.push_str(&format!(" --filter {filter}"));
    }
    let provenance = html::Provenance {
        source,
        made_unix: now_unix(),
    };
    let page = html::page(&selected, &warnings, &args.group_by, &provenance)?;
    write_atomic(&args.output, page.as_bytes())?;
    eprintln!(
        "wrote {} ({} runs, {} kB)",
        args.output.display(),
        selected.len(),
        page.len() / 1024
    );
    Ok(())
}

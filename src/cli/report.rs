//! `eegrun report`: one self-contained HTML page of the runs (see `report::html`).

use super::args::ReportArgs;
use crate::atomic_write::write_output;
use crate::report::html;
use crate::store::now_unix;
use anyhow::Result;

pub(super) fn command(args: ReportArgs) -> Result<()> {
    let selection = super::select::select_runs(&args.runs_dir, &args.filters, "report")?;
    let (selected, warnings) = (&selection.kept, &selection.warnings);
    let mut source = args.runs_dir.display().to_string();
    for filter in &args.filters {
        source.push_str(&format!(" --filter {filter}"));
    }
    let provenance = html::Provenance {
        source,
        made_unix: now_unix(),
    };
    let page = html::page(selected, &selection.studies(), warnings, &args.group_by, &provenance)?;
    write_output(&args.output, page.as_bytes())?;
    eprintln!(
        "wrote {} ({} runs, {} kB)",
        args.output.display(),
        selected.len(),
        page.len() / 1024
    );
    Ok(())
}

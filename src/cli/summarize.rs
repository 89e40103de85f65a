//! `eegrun summarize`: the grouped table, summary.csv/.parquet and the plots.

use super::args::SummarizeArgs;
use crate::report::{findings, plots, render_summary, summary, Format};
use crate::store::write_atomic;
use anyhow::Result;

pub(super) fn command(args: SummarizeArgs) -> Result<()> {
    let (selected, mut frame, _) = super::select_runs(&args.runs_dir, &args.filters, "summarise")?;
    print!("{}", render_summary(&selected, &args.group_by, &[], args.format)?);
    let out = args.out.clone().unwrap_or_else(|| args.runs_dir.clone());
    summary::write_files(&mut frame, &out)?;
    let studies = findings::studies(&selected);
    let text = [
        findings::tables(&studies),
        findings::comparisons(&studies),
        findings::findings(&studies),
    ]
    .join("\n");
    if args.format == Format::Table && !text.trim().is_empty() {
        println!("\n{}", text.trim_end());
    }
    write_atomic(&out.join("findings.txt"), text.as_bytes())?;
    let written = if args.no_plots {
        Vec::new()
    } else {
        plots::write_all(&selected, &out.join("plots"))?
    };
    eprintln!(
        "wrote {}, {} and {}{}",
        out.join("summary.csv").display(),
        out.join("findings.txt").display(),
        out.join("summary.parquet").display(),
        if written.is_empty() {
            String::new()
        } else {
            format!(" and {} plots in {}", written.len(), out.join("plots").display())
        }
    );
    Ok(())
}

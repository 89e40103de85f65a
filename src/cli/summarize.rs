//! `eegrun summarize`: the grouped table, summary.csv/.parquet and the plots.

use super::args::SummarizeArgs;
use crate::atomic_write::write_atomic;
use crate::report::{findings, plots, render_summary, summary, Format};
use anyhow::Result;

pub(super) fn command(args: SummarizeArgs) -> Result<()> {
    let mut selection = super::select::select_runs(&args.runs_dir, &args.filters, "summarise")?;
    let selected = &selection.kept;
    print!("{}", render_summary(selected, &args.group_by, &[], args.format)?);
    let out = args.out.clone().unwrap_or_else(|| args.runs_dir.clone());
    summary::write_files(&mut selection.frame, &out)?;
    let studies = selection.studies();
    let text = [
        findings::tables(&studies),
        findings::subjects_text(&studies),
        findings::comparisons(&studies),
        findings::main_effects(&studies),
        findings::combined_text(&studies),
        findings::findings(&studies),
    ]
    .into_iter()
    .filter(|section| !section.is_empty())
    .collect::<Vec<_>>()
    .join("\n");
    if args.format == Format::Table && !text.trim().is_empty() {
        println!("\n{}", text.trim_end());
    }
    if args.format == Format::Latex {
        let tables = findings::latex(&studies);
        if !tables.is_empty() {
            println!("\n{}", tables.trim_end());
        }
    }
    if args.format == Format::Markdown {
        let md = findings::markdown(&studies);
        if !md.trim().is_empty() {
            println!("\n{}", md.trim_end());
        }
    }
    write_atomic(&out.join("findings.txt"), text.as_bytes())?;
    write_atomic(&out.join("findings.json"), &findings::to_json(&studies)?)?;
    write_atomic(
        &out.join("comparisons.csv"),
        findings::comparisons_csv(&studies).as_bytes(),
    )?;
    if !findings::subject_tables(&studies).is_empty() {
        write_atomic(&out.join("subjects.csv"), findings::subjects_csv(&studies).as_bytes())?;
    }
    let written = if args.no_plots {
        Vec::new()
    } else {
        plots::write_all(&selection.kept, &studies, &out.join("plots"))?
    };
    eprintln!(
        "wrote {}, {}, {}, {} and {}{}",
        out.join("summary.csv").display(),
        out.join("findings.txt").display(),
        out.join("comparisons.csv").display(),
        out.join("findings.json").display(),
        out.join("summary.parquet").display(),
        if written.is_empty() {
            String::new()
        } else {
            format!(" and {} plots in {}", written.len(), out.join("plots").display())
        }
    );
    Ok(())
}

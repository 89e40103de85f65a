//! Results: run folders read back into polars tables, comparison plots, and the
//! regression check against a baseline.

pub mod columns;
pub mod dates;
pub mod findings;
pub mod gate;
pub mod grid;
pub mod html;
pub mod plots;
pub mod stats;
pub mod summary;

pub use crate::store::read::{scan, Run};
pub use summary::Format;

use anyhow::Result;

/// The grouped summary of `runs` in `format` (shared by `eegrun run` and `summarize`).
pub fn render_summary(runs: &[Run], group_by: &[String], filters: &[String], format: Format) -> Result<String> {
    let frame = summary::filter(summary::runs_frame(runs)?, filters)?;
    let group_by = &summary::shown_group_by(&frame, group_by);
    let mut grouped = summary::grouped(&frame, group_by)?;
    let chance = summary::chance_lines(runs).join("\n");
    Ok(match format {
        Format::Table => summary::render_text(&summary::display_grouped(&grouped, group_by)?, false) + &chance,
        Format::Markdown => summary::render_text(&summary::display_grouped(&grouped, group_by)?, true) + &chance,
        Format::Latex => {
            let (header, rows) = summary::display_grouped(&grouped, group_by)?;
            let comments: String = chance.lines().map(|l| format!("% {l}\n")).collect();
            let caption = "Mean ± sd over each configuration's done runs (%)";
            let (caption, header, rows) = findings::without_constant_columns(caption, &header, &rows);
            findings::latex_table(&caption, &header, &rows) + &comments
        }
        Format::Csv | Format::Json => summary::render_data(&mut grouped, format)?,
    })
}

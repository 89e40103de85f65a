//! The run folders `summarize` and `report` read: scanned, counted once, filtered, with
//! what their experiment folders declare.

/// The runs under `dir` that `filters` keep, with their one-row-per-run table and the
/// scan's warnings (printed too); an error naming `what` the user asked for when none are left.
pub(super) fn select_runs(dir: &std::path::Path, filters: &[String], what: &str) -> anyhow::Result<Selection> {
    use crate::report::{scan, summary};
    use crate::store::read::{counted_once, declarations};
    let (all, mut warnings) = scan(dir)?;
    let (all, duplicates) = counted_once(all);
    warnings.extend(duplicates);
    let (declared, unreadable) = declarations(&all);
    warnings.extend(unreadable);
    warnings
        .iter()
        .for_each(|w| eprintln!("warning: {}", crate::escape::visible(w)));
    let frame = summary::filter(summary::runs_frame(&all)?, filters)?;
    if frame.height() == 0 {
        let after = if filters.is_empty() { "" } else { " (after --filter)" };
        anyhow::bail!("{}: no runs to {what}{after}", dir.display());
    }
    Ok(Selection {
        kept: summary::kept_runs(&frame, all.clone()),
        all,
        declared,
        frame,
        warnings,
    })
}

/// The runs of a folder, those `--filter` keeps, and what the folders declare.
pub(super) struct Selection {
    /// Every run found: findings are judged on these, so a filter never changes them.
    pub(super) all: Vec<crate::report::Run>,
    /// The runs `--filter` keeps.
    pub(super) kept: Vec<crate::report::Run>,
    pub(super) declared: std::collections::BTreeMap<std::path::PathBuf, crate::store::read::Declaration>,
    pub(super) frame: polars::prelude::DataFrame,
    pub(super) warnings: Vec<String>,
}

impl Selection {
    /// The studies with a run that `--filter` keeps, judged on all their runs.
    pub(super) fn studies(&self) -> Vec<crate::report::findings::Study<'_>> {
        let kept: std::collections::HashSet<&std::path::Path> = self.kept.iter().map(|r| r.dir.as_path()).collect();
        crate::report::findings::studies(&self.all, &self.declared)
            .into_iter()
            .filter(|s| {
                s.configs
                    .iter()
                    .any(|c| c.by_seed.values().any(|r| kept.contains(r.dir.as_path())))
            })
            .collect()
    }
}

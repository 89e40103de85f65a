//! `search.json` in an experiment folder: a search's rungs, decisions and choice as its
//! driver decided them, for people, scripts and the report (read back by
//! [`declarations`](super::read::declarations)).

use crate::atomic_write::write_atomic;
use anyhow::{Context, Result};
use serde::Serialize;
use std::path::Path;

/// The file's name in its experiment folder.
pub const FILE: &str = "search.json";

/// Records the search of `experiment` (replacing the record of its earlier steps).
pub fn write(runs_dir: &Path, experiment: &str, record: &impl Serialize) -> Result<()> {
    let folder = runs_dir.join(experiment);
    std::fs::create_dir_all(&folder).with_context(|| format!("{}: cannot create", folder.display()))?;
    write_atomic(&folder.join(FILE), &serde_json::to_vec_pretty(record)?)
}

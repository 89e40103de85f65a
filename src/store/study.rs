//! `runs/<experiment>/study.json`: what a designed study declared before it trained — its
//! configurations (the family its findings are corrected over, whatever later sits in the
//! folder or survives `--filter`) and its margin of practical equivalence.

use super::configuration_key;
use crate::atomic_write::write_atomic;
use crate::config::{RunSpec, SeedRounds};
use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};
use std::path::Path;

/// The declaration of one study.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StudyFile {
    /// Margin of practical equivalence, as a fraction of accuracy (0.01 = 1 point).
    pub rope: f64,
    /// The data the configurations train on.
    pub data_fingerprint: String,
    /// Every configuration of the study (seed 0 stands for all seeds).
    pub configurations: Vec<RunSpec>,
    /// The level each of its decisions is taken at (α, or α over the looks of seed rounds).
    #[serde(default = "default_alpha")]
    pub alpha: f64,
    /// How seeds are added in rounds, if they are.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seed_rounds: Option<SeedRounds>,
    /// Each test trial's subject, where the data names them: findings group trials by it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub test_subjects: Option<Vec<u32>>,
}

fn default_alpha() -> f64 {
    crate::config::ALPHA
}

impl StudyFile {
    /// The configuration keys declared for `model` on the data `fingerprint`.
    pub fn configuration_keys(&self, model: crate::config::ModelKind, fingerprint: &str) -> Vec<String> {
        if self.data_fingerprint != fingerprint {
            return Vec::new();
        }
        let mut keys: Vec<String> = self
            .configurations
            .iter()
            .filter(|c| c.model == model)
            .map(|c| configuration_key(c, fingerprint))
            .collect();
        keys.sort();
        keys.dedup();
        keys
    }
}

/// The file's path for `experiment` under `runs_dir`.
fn path(runs_dir: &Path, experiment: &str) -> std::path::PathBuf {
    runs_dir.join(experiment).join("study.json")
}

/// Records the declaration (replacing an earlier one of the same experiment).
pub fn write(runs_dir: &Path, experiment: &str, study: &StudyFile) -> Result<()> {
    write_atomic(&path(runs_dir, experiment), &serde_json::to_vec_pretty(study)?)
}

/// The declaration in the experiment folder `dir`, if it has one.
pub fn read(dir: &Path) -> Result<Option<StudyFile>> {
    let path = dir.join("study.json");
    match std::fs::read(&path) {
        Ok(bytes) => serde_json::from_slice(&bytes)
            .map(Some)
            .with_context(|| format!("{}: not a study declaration", path.display())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e).with_context(|| format!("{}: cannot read", path.display())),
    }
}

//! `search.json` in an experiment folder: a search's rungs, decisions and choice as its
//! driver decided them, for people, scripts and the report (read back by
//! [`declarations`](super::read::declarations)).

use crate::atomic_write::write_atomic;
use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};
use std::path::Path;

/// The file's name in its experiment folder.
pub const FILE: &str = "search.json";

/// Records the search of `experiment` (replacing the record of its earlier steps).
pub fn write(runs_dir: &Path, experiment: &str, record: &impl Serialize) -> Result<()> {
    let folder = runs_dir.join(experiment);
    std::fs::create_dir_all(&folder).with_context(|| format!("{}: cannot create", folder.display()))?;
    write_atomic(&folder.join(FILE), &serde_json::to_vec_pretty(record)?)
}

/// The most rounds, rungs, decisions or scored runs a search record may hold: far above a
/// search `--max-runs` allows, far below what would cost memory.
const MOST: usize = 1_000_000;

/// `search.json` read back: what the report tells of a search.
#[derive(Clone, Debug, PartialEq, Deserialize)]
pub struct SearchRecord {
    /// The experiment's name.
    pub experiment: String,
    /// What the search ranks by.
    pub metric: String,
    /// The rungs' epochs.
    #[serde(default)]
    pub rungs: Vec<usize>,
    /// Rounds drawn so far.
    pub rounds: usize,
    /// True once every round is drawn, trained and decided.
    pub complete: bool,
    /// Epochs trained so far.
    pub epochs_trained: usize,
    /// Epochs had every run trained fully.
    pub epochs_if_all_trained_fully: usize,
    /// The chosen run's id.
    pub chosen: Option<String>,
    /// Each rung's decision, in order.
    pub decisions: Vec<DecisionRecord>,
}

/// One rung's decision as recorded (rounds and rungs from 1).
#[derive(Clone, Debug, PartialEq, Deserialize)]
pub struct DecisionRecord {
    /// The round of the rung.
    pub round: usize,
    /// The rung (1 = first).
    pub rung: usize,
    /// The epoch the rung is at.
    pub epoch: usize,
    /// The runs that reached the rung with their scores, best first.
    pub scores: Vec<(String, f64)>,
    /// The runs that go on.
    pub promoted: Vec<String>,
}

impl SearchRecord {
    /// Parses and checks the file's bytes: counts within bounds, scores in [0, 1], the
    /// decisions' runs among their scores; the message says what is wrong.
    pub fn parse(bytes: &[u8]) -> Result<Self, String> {
        let record: SearchRecord = serde_json::from_slice(bytes).map_err(|e| e.to_string())?;
        let counts = [
            record.rounds,
            record.rungs.len(),
            record.decisions.len(),
            record.epochs_trained,
        ];
        if counts.iter().any(|&n| n > MOST) || record.epochs_trained > record.epochs_if_all_trained_fully {
            return Err("counts out of range".into());
        }
        for d in &record.decisions {
            if d.round == 0 || d.rung == 0 || d.round > MOST || d.rung > MOST || d.scores.len() > MOST {
                return Err(format!(
                    "a decision's round {} or rung {} is out of range",
                    d.round, d.rung
                ));
            }
            if let Some((run, score)) = d.scores.iter().find(|(_, v)| !(0.0..=1.0).contains(v)) {
                return Err(format!("run {run}'s score {score} is not in [0, 1]"));
            }
            if d.promoted.iter().any(|p| !d.scores.iter().any(|(run, _)| run == p)) {
                return Err(format!(
                    "round {} rung {} promotes a run it did not score",
                    d.round, d.rung
                ));
            }
        }
        Ok(record)
    }
}

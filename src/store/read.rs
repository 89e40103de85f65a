//! Reading run folders back: config, status and per-epoch metrics.

use crate::store::search_record;
use crate::store::study::{self, StudyFile};
use crate::store::{summarize, EpochMetrics, Predictions, RunDir, RunRecord, RunState, RunSummary, Status};
use anyhow::{bail, Context, Result};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// One run as found on disk.
#[derive(Clone, Debug)]
pub struct Run {
    /// Its folder.
    pub dir: PathBuf,
    /// Its id (the folder's name).
    pub id: String,
    /// What identifies it.
    pub record: RunRecord,
    /// Its status.json.
    pub status: Status,
    /// Its metrics.csv.
    pub history: Vec<EpochMetrics>,
    /// Per-trial test predictions (runs of eegrun 0.1 have none).
    pub predictions: Option<Predictions>,
    /// Judged from all the files together (see [`crate::store::RunState`]).
    pub run_state: RunState,
}

impl Run {
    /// Reads a run folder, each of its files once (config.json required; status, metrics
    /// and predictions optional). A status, metrics or predictions file that cannot be read
    /// makes the run `Unreadable`, not an error.
    pub fn load(dir: &Path) -> Result<Self> {
        let run = RunDir {
            path: dir.to_path_buf(),
        };
        let record = run.record()?.context("no config.json")?;
        let (status, history, predictions, run_state) = match run.files() {
            Ok(files) => {
                let state = files.state();
                (
                    files.status,
                    files.metrics.history,
                    files.predictions.map(|p| p.0),
                    state,
                )
            }
            Err(e) => (None, Vec::new(), None, RunState::Unreadable(format!("{e:#}"))),
        };
        let mut status = status.unwrap_or_else(|| Status::new(record.config.epochs));
        status.epochs_done = status.epochs_done.max(history.len());
        Ok(Self {
            dir: dir.to_path_buf(),
            id: record.id(),
            record,
            status,
            history,
            predictions,
            run_state,
        })
    }

    /// Summary from the metrics; none for a run whose files cannot be trusted, or that an
    /// early-stopping search stopped (its accuracies are from a rung, not comparable).
    pub fn summary(&self) -> Option<RunSummary> {
        match self.run_state {
            RunState::Unreadable(_) | RunState::Inconsistent(_) | RunState::Stopped { .. } => None,
            _ => summarize(&self.history),
        }
    }

    /// The state's name: done, failed, partial, pending, unreadable or inconsistent.
    pub fn state(&self) -> &'static str {
        self.run_state.name()
    }
}

/// `runs` with each run counted once: a second folder holding the same run of the same
/// experiment (a copied experiment folder) is left out, with a warning naming both.
pub fn counted_once(runs: Vec<Run>) -> (Vec<Run>, Vec<String>) {
    let mut seen: BTreeMap<(String, String), PathBuf> = BTreeMap::new();
    let mut warnings = Vec::new();
    let kept = runs
        .into_iter()
        .filter(|run| match seen.get(&(run.record.experiment.clone(), run.id.clone())) {
            Some(first) => {
                warnings.push(format!(
                    "{}: the same run as {}; counted once",
                    run.dir.display(),
                    first.display()
                ));
                false
            }
            None => {
                seen.insert((run.record.experiment.clone(), run.id.clone()), run.dir.clone());
                true
            }
        })
        .collect();
    (kept, warnings)
}

/// What an experiment folder declares beside its runs.
#[derive(Clone, Debug, Default)]
pub struct Declaration {
    /// `study.json`: each declaration of a designed study (its configurations, equivalence
    /// margin, command line and time), oldest first; empty without one.
    pub studies: Vec<StudyFile>,
    /// True when the folder holds a search (`search.json`).
    pub is_search: bool,
    /// The search's chosen run id.
    pub chosen: Option<String>,
    /// `search.json`, read and checked, for the report's search section.
    pub search: Option<search_record::SearchRecord>,
}

/// The declarations of the experiment folders that hold `runs`, and a warning for each
/// declaration that could not be read (its study is then judged without it).
pub fn declarations(runs: &[Run]) -> (BTreeMap<PathBuf, Declaration>, Vec<String>) {
    let mut out = BTreeMap::new();
    let mut warnings = Vec::new();
    for folder in runs.iter().filter_map(|r| r.dir.parent()) {
        if out.contains_key(folder) {
            continue;
        }
        let mut declaration = Declaration::default();
        match study::read(folder) {
            Ok(s) => declaration.studies = s.unwrap_or_default(),
            Err(e) => warnings.push(format!("{e:#}")),
        }
        let search = folder.join(search_record::FILE);
        match crate::bounded_read::read_regular(&search, crate::bounded_read::RECORD_LIMIT) {
            Ok(None) => {}
            // A grid study declares itself in study.json; a search.json beside it is not
            // this folder's (copied in, or left by an earlier search of the same name).
            Ok(Some(_)) if !declaration.studies.is_empty() => warnings.push(format!(
                "{}: ignored: this folder's study.json declares a grid study, not a search",
                search.display()
            )),
            Ok(Some(bytes)) => {
                declaration.is_search = true;
                match search_record::SearchRecord::parse(&bytes) {
                    Ok(record) => {
                        declaration.chosen = record.chosen.clone();
                        declaration.search = Some(record);
                    }
                    Err(e) => warnings.push(format!("{}: damaged search record, ignored: {e}", search.display())),
                }
            }
            Err(e) => warnings.push(format!("{e:#}")),
        }
        out.insert(folder.to_path_buf(), declaration);
    }
    (out, warnings)
}

/// Every run folder under `root` (a runs root, an experiment folder, or one run), sorted by
/// path, and a warning for each folder that could not be read.
pub fn scan(root: &Path) -> Result<(Vec<Run>, Vec<String>)> {
    if !root.is_dir() {
        bail!("{}: runs folder not found", root.display());
    }
    let mut candidates = Vec::new();
    collect_run_dirs(root, 0, &mut candidates);
    candidates.sort();
    let (mut runs, mut warnings) = (Vec::new(), Vec::new());
    for dir in candidates {
        match Run::load(&dir) {
            Ok(run) if dir.file_name().is_some_and(|n| n.to_string_lossy() != run.id) => warnings.push(format!(
                "{}: left out: its config.json describes run {} (a copied or edited run folder)",
                dir.display(),
                run.id
            )),
            Ok(run) => {
                if let RunState::Unreadable(_) | RunState::Inconsistent(_) = &run.run_state {
                    warnings.push(format!(
                        "{}: {} (left out of the tables; `run --retry-failed` rebuilds it)",
                        dir.display(),
                        run.run_state
                    ));
                }
                runs.push(run)
            }
            Err(e) => warnings.push(format!("skipped {}: {e:#}", dir.display())),
        }
    }
    Ok((runs, warnings))
}

/// Folders (at most three levels down) that look like runs: they hold a config, status or
/// metrics file.
fn collect_run_dirs(dir: &Path, depth: usize, out: &mut Vec<PathBuf>) {
    let looks_like_run = ["config.json", "status.json", "metrics.csv"]
        .iter()
        .any(|f| dir.join(f).exists());
    if looks_like_run {
        out.push(dir.to_path_buf());
        return;
    }
    if depth >= 3 {
        return;
    }
    if let Ok(entries) = std::fs::read_dir(dir) {
        for entry in entries.flatten() {
            if entry.file_type().map(|t| t.is_dir()).unwrap_or(false) {
                collect_run_dirs(&entry.path(), depth + 1, out);
            }
        }
    }
}

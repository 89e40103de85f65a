//! Reading run folders back: config, status and per-epoch metrics.

use crate::nn::train::{summarize, EpochMetrics, RunSummary};
use crate::store::{RunDir, RunRecord, State, Status};
use anyhow::{bail, Context, Result};
use std::path::{Path, PathBuf};

/// One run as found on disk.
#[derive(Clone, Debug)]
pub struct RunInfo {
    pub dir: PathBuf,
    pub id: String,
    pub record: RunRecord,
    pub status: Status,
    pub history: Vec<EpochMetrics>,
}

impl RunInfo {
    /// Reads a run folder (config.json required; status and metrics optional).
    pub fn read(dir: &Path) -> Result<Self> {
        let run = RunDir {
            path: dir.to_path_buf(),
        };
        let record = run.record()?.context("no config.json")?;
        let history = match std::fs::read_to_string(run.metrics()) {
            Ok(text) => parse_metrics(&text).with_context(|| format!("{}", run.metrics().display()))?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
            Err(e) => return Err(e).with_context(|| format!("{}: cannot read", run.metrics().display())),
        };
        let mut status = run.status()?.unwrap_or_else(|| Status::new(record.config.epochs));
        status.epochs_done = status.epochs_done.max(history.len());
        Ok(Self {
            dir: dir.to_path_buf(),
            id: record.id(),
            record,
            status,
            history,
        })
    }

    /// Summary from the metrics (or the status file when there are none).
    pub fn summary(&self) -> Option<RunSummary> {
        summarize(&self.history).or_else(|| self.status.summary.clone())
    }

    /// done, failed, partial (some epochs, not finished) or pending.
    pub fn state(&self) -> &'static str {
        match self.status.state {
            State::Done => "done",
            State::Failed => "failed",
            _ if self.status.epochs_done > 0 => "partial",
            _ => "pending",
        }
    }
}

/// Parses eegrun's metrics.csv.
pub fn parse_metrics(text: &str) -> Result<Vec<EpochMetrics>> {
    let mut lines = text.lines();
    let header = lines.next().unwrap_or_default();
    if !header.starts_with("epoch,train_loss,train_acc,test_loss,test_acc") {
        bail!("unexpected header '{header}'");
    }
    lines
        .enumerate()
        .map(|(i, line)| {
            let f: Vec<&str> = line.split(',').collect();
            let num = |k: usize| -> Result<f64> {
                f.get(k)
                    .and_then(|v| v.parse().ok())
                    .with_context(|| format!("line {}: bad field {k}", i + 2))
            };
            let opt = |k: usize| f.get(k).and_then(|v| v.parse().ok());
            Ok(EpochMetrics {
                epoch: num(0)? as usize,
                train_loss: num(1)?,
                train_acc: num(2)?,
                test_loss: num(3)?,
                test_acc: num(4)?,
                val_loss: opt(5),
                val_acc: opt(6),
                train_seconds: opt(7).unwrap_or(0.0),
                eval_seconds: opt(8).unwrap_or(0.0),
            })
        })
        .collect()
}

/// Every run folder under `root` (a runs root, an experiment folder, or one run), sorted by
/// path, and a warning for each folder that could not be read.
pub fn scan(root: &Path) -> Result<(Vec<RunInfo>, Vec<String>)> {
    if !root.is_dir() {
        bail!("{}: runs folder not found", root.display());
    }
    let mut candidates = Vec::new();
    collect_run_dirs(root, 0, &mut candidates);
    candidates.sort();
    let (mut runs, mut warnings) = (Vec::new(), Vec::new());
    for dir in candidates {
        match RunInfo::read(&dir) {
            Ok(run) => runs.push(run),
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

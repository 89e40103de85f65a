//! The run store: `runs/<experiment>/<run-id>/` with the resolved config, per-epoch
//! metrics, a status file and the checkpoint. Every write is atomic (temporary file,
//! fsync, rename); a lock file keeps two processes from training the same run.

use crate::nn::checkpoint::write_atomic;
use crate::nn::train::{EpochMetrics, RunSummary, TrainConfig};
use anyhow::{Context, Result};
use fs2::FileExt;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};

/// What a run folder's `config.json` holds: everything that identifies the run.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RunRecord {
    pub experiment: String,
    pub config: TrainConfig,
    pub data: String,
    pub data_fingerprint: String,
}

impl RunRecord {
    /// A stable id: the first 12 hex digits of SHA-256 over the config and data fingerprint.
    pub fn id(&self) -> String {
        let identity = serde_json::json!({"config": self.config, "data_fingerprint": self.data_fingerprint});
        let digest = Sha256::digest(identity.to_string().as_bytes());
        digest.iter().take(6).map(|b| format!("{b:02x}")).collect()
    }
}

/// Where a run stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum State {
    Pending,
    Running,
    Done,
    Failed,
}

/// `status.json`.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Status {
    pub state: State,
    pub error: Option<String>,
    pub epochs_done: usize,
    pub epochs: usize,
    /// How many times training started on this run (resumes included).
    pub attempts: u32,
    pub started_unix: Option<u64>,
    pub finished_unix: Option<u64>,
    /// Wall seconds spent training, over all attempts.
    pub seconds: f64,
    pub host: String,
    pub eegrun_version: String,
    pub git_revision: Option<String>,
    pub summary: Option<RunSummary>,
}

impl Status {
    /// A fresh status for a run of `epochs` epochs.
    pub fn new(epochs: usize) -> Self {
        Self {
            state: State::Pending,
            error: None,
            epochs_done: 0,
            epochs,
            attempts: 0,
            started_unix: None,
            finished_unix: None,
            seconds: 0.0,
            host: std::fs::read_to_string("/proc/sys/kernel/hostname")
                .map(|h| h.trim().to_string())
                .unwrap_or_default(),
            eegrun_version: env!("CARGO_PKG_VERSION").into(),
            git_revision: option_env!("EEGRUN_GIT_REVISION").map(String::from),
            summary: None,
        }
    }
}

/// Seconds since the Unix epoch.
pub fn now_unix() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// One run's folder.
#[derive(Clone, Debug)]
pub struct RunDir {
    pub path: PathBuf,
}

/// An exclusive lock on a run, released when dropped (or when the process dies).
pub struct RunLock(#[allow(dead_code)] std::fs::File);

impl RunDir {
    /// The folder of `record` under `runs_dir`.
    pub fn new(runs_dir: &Path, record: &RunRecord) -> Self {
        Self {
            path: runs_dir.join(&record.experiment).join(record.id()),
        }
    }

    /// `checkpoint.bin`.
    pub fn checkpoint(&self) -> PathBuf {
        self.path.join("checkpoint.bin")
    }

    /// `metrics.csv`.
    pub fn metrics(&self) -> PathBuf {
        self.path.join("metrics.csv")
    }

    /// The run's status, if it has one.
    pub fn status(&self) -> Result<Option<Status>> {
        self.read_json("status.json", "status")
    }

    /// The record in `config.json`, if present.
    pub fn record(&self) -> Result<Option<RunRecord>> {
        self.read_json("config.json", "config")
    }

    /// Parses `name` in the run folder; `None` when the file does not exist.
    fn read_json<T: serde::de::DeserializeOwned>(&self, name: &str, what: &str) -> Result<Option<T>> {
        let path = self.path.join(name);
        match std::fs::read(&path) {
            Ok(bytes) => Ok(Some(
                serde_json::from_slice(&bytes).with_context(|| format!("{}: damaged {what} file", path.display()))?,
            )),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e).with_context(|| format!("{}: cannot read", path.display())),
        }
    }

    /// Writes `config.json`.
    pub fn write_record(&self, record: &RunRecord) -> Result<()> {
        write_atomic(
            &self.path.join("config.json"),
            serde_json::to_string_pretty(record)?.as_bytes(),
        )
    }

    /// Writes `status.json`.
    pub fn write_status(&self, status: &Status) -> Result<()> {
        write_atomic(
            &self.path.join("status.json"),
            serde_json::to_string_pretty(status)?.as_bytes(),
        )
    }

    /// Writes `metrics.csv` (one row per epoch).
    pub fn write_metrics(&self, history: &[EpochMetrics]) -> Result<()> {
        let mut csv =
            String::from("epoch,train_loss,train_acc,test_loss,test_acc,val_loss,val_acc,train_seconds,eval_seconds\n");
        let opt = |v: Option<f64>| v.map(|v| v.to_string()).unwrap_or_default();
        for m in history {
            csv.push_str(&format!(
                "{},{},{},{},{},{},{},{:.4},{:.4}\n",
                m.epoch,
                m.train_loss,
                m.train_acc,
                m.test_loss,
                m.test_acc,
                opt(m.val_loss),
                opt(m.val_acc),
                m.train_seconds,
                m.eval_seconds
            ));
        }
        write_atomic(&self.metrics(), csv.as_bytes())
    }

    /// Takes the run's lock without waiting; `None` when another process holds it.
    pub fn try_lock(&self) -> Result<Option<RunLock>> {
        std::fs::create_dir_all(&self.path).with_context(|| format!("{}: cannot create", self.path.display()))?;
        let path = self.path.join("lock");
        let file = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .with_context(|| format!("{}: cannot open", path.display()))?;
        match file.try_lock_exclusive() {
            Ok(()) => Ok(Some(RunLock(file))),
            Err(e) if e.kind() == fs2::lock_contended_error().kind() => Ok(None),
            Err(e) => Err(e).with_context(|| format!("{}: cannot lock", path.display())),
        }
    }
}

//! The run store: `runs/<experiment>/<run-id>/` with the resolved config, per-epoch
//! metrics, a status file and the checkpoint. Every write is atomic (temporary file,
//! fsync, rename); a lock file keeps two processes from training the same run. A run's
//! state is read from all of its files together: a finished run whose files disagree is
//! `Inconsistent`, one whose files cannot be read is `Unreadable` — never summarised as if
//! it were fine.

mod legacy;
pub mod metrics;
pub mod predictions;
pub mod read;
pub mod record;
pub mod search_record;
pub mod study;
pub mod writer;

use crate::atomic_write::write_atomic;
use crate::bounded_read::{read_regular, RECORD_LIMIT, TABLE_LIMIT};
pub use crate::results::{summarize, EpochMetrics, Predictions, RunSummary};
use anyhow::{Context, Result};
use fs2::FileExt;
pub use record::{configuration_key, RunRecord};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

/// Where a run stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum State {
    /// Not started.
    Pending,
    /// Training, or interrupted.
    Running,
    /// Trained to its last epoch.
    Done,
    /// Stopped by an error.
    Failed,
    /// Trained as far as an early-stopping search asked, not to its last epoch.
    Stopped,
}

/// `status.json`.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Status {
    /// Where it stands.
    pub state: State,
    /// The error that stopped it, if any.
    pub error: Option<String>,
    /// Epochs trained.
    pub epochs_done: usize,
    /// Epochs the run trains.
    pub epochs: usize,
    /// How many times training started on this run (resumes included).
    pub attempts: u32,
    /// When training first started (seconds since 1970).
    pub started_unix: Option<u64>,
    /// When it finished.
    pub finished_unix: Option<u64>,
    /// Wall seconds spent training, over all attempts.
    pub seconds: f64,
    /// The machine of the latest attempt.
    pub host: String,
    /// Its CPU and the instruction sets used (absent in older runs).
    #[serde(default)]
    pub cpu: Option<String>,
    /// Threads of the latest attempt (absent in older runs).
    #[serde(default)]
    pub threads: Option<usize>,
    /// The eegrun that trained it.
    pub eegrun_version: String,
    /// Its git revision, where known.
    pub git_revision: Option<String>,
    /// The run's summary, once done.
    pub summary: Option<RunSummary>,
    /// SHA-256 of metrics.csv as last written (absent in runs of eegrun 0.1).
    #[serde(default)]
    pub metrics_sha256: Option<String>,
    /// SHA-256 of predictions.csv as last written (absent in runs of eegrun 0.1).
    #[serde(default)]
    pub predictions_sha256: Option<String>,
    /// For a stopped run: the early-stopping rung (1 = first) that did not promote it (none
    /// while the rung's decision is still to be made).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stopped_rung: Option<usize>,
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
            host: crate::machine::host(),
            cpu: None,
            threads: None,
            eegrun_version: env!("CARGO_PKG_VERSION").into(),
            git_revision: option_env!("EEGRUN_GIT_REVISION").map(String::from),
            summary: None,
            metrics_sha256: None,
            predictions_sha256: None,
            stopped_rung: None,
        }
    }
}

/// Where a run stands, judged from all of its files.
#[derive(Clone, Debug, PartialEq)]
pub enum RunState {
    /// No epoch recorded yet.
    Pending,
    /// Some epochs recorded, not finished (interrupted, or training now).
    Partial {
        /// Epochs recorded.
        done: usize,
        /// Epochs the run trains.
        epochs: usize,
    },
    /// Trained to its last epoch.
    Done,
    /// Trained to `done` of `epochs` epochs for an early-stopping search; `rung` is the rung
    /// that did not promote it (none while that decision is still to be made).
    Stopped {
        /// Epochs trained.
        done: usize,
        /// Epochs the run would train.
        epochs: usize,
        /// The rung that stopped it.
        rung: Option<usize>,
    },
    /// Stopped by this error.
    Failed(String),
    /// A file cannot be read or parsed.
    Unreadable(String),
    /// The files disagree (e.g. a finished run whose metrics.csv lost epochs).
    Inconsistent(String),
}

impl RunState {
    /// True for states that `--retry-failed` rebuilds.
    pub fn needs_repair(&self) -> bool {
        matches!(self, Self::Failed(_) | Self::Unreadable(_) | Self::Inconsistent(_))
    }

    /// The state's one-word name (the summary's `status` column).
    pub fn name(&self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Partial { .. } => "partial",
            Self::Done => "done",
            Self::Stopped { .. } => "stopped",
            Self::Failed(_) => "failed",
            Self::Unreadable(_) => "unreadable",
            Self::Inconsistent(_) => "inconsistent",
        }
    }
}

impl std::fmt::Display for RunState {
    fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        match self {
            Self::Partial { done, epochs } => write!(f, "partial ({done}/{epochs} epochs)"),
            Self::Stopped {
                done,
                epochs,
                rung: Some(k),
            } => write!(f, "stopped at rung {k}, epoch {done}/{epochs}"),
            Self::Stopped {
                done,
                epochs,
                rung: None,
            } => {
                write!(f, "stopped at epoch {done}/{epochs} (its rung is not decided yet)")
            }
            Self::Failed(e) | Self::Unreadable(e) | Self::Inconsistent(e) => write!(f, "{}: {e}", self.name()),
            _ => f.write_str(self.name()),
        }
    }
}

/// SHA-256 of a file's bytes, hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}

/// Why a finished run's predictions disagree with its metrics, if they do.
fn predictions_disagree(p: &Predictions, history: &[EpochMetrics]) -> Option<String> {
    use crate::results::At;
    let summary = summarize(history)?;
    let checks = [
        ("final", p.accuracy(At::Final), Some(summary.final_test_acc)),
        ("best_test", p.accuracy(At::BestTest), Some(summary.best_test_acc)),
        ("best_val", p.accuracy(At::BestVal), summary.test_acc_at_best_val),
    ];
    checks
        .into_iter()
        .find(|(_, from_predictions, from_metrics)| from_predictions != from_metrics)
        .map(|(column, a, b)| format!("predictions.csv's {column} column gives test accuracy {a:?}, metrics.csv {b:?}"))
}

/// Why a finished run's status and metrics disagree, if they do.
pub fn disagreement(status: &Status, metrics: &Metrics) -> Option<String> {
    let history = &metrics.history;
    if status.metrics_sha256.as_ref().is_some_and(|h| *h != metrics.sha256) {
        return Some("metrics.csv changed after the run finished (its checksum differs from status.json's)".into());
    }
    let expected = match status.state {
        State::Stopped => status.epochs_done.min(status.epochs.saturating_sub(1)),
        _ => status.epochs,
    };
    if history.len() != expected || status.epochs_done != expected || expected == 0 {
        return Some(format!(
            "metrics.csv has {} epochs, status.json says {} of {} done",
            history.len(),
            status.epochs_done,
            status.epochs
        ));
    }
    let from_metrics = summarize(history);
    match (&status.summary, &from_metrics) {
        (Some(a), Some(b)) if a != b => Some(format!(
            "status.json says highest test accuracy {} at epoch {}, metrics.csv {} at epoch {}",
            a.best_test_acc, a.best_test_epoch, b.best_test_acc, b.best_test_epoch
        )),
        (None, _) => Some("status.json has no summary".into()),
        _ => None,
    }
}

/// Seconds since the Unix epoch.
pub fn now_unix() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// A run's recorded epochs and the checksum of the file they came from.
#[derive(Clone, Debug, Default)]
pub struct Metrics {
    /// Each epoch's metrics.
    pub history: Vec<EpochMetrics>,
    /// SHA-256 of metrics.csv as read.
    pub sha256: String,
}

/// A run's status, metrics and predictions files as read ([`RunDir::files`]).
#[derive(Clone, Debug, Default)]
pub struct RunFiles {
    /// status.json, if present.
    pub status: Option<Status>,
    /// metrics.csv (empty when absent).
    pub metrics: Metrics,
    /// predictions.csv and its SHA-256, if present.
    pub predictions: Option<(Predictions, String)>,
}

impl RunFiles {
    /// The run's state, judged from the three files together.
    pub fn state(&self) -> RunState {
        state_of(self.status.as_ref(), &self.metrics, self.predictions.as_ref())
    }
}

/// The state of a run with this status (if any), these recorded epochs and, when it has
/// them, these predictions (with their file's checksum).
pub fn state_of(status: Option<&Status>, metrics: &Metrics, predictions: Option<&(Predictions, String)>) -> RunState {
    let history = &metrics.history;
    let Some(status) = status else {
        return match history.len() {
            0 => RunState::Pending,
            n => RunState::Inconsistent(format!("metrics.csv has {n} epochs but there is no status.json")),
        };
    };
    match status.state {
        State::Done | State::Stopped => {
            let predictions_problem = || match (predictions, &status.predictions_sha256) {
                (None, Some(_)) => Some("predictions.csv is missing".to_string()),
                (Some((_, sha)), Some(recorded)) if sha != recorded => Some(
                    "predictions.csv changed after the run finished (its checksum differs from status.json's)".into(),
                ),
                (Some((p, _)), _) => predictions_disagree(p, history),
                (None, None) => None,
            };
            match disagreement(status, metrics).or_else(predictions_problem) {
                Some(why) => RunState::Inconsistent(why),
                // Stopped after its every epoch is done, whatever the status says.
                None if status.state == State::Done || history.len() >= status.epochs => RunState::Done,
                None => RunState::Stopped {
                    done: history.len(),
                    epochs: status.epochs,
                    rung: status.stopped_rung,
                },
            }
        }
        State::Failed => RunState::Failed(status.error.clone().unwrap_or_else(|| "unknown error".into())),
        _ if status.epochs_done > 0 || !history.is_empty() => RunState::Partial {
            done: status.epochs_done.max(history.len()),
            epochs: status.epochs,
        },
        _ => RunState::Pending,
    }
}

/// One run's folder.
#[derive(Clone, Debug)]
pub struct RunDir {
    /// The folder.
    pub path: PathBuf,
}

/// An exclusive lock on a run, released when dropped (or when the process dies).
pub struct RunLock(#[allow(dead_code)] std::fs::File);

impl RunDir {
    /// The folder of `record` under `runs_dir`: `<experiment>/<id>`, or the folder that
    /// eegrun 0.1 gave the same run, when that exists (both forms are read).
    pub fn new(runs_dir: &Path, record: &RunRecord) -> Self {
        let experiment = runs_dir.join(&record.experiment);
        let current = experiment.join(record.id());
        let path = if current.exists() {
            current
        } else {
            legacy::ids(record)
                .into_iter()
                .map(|id| experiment.join(id))
                .find(|p| p.join("config.json").exists())
                .unwrap_or(current)
        };
        Self { path }
    }

    /// The folder's name: the run's id (for folders of eegrun 0.1, the id it had then).
    pub fn id(&self) -> String {
        self.path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default()
    }

    /// `checkpoint.bin`.
    pub fn checkpoint(&self) -> PathBuf {
        self.path.join("checkpoint.bin")
    }

    /// `metrics.csv`.
    pub fn metrics(&self) -> PathBuf {
        self.path.join("metrics.csv")
    }

    /// `predictions.csv`.
    pub fn predictions(&self) -> PathBuf {
        self.path.join("predictions.csv")
    }

    /// Writes `predictions.csv` and returns its SHA-256, for status.json.
    pub fn write_predictions(&self, p: &Predictions) -> Result<String> {
        let text = predictions::render(p);
        write_atomic(&self.predictions(), text.as_bytes())?;
        Ok(sha256_hex(text.as_bytes()))
    }

    /// The predictions in `predictions.csv` and the file's SHA-256 (none when the file
    /// does not exist).
    pub fn read_predictions(&self) -> Result<Option<(Predictions, String)>> {
        let path = self.predictions();
        match read_regular(&path, RECORD_LIMIT)? {
            Some(bytes) => {
                let text = std::str::from_utf8(&bytes).with_context(|| format!("{}: not text", path.display()))?;
                let p = predictions::parse(text).with_context(|| format!("{}", path.display()))?;
                Ok(Some((p, sha256_hex(&bytes))))
            }
            None => Ok(None),
        }
    }

    /// The run's status, if it has one.
    pub fn status(&self) -> Result<Option<Status>> {
        self.read_json("status.json", "status")
    }

    /// The record in `config.json`, if present, in either form.
    pub fn record(&self) -> Result<Option<RunRecord>> {
        let Some(raw) = self.read_json::<serde_json::Value>("config.json", "config")? else {
            return Ok(None);
        };
        let path = self.path.join("config.json");
        let mut record: RunRecord =
            serde_json::from_value(raw.clone()).with_context(|| format!("{}: damaged config file", path.display()))?;
        record.legacy_id = legacy::id_of(&raw);
        Ok(Some(record))
    }

    /// Parses `name` in the run folder; `None` when the file does not exist.
    fn read_json<T: serde::de::DeserializeOwned>(&self, name: &str, what: &str) -> Result<Option<T>> {
        let path = self.path.join(name);
        match read_regular(&path, RECORD_LIMIT)? {
            Some(bytes) => Ok(Some(
                serde_json::from_slice(&bytes).with_context(|| format!("{}: damaged {what} file", path.display()))?,
            )),
            None => Ok(None),
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

    /// Writes `metrics.csv` (one row per epoch) and returns its SHA-256, for status.json.
    pub fn write_metrics(&self, history: &[EpochMetrics]) -> Result<String> {
        let text = metrics::render(history);
        write_atomic(&self.metrics(), text.as_bytes())?;
        Ok(sha256_hex(text.as_bytes()))
    }

    /// The epochs in `metrics.csv` (none when the file does not exist) and its checksum.
    pub fn read_metrics(&self) -> Result<Metrics> {
        let path = self.metrics();
        match read_regular(&path, TABLE_LIMIT)? {
            Some(bytes) => {
                let text = std::str::from_utf8(&bytes).with_context(|| format!("{}: not text", path.display()))?;
                Ok(Metrics {
                    history: metrics::parse(text).with_context(|| format!("{}", path.display()))?,
                    sha256: sha256_hex(&bytes),
                })
            }
            None => Ok(Metrics::default()),
        }
    }

    /// The run's status, metrics and predictions files, each read once.
    pub fn files(&self) -> Result<RunFiles> {
        Ok(RunFiles {
            status: self.status()?,
            metrics: self.read_metrics()?,
            predictions: self.read_predictions()?,
        })
    }

    /// The run's state from its status, metrics and predictions files together.
    pub fn state(&self) -> RunState {
        match self.files() {
            Ok(files) => files.state(),
            Err(e) => RunState::Unreadable(format!("{e:#}")),
        }
    }

    /// Takes the run's lock without waiting; `None` when another process holds it.
    pub fn try_lock(&self) -> Result<Option<RunLock>> {
        std::fs::create_dir_all(&self.path).with_context(|| format!("{}: cannot create", self.path.display()))?;
        let path = self.path.join("lock");
        let file = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .custom_flags(libc::O_NOFOLLOW)
            .open(&path)
            .with_context(|| format!("{}: cannot open", path.display()))?;
        match file.try_lock_exclusive() {
            Ok(()) => Ok(Some(RunLock(file))),
            Err(e) if e.kind() == fs2::lock_contended_error().kind() => Ok(None),
            Err(e) => Err(e).with_context(|| format!("{}: cannot lock", path.display())),
        }
    }
}

//! A run's life on disk, written in one place: an attempt started under the run's lock,
//! each epoch's metrics, predictions and status written after its checkpoint, then the run
//! finished (done, or stopped at a search's rung) or failed. Every failure after the start
//! is recorded in status.json, so `--retry-failed` finds it.

use super::{now_unix, EpochMetrics, Predictions, RunDir, RunLock, RunRecord, State, Status};
use anyhow::Result;
use std::time::Instant;

/// One attempt at a run, holding its lock until it is finished or failed.
pub struct RunWriter {
    dir: RunDir,
    status: Status,
    since: Instant,
    _lock: RunLock,
}

impl RunWriter {
    /// An attempt at the run in `dir` of `epochs` epochs (its config's), under `lock`, on this
    /// machine's `cpu` with `threads` threads. A status that cannot be read is replaced, and
    /// one that names other epochs is corrected: the config and the checkpoint are what
    /// training resumes from. Nothing is written yet ([`Self::begin`]).
    pub fn new(dir: &RunDir, lock: RunLock, epochs: usize, cpu: String, threads: usize) -> Self {
        let mut status = dir.status().ok().flatten().unwrap_or_else(|| Status::new(epochs));
        // The run's config is what it trains: a status that says otherwise (edited, or
        // left by another version) is rebuilt from it, so repair always converges.
        status.epochs = epochs;
        status.state = State::Running;
        status.stopped_rung = None;
        status.attempts += 1;
        status.error = None;
        status.host = crate::machine::host();
        status.cpu = Some(cpu);
        status.threads = Some(threads);
        status.started_unix.get_or_insert(now_unix());
        Self {
            dir: dir.clone(),
            status,
            since: Instant::now(),
            _lock: lock,
        }
    }

    /// Writes the run's record and its status as running.
    pub fn begin(&mut self, record: &RunRecord) -> Result<()> {
        self.dir.write_record(record)?;
        self.dir.write_status(&self.status)?;
        self.since = Instant::now();
        Ok(())
    }

    /// Makes the files follow the epochs restored from the checkpoint (this also repairs a
    /// finished run whose metrics.csv or status.json was damaged).
    pub fn restored(&mut self, history: &[EpochMetrics], predictions: &Predictions) -> Result<()> {
        self.write(history, predictions)
    }

    /// Records an epoch just trained (the last of `history`), with the time since the last.
    pub fn epoch(&mut self, history: &[EpochMetrics], predictions: &Predictions) -> Result<()> {
        self.status.seconds += self.since.elapsed().as_secs_f64();
        self.since = Instant::now();
        self.write(history, predictions)
    }

    fn write(&mut self, history: &[EpochMetrics], predictions: &Predictions) -> Result<()> {
        if !history.is_empty() {
            self.status.predictions_sha256 = Some(self.dir.write_predictions(predictions)?);
        }
        self.status.metrics_sha256 = Some(self.dir.write_metrics(history)?);
        self.status.epochs_done = history.len();
        self.status.summary = super::summarize(history);
        self.dir.write_status(&self.status)
    }

    /// Ends the attempt: done when every epoch is trained, else stopped (a search's rung).
    /// A status that cannot be written makes it a failure.
    pub fn finish(mut self) -> Result<(), String> {
        self.status.finished_unix = Some(now_unix());
        self.status.state = if self.status.epochs_done >= self.status.epochs {
            State::Done
        } else {
            State::Stopped
        };
        match self.dir.write_status(&self.status) {
            Ok(()) => Ok(()),
            Err(e) => Err(self.fail(e)),
        }
    }

    /// Ends the attempt as failed with `error`, recorded as well as the disk allows; returns
    /// the failure in one line.
    pub fn fail(self, error: anyhow::Error) -> String {
        record_failure(&self.dir, self.status, error)
    }
}

/// Records a search's decision on a stopped run in `dir`: the rung (1 = first) that did not
/// promote it, or none once promoted. Left alone when another process holds the run, its
/// status cannot be read, it already says so, or `clean` says it is not cleanly stopped.
pub fn record_rung(dir: &RunDir, rung: Option<usize>, clean: impl FnOnce() -> bool) -> Result<()> {
    let Some(_lock) = dir.try_lock()? else {
        return Ok(());
    };
    let Ok(Some(mut status)) = dir.status() else {
        return Ok(());
    };
    if !clean() || status.stopped_rung == rung {
        return Ok(());
    }
    status.state = State::Stopped;
    status.stopped_rung = rung;
    dir.write_status(&status)
}

/// Records `error` as the failure of the run in `dir` whose attempt could not even start
/// (its lock could not be taken); returns it in one line.
pub fn fail_unstarted(dir: &RunDir, epochs: usize, error: anyhow::Error) -> String {
    record_failure(dir, Status::new(epochs), error)
}

fn record_failure(dir: &RunDir, mut status: Status, error: anyhow::Error) -> String {
    let message = format!("{error:#}").replace('\n', " ");
    status.finished_unix = Some(now_unix());
    status.state = State::Failed;
    status.error = Some(message.clone());
    match dir.write_status(&status) {
        Ok(()) => message,
        Err(e) => format!("{message} (and the failure could not be recorded: {e:#})"),
    }
}

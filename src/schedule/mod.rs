//! Runs an expanded experiment: skips finished runs, resumes partial ones from their
//! checkpoints, trains the rest in parallel (`jobs` runs × `threads` threads each), and
//! records failures without stopping the others.

mod progress;

pub use progress::{LogProgress, Progress, TerminalProgress};

use crate::data::Dataset;
use crate::experiment::Experiment;
use crate::nn::train::Trainer;
use crate::nn::Backend;
use crate::store::{now_unix, RunDir, RunRecord, RunState, State, Status};
use anyhow::{anyhow, bail, Result};
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::Instant;

/// How to run the queue.
#[derive(Clone, Debug, Default)]
pub struct Options {
    /// Concurrent runs (default: as many as cores, at most the queue length).
    pub jobs: Option<usize>,
    /// Threads per run (default: cores / jobs).
    pub threads: Option<usize>,
    /// Stop starting runs (and stop running ones after their epoch) at the first failure.
    pub fail_fast: bool,
    /// Rerun only the failed runs.
    pub retry_failed: bool,
}

/// A run of the experiment with its folder.
#[derive(Clone, Debug)]
pub struct PlannedRun {
    pub record: RunRecord,
    pub dir: RunDir,
}

/// What happened to one run in this invocation.
#[derive(Clone, Debug, PartialEq)]
pub enum Outcome {
    Trained,
    Failed(String),
    Skipped(String),
}

/// Where a planned run stands: the store's state, with its config.json checked against
/// the plan (a finished run whose config is missing or damaged cannot be trusted).
pub fn planned_state(run: &PlannedRun) -> RunState {
    let state = run.dir.state();
    if state == RunState::Pending {
        return state;
    }
    match run.dir.record() {
        Ok(Some(r)) if r.id() == run.record.id() && r.experiment == run.record.experiment => state,
        Ok(Some(_)) => RunState::Inconsistent("config.json describes another run".into()),
        Ok(None) => RunState::Inconsistent("config.json is missing".into()),
        Err(e) => RunState::Unreadable(format!("{e:#}")),
    }
}

/// Where a run stands on disk, for listings.
pub fn describe_state(run: &PlannedRun) -> String {
    planned_state(run).to_string()
}

/// Expands the experiment into runs under `runs_dir`.
pub fn plan(experiment: &Experiment, data: &Dataset, runs_dir: &Path) -> Result<Vec<PlannedRun>> {
    let runs: Vec<PlannedRun> = experiment
        .configs()?
        .into_iter()
        .map(|config| {
            let record = RunRecord {
                experiment: experiment.name.clone(),
                config,
                data: data.description.clone(),
                data_fingerprint: data.fingerprint.clone(),
            };
            PlannedRun {
                dir: RunDir::new(runs_dir, &record),
                record,
            }
        })
        .collect();
    let mut ids: Vec<&str> = runs.iter().map(|r| r.dir.path.to_str().unwrap_or_default()).collect();
    ids.sort_unstable();
    let before = ids.len();
    ids.dedup();
    if ids.len() != before {
        bail!(
            "experiment '{}' lists the same run more than once (duplicate grid values?)",
            experiment.name
        );
    }
    Ok(runs)
}

/// Default (jobs, threads) for a queue of `queued` runs on this machine.
pub fn default_parallelism(queued: usize, options: &Options) -> (usize, usize) {
    let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
    let jobs = options.jobs.unwrap_or(cores).clamp(1, queued.max(1));
    let threads = options.threads.unwrap_or((cores / jobs).max(1));
    (jobs, threads)
}

/// Trains every run that needs it; returns each run's outcome, in plan order.
pub fn execute(
    runs: &[PlannedRun],
    data: &Dataset,
    options: &Options,
    progress: &dyn Progress,
) -> Result<Vec<Outcome>> {
    let queue: Vec<bool> = runs
        .iter()
        .map(|r| match planned_state(r) {
            RunState::Done => false,
            state if state.needs_repair() => options.retry_failed,
            _ => !options.retry_failed,
        })
        .collect();
    let queued = queue.iter().filter(|q| **q).count();
    let (jobs, threads) = default_parallelism(queued, options);
    progress.start(queued, runs.len() - queued, jobs, threads);
    let stop = AtomicBool::new(false);
    // `jobs` plain threads take runs from a shared cursor; each trains in its own rayon
    // pool of `threads`. (Plain threads, not a rayon pool: a rayon worker waiting on
    // another pool would steal and start more runs than `jobs`.)
    let cursor = AtomicUsize::new(0);
    let outcomes: Vec<Mutex<Option<Outcome>>> = runs.iter().map(|_| Mutex::new(None)).collect();
    std::thread::scope(|scope| {
        for _ in 0..jobs {
            scope.spawn(|| loop {
                let i = cursor.fetch_add(1, Ordering::SeqCst);
                let Some(run) = runs.get(i) else { break };
                let outcome = if !queue[i] {
                    Outcome::Skipped(describe_state(run))
                } else if stop.load(Ordering::SeqCst) {
                    Outcome::Skipped("not started (--fail-fast)".into())
                } else {
                    let outcome = train_locked(run, data, threads, &stop, progress);
                    if matches!(outcome, Outcome::Failed(_)) && options.fail_fast {
                        stop.store(true, Ordering::SeqCst);
                    }
                    progress.finish(run, &outcome);
                    outcome
                };
                *outcomes[i].lock().expect("outcome lock") = Some(outcome);
            });
        }
    });
    let outcomes = outcomes
        .into_iter()
        .map(|o| o.into_inner().expect("outcome lock").expect("every run visited"))
        .collect();
    Ok(outcomes)
}

/// Trains one run under its lock, recording status, metrics and checkpoints as it goes.
/// Every failure after the lock is taken is recorded in status.json, so `--retry-failed`
/// finds it.
fn train_locked(
    run: &PlannedRun,
    data: &Dataset,
    threads: usize,
    stop: &AtomicBool,
    progress: &dyn Progress,
) -> Outcome {
    let config = &run.record.config;
    let _lock = match run.dir.try_lock() {
        Ok(Some(lock)) => lock,
        Ok(None) => return Outcome::Skipped("another eegrun process is training it".into()),
        Err(e) => return record_failure(run, Status::new(config.epochs), e),
    };
    if planned_state(run) == RunState::Done {
        return Outcome::Skipped("done".into());
    }
    // A status that cannot be read is replaced: the checkpoint is what training resumes from.
    let mut status = run
        .dir
        .status()
        .ok()
        .flatten()
        .unwrap_or_else(|| Status::new(config.epochs));
    status.state = State::Running;
    status.attempts += 1;
    status.error = None;
    status.started_unix.get_or_insert(now_unix());
    let result = run
        .dir
        .write_record(&run.record)
        .and_then(|()| run.dir.write_status(&status))
        .and_then(|()| Ok(rayon::ThreadPoolBuilder::new().num_threads(threads).build()?))
        .and_then(|pool| {
            pool.install(|| match config.device.as_str() {
                "cuda" => train_cuda(run, data, &mut status, stop, progress),
                _ => train_on(dfdx::prelude::Cpu::default(), run, data, &mut status, stop, progress),
            })
        });
    match result {
        Ok(()) => {
            status.finished_unix = Some(now_unix());
            status.state = State::Done;
            match run.dir.write_status(&status) {
                Ok(()) => Outcome::Trained,
                Err(e) => record_failure(run, status, e),
            }
        }
        Err(e) => record_failure(run, status, e),
    }
}

/// Records `error` as the run's failure (as well as the disk allows) and returns it.
fn record_failure(run: &PlannedRun, mut status: Status, error: anyhow::Error) -> Outcome {
    let message = format!("{error:#}").replace('\n', " ");
    status.finished_unix = Some(now_unix());
    status.state = State::Failed;
    status.error = Some(message.clone());
    match run.dir.write_status(&status) {
        Ok(()) => Outcome::Failed(message),
        Err(e) => Outcome::Failed(format!("{message} (and the failure could not be recorded: {e:#})")),
    }
}

#[cfg(feature = "cuda")]
fn train_cuda(
    run: &PlannedRun,
    data: &Dataset,
    status: &mut Status,
    stop: &AtomicBool,
    progress: &dyn Progress,
) -> Result<()> {
    let dev = dfdx::prelude::Cuda::try_build(0, 0).map_err(|e| anyhow!("cannot open the CUDA device: {e:?}"))?;
    train_on(dev, run, data, status, stop, progress)
}

#[cfg(not(feature = "cuda"))]
fn train_cuda(_: &PlannedRun, _: &Dataset, _: &mut Status, _: &AtomicBool, _: &dyn Progress) -> Result<()> {
    Err(anyhow!(
        "device cuda: this eegrun was built without CUDA; rebuild with --features cuda"
    ))
}

fn train_on<D: Backend>(
    dev: D,
    run: &PlannedRun,
    data: &Dataset,
    status: &mut Status,
    stop: &AtomicBool,
    progress: &dyn Progress,
) -> Result<()> {
    let mut trainer = Trainer::new(dev, run.record.config.clone(), data)?;
    let checkpoint = run.dir.checkpoint();
    if checkpoint.exists() {
        if let Err(e) = trainer.load_checkpoint(&checkpoint) {
            let aside = run.dir.path.join(format!("checkpoint.bin.damaged-{}", now_unix()));
            std::fs::rename(&checkpoint, &aside)?;
            bail!(
                "{e:#}; moved it to {} — `--retry-failed` restarts the run from scratch",
                aside.display()
            );
        }
    }
    // What the checkpoint holds is the truth: rewrite the files from it (this also repairs
    // a finished run whose metrics.csv or status.json was damaged).
    status.metrics_sha256 = Some(run.dir.write_metrics(&trainer.history)?);
    status.epochs_done = trainer.history.len();
    status.summary = trainer.summary();
    while !trainer.finished() {
        if stop.load(Ordering::SeqCst) {
            bail!("interrupted by another run's failure (--fail-fast)");
        }
        let start = Instant::now();
        let metrics = trainer.run_epoch()?.clone();
        trainer.save_checkpoint(&checkpoint)?;
        status.metrics_sha256 = Some(run.dir.write_metrics(&trainer.history)?);
        status.epochs_done = trainer.history.len();
        status.seconds += start.elapsed().as_secs_f64();
        status.summary = trainer.summary();
        run.dir.write_status(status)?;
        progress.epoch(run, &metrics);
    }
    Ok(())
}

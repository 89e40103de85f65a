//! Runs an expanded experiment: skips finished runs, resumes partial ones from their
//! checkpoints, trains the rest in parallel (`jobs` runs × `threads` threads each), and
//! records failures without stopping the others.

pub mod cost;
pub mod drive;
pub mod epochs;
mod halving;
mod planned;
mod progress;
pub mod rounds;
pub mod search_state;

pub use planned::{describe_state, plan, planned_state, Outcome, PlannedRun};
pub use progress::{LogProgress, Progress, TerminalProgress};

use crate::data::Dataset;
use crate::store::writer::{self, RunWriter};
use crate::store::RunState;
use anyhow::Result;
use epochs::Event;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Mutex;

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
            RunState::Stopped { done, .. } if done >= r.until => false,
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

/// Trains one run under its lock; the store's [`RunWriter`] records its status, metrics and
/// predictions as it goes, and its end.
fn train_locked(
    run: &PlannedRun,
    data: &Dataset,
    threads: usize,
    stop: &AtomicBool,
    progress: &dyn Progress,
) -> Outcome {
    let epochs = run.record.config.epochs;
    let lock = match run.dir.try_lock() {
        Ok(Some(lock)) => lock,
        Ok(None) => return Outcome::Skipped("another eegrun process is training it".into()),
        Err(e) => return Outcome::Failed(writer::fail_unstarted(&run.dir, epochs, e)),
    };
    match planned_state(run) {
        RunState::Done => return Outcome::Skipped("done".into()),
        RunState::Stopped { done, .. } if done >= run.until => {
            return Outcome::Skipped(format!("trained to epoch {done} already"));
        }
        _ => {}
    }
    let sliced = run.trials.as_ref().map(|t| t.slice(data));
    let data = sliced.as_ref().unwrap_or(data);
    let mut writer = RunWriter::new(&run.dir, lock, epochs, crate::nn::device::cpu_with_kernels(), threads);
    let result = writer.begin(&run.record).and_then(|()| {
        let mut record = |event: Event| -> Result<()> {
            match event {
                Event::Start {
                    history, predictions, ..
                } => writer.restored(history, predictions),
                Event::Epoch { history, predictions } => {
                    progress.epoch(run, history.last().expect("an epoch"));
                    writer.epoch(history, predictions)
                }
            }
        };
        epochs::train(
            &run.record.config,
            run.until,
            data,
            threads,
            Some(&run.dir.checkpoint()),
            stop,
            &mut record,
        )
    });
    match result {
        Ok(()) => match writer.finish() {
            Ok(()) => Outcome::Trained,
            Err(message) => Outcome::Failed(message),
        },
        Err(e) => Outcome::Failed(writer.fail(e)),
    }
}

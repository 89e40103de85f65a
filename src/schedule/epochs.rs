//! The one epoch loop, shared by `eegrun run` (through the scheduler) and `eegrun train`:
//! the run's device and thread pool, resume from its checkpoint, a checkpoint after every
//! epoch, and an observer that sees the history as it grows.

use crate::config::{Device, RunSpec};
use crate::data::Dataset;
use crate::nn::device::{self, DeviceJob};
use crate::nn::train::Trainer;
use crate::nn::Backend;
use crate::store::{now_unix, EpochMetrics, Predictions};
use anyhow::{bail, Context, Result};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};

/// What the loop tells its observer.
pub enum Event<'a> {
    /// Training starts, after the epochs restored from the checkpoint (none when fresh).
    Start {
        /// The epochs restored.
        history: &'a [EpochMetrics],
        /// Test predictions as restored.
        predictions: &'a Predictions,
        /// Learnable parameters of the model.
        parameters: usize,
    },
    /// An epoch ended and was checkpointed; its metrics are the last of `history`.
    Epoch {
        /// Every epoch so far, the new one last.
        history: &'a [EpochMetrics],
        /// Test predictions after the new epoch.
        predictions: &'a Predictions,
    },
}

/// Trains `spec` on `data` with `threads` threads until epoch `until` (or the last) has run
/// (or `stop` is set), resuming from `checkpoint` when it exists and saving it after each epoch. A
/// damaged checkpoint is moved aside (`NAME.damaged-TIME`) and the run fails, naming it.
pub fn train(
    spec: &RunSpec,
    until: usize,
    data: &Dataset,
    threads: usize,
    checkpoint: Option<&Path>,
    stop: &AtomicBool,
    observe: &mut (dyn FnMut(Event) -> Result<()> + Send),
) -> Result<()> {
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .context("cannot start worker threads")?;
    let job = Epochs {
        spec,
        until,
        data,
        checkpoint,
        stop,
        observe,
    };
    pool.install(|| match spec.device {
        Device::Cpu => device::on_cpu(job),
        Device::Cuda => device::on_cuda(spec.seed, job),
    })
}

/// The epoch loop's arguments, run on whichever device the spec names.
struct Epochs<'a, 'o> {
    spec: &'a RunSpec,
    until: usize,
    data: &'a Dataset,
    checkpoint: Option<&'a Path>,
    stop: &'a AtomicBool,
    observe: &'a mut (dyn FnMut(Event) -> Result<()> + Send + 'o),
}

impl DeviceJob for Epochs<'_, '_> {
    type Output = ();
    fn run<D: Backend>(self, dev: D) -> Result<()> {
        epochs(
            dev,
            self.spec,
            self.until,
            self.data,
            self.checkpoint,
            self.stop,
            self.observe,
        )
    }
}

fn epochs<D: Backend>(
    dev: D,
    spec: &RunSpec,
    until: usize,
    data: &Dataset,
    checkpoint: Option<&Path>,
    stop: &AtomicBool,
    observe: &mut (dyn FnMut(Event) -> Result<()> + Send),
) -> Result<()> {
    let mut trainer = Trainer::new(dev, *spec, data)?;
    if let Some(path) = checkpoint.filter(|p| p.exists()) {
        if let Err(e) = trainer.load_checkpoint(path) {
            // A file that cannot be read (permission denied) is not damaged: leave it be.
            if e.chain().any(|cause| cause.downcast_ref::<std::io::Error>().is_some()) {
                bail!("{e:#}; left as it is (fix its permissions, then rerun)");
            }
            let aside = path.with_file_name(format!(
                "{}.damaged-{}",
                path.file_name().unwrap_or_default().to_string_lossy(),
                now_unix()
            ));
            std::fs::rename(path, &aside).with_context(|| format!("{}: cannot move aside", path.display()))?;
            bail!(
                "{e:#}; moved it to {} — the run restarts from scratch when retried (`--retry-failed`)",
                aside.display()
            );
        }
    }
    observe(Event::Start {
        history: &trainer.history,
        predictions: &trainer.predictions,
        parameters: trainer.model.parameter_count(),
    })?;
    while !trainer.finished() && trainer.history.len() < until {
        if stop.load(Ordering::SeqCst) {
            bail!("interrupted by another run's failure (--fail-fast)");
        }
        trainer.run_epoch()?;
        if let Some(path) = checkpoint {
            trainer.save_checkpoint(path)?;
        }
        observe(Event::Epoch {
            history: &trainer.history,
            predictions: &trainer.predictions,
        })?;
    }
    Ok(())
}

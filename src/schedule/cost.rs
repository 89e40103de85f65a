//! What a plan will cost, said before it is spent: one short epoch measured on this CPU per
//! kind of run (model, architecture, batch size), scaled by each run's trials and epochs.

use super::epochs;
use super::planned::PlannedRun;
use crate::config::{Device, RunSpec};
use crate::data::Dataset;
use anyhow::Result;
use std::collections::BTreeMap;
use std::sync::atomic::AtomicBool;
use std::time::Instant;

/// Training and test trials a measurement epoch takes at most.
const SAMPLE_TRIALS: (usize, usize) = (256, 128);

/// The estimate of a plan: CPU seconds still to spend on CPU runs, and how many runs it
/// covers (CUDA runs and finished epochs aside).
pub struct Estimate {
    /// Single-thread CPU seconds of the epochs not trained yet.
    pub cpu_seconds: f64,
    /// Runs with epochs left (CPU runs only).
    pub runs: usize,
    /// Kinds of run measured.
    pub measured: usize,
}

/// The kind of a run for timing: what sets the cost of one trial.
fn kind(spec: &RunSpec) -> String {
    format!("{} {} {}", spec.model, spec.architecture(), spec.batch_size)
}

/// Seconds per trial (training and test together) of one epoch of `spec` on 1 thread,
/// measured on the first trials of `data`.
fn per_trial(spec: &RunSpec, data: &Dataset) -> Result<f64> {
    let sample = Dataset {
        train: data
            .train
            .select(&(0..data.train.len().min(SAMPLE_TRIALS.0)).collect::<Vec<_>>()),
        test: data
            .test
            .select(&(0..data.test.len().min(SAMPLE_TRIALS.1)).collect::<Vec<_>>()),
        ..data.clone()
    };
    let spec = RunSpec {
        epochs: 1,
        val_fraction: 0.0,
        device: Device::Cpu,
        ..*spec
    };
    let started = Instant::now();
    epochs::train(&spec, 1, &sample, 1, None, &AtomicBool::new(false), &mut |_| Ok(()))?;
    Ok(started.elapsed().as_secs_f64() / (sample.train.len() + sample.test.len()) as f64)
}

/// Estimates the CPU time `runs` still need on `data` (each run's own subject's or fold's
/// trials where it has them), measuring each kind of run once.
pub fn estimate(runs: &[PlannedRun], data: &Dataset, done_epochs: impl Fn(&PlannedRun) -> usize) -> Result<Estimate> {
    let mut rates: BTreeMap<String, f64> = BTreeMap::new();
    let mut out = Estimate {
        cpu_seconds: 0.0,
        runs: 0,
        measured: 0,
    };
    for run in runs.iter().filter(|r| r.record.config.device == Device::Cpu) {
        let left = run.until.saturating_sub(done_epochs(run));
        if left == 0 {
            continue;
        }
        let spec = &run.record.config;
        let rate = match rates.get(&kind(spec)) {
            Some(rate) => *rate,
            None => {
                let rate = per_trial(spec, data)?;
                rates.insert(kind(spec), rate);
                rate
            }
        };
        let trials = match &run.trials {
            Some(t) => t.train.len() + t.test.len(),
            None => data.train.len() + data.test.len(),
        };
        out.cpu_seconds += rate * trials as f64 * left as f64;
        out.runs += 1;
    }
    out.measured = rates.len();
    Ok(out)
}

/// A duration in words: "40 s", "12 min", "3.4 h".
pub fn duration(seconds: f64) -> String {
    match seconds {
        s if s < 1.0 => "under 1 s".into(),
        s if s < 90.0 => format!("{s:.0} s"),
        s if s < 5400.0 => format!("{:.0} min", s / 60.0),
        s => format!("{:.1} h", s / 3600.0),
    }
}

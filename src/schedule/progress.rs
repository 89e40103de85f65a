//! Progress reporting: bars on a terminal, periodic plain lines otherwise.

use super::planned::{Outcome, PlannedRun};
use crate::store::EpochMetrics;
use indicatif::{MultiProgress, ProgressBar, ProgressStyle};
use std::collections::HashMap;
use std::sync::Mutex;

/// Receives scheduler events (from several threads).
pub trait Progress: Sync {
    /// Before the first run: queued and skipped counts, parallelism.
    fn start(&self, queued: usize, skipped: usize, jobs: usize, threads: usize);
    /// After each epoch of a run.
    fn epoch(&self, run: &PlannedRun, metrics: &EpochMetrics);
    /// When a queued run ends (trained, failed or skipped).
    fn finish(&self, run: &PlannedRun, outcome: &Outcome);
}

fn label(run: &PlannedRun) -> String {
    let c = &run.record.config;
    format!("{} {}/{} s{}", run.id(), c.model, c.activation, c.seed)
}

/// An epoch's numbers; the validation accuracy (what a search ranks on) first when there is one.
fn epoch_text(m: &EpochMetrics) -> String {
    let val = m.val_acc.map(|v| format!("val {:.2}% ", 100.0 * v)).unwrap_or_default();
    format!(
        "loss {:.4} train {:.2}% {val}test {:.2}%",
        m.train_loss,
        100.0 * m.train_acc,
        100.0 * m.test_acc
    )
}

/// How a trained run ended: "done", or the epoch an early-stopping search trained it to.
fn trained(run: &PlannedRun) -> String {
    if run.until < run.record.config.epochs {
        format!(
            "trained to epoch {} of {} (a search rung)",
            run.until, run.record.config.epochs
        )
    } else {
        "done".into()
    }
}

/// Plain lines: the first epoch, every tenth of the run, and the end.
pub struct LogProgress;

impl Progress for LogProgress {
    fn start(&self, queued: usize, skipped: usize, jobs: usize, threads: usize) {
        println!("{queued} runs to train, {skipped} skipped; {jobs} at a time × {threads} threads");
    }

    fn epoch(&self, run: &PlannedRun, m: &EpochMetrics) {
        let (epochs, until) = (run.record.config.epochs, run.until);
        if m.epoch == 1 || m.epoch == until || m.epoch.is_multiple_of((until / 10).max(1)) {
            let eta = until.saturating_sub(m.epoch) as f64 * (m.train_seconds + m.eval_seconds);
            println!(
                "[{}] epoch {}/{epochs} {} (eta {eta:.0}s)",
                label(run),
                m.epoch,
                epoch_text(m)
            );
        }
    }

    fn finish(&self, run: &PlannedRun, outcome: &Outcome) {
        match outcome {
            Outcome::Trained => println!("[{}] {}", label(run), trained(run)),
            Outcome::Failed(e) => println!("[{}] FAILED: {e}", label(run)),
            Outcome::Skipped(why) => println!("[{}] skipped: {why}", label(run)),
        }
    }
}

/// An overall bar plus one bar per active run.
pub struct TerminalProgress {
    bars: MultiProgress,
    overall: Mutex<Option<ProgressBar>>,
    active: Mutex<HashMap<String, ProgressBar>>,
}

impl Default for TerminalProgress {
    fn default() -> Self {
        Self {
            bars: MultiProgress::new(),
            overall: Mutex::new(None),
            active: Mutex::new(HashMap::new()),
        }
    }
}

impl Progress for TerminalProgress {
    fn start(&self, queued: usize, skipped: usize, jobs: usize, threads: usize) {
        let bar = self.bars.add(ProgressBar::new(queued as u64));
        bar.set_style(
            ProgressStyle::with_template("{prefix} [{bar:30}] {pos}/{len} runs {elapsed_precise}")
                .expect("valid template")
                .progress_chars("=> "),
        );
        bar.set_prefix(format!("{skipped} skipped, {jobs}×{threads} threads"));
        *self.overall.lock().expect("progress lock") = Some(bar);
    }

    fn epoch(&self, run: &PlannedRun, m: &EpochMetrics) {
        let mut active = self.active.lock().expect("progress lock");
        let bar = active.entry(run.record.id()).or_insert_with(|| {
            let bar = self.bars.add(ProgressBar::new(run.record.config.epochs as u64));
            bar.set_style(
                ProgressStyle::with_template("  {prefix:32} {pos:>4}/{len} {msg} eta {eta}").expect("valid template"),
            );
            bar.set_prefix(label(run));
            bar
        });
        bar.set_position(m.epoch as u64);
        bar.set_message(epoch_text(m));
    }

    fn finish(&self, run: &PlannedRun, outcome: &Outcome) {
        if let Some(bar) = self.active.lock().expect("progress lock").remove(&run.record.id()) {
            bar.finish_and_clear();
        }
        if let Outcome::Failed(e) = outcome {
            let _ = self.bars.println(format!("[{}] FAILED: {e}", label(run)));
        }
        if let Some(bar) = self.overall.lock().expect("progress lock").as_ref() {
            bar.inc(1);
        }
    }
}

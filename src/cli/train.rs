//! `eegrun train`: one run through the scheduler's epoch loop (same devices, same
//! checkpoints), printing each epoch.

use super::args::TrainArgs;
use crate::atomic_write::write_output;
use crate::config::RunFields;
use crate::data::Source;
use crate::results::{summarize, EpochMetrics};
use crate::schedule::epochs::{self, Event};
use anyhow::{anyhow, Context, Result};
use std::sync::atomic::AtomicBool;

pub(super) fn command(args: TrainArgs) -> Result<()> {
    let architecture = super::args::architecture_fields(&args.set).map_err(|e| anyhow!("--set {e}"))?;
    let spec = RunFields {
        model: Some(args.model),
        activation: Some(args.activation),
        leaky_slope: Some(args.leaky_slope),
        dropout: args.dropout,
        epochs: Some(args.epochs),
        batch_size: Some(args.batch_size),
        lr: Some(args.lr),
        weight_decay: Some(args.weight_decay),
        seed: Some(args.seed),
        val_fraction: Some(args.val_fraction),
        device: Some(args.device),
        eegnet: architecture.eegnet,
        deepconvnet: architecture.deepconvnet,
        ..RunFields::default()
    }
    .resolve()
    .map_err(|e| anyhow!(e))?;
    let data = Source::parse(&args.data)?.load()?;
    println!(
        "data: {} — {} train / {} test trials of {}; chance {:.2}% (the majority class of the test set) (fingerprint {})",
        data.description,
        data.train.len(),
        data.test.len(),
        data.shape,
        100.0 * crate::results::chance_level(&data.test.y, data.shape.classes),
        data.fingerprint
    );
    crate::nn::model::ModelSpec::new(&spec, data.shape)
        .check()
        .map_err(|e| anyhow!("{e} (data: {}, {})", data.description, data.shape))?;
    let mut history = Vec::new();
    let mut show = |event: Event| -> Result<()> {
        match event {
            Event::Start {
                history: restored,
                parameters,
                ..
            } => {
                if let (Some(path), false) = (&args.checkpoint, restored.is_empty()) {
                    println!("resumed from {} after epoch {}", path.display(), restored.len());
                }
                let mut architecture = spec.architecture();
                if let Some(hz) = data.sfreq {
                    let sep = if architecture.is_empty() { "" } else { ", " };
                    architecture = format!("{architecture}{sep}{}", spec.kernel_in_seconds(hz));
                }
                println!(
                    "model: {} ({parameters} parameters), activation {}, dropout {}{}{architecture}",
                    spec.model,
                    spec.activation,
                    spec.dropout,
                    if architecture.is_empty() { "" } else { ", " }
                );
            }
            Event::Epoch { history: so_far, .. } => {
                print_epoch(so_far.last().expect("an epoch"), spec.epochs);
                history = so_far.to_vec();
            }
        }
        Ok(())
    };
    let threads = args.threads.unwrap_or_else(cores);
    let stop = AtomicBool::new(false);
    epochs::train(
        &spec,
        spec.epochs,
        &data,
        threads,
        args.checkpoint.as_deref(),
        &stop,
        &mut show,
    )?;
    let summary = summarize(&history).context("no epochs were run")?;
    println!(
        "highest test accuracy {:.2}% at epoch {}; final test {:.2}%, final train {:.2}%",
        100.0 * summary.best_test_acc,
        summary.best_test_epoch,
        100.0 * summary.final_test_acc,
        100.0 * summary.final_train_acc
    );
    if let (Some(acc), Some(epoch)) = (summary.test_acc_at_best_val, summary.best_val_epoch) {
        println!("test accuracy at best validation epoch {epoch}: {:.2}%", 100.0 * acc);
    }
    if let Some(path) = &args.metrics {
        let json = serde_json::json!({"config": spec, "summary": summary, "history": history});
        write_output(path, serde_json::to_string_pretty(&json)?.as_bytes())?;
    }
    Ok(())
}

fn print_epoch(m: &EpochMetrics, epochs: usize) {
    let val = m
        .val_acc
        .map(|v| format!(" val_acc {:6.2}%", 100.0 * v))
        .unwrap_or_default();
    println!(
        "epoch {:>4}/{epochs} train_loss {:.4} train_acc {:6.2}% test_loss {:.4} test_acc {:6.2}%{val} ({:.2}s + {:.2}s)",
        m.epoch,
        m.train_loss,
        100.0 * m.train_acc,
        m.test_loss,
        100.0 * m.test_acc,
        m.train_seconds,
        m.eval_seconds
    );
}

/// All cores of this machine.
fn cores() -> usize {
    std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1)
}

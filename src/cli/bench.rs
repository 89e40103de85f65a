//! `eegrun bench`: seconds per epoch through the epoch loop, and the PyTorch reference
//! (`torch_ref.py`) side by side when `torch` imports.

use super::args::BenchArgs;
use crate::config::{Device, RunFields};
use crate::data::synthetic;
use crate::schedule::epochs::{self, Event};
use anyhow::{anyhow, bail, Context, Result};
use std::sync::atomic::AtomicBool;

pub(super) fn command(args: BenchArgs) -> Result<()> {
    if args.epochs < 2 {
        bail!("--epochs must be ≥ 2 (the first epoch is a warm-up)");
    }
    let data = synthetic::generate(0, synthetic::TRIALS);
    let on_gpu = args.device == Device::Cuda;
    let torch = !args.no_torch && !on_gpu && torch_available(&args);
    let threads = if on_gpu { vec![1] } else { args.threads.clone() };
    println!("CPU: {}", crate::machine::cpu());
    println!("device: {}", args.device);
    println!(
        "seconds per epoch ({} train + {} eval trials, batch 64), median of epochs 2..={}",
        data.train.len(),
        data.test.len(),
        args.epochs
    );
    println!(
        "{:<12} {:>7} {:>10} {:>10} {:>8}",
        "model", "threads", "eegrun", "pytorch", "ratio"
    );
    for &model in &args.models {
        for &threads in &threads {
            let spec = RunFields {
                model: Some(model),
                activation: Some(args.activation),
                epochs: Some(args.epochs),
                device: Some(args.device),
                ..RunFields::default()
            }
            .resolve()
            .map_err(|e| anyhow!(e))?;
            let mut times = Vec::new();
            let mut time = |event: Event| -> Result<()> {
                if let Event::Epoch { history, .. } = event {
                    let m = history.last().expect("an epoch");
                    times.push(m.train_seconds + m.eval_seconds);
                }
                Ok(())
            };
            epochs::train(
                &spec,
                spec.epochs,
                &data,
                threads,
                None,
                &AtomicBool::new(false),
                &mut time,
            )?;
            let ours = median(&times[1..]);
            let reference = if torch {
                Some(torch_epoch_seconds(&args, model.name(), threads)?)
            } else {
                None
            };
            let (theirs, ratio) = match reference {
                Some(t) => (format!("{t:.3}"), format!("{:.2}", ours / t)),
                None => ("-".into(), "-".into()),
            };
            println!("{:<12} {threads:>7} {ours:>10.3} {theirs:>10} {ratio:>8}", model.name());
        }
    }
    if on_gpu && !args.no_torch {
        println!("(PyTorch reference skipped: torch_ref.py trains on the CPU; scripts/gpu-check.sh times PyTorch on the GPU)");
    } else if !torch && !args.no_torch {
        println!(
            "(PyTorch reference skipped: {} missing or `import torch` failed)",
            args.torch_ref.display()
        );
    }
    Ok(())
}

fn median(values: &[f64]) -> f64 {
    let mut v = values.to_vec();
    v.sort_by(|a, b| a.total_cmp(b));
    let mid = v.len() / 2;
    if v.len() % 2 == 1 {
        v[mid]
    } else {
        (v[mid - 1] + v[mid]) / 2.0
    }
}

fn torch_available(args: &BenchArgs) -> bool {
    args.torch_ref.is_file()
        && std::process::Command::new(&args.python)
            .args(["-c", "import torch, numpy"])
            .output()
            .map(|o| o.status.success())
            .unwrap_or(false)
}

/// Median epoch time of the PyTorch reference (epochs after the first).
fn torch_epoch_seconds(args: &BenchArgs, model: &str, threads: usize) -> Result<f64> {
    let json = std::env::temp_dir().join(format!("eegrun-bench-{}-{model}-{threads}.json", std::process::id()));
    let out = std::process::Command::new(&args.python)
        .arg(&args.torch_ref)
        .args(["--model", model, "--act", args.activation.name(), "--data", "synthetic"])
        .args(["--epochs", &args.epochs.to_string(), "--threads", &threads.to_string()])
        .arg("--json")
        .arg(&json)
        .output()
        .with_context(|| format!("cannot run {}", args.torch_ref.display()))?;
    if !out.status.success() {
        bail!(
            "{} failed: {}",
            args.torch_ref.display(),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let summary: serde_json::Value = serde_json::from_slice(&std::fs::read(&json)?)?;
    let _ = std::fs::remove_file(&json);
    let times: Vec<f64> = summary["history"]
        .as_array()
        .context("reference JSON lacks history")?
        .iter()
        .filter_map(|h| h["epoch_s"].as_f64())
        .collect();
    Ok(median(&times[1..]))
}

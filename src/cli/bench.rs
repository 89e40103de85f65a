//! `eegrun bench`: seconds per epoch through the epoch loop, and the PyTorch reference
//! (`torch_ref.py`) side by side when `torch` imports.

use super::args::BenchArgs;
use crate::config::{Device, ModelKind, RunFields};
use crate::data::{npz, Dataset, Shape, Source};
use crate::schedule::epochs::{self, Event};
use anyhow::{anyhow, bail, Context, Result};
use std::sync::atomic::AtomicBool;

pub(super) fn command(args: BenchArgs) -> Result<()> {
    if args.epochs < 2 {
        bail!("--epochs must be ≥ 2 (the first epoch is a warm-up)");
    }
    let source = Source::parse(&args.data)?;
    let data = source.load()?;
    let on_gpu = args.device == Device::Cuda;
    let torch = !args.no_torch && !on_gpu && torch_available(&args);
    // The reference reads the same trials: its own synthetic data where it is eegrun's
    // default, else files (written here for synthetic data of another size or shape).
    let exported = scratch_dir();
    let reference_data = match &source {
        Source::Synthetic {
            seed: 0,
            trials: 1080,
            shape,
        } if *shape == Shape::LAB => ReferenceData::Synthetic,
        Source::Synthetic { .. } if torch => {
            std::fs::create_dir_all(&exported)?;
            npz::write_split(&exported.join("train.npz"), &data.train, data.shape, data.sfreq)?;
            npz::write_split(&exported.join("test.npz"), &data.test, data.shape, data.sfreq)?;
            ReferenceData::Files(exported.clone())
        }
        Source::Synthetic { .. } => ReferenceData::Synthetic,
        Source::Dir(dir) | Source::Auto(dir) => ReferenceData::Files(dir.clone()),
    };
    let result = measure(&args, &data, torch, on_gpu, &reference_data);
    let _ = std::fs::remove_dir_all(&exported);
    result
}

/// What the reference trains on.
enum ReferenceData {
    /// Its own synthetic data (the lab's shape, 1080 + 1080 trials, the same as eegrun's
    /// `synthetic`).
    Synthetic,
    /// A train.npz/test.npz pair or the lab's four files.
    Files(std::path::PathBuf),
}

/// A folder for the data bench hands the reference, removed when bench ends.
fn scratch_dir() -> std::path::PathBuf {
    std::env::temp_dir().join(format!("eegrun-bench-data-{}", std::process::id()))
}

fn measure(args: &BenchArgs, data: &Dataset, torch: bool, on_gpu: bool, reference_data: &ReferenceData) -> Result<()> {
    let threads = if on_gpu { vec![1] } else { args.threads.clone() };
    let configs: Vec<(ModelKind, usize)> = args
        .models
        .iter()
        .flat_map(|&model| threads.iter().map(move |&t| (model, t)))
        .collect();
    println!("CPU: {}", crate::nn::device::cpu_with_kernels());
    println!("device: {}", args.device);
    println!("data: {} ({})", data.description, data.shape);
    println!(
        "seconds per epoch ({} train + {} eval trials, batch 64), median of epochs 2..={}",
        data.train.len(),
        data.test.len(),
        args.epochs
    );
    // rounds[config]: (eegrun, PyTorch) seconds per epoch, one pair per round.
    let mut rounds: Vec<Vec<(f64, Option<f64>)>> = vec![Vec::new(); configs.len()];
    for round in 0..args.rounds {
        for (&(model, threads), measured) in configs.iter().zip(&mut rounds) {
            let reference = || torch_epoch_seconds(args, reference_data, model.name(), threads);
            // Alternating who goes first spreads a slow stretch of the machine over both.
            let torch_first = torch && round % 2 == 1;
            let early = if torch_first { Some(reference()?) } else { None };
            let ours = eegrun_epoch_seconds(args, data, model, threads)?;
            let theirs = match early {
                Some(t) => Some(t),
                None if torch => Some(reference()?),
                None => None,
            };
            if args.rounds > 1 {
                println!(
                    "round {}/{}: {} {}: eegrun {ours:.3}, pytorch {}",
                    round + 1,
                    args.rounds,
                    model.name(),
                    crate::plural::count(threads, "thread", "threads"),
                    theirs.map_or("-".into(), |t| format!("{t:.3}"))
                );
            }
            measured.push((ours, theirs));
        }
    }
    if args.rounds > 1 {
        println!(
            "medians of {} rounds; ratio: the median of the rounds' ratios (each round runs both back to back)",
            args.rounds
        );
    }
    println!(
        "{:<12} {:>7} {:>10} {:>10} {:>8}{}",
        "model",
        "threads",
        "eegrun",
        "pytorch",
        "ratio",
        if args.rounds > 1 { "  per round" } else { "" }
    );
    for (&(model, threads), measured) in configs.iter().zip(&rounds) {
        let ours = median(&measured.iter().map(|m| m.0).collect::<Vec<_>>());
        let theirs: Vec<f64> = measured.iter().filter_map(|m| m.1).collect();
        let ratios: Vec<f64> = measured.iter().filter_map(|m| Some(m.0 / m.1?)).collect();
        let (theirs, ratio, per_round) = if ratios.is_empty() {
            ("-".into(), "-".into(), String::new())
        } else {
            let listed: Vec<String> = ratios.iter().map(|r| format!("{r:.2}")).collect();
            (
                format!("{:.3}", median(&theirs)),
                format!("{:.2}", median(&ratios)),
                if args.rounds > 1 {
                    format!("  {}", listed.join(" "))
                } else {
                    String::new()
                },
            )
        };
        println!(
            "{:<12} {threads:>7} {ours:>10.3} {theirs:>10} {ratio:>8}{per_round}",
            model.name()
        );
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

/// Median seconds per epoch of one eegrun training (epochs after the first).
fn eegrun_epoch_seconds(args: &BenchArgs, data: &Dataset, model: ModelKind, threads: usize) -> Result<f64> {
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
        data,
        threads,
        None,
        &AtomicBool::new(false),
        &mut time,
    )?;
    Ok(median(&times[1..]))
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
fn torch_epoch_seconds(args: &BenchArgs, data: &ReferenceData, model: &str, threads: usize) -> Result<f64> {
    let json = std::env::temp_dir().join(format!("eegrun-bench-{}-{model}-{threads}.json", std::process::id()));
    let mut command = std::process::Command::new(&args.python);
    command.arg(&args.torch_ref);
    match data {
        ReferenceData::Synthetic => command.args(["--data", "synthetic"]),
        ReferenceData::Files(dir) => command.args(["--data", "real", "--data-dir"]).arg(dir),
    };
    let out = command
        .args(["--model", model, "--act", args.activation.name()])
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
    let text = std::fs::read(&json);
    let _ = std::fs::remove_file(&json);
    let what = || format!("{}'s --json output", args.torch_ref.display());
    let summary: serde_json::Value =
        serde_json::from_slice(&text.with_context(what)?).with_context(|| format!("{}: not JSON", what()))?;
    let times: Vec<f64> = summary["history"]
        .as_array()
        .with_context(|| format!("{}: no 'history' list", what()))?
        .iter()
        .filter_map(|h| h["epoch_s"].as_f64())
        .collect();
    if times.len() < 2 {
        bail!(
            "{}: {} epoch times ('epoch_s'); bench needs at least 2, the first being warm-up",
            what(),
            times.len()
        );
    }
    Ok(median(&times[1..]))
}

//! Command-line interface (clap): `run` (also `eegrun FILE.toml`), `train`, `models`, `bench`.

use crate::data::{synthetic, Source};
use crate::nn::model::{Model, ModelKind, ModelSpec};
use crate::nn::train::{EpochMetrics, TrainConfig, Trainer};
use crate::nn::{Activation, Backend};
use anyhow::{bail, Context, Result};
use clap::{Args, Parser, Subcommand, ValueEnum};
use dfdx::prelude::*;
use std::path::PathBuf;

/// Train the lab's EEG classifiers (EEGNet, DeepConvNet) with dfdx.
#[derive(Parser, Debug)]
#[command(
    name = "eegrun",
    version,
    about,
    long_about = None,
    after_help = "Examples:
  eegrun experiments/activations.toml              the report's activation study (EEGNet, DeepConvNet × 3 activations)
  eegrun experiments/dropout.toml --set epochs=50  the dropout study, shortened
  eegrun experiments/activations.toml --dry-run    list runs, ids and states
  eegrun summarize runs/                           tables (mean ± sd over seeds), summary.csv/.parquet, plots
  eegrun train --model deepconvnet --activation elu --epochs 300 --data data/

Data: put the lab's S4b_/X11b_ train/test .npz files in data/; without them eegrun uses built-in synthetic data."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Run an experiment file: expand its grid/search into runs, train what is not done
    /// yet (in parallel, resuming interrupted runs), and print the results table.
    ///
    /// `eegrun experiments/activations.toml` is short for `eegrun run experiments/activations.toml`.
    Run(RunArgs),
    /// Train one model and print per-epoch metrics and the highest test accuracy.
    ///
    /// Example: eegrun train --model eegnet --activation relu --epochs 5 --data synthetic
    Train(TrainArgs),
    /// Submit an experiment's unfinished runs to Slurm as one job array (one task per run,
    /// same run store, locks and resume rules as local runs).
    ///
    /// Example: eegrun slurm experiments/activations.toml --partition gpu --gpus-per-task 1 --time 4:00:00
    Slurm(SlurmArgs),
    /// Summarise run folders: the report's table (mean ± sd over seeds), summary.csv and
    /// summary.parquet, and comparison plots.
    ///
    /// Example: eegrun summarize runs/ --filter experiment=activations --format markdown
    Summarize(SummarizeArgs),
    /// Compare finished runs with a recorded baseline; exit 1 when any configuration's
    /// seed-mean accuracy dropped by more than the tolerance.
    ///
    /// Example: eegrun check runs/ --baseline baselines/eegmmidb.json
    Check(CheckArgs),
    /// Print each model's layers, output shapes and parameter counts.
    Models,
    /// Measure seconds per epoch (1080 train + 1080 eval trials, synthetic data), and
    /// the PyTorch reference side by side when `torch` is importable.
    Bench(BenchArgs),
}

/// Where tensors live.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum DeviceKind {
    Cpu,
    Cuda,
}

#[derive(Args, Debug)]
pub struct RunArgs {
    #[command(flatten)]
    pub selection: ExperimentArgs,
    /// Concurrent runs, ≥ 1 [default: cores, at most the number of runs]
    #[arg(long, value_parser = at_least_one)]
    pub jobs: Option<usize>,
    /// Threads per run, ≥ 1 [default: cores / jobs]
    #[arg(long, value_parser = at_least_one)]
    pub threads: Option<usize>,
    /// List the runs with their ids and states (done, partial, failed, pending); train nothing
    #[arg(long)]
    pub dry_run: bool,
    /// Stop at the first failed run
    #[arg(long)]
    pub fail_fast: bool,
    /// Rerun only the runs that failed
    #[arg(long)]
    pub retry_failed: bool,
    /// Train only the run with this id (as listed by --dry-run; used by Slurm array tasks)
    #[arg(long)]
    pub run_id: Option<String>,
}

/// Which experiment, with which overrides, on which data, into which store.
#[derive(Args, Debug, Clone)]
pub struct ExperimentArgs {
    /// Experiment file (or the name of one in experiments/)
    pub experiment: String,
    /// Override a field for every run, e.g. --set epochs=2 or --set seed=[0,1,2] (a list
    /// becomes a grid axis); repeatable
    #[arg(long = "set", value_name = "KEY=VALUE")]
    pub overrides: Vec<String>,
    /// Train on this device (same as --set device=...)
    #[arg(long, value_enum)]
    pub device: Option<DeviceKind>,
    /// Use this data source instead of the file's `data` (a folder, `synthetic[:SEED]`, `auto`)
    #[arg(long)]
    pub data: Option<String>,
    /// Root folder of the run store
    #[arg(long, default_value = "runs")]
    pub runs_dir: PathBuf,
    /// Refuse experiments that expand to more runs than this
    #[arg(long, default_value_t = crate::experiment::DEFAULT_MAX_RUNS, value_parser = at_least_one)]
    pub max_runs: usize,
}

/// A count that must be at least 1.
fn at_least_one(text: &str) -> Result<usize, String> {
    match text.parse::<usize>() {
        Ok(n) if n >= 1 => Ok(n),
        _ => Err(format!("expected a whole number ≥ 1, got '{text}'")),
    }
}

impl ExperimentArgs {
    /// The experiment with overrides applied, its data, and its planned runs.
    pub fn plan(
        &self,
    ) -> Result<(
        crate::experiment::Experiment,
        crate::data::Dataset,
        Vec<crate::schedule::PlannedRun>,
    )> {
        let path = crate::experiment::resolve_path(&self.experiment);
        let mut experiment = crate::experiment::Experiment::load(&path)?;
        experiment.max_runs = self.max_runs;
        let mut overrides = self.overrides.clone();
        if let Some(device) = self.device {
            overrides.push(format!("device={}", format!("{device:?}").to_lowercase()));
        }
        experiment.apply_overrides(&overrides)?;
        let data = Source::parse(self.data.as_deref().unwrap_or(experiment.data_source()))?.load()?;
        let runs = crate::schedule::plan(&experiment, &data, &self.runs_dir)?;
        println!(
            "experiment {} ({}): {} runs on {}",
            experiment.name,
            path.display(),
            runs.len(),
            data.description
        );
        Ok((experiment, data, runs))
    }
}

/// Options of `eegrun slurm`.
#[derive(Args, Debug)]
pub struct SlurmArgs {
    #[command(flatten)]
    pub selection: ExperimentArgs,
    /// Slurm partition (or a comma-separated list)
    #[arg(long, value_parser = crate::slurm::parse_partition)]
    pub partition: Option<String>,
    /// GPUs per array task, ≥ 1 (sets --device cuda unless --device is given)
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..))]
    pub gpus_per_task: Option<u32>,
    /// CPUs per array task, ≥ 1 (eegrun uses them as threads)
    #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(u32).range(1..))]
    pub cpus_per_task: u32,
    /// Time limit per task, in Slurm's format (e.g. 90, 2:00:00, 1-12)
    #[arg(long, value_parser = crate::slurm::parse_time)]
    pub time: Option<String>,
    /// At most this many tasks at once (the array's %K), ≥ 1
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..))]
    pub max_parallel: Option<u32>,
    /// Write and print the sbatch script without submitting it
    #[arg(long)]
    pub dry_run: bool,
}

#[derive(Args, Debug)]
pub struct SummarizeArgs {
    /// A runs folder (any experiment), an experiment folder, or one run
    #[arg(default_value = "runs")]
    pub runs_dir: PathBuf,
    /// Output on stdout
    #[arg(long, value_enum, default_value_t = crate::report::Format::Table)]
    pub format: crate::report::Format,
    /// Configuration columns to group by (runs in a group are averaged)
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "experiment,model,activation,dropout,batch_size,lr,weight_decay"
    )]
    pub group_by: Vec<String>,
    /// Keep runs where COLUMN=VALUE (also !=, <, <=, >, >=); repeatable, all must hold
    #[arg(long = "filter", value_name = "COLUMN=VALUE")]
    pub filters: Vec<String>,
    /// Where summary.csv, summary.parquet and plots/ go [default: the runs folder]
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Skip the plots
    #[arg(long)]
    pub no_plots: bool,
}

#[derive(Args, Debug)]
pub struct CheckArgs {
    /// Runs folder to check
    #[arg(default_value = "runs")]
    pub runs_dir: PathBuf,
    /// Baseline file (JSON)
    #[arg(long)]
    pub baseline: PathBuf,
    /// Allowed drop in percentage points, finite and ≥ 0 [default: the baseline's]
    #[arg(long, allow_negative_numbers = true)]
    pub tolerance: Option<f64>,
    /// Record the current accuracies as the new baseline instead of checking (refused when
    /// no finished run matches)
    #[arg(long)]
    pub update: bool,
    /// Also fail on configurations that are in the runs but not in the baseline
    #[arg(long)]
    pub strict: bool,
    /// Keep runs where COLUMN=VALUE; repeatable
    #[arg(long = "filter", value_name = "COLUMN=VALUE")]
    pub filters: Vec<String>,
}

#[derive(Args, Debug)]
pub struct TrainArgs {
    /// eegnet or deepconvnet
    #[arg(long, default_value = "eegnet")]
    pub model: String,
    /// relu, leaky_relu or elu
    #[arg(long, default_value = "relu")]
    pub activation: String,
    /// Negative slope of leaky_relu (PyTorch's default)
    #[arg(long, default_value_t = 0.01)]
    pub leaky_slope: f32,
    /// Dropout probability [default: 0.25 for eegnet, 0.5 for deepconvnet]
    #[arg(long)]
    pub dropout: Option<f32>,
    #[arg(long, default_value_t = 300)]
    pub epochs: usize,
    #[arg(long, default_value_t = 64)]
    pub batch_size: usize,
    /// Adam learning rate
    #[arg(long, default_value_t = 1e-3)]
    pub lr: f32,
    /// L2 penalty added to the gradient, as torch.optim.Adam's weight_decay
    #[arg(long, default_value_t = 0.0)]
    pub weight_decay: f32,
    /// Seeds initialisation, shuffling, dropout and the validation split
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Hold out this class-balanced fraction of the training set for validation and also
    /// report the test accuracy at the best validation epoch (0 = the lab's protocol)
    #[arg(long, default_value_t = 0.0)]
    pub val_fraction: f32,
    /// A folder holding the lab's four files (S4b_train.npz, X11b_train.npz,
    /// S4b_test.npz, X11b_test.npz) or train.npz + test.npz; `synthetic[:SEED]` for the
    /// built-in data; `auto` uses data/ when it holds files, else synthetic
    #[arg(long, default_value = "auto")]
    pub data: String,
    /// Threads for this run, ≥ 1 [default: all cores]
    #[arg(long, value_parser = at_least_one)]
    pub threads: Option<usize>,
    #[arg(long, value_enum, default_value_t = DeviceKind::Cpu)]
    pub device: DeviceKind,
    /// Write the per-epoch metrics and the summary to this JSON file
    #[arg(long)]
    pub metrics: Option<PathBuf>,
    /// Save a checkpoint here after every epoch; resume from it if it exists
    #[arg(long)]
    pub checkpoint: Option<PathBuf>,
}

#[derive(Args, Debug)]
pub struct BenchArgs {
    /// Epochs per measurement; the first is a warm-up, the median of the rest is reported
    #[arg(long, default_value_t = 6)]
    pub epochs: usize,
    /// Thread counts to measure
    #[arg(long, value_delimiter = ',', default_value = "1,2", value_parser = at_least_one)]
    pub threads: Vec<usize>,
    /// Models to measure
    #[arg(long, value_delimiter = ',', default_value = "eegnet,deepconvnet")]
    pub models: Vec<String>,
    #[arg(long, default_value = "elu")]
    pub activation: String,
    /// PyTorch reference script; skipped when missing or when torch is not importable
    #[arg(long, default_value = "../shared/reference/torch_ref.py")]
    pub torch_ref: PathBuf,
    /// Python interpreter for the reference
    #[arg(long, default_value = "python3")]
    pub python: String,
    /// Measure eegrun only
    #[arg(long)]
    pub no_torch: bool,
}

/// Runs the parsed command.
pub fn run(cli: Cli) -> Result<()> {
    match cli.command {
        Command::Run(args) => run_experiment(args),
        Command::Slurm(args) => crate::slurm::submit(args),
        Command::Train(args) => train(args),
        Command::Summarize(args) => summarize(args),
        Command::Check(args) => check(args),
        Command::Models => {
            print_models();
            Ok(())
        }
        Command::Bench(args) => bench(args),
    }
}

/// Runs `f` inside a rayon pool of `threads` threads (all cores when `None`).
pub fn with_threads<R: Send>(threads: Option<usize>, f: impl FnOnce() -> R + Send) -> Result<R> {
    let mut builder = rayon::ThreadPoolBuilder::new();
    if let Some(n) = threads {
        if n == 0 {
            bail!("--threads must be ≥ 1");
        }
        builder = builder.num_threads(n);
    }
    Ok(builder.build().context("cannot start worker threads")?.install(f))
}

/// Rewrites `eegrun FILE.toml ...` to `eegrun run FILE.toml ...`.
pub fn normalize_args(mut args: Vec<String>) -> Vec<String> {
    const COMMANDS: [&str; 8] = ["run", "slurm", "train", "summarize", "check", "models", "bench", "help"];
    if let Some(first) = args.get(1) {
        if !first.starts_with('-') && !COMMANDS.contains(&first.as_str()) {
            args.insert(1, "run".into());
        }
    }
    args
}

fn run_experiment(args: RunArgs) -> Result<()> {
    use crate::experiment::describe;
    use crate::schedule::{self, describe_state, LogProgress, Outcome, Progress, TerminalProgress};
    use std::io::IsTerminal;
    let (experiment, data, mut runs) = args.selection.plan()?;
    if let Some(id) = &args.run_id {
        runs.retain(|r| &r.record.id() == id);
        if runs.is_empty() {
            bail!(
                "run id {id} is not in experiment '{}' (with these overrides); see --dry-run",
                experiment.name
            );
        }
    }
    if args.dry_run {
        for run in &runs {
            println!(
                "  {}  {:<22} {}",
                run.record.id(),
                describe_state(run),
                describe(&run.record.config)
            );
        }
        return Ok(());
    }
    let options = schedule::Options {
        jobs: args.jobs,
        threads: args.threads,
        fail_fast: args.fail_fast,
        retry_failed: args.retry_failed,
    };
    let progress: Box<dyn Progress> = if std::io::stdout().is_terminal() {
        Box::<TerminalProgress>::default()
    } else {
        Box::new(LogProgress)
    };
    let outcomes = schedule::execute(&runs, &data, &options, progress.as_ref())?;
    drop(progress);
    let infos: Vec<crate::report::RunInfo> = runs
        .iter()
        .filter_map(|r| crate::report::RunInfo::read(&r.dir.path).ok())
        .collect();
    let by: Vec<String> = crate::report::DEFAULT_GROUP_BY.iter().map(|s| s.to_string()).collect();
    println!(
        "\n{}",
        crate::report::render_summary(&infos, &by, &[], crate::report::Format::Table)?
    );
    let states: Vec<crate::store::RunState> = runs.iter().map(schedule::planned_state).collect();
    let broken: Vec<String> = runs
        .iter()
        .zip(&states)
        .filter(|(_, s)| s.needs_repair())
        .map(|(r, s)| format!("{} {s}", r.record.id()))
        .collect();
    broken.iter().for_each(|line| println!("{line}"));
    if !broken.is_empty() {
        let failed = outcomes.iter().filter(|o| matches!(o, Outcome::Failed(_))).count();
        bail!(
            "{} of {} runs failed or are unreadable or inconsistent ({failed} failed just now; listed above); rerun with --retry-failed",
            broken.len(),
            runs.len()
        );
    }
    let unfinished = states.iter().filter(|s| **s != crate::store::RunState::Done).count();
    if unfinished > 0 {
        bail!(
            "{unfinished} runs did not finish ({})",
            if args.retry_failed {
                "--retry-failed trains only failed runs; run without it for the rest"
            } else {
                "another process holds them, or --fail-fast stopped them"
            }
        );
    }
    Ok(())
}

fn summarize(args: SummarizeArgs) -> Result<()> {
    use crate::report::{plots, scan, summary};
    let (runs, warnings) = scan(&args.runs_dir)?;
    warnings.iter().for_each(|w| eprintln!("warning: {w}"));
    let mut frame = summary::filter(summary::runs_frame(&runs)?, &args.filters)?;
    if frame.height() == 0 {
        bail!(
            "{}: no runs to summarise{}",
            args.runs_dir.display(),
            if args.filters.is_empty() {
                ""
            } else {
                " (after --filter)"
            }
        );
    }
    print!(
        "{}",
        crate::report::render_summary(&runs, &args.group_by, &args.filters, args.format)?
    );
    let out = args.out.clone().unwrap_or_else(|| args.runs_dir.clone());
    summary::write_files(&mut frame, &out)?;
    let kept: std::collections::HashSet<String> = (0..frame.height())
        .filter_map(|i| summary::cell_text(&frame, "run_id", i).ok())
        .collect();
    let selected: Vec<crate::report::RunInfo> = runs.into_iter().filter(|r| kept.contains(&r.id)).collect();
    let written = if args.no_plots {
        Vec::new()
    } else {
        plots::write_all(&selected, &out.join("plots"))?
    };
    eprintln!(
        "wrote {} and {}{}",
        out.join("summary.csv").display(),
        out.join("summary.parquet").display(),
        if written.is_empty() {
            String::new()
        } else {
            format!(" and {} plots in {}", written.len(), out.join("plots").display())
        }
    );
    Ok(())
}

fn check(args: CheckArgs) -> Result<()> {
    use crate::report::check::{self, Baseline, Verdict};
    use crate::report::{scan, summary};
    let tolerance = args.tolerance.map(check::check_tolerance).transpose()?;
    let (runs, warnings) = scan(&args.runs_dir)?;
    warnings.iter().for_each(|w| eprintln!("warning: {w}"));
    let done: Vec<crate::report::RunInfo> = runs.into_iter().filter(|r| r.state() == "done").collect();
    let frame = summary::filter(summary::runs_frame(&done)?, &args.filters)?;
    let by: Vec<String> = crate::report::DEFAULT_GROUP_BY
        .iter()
        .chain(&["epochs"])
        .map(|s| s.to_string())
        .collect();
    let current = if frame.height() == 0 {
        Vec::new()
    } else {
        check::entries(&summary::grouped(&frame, &by)?, &by)?
    };
    if current.is_empty() {
        bail!(
            "{}: no finished runs{} — nothing to {}",
            args.runs_dir.display(),
            if args.filters.is_empty() { "" } else { " match --filter" },
            if args.update { "record" } else { "check" }
        );
    }
    if args.update {
        let tolerance = match tolerance {
            Some(t) => t,
            None => match check::load(&args.baseline) {
                Ok(b) => b.tolerance,
                Err(_) if !args.baseline.exists() => 3.0,
                Err(e) => return Err(e.context("cannot keep its tolerance: give --tolerance")),
            },
        };
        check::save(
            &args.baseline,
            &Baseline {
                tolerance,
                entries: current.clone(),
            },
        )?;
        println!(
            "recorded {} configurations in {} (tolerance {tolerance} points)",
            current.len(),
            args.baseline.display()
        );
        return Ok(());
    }
    let baseline = check::load(&args.baseline)?;
    let tolerance = tolerance.unwrap_or(baseline.tolerance);
    let comparisons = check::compare(&baseline, &current, tolerance);
    let num = |v: Option<f64>| v.map(|v| format!("{v:.2}")).unwrap_or_else(|| "-".into());
    let rows: Vec<Vec<String>> = comparisons
        .iter()
        .map(|c| {
            let delta = c
                .current
                .zip(c.baseline)
                .map(|(a, b)| format!("{:+.2}", a - b))
                .unwrap_or_else(|| "-".into());
            let verdict = match c.verdict {
                Verdict::Ok => "ok",
                Verdict::Regressed => "REGRESSED",
                Verdict::Missing => "MISSING",
                Verdict::New if args.strict => "NEW (not in baseline; --strict)",
                Verdict::New => "new (not in baseline)",
            };
            vec![
                c.key.clone(),
                c.metric.into(),
                num(c.baseline),
                num(c.current),
                delta,
                verdict.into(),
            ]
        })
        .collect();
    let header = ["configuration", "metric", "baseline", "current", "delta", "verdict"]
        .map(String::from)
        .to_vec();
    print!("{}", summary::render_text(&(header, rows), false));
    let count = |v: Verdict| comparisons.iter().filter(|c| c.verdict == v).count();
    let (regressed, missing, new) = (count(Verdict::Regressed), count(Verdict::Missing), count(Verdict::New));
    if new > 0 {
        eprintln!(
            "{} {new} configurations in {} are not in the baseline (record them with --update)",
            if args.strict { "error:" } else { "warning:" },
            args.runs_dir.display()
        );
    }
    if regressed + missing > 0 || (args.strict && new > 0) {
        bail!(
            "check failed against {} (tolerance {tolerance} points): {regressed} regressed, {missing} missing{}",
            args.baseline.display(),
            if args.strict {
                format!(", {new} not in the baseline")
            } else {
                String::new()
            }
        );
    }
    println!(
        "all {} configurations of {} within {tolerance} points",
        baseline.entries.len(),
        args.baseline.display()
    );
    Ok(())
}

fn train(args: TrainArgs) -> Result<()> {
    let config = TrainConfig {
        model: args.model.clone(),
        activation: args.activation.clone(),
        leaky_slope: args.leaky_slope,
        dropout: args.dropout,
        epochs: args.epochs,
        batch_size: args.batch_size,
        lr: args.lr,
        weight_decay: args.weight_decay,
        seed: args.seed,
        val_fraction: args.val_fraction,
        device: format!("{:?}", args.device).to_lowercase(),
        ..TrainConfig::default()
    };
    config.model_spec()?;
    let source = Source::parse(&args.data)?;
    let data = source.load()?;
    println!(
        "data: {} — {} train / {} test trials (fingerprint {})",
        data.description,
        data.train.len(),
        data.test.len(),
        data.fingerprint
    );
    match args.device {
        DeviceKind::Cpu => with_threads(args.threads, || {
            train_on(Cpu::seed_from_u64(config.seed), config, &data, &args)
        })?,
        DeviceKind::Cuda => train_cuda(config, &data, &args),
    }
}

#[cfg(feature = "cuda")]
fn train_cuda(config: TrainConfig, data: &crate::data::Dataset, args: &TrainArgs) -> Result<()> {
    let dev =
        Cuda::try_seed_from_u64(config.seed).map_err(|e| anyhow::anyhow!("cannot open the CUDA device: {e:?}"))?;
    train_on(dev, config, data, args)
}

#[cfg(not(feature = "cuda"))]
fn train_cuda(_: TrainConfig, _: &crate::data::Dataset, _: &TrainArgs) -> Result<()> {
    bail!("--device cuda: this eegrun was built without CUDA; rebuild with `cargo build --release --features cuda`")
}

fn train_on<D: Backend>(dev: D, config: TrainConfig, data: &crate::data::Dataset, args: &TrainArgs) -> Result<()> {
    let mut trainer = Trainer::new(dev, config, data)?;
    if let Some(path) = args.checkpoint.as_ref().filter(|p| p.exists()) {
        trainer.load_checkpoint(path)?;
        println!("resumed from {} after epoch {}", path.display(), trainer.history.len());
    }
    let spec = trainer.model.spec;
    println!(
        "model: {} ({} parameters), activation {}, dropout {}",
        spec.kind.name(),
        trainer.model.parameter_count(),
        spec.activation.name(),
        spec.dropout
    );
    while !trainer.finished() {
        let m = trainer.run_epoch()?.clone();
        print_epoch(&m, trainer.config.epochs);
        if let Some(path) = &args.checkpoint {
            trainer.save_checkpoint(path)?;
        }
    }
    let summary = trainer.summary().context("no epochs were run")?;
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
        let json = serde_json::json!({"config": trainer.config, "summary": summary, "history": trainer.history});
        crate::nn::checkpoint::write_atomic(path, serde_json::to_string_pretty(&json)?.as_bytes())?;
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

fn print_models() {
    let dev = Cpu::default();
    for kind in ModelKind::ALL {
        let spec = ModelSpec {
            kind,
            activation: Activation::Elu { alpha: 1.0 },
            dropout: kind.default_dropout(),
        };
        let model = Model::new(&dev, spec, &mut rand::rngs::mock::StepRng::new(0, 1));
        println!("{} (input [-1, 1, 2, 750], activation shown as ELU)", kind.name());
        println!("{:<34} {:<22} {:>9}", "Layer", "Output shape", "Params");
        println!("{}", "-".repeat(67));
        for (layer, shape, params) in model.summary() {
            println!("{layer:<34} {shape:<22} {params:>9}");
        }
        println!("{}", "-".repeat(67));
        println!("{:<57} {:>9}\n", "Total params", model.parameter_count());
    }
}

fn bench(args: BenchArgs) -> Result<()> {
    if args.epochs < 2 {
        bail!("--epochs must be ≥ 2 (the first epoch is a warm-up)");
    }
    let data = synthetic::generate(0, synthetic::TRIALS);
    let torch = !args.no_torch && torch_available(&args);
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
    for model in &args.models {
        for &threads in &args.threads {
            let config = TrainConfig {
                model: model.clone(),
                activation: args.activation.clone(),
                epochs: args.epochs,
                ..TrainConfig::default()
            };
            let ours = with_threads(Some(threads), || -> Result<f64> {
                let mut trainer = Trainer::new(Cpu::seed_from_u64(0), config.clone(), &data)?;
                let mut times = Vec::new();
                while !trainer.finished() {
                    let m = trainer.run_epoch()?;
                    times.push(m.train_seconds + m.eval_seconds);
                }
                Ok(median(&times[1..]))
            })??;
            let reference = if torch {
                Some(torch_epoch_seconds(&args, model, threads)?)
            } else {
                None
            };
            let (theirs, ratio) = match reference {
                Some(t) => (format!("{t:.3}"), format!("{:.2}", ours / t)),
                None => ("-".into(), "-".into()),
            };
            println!("{model:<12} {threads:>7} {ours:>10.3} {theirs:>10} {ratio:>8}");
        }
    }
    if !torch && !args.no_torch {
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
        .args(["--model", model, "--act", &args.activation, "--data", "synthetic"])
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

//! Command-line interface (clap): argument types in [`args`], one file per command. A
//! command turns its arguments into the library's plain types and prints what comes back.

pub mod args;
mod bench;
mod check;
mod devices;
mod launch;
mod models;
mod report;
mod rounds;
mod run;
mod run_search;
mod select;
mod slurm;
mod summarize;
mod train;

use args::{BenchArgs, CheckArgs, ModelsArgs, ReportArgs, RunArgs, SlurmArgs, SummarizeArgs, TrainArgs};
use clap::{CommandFactory, Parser, Subcommand};

/// Train the lab's EEG classifiers (EEGNet, DeepConvNet) with dfdx.
#[derive(Parser, Debug)]
#[command(
    name = "eegrun",
    version = crate::nn::device::version(),
    about,
    long_about = None,
    after_help = "Examples:
  eegrun experiments/activations.toml              the report's activation study (EEGNet, DeepConvNet × 3 activations)
  eegrun experiments/dropout.toml --set epochs=50  the dropout study, shortened
  eegrun experiments/activations.toml --dry-run    list runs, ids and states
  eegrun summarize runs/                           tables (mean ± sd over seeds), summary.csv/.parquet, plots
  eegrun train --model deepconvnet --activation elu --epochs 300 --data data/

Data: put the lab's S4b_/X11b_ train/test .npz files in data/; without them eegrun uses built-in synthetic data.

Environment: EEGRUN_KERNELS=avx512|avx2|baseline picks the CPU kernels' instruction set by hand
(default: the best this CPU has; every choice gives the same numbers, only the speed differs)."
)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// eegrun's commands.
#[derive(Subcommand, Debug)]
pub enum Command {
    /// Run an experiment file: expand its grid/search into runs, train what is not done
    /// yet (in parallel, resuming interrupted runs), and print the results table. A search
    /// with early stopping or TPE trains one rung at a time, decides by validation results,
    /// and ends with the chosen run's test accuracy (README "Search").
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
    /// Summarise run folders: the grouped table (mean ± sd over seeds), the study in the
    /// lab report's layout, every paired comparison with its 95% interval and the
    /// findings (each comparison: A better, equivalent within the margin, or undecided;
    /// the lab report's claims: supported, contradicted or undecided), summary.csv,
    /// summary.parquet, findings.txt, findings.json and plots (seed bands, dropout with
    /// error bars, pairwise differences, a search's runs against each searched setting).
    ///
    /// Comparisons pair seeds and test trials: a t test on the crossed (seed × subject or
    /// trial) variance with Satterthwaite's degrees of freedom, equivalence by TOST within
    /// `[findings] rope`, Holm over the study's declared family; see docs/findings.md.
    ///
    /// Example: eegrun summarize runs/ --filter experiment=activations --format markdown
    Summarize(SummarizeArgs),
    /// Write one self-contained HTML page of the runs (report.html): a summary of the
    /// findings first, the study's tables, findings and comparisons as `summarize` states
    /// them, each search's rungs and choice, every figure (inline SVG), the runs that need
    /// attention, each run's details folded away, and provenance. Nothing loads: it opens
    /// offline, mails, and prints to PDF; its one script (sorting the long table) is named
    /// by hash in the page's Content-Security-Policy, and nothing else can run.
    ///
    /// Example: eegrun report runs/ -o report.html --filter experiment=activations
    Report(ReportArgs),
    /// Compare finished runs with a recorded baseline, paired by seed; exit 1 when a
    /// configuration got worse beyond the tolerance with confidence (the 95% t-interval of
    /// its mean per-seed change lies below −tolerance) or is missing.
    ///
    /// Example: eegrun check runs/ --baseline baselines/eegmmidb-nightly.json --strict
    Check(CheckArgs),
    /// Print each model's layers, output shapes and parameter counts, for the lab's data or
    /// another data set's shape, with the lab's or another architecture.
    ///
    /// Example: eegrun models --data ../shared/data/eegmmidb-3class-22ch --set eegnet.f1=8
    Models(ModelsArgs),
    /// Show the devices this binary can train on (cpu; cuda in a CUDA build) and what this
    /// machine offers: the CPU's model and instruction sets, the GPUs the NVIDIA driver
    /// reports, or why CUDA is not usable here.
    Devices,
    /// Measure seconds per epoch (1080 train + 1080 eval trials, synthetic data), and
    /// the PyTorch reference side by side when `torch` is importable.
    ///
    /// Example, on a noisy machine: eegrun bench --rounds 3
    Bench(BenchArgs),
}

/// Runs the parsed command.
pub fn run(cli: Cli) -> anyhow::Result<()> {
    crate::nn::Isa::from_env().map_err(anyhow::Error::msg)?;
    match cli.command {
        Command::Run(args) => run::command(args),
        Command::Slurm(args) => slurm::command(args),
        Command::Train(args) => train::command(args),
        Command::Summarize(args) => summarize::command(args),
        Command::Report(args) => report::command(args),
        Command::Check(args) => check::command(args),
        Command::Models(args) => models::command(args),
        Command::Bench(args) => bench::command(args),
        Command::Devices => {
            devices::command();
            Ok(())
        }
    }
}

/// Rewrites `eegrun FILE.toml ...` to `eegrun run FILE.toml ...`.
pub fn normalize_args(mut args: Vec<String>) -> Vec<String> {
    if let Some(first) = args.get(1) {
        let is_command = first == "help" || Cli::command().get_subcommands().any(|c| c.get_name() == first);
        if !first.starts_with('-') && !is_command {
            args.insert(1, "run".into());
        }
    }
    args
}

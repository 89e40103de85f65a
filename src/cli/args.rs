//! Argument types of every command, typed once: models, activations and devices parse into
//! the run spec's enums, counts are checked to be ≥ 1, Slurm values against Slurm's syntax.

use crate::config::{ActivationName, Device, ModelKind};
use clap::Args;
use std::path::PathBuf;

/// A count that must be at least 1.
fn at_least_one(text: &str) -> Result<usize, String> {
    match text.parse::<usize>() {
        Ok(n) if n >= 1 => Ok(n),
        _ => Err(format!("expected a whole number ≥ 1, got '{text}'")),
    }
}

/// The most threads or concurrent runs eegrun starts: far above any machine's cores, far
/// below a count whose thread stacks alone would exhaust memory.
const MOST_THREADS: usize = 1024;

/// A thread or job count: 1 to [`MOST_THREADS`].
fn thread_count(text: &str) -> Result<usize, String> {
    match text.parse::<usize>() {
        Ok(n) if (1..=MOST_THREADS).contains(&n) => Ok(n),
        _ => Err(format!(
            "expected a whole number from 1 to {MOST_THREADS}, got '{text}'"
        )),
    }
}

/// `--set eegnet.f1=8`: an architecture field and its value (see `config::ARCHITECTURE_FIELDS`),
/// checked on its own.
fn architecture_setting(text: &str) -> Result<(String, toml::Value), String> {
    let (key, raw) = text
        .split_once('=')
        .ok_or_else(|| format!("expected KEY=VALUE, e.g. eegnet.f1=8, got '{text}'"))?;
    let key = key.trim();
    if !crate::config::ARCHITECTURE_FIELDS.contains(&key) {
        return Err(format!(
            "'{key}' is not an architecture field; expected one of {}",
            crate::config::ARCHITECTURE_FIELDS.join(", ")
        ));
    }
    let value = toml::from_str::<toml::Table>(&format!("v = {}", raw.trim()))
        .ok()
        .and_then(|mut t| t.remove("v"))
        .ok_or_else(|| format!("{key}: expected a number (or a list of five for deepconvnet.filters), got '{raw}'"))?;
    crate::config::RunFields::check_field(key, value.clone()).map_err(|e| format!("{key}: {e}"))?;
    Ok((key.to_string(), value))
}

/// Architecture fields from `--set` as the run fields they set (the rest left unset).
pub fn architecture_fields(settings: &[(String, toml::Value)]) -> Result<crate::config::RunFields, String> {
    crate::config::nest_fields(settings.iter().map(|(k, v)| (k, v)))
        .try_into()
        .map_err(|e: toml::de::Error| e.message().trim().to_string())
}

/// Options of `eegrun models`.
#[derive(Args, Debug)]
pub struct ModelsArgs {
    /// Build the models for this data's shape (channels, samples, classes): a folder, or
    /// `synthetic:SEED:TRIALS:CxTxK`; the lab's 2 × 750, 2 classes when omitted
    #[arg(long)]
    pub data: Option<String>,
    /// An architecture field, e.g. --set eegnet.f1=8 --set deepconvnet.kernel=7 (repeatable)
    #[arg(long = "set", value_name = "KEY=VALUE", value_parser = architecture_setting)]
    pub set: Vec<(String, toml::Value)>,
}

/// Options of `eegrun run`.
#[derive(Args, Debug)]
pub struct RunArgs {
    /// The experiment and where its runs go.
    #[command(flatten)]
    pub selection: ExperimentArgs,
    /// Concurrent runs, 1 to 1024 [default: cores, at most the number of runs]
    #[arg(long, value_parser = thread_count)]
    pub jobs: Option<usize>,
    /// Threads per run, 1 to 1024 [default: cores / jobs]
    #[arg(long, value_parser = thread_count)]
    pub threads: Option<usize>,
    /// List the runs with their ids and states (done, partial, stopped, failed, pending,
    /// unreadable, inconsistent) — for a search that stops runs early, each run's rung and
    /// what the search does next; train nothing
    #[arg(long)]
    pub dry_run: bool,
    /// Stop at the first failed run
    #[arg(long)]
    pub fail_fast: bool,
    /// Rerun only the failed runs, and rebuild unreadable or inconsistent ones
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
    /// Train on this device, cpu or cuda (same as --set device=...)
    #[arg(long, value_parser = str::parse::<Device>)]
    pub device: Option<Device>,
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

/// Options of `eegrun slurm`.
#[derive(Args, Debug)]
pub struct SlurmArgs {
    /// The experiment and where its runs go.
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

/// Options of `eegrun summarize`.
#[derive(Args, Debug)]
pub struct SummarizeArgs {
    /// A runs folder (any experiment), an experiment folder, or one run
    #[arg(default_value = "runs")]
    pub runs_dir: PathBuf,
    /// Output on stdout: table, csv, json, markdown or latex (markdown and latex add the
    /// findings as tables: the lab's layout, main effects, comparisons; latex tables need
    /// \usepackage{graphicx}, shrink to the text width and continue past 35 rows)
    #[arg(long, default_value = "table", value_parser = str::parse::<crate::report::Format>)]
    pub format: crate::report::Format,
    /// Configuration columns to group by (runs in a group are averaged)
    #[arg(long, value_delimiter = ',', default_value = crate::report::columns::DEFAULT_GROUP_BY_TEXT)]
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

/// Options of `eegrun report`.
#[derive(Args, Debug)]
pub struct ReportArgs {
    /// A runs folder (any experiment), an experiment folder, or one run
    #[arg(default_value = "runs")]
    pub runs_dir: PathBuf,
    /// The HTML file to write
    #[arg(short, long, default_value = "report.html")]
    pub output: PathBuf,
    /// Configuration columns to group the long table by
    #[arg(long, value_delimiter = ',', default_value = crate::report::columns::DEFAULT_GROUP_BY_TEXT)]
    pub group_by: Vec<String>,
    /// Keep runs where COLUMN=VALUE (also !=, <, <=, >, >=); repeatable, all must hold
    #[arg(long = "filter", value_name = "COLUMN=VALUE")]
    pub filters: Vec<String>,
}

/// Options of `eegrun check`.
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

/// Options of `eegrun train`.
#[derive(Args, Debug)]
pub struct TrainArgs {
    /// eegnet or deepconvnet
    #[arg(long, default_value = "eegnet", value_parser = str::parse::<ModelKind>)]
    pub model: ModelKind,
    /// relu, leaky_relu or elu
    #[arg(long, default_value = "relu", value_parser = str::parse::<ActivationName>)]
    pub activation: ActivationName,
    /// Negative slope of leaky_relu (PyTorch's default)
    #[arg(long, default_value_t = crate::config::DEFAULT_LEAKY_SLOPE)]
    pub leaky_slope: f64,
    /// Dropout probability [default: 0.25 for eegnet, 0.5 for deepconvnet]
    #[arg(long)]
    pub dropout: Option<f64>,
    /// Epochs to train
    #[arg(long, default_value_t = 300)]
    pub epochs: usize,
    /// Trials per batch
    #[arg(long, default_value_t = 64)]
    pub batch_size: usize,
    /// Adam learning rate
    #[arg(long, default_value_t = 1e-3)]
    pub lr: f64,
    /// L2 penalty added to the gradient, as torch.optim.Adam's weight_decay
    #[arg(long, default_value_t = 0.0)]
    pub weight_decay: f64,
    /// Seeds initialisation, shuffling, dropout and the validation split
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Hold out this class-balanced fraction of the training set for validation and also
    /// report the test accuracy at the best validation epoch (0 = the lab's protocol)
    #[arg(long, default_value_t = 0.0)]
    pub val_fraction: f64,
    /// A folder holding the lab's four files (S4b_train.npz, X11b_train.npz,
    /// S4b_test.npz, X11b_test.npz) or train.npz + test.npz, of any shape (signal (N, T, C),
    /// label 1..K); `synthetic[:SEED[:TRIALS[:CxTxK]]]` for the built-in data; `auto` uses
    /// data/ when it holds files, else synthetic
    #[arg(long, default_value = "auto")]
    pub data: String,
    /// Threads for this run, 1 to 1024 [default: all cores]
    #[arg(long, value_parser = thread_count)]
    pub threads: Option<usize>,
    /// cpu or cuda
    #[arg(long, default_value = "cpu", value_parser = str::parse::<Device>)]
    pub device: Device,
    /// Write the per-epoch metrics and the summary to this JSON file
    #[arg(long)]
    pub metrics: Option<PathBuf>,
    /// Save a checkpoint here after every epoch; resume from it if it exists
    #[arg(long)]
    pub checkpoint: Option<PathBuf>,
    /// An architecture field, e.g. --set eegnet.f1=8 --set eegnet.kernel=33 (repeatable; the
    /// README lists them with their ranges)
    #[arg(long = "set", value_name = "KEY=VALUE", value_parser = architecture_setting)]
    pub set: Vec<(String, toml::Value)>,
}

/// Options of `eegrun bench`.
#[derive(Args, Debug)]
pub struct BenchArgs {
    /// Epochs per measurement; the first is a warm-up, the median of the rest is reported
    #[arg(long, default_value_t = 6)]
    pub epochs: usize,
    /// Measure every configuration this many times, eegrun and PyTorch back to back in
    /// each round (which goes first alternates), and report the medians: on a shared or
    /// noisy machine one round's ratio can be off by half
    #[arg(long, default_value_t = 1, value_parser = at_least_one)]
    pub rounds: usize,
    /// Thread counts to measure
    #[arg(long, value_delimiter = ',', default_value = "1,2", value_parser = thread_count)]
    pub threads: Vec<usize>,
    /// Models to measure
    #[arg(long, value_delimiter = ',', default_value = "eegnet,deepconvnet", value_parser = str::parse::<ModelKind>)]
    pub models: Vec<ModelKind>,
    /// Activation of the measured models
    #[arg(long, default_value = "elu", value_parser = str::parse::<ActivationName>)]
    pub activation: ActivationName,
    /// The data to time on: `synthetic` (the lab's shape, 1080 + 1080 trials, as the
    /// reference's own synthetic data), `synthetic:SEED:TRIALS:CxTxK` for another shape, or a
    /// folder (the reference reads the same files)
    #[arg(long, default_value = "synthetic")]
    pub data: String,
    /// PyTorch reference script; skipped when missing or when torch is not importable
    #[arg(long, default_value = "../shared/reference/torch_ref.py")]
    pub torch_ref: PathBuf,
    /// Python interpreter for the reference
    #[arg(long, default_value = "python3")]
    pub python: String,
    /// Measure eegrun only
    #[arg(long)]
    pub no_torch: bool,
    /// Device to train on; with cuda, --threads is ignored and the PyTorch reference (a CPU
    /// script) is skipped: scripts/gpu-check.sh times PyTorch on the same GPU
    #[arg(long, default_value = "cpu", value_parser = str::parse::<Device>)]
    pub device: Device,
}

//! What every way of launching an experiment shares (a grid, a search, seed rounds,
//! Slurm): loading it with its overrides and data, planning its runs, declaring its study,
//! how to drive it and the driver's report on the terminal, and the closing results table.

use super::args::{ExperimentArgs, RunArgs};
use crate::data::{Dataset, Source};
use crate::experiment::{resolve_path, Experiment};
use crate::report::{columns, findings, render_summary, Format, Run};
use crate::schedule::drive::{Drive, Reporter};
use crate::schedule::{self, LogProgress, PlannedRun, Progress, TerminalProgress};
use crate::store::read::declarations;
use crate::store::study::{self, StudyFile};
use anyhow::Result;
use std::io::IsTerminal;

/// The experiment file with overrides applied, and its data (one data set: `--data`, or
/// the file's only one).
pub(super) fn load(args: &ExperimentArgs) -> Result<(Experiment, Dataset)> {
    let experiment = prepared(args)?;
    if args.data.is_none() && experiment.data_sets.len() > 1 {
        anyhow::bail!(
            "experiment '{}' lists {} data sets: `eegrun run` trains a grid over them; searches, [seeds] rounds and slurm take one data set at a time (--data DIR)",
            experiment.name,
            experiment.data_sets.len()
        );
    }
    let data = load_data(&experiment, args.data.as_deref().unwrap_or(experiment.data_source()))?;
    Ok((experiment, data))
}

/// Every data set of the experiment, each with the experiment as it runs on it: one, or
/// for a study over several data sets (`data = [..]`) one per data set, named
/// `NAME@DATA` (so each has its own folder and study.json; findings combine them).
pub(super) fn load_all(args: &ExperimentArgs) -> Result<Vec<(Experiment, Dataset)>> {
    let experiment = prepared(args)?;
    if args.data.is_some() || experiment.data_sets.len() == 1 {
        return Ok(vec![load(args)?]);
    }
    let mut names: Vec<String> = Vec::new();
    experiment
        .data_sets
        .iter()
        .map(|source| {
            let name = crate::data::data_name(source);
            if names.contains(&name) {
                anyhow::bail!("data: two data sets are both named '{name}' (the last part of their paths); give each a folder of its own name");
            }
            names.push(name.clone());
            let mut on = experiment.clone();
            on.name = format!("{}@{name}", experiment.name);
            on.data = source.clone();
            on.data_sets = vec![source.clone()];
            let data = load_data(&on, source)?;
            Ok((on, data))
        })
        .collect()
}

/// The experiment file with its overrides applied and checked.
fn prepared(args: &ExperimentArgs) -> Result<Experiment> {
    let path = resolve_path(&args.experiment);
    let mut experiment = Experiment::load(&path)?;
    experiment.max_runs = args.max_runs;
    let mut overrides = args.overrides.clone();
    if let Some(device) = args.device {
        overrides.push(format!("device={device}"));
    }
    experiment.apply_overrides(&overrides)?;
    experiment.check_runs()?;
    if experiment.varies_protocol()
        && experiment.search().is_some_and(crate::experiment::Search::selects)
        && experiment.protocol_axis()
    {
        anyhow::bail!(
            "experiment '{}': a search that chooses by results runs nested in each subject or fold, so it takes one protocol: set `protocol` at the top or in [defaults], not as a grid or search axis",
            experiment.name
        );
    }
    Ok(experiment)
}

/// The data `source` as `experiment` trains on it (restricted to its subjects).
fn load_data(experiment: &Experiment, source: &str) -> Result<Dataset> {
    let data = Source::parse(source)?.load()?;
    match experiment.subjects.is_empty() {
        true => Ok(data),
        false => crate::data::units::restrict(&data, &experiment.subjects),
    }
}

/// The experiment's planned runs (the grid is expanded here, once).
pub(super) fn plan(args: &ExperimentArgs, experiment: &Experiment, data: &Dataset) -> Result<Vec<PlannedRun>> {
    let runs = schedule::plan(&experiment.name, experiment.runs()?, data, &args.runs_dir)?;
    println!(
        "experiment {} ({}): {} runs on {}",
        experiment.name,
        resolve_path(&args.experiment).display(),
        runs.len(),
        data.description
    );
    Ok(runs)
}

/// Records the study's configurations and equivalence margin (`study.json`), so its
/// findings are judged over the declared family whatever later sits in the folder.
pub(super) fn declare_study(
    runs_dir: &std::path::Path,
    experiment: &Experiment,
    data: &Dataset,
    runs: &[PlannedRun],
) -> Result<()> {
    study::write(runs_dir, &experiment.name, &study_file(experiment, data, runs))
}

/// The declaration of the study of these runs.
pub(super) fn study_file(experiment: &Experiment, data: &Dataset, runs: &[PlannedRun]) -> StudyFile {
    StudyFile {
        rope: experiment.rope,
        data_fingerprint: data.fingerprint.clone(),
        configurations: runs.iter().map(|r| r.record.config).collect(),
        alpha: experiment
            .seed_rounds
            .map_or(crate::config::ALPHA, |r| r.alpha_per_look()),
        seed_rounds: experiment.seed_rounds,
        test_subjects: data.test_subjects.clone(),
        metric: experiment.findings_metric,
        subject_names: match runs.iter().any(|r| r.record.unit.is_some()) {
            true => data.subject_names.clone(),
            false => Vec::new(),
        },
        command: Some(command_line()),
        experiment_file: Some(experiment.text.clone()),
        declared_unix: std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .ok()
            .map(|d| d.as_secs()),
    }
}

/// This invocation's command line, each argument quoted where a shell would need it.
fn command_line() -> String {
    let quote =
        |a: String| match a.chars().all(|c| c.is_ascii_alphanumeric() || "-_./=:,+@%".contains(c)) && !a.is_empty() {
            true => a,
            false => format!("'{}'", a.replace('\'', "'\\''")),
        };
    let mut args = std::env::args();
    let program = args.next().map(|p| {
        std::path::Path::new(&p)
            .file_name()
            .map_or(p.clone(), |n| n.to_string_lossy().into_owned())
    });
    program.into_iter().chain(args.map(quote)).collect::<Vec<_>>().join(" ")
}

/// How `eegrun run` drives a study: the queue options and the one run asked for.
pub(super) fn drive_options(args: &RunArgs) -> Drive {
    Drive {
        queue: schedule::Options {
            jobs: args.jobs,
            threads: args.threads,
            fail_fast: args.fail_fast,
            retry_failed: args.retry_failed,
        },
        run_id: args.run_id.clone(),
    }
}

/// The driver's report on the terminal: each step's description, the runs a step could not
/// train, and the queue's progress (a live display on a terminal, else one line per event).
pub(super) struct Printed(Box<dyn Progress>);

impl Printed {
    /// The report for this process's standard output.
    pub(super) fn new() -> Self {
        if std::io::stdout().is_terminal() {
            Self(Box::<TerminalProgress>::default())
        } else {
            Self(Box::new(LogProgress))
        }
    }
}

impl Reporter for Printed {
    fn step(&self, description: &str) {
        println!("{description}");
    }
    fn stuck(&self, runs: &[PlannedRun]) {
        for run in runs {
            println!("  {}  {}", run.id(), schedule::planned_state(run));
        }
    }
    fn progress(&self) -> &dyn Progress {
        self.0.as_ref()
    }
}

/// The results table of these runs, and the report's tables where they apply.
pub(super) fn print_results(runs: &[PlannedRun]) -> Result<()> {
    let infos: Vec<Run> = runs.iter().filter_map(|r| Run::load(&r.dir.path).ok()).collect();
    let by: Vec<String> = columns::DEFAULT_GROUP_BY.iter().map(|s| s.to_string()).collect();
    println!("\n{}", render_summary(&infos, &by, &[], Format::Table)?);
    let (declared, _) = declarations(&infos);
    let tables = findings::tables(&findings::studies(&infos, &declared));
    if !tables.is_empty() {
        println!("{tables}");
    }
    Ok(())
}

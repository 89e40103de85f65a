//! `eegrun run`: plan an experiment, train what is not done, print the results table.

use super::args::{ExperimentArgs, RunArgs};
use crate::data::{Dataset, Source};
use crate::experiment::{resolve_path, Experiment, Search};
use crate::report::runs::declarations;
use crate::report::{columns, findings, render_summary, Format, RunInfo};
use crate::schedule::{self, planned_state, LogProgress, Outcome, PlannedRun, Progress, TerminalProgress};
use crate::store::study::{self, StudyFile};
use crate::store::RunState;
use anyhow::{bail, Result};
use std::io::IsTerminal;

/// The experiment file with overrides applied, and its data.
pub(super) fn load(args: &ExperimentArgs) -> Result<(Experiment, Dataset)> {
    let path = resolve_path(&args.experiment);
    let mut experiment = Experiment::load(&path)?;
    experiment.max_runs = args.max_runs;
    let mut overrides = args.overrides.clone();
    if let Some(device) = args.device {
        overrides.push(format!("device={device}"));
    }
    experiment.apply_overrides(&overrides)?;
    experiment.check_runs()?;
    let data = Source::parse(args.data.as_deref().unwrap_or(experiment.data_source()))?.load()?;
    Ok((experiment, data))
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

pub(super) fn command(args: RunArgs) -> Result<()> {
    let (experiment, data) = load(&args.selection)?;
    if experiment.search().is_some_and(Search::selects) {
        return super::search::command(&args, &experiment, &data);
    }
    if let Some(seeds) = experiment.seed_rounds {
        return super::rounds::command(&args, &experiment, &data, seeds);
    }
    let mut runs = plan(&args.selection, &experiment, &data)?;
    if let Some(id) = &args.run_id {
        runs.retain(|r| &r.id() == id);
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
                run.id(),
                planned_state(run),
                run.record.config.describe()
            );
        }
        return Ok(());
    }
    if args.run_id.is_none() {
        declare_study(&args.selection.runs_dir, &experiment, &data, &runs)?;
    }
    let outcomes = schedule::execute(&runs, &data, &options(&args), progress().as_ref())?;
    print_results(&runs)?;
    let states: Vec<RunState> = runs.iter().map(planned_state).collect();
    let broken: Vec<String> = runs
        .iter()
        .zip(&states)
        .filter(|(_, s)| s.needs_repair())
        .map(|(r, s)| format!("{} {s}", r.id()))
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
    let unfinished = states.iter().filter(|s| **s != RunState::Done).count();
    // A failure that could not even be recorded (a runs folder that cannot be written) is
    // said as it is, not blamed on another process.
    if let Some(first) = outcomes.iter().find_map(|o| match o {
        Outcome::Failed(e) if unfinished > 0 => Some(e),
        _ => None,
    }) {
        bail!("{unfinished} runs did not finish: {first}");
    }
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
    }
}

/// The queue options of `eegrun run`.
pub(super) fn options(args: &RunArgs) -> schedule::Options {
    schedule::Options {
        jobs: args.jobs,
        threads: args.threads,
        fail_fast: args.fail_fast,
        retry_failed: args.retry_failed,
    }
}

/// A live display on a terminal, else one line per event.
pub(super) fn progress() -> Box<dyn Progress> {
    if std::io::stdout().is_terminal() {
        Box::<TerminalProgress>::default()
    } else {
        Box::new(LogProgress)
    }
}

/// The results table of these runs, and the report's tables where they apply.
pub(super) fn print_results(runs: &[PlannedRun]) -> Result<()> {
    let infos: Vec<RunInfo> = runs.iter().filter_map(|r| RunInfo::read(&r.dir.path).ok()).collect();
    let by: Vec<String> = columns::DEFAULT_GROUP_BY.iter().map(|s| s.to_string()).collect();
    println!("\n{}", render_summary(&infos, &by, &[], Format::Table)?);
    let (declared, _) = declarations(&infos);
    let tables = findings::tables(&findings::studies(&infos, &declared));
    if !tables.is_empty() {
        println!("{tables}");
    }
    Ok(())
}

//! `eegrun slurm`: the experiment's unfinished runs as one Slurm job array. A search that
//! decides by results is submitted one step (a rung of a round) at a time: each array is
//! followed by a job that decides and submits the next step when the array has ended.

use super::args::SlurmArgs;
use crate::data::{Dataset, Source};
use crate::experiment::{Experiment, Search};
use crate::schedule::planned_state;
use crate::schedule::search_state::{decide, Step};
use crate::slurm::Job;
use crate::store::RunState;
use anyhow::{bail, Result};

pub(super) fn command(args: SlurmArgs) -> Result<()> {
    let (experiment, data) = super::launch::load(&args.selection)?;
    let selects = experiment.search().is_some_and(Search::selects);
    let step = if selects {
        search_step(&args, &experiment, &data)?
    } else if let Some(seeds) = experiment.seed_rounds {
        round_step(&args, &experiment, &data, seeds)?
    } else {
        let runs = super::launch::plan(&args.selection, &experiment, &data)?;
        let pending: Vec<String> = runs
            .iter()
            .filter(|r| planned_state(r) != RunState::Done)
            .map(|r| r.id())
            .collect();
        if pending.is_empty() {
            println!("all {} runs are done; nothing to submit", runs.len());
        }
        (!pending.is_empty()).then_some((pending, runs.len()))
    };
    let Some((pending, total_runs)) = step else {
        return Ok(());
    };
    let sel = &args.selection;
    let data = match sel.data.as_deref().map(Source::parse).transpose()? {
        Some(Source::Dir(dir)) => Some(crate::slurm::absolute(&dir)?.display().to_string()),
        _ => sel.data.clone(),
    };
    let device = sel.device.or(args.gpus_per_task.map(|_| crate::config::Device::Cuda));
    let follow_up = match selects || experiment.seed_rounds.is_some() {
        true => Some(follow_up_args()?),
        false => None,
    };
    let job = Job {
        experiment_name: experiment.name.clone(),
        experiment_file: crate::experiment::resolve_path(&sel.experiment),
        overrides: sel.overrides.clone(),
        data,
        device,
        runs_dir: sel.runs_dir.clone(),
        run_ids: pending,
        total_runs,
        partition: args.partition,
        gpus_per_task: args.gpus_per_task,
        cpus_per_task: args.cpus_per_task,
        time: args.time,
        max_parallel: args.max_parallel,
        follow_up,
    };
    crate::slurm::submit(&job, args.dry_run)
}

/// The search's current step: the ids to train and the number of runs drawn so far; none
/// when the search is complete. Refuses a step with failed or damaged runs.
fn search_step(args: &SlurmArgs, experiment: &Experiment, data: &Dataset) -> Result<Option<(Vec<String>, usize)>> {
    let state = decide(experiment, data, &args.selection.runs_dir, !args.dry_run)?;
    let Step::Train { round, rung, runs } = &state.step else {
        println!("{}\nnothing to submit", super::run_search::result(&state));
        return Ok(None);
    };
    refuse_broken(
        runs,
        &format!(
            "search '{}' is blocked at round {}, rung {}",
            experiment.name,
            round + 1,
            rung + 1
        ),
    )?;
    println!(
        "search '{}', {}",
        experiment.name,
        state.describe_step(runs.len()).unwrap_or_default()
    );
    Ok(Some((runs.iter().map(|r| r.id()).collect(), state.runs.len())))
}

/// A study in rounds: the current round's unfinished runs and its size; none when every
/// round is trained. Records the study's declaration (not on a dry run).
fn round_step(
    args: &SlurmArgs,
    experiment: &Experiment,
    data: &Dataset,
    seeds: crate::config::SeedRounds,
) -> Result<Option<(Vec<String>, usize)>> {
    let runs_dir = &args.selection.runs_dir;
    let (result, current, study) = super::rounds::replay(experiment, data, runs_dir, seeds)?;
    if !args.dry_run {
        crate::store::study::write(runs_dir, &experiment.name, &study)?;
    }
    if result.complete {
        println!(
            "study '{}': every round is trained ({} rounds, {} runs); nothing to submit",
            experiment.name,
            result.rounds,
            result.runs()
        );
        return Ok(None);
    }
    refuse_broken(
        &current,
        &format!("study '{}' is blocked at round {}", experiment.name, result.rounds),
    )?;
    let pending: Vec<String> = current
        .iter()
        .filter(|r| planned_state(r) != RunState::Done)
        .map(|r| r.id())
        .collect();
    println!(
        "study '{}', round {}: {} runs, {} to train",
        experiment.name,
        result.rounds,
        current.len(),
        pending.len()
    );
    Ok(Some((pending, current.len())))
}

/// Refuses a step with failed or damaged runs, naming them after `what`.
fn refuse_broken(runs: &[crate::schedule::PlannedRun], what: &str) -> Result<()> {
    let broken: Vec<String> = runs
        .iter()
        .map(|r| (r.id(), planned_state(r)))
        .filter(|(_, s)| s.needs_repair())
        .map(|(id, s)| format!("{id} {s}"))
        .collect();
    if !broken.is_empty() {
        bail!(
            "{what}: {} runs failed or are damaged ({}); retrain them with `eegrun run … --retry-failed` or fix the cause, then run eegrun slurm again",
            broken.len(),
            broken.join("; ")
        );
    }
    Ok(())
}

/// This command's arguments, for the job that reruns it after the array (`--dry-run` left out).
fn follow_up_args() -> Result<Vec<String>> {
    std::env::args_os()
        .skip(1)
        .map(|a| {
            a.into_string()
                .map_err(|a| anyhow::anyhow!("argument {a:?} is not UTF-8; a follow-up job script cannot hold it"))
        })
        .filter(|a| a.as_ref().map_or(true, |a| a != "--dry-run"))
        .collect()
}

//! `eegrun slurm`: the experiment's unfinished runs as one Slurm job array. A search that
//! decides by results, or a study in seed rounds, is submitted one step (a rung of a round,
//! a round) at a time, as `schedule::drive::next_step` decides it: each array is followed by
//! a job that decides and submits the next step when the array has ended.

use super::args::SlurmArgs;
use crate::data::Source;
use crate::experiment::Search;
use crate::schedule::drive::{next_step, Ended, Next, Plan, SeedStudy};
use crate::schedule::{planned_state, PlannedRun};
use crate::slurm::Job;
use anyhow::{bail, Result};

pub(super) fn command(args: SlurmArgs) -> Result<()> {
    let (experiment, data) = super::launch::load(&args.selection)?;
    if experiment.search().is_some_and(crate::experiment::Search::selects) && experiment.varies_protocol() {
        anyhow::bail!(
            "experiment '{}' runs a search nested in each subject or fold, one after another: run it with `eegrun run` (inside one Slurm job if you like), not as a job array",
            experiment.name
        );
    }
    let runs_dir = &args.selection.runs_dir;
    let selects = experiment.search().is_some_and(Search::selects);
    // A study in rounds is judged by the findings over its declared configurations.
    let (configs, study) = match experiment.seed_rounds {
        Some(_) if !selects => {
            let (configs, study) = super::rounds::declared(&experiment, &data, runs_dir)?;
            if !args.dry_run {
                crate::store::study::write(runs_dir, &experiment.name, &study)?;
            }
            (configs, Some(study))
        }
        _ => (Vec::new(), None),
    };
    let open = |runs: &[PlannedRun]| match &study {
        Some(study) => super::rounds::open_configurations(&configs, runs, &data, study),
        None => Ok(Vec::new()),
    };
    let grid = match selects || experiment.seed_rounds.is_some() {
        true => Vec::new(),
        false => super::launch::plan(&args.selection, &experiment, &data)?,
    };
    let plan = match (selects, experiment.seed_rounds) {
        (true, _) => Plan::Search(&experiment),
        (false, Some(seeds)) => Plan::Rounds(SeedStudy {
            experiment: &experiment,
            configs: configs.clone(),
            seeds,
            open: &open,
        }),
        (false, None) => Plan::Grid(&grid),
    };
    let (pending, total_runs) = match next_step(&plan, &data, runs_dir, !args.dry_run)? {
        Next::Complete(ended) => {
            match ended {
                Ended::Search(state) => println!("{}\nnothing to submit", super::run_search::result(&state)),
                Ended::Rounds(result, _) => println!(
                    "study '{}': every round is trained ({} rounds, {} runs); nothing to submit",
                    experiment.name,
                    result.rounds,
                    result.runs()
                ),
                _ => println!("all {} runs are done; nothing to submit", grid.len()),
            }
            return Ok(());
        }
        Next::Train { runs, drawn, at, step } => {
            // A search or a study in rounds would follow a step with failed runs forever.
            let kind = match plan {
                Plan::Grid(_) => None,
                Plan::Search(_) => Some("search"),
                Plan::Rounds(_) => Some("study"),
            };
            if let Some(kind) = kind {
                refuse_broken(&runs, &format!("{kind} '{}' is blocked at {at}", experiment.name))?;
                println!("{kind} '{}', {step}", experiment.name);
            }
            (runs.iter().map(PlannedRun::id).collect::<Vec<_>>(), drawn)
        }
    };
    let sel = &args.selection;
    let data = match sel.data.as_deref().map(Source::parse).transpose()? {
        Some(Source::Dir(dir)) => Some(crate::slurm::absolute(&dir)?.display().to_string()),
        _ => sel.data.clone(),
    };
    let device = sel.device.or(args.gpus_per_task.map(|_| crate::config::Device::Cuda));
    let follow_up = match plan {
        Plan::Grid(_) => None,
        Plan::Search(_) | Plan::Rounds(_) => Some(follow_up_args()?),
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

/// Refuses a step with failed or damaged runs, naming them after `what`.
fn refuse_broken(runs: &[PlannedRun], what: &str) -> Result<()> {
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

//! `eegrun run`: plan an experiment, train what is not done, print the results table.

use super::args::RunArgs;
use super::launch::{declare_study, drive_options, load_all, plan, print_results, Printed};
use crate::data::units::Unit;
use crate::data::Dataset;
use crate::experiment::Experiment;
use crate::experiment::Search;
use crate::schedule::drive::{drive, Ended, Plan};
use crate::schedule::{planned_state, Outcome};
use crate::store::RunState;
use anyhow::{bail, Result};

pub(super) fn command(args: RunArgs) -> Result<()> {
    let loaded = load_all(&args.selection)?;
    if let [(experiment, data)] = &loaded[..] {
        if experiment.search().is_some_and(Search::selects) && experiment.varies_protocol() {
            return nested_searches(&args, experiment, data);
        }
        if experiment.search().is_some_and(Search::selects) {
            return super::run_search::command(&args, experiment, data);
        }
        if let Some(seeds) = experiment.seed_rounds {
            return super::rounds::command(&args, experiment, data, seeds);
        }
        return grid(&args, experiment, data).map(|_| ());
    }
    // A study over several data sets: the grid on each, in the file's order.
    let (first, _) = &loaded[0];
    if first.search().is_some() || first.seed_rounds.is_some() {
        bail!(
            "experiment '{}' lists {} data sets: searches and [seeds] rounds take one data set at a time (--data DIR)",
            first.name.split('@').next().unwrap_or_default(),
            loaded.len()
        );
    }
    let mut found = false;
    let mut failed = None;
    for (experiment, data) in &loaded {
        match grid(&args, experiment, data) {
            Ok(has) => found |= has,
            Err(e) => failed = failed.or(Some(e)),
        }
    }
    if let Some(e) = failed {
        return Err(e);
    }
    match (&args.run_id, found) {
        (Some(id), false) => bail!(
            "run id {id} is not in experiment '{}' on any of its {} data sets (with these overrides); see --dry-run",
            first.name.split('@').next().unwrap_or_default(),
            loaded.len()
        ),
        _ => Ok(()),
    }
}

/// A search that chooses by results under a per-subject protocol: one search nested in each
/// subject or fold, on that unit's trials alone, as experiment `NAME@UNIT` (its own folder,
/// search.json and chosen configuration), as MOABB tunes inside each subject.
fn nested_searches(args: &RunArgs, experiment: &Experiment, data: &Dataset) -> Result<()> {
    if args.run_id.is_some() {
        bail!(
            "experiment '{}' runs a search nested in each subject or fold: train it whole (without --run-id)",
            experiment.name
        );
    }
    let (protocol, folds) = experiment.fixed_protocol()?;
    let units = crate::data::units::units(data, protocol, folds)?;
    println!(
        "experiment {}: {protocol}, a search nested in each of {} {}",
        experiment.name,
        units.len(),
        if units.iter().any(|u| u.unit.fold.is_some()) {
            "folds"
        } else {
            "subjects"
        }
    );
    for unit in &units {
        let mut on = experiment.clone();
        on.name = format!("{}@{}", experiment.name, unit.folder_name());
        on.defaults
            .insert("protocol".into(), toml::Value::String("pooled".into()));
        on.defaults.remove("folds");
        super::run_search::command(args, &on, &unit.standalone(data))?;
    }
    Ok(())
}

/// Plans, lists (`--dry-run`) or trains the grid of `experiment` on `data`; false when a
/// run id was asked for that this data set does not hold (an error for a study of one
/// data set).
fn grid(args: &RunArgs, experiment: &Experiment, data: &Dataset) -> Result<bool> {
    let mut runs = plan(&args.selection, experiment, data)?;
    if let Some(id) = &args.run_id {
        runs.retain(|r| &r.id() == id);
        if runs.is_empty() {
            if experiment.data_sets.len() == 1 && !experiment.name.contains('@') {
                bail!(
                    "run id {id} is not in experiment '{}' (with these overrides); see --dry-run",
                    experiment.name
                );
            }
            return Ok(false);
        }
    }
    if args.dry_run {
        for run in &runs {
            let unit = match &run.record.unit {
                Some(Unit {
                    fold: Some((k, n)),
                    subjects,
                }) => format!("  [fold {k}/{n}, held out: {}]", subjects.join(" ")),
                Some(u) => format!("  [subject {}]", u.label()),
                None => String::new(),
            };
            println!(
                "  {}  {:<22} {}{unit}",
                run.id(),
                planned_state(run),
                run.record.config.describe()
            );
        }
        print_estimate(&runs, data)?;
        return Ok(true);
    }
    if args.run_id.is_none() {
        declare_study(&args.selection.runs_dir, experiment, data, &runs)?;
    }
    let runs_dir = &args.selection.runs_dir;
    let Ended::Grid(outcomes) = drive(
        &Plan::Grid(&runs),
        data,
        runs_dir,
        &drive_options(args),
        &Printed::new(),
    )?
    else {
        unreachable!("a grid ends as a grid");
    };
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
        let held = outcomes
            .iter()
            .filter(|o| matches!(o, Outcome::Skipped(why) if why.starts_with("another eegrun process")))
            .count();
        let why = if args.retry_failed {
            "--retry-failed trains only failed runs; run without it for the rest".to_string()
        } else if held > 0 {
            format!("{held} held by another eegrun process; rerun when it is done")
        } else if args.fail_fast {
            "--fail-fast stopped them".to_string()
        } else {
            "their states are listed by --dry-run".to_string()
        };
        bail!(
            "{unfinished} {} did not finish ({why})",
            if unfinished == 1 { "run" } else { "runs" }
        );
    }
    Ok(true)
}

/// The CPU time the runs left will take, from one short epoch per kind of run measured now.
fn print_estimate(runs: &[crate::schedule::PlannedRun], data: &crate::data::Dataset) -> Result<()> {
    let done = |run: &crate::schedule::PlannedRun| match planned_state(run) {
        RunState::Done => run.until,
        RunState::Partial { done, .. } | RunState::Stopped { done, .. } => done,
        _ => 0,
    };
    let estimate = crate::schedule::cost::estimate(runs, data, done)?;
    if estimate.runs == 0 {
        println!("nothing left to train on the CPU");
        return Ok(());
    }
    let cpu = crate::schedule::cost::duration(estimate.cpu_seconds);
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    println!(
        "estimated cost: {} runs with epochs left, about {cpu} of one CPU thread ({} on {cores} cores if the runs keep them busy; from one short epoch of each of the {} kind{} of run, measured now on this CPU; expect ±50%){}",
        estimate.runs,
        crate::schedule::cost::duration(estimate.cpu_seconds / cores as f64),
        estimate.measured,
        if estimate.measured == 1 { "" } else { "s" },
        if estimate.cpu_seconds > 8.0 * 3600.0 {
            "; a study this size is a cluster job: eegrun slurm"
        } else {
            ""
        }
    );
    Ok(())
}

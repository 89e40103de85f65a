//! `eegrun run` on a study with `[seeds] until = "decided"`: the rounds of
//! [`crate::schedule::rounds`], trained by the queue and judged by the findings.

use super::args::RunArgs;
use super::launch::{drive_options, print_results, study_file, Printed};
use crate::config::{RunSpec, SeedRounds};
use crate::data::Dataset;
use crate::experiment::Experiment;
use crate::report::{findings, Run};
use crate::schedule::drive::{drive, Ended, Plan, SeedStudy};
use crate::schedule::{self, planned_state, rounds, PlannedRun};
use crate::store::read::declarations;
use crate::store::study::{self, StudyFile};
use crate::store::{configuration_key, RunState};
use anyhow::{bail, Result};
use std::collections::BTreeMap;
use std::path::Path;

/// The configurations of a study in rounds, refusing one with nothing to compare.
fn configurations(experiment: &Experiment) -> Result<Vec<RunSpec>> {
    let configs: Vec<RunSpec> = experiment.runs()?;
    let mut per_model: BTreeMap<String, usize> = BTreeMap::new();
    for c in &configs {
        *per_model.entry(c.model.to_string()).or_default() += 1;
    }
    if per_model.values().all(|&n| n < 2) {
        bail!(
            "experiment '{}': [seeds] until = \"decided\" needs at least two configurations of one model to compare; this grid has one per model",
            experiment.name
        );
    }
    Ok(configs)
}

/// A study in rounds: its configurations (refused when there is nothing to compare) and
/// its declaration, which `run` and `slurm` record before the first round.
pub(super) fn declared(experiment: &Experiment, data: &Dataset, runs_dir: &Path) -> Result<(Vec<RunSpec>, StudyFile)> {
    let configs = configurations(experiment)?;
    let runs = schedule::plan(&experiment.name, configs.clone(), data, runs_dir)?;
    let study = study_file(experiment, data, &runs);
    Ok((configs, study))
}

pub(super) fn command(args: &RunArgs, experiment: &Experiment, data: &Dataset, seeds: SeedRounds) -> Result<()> {
    let runs_dir = &args.selection.runs_dir;
    let (configs, study) = declared(experiment, data, runs_dir)?;
    let plan = |specs: &[RunSpec]| schedule::plan(&experiment.name, specs.to_vec(), data, runs_dir);
    if args.run_id.is_none() {
        if !args.dry_run {
            study::write(runs_dir, &experiment.name, &study)?;
        }
        println!(
            "experiment {}: seeds in rounds ({} to start, {} more per round where undecided, at most {}; each look at α = {:.4})",
            experiment.name,
            seeds.start,
            seeds.step,
            seeds.max,
            seeds.alpha_per_look()
        );
    }
    if args.dry_run {
        return dry_run(&configs, seeds, &plan, &|specs| {
            open_configurations(&configs, &plan(specs)?, data, &study)
        });
    }
    let open = |runs: &[PlannedRun]| open_configurations(&configs, runs, data, &study);
    let rounds = Plan::Rounds(SeedStudy {
        experiment,
        configs: configs.clone(),
        seeds,
        open: &open,
    });
    let (result, last) = match drive(&rounds, data, runs_dir, &drive_options(args), &Printed::new())? {
        Ended::Rounds(result, last) => (result, last),
        Ended::OneRun(note) => {
            note.iter().for_each(|n| println!("{n}"));
            return Ok(());
        }
        Ended::Grid(_) | Ended::Search(_) => unreachable!("rounds end as rounds or one run"),
    };
    print_results(&last)?;
    if !result.complete {
        let broken: Vec<String> = last
            .iter()
            .filter(|r| planned_state(r) != RunState::Done)
            .map(|r| format!("{} {}", r.id(), planned_state(r)))
            .collect();
        if broken.is_empty() {
            // Every run is done now, yet this process could not take the round: another
            // process held its runs and decided it.
            bail!(
                "round {}: another eegrun process held this study's runs; nothing is lost — rerun to go on from the finished rounds",
                result.rounds
            );
        }
        broken.iter().for_each(|line| println!("{line}"));
        bail!(
            "round {}: {} did not finish (listed above); rerun, or --retry-failed",
            result.rounds,
            if broken.len() == 1 {
                "1 run".to_string()
            } else {
                format!("{} runs", broken.len())
            }
        );
    }
    let infos = finished(&last);
    print!("{}", findings::comparisons(&judged(&infos, &study)));
    let open = result.open.iter().filter(|&&o| o).count();
    // A configuration's seed is one run, or one per subject or fold of its protocol.
    let units: Vec<usize> = configs
        .iter()
        .map(|c| plan(std::slice::from_ref(c)).map(|r| r.len()))
        .collect::<Result<_>>()?;
    let fixed: usize = units.iter().map(|u| u * seeds.max).sum();
    let trained: usize = units.iter().zip(&result.counts).map(|(u, n)| u * n).sum();
    println!(
        "{} rounds; seeds per configuration: {}; {} of {} configurations still in an undecided comparison; {trained} runs trained instead of {fixed} for {} seeds each ({} saved)",
        result.rounds,
        result.counts.iter().map(usize::to_string).collect::<Vec<_>>().join(", "),
        open,
        configs.len(),
        seeds.max,
        fixed - trained
    );
    Ok(())
}

/// `--dry-run`: each round so far, with its runs still to train, without training.
fn dry_run(
    configs: &[RunSpec],
    seeds: SeedRounds,
    plan: &dyn Fn(&[RunSpec]) -> Result<Vec<PlannedRun>>,
    open: &dyn Fn(&[RunSpec]) -> Result<Vec<bool>>,
) -> Result<()> {
    let result = rounds::drive(
        configs,
        seeds,
        |round, specs| {
            let runs = plan(specs)?;
            let pending: Vec<&PlannedRun> = runs.iter().filter(|r| planned_state(r) != RunState::Done).collect();
            println!("round {round}: {} runs, {} to train", runs.len(), pending.len());
            for run in &pending {
                let unit = run
                    .record
                    .unit
                    .as_ref()
                    .map_or_else(String::new, |u| format!("  [{}]", u.label()));
                println!(
                    "  {}  {:<10} {}{unit}",
                    run.id(),
                    planned_state(run),
                    run.record.config.describe()
                );
            }
            Ok(pending.is_empty())
        },
        open,
    )?;
    if result.complete {
        println!("every round is trained: nothing more to train");
    }
    Ok(())
}

/// For each configuration, whether it takes part in an undecided comparison of the findings
/// on these finished runs.
pub(super) fn open_configurations(
    configs: &[RunSpec],
    runs: &[PlannedRun],
    data: &Dataset,
    study: &StudyFile,
) -> Result<Vec<bool>> {
    let infos = finished(runs);
    let open = findings::open_keys(&judged(&infos, study));
    Ok(configs
        .iter()
        .map(|c| open.contains(&configuration_key(c, &data.fingerprint)))
        .collect())
}

/// The planned runs as read from their folders.
fn finished(runs: &[PlannedRun]) -> Vec<Run> {
    runs.iter().filter_map(|r| Run::load(&r.dir.path).ok()).collect()
}

/// The studies of `infos`, judged against this study's declaration (not the one on disk, which
/// a dry run has not written).
fn judged<'a>(infos: &'a [Run], study: &StudyFile) -> Vec<findings::Study<'a>> {
    let (mut declared, _) = declarations(infos);
    declared.values_mut().for_each(|d| d.studies = vec![study.clone()]);
    findings::studies(infos, &declared)
}

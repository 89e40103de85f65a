//! `eegrun run` on a search that selects by results (early stopping, TPE): train one step
//! at a time (a rung of a round), deciding the next from the store, until it is complete.

use super::args::RunArgs;
use super::launch::{options, print_results, progress};
use crate::data::Dataset;
use crate::experiment::Experiment;
use crate::schedule::search_state::{decide, SearchRun, SearchState, Step};
use crate::schedule::{self, planned_state, Outcome, PlannedRun};
use anyhow::{bail, Result};

pub(super) fn command(args: &RunArgs, experiment: &Experiment, data: &Dataset) -> Result<()> {
    let runs_dir = &args.selection.runs_dir;
    let search = experiment.search().expect("a search");
    println!(
        "experiment {}: search of {} samples in {} round(s), {}{}, on {}",
        experiment.name,
        search.samples,
        search.rounds,
        if search.sampler == crate::experiment::Sampler::Tpe {
            "TPE after the first round"
        } else {
            "random"
        },
        search.early_stopping.map_or(String::new(), |es| format!(
            ", successive halving on {} (first rung at epoch {}, η = {})",
            es.metric.name(),
            es.min_epochs,
            es.reduction_factor
        )),
        data.description
    );
    if args.dry_run {
        let state = decide(experiment, data, runs_dir, false)?;
        list(&state);
        return Ok(());
    }
    loop {
        let state = decide(experiment, data, runs_dir, true)?;
        let Step::Train { round, rung, runs } = &state.step else {
            if let Some(id) = &args.run_id {
                if !state.runs.iter().any(|r| &r.run.id() == id) {
                    bail!(
                        "run id {id} is not a run of search '{}'; see --dry-run",
                        experiment.name
                    );
                }
                println!("the search is complete; nothing to train");
                return Ok(());
            }
            let runs: Vec<PlannedRun> = state.runs.iter().map(|r| r.run.clone()).collect();
            print_results(&runs)?;
            println!("{}", result(&state));
            return Ok(());
        };
        let mut runs = runs.clone();
        if let Some(id) = &args.run_id {
            runs.retain(|r| &r.id() == id);
            if runs.is_empty() {
                if state.runs.iter().any(|r| &r.run.id() == id) {
                    println!("run {id} is not trained in the search's current step; nothing to do");
                    return Ok(());
                }
                bail!(
                    "run id {id} is not a run of search '{}' so far; see --dry-run",
                    experiment.name
                );
            }
        }
        println!("{}", state.describe_step(runs.len()).unwrap_or_default());
        // Failed or damaged runs are retrained only with --retry-failed; the rest always.
        let (broken, healthy): (Vec<PlannedRun>, Vec<PlannedRun>) =
            runs.iter().cloned().partition(|r| planned_state(r).needs_repair());
        let mut outcomes = Vec::new();
        for (part, retry) in [(broken, args.retry_failed), (healthy, false)] {
            if !part.is_empty() {
                let options = schedule::Options {
                    retry_failed: retry,
                    ..options(args)
                };
                outcomes.extend(schedule::execute(&part, data, &options, progress().as_ref())?);
            }
        }
        if args.run_id.is_some() {
            return match outcomes.into_iter().next() {
                Some(Outcome::Failed(e)) => bail!("run {} failed: {e}", runs[0].id()),
                _ => Ok(()),
            };
        }
        if !outcomes.contains(&Outcome::Trained) {
            for run in &runs {
                println!("  {}  {}", run.id(), planned_state(run));
            }
            bail!(
                "the search cannot go on: the {} runs of round {}, rung {} listed above could not be trained ({})",
                runs.len(),
                round + 1,
                rung + 1,
                if args.retry_failed {
                    "another process holds them, or they failed again"
                } else {
                    "failed or damaged runs are retrained with --retry-failed; or another process holds them"
                }
            );
        }
    }
}

/// Where each run stands in the search (`--dry-run`), and what comes next.
fn list(state: &SearchState) {
    let next: Vec<String> = match &state.step {
        Step::Train { runs, .. } => runs.iter().map(PlannedRun::id).collect(),
        Step::Complete => Vec::new(),
    };
    for r in &state.runs {
        println!(
            "  {}  round {}  {:<40} {:<28} {}",
            r.run.id(),
            r.round + 1,
            planned_state(&r.run).to_string(),
            fate(state, r, &next),
            r.run.record.config.describe()
        );
    }
    let drawn = state.runs.iter().map(|r| r.round + 1).max().unwrap_or(0);
    if drawn < state.rounds {
        println!(
            "  rounds {} to {} are drawn when the rounds before them are decided",
            drawn + 1,
            state.rounds
        );
    }
    match &state.step {
        Step::Train { runs, .. } => println!("next: {}", state.describe_step(runs.len()).unwrap_or_default()),
        Step::Complete => println!("{}", result(state)),
    }
}

/// A run's place in the search, in words.
fn fate(state: &SearchState, run: &SearchRun, next: &[String]) -> String {
    let id = run.run.id();
    match (run.stopped_at, run.reached) {
        (Some(k), _) => format!("stopped at rung {}", k + 1),
        _ if next.contains(&id) => format!("next: train to epoch {}", next_until(state, &id)),
        (None, Some((k, _))) if k + 1 == state.rungs.len() => "finished".into(),
        (None, Some((k, _))) => format!("promoted past rung {}", k + 1),
        (None, None) => "waiting for its round".into(),
    }
}

fn next_until(state: &SearchState, id: &str) -> usize {
    match &state.step {
        Step::Train { runs, .. } => runs.iter().find(|r| r.id() == id).map_or(0, |r| r.until),
        Step::Complete => 0,
    }
}

/// The search's outcome: its cost, the chosen run, and that run's test accuracy.
pub(super) fn result(state: &SearchState) -> String {
    let (trained, full) = state.epochs_trained();
    let mut lines = vec![format!(
        "search complete: {} runs in {} round(s); rungs at epochs {}; {trained} epochs trained of {full} for training every run fully ({:.0}%)",
        state.runs.len(),
        state.rounds,
        state
            .rungs
            .iter()
            .map(usize::to_string)
            .collect::<Vec<_>>()
            .join(", "),
        100.0 * trained as f64 / full.max(1) as f64
    )];
    if let Some(chosen) = state.chosen() {
        let score = chosen.reached.map_or(f64::NAN, |(_, s)| s.abs());
        let summary = crate::store::summarize(&chosen.history);
        lines.push(format!(
            "chosen by {} {score:.4} (validation data only): {}  {}",
            state.metric.name(),
            chosen.run.id(),
            chosen.run.record.config.describe()
        ));
        if let Some(s) = summary {
            lines.push(format!(
                "its test accuracy, untouched by the choice: {:.4} at its best validation epoch ({}), {:.4} at its last epoch ({})",
                s.test_acc_at_best_val.unwrap_or(f64::NAN),
                s.best_val_epoch.unwrap_or(0),
                s.final_test_acc,
                s.epochs
            ));
        }
    }
    lines.join("\n")
}

//! `eegrun run` on a search that selects by results (early stopping, TPE): the search's
//! header, `--dry-run`'s listing, and its result. The driving, one step (a rung of a round)
//! at a time until the search is complete, is `schedule::drive`'s.

use super::args::RunArgs;
use super::launch::{drive_options, print_results, Printed};
use crate::data::Dataset;
use crate::experiment::Experiment;
use crate::schedule::drive::{drive, Ended, Plan};
use crate::schedule::search_state::{decide, SearchRun, SearchState, Step};
use crate::schedule::{planned_state, PlannedRun};
use anyhow::Result;

pub(super) fn command(args: &RunArgs, experiment: &Experiment, data: &Dataset) -> Result<()> {
    let runs_dir = &args.selection.runs_dir;
    let search = experiment.search().expect("a search");
    println!(
        "experiment {}: search of {} in {}, {}{}, on {}",
        experiment.name,
        crate::plural::count(search.samples, "sample", "samples"),
        crate::plural::count(search.rounds, "round", "rounds"),
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
    match drive(
        &Plan::Search(experiment),
        data,
        runs_dir,
        &drive_options(args),
        &Printed::new(),
    )? {
        Ended::Search(state) => {
            let runs: Vec<PlannedRun> = state.runs.iter().map(|r| r.run.clone()).collect();
            print_results(&runs)?;
            println!("{}", result(&state));
        }
        Ended::OneRun(note) => note.iter().for_each(|n| println!("{n}")),
        Ended::Grid(_) | Ended::Rounds(..) => unreachable!("a search ends as a search or one run"),
    }
    Ok(())
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
        "search complete: {} in {}; rungs at epochs {}; {trained} epochs trained of {full} for training every run fully ({:.0}%)",
        crate::plural::count(state.runs.len(), "run", "runs"),
        crate::plural::count(state.rounds, "round", "rounds"),
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

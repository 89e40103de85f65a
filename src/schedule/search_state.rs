//! Searches that choose by results (successive halving, TPE rounds): which runs train next,
//! and to which epoch. Everything is recomputed from the run store each time, from finished
//! rung results only, ties broken by run id — so the same file gives the same runs,
//! promotions and metrics whatever `--jobs`, however often it is killed and resumed, and
//! under Slurm.

use super::halving;
use super::planned::{plan, planned_state, PlannedRun};
use crate::config::RunSpec;
use crate::data::Dataset;
use crate::experiment::{Experiment, Metric};
use crate::store::{search_record, writer, EpochMetrics, RunState};
use anyhow::{anyhow, Result};
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::Path;
use toml::Value;

/// What the search needs next.
#[derive(Clone, Debug)]
pub enum Step {
    /// Train these runs, each to its `until`: round `round` up to rung `rung`.
    Train {
        /// The round being trained.
        round: usize,
        /// The rung being trained.
        rung: usize,
        /// The runs to train to that rung.
        runs: Vec<PlannedRun>,
    },
    /// Every round is drawn, trained and decided.
    Complete,
}

/// One rung's decision (rounds and rungs counted from 1).
#[derive(Clone, Debug, Serialize)]
pub struct Decision {
    /// The round of the rung.
    pub round: usize,
    /// The rung (1 = first).
    pub rung: usize,
    /// The epoch the rung is at.
    pub epoch: usize,
    /// The runs that reached the rung with their scores, best first (higher is better).
    pub scores: Vec<(String, f64)>,
    /// The runs that go on.
    pub promoted: Vec<String>,
}

/// A run of the search and where it stands in it.
#[derive(Clone, Debug)]
pub struct SearchRun {
    /// The planned run.
    pub run: PlannedRun,
    /// The round that drew it.
    pub round: usize,
    /// Its sampled values.
    pub sample: BTreeMap<String, Value>,
    /// Its epochs so far.
    pub history: Vec<EpochMetrics>,
    /// Left mid-step by a killed process: epochs recorded, but neither done nor marked
    /// stopped, and no process holds it (one that does is training it now).
    pub abandoned: bool,
    /// The deepest rung it reached, with its score there.
    pub reached: Option<(usize, f64)>,
    /// The rung that did not promote it.
    pub stopped_at: Option<usize>,
}

/// The search as far as the store lets it be decided.
#[derive(Clone, Debug)]
pub struct SearchState {
    /// The metric that ranks runs.
    pub metric: Metric,
    /// The rung epochs (just the last epoch without early stopping).
    pub rungs: Vec<usize>,
    /// Rounds of the search.
    pub rounds: usize,
    /// Every run drawn so far.
    pub runs: Vec<SearchRun>,
    /// Every rung's decision so far.
    pub decisions: Vec<Decision>,
    /// What to do next.
    pub step: Step,
}

impl SearchState {
    /// "round r of R, rung k of K: n runs to train to epoch E" for `n` of the current
    /// step's runs; `None` once the search is complete.
    pub fn describe_step(&self, runs: usize) -> Option<String> {
        let Step::Train { round, rung, .. } = &self.step else {
            return None;
        };
        Some(format!(
            "round {} of {}, rung {} of {}: {runs} runs to train to epoch {}",
            round + 1,
            self.rounds,
            rung + 1,
            self.rungs.len(),
            self.rungs[*rung]
        ))
    }

    /// The chosen run: the deepest rung, then the best score there, then the lowest id.
    pub fn chosen(&self) -> Option<&SearchRun> {
        self.runs
            .iter()
            .filter_map(|r| r.reached.map(|(k, s)| (k, s, r.run.id(), r)))
            .min_by(|a, b| halving::compare_progress(&(a.0, a.1, a.2.clone()), &(b.0, b.1, b.2.clone())))
            .map(|(.., r)| r)
    }

    /// Epochs trained so far, and what training every drawn run fully would take.
    pub fn epochs_trained(&self) -> (usize, usize) {
        let trained = self.runs.iter().map(|r| r.history.len()).sum();
        let full = self.runs.iter().map(|r| r.run.record.config.epochs).sum();
        (trained, full)
    }
}

/// Decides the search of `experiment` on `data` as far as the runs under `runs_dir` allow.
/// With `record`, runs a rung did not promote are marked stopped at it in the store and
/// the decisions are written to `runs/<experiment>/search.json`.
pub fn decide(experiment: &Experiment, data: &Dataset, runs_dir: &Path, record: bool) -> Result<SearchState> {
    let search = experiment
        .search()
        .ok_or_else(|| anyhow!("experiment '{}' has no [search]", experiment.name))?;
    let es = search.early_stopping;
    let mut state = SearchState {
        metric: es.map_or(Metric::ValAcc, |e| e.metric),
        rungs: Vec::new(),
        rounds: search.rounds,
        runs: Vec::new(),
        decisions: Vec::new(),
        step: Step::Complete,
    };
    let mut specs: Vec<RunSpec> = Vec::new();
    for round in 0..search.rounds {
        let candidates = experiment.round_runs(round, &ranked_samples(&state.runs))?;
        // A sample that resolves to a run drawn before is that run: it is not drawn twice.
        let fresh: Vec<_> = candidates
            .into_iter()
            .filter(|c| {
                let new = !specs.contains(&c.spec);
                specs.push(c.spec);
                new
            })
            .collect();
        let planned = plan(&experiment.name, fresh.iter().map(|c| c.spec).collect(), data, runs_dir)?;
        let first = state.runs.len();
        for (candidate, run) in fresh.into_iter().zip(planned) {
            let abandoned = matches!(planned_state(&run), RunState::Partial { .. }) && run.dir.try_lock()?.is_some();
            state.runs.push(SearchRun {
                history: history(&run)?,
                abandoned,
                run,
                round,
                sample: candidate.sample,
                reached: None,
                stopped_at: None,
            });
        }
        let Some(epochs) = state.runs[first..].first().map(|r| r.run.record.config.epochs) else {
            continue;
        };
        state.rungs = match es {
            Some(e) => halving::rungs(e.min_epochs, e.reduction_factor, epochs),
            None => vec![epochs],
        };
        let mut alive: Vec<usize> = (first..state.runs.len()).collect();
        for (rung, &epoch) in state.rungs.iter().enumerate() {
            let behind: Vec<PlannedRun> = alive
                .iter()
                .map(|&i| &state.runs[i])
                // An abandoned run is trained to `epoch` even when its epochs are recorded:
                // that only settles its files and state.
                .filter(|r| r.history.len() < epoch || r.abandoned)
                .map(|r| PlannedRun {
                    until: epoch,
                    ..r.run.clone()
                })
                .collect();
            if !behind.is_empty() {
                state.step = Step::Train {
                    round,
                    rung,
                    runs: behind,
                };
                return finish(state, experiment, runs_dir, record);
            }
            let scored: Vec<(String, f64)> = alive
                .iter()
                .map(|&i| {
                    let r = &mut state.runs[i];
                    let score = halving::score(&r.history, state.metric, epoch).unwrap_or(f64::NEG_INFINITY);
                    r.reached = Some((rung, score));
                    (r.run.id(), score)
                })
                .collect();
            let Some(es) = es.filter(|_| rung + 1 < state.rungs.len()) else {
                break;
            };
            let promoted = halving::promote(&scored, es.reduction_factor);
            for &i in &alive {
                let r = &mut state.runs[i];
                if !promoted.contains(&r.run.id()) {
                    r.stopped_at = Some(rung);
                }
                if record {
                    mark_stopped(&r.run, r.stopped_at.map(|k| k + 1))?;
                }
            }
            alive.retain(|&i| state.runs[i].stopped_at.is_none());
            let mut ranked = scored;
            halving::rank(&mut ranked);
            state.decisions.push(Decision {
                round: round + 1,
                rung: rung + 1,
                epoch,
                scores: ranked,
                promoted,
            });
        }
    }
    finish(state, experiment, runs_dir, record)
}

/// The recorded epochs of a run whose files can be trusted (none otherwise: it trains again
/// from its checkpoint, or is reported as broken).
fn history(run: &PlannedRun) -> Result<Vec<EpochMetrics>> {
    Ok(match planned_state(run) {
        RunState::Done | RunState::Partial { .. } | RunState::Stopped { .. } => run.dir.read_metrics()?.history,
        _ => Vec::new(),
    })
}

/// The samples of every run that reached a rung, best first (see [`halving::compare_progress`]).
fn ranked_samples(runs: &[SearchRun]) -> Vec<BTreeMap<String, Value>> {
    let mut reached: Vec<((usize, f64, String), &SearchRun)> = runs
        .iter()
        .filter_map(|r| r.reached.map(|(k, s)| ((k, s, r.run.id()), r)))
        .collect();
    reached.sort_by(|a, b| halving::compare_progress(&a.0, &b.0));
    reached.into_iter().map(|(_, r)| r.sample.clone()).collect()
}

/// Records in the store the rung (1 = first) that did not promote a run (none: promoted),
/// unless another process holds it or it is not cleanly stopped (finished, or left
/// mid-epoch).
fn mark_stopped(run: &PlannedRun, rung: Option<usize>) -> Result<()> {
    if !matches!(run.dir.state(), RunState::Stopped { rung: r, .. } if r != rung) {
        return Ok(());
    }
    writer::record_rung(&run.dir, rung, || {
        matches!(planned_state(run), RunState::Stopped { .. })
    })
}

/// `search.json`: what was decided, for people and scripts.
#[derive(Serialize)]
struct SearchFile<'a> {
    experiment: &'a str,
    metric: &'static str,
    rungs: &'a [usize],
    rounds: usize,
    complete: bool,
    epochs_trained: usize,
    epochs_if_all_trained_fully: usize,
    chosen: Option<String>,
    decisions: &'a [Decision],
}

fn finish(state: SearchState, experiment: &Experiment, runs_dir: &Path, record: bool) -> Result<SearchState> {
    if record {
        let (trained, full) = state.epochs_trained();
        let file = SearchFile {
            experiment: &experiment.name,
            metric: state.metric.name(),
            rungs: &state.rungs,
            rounds: state.rounds,
            complete: matches!(state.step, Step::Complete),
            epochs_trained: trained,
            epochs_if_all_trained_fully: full,
            chosen: state.chosen().map(|r| r.run.id()),
            decisions: &state.decisions,
        };
        search_record::write(runs_dir, &experiment.name, &file)?;
    }
    Ok(state)
}

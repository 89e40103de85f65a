//! A study driven to its end: a grid's runs trained, a search a step at a time (decide the
//! next step from the store, train it, decide again), seed rounds a round at a time. What
//! happens is told to a [`Reporter`]; the CLI only parses, calls this and renders, and
//! `run`'s three kinds of study share it.

use super::planned::{planned_state, Outcome, PlannedRun};
use super::progress::Progress;
use super::rounds::{self, Rounds};
use super::search_state::{decide, SearchState, Step};
use super::{execute, plan, Options};
use crate::config::{RunSpec, SeedRounds};
use crate::data::Dataset;
use crate::experiment::Experiment;
use crate::store::RunState;
use anyhow::{bail, Result};
use std::path::Path;

/// What a study trains.
pub enum Plan<'a> {
    /// These runs (a grid, or the runs of a search that selects nothing), all of them: a
    /// run id is chosen among them before.
    Grid(&'a [PlannedRun]),
    /// The search of this experiment, which selects by results: its steps are decided from
    /// the store as the runs before them finish.
    Search(&'a Experiment),
    /// Seed rounds.
    Rounds(SeedStudy<'a>),
}

/// A study in seed rounds (`[seeds] until = "decided"`).
pub struct SeedStudy<'a> {
    /// The experiment.
    pub experiment: &'a Experiment,
    /// Its configurations, seed left at 0.
    pub configs: Vec<RunSpec>,
    /// How seeds are added.
    pub seeds: SeedRounds,
    /// Which configurations still take part in an undecided comparison once a round's runs
    /// are finished (the findings' judgement, which the caller brings).
    pub open: &'a dyn Fn(&[PlannedRun]) -> Result<Vec<bool>>,
}

/// What a driven study tells whoever runs it.
pub trait Reporter {
    /// A step (a search's rung of a round, a round of seeds) is about to be trained,
    /// described in words.
    fn step(&self, description: &str);
    /// The runs of a step that could not be trained, before the driver gives up.
    fn stuck(&self, runs: &[PlannedRun]);
    /// Where the training queue reports each run's epochs.
    fn progress(&self) -> &dyn Progress;
}

/// How to drive a study.
#[derive(Clone, Debug, Default)]
pub struct Drive {
    /// The training queue's options; `retry_failed` retrains failed or damaged runs.
    pub queue: Options,
    /// Train only this run, in the current step (a Slurm array task), then return.
    pub run_id: Option<String>,
}

/// How a driven study ended.
pub enum Ended {
    /// The grid's runs were each trained or left alone: their outcomes, in plan order.
    Grid(Vec<Outcome>),
    /// Every run of the search is decided and the choice made.
    Search(SearchState),
    /// The rounds ran until decided, `max`, or a round whose runs did not all finish: where
    /// they stand, and the last round's runs.
    Rounds(Rounds, Vec<PlannedRun>),
    /// The one run asked for was trained, or there was nothing for it to do (said why).
    OneRun(Option<String>),
}

/// Drives `plan` on `data`, its runs in `runs_dir`, to its end (or, with a run id, through
/// that run's part of the current step).
pub fn drive(plan: &Plan, data: &Dataset, runs_dir: &Path, drive: &Drive, reporter: &dyn Reporter) -> Result<Ended> {
    match (plan, &drive.run_id) {
        (Plan::Grid(runs), _) => execute(runs, data, &drive.queue, reporter.progress()).map(Ended::Grid),
        (Plan::Search(experiment), _) => drive_search(experiment, data, runs_dir, drive, reporter),
        (Plan::Rounds(study), None) => {
            let (result, last) = run_rounds(study, data, runs_dir, Some((&drive.queue, reporter)))?;
            Ok(Ended::Rounds(result, last))
        }
        (Plan::Rounds(study), Some(id)) => {
            let (result, current) = run_rounds(study, data, runs_dir, None)?;
            // A round's runs hold every earlier round's: an id not among them is not of this study.
            let Some(run) = current.iter().find(|r| &r.id() == id) else {
                bail!(
                    "run id {id} is not a run of study '{}' so far (round {}); see --dry-run",
                    study.experiment.name,
                    result.rounds
                );
            };
            if planned_state(run) == RunState::Done {
                return Ok(Ended::OneRun(Some(format!("run {id} is done; nothing to do"))));
            }
            match execute(std::slice::from_ref(run), data, &drive.queue, reporter.progress())?.first() {
                Some(Outcome::Failed(e)) => bail!("run {id} failed: {e}"),
                _ => Ok(Ended::OneRun(None)),
            }
        }
    }
}

/// Where a study stands, without training.
pub enum Next {
    /// Runs to train next.
    Train {
        /// The runs of the step that are not done.
        runs: Vec<PlannedRun>,
        /// The runs the study has drawn so far.
        drawn: usize,
        /// Where the study is ("round 2, rung 1"; empty for a grid).
        at: String,
        /// The step in words (empty for a grid, whose one step is all of it).
        step: String,
    },
    /// Nothing is left to train: how the study ended (a grid's with no outcomes).
    Complete(Ended),
}

/// The step `plan` trains next, decided from the store as [`drive`] decides it, without
/// training; `record` writes the decisions taken so far (a search's search.json and stopped
/// runs) as [`drive`] does. `eegrun slurm` submits it, and its follow-up job asks again.
pub fn next_step(plan: &Plan, data: &Dataset, runs_dir: &Path, record: bool) -> Result<Next> {
    let not_done = |runs: &[PlannedRun]| -> Vec<PlannedRun> {
        runs.iter()
            .filter(|r| planned_state(r) != RunState::Done)
            .cloned()
            .collect()
    };
    Ok(match plan {
        Plan::Grid(runs) => match not_done(runs) {
            pending if pending.is_empty() => Next::Complete(Ended::Grid(Vec::new())),
            pending => Next::Train {
                step: String::new(),
                runs: pending,
                drawn: runs.len(),
                at: String::new(),
            },
        },
        Plan::Search(experiment) => {
            let state = decide(experiment, data, runs_dir, record)?;
            match &state.step {
                Step::Train { round, rung, runs } => Next::Train {
                    step: state.describe_step(runs.len()).unwrap_or_default(),
                    at: format!("round {}, rung {}", round + 1, rung + 1),
                    drawn: state.runs.len(),
                    runs: runs.clone(),
                },
                Step::Complete => Next::Complete(Ended::Search(state)),
            }
        }
        Plan::Rounds(study) => {
            let (result, current) = run_rounds(study, data, runs_dir, None)?;
            if result.complete {
                Next::Complete(Ended::Rounds(result, current))
            } else {
                let pending = not_done(&current);
                Next::Train {
                    step: format!(
                        "round {}: {} runs, {} to train",
                        result.rounds,
                        current.len(),
                        pending.len()
                    ),
                    at: format!("round {}", result.rounds),
                    drawn: current.len(),
                    runs: pending,
                }
            }
        }
    })
}

/// The rounds of `study` up to the first whose runs are not all done, and that round's runs
/// (the last round's when all are done). With `train`, each round's unfinished runs are
/// trained first, and the round reported.
fn run_rounds(
    study: &SeedStudy,
    data: &Dataset,
    runs_dir: &Path,
    train: Option<(&Options, &dyn Reporter)>,
) -> Result<(Rounds, Vec<PlannedRun>)> {
    let planned = |specs: &[RunSpec]| plan(&study.experiment.name, specs.to_vec(), data, runs_dir);
    let mut last: Vec<PlannedRun> = Vec::new();
    let result = rounds::drive(
        &study.configs,
        study.seeds,
        |round, specs| {
            let runs = planned(specs)?;
            if let Some((queue, reporter)) = train {
                let pending = runs.iter().filter(|r| planned_state(r) != RunState::Done).count();
                reporter.step(&format!("round {round}: {} runs, {pending} to train", runs.len()));
                if pending > 0 {
                    execute(&runs, data, queue, reporter.progress())?;
                }
            }
            let done = runs.iter().all(|r| planned_state(r) == RunState::Done);
            last = runs;
            Ok(done)
        },
        |specs| (study.open)(&planned(specs)?),
    )?;
    Ok((result, last))
}

/// A search driven until it is complete (or, with a run id, through that run's part of the
/// current step).
fn drive_search(
    experiment: &Experiment,
    data: &Dataset,
    runs_dir: &Path,
    drive: &Drive,
    reporter: &dyn Reporter,
) -> Result<Ended> {
    loop {
        let state = decide(experiment, data, runs_dir, true)?;
        let Step::Train { round, rung, runs } = &state.step else {
            return match &drive.run_id {
                Some(id) if !state.runs.iter().any(|r| &r.run.id() == id) => bail!(
                    "run id {id} is not a run of search '{}'; see --dry-run",
                    experiment.name
                ),
                Some(_) => Ok(Ended::OneRun(Some("the search is complete; nothing to train".into()))),
                None => Ok(Ended::Search(state)),
            };
        };
        let mut runs = runs.clone();
        if let Some(id) = &drive.run_id {
            runs.retain(|r| &r.id() == id);
            if runs.is_empty() {
                if state.runs.iter().any(|r| &r.run.id() == id) {
                    return Ok(Ended::OneRun(Some(format!(
                        "run {id} is not trained in the search's current step; nothing to do"
                    ))));
                }
                bail!(
                    "run id {id} is not a run of search '{}' so far; see --dry-run",
                    experiment.name
                );
            }
        }
        reporter.step(&state.describe_step(runs.len()).unwrap_or_default());
        // Failed or damaged runs are retrained only with retry_failed; the rest always.
        let (broken, healthy): (Vec<PlannedRun>, Vec<PlannedRun>) =
            runs.iter().cloned().partition(|r| planned_state(r).needs_repair());
        let mut outcomes = Vec::new();
        for (part, retry) in [(broken, drive.queue.retry_failed), (healthy, false)] {
            if !part.is_empty() {
                let options = Options {
                    retry_failed: retry,
                    ..drive.queue.clone()
                };
                outcomes.extend(execute(&part, data, &options, reporter.progress())?);
            }
        }
        if drive.run_id.is_some() {
            return match outcomes.into_iter().next() {
                Some(Outcome::Failed(e)) => bail!("run {} failed: {e}", runs[0].id()),
                _ => Ok(Ended::OneRun(None)),
            };
        }
        if !outcomes.contains(&Outcome::Trained) {
            reporter.stuck(&runs);
            bail!(
                "the search cannot go on: the {} runs of round {}, rung {} listed above could not be trained ({})",
                runs.len(),
                round + 1,
                rung + 1,
                if drive.queue.retry_failed {
                    "another process holds them, or they failed again"
                } else {
                    "failed or damaged runs are retrained with --retry-failed; or another process holds them"
                }
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::EpochMetrics;
    use std::sync::Mutex;

    /// Records the steps it is told of; shows no progress.
    #[derive(Default)]
    struct Record(Mutex<Vec<String>>);

    impl Progress for Record {
        fn start(&self, _: usize, _: usize, _: usize, _: usize) {}
        fn epoch(&self, _: &PlannedRun, _: &EpochMetrics) {}
        fn finish(&self, _: &PlannedRun, _: &Outcome) {}
    }

    impl Reporter for Record {
        fn step(&self, description: &str) {
            self.0.lock().unwrap().push(description.to_string());
        }
        fn stuck(&self, _: &[PlannedRun]) {}
        fn progress(&self) -> &dyn Progress {
            self
        }
    }

    #[test]
    fn a_halving_search_is_driven_to_its_choice_and_resumes_with_nothing_to_do() {
        let dir = std::env::temp_dir().join(format!("eegrun-drive-search-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let experiment = Experiment::parse(
            &dir.join("h.toml"),
            "name = \"h\"\ndata = \"synthetic:1:40\"\n[defaults]\nepochs = 2\nbatch_size = 20\nval_fraction = 0.25\nmodel = \"eegnet\"\n\
             [search]\nsamples = 4\nseed = 3\nlr = { log_uniform = [1e-4, 1e-2] }\n\
             [search.early_stopping]\nkind = \"successive_halving\"\nmin_epochs = 1\nreduction_factor = 2\n",
        )
        .unwrap();
        let data = crate::data::Source::parse("synthetic:1:40").unwrap().load().unwrap();
        let queue = Options {
            jobs: Some(2),
            threads: Some(1),
            ..Options::default()
        };
        let drive_to_end = Drive { queue, run_id: None };
        let record = Record::default();
        let search = Plan::Search(&experiment);
        let Ended::Search(state) = drive(&search, &data, &dir, &drive_to_end, &record).unwrap() else {
            panic!("the search did not complete");
        };
        // Two steps (rungs at epochs 1 and 2): four runs to the first, one decision there
        // promoting the best two, which train on; the choice is among those.
        assert_eq!(record.0.lock().unwrap().len(), 2, "{:?}", record.0.lock().unwrap());
        assert_eq!(state.decisions.len(), 1);
        assert_eq!(state.decisions[0].promoted.len(), 2);
        let chosen = state.chosen().expect("a chosen run").run.id();
        assert!(state.decisions[0].promoted.contains(&chosen));
        // Driven again: nothing left to train, the same choice.
        let again = Record::default();
        let Ended::Search(state) = drive(&search, &data, &dir, &drive_to_end, &again).unwrap() else {
            panic!("the search did not stay complete");
        };
        assert!(again.0.lock().unwrap().is_empty());
        assert_eq!(state.chosen().unwrap().run.id(), chosen);
        // One run of a complete search has nothing to do; an unknown one is an error.
        let one = Drive {
            run_id: Some(chosen),
            ..drive_to_end.clone()
        };
        assert!(matches!(
            drive(&search, &data, &dir, &one, &again),
            Ok(Ended::OneRun(Some(_)))
        ));
        let unknown = Drive {
            run_id: Some("000000000000".into()),
            ..drive_to_end
        };
        let error = drive(&search, &data, &dir, &unknown, &again).err().unwrap();
        assert!(error.to_string().contains("is not a run of search 'h'"), "{error}");
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn rounds_add_seeds_only_where_open_and_a_grid_trains_once() {
        let dir = std::env::temp_dir().join(format!("eegrun-drive-rounds-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let experiment = Experiment::parse(
            &dir.join("r.toml"),
            "name = \"r\"\ndata = \"synthetic:1:40\"\n[defaults]\nepochs = 1\nbatch_size = 20\nmodel = \"eegnet\"\n\
             [grid]\ndropout = [0.1, 0.5]\n[seeds]\nuntil = \"decided\"\nstart = 2\nstep = 1\nmax = 3\n",
        )
        .unwrap();
        let data = crate::data::Source::parse("synthetic:1:40").unwrap().load().unwrap();
        let configs = experiment.runs().unwrap();
        let queue = Options {
            jobs: Some(2),
            threads: Some(1),
            ..Options::default()
        };
        let drive_to_end = Drive { queue, run_id: None };
        // The first configuration stays undecided: it alone gets a third seed.
        let first_open = |_: &[PlannedRun]| Ok(vec![true, false]);
        let study = Plan::Rounds(SeedStudy {
            experiment: &experiment,
            configs: configs.clone(),
            seeds: experiment.seed_rounds.unwrap(),
            open: &first_open,
        });
        // Before training, the next step is the first round, all of it.
        let Next::Train { runs, drawn, at, .. } = next_step(&study, &data, &dir, false).unwrap() else {
            panic!("an untrained study is complete");
        };
        assert_eq!((runs.len(), drawn, at.as_str()), (4, 4, "round 1"));
        let record = Record::default();
        let Ended::Rounds(result, last) = drive(&study, &data, &dir, &drive_to_end, &record).unwrap() else {
            panic!("the rounds did not end as rounds");
        };
        assert_eq!(
            *record.0.lock().unwrap(),
            vec!["round 1: 4 runs, 4 to train", "round 2: 5 runs, 1 to train"]
        );
        assert_eq!((result.counts, result.rounds, result.complete), (vec![3, 2], 2, true));
        assert!(last.iter().all(|r| planned_state(r) == RunState::Done));
        assert!(matches!(
            next_step(&study, &data, &dir, false).unwrap(),
            Next::Complete(Ended::Rounds(..))
        ));
        // One run of the study: done already, or not of the study.
        let one = |id: &str| Drive {
            run_id: Some(id.to_string()),
            ..drive_to_end.clone()
        };
        let done = drive(&study, &data, &dir, &one(&last[0].id()), &record).unwrap();
        assert!(matches!(done, Ended::OneRun(Some(note)) if note.contains("is done")));
        let error = drive(&study, &data, &dir, &one("000000000000"), &record).err().unwrap();
        assert!(error.to_string().contains("is not a run of study 'r'"), "{error}");
        // The same runs as a grid: all done, so each is left alone.
        let Ended::Grid(outcomes) = drive(&Plan::Grid(&last), &data, &dir, &drive_to_end, &record).unwrap() else {
            panic!("a grid did not end as a grid");
        };
        assert_eq!(outcomes.len(), 5);
        assert!(
            outcomes.iter().all(|o| matches!(o, Outcome::Skipped(_))),
            "{outcomes:?}"
        );
        let _ = std::fs::remove_dir_all(&dir);
    }
}

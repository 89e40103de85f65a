//! A search driven to its end, a step at a time: decide the next step from the store
//! ([`decide`]), train it, decide again, until the search is complete. What happens is
//! told to a [`Reporter`]; the CLI only parses, calls this and renders.

use super::planned::{planned_state, Outcome, PlannedRun};
use super::progress::Progress;
use super::search_state::{decide, SearchState, Step};
use super::{execute, Options};
use crate::data::Dataset;
use crate::experiment::Experiment;
use anyhow::{bail, Result};
use std::path::Path;

/// What a driven search tells whoever runs it.
pub trait Reporter {
    /// A step is about to be trained, described in words.
    fn step(&self, description: &str);
    /// The runs of a step that could not be trained, before the driver gives up.
    fn stuck(&self, runs: &[PlannedRun]);
    /// Where the training queue reports each run's epochs.
    fn progress(&self) -> &dyn Progress;
}

/// How to drive a search.
#[derive(Clone, Debug, Default)]
pub struct Drive {
    /// The training queue's options; `retry_failed` retrains failed or damaged runs.
    pub queue: Options,
    /// Train only this run, in the current step (a Slurm array task), then return.
    pub run_id: Option<String>,
}

/// How a driven search ended.
pub enum Ended {
    /// Every run is decided and the choice made.
    Complete(SearchState),
    /// The one run asked for was trained, or there was nothing for it to do (said why).
    OneRun(Option<String>),
}

/// Drives the search of `experiment` on `data` in `runs_dir` until it is complete (or, with
/// a run id, through that run's part of the current step).
pub fn drive(
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
                None => Ok(Ended::Complete(state)),
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
        let dir = std::env::temp_dir().join(format!("eegrun-drive-{}", std::process::id()));
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
        let Ended::Complete(state) = drive(&experiment, &data, &dir, &drive_to_end, &record).unwrap() else {
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
        let Ended::Complete(state) = drive(&experiment, &data, &dir, &drive_to_end, &again).unwrap() else {
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
            drive(&experiment, &data, &dir, &one, &again),
            Ok(Ended::OneRun(Some(_)))
        ));
        let unknown = Drive {
            run_id: Some("000000000000".into()),
            ..drive_to_end
        };
        let error = drive(&experiment, &data, &dir, &unknown, &again).err().unwrap();
        assert!(error.to_string().contains("is not a run of search 'h'"), "{error}");
        let _ = std::fs::remove_dir_all(&dir);
    }
}

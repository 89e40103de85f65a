//! The planned runs of an experiment: each run's record and folder, where it stands on
//! disk, and what happened to it in this invocation.

use crate::config::{Protocol, RunSpec};
use crate::data::units::{units, UnitTrials};
use crate::data::{Dataset, Split};
use crate::store::{RunDir, RunRecord, RunState};
use anyhow::{bail, Result};
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

/// A run of the experiment with its folder.
#[derive(Clone, Debug)]
pub struct PlannedRun {
    /// What identifies the run.
    pub record: RunRecord,
    /// Its folder.
    pub dir: RunDir,
    /// Train up to this epoch: the run's last, or an early-stopping rung before it.
    pub until: usize,
    /// Its subject's or fold's trials under a per-subject protocol (none: all the data).
    pub trials: Option<Arc<UnitTrials>>,
}

impl PlannedRun {
    /// The run's id: its folder's name.
    pub fn id(&self) -> String {
        self.dir.id()
    }
}

/// What happened to one run in this invocation.
#[derive(Clone, Debug, PartialEq)]
pub enum Outcome {
    /// Trained in this invocation (to its end or its rung).
    Trained,
    /// Failed, with the error.
    Failed(String),
    /// Left alone, with the reason (done, or held by another process).
    Skipped(String),
}

/// Where a planned run stands: the store's state, with its config.json checked against
/// the plan (a finished run whose config is missing or damaged cannot be trusted).
pub fn planned_state(run: &PlannedRun) -> RunState {
    let state = run.dir.state();
    if state == RunState::Pending {
        return state;
    }
    match run.dir.record() {
        Ok(Some(r)) if r.same_run(&run.record) => state,
        Ok(Some(_)) => RunState::Inconsistent("config.json describes another run".into()),
        Ok(None) => RunState::Inconsistent("config.json is missing".into()),
        Err(e) => RunState::Unreadable(format!("{e:#}")),
    }
}

/// Where a run stands on disk, for listings.
pub fn describe_state(run: &PlannedRun) -> String {
    planned_state(run).to_string()
}

/// The runs of experiment `name` with these specs on `data`, in folders under `runs_dir`.
pub fn plan(name: &str, specs: Vec<RunSpec>, data: &Dataset, runs_dir: &Path) -> Result<Vec<PlannedRun>> {
    // Each protocol's units, found once (their trials are indices: a run slices its own
    // when it trains, so the data is held once).
    let mut units_of: BTreeMap<(Protocol, usize), Vec<Arc<UnitTrials>>> = BTreeMap::new();
    for spec in &specs {
        if let std::collections::btree_map::Entry::Vacant(e) = units_of.entry((spec.protocol, spec.folds)) {
            let found =
                units(data, spec.protocol, spec.folds).map_err(|e| anyhow::anyhow!("experiment '{name}': {e:#}"))?;
            e.insert(found.into_iter().map(Arc::new).collect());
        }
    }
    let mut checked = std::collections::BTreeSet::new();
    for spec in &specs {
        let key = (spec.protocol, spec.folds, spec.val_fraction.to_bits());
        if !checked.insert(key) {
            continue;
        }
        let units = &units_of[&(spec.protocol, spec.folds)];
        let labels_of = |trials: &[usize]| Split {
            y: trials.iter().map(|&i| data.train.y[i]).collect(),
            ..Split::default()
        };
        let splits: Vec<(String, Split)> = match units.is_empty() {
            true => vec![(String::new(), labels_of(&(0..data.train.len()).collect::<Vec<_>>()))],
            false => units
                .iter()
                .map(|u| (format!(", {}", u.unit.label()), labels_of(&u.train)))
                .collect(),
        };
        for (unit, split) in splits {
            crate::nn::train::check_hold_out(&split, data.shape.classes, spec.val_fraction)
                .map_err(|e| anyhow::anyhow!("experiment '{name}' on {}{unit}: {e}", data.description))?;
        }
    }
    for spec in &specs {
        crate::nn::model::ModelSpec::new(spec, data.shape)
            .check()
            .map_err(|e| anyhow::anyhow!("experiment '{name}' on {} ({}): {e}", data.description, data.shape))?;
    }
    let runs: Vec<PlannedRun> = specs
        .into_iter()
        .flat_map(|spec| {
            let units = &units_of[&(spec.protocol, spec.folds)];
            let each: Vec<Option<Arc<UnitTrials>>> = match units.is_empty() {
                true => vec![None],
                false => units.iter().cloned().map(Some).collect(),
            };
            each.into_iter().map(move |trials| {
                let mut record = RunRecord::new(name, spec, &data.description, &data.fingerprint);
                record.data_sfreq = data.sfreq;
                record.unit = trials.as_ref().map(|t| t.unit.clone());
                PlannedRun {
                    dir: RunDir::new(runs_dir, &record),
                    until: record.config.epochs,
                    record,
                    trials,
                }
            })
        })
        .collect();
    // Temporary files a killed writer left (`kill -9` mid-write) go now; a live one's stay.
    for run in &runs {
        crate::atomic_write::remove_stale_temporaries(&run.dir.path);
    }
    crate::atomic_write::remove_stale_temporaries(&runs_dir.join(name));
    let mut ids: Vec<&str> = runs.iter().map(|r| r.dir.path.to_str().unwrap_or_default()).collect();
    ids.sort_unstable();
    let before = ids.len();
    ids.dedup();
    if ids.len() != before {
        bail!("experiment '{name}' lists the same run more than once (duplicate grid values?)");
    }
    Ok(runs)
}

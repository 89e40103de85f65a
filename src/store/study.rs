//! `runs/<experiment>/study.json`: what each invocation of a designed study declared before
//! it trained — its configurations (the family its findings are corrected over, whatever
//! later sits in the folder or survives `--filter`), its margin of practical equivalence,
//! the command line and the time. `{"declarations": [...]}`, one entry per distinct grid (a
//! pilot at other epochs, the full study, a one-off extra run each get their own); the
//! single flat declaration of earlier versions reads as a list of one.

use super::configuration_key;
use crate::atomic_write::write_atomic;
use crate::bounded_read::{read_regular, RECORD_LIMIT};
use crate::config::{FindingsMetric, RunSpec, SeedRounds};
use anyhow::{bail, Result};
use serde::{Deserialize, Serialize};
use std::path::Path;

/// The declaration of one study.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StudyFile {
    /// Margin of practical equivalence, as a fraction of accuracy (0.01 = 1 point).
    pub rope: f64,
    /// The data the configurations train on.
    pub data_fingerprint: String,
    /// Every configuration of the study (seed 0 stands for all seeds).
    pub configurations: Vec<RunSpec>,
    /// The level each of its decisions is taken at (α, or α over the looks of seed rounds).
    #[serde(default = "default_alpha")]
    pub alpha: f64,
    /// How seeds are added in rounds, if they are.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seed_rounds: Option<SeedRounds>,
    /// Each test trial's subject, where the data names them: findings group trials by it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub test_subjects: Option<Vec<u32>>,
    /// What the findings compare (plain accuracy unless the experiment says otherwise).
    #[serde(default, skip_serializing_if = "is_accuracy")]
    pub metric: FindingsMetric,
    /// The subjects' names by number (`test_subjects` counts into it), for studies with a
    /// per-subject protocol: their runs' test trials are placed back in the test set's order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub subject_names: Vec<String>,
    /// The command line that declared it (none in files of earlier versions).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub command: Option<String>,
    /// When it was declared, in seconds since 1970 (none in files of earlier versions).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub declared_unix: Option<u64>,
    /// The experiment file's text at that time, before `--set` (none in files of earlier
    /// versions).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub experiment_file: Option<String>,
}

/// `study.json` as written: every declaration, oldest first.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Declarations {
    declarations: Vec<StudyFile>,
}

/// `study.json` as read: the list, or the one flat declaration of earlier versions.
#[derive(Deserialize)]
#[serde(untagged)]
enum OnDisk {
    List(Declarations),
    One(StudyFile),
}

fn is_accuracy(metric: &FindingsMetric) -> bool {
    *metric == FindingsMetric::Accuracy
}

fn default_alpha() -> f64 {
    crate::config::ALPHA
}

impl StudyFile {
    /// The same study whoever declared it when: equal but for the command line and time.
    fn same_study(&self, other: &StudyFile) -> bool {
        let bare = |s: &StudyFile| StudyFile {
            command: None,
            declared_unix: None,
            experiment_file: None,
            ..s.clone()
        };
        bare(self) == bare(other)
    }

    /// The configuration keys declared for `model` on the data `fingerprint`.
    pub fn configuration_keys(&self, model: crate::config::ModelKind, fingerprint: &str) -> Vec<String> {
        if self.data_fingerprint != fingerprint {
            return Vec::new();
        }
        let mut keys: Vec<String> = self
            .configurations
            .iter()
            .filter(|c| c.model == model)
            .map(|c| configuration_key(c, fingerprint))
            .collect();
        keys.sort();
        keys.dedup();
        keys
    }
}

/// The file's path for `experiment` under `runs_dir`.
fn path(runs_dir: &Path, experiment: &str) -> std::path::PathBuf {
    runs_dir.join(experiment).join("study.json")
}

/// Records the declaration beside the folder's earlier ones, unless one of them declares
/// the same study (a resumed or repeated invocation), which is kept as it is. A damaged
/// `study.json` is an error: nothing is overwritten.
pub fn write(runs_dir: &Path, experiment: &str, study: &StudyFile) -> Result<()> {
    let folder = runs_dir.join(experiment);
    let mut all = read(&folder)?.unwrap_or_default();
    if all.iter().any(|d| d.same_study(study)) {
        return Ok(());
    }
    all.push(study.clone());
    let file = Declarations { declarations: all };
    write_atomic(&path(runs_dir, experiment), &serde_json::to_vec_pretty(&file)?)
}

/// The most test trials whose subjects a declaration may list.
const MOST_TRIALS: usize = 10_000_000;

impl StudyFile {
    /// Checks every value against the ranges the experiment file has (α in (0, 0.5], rope
    /// in [0, 1) as a fraction, seed rounds within `[seeds]`'s limits, subject ids numbered
    /// 0, 1, … in order of first appearance); the message names the field and the value.
    pub fn check(&self) -> Result<(), String> {
        if !(self.alpha > 0.0 && self.alpha <= 0.5) {
            return Err(format!("alpha {}: expected a level in (0, 0.5]", self.alpha));
        }
        if !(self.rope.is_finite() && (0.0..1.0).contains(&self.rope)) {
            return Err(format!(
                "rope {}: expected a margin in [0, 1) (a fraction of accuracy; 0.01 = 1 point)",
                self.rope
            ));
        }
        if let Some(r) = self.seed_rounds {
            if !(r.start >= 2 && r.step >= 1 && r.start <= r.max && r.max <= 1000) {
                return Err(format!(
                    "seed_rounds {r:?}: expected start ≥ 2, step ≥ 1 and start ≤ max ≤ 1000"
                ));
            }
        }
        if let Some(subjects) = &self.test_subjects {
            if subjects.len() > MOST_TRIALS {
                return Err(format!(
                    "test_subjects: {} entries, more than {MOST_TRIALS}",
                    subjects.len()
                ));
            }
            let mut next = 0u32;
            for (i, &s) in subjects.iter().enumerate() {
                if s > next {
                    return Err(format!(
                        "test_subjects[{i}] = {s}: subjects are numbered 0, 1, … in order of first appearance (expected at most {next})"
                    ));
                }
                next = next.max(s + 1);
            }
            if !self.subject_names.is_empty() && (next as usize) > self.subject_names.len() {
                return Err(format!(
                    "subject_names: {} names, but test_subjects counts {next} subjects",
                    self.subject_names.len()
                ));
            }
        }
        if self.subject_names.len() > MOST_TRIALS {
            return Err(format!(
                "subject_names: {} entries, more than {MOST_TRIALS}",
                self.subject_names.len()
            ));
        }
        if let Some(name) = self.subject_names.iter().find(|n| n.is_empty() || n.len() > 100) {
            return Err(format!(
                "subject_names: '{}' is not a subject's name (1 to 100 characters)",
                crate::escape::visible(name)
            ));
        }
        Ok(())
    }
}

/// The declarations in the experiment folder `dir`, oldest first, if it has a study.json:
/// read as a regular file of at most [`RECORD_LIMIT`] bytes and each checked
/// ([`StudyFile::check`]); a damaged one is an error naming the file and the declaration
/// (callers warn and fall back to what the runs declare).
pub fn read(dir: &Path) -> Result<Option<Vec<StudyFile>>> {
    let path = dir.join("study.json");
    let Some(bytes) = read_regular(&path, RECORD_LIMIT)? else {
        return Ok(None);
    };
    let all = match serde_json::from_slice::<OnDisk>(&bytes) {
        Ok(OnDisk::List(list)) => list.declarations,
        Ok(OnDisk::One(one)) => vec![one],
        Err(_) => bail!(
            "{}: damaged: not a study declaration (expected {{\"declarations\": [...]}})",
            path.display()
        ),
    };
    if all.is_empty() {
        bail!(
            "{}: damaged: declarations is empty; its declaration is ignored",
            path.display()
        );
    }
    for (i, study) in all.iter().enumerate() {
        study.check().map_err(|e| {
            anyhow::anyhow!(
                "{}: damaged: declarations[{i}]: {e}; its declaration is ignored",
                path.display()
            )
        })?;
    }
    Ok(Some(all))
}

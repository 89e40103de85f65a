//! Subjects as the units of a study: the trials each model of a per-subject protocol trains
//! and tests on, and a data set restricted to some subjects. The data's own train/test split
//! stays: a subject's test trials are the same under every protocol, so protocols compare
//! paired by subject.

use super::dataset::Dataset;
use crate::config::Protocol;
use anyhow::{bail, Result};
use serde::{Deserialize, Serialize};

/// What a run of a per-subject protocol is trained for, as its record keeps it: one subject
/// (within-subject), or one fold of held-out subjects (cross-subject).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Unit {
    /// The fold, 1-based, and how many there are (cross-subject only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fold: Option<(usize, usize)>,
    /// The subject (within-subject), or the held-out subjects (cross-subject), by name.
    pub subjects: Vec<String>,
}

impl Unit {
    /// How tables name it: its subject ("S001", also for a fold of one subject, so the
    /// protocols' rows meet), or "fold 2/5".
    pub fn label(&self) -> String {
        match (self.fold, &self.subjects[..]) {
            (Some((k, n)), subjects) if subjects.len() != 1 => format!("fold {k}/{n}"),
            _ => self.subjects.join(" "),
        }
    }
}

/// A unit with its trials: indices into the data's training and test splits.
#[derive(Clone, Debug)]
pub struct UnitTrials {
    /// The unit, as recorded.
    pub unit: Unit,
    /// Its training trials.
    pub train: Vec<usize>,
    /// Its test trials.
    pub test: Vec<usize>,
}

impl UnitTrials {
    /// The unit's own data set: its trials of `data`, with `data`'s fingerprint (the unit is
    /// part of the run's id).
    pub fn slice(&self, data: &Dataset) -> Dataset {
        let pick =
            |of: &Option<Vec<u32>>, trials: &[usize]| of.as_ref().map(|s| trials.iter().map(|&i| s[i]).collect());
        Dataset {
            description: format!("{} — {}", data.description, self.unit.label()),
            train: data.train.select(&self.train),
            test: data.test.select(&self.test),
            train_subjects: pick(&data.train_subjects, &self.train),
            test_subjects: pick(&data.test_subjects, &self.test),
            ..data.clone()
        }
    }
}

/// A subject's name with its training and test trials.
type SubjectTrials = (String, Vec<usize>, Vec<usize>);

impl UnitTrials {
    /// The unit's trials as a data set of their own, fingerprinted as such: what a search
    /// nested in each subject or fold trains on.
    pub fn standalone(&self, data: &Dataset) -> Dataset {
        let sliced = self.slice(data);
        let mut out = Dataset::new(sliced.description.clone(), sliced.shape, sliced.train, sliced.test);
        out.train_subjects = sliced.train_subjects;
        out.test_subjects = sliced.test_subjects;
        out.subject_names = sliced.subject_names;
        out.sfreq = sliced.sfreq;
        out
    }

    /// A name for folders: "S001", or "fold-2-of-5".
    pub fn folder_name(&self) -> String {
        self.unit.label().replace(' ', "-").replace('/', "-of-")
    }
}

/// Each subject's training and test trials, in order of the subjects' sorted names; an error
/// where the data does not name them.
fn by_subject(data: &Dataset, protocol: Protocol) -> Result<Vec<SubjectTrials>> {
    let (Some(train), Some(test)) = (&data.train_subjects, &data.test_subjects) else {
        bail!(
            "protocol {protocol} needs each trial's subject, but {} has no trials_train.csv and trials_test.csv (a `subject` column, one row per trial)",
            data.description
        );
    };
    let mut out: Vec<SubjectTrials> = data
        .subject_names
        .iter()
        .map(|n| (n.clone(), Vec::new(), Vec::new()))
        .collect();
    train.iter().enumerate().for_each(|(i, &s)| out[s as usize].1.push(i));
    test.iter().enumerate().for_each(|(i, &s)| out[s as usize].2.push(i));
    out.sort_by(|a, b| a.0.cmp(&b.0));
    for (name, _, test) in &out {
        if test.is_empty() {
            bail!(
                "protocol {protocol}: subject {name} has no test trials in {}; leave it out with subjects = [...]",
                data.description
            );
        }
    }
    Ok(out)
}

/// The units of `protocol` on `data` (none for pooled): one per subject, or `folds`
/// contiguous blocks of the sorted subject names (0: one subject per fold; the first blocks
/// take one subject more where they do not divide evenly). Every unit trains on every class.
pub fn units(data: &Dataset, protocol: Protocol, folds: usize) -> Result<Vec<UnitTrials>> {
    let subjects = match protocol {
        Protocol::Pooled => return Ok(Vec::new()),
        _ => by_subject(data, protocol)?,
    };
    let units: Vec<UnitTrials> = match protocol {
        Protocol::Pooled => unreachable!("returned above"),
        Protocol::WithinSubject => subjects
            .into_iter()
            .map(|(name, train, test)| UnitTrials {
                unit: Unit {
                    fold: None,
                    subjects: vec![name],
                },
                train,
                test,
            })
            .collect(),
        Protocol::CrossSubject => {
            let n = subjects.len();
            let folds = if folds == 0 { n } else { folds };
            if folds < 2 || folds > n {
                bail!(
                    "folds = {folds}: {} holds {n} subjects; a cross-subject protocol needs from 2 to {n} folds",
                    data.description
                );
            }
            let mut start = 0;
            (0..folds)
                .map(|k| {
                    let size = n / folds + usize::from(k < n % folds);
                    let held = start..start + size;
                    start += size;
                    UnitTrials {
                        unit: Unit {
                            fold: Some((k + 1, folds)),
                            subjects: subjects[held.clone()].iter().map(|s| s.0.clone()).collect(),
                        },
                        train: subjects
                            .iter()
                            .enumerate()
                            .filter(|(i, _)| !held.contains(i))
                            .flat_map(|(_, s)| s.1.iter().copied())
                            .collect::<std::collections::BTreeSet<usize>>()
                            .into_iter()
                            .collect(),
                        test: subjects[held].iter().flat_map(|s| s.2.iter().copied()).collect(),
                    }
                })
                .collect()
        }
    };
    for u in &units {
        let mut seen = vec![false; data.shape.classes];
        u.train.iter().for_each(|&i| seen[data.train.y[i] as usize] = true);
        if let Some(class) = seen.iter().position(|s| !s) {
            bail!(
                "protocol {protocol}: {} has no training trials of class {} in {}; leave it out with subjects = [...]",
                u.unit.label(),
                class + 1,
                data.description
            );
        }
    }
    Ok(units)
}

/// `data` restricted to the named subjects (its fingerprint follows the trials kept); an
/// unknown or repeated name is an error naming the subjects the data holds.
pub fn restrict(data: &Dataset, names: &[String]) -> Result<Dataset> {
    let (Some(train), Some(test)) = (&data.train_subjects, &data.test_subjects) else {
        bail!(
            "subjects = [...]: {} does not name its trials' subjects (no trials_train.csv and trials_test.csv)",
            data.description
        );
    };
    let mut wanted = Vec::new();
    for name in names {
        let Some(number) = data.subject_names.iter().position(|n| n == name) else {
            let mut held = data.subject_names.clone();
            held.sort();
            let shown = match held.len() {
                0..=12 => held.join(", "),
                n => format!("{}, …, {} ({n} subjects)", held[..3].join(", "), held[n - 1]),
            };
            bail!("subjects: {name} is not in {}; it holds {shown}", data.description);
        };
        if wanted.contains(&(number as u32)) {
            bail!("subjects: {name} is listed twice");
        }
        wanted.push(number as u32);
    }
    let keep = |of: &[u32]| -> Vec<usize> { (0..of.len()).filter(|&i| wanted.contains(&of[i])).collect() };
    let (train_kept, test_kept) = (keep(train), keep(test));
    let mut shown: Vec<&str> = names.iter().map(String::as_str).collect();
    shown.sort_unstable();
    let listed = match shown.len() {
        0..=6 => shown.join(", "),
        n => format!("{} … {}, {n} subjects", shown[0], shown[n - 1]),
    };
    let mut out = Dataset::new(
        format!("{} (subjects {listed})", data.description),
        data.shape,
        data.train.select(&train_kept),
        data.test.select(&test_kept),
    );
    // Numbered again in order of first appearance, test split first (as `subjects::read_both`).
    let mut names: Vec<String> = Vec::new();
    let mut renumber = |of: &[u32], kept: &[usize]| -> Vec<u32> {
        kept.iter()
            .map(|&i| super::subjects::number(&mut names, &data.subject_names[of[i] as usize]))
            .collect()
    };
    out.test_subjects = Some(renumber(test, &test_kept));
    out.train_subjects = Some(renumber(train, &train_kept));
    out.subject_names = names;
    out.sfreq = data.sfreq;
    Ok(out)
}

//! Which subject each trial comes from, where the data says: `trials_train.csv` and
//! `trials_test.csv` beside a train.npz/test.npz pair (one row per trial, in npz order, with a
//! `subject` column), as the PhysioNet stand-ins ship. One strict reader for both: RFC 4180
//! CSV (quoted fields may hold commas and quotes), an optional UTF-8 byte-order mark, every
//! row as wide as the header, the `subject` column required and never empty, and the row
//! count equal to the split's trials. Subject names are kept as written (S001).

use crate::bounded_read::{read_regular, RECORD_LIMIT};
use anyhow::{bail, Context, Result};
use std::collections::HashMap;
use std::path::Path;

/// The test split's trials file.
pub const FILE: &str = "trials_test.csv";
/// The training split's trials file.
pub const TRAIN_FILE: &str = "trials_train.csv";

/// The subjects of a split's trials.
#[derive(Clone, Debug, PartialEq)]
pub struct Subjects {
    /// Each subject's name, as the file writes it, in order of first appearance.
    pub names: Vec<String>,
    /// Each trial's subject: an index into `names`.
    pub of_trial: Vec<u32>,
}

/// The subjects of the `trials` trials of `dir/file`; `None` when the folder has no such file.
pub fn read_file(dir: &Path, file: &str, trials: usize) -> Result<Option<Subjects>> {
    let path = dir.join(file);
    let Some(bytes) = read_regular(&path, RECORD_LIMIT)? else {
        return Ok(None);
    };
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&bytes);
    let mut reader = csv::ReaderBuilder::new().has_headers(true).from_reader(bytes);
    let header = reader
        .headers()
        .with_context(|| format!("{}: not CSV", path.display()))?
        .clone();
    let Some(column) = header.iter().position(|h| h.trim() == "subject") else {
        let shown: Vec<&str> = header.iter().collect();
        bail!(
            "{}: no 'subject' column in its header ({})",
            path.display(),
            crate::escape::visible(&shown.join(","))
        );
    };
    let mut numbers: HashMap<String, u32> = HashMap::new();
    let mut subjects = Subjects {
        names: Vec::new(),
        of_trial: Vec::with_capacity(trials),
    };
    for (row, record) in reader.records().enumerate() {
        let record = record.with_context(|| format!("{}: row {}", path.display(), row + 1))?;
        if subjects.of_trial.len() == trials {
            bail!(
                "{}: more than {trials} rows, but the split has {trials} trials (one row per trial, in order)",
                path.display()
            );
        }
        let subject = record.get(column).map(str::trim).unwrap_or_default();
        if subject.is_empty() {
            bail!("{}: row {} has no subject", path.display(), row + 1);
        }
        let next = numbers.len() as u32;
        let number = *numbers.entry(subject.to_string()).or_insert_with(|| {
            subjects.names.push(subject.to_string());
            next
        });
        subjects.of_trial.push(number);
    }
    if subjects.of_trial.len() != trials {
        bail!(
            "{}: {} rows, but the split has {trials} trials (one row per trial, in order)",
            path.display(),
            subjects.of_trial.len()
        );
    }
    Ok(Some(subjects))
}

/// Each of `trials` test trials' subject, numbered 0, 1, … in order of first appearance;
/// `None` when `dir` has no `trials_test.csv`.
pub fn read(dir: &Path, trials: usize) -> Result<Option<Vec<u32>>> {
    Ok(read_file(dir, FILE, trials)?.map(|s| s.of_trial))
}

/// The subjects of both splits, numbered together: the test split's in order of first
/// appearance (as [`read`] numbers them), then subjects found only in the training split.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct BothSplits {
    /// Each subject's name, by number.
    pub names: Vec<String>,
    /// Each training trial's subject, where `trials_train.csv` is present.
    pub train: Option<Vec<u32>>,
    /// Each test trial's subject, where `trials_test.csv` is present.
    pub test: Option<Vec<u32>>,
}

/// `name`'s number among `names`, adding it at the end when it is new.
pub fn number(names: &mut Vec<String>, name: &str) -> u32 {
    match names.iter().position(|n| n == name) {
        Some(k) => k as u32,
        None => {
            names.push(name.to_string());
            names.len() as u32 - 1
        }
    }
}

/// Reads both splits' trials files (each optional) with one numbering of the subjects.
pub fn read_both(dir: &Path, train_trials: usize, test_trials: usize) -> Result<BothSplits> {
    let test = read_file(dir, FILE, test_trials)?;
    let train = read_file(dir, TRAIN_FILE, train_trials)?;
    let mut names: Vec<String> = test.as_ref().map(|t| t.names.clone()).unwrap_or_default();
    let train = train.map(|t| {
        t.of_trial
            .iter()
            .map(|&i| number(&mut names, &t.names[i as usize]))
            .collect()
    });
    Ok(BothSplits {
        names,
        train,
        test: test.map(|t| t.of_trial),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subjects_are_read_as_csv_numbered_in_order_and_counted() {
        let dir = std::env::temp_dir().join(format!("eegrun-subjects-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        assert_eq!(read(&dir, 3).unwrap(), None);
        std::fs::write(
            dir.join(FILE),
            "\u{feff}index,subject,run\r\n0,S002,R12\r\n1,S001,R12\r\n2,S002,R12\r\n",
        )
        .unwrap();
        assert_eq!(read(&dir, 3).unwrap(), Some(vec![0, 1, 0]));
        let error = format!("{:#}", read(&dir, 4).unwrap_err());
        assert!(error.contains("3 rows, but the split has 4 trials"), "{error}");
        // A quoted field with a comma stays one field: the subject column does not shift.
        std::fs::write(dir.join(FILE), "note,subject\n\"a, b\",S007\n\"c\",S008\n").unwrap();
        let s = read_file(&dir, FILE, 2).unwrap().unwrap();
        assert_eq!(s.names, vec!["S007", "S008"]);
        std::fs::write(dir.join(FILE), "index,subject\n0,S1\n1\n").unwrap();
        assert!(format!("{:#}", read(&dir, 2).unwrap_err()).contains("row 2"));
        std::fs::write(dir.join(FILE), "index,run\n0,R12\n").unwrap();
        assert!(format!("{:#}", read(&dir, 1).unwrap_err()).contains("no 'subject' column"));
        std::fs::write(dir.join(FILE), "index,subject\n0,\n").unwrap();
        assert!(format!("{:#}", read(&dir, 1).unwrap_err()).contains("row 1 has no subject"));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}

//! Which subject each test trial comes from, where the data says: a `trials_test.csv` beside
//! a train.npz/test.npz pair (one row per test trial, in npz order, with a `subject`
//! column), as the PhysioNet stand-in ships. Findings then group trials by subject.

use anyhow::{bail, Context, Result};
use std::collections::HashMap;
use std::path::Path;

/// The file's name.
pub const FILE: &str = "trials_test.csv";

/// Each of `trials` test trials' subject, numbered 0, 1, … in order of first appearance;
/// `None` when `dir` has no such file.
pub fn read(dir: &Path, trials: usize) -> Result<Option<Vec<u32>>> {
    let path = dir.join(FILE);
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e).with_context(|| format!("{}: cannot read", path.display())),
    };
    let mut lines = text.lines();
    let header = lines.next().unwrap_or_default();
    let Some(column) = header.split(',').position(|h| h.trim() == "subject") else {
        bail!("{}: no 'subject' column in its header '{header}'", path.display());
    };
    let mut numbers: HashMap<String, u32> = HashMap::new();
    let mut subjects = Vec::with_capacity(trials);
    for (row, line) in lines.filter(|l| !l.trim().is_empty()).enumerate() {
        let Some(subject) = line.split(',').nth(column).map(str::trim).filter(|s| !s.is_empty()) else {
            bail!("{}: row {} has no subject", path.display(), row + 1);
        };
        let next = numbers.len() as u32;
        subjects.push(*numbers.entry(subject.to_string()).or_insert(next));
        if subjects.len() > trials {
            break;
        }
    }
    if subjects.len() != trials {
        bail!(
            "{}: {} rows, but the test split has {trials} trials (one row per test trial, in order)",
            path.display(),
            if subjects.len() > trials {
                format!("more than {trials}")
            } else {
                subjects.len().to_string()
            }
        );
    }
    Ok(Some(subjects))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subjects_are_numbered_in_order_and_counts_must_match() {
        let dir = std::env::temp_dir().join(format!("eegrun-subjects-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        assert_eq!(read(&dir, 3).unwrap(), None);
        std::fs::write(
            dir.join(FILE),
            "index,subject,run\r\n0,S002,R12\r\n1,S001,R12\r\n2,S002,R12\r\n",
        )
        .unwrap();
        assert_eq!(read(&dir, 3).unwrap(), Some(vec![0, 1, 0]));
        let error = format!("{:#}", read(&dir, 4).unwrap_err());
        assert!(error.contains("3 rows, but the test split has 4 trials"), "{error}");
        std::fs::write(dir.join(FILE), "index,run\n0,R12\n").unwrap();
        assert!(format!("{:#}", read(&dir, 1).unwrap_err()).contains("no 'subject' column"));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}

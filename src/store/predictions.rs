//! Per-trial test predictions of a run at three epochs — the last, the one with the
//! highest test accuracy, and (when validating) the one with the best validation
//! accuracy — so that comparisons can pair test trials as well as seeds, and a confusion
//! matrix is at hand. Kept as `predictions.csv`: `trial,label,final,best_test,best_val`.

use anyhow::{bail, Context, Result};
use serde::{Deserialize, Serialize};

/// Predicted classes of every test trial at the three epochs, and the true labels.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Predictions {
    /// The true class of each test trial.
    pub labels: Vec<u8>,
    /// Predicted classes at the last epoch.
    pub final_epoch: Vec<u8>,
    /// Predicted classes at the epoch of highest test accuracy.
    pub best_test: Vec<u8>,
    /// Empty without a validation split.
    pub best_val: Vec<u8>,
}

/// Which epoch's predictions.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum At {
    /// The last epoch.
    Final,
    /// The epoch of highest test accuracy.
    BestTest,
    /// The epoch of best validation accuracy.
    BestVal,
}

impl Predictions {
    /// The predictions at `at` (empty when there are none).
    pub fn at(&self, at: At) -> &[u8] {
        match at {
            At::Final => &self.final_epoch,
            At::BestTest => &self.best_test,
            At::BestVal => &self.best_val,
        }
    }

    /// Per trial, 1 when the prediction at `at` is right, else 0.
    pub fn correct(&self, at: At) -> Vec<u8> {
        self.at(at)
            .iter()
            .zip(&self.labels)
            .map(|(p, l)| (p == l) as u8)
            .collect()
    }

    /// Fraction right at `at` (`None` without predictions there).
    pub fn accuracy(&self, at: At) -> Option<f64> {
        let predicted = self.at(at);
        (!predicted.is_empty())
            .then(|| predicted.iter().zip(&self.labels).filter(|(p, l)| p == l).count() as f64 / predicted.len() as f64)
    }

    /// `[[true 0 → predicted 0, true 0 → 1], [true 1 → 0, true 1 → 1]]` at `at`.
    pub fn confusion(&self, at: At) -> [[usize; 2]; 2] {
        let mut m = [[0; 2]; 2];
        for (&p, &l) in self.at(at).iter().zip(&self.labels) {
            m[(l as usize).min(1)][(p as usize).min(1)] += 1;
        }
        m
    }
}

/// The file's text.
pub fn render(p: &Predictions) -> String {
    let mut csv = String::from("trial,label,final,best_test,best_val\n");
    let cell = |v: &[u8], i: usize| v.get(i).map(|c| c.to_string()).unwrap_or_default();
    for (i, label) in p.labels.iter().enumerate() {
        csv.push_str(&format!(
            "{i},{label},{},{},{}\n",
            cell(&p.final_epoch, i),
            cell(&p.best_test, i),
            cell(&p.best_val, i)
        ));
    }
    csv
}

/// Parses the file: trials 0, 1, … in order, classes 0 or 1, the best_val column all
/// filled or all empty.
pub fn parse(text: &str) -> Result<Predictions> {
    let mut lines = text.lines();
    if lines.next() != Some("trial,label,final,best_test,best_val") {
        bail!("unexpected header");
    }
    let mut p = Predictions::default();
    for (i, line) in lines.enumerate() {
        let f: Vec<&str> = line.split(',').collect();
        let class = |k: usize| -> Result<Option<u8>> {
            match f.get(k).copied() {
                Some("") if k == 4 => Ok(None),
                Some(v @ ("0" | "1")) => Ok(Some(v.parse()?)),
                _ => bail!("line {}: field {k} is not a class (0 or 1)", i + 2),
            }
        };
        if f.len() != 5 || f[0].parse::<usize>().ok() != Some(i) {
            bail!("line {}: expected trial {i} and 5 fields", i + 2);
        }
        p.labels.push(class(1)?.context("label")?);
        p.final_epoch.push(class(2)?.context("final")?);
        p.best_test.push(class(3)?.context("best_test")?);
        if let Some(v) = class(4)? {
            p.best_val.push(v);
        }
    }
    if !p.best_val.is_empty() && p.best_val.len() != p.labels.len() {
        bail!("best_val is filled for some trials only");
    }
    Ok(p)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_accuracy_and_confusion() {
        let p = Predictions {
            labels: vec![0, 1, 1, 0],
            final_epoch: vec![0, 1, 0, 0],
            best_test: vec![0, 1, 1, 0],
            best_val: vec![],
        };
        assert_eq!(parse(&render(&p)).unwrap(), p);
        assert_eq!(p.accuracy(At::Final), Some(0.75));
        assert_eq!(p.accuracy(At::BestVal), None);
        assert_eq!(p.confusion(At::Final), [[2, 0], [1, 1]]);
        assert_eq!(p.correct(At::Final), vec![1, 1, 0, 1]);
        assert!(parse("trial,label,final,best_test,best_val\n0,1,2,1,\n").is_err());
    }
}

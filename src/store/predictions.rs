//! `predictions.csv`: a run's per-trial test predictions, `trial,label,final,best_test,best_val`.

use crate::results::Predictions;
use anyhow::{bail, Context, Result};

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

/// Parses the file: trials 0, 1, … in order, classes 0..K−1 (K at most
/// `data::dataset::MAX_CLASSES`), the best_val column all filled or all empty.
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
                Some(v) => match v.parse::<u8>() {
                    Ok(c) if (c as usize) < crate::data::dataset::MAX_CLASSES && v == c.to_string() => Ok(Some(c)),
                    _ => bail!(
                        "line {}: field {k} is not a class (0 to {})",
                        i + 2,
                        crate::data::dataset::MAX_CLASSES - 1
                    ),
                },
                None => bail!("line {}: field {k} is missing", i + 2),
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
    use crate::results::At;

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
        assert_eq!(p.confusion(At::Final), vec![vec![2, 0], vec![1, 1]]);
        assert_eq!(p.correct(At::Final), vec![1, 1, 0, 1]);
        assert!(
            parse("trial,label,final,best_test,best_val\n0,1,2,1,\n").is_ok(),
            "3 classes"
        );
        assert!(parse("trial,label,final,best_test,best_val\n0,1,64,1,\n").is_err());
        assert!(parse("trial,label,final,best_test,best_val\n0,1,01,1,\n").is_err());
    }
}

//! What training produces, shared by the engine that computes it and the store that keeps
//! it: each epoch's metrics, a run's summary of them, and per-trial test predictions at
//! three epochs — the last, the one with the highest test accuracy, and (when validating)
//! the one with the best validation accuracy — so that comparisons can pair test trials as
//! well as seeds, and a confusion matrix is at hand.

use serde::{Deserialize, Serialize};

/// Metrics of one epoch (accuracies in [0, 1]).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EpochMetrics {
    /// The epoch, from 1.
    pub epoch: usize,
    /// Mean training loss.
    pub train_loss: f64,
    /// Training accuracy, 0 to 1.
    pub train_acc: f64,
    /// Mean test loss.
    pub test_loss: f64,
    /// Test accuracy, 0 to 1.
    pub test_acc: f64,
    /// Mean validation loss (with a validation split).
    pub val_loss: Option<f64>,
    /// Validation accuracy (with a validation split).
    pub val_acc: Option<f64>,
    /// Seconds spent training.
    pub train_seconds: f64,
    /// Seconds spent evaluating.
    pub eval_seconds: f64,
}

/// What a run reports.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RunSummary {
    /// Epochs recorded.
    pub epochs: usize,
    /// Highest test accuracy over the epochs.
    pub best_test_acc: f64,
    /// The epoch of the highest test accuracy.
    pub best_test_epoch: usize,
    /// Test accuracy at the last epoch.
    pub final_test_acc: f64,
    /// Train accuracy at the last epoch.
    pub final_train_acc: f64,
    /// Test accuracy at the epoch of best validation accuracy (when validating).
    pub test_acc_at_best_val: Option<f64>,
    /// The epoch of best validation accuracy (when validating).
    pub best_val_epoch: Option<usize>,
}

/// Summarises a history (first maximum wins, as in the lab's loop).
pub fn summarize(history: &[EpochMetrics]) -> Option<RunSummary> {
    let last = history.last()?;
    let first_max = |key: fn(&EpochMetrics) -> f64| {
        history
            .iter()
            .fold(&history[0], |best, m| if key(m) > key(best) { m } else { best })
    };
    let best = first_max(|m| m.test_acc);
    let best_val = last.val_acc.map(|_| first_max(|m| m.val_acc.unwrap_or(f64::MIN)));
    Some(RunSummary {
        epochs: history.len(),
        best_test_acc: best.test_acc,
        best_test_epoch: best.epoch,
        final_test_acc: last.test_acc,
        final_train_acc: last.train_acc,
        test_acc_at_best_val: best_val.map(|m| m.test_acc),
        best_val_epoch: best_val.map(|m| m.epoch),
    })
}

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

    /// Per trial, its share of the score at `at`: 1 or 0 for plain accuracy; for balanced
    /// accuracy, right (1) or wrong (0) times T / (K · n_k) — T trials, K classes present, n_k
    /// trials of the trial's class — so that the mean over trials is the balanced accuracy
    /// and comparisons can pair trials as they do for accuracy.
    pub fn scores(&self, at: At, balanced: bool) -> Vec<f64> {
        let correct = self.correct(at);
        if !balanced {
            return correct.into_iter().map(f64::from).collect();
        }
        let mut counts = vec![0usize; self.classes()];
        self.labels.iter().for_each(|&l| counts[l as usize] += 1);
        let present = counts.iter().filter(|&&n| n > 0).count() as f64;
        let total = self.labels.len() as f64;
        correct
            .iter()
            .zip(&self.labels)
            .map(|(&c, &l)| c as f64 * total / (present * counts[l as usize] as f64))
            .collect()
    }

    /// The classes these predictions can tell apart: one more than the largest label or
    /// prediction.
    pub fn classes(&self) -> usize {
        [&self.labels, &self.final_epoch, &self.best_test, &self.best_val]
            .iter()
            .flat_map(|v| v.iter())
            .max()
            .map_or(0, |&c| c as usize + 1)
    }

    /// `m[true][predicted]` counts at `at`, over [`Predictions::classes`] classes.
    pub fn confusion(&self, at: At) -> Vec<Vec<usize>> {
        let k = self.classes();
        let mut m = vec![vec![0; k]; k];
        for (&p, &l) in self.at(at).iter().zip(&self.labels) {
            m[l as usize][p as usize] += 1;
        }
        m
    }

    /// Balanced accuracy at `at`: the mean over the classes present in the test set of each
    /// class's recall (`None` without predictions there).
    pub fn balanced_accuracy(&self, at: At) -> Option<f64> {
        if self.at(at).is_empty() {
            return None;
        }
        let m = self.confusion(at);
        let recalls: Vec<f64> = m
            .iter()
            .enumerate()
            .filter_map(|(k, row)| {
                let n: usize = row.iter().sum();
                (n > 0).then(|| row[k] as f64 / n as f64)
            })
            .collect();
        Some(recalls.iter().sum::<f64>() / recalls.len() as f64)
    }

    /// Cohen's kappa at `at`: (observed − expected agreement) / (1 − expected), the expected
    /// agreement from the label and prediction margins; 0 where the expected agreement is
    /// 1 (one class only). `None` without predictions there.
    pub fn kappa(&self, at: At) -> Option<f64> {
        if self.at(at).is_empty() {
            return None;
        }
        let m = self.confusion(at);
        let n = self.labels.len() as f64;
        let observed = (0..m.len()).map(|k| m[k][k]).sum::<usize>() as f64 / n;
        let expected: f64 = (0..m.len())
            .map(|k| {
                let truly: usize = m[k].iter().sum();
                let predicted: usize = m.iter().map(|row| row[k]).sum();
                truly as f64 * predicted as f64 / (n * n)
            })
            .sum();
        Some(if expected >= 1.0 {
            0.0
        } else {
            (observed - expected) / (1.0 - expected)
        })
    }
}

/// The chance level of plain accuracy on `labels` (0..classes−1): the majority class's share,
/// what always guessing that class scores. 0 for no labels.
pub fn chance_level(labels: &[u8], classes: usize) -> f64 {
    let mut counts = vec![0usize; classes.max(1)];
    for &l in labels {
        if let Some(c) = counts.get_mut(l as usize) {
            *c += 1;
        }
    }
    let most = counts.into_iter().max().unwrap_or(0);
    if labels.is_empty() {
        0.0
    } else {
        most as f64 / labels.len() as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn balanced_accuracy_kappa_and_chance_on_three_classes() {
        // Half the trials are class 0 ("rest"); a model that always says 0 scores the
        // chance level, a balanced accuracy of 1/3 and a kappa of 0.
        let labels = vec![0, 0, 0, 0, 1, 1, 2, 2];
        let always_rest = Predictions {
            labels: labels.clone(),
            final_epoch: vec![0; 8],
            ..Predictions::default()
        };
        assert_eq!(chance_level(&labels, 3), 0.5);
        assert_eq!(always_rest.accuracy(At::Final), Some(0.5));
        assert!((always_rest.balanced_accuracy(At::Final).unwrap() - 1.0 / 3.0).abs() < 1e-12);
        assert_eq!(always_rest.kappa(At::Final), Some(0.0));
        assert_eq!(
            always_rest.confusion(At::Final),
            vec![vec![4, 0, 0], vec![2, 0, 0], vec![2, 0, 0]]
        );
        let perfect = Predictions {
            final_epoch: labels.clone(),
            labels,
            ..Predictions::default()
        };
        assert_eq!(perfect.balanced_accuracy(At::Final), Some(1.0));
        assert_eq!(perfect.kappa(At::Final), Some(1.0));
        assert_eq!(perfect.balanced_accuracy(At::BestVal), None);
        // The mean of the balanced scores is the balanced accuracy.
        let mixed = Predictions {
            final_epoch: vec![0, 1, 0, 0, 1, 0, 2, 1],
            ..perfect
        };
        let scores = mixed.scores(At::Final, true);
        let mean = scores.iter().sum::<f64>() / scores.len() as f64;
        assert!((mean - mixed.balanced_accuracy(At::Final).unwrap()).abs() < 1e-12);
        assert_eq!(mixed.scores(At::Final, false).iter().sum::<f64>(), 5.0);
    }
}

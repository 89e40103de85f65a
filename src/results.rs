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

    /// `[[true 0 → predicted 0, true 0 → 1], [true 1 → 0, true 1 → 1]]` at `at`.
    pub fn confusion(&self, at: At) -> [[usize; 2]; 2] {
        let mut m = [[0; 2]; 2];
        for (&p, &l) in self.at(at).iter().zip(&self.labels) {
            m[(l as usize).min(1)][(p as usize).min(1)] += 1;
        }
        m
    }
}

//! Synchronous successive halving: rungs at min_epochs·η^k, and at each rung the best
//! ⌊n/η⌋ (at least one) of the n runs that reached it go on. Decisions read only finished
//! rung results and break ties by run id, so they are the same whatever the order or
//! parallelism in which the runs trained.

use crate::experiment::Metric;
use crate::store::EpochMetrics;
use std::cmp::Ordering;

/// The rung epochs for runs of `epochs` epochs: min_epochs·η^k while below `epochs`, then
/// `epochs` itself.
pub fn rungs(min_epochs: usize, eta: usize, epochs: usize) -> Vec<usize> {
    let mut rungs: Vec<usize> = std::iter::successors(Some(min_epochs.max(1)), |&r| r.checked_mul(eta.max(2)))
        .take_while(|&r| r < epochs)
        .collect();
    rungs.push(epochs);
    rungs
}

/// A run's score at a rung: the best value of `metric` over its first `epoch` epochs,
/// oriented so that higher is better (none when it has no validation metric there).
pub fn score(history: &[EpochMetrics], metric: Metric, epoch: usize) -> Option<f64> {
    let seen = history.get(..epoch)?;
    let values = seen.iter().map(|m| match metric {
        Metric::ValAcc => m.val_acc,
        Metric::ValLoss => m.val_loss.map(|l| -l),
    });
    values
        .collect::<Option<Vec<f64>>>()?
        .into_iter()
        .filter(|v| !v.is_nan())
        .max_by(f64::total_cmp)
        .or(Some(f64::NEG_INFINITY))
}

/// Orders (id, score) pairs best first; equal scores by id.
pub fn rank(scored: &mut [(String, f64)]) {
    scored.sort_by(|(a_id, a), (b_id, b)| b.total_cmp(a).then_with(|| a_id.cmp(b_id)));
}

/// How many of `n` runs at a rung go on: ⌊n/η⌋, at least one.
pub fn promoted_count(n: usize, eta: usize) -> usize {
    (n / eta.max(2)).max(1).min(n)
}

/// The ids promoted from a rung where each run has the given score.
pub fn promote(scored: &[(String, f64)], eta: usize) -> Vec<String> {
    let mut ranked = scored.to_vec();
    rank(&mut ranked);
    ranked
        .into_iter()
        .take(promoted_count(scored.len(), eta))
        .map(|(id, _)| id)
        .collect()
}

/// Compares two runs' progress for ranking a finished round: the deeper rung first, then
/// the score there, then the id.
pub fn compare_progress(a: &(usize, f64, String), b: &(usize, f64, String)) -> Ordering {
    b.0.cmp(&a.0)
        .then_with(|| b.1.total_cmp(&a.1))
        .then_with(|| a.2.cmp(&b.2))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn epoch(e: usize, val_acc: f64) -> EpochMetrics {
        EpochMetrics {
            epoch: e,
            train_loss: 0.5,
            train_acc: 0.5,
            test_loss: 0.5,
            test_acc: 0.5,
            val_loss: Some(1.0 - val_acc),
            val_acc: Some(val_acc),
            train_seconds: 0.0,
            eval_seconds: 0.0,
        }
    }

    #[test]
    fn rungs_grow_by_eta_and_end_at_the_last_epoch() {
        assert_eq!(rungs(10, 3, 60), vec![10, 30, 60]);
        assert_eq!(rungs(7, 3, 60), vec![7, 21, 60]);
        assert_eq!(rungs(10, 3, 90), vec![10, 30, 90]);
        assert_eq!(rungs(1, 2, 9), vec![1, 2, 4, 8, 9]);
        assert_eq!(rungs(5, 3, 6), vec![5, 6]);
    }

    #[test]
    fn promotions_on_a_hand_made_table() {
        let table: Vec<(String, f64)> = [
            ("a1", 0.70),
            ("b2", 0.81),
            ("c3", 0.64),
            ("d4", 0.81),
            ("e5", 0.55),
            ("f6", 0.90),
            ("g7", 0.77),
            ("h8", 0.60),
            ("i9", 0.79),
        ]
        .iter()
        .map(|(id, s)| (id.to_string(), *s))
        .collect();
        // 9 runs, η = 3: the top 3; b2 and d4 tie at 0.81 and both make it.
        assert_eq!(promote(&table, 3), ["f6", "b2", "d4"]);
        // η = 4: ⌊9/4⌋ = 2; the tie is broken by id (b2 before d4).
        assert_eq!(promote(&table, 4), ["f6", "b2"]);
        // Fewer runs than η still promote one; the order of the input does not matter.
        let mut reversed = table[..2].to_vec();
        reversed.reverse();
        assert_eq!(promote(&reversed, 3), ["b2"]);
        assert_eq!(promote(&table[..2], 3), ["b2"]);
    }

    #[test]
    fn a_score_is_the_best_validation_value_up_to_the_rung() {
        let history: Vec<EpochMetrics> = [0.6, 0.8, 0.7, 0.9]
            .iter()
            .enumerate()
            .map(|(i, &a)| epoch(i + 1, a))
            .collect();
        assert_eq!(score(&history, Metric::ValAcc, 3), Some(0.8));
        assert_eq!(score(&history, Metric::ValAcc, 4), Some(0.9));
        let loss = score(&history, Metric::ValLoss, 3).unwrap();
        assert!((loss + 0.2).abs() < 1e-12, "{loss}");
        assert_eq!(score(&history, Metric::ValAcc, 5), None, "not reached");
        let mut no_val = history.clone();
        no_val[1].val_acc = None;
        assert_eq!(score(&no_val, Metric::ValAcc, 3), None);
    }
}

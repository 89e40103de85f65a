//! The rule for grids: a study's configurations (cells) crossed with the seeds they all
//! share (blocks: a seed; where models are per subject or fold, a unit, its seeds averaged
//! by [`unit_means`], since a unit's seeds share its test set).
//! Chosen by the simulation in `tests/decision_rule.rs` ("Grids"; `docs/decision-rule.md`).
//!
//! - The residual variance of one run's accuracy is the cells × blocks interaction mean
//!   square (a randomized block design without replication): block effects (a seed that
//!   suits every cell) cancel, and its (cells − 1)(blocks − 1) degrees of freedom pool over
//!   every cell, so two seeds of a 90-cell grid give 89.
//! - A contrast Σ w_c ȳ_c of cell means (a main effect's two levels, an interaction's
//!   difference of differences) has variance residual · Σ w_c² / blocks, plus the test
//!   set's own part where the runs share test trials (from the crossed rule of
//!   [`stats::compare_scores`] on the contrast's two sides); a t test on Satterthwaite's
//!   degrees of freedom and its two one-sided equivalence tests decide it. Where each unit
//!   has its own test set, the units' independent test sets are in the residual already.
//! - The best and its ties: Hsu's multiple comparisons with the best, with Bonferroni's
//!   bound over the k − 1 others standing in for Dunnett's quantile (so at least as wide):
//!   a configuration is tied with the best unless some other one beats it by more than
//!   t(1 − α/(k − 1)) standard errors. The set holds the best with probability ≥ 1 − α.
//!
//! Assumptions: runs' residuals are independent with one variance (across cells), near
//! normal; the grid's settings are fixed (a main effect is the mean over the grid's cells).

use super::stats::{self, Comparison};

/// The residual variance of a cells × blocks table and its degrees of freedom.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Residual {
    /// The interaction mean square: one run's variance about its cell and block.
    pub variance: f64,
    /// (cells − 1)(blocks − 1).
    pub df: f64,
    /// Blocks every cell has.
    pub blocks: usize,
}

/// The residual of `y[cell][block]` (every cell with the same blocks), or `None` below two
/// cells or two blocks.
pub fn residual(y: &[Vec<f64>]) -> Option<Residual> {
    let cells = y.len();
    let blocks = y.first().map_or(0, Vec::len);
    if cells < 2 || blocks < 2 || y.iter().any(|row| row.len() != blocks) {
        return None;
    }
    let (cf, bf) = (cells as f64, blocks as f64);
    let cell_mean: Vec<f64> = y.iter().map(|row| row.iter().sum::<f64>() / bf).collect();
    let block_mean: Vec<f64> = (0..blocks)
        .map(|b| y.iter().map(|row| row[b]).sum::<f64>() / cf)
        .collect();
    let grand = cell_mean.iter().sum::<f64>() / cf;
    let sum: f64 = y
        .iter()
        .zip(&cell_mean)
        .flat_map(|(row, c)| {
            row.iter()
                .zip(&block_mean)
                .map(move |(v, b)| (v - c - b + grand).powi(2))
        })
        .sum();
    let df = (cf - 1.0) * (bf - 1.0);
    Some(Residual {
        variance: sum / df,
        df,
        blocks,
    })
}

/// `y[cell][block]` averaged over the blocks of each unit (`unit[block]`, numbered from
/// 0): where models are per subject or fold, a unit's seeds share its test set, so its
/// seeds' mean, not each seed, is one independent block (see the module).
pub fn unit_means(y: &[Vec<f64>], unit: &[usize]) -> Vec<Vec<f64>> {
    let units = unit.iter().max().map_or(0, |m| m + 1);
    y.iter()
        .map(|row| {
            (0..units)
                .map(|u| {
                    let of: Vec<f64> = row
                        .iter()
                        .zip(unit)
                        .filter(|(_, b)| **b == u)
                        .map(|(v, _)| *v)
                        .collect();
                    of.iter().sum::<f64>() / of.len().max(1) as f64
                })
                .collect()
        })
        .collect()
}

/// The contrast `Σ weights[c] · mean(y[c])` judged on `residual` plus `fixed`, the test
/// set's part of its variance (`fixed_df` degrees of freedom; 0 where none is known), for
/// `trials` test trials in `clusters` groups.
pub fn contrast(
    y: &[Vec<f64>],
    weights: &[f64],
    residual: Option<Residual>,
    (fixed, fixed_df): (f64, f64),
    (trials, clusters): (usize, usize),
    rope: f64,
    alpha: f64,
) -> Comparison {
    let mean = |row: &Vec<f64>| row.iter().sum::<f64>() / row.len().max(1) as f64;
    let difference: f64 = y.iter().zip(weights).map(|(row, w)| w * mean(row)).sum();
    let blocks = residual.map_or(1, |r| r.blocks);
    let Some(r) = residual else {
        return stats::from_variance(
            difference,
            f64::NAN,
            0.0,
            f64::NAN,
            (blocks, trials, clusters),
            rope,
            alpha,
        );
    };
    let per_block = r.variance * weights.iter().map(|w| w * w).sum::<f64>();
    let part = per_block / blocks as f64;
    let fixed = if fixed.is_finite() { fixed.max(0.0) } else { 0.0 };
    let variance = part + fixed;
    let df = match fixed > 0.0 && fixed_df > 0.0 {
        true => variance.powi(2) / (part.powi(2) / r.df + fixed.powi(2) / fixed_df),
        false => r.df,
    };
    stats::from_variance(
        difference,
        variance,
        df,
        per_block,
        (blocks, trials, clusters),
        rope,
        alpha,
    )
}

/// The test set's part of a contrast's variance and its degrees of freedom, where every
/// configuration's runs share the test trials: `scores[c][s][t]` is configuration c's
/// score on trial t at shared seed s, `cluster[t]` trial t's cluster. The contrast's two
/// sides (positive and negative weights) go through the crossed rule
/// ([`stats::compare_scores`]) and its cluster part is kept. (0, 0) below two seeds or two
/// clusters.
pub fn test_part(scores: &[Vec<Vec<f64>>], weights: &[f64], cluster: &[usize]) -> (f64, f64) {
    let seeds = scores.first().map_or(0, Vec::len);
    let clusters = cluster.iter().max().map_or(0, |m| m + 1);
    if seeds < 2 || clusters < 2 || cluster.is_empty() {
        return (0.0, 0.0);
    }
    let side = |sign: f64| -> Vec<Vec<f64>> {
        (0..seeds)
            .map(|s| {
                let mut sum = vec![0.0; cluster.len()];
                for (c, w) in weights.iter().enumerate().filter(|(_, w)| sign * **w > 0.0) {
                    sum.iter_mut().zip(&scores[c][s]).for_each(|(x, v)| *x += sign * w * v);
                }
                sum
            })
            .collect()
    };
    let c = stats::compare_scores(&side(1.0), &side(-1.0), cluster, 0.0, stats::ALPHA);
    match c.fixed_variance.is_finite() {
        true => (c.fixed_variance, (clusters - 1) as f64),
        false => (0.0, 0.0),
    }
}

/// Hsu's multiple comparisons with the best over configurations with these `means`: the
/// index of the highest and every index not shown worse than some other one, at level
/// `alpha` (see the module). `variance(i, j)` is the variance of mean i − mean j and `df`
/// its degrees of freedom. Ties to the highest mean go to the lower index. Empty means give
/// `None`.
pub fn best_and_ties(
    means: &[f64],
    variance: impl Fn(usize, usize) -> f64,
    df: f64,
    alpha: f64,
) -> Option<(usize, Vec<usize>)> {
    let k = means.len();
    let best = (0..k).fold(None, |best: Option<usize>, i| match best {
        Some(b) if means[b] >= means[i] => Some(b),
        _ => Some(i),
    })?;
    if k == 1 {
        return Some((best, vec![best]));
    }
    let q = stats::t_quantile(1.0 - alpha / (k - 1) as f64, df);
    let tied = (0..k)
        .filter(|&i| {
            (0..k).filter(|&j| j != i).all(|j| {
                let v = variance(i, j);
                // Without a finite positive variance nothing is shown worse: tied.
                !(v.is_finite() && v > 0.0) || means[i] - means[j] + q * v.sqrt() >= 0.0
            })
        })
        .collect();
    Some((best, tied))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_residual_removes_cell_and_block_effects() {
        // Additive cells and blocks: no residual at all.
        let y = vec![vec![0.7, 0.8], vec![0.6, 0.7], vec![0.5, 0.6]];
        let r = residual(&y).unwrap();
        assert!(r.variance.abs() < 1e-12 && r.df == 2.0 && r.blocks == 2, "{r:?}");
        // One interaction: cells 2 × blocks 2, residual e = ±0.025 each, SS 0.0025 on 1 df.
        let r = residual(&[vec![0.7, 0.8], vec![0.6, 0.6]]).unwrap();
        assert!((r.variance - 0.0025).abs() < 1e-12 && r.df == 1.0, "{r:?}");
        assert!(residual(&[vec![0.7, 0.8]]).is_none() && residual(&[vec![0.7], vec![0.6]]).is_none());
    }

    #[test]
    fn a_contrast_is_decided_on_the_pooled_variance() {
        // Two cells per level, two blocks, level A 10 points above B with little noise.
        let y = vec![vec![0.80, 0.82], vec![0.81, 0.80], vec![0.70, 0.71], vec![0.71, 0.70]];
        let w = [0.5, 0.5, -0.5, -0.5];
        let c = contrast(&y, &w, residual(&y), (0.0, 0.0), (100, 100), 0.01, 0.05);
        assert!((c.difference - 0.1025).abs() < 1e-12, "{c:?}");
        assert!(c.df == 3.0 && c.p < 0.001, "{c:?}");
        // Without a residual: undecided, the difference still stated.
        let c = contrast(&y, &w, None, (0.0, 0.0), (100, 100), 0.01, 0.05);
        assert!(c.se.is_none() && (c.difference - 0.1025).abs() < 1e-12);
    }

    #[test]
    fn the_best_keeps_its_close_rivals_and_drops_the_far_ones() {
        let means = [0.80, 0.79, 0.60];
        let (best, tied) = best_and_ties(&means, |_, _| 0.0001, 50.0, 0.05).unwrap();
        assert_eq!((best, tied), (0, vec![0, 1]));
        // With no spread known, nothing is shown worse than the best: all tied.
        let (_, tied) = best_and_ties(&means, |_, _| f64::NAN, 50.0, 0.05).unwrap();
        assert_eq!(tied, vec![0, 1, 2]);
        assert!(best_and_ties(&[], |_, _| 1.0, 1.0, 0.05).is_none());
    }
}

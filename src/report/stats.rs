//! Comparing two configurations that share seeds, with their uncertainty.
//!
//! Method (stated in the README): for configurations A and B trained with the same seeds
//! and evaluated on the same test trials,
//! - the *difference* is the mean over seeds of acc(A, seed) − acc(B, seed);
//! - its 95% *interval* comes from a two-level paired bootstrap: each replicate draws the
//!   seeds with replacement and, once for all of them, the test trials with replacement
//!   (the test set is one sample shared by every run), and recomputes the difference;
//!   percentile interval, seeded, so the same runs always give the same interval;
//! - the *test* is the exact two-sided sign-flip (permutation) test of the per-seed
//!   differences: under "A and B are the same", each difference is as likely negative as
//!   positive. Its p-value cannot go below 2/2^n for n seeds (0.0625 for 5).
//! - A pair is *distinguishable* when its Holm-adjusted p-value (over every pair compared
//!   for one model) is below 0.05 **and** the interval excludes 0; otherwise it is "not
//!   distinguishable" — never a ranking.
//!
//! Assumptions: seeds are exchangeable replicates; test trials are independent draws from
//! the population the claim is about; the bootstrap interval is approximate and narrow
//! with few seeds (which is why the decision also needs the exact test).

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// Significance level of every decision.
pub const ALPHA: f64 = 0.05;
/// Bootstrap replicates.
pub const REPLICATES: usize = 2000;
/// Fewest paired seeds for which the sign-flip test can reach [`ALPHA`] (2/2⁶ < 0.05).
pub const MIN_SEEDS_FOR_A_DECISION: usize = 6;

/// A paired comparison of A against B (accuracies in [0, 1]).
#[derive(Clone, Debug, PartialEq)]
pub struct Comparison {
    /// Paired seeds.
    pub seeds: usize,
    /// Mean over seeds of acc(A) − acc(B).
    pub difference: f64,
    /// 95% two-level bootstrap interval of the difference.
    pub low: f64,
    pub high: f64,
    /// Exact two-sided sign-flip p-value over seeds.
    pub p: f64,
    /// `p` after Holm's correction (set by [`holm`]; equal to `p` before).
    pub p_adjusted: f64,
    /// Standard deviation of the per-seed differences (0 with one seed).
    pub seed_sd: f64,
    /// How many comparisons were corrected together (1 before [`holm`]).
    pub family: usize,
}

impl Comparison {
    /// True when A and B differ at [`ALPHA`] (adjusted) and the interval excludes 0.
    pub fn distinguishable(&self) -> bool {
        self.p_adjusted < ALPHA && (self.low > 0.0 || self.high < 0.0)
    }

    /// Roughly how many seeds would separate a difference this large from seed noise of
    /// this size, at the Holm-corrected level of its family, with 80% power: the normal
    /// approximation n ≈ (z(1 − α/2m) + z(0.8))²·(sd/d)², and at least the seeds for which
    /// the exact test can reach that level at all (2/2ⁿ < α/m); more than used so far when
    /// these were not enough. `None` when the difference is 0.
    pub fn seeds_needed(&self) -> Option<usize> {
        if self.difference == 0.0 {
            return None;
        }
        let level = ALPHA / self.family.max(1) as f64;
        let z = normal_quantile(1.0 - level / 2.0) + normal_quantile(0.8);
        let approximate = (z * self.seed_sd / self.difference).powi(2).ceil() as usize;
        let floor = (2.0 / level).log2().floor() as usize + 1;
        let more = if self.distinguishable() { 0 } else { self.seeds + 1 };
        Some(approximate.max(floor).max(more))
    }
}

/// Compares A and B from each seed's per-trial correctness (1 right, 0 wrong), paired by
/// seed (`a[s]` and `b[s]` come from the same seed) and by trial. `seed` seeds the
/// bootstrap. Needs at least one seed and equally long trial vectors.
pub fn compare(a: &[Vec<u8>], b: &[Vec<u8>], seed: u64) -> Comparison {
    assert!(!a.is_empty() && a.len() == b.len(), "paired seeds");
    let trials = a[0].len();
    assert!(
        trials > 0 && a.iter().chain(b).all(|v| v.len() == trials),
        "paired trials"
    );
    // Per seed and trial, the difference in correctness: −1, 0 or 1.
    let diffs: Vec<Vec<i8>> = a
        .iter()
        .zip(b)
        .map(|(x, y)| x.iter().zip(y).map(|(&p, &q)| p as i8 - q as i8).collect())
        .collect();
    let per_seed: Vec<f64> = diffs
        .iter()
        .map(|d| d.iter().map(|&v| v as f64).sum::<f64>() / trials as f64)
        .collect();
    let n = per_seed.len();
    let difference = per_seed.iter().sum::<f64>() / n as f64;
    let seed_sd = if n > 1 {
        (per_seed.iter().map(|d| (d - difference).powi(2)).sum::<f64>() / (n - 1) as f64).sqrt()
    } else {
        0.0
    };
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut counts = vec![0u32; trials];
    let mut replicates: Vec<f64> = (0..REPLICATES)
        .map(|_| {
            counts.iter_mut().for_each(|c| *c = 0);
            for _ in 0..trials {
                counts[rng.gen_range(0..trials)] += 1;
            }
            let total: f64 = (0..n)
                .map(|_| {
                    let d = &diffs[rng.gen_range(0..n)];
                    d.iter().zip(&counts).map(|(&v, &c)| v as i64 * c as i64).sum::<i64>() as f64
                })
                .sum();
            total / (n * trials) as f64
        })
        .collect();
    replicates.sort_by(|x, y| x.total_cmp(y));
    let quantile = |q: f64| replicates[((q * (REPLICATES - 1) as f64).round() as usize).min(REPLICATES - 1)];
    let p = sign_flip_p(&per_seed);
    Comparison {
        seeds: n,
        difference,
        low: quantile(0.025),
        high: quantile(0.975),
        p,
        p_adjusted: p,
        seed_sd,
        family: 1,
    }
}

/// The standard normal quantile, by bisection on Φ (erf from Abramowitz–Stegun 7.1.26,
/// error below 2·10⁻⁷ — ample for a seed count).
fn normal_quantile(q: f64) -> f64 {
    let phi = |x: f64| {
        let t = 1.0 / (1.0 + 0.3275911 * x.abs() / std::f64::consts::SQRT_2);
        let poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))));
        let erf = 1.0 - poly * (-(x * x) / 2.0).exp();
        0.5 * (1.0 + erf.copysign(x))
    };
    let (mut low, mut high) = (-10.0, 10.0);
    for _ in 0..100 {
        let mid = (low + high) / 2.0;
        if phi(mid) < q {
            low = mid;
        } else {
            high = mid;
        }
    }
    (low + high) / 2.0
}

/// Exact two-sided sign-flip p-value of `values` (H0: symmetric about 0): the share of
/// the 2ⁿ sign assignments whose |mean| is at least the observed one. Beyond 20 values,
/// 2²⁰ seeded random assignments (plus the observed one) stand in for all of them.
pub fn sign_flip_p(values: &[f64]) -> f64 {
    let n = values.len();
    if n == 0 {
        return 1.0;
    }
    let observed = values.iter().sum::<f64>().abs();
    // Sums that differ only by rounding count as equal.
    let at_least = |sum: f64| sum.abs() >= observed - 1e-12 * (1.0 + observed);
    let signed = |mask: u64| -> f64 {
        values
            .iter()
            .enumerate()
            .map(|(i, v)| if mask >> i & 1 == 1 { -v } else { *v })
            .sum()
    };
    if n <= 20 {
        let total = 1u64 << n;
        let hits = (0..total).filter(|&m| at_least(signed(m))).count();
        return hits as f64 / total as f64;
    }
    let mut rng = ChaCha8Rng::seed_from_u64(0x5167);
    let draws = 1u64 << 20;
    let hits = (0..draws)
        .filter(|_| {
            let sum: f64 = values.iter().map(|v| if rng.gen::<bool>() { -v } else { *v }).sum();
            at_least(sum)
        })
        .count();
    (hits + 1) as f64 / (draws + 1) as f64
}

/// Holm's step-down correction of the comparisons' p-values, in place.
pub fn holm(comparisons: &mut [Comparison]) {
    let m = comparisons.len();
    let mut order: Vec<usize> = (0..m).collect();
    order.sort_by(|&i, &j| comparisons[i].p.total_cmp(&comparisons[j].p).then(i.cmp(&j)));
    let mut running = 0.0f64;
    for (rank, &i) in order.iter().enumerate() {
        running = running.max(((m - rank) as f64 * comparisons[i].p).min(1.0));
        comparisons[i].p_adjusted = running;
        comparisons[i].family = m;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Per-trial correctness for `seeds` seeds: trial difficulty is shared, each seed
    /// and configuration adds its own noise, `shift` raises B's chance of being right.
    fn simulate(rng: &mut ChaCha8Rng, seeds: usize, trials: usize, shift: f64) -> (Vec<Vec<u8>>, Vec<Vec<u8>>) {
        let easy: Vec<f64> = (0..trials).map(|_| rng.gen_range(0.4..0.95)).collect();
        let mut draw = |extra: f64| -> Vec<Vec<u8>> {
            (0..seeds)
                .map(|_| {
                    let skill: f64 = rng.gen_range(-0.03..0.03);
                    easy.iter()
                        .map(|p| (rng.gen::<f64>() < (p + skill + extra).clamp(0.0, 1.0)) as u8)
                        .collect()
                })
                .collect()
        };
        let a = draw(0.0);
        let b = draw(shift);
        (a, b)
    }

    #[test]
    fn sign_flip_p_values_by_hand() {
        // n = 3, all positive: only the all-positive and all-negative of 8 assignments
        // reach |sum| = 6.
        assert_eq!(sign_flip_p(&[1.0, 2.0, 3.0]), 0.25);
        // The floor for 5 seeds is 2/32.
        assert_eq!(sign_flip_p(&[0.1, 0.2, 0.3, 0.4, 0.5]), 0.0625);
        // |sum| of [1, −1] is 0: every assignment is at least as extreme.
        assert_eq!(sign_flip_p(&[1.0, -1.0]), 1.0);
        // [3, 1, −1], observed |sum| 3: the sums are ±5, ±3 (twice) and ±1, so 6 of 8
        // assignments reach 3.
        assert_eq!(sign_flip_p(&[3.0, 1.0, -1.0]), 0.75);
    }

    #[test]
    fn normal_quantiles_and_seeds_needed() {
        assert!((normal_quantile(0.975) - 1.959964).abs() < 1e-5);
        assert!((normal_quantile(0.8) - 0.841621).abs() < 1e-5);
        let c = Comparison {
            seeds: 7,
            difference: 0.02,
            low: -0.01,
            high: 0.05,
            p: 0.031,
            p_adjusted: 0.094,
            seed_sd: 0.02,
            family: 3,
        };
        // z(1 − 0.05/6) + z(0.8) = 2.394 + 0.842 → 10.5 for sd = d; more than the 7 used.
        assert_eq!(c.seeds_needed(), Some(11));
        let few = Comparison {
            seed_sd: 0.001,
            ..c.clone()
        };
        assert_eq!(few.seeds_needed(), Some(8), "not separated by 7: at least 8");
    }

    #[test]
    fn holm_by_hand() {
        let mut cs: Vec<Comparison> = [0.01, 0.04, 0.03]
            .iter()
            .map(|&p| Comparison {
                seeds: 6,
                difference: 0.1,
                low: 0.05,
                high: 0.15,
                p,
                p_adjusted: p,
                seed_sd: 0.01,
                family: 1,
            })
            .collect();
        holm(&mut cs);
        let adjusted: Vec<f64> = cs.iter().map(|c| (c.p_adjusted * 1e6).round() / 1e6).collect();
        // 3·0.01, then max(0.03, 2·0.03), then max(0.06, 1·0.04).
        assert_eq!(adjusted, vec![0.03, 0.06, 0.06]);
    }

    #[test]
    fn identical_configurations_are_rarely_distinguishable() {
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        let repetitions = 300;
        let false_alarms = (0..repetitions)
            .filter(|&r| {
                let (a, b) = simulate(&mut rng, 8, 300, 0.0);
                compare(&a, &b, r as u64).distinguishable()
            })
            .count();
        // The exact test holds its level: at most 5% expected; allow sampling noise.
        assert!(
            false_alarms as f64 / repetitions as f64 <= 0.08,
            "{false_alarms} of {repetitions}"
        );
    }

    #[test]
    fn a_planted_difference_is_detected_and_located() {
        let mut rng = ChaCha8Rng::seed_from_u64(2);
        let (a, b) = simulate(&mut rng, 8, 1000, 0.08);
        let c = compare(&b, &a, 7);
        assert!(c.distinguishable(), "{c:?}");
        assert!(c.low > 0.0 && (c.difference - 0.08).abs() < 0.04, "{c:?}");
        // Five seeds can never be enough, however large the difference.
        let five: Vec<Vec<u8>> = a[..5].to_vec();
        let c5 = compare(&b[..5], &five, 7);
        assert_eq!(c5.p, 0.0625);
        assert!(!c5.distinguishable());
        // Deterministic.
        assert_eq!(compare(&b, &a, 7), c);
    }
}

//! Comparing two configurations that share seeds and test trials: one decision rule with
//! three verdicts (README "Findings"; chosen by the simulation in `tests/decision_rule.rs`).
//!
//! Target: the expected accuracy difference between A and B over **new training seeds and
//! new test trials** (new subjects, where the data names them) from the population the test
//! set was drawn from. Both levels of evidence serve that target:
//! - the per-seed, per-trial differences d[s][t] ∈ {−1, 0, 1} form a seeds × trials table
//!   (seeds and trials crossed: every run is scored on the same trials). Trials are grouped
//!   into clusters (subjects where known, else one trial each);
//! - the variance of the mean difference is the crossed random-effects estimate
//!   V = (seed part)⁺ + interaction + (cluster part)⁺ from the seed means, the cluster totals
//!   and the seeds × clusters residuals (balanced: (MS_seed + MS_trial − MS_residual)/(nT),
//!   each component set to 0 when negative): training randomness and each seed's trial
//!   noise shrink with seeds, the cluster part — the test set's own sampling — does not;
//! - t = d̄ / √V on Satterthwaite's degrees of freedom gives the two-sided p-value (A ≠ B)
//!   and, with the margin ±R, the equivalence p-value (two one-sided tests). With two seeds,
//!   V = max(s²/n, interaction) + (cluster part)⁺ (s² of the two per-seed differences) on one
//!   degree of freedom: the simulation found the general form too liberal or too timid
//!   there, and two seeds that show the very same difference (s² = 0) still carry each
//!   seed's trial noise, which the interaction measures (tests/decision_rule.rs, near-identical
//!   configurations). A variance of 0 — every seed and cluster shows the same difference —
//!   decides nothing but identity: a difference of exactly 0 on every trial is equivalent,
//!   any other is undecided;
//! - Holm's correction runs over the study's declared family, separately for the two tests.
//!
//! Verdicts: "A better" (or "B better") when the adjusted difference p < α; else
//! "equivalent within ±R" when the adjusted equivalence p < α; else "undecided".
//! Assumptions: seeds are exchangeable; clusters are independent draws; per-seed
//! differences are near normal (the t reference; the simulation measures how well the
//! level holds). One seed cannot show the seed
//! spread, so one seed gives no interval and no verdict.

use statrs::distribution::{ContinuousCDF, StudentsT};

pub use crate::config::ALPHA;
/// Power that "seeds needed" plans for.
const POWER: f64 = 0.8;
/// The largest seed count "seeds needed" states; more reads as "more than this".
pub const MOST_SEEDS: usize = 10_000;

/// What a comparison decides.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// The first configuration is better.
    ABetter,
    /// The second configuration is better.
    BBetter,
    /// The difference lies within ±rope.
    Equivalent,
    /// Neither: more seeds are needed.
    Undecided,
}

/// A paired comparison of A against B (accuracies and differences as fractions).
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct Comparison {
    /// Paired seeds.
    pub seeds: usize,
    /// Test trials each run was scored on.
    pub trials: usize,
    /// Independent groups of trials (subjects where known, else trials).
    pub clusters: usize,
    /// Mean over seeds and trials of correct(A) − correct(B).
    pub difference: f64,
    /// Standard error of the difference (none with one seed).
    pub se: Option<f64>,
    /// Satterthwaite's degrees of freedom of `se`.
    pub df: f64,
    /// 95% interval of the difference (none with one seed).
    pub interval: Option<(f64, f64)>,
    /// Variance of one seed's difference: training randomness and its trial noise (the
    /// part that shrinks with seeds).
    pub per_seed_variance: f64,
    /// The seed means' variance of their mean (s²/n).
    pub seed_mean_variance: f64,
    /// The seeds × clusters interaction's share of the variance of the mean.
    pub interaction_variance: f64,
    /// Variance of the mean from the test trials' sampling that no seed count removes.
    pub fixed_variance: f64,
    /// Two-sided p-value of "A and B differ".
    pub p: f64,
    /// `p` after Holm's correction over the family.
    pub p_adjusted: f64,
    /// Equivalence margin ±rope.
    pub rope: f64,
    /// p-value of "the difference lies within ±rope" (two one-sided tests).
    pub p_equivalent: f64,
    /// `p_equivalent` after Holm's correction over the family.
    pub p_equivalent_adjusted: f64,
    /// How many comparisons were corrected together.
    pub family: usize,
    /// The level the verdict is taken at (α, or α over the looks of a study that adds
    /// seeds in rounds); the interval is a 1 − `alpha` interval.
    pub alpha: f64,
    /// What `clusters` counts where the test is over units with models of their own
    /// ("subject" or "fold": [`compare_units`]); none for the crossed rule.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unit: Option<&'static str>,
}

impl Comparison {
    /// The verdict at `alpha`, after Holm.
    pub fn verdict(&self) -> Verdict {
        if self.se.is_none() {
            Verdict::Undecided
        } else if self.p_adjusted < self.alpha {
            if self.difference > 0.0 {
                Verdict::ABetter
            } else {
                Verdict::BBetter
            }
        } else if self.p_equivalent_adjusted < self.alpha {
            Verdict::Equivalent
        } else {
            Verdict::Undecided
        }
    }

    /// Seeds that would detect a true difference of ±rope with 80% power at the family's
    /// Holm-first level: the smallest n with rope ≥ (t(1 − level/2) + t(power)) · √V(n),
    /// t on n − 1 degrees of freedom (the rule's own at two seeds; Satterthwaite's are at
    /// least as many from three on), V(n) the per-seed variance over n plus the test set's
    /// part. `Ok(n)` (more than [`MOST_SEEDS`] as `MOST_SEEDS + 1`), or `Err(reason)` when no
    /// seed count can or when one seed cannot tell.
    pub fn seeds_needed(&self) -> Result<usize, String> {
        if let Some(unit) = self.unit {
            return Err(self.units_needed(unit));
        }
        if self.seeds < 2 || !self.per_seed_variance.is_finite() {
            return Err("one seed shows no seed-to-seed spread, train at least 2".into());
        }
        let level = self.alpha / self.family.max(1) as f64;
        let detects = |n: usize| {
            let df = (n - 1) as f64;
            let quantiles = t_quantile(1.0 - level / 2.0, df) + t_quantile(POWER, df);
            quantiles * (self.per_seed_variance / n as f64 + self.fixed_variance).sqrt() <= self.rope
        };
        let z = normal_quantile(1.0 - level / 2.0) + normal_quantile(POWER);
        if z * self.fixed_variance.sqrt() >= self.rope {
            return Err(format!(
                "no seed count can: with the test set's own variance alone, the smallest difference detectable with 80% power is ±{:.2} points",
                100.0 * z * self.fixed_variance.sqrt()
            ));
        }
        if detects(2) {
            return Ok(2);
        }
        if !detects(MOST_SEEDS) {
            return Ok(MOST_SEEDS + 1);
        }
        // Bisection: detects(high) holds, detects(low) does not.
        let (mut low, mut high) = (2, MOST_SEEDS);
        while high - low > 1 {
            let mid = (low + high) / 2;
            if detects(mid) {
                high = mid;
            } else {
                low = mid;
            }
        }
        Ok(high)
    }
}

impl Comparison {
    /// A comparison with its difference and nothing decided yet (no interval, p-values 1).
    fn undecided(
        seeds: usize,
        trials: usize,
        clusters: usize,
        difference: f64,
        rope: f64,
        alpha: f64,
        unit: Option<&'static str>,
    ) -> Comparison {
        Comparison {
            seeds,
            trials,
            clusters,
            difference,
            se: None,
            df: f64::NAN,
            interval: None,
            per_seed_variance: f64::NAN,
            seed_mean_variance: f64::NAN,
            interaction_variance: f64::NAN,
            fixed_variance: f64::NAN,
            p: 1.0,
            p_adjusted: 1.0,
            rope,
            p_equivalent: 1.0,
            p_equivalent_adjusted: 1.0,
            family: 1,
            alpha,
            unit,
        }
    }

    /// The same predictions on both sides: a difference of exactly 0, equivalent.
    fn identical(&mut self) {
        self.se = Some(0.0);
        self.df = f64::INFINITY;
        self.interval = Some((0.0, 0.0));
        self.p_equivalent = 0.0;
        self.p_equivalent_adjusted = 0.0;
    }

    /// The t test of the difference on `variance` (of the mean) and `df`: its interval
    /// (within [−1, 1], as a difference of accuracies is), two-sided p, and with the margin
    /// the two one-sided tests' equivalence p; Holm's fields as for a family of one.
    fn decide(&mut self, variance: f64, df: f64) {
        let (difference, rope, se) = (self.difference, self.rope, variance.sqrt());
        let half = t_quantile(1.0 - self.alpha / 2.0, df) * se;
        self.se = Some(se);
        self.df = df;
        self.interval = Some(((difference - half).max(-1.0), (difference + half).min(1.0)));
        self.p = (2.0 * (1.0 - t_cdf((difference / se).abs(), df))).min(1.0);
        let below = 1.0 - t_cdf((difference + rope) / se, df);
        let above = t_cdf((difference - rope) / se, df);
        self.p_equivalent = below.max(above).min(1.0);
        self.p_adjusted = self.p;
        self.p_equivalent_adjusted = self.p_equivalent;
    }

    /// Where seeds are nested in units, more units (not more seeds) narrow the interval:
    /// the units that would detect ±rope with 80% power at the family's Holm-first level,
    /// from the units' own spread, in words.
    fn units_needed(&self, unit: &str) -> String {
        let Some(se) = self.se.filter(|se| *se > 0.0 && self.clusters >= 2) else {
            return format!("seeds are nested in {unit}s here: at least 2 {unit}s with some spread are needed");
        };
        let spread = se * (self.clusters as f64).sqrt();
        let level = self.alpha / self.family.max(1) as f64;
        let detects = |n: usize| {
            let df = (n - 1) as f64;
            (t_quantile(1.0 - level / 2.0, df) + t_quantile(POWER, df)) * spread / (n as f64).sqrt() <= self.rope
        };
        match (2..=MOST_SEEDS).find(|&n| detects(n)) {
            Some(n) => format!("seeds are nested in {unit}s here: about {n} {unit}s would detect it with 80% power"),
            None => format!("seeds are nested in {unit}s here: more than {MOST_SEEDS} {unit}s would be needed"),
        }
    }
}

/// The standard normal quantile.
fn normal_quantile(q: f64) -> f64 {
    statrs::distribution::Normal::standard().inverse_cdf(q)
}

/// Stouffer's weighted Z over independent tests of one question: each test's two-sided
/// p-value turned into a signed z (the sign of its difference), combined as
/// Σ wᵢ zᵢ / √(Σ wᵢ²); returns Z and its two-sided p-value.
pub fn stouffer(tests: &[(f64, f64, f64)]) -> (f64, f64) {
    let normal = statrs::distribution::Normal::standard();
    let (mut sum, mut squares) = (0.0, 0.0);
    for &(difference, p, weight) in tests {
        let z = normal.inverse_cdf((1.0 - p / 2.0).clamp(0.5, 1.0 - 1e-16)) * difference.signum();
        sum += weight * z;
        squares += weight * weight;
    }
    let z = sum / squares.sqrt();
    (z, (2.0 * (1.0 - normal.cdf(z.abs()))).min(1.0))
}

/// P(X ≥ `successes`) for X ~ Binomial(`trials`, `p`): the one-sided p-value of a count
/// above chance.
pub fn binomial_upper_tail(successes: u64, trials: u64, p: f64) -> f64 {
    use statrs::distribution::{Binomial, DiscreteCDF};
    match (successes, Binomial::new(p.clamp(0.0, 1.0), trials)) {
        (0, _) | (_, Err(_)) => 1.0,
        (k, Ok(b)) => b.sf(k - 1),
    }
}

/// Student t's distribution function with `df` degrees of freedom.
fn t_cdf(x: f64, df: f64) -> f64 {
    match StudentsT::new(0.0, 1.0, df) {
        Ok(t) => t.cdf(x),
        Err(_) => statrs::distribution::Normal::standard().cdf(x),
    }
}

/// Student t's quantile with `df` degrees of freedom.
pub fn t_quantile(q: f64, df: f64) -> f64 {
    match StudentsT::new(0.0, 1.0, df) {
        Ok(t) => t.inverse_cdf(q),
        Err(_) => normal_quantile(q),
    }
}

/// Compares A and B from each seed's per-trial correctness (1 right, 0 wrong), paired by
/// seed (`a[s]` and `b[s]` come from the same seed) and by trial; `cluster[t]` names trial
/// t's cluster (0, 1, …; subjects, or one per trial). Needs at least one seed and equally
/// long trial vectors. Holm fields are those of a family of one until [`holm`] runs.
pub fn compare(a: &[Vec<u8>], b: &[Vec<u8>], cluster: &[usize], rope: f64, alpha: f64) -> Comparison {
    let scores = |v: &[Vec<u8>]| -> Vec<Vec<f64>> { v.iter().map(|s| s.iter().map(|&c| c as f64).collect()).collect() };
    compare_scores(&scores(a), &scores(b), cluster, rope, alpha)
}

/// [`compare`] on per-trial scores whose mean is the metric compared (1/0 for accuracy;
/// weighted by class for balanced accuracy, `results::Predictions::scores`).
pub fn compare_scores(a: &[Vec<f64>], b: &[Vec<f64>], cluster: &[usize], rope: f64, alpha: f64) -> Comparison {
    assert!(!a.is_empty() && a.len() == b.len(), "paired seeds");
    let trials = cluster.len();
    assert!(
        trials > 0 && a.iter().chain(b).all(|v| v.len() == trials),
        "paired trials"
    );
    let n = a.len();
    let clusters = cluster.iter().max().map_or(0, |m| m + 1);
    // Per seed and cluster, the summed difference X[s][g]; cluster sizes T[g].
    let mut x = vec![vec![0.0f64; clusters]; n];
    let mut size = vec![0.0f64; clusters];
    for (t, &g) in cluster.iter().enumerate() {
        size[g] += 1.0;
        for s in 0..n {
            x[s][g] += a[s][t] - b[s][t];
        }
    }
    let total = trials as f64;
    let seed_means: Vec<f64> = x.iter().map(|row| row.iter().sum::<f64>() / total).collect();
    let difference = seed_means.iter().sum::<f64>() / n as f64;
    let mut out = Comparison::undecided(n, trials, clusters, difference, rope, alpha, None);
    if n < 2 || clusters < 2 {
        return out;
    }
    let (nf, gf) = (n as f64, clusters as f64);
    // Seed part: the seed means' variance of their mean.
    let v_seed = seed_means.iter().map(|m| (m - difference).powi(2)).sum::<f64>() / (nf - 1.0) / nf;
    // Cluster part: cluster totals averaged over seeds, as a ratio mean's variance.
    let cluster_mean: Vec<f64> = (0..clusters)
        .map(|g| x.iter().map(|r| r[g]).sum::<f64>() / nf)
        .collect();
    let v_cluster = gf / (gf - 1.0)
        * (0..clusters)
            .map(|g| (cluster_mean[g] - size[g] * difference).powi(2))
            .sum::<f64>()
        / (total * total);
    // Interaction: what is left of X after the seed and cluster effects.
    let residual: f64 = (0..n)
        .flat_map(|s| (0..clusters).map(move |g| (s, g)))
        .map(|(s, g)| (x[s][g] - cluster_mean[g] - size[g] * (seed_means[s] - difference)).powi(2))
        .sum();
    let v_interaction = gf / (gf - 1.0) * residual / ((nf - 1.0) * total * total * nf);
    // Crossed random effects: training randomness (clipped at 0), each seed's trial noise
    // (the interaction), and what the test set adds that no seed count removes.
    let seed_part = (v_seed - v_interaction).max(0.0);
    let cluster_part = (v_cluster - v_interaction).max(0.0);
    // With two seeds the clipped seed part is too unstable: the seed means' own variance
    // (which holds the interaction) stands in for both (tests/decision_rule.rs).
    let variance = if n == 2 {
        v_seed.max(v_interaction) + cluster_part
    } else {
        seed_part + v_interaction + cluster_part
    };
    out.seed_mean_variance = v_seed;
    out.interaction_variance = v_interaction;
    out.per_seed_variance = nf
        * if n == 2 {
            v_seed.max(v_interaction)
        } else {
            seed_part + v_interaction
        };
    out.fixed_variance = cluster_part;
    if variance <= 0.0 {
        // Every seed and cluster shows the same difference: the data show no spread to
        // judge a nonzero difference by (no verdict from a variance of 0); a difference of
        // exactly 0 on every trial of every seed is the same predictions, equivalent.
        if a == b {
            out.identical();
        }
        return out;
    }
    // Satterthwaite over the three mean squares; with two seeds, their one degree of
    // freedom (Satterthwaite's was liberal there: tests/decision_rule.rs).
    // (Giving the interaction floor its own many degrees of freedom was liberal where the
    // seed spread is large: 0.12 in tests/decision_rule.rs's grid.)
    let df = if n == 2 {
        1.0
    } else {
        variance.powi(2)
            / (v_seed.powi(2) / (nf - 1.0)
                + v_cluster.powi(2) / (gf - 1.0)
                + v_interaction.powi(2) / ((nf - 1.0) * (gf - 1.0)))
    };
    out.decide(variance, df);
    out
}

/// A comparison from an estimate already made elsewhere ([`super::grid`]'s contrasts):
/// its `difference`, the `variance` of the estimate on `df` degrees of freedom and the part
/// of it, `per_block`, that one more seed (block) divides; `seeds` blocks, `trials` test
/// trials in `clusters` groups. A variance that is not positive and finite decides nothing.
pub fn from_variance(
    difference: f64,
    variance: f64,
    df: f64,
    per_block: f64,
    (seeds, trials, clusters): (usize, usize, usize),
    rope: f64,
    alpha: f64,
) -> Comparison {
    let mut out = Comparison::undecided(seeds, trials, clusters, difference, rope, alpha, None);
    if variance > 0.0 && variance.is_finite() && df > 0.0 {
        out.per_seed_variance = per_block;
        out.fixed_variance = (variance - per_block / seeds.max(1) as f64).max(0.0);
        out.decide(variance, df);
    }
    out
}

/// Compares A and B over units that each have models of their own — subjects of a
/// within-subject protocol, folds of a cross-subject one: `differences[u]` is unit u's
/// accuracy difference A − B averaged over its test trials and its seeds (seeds are nested
/// in units). A paired t over the units (units − 1 degrees of freedom) and, with the margin
/// ±R, its two one-sided tests; one seed suffices. Target: the mean over new units of the
/// per-unit difference. Assumptions: units are independent draws, their differences near
/// normal (the simulation in tests/decision_rule.rs, "Subjects as units", measures how well
/// the level holds). `unit` names what the units are ("subject", "fold"). `identical`
/// (every seed's predictions the same) is the one case a variance of 0 decides: equivalent.
pub fn compare_units(
    unit: &'static str,
    differences: &[f64],
    seeds: usize,
    trials: usize,
    identical: bool,
    rope: f64,
    alpha: f64,
) -> Comparison {
    let units = differences.len();
    let uf = units as f64;
    let difference = differences.iter().sum::<f64>() / uf.max(1.0);
    let mut out = Comparison::undecided(seeds, trials, units, difference, rope, alpha, Some(unit));
    if units < 2 {
        return out;
    }
    let variance = differences.iter().map(|d| (d - difference).powi(2)).sum::<f64>() / (uf - 1.0) / uf;
    out.fixed_variance = variance;
    if variance <= 0.0 {
        if identical {
            out.identical();
        }
        return out;
    }
    out.decide(variance, uf - 1.0);
    out
}

/// Holm's step-down adjustment of `p`, returned in the same order.
pub fn holm_adjust(p: &[f64]) -> Vec<f64> {
    let m = p.len();
    let mut order: Vec<usize> = (0..m).collect();
    order.sort_by(|&i, &j| p[i].total_cmp(&p[j]).then(i.cmp(&j)));
    let mut adjusted = vec![1.0; m];
    let mut running = 0.0f64;
    for (rank, &i) in order.iter().enumerate() {
        running = running.max(((m - rank) as f64 * p[i]).min(1.0));
        adjusted[i] = running;
    }
    adjusted
}

/// Holm's correction over a family of `family` comparisons, of which `comparisons` are
/// those with data (the others count as p = 1), for both tests, in place.
pub fn holm(comparisons: &mut [Comparison], family: usize) {
    let family = family.max(comparisons.len());
    let pad = |f: fn(&Comparison) -> f64| -> Vec<f64> {
        let mut p: Vec<f64> = comparisons.iter().map(f).collect();
        p.resize(family, 1.0);
        holm_adjust(&p)
    };
    let differ = pad(|c| c.p);
    let equal = pad(|c| c.p_equivalent);
    for (i, c) in comparisons.iter_mut().enumerate() {
        c.p_adjusted = differ[i];
        c.p_equivalent_adjusted = equal[i];
        c.family = family;
    }
}

/// A one-sample t test of paired differences (seed-level only).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PairedT {
    /// Mean of the differences.
    pub mean: f64,
    /// 1 − α interval of the mean.
    pub low: f64,
    /// Upper end of the interval.
    pub high: f64,
    /// Two-sided p-value of "the mean is 0".
    pub p: f64,
}

/// The paired t test of `values` (n − 1 degrees of freedom) with its 1 − `alpha` interval,
/// or `None` below two values.
pub fn paired_t(values: &[f64], alpha: f64) -> Option<PairedT> {
    let sd = sample_sd(values)?;
    let n = values.len() as f64;
    let mean = values.iter().sum::<f64>() / n;
    let se = sd / n.sqrt();
    let half = t_quantile(1.0 - alpha / 2.0, n - 1.0) * se;
    let p = if se > 0.0 {
        (2.0 * (1.0 - t_cdf((mean / se).abs(), n - 1.0))).min(1.0)
    } else if mean == 0.0 {
        1.0
    } else {
        0.0
    };
    Some(PairedT {
        mean,
        low: mean - half,
        high: mean + half,
        p,
    })
}

/// Sample standard deviation (n − 1), or `None` below two values.
pub fn sample_sd(values: &[f64]) -> Option<f64> {
    let n = values.len();
    (n > 1).then(|| {
        let mean = values.iter().sum::<f64>() / n as f64;
        (values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1) as f64).sqrt()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one_per_trial(trials: usize) -> Vec<usize> {
        (0..trials).collect()
    }

    #[test]
    fn stouffer_combines_signed_tests_by_weight() {
        // Two tests at p 0.05 (z 1.95996) in the same direction, equal weights: Z = 2.77181,
        // p 0.005574 (scipy.stats.combine_pvalues([0.025, 0.025], method="stouffer") one-sided).
        let (z, p) = stouffer(&[(0.1, 0.05, 1.0), (0.2, 0.05, 1.0)]);
        assert!((z - 2.771808).abs() < 1e-5 && (p - 0.005574).abs() < 1e-5, "{z} {p}");
        // Opposite directions cancel.
        let (z, p) = stouffer(&[(0.1, 0.05, 1.0), (-0.1, 0.05, 1.0)]);
        assert!(z.abs() < 1e-12 && (p - 1.0).abs() < 1e-12);
    }

    #[test]
    fn the_binomial_tail_matches_scipy() {
        // scipy.stats.binom.sf(k - 1, n, p)
        assert!((binomial_upper_tail(8, 10, 0.5) - 0.0546875).abs() < 1e-12);
        assert!((binomial_upper_tail(30, 40, 0.5) - 0.0011107168866146822).abs() < 1e-12);
        assert_eq!(binomial_upper_tail(0, 10, 0.3), 1.0);
    }

    #[test]
    fn the_balanced_case_is_the_anova_estimate() {
        // 3 seeds × 4 trials: V = MS_seed/(nT) + max(0, MS_trial − MS_residual)/(nT), from
        // the two-way table of differences.
        let a = vec![vec![1, 1, 0, 1], vec![1, 0, 0, 1], vec![0, 0, 0, 0]];
        let b = vec![vec![0, 0, 0, 0], vec![0, 0, 0, 0], vec![0, 0, 1, 0]];
        let c = compare(&a, &b, &one_per_trial(4), 0.01, ALPHA);
        let d: Vec<Vec<f64>> = a
            .iter()
            .zip(&b)
            .map(|(x, y)| x.iter().zip(y).map(|(p, q)| *p as f64 - *q as f64).collect())
            .collect();
        let (n, t) = (3.0, 4.0);
        let grand = d.iter().flatten().sum::<f64>() / (n * t);
        let seed_m: Vec<f64> = d.iter().map(|r| r.iter().sum::<f64>() / t).collect();
        let trial_m: Vec<f64> = (0..4).map(|j| d.iter().map(|r| r[j]).sum::<f64>() / n).collect();
        let ms_seed = t * seed_m.iter().map(|m| (m - grand).powi(2)).sum::<f64>() / (n - 1.0);
        let ms_trial = n * trial_m.iter().map(|m| (m - grand).powi(2)).sum::<f64>() / (t - 1.0);
        let ss_residual: f64 = (0..3)
            .flat_map(|i| (0..4).map(move |j| (i, j)))
            .map(|(i, j)| (d[i][j] - seed_m[i] - trial_m[j] + grand).powi(2))
            .sum();
        let ms_residual = ss_residual / ((n - 1.0) * (t - 1.0));
        assert!(ms_trial > ms_residual, "the case has a test-set part");
        assert!(ms_seed > ms_residual, "the case has no clipped component");
        let expected = (ms_seed + ms_trial - ms_residual) / (n * t);
        assert!((c.difference - grand).abs() < 1e-12);
        assert!((c.se.unwrap().powi(2) - expected).abs() < 1e-12, "{c:?} vs {expected}");
    }

    #[test]
    fn one_seed_decides_nothing_and_needs_are_never_absurd() {
        let a = vec![vec![1u8; 100]];
        let b = vec![vec![0u8; 100]];
        let c = compare(&a, &b, &one_per_trial(100), 0.01, ALPHA);
        assert_eq!(c.verdict(), Verdict::Undecided);
        assert!(c.interval.is_none());
        assert!(c.seeds_needed().is_err());
    }

    #[test]
    fn a_large_consistent_gap_is_decided_with_three_seeds() {
        // Every seed: A right on 80% of 1,363 trials, B on 58%, different trials per seed.
        let trials = 1363;
        let a: Vec<Vec<u8>> = (0..3)
            .map(|s| (0..trials).map(|t| ((t * 7 + s * 13) % 100 < 80) as u8).collect())
            .collect();
        let b: Vec<Vec<u8>> = (0..3)
            .map(|s| (0..trials).map(|t| ((t * 11 + s * 29) % 100 < 57 + s) as u8).collect())
            .collect();
        let mut cs = vec![compare(&a, &b, &one_per_trial(trials), 0.01, ALPHA)];
        holm(&mut cs, 3);
        assert_eq!(cs[0].verdict(), Verdict::ABetter, "{:?}", cs[0]);
        assert_eq!(cs[0].family, 3);
    }

    #[test]
    fn identical_predictions_are_equivalent() {
        let a = vec![vec![1, 0, 1, 1], vec![0, 0, 1, 1]];
        let c = compare(&a, &a, &one_per_trial(4), 0.01, ALPHA);
        assert_eq!(c.difference, 0.0);
        assert_eq!(c.verdict(), Verdict::Equivalent);
    }

    #[test]
    fn clusters_widen_the_interval_when_subjects_differ() {
        // Per subject of 10 trials, A wins on all trials of some subjects and B on others.
        let trials = 200;
        let subject: Vec<usize> = (0..trials).map(|t| t / 10).collect();
        let a: Vec<Vec<u8>> = (0..4)
            .map(|s| {
                (0..trials)
                    .map(|t| ((t / 10) % 2 == 0 || (t + s) % 5 == 0) as u8)
                    .collect()
            })
            .collect();
        let b: Vec<Vec<u8>> = (0..4)
            .map(|s| {
                (0..trials)
                    .map(|t| ((t / 10) % 2 == 1 || (t + 2 * s) % 7 == 0) as u8)
                    .collect()
            })
            .collect();
        let by_trial = compare(&a, &b, &one_per_trial(trials), 0.01, ALPHA);
        let by_subject = compare(&a, &b, &subject, 0.01, ALPHA);
        assert_eq!(by_trial.difference, by_subject.difference);
        assert!(
            by_subject.se.unwrap() > by_trial.se.unwrap(),
            "{by_subject:?} {by_trial:?}"
        );
        assert_eq!(by_subject.clusters, 20);
    }

    #[test]
    fn holm_by_hand_with_an_undeclared_member() {
        // 3·0.01, then max(0.03, 2·0.03), then max(0.06, 1·0.04).
        let adjusted: Vec<f64> = holm_adjust(&[0.01, 0.04, 0.03])
            .iter()
            .map(|p| (p * 1e6).round() / 1e6)
            .collect();
        assert_eq!(adjusted, vec![0.03, 0.06, 0.06]);
        // A family of 3 with one comparison present: its p is multiplied by 3.
        let a = vec![vec![1, 1, 1, 0, 1, 1], vec![1, 1, 0, 1, 1, 1]];
        let b = vec![vec![0, 1, 0, 0, 1, 0], vec![0, 0, 0, 1, 0, 0]];
        let mut cs = vec![compare(&a, &b, &one_per_trial(6), 0.01, ALPHA)];
        let p = cs[0].p;
        holm(&mut cs, 3);
        assert!((cs[0].p_adjusted - (3.0 * p).min(1.0)).abs() < 1e-12);
    }

    #[test]
    fn seeds_needed_is_prospective_and_bounded() {
        let base = Comparison {
            seeds: 5,
            trials: 1000,
            clusters: 1000,
            difference: 1e-17,
            se: Some(0.01),
            df: 10.0,
            interval: Some((-0.02, 0.02)),
            per_seed_variance: 0.02f64.powi(2),
            seed_mean_variance: 0.02f64.powi(2) / 5.0,
            interaction_variance: 0.0,
            fixed_variance: 0.0,
            unit: None,
            p: 1.0,
            p_adjusted: 1.0,
            rope: 0.01,
            p_equivalent: 0.5,
            p_equivalent_adjusted: 0.5,
            family: 1,
            alpha: ALPHA,
        };
        // The smallest n with (t₀.₉₇₅ + t₀.₈ on n − 1 df) · 2/√n ≤ 1 point: 34 (n = 33:
        // (2.037 + 0.853) · 0.348 = 1.006; n = 34: (2.035 + 0.853) · 0.343 = 0.990), where the
        // normal approximation said 32; whatever the observed difference.
        assert_eq!(base.seeds_needed(), Ok(34));
        // Two seeds' t on 1 degree of freedom: planning with it asks for more, not "about 2".
        let two = Comparison {
            seeds: 2,
            per_seed_variance: 0.005f64.powi(2),
            ..base.clone()
        };
        assert!(two.seeds_needed().unwrap() > 2, "{:?}", two.seeds_needed());
        let wide = Comparison {
            fixed_variance: 0.004f64.powi(2),
            ..base.clone()
        };
        assert!(wide.seeds_needed().unwrap_err().contains("no seed count can"));
        let huge = Comparison {
            per_seed_variance: 1e300,
            ..base
        };
        assert_eq!(huge.seeds_needed(), Ok(MOST_SEEDS + 1));
    }
}

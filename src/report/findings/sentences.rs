//! A comparison's verdict in one sentence, with its evidence.

use super::labels::significant;
use crate::report::stats::{self, Comparison, Verdict};

/// A p-value as text: three decimals, or "< 0.001".
pub fn p_text(p: f64) -> String {
    if p < 0.001 {
        "< 0.001".into()
    } else {
        format!("{p:.3}")
    }
}

/// "(95% CI +0.50 to +2.90; p 0.031, Holm 0.094; 8 seeds, 1363 test trials)", with the
/// equivalence p where that is the question.
fn evidence(c: &Comparison, equivalence: bool) -> String {
    let Some((low, high)) = c.interval else {
        if let Some(unit) = c.unit {
            return format!(
                "({} {unit}s, {} seeds each, {} test trials: every {unit} shows the same difference, no spread to judge it by: no interval)",
                c.clusters, c.seeds, c.trials
            );
        }
        if c.seeds < 2 {
            return format!("({} seed, {} test trials: no interval)", c.seeds, c.trials);
        }
        return format!(
            "({} seeds, {} test trials: every seed and trial shows the same difference, no spread to judge it by: no interval)",
            c.seeds, c.trials
        );
    };
    // A study that looks after each round of seeds decides each look at α over the looks:
    // said beside the p-values, so a Holm p above it but below 0.05 reads as it is.
    let look = if c.alpha < stats::ALPHA {
        format!(" against this look's level {}", significant(c.alpha, 3))
    } else {
        String::new()
    };
    let test = if equivalence {
        format!(
            "equivalence p {}, Holm {}{look}",
            p_text(c.p_equivalent),
            p_text(c.p_equivalent_adjusted)
        )
    } else {
        format!("p {}, Holm {}{look}", p_text(c.p), p_text(c.p_adjusted))
    };
    if let Some(unit) = c.unit {
        return format!(
            "({}% CI {:+.2} to {:+.2}; {test}; paired t over {} {unit}s, {} seeds each, {} test trials)",
            level(c.alpha),
            100.0 * low,
            100.0 * high,
            c.clusters,
            c.seeds,
            c.trials
        );
    }
    let subjects = if c.clusters < c.trials {
        format!(" of {} subjects", c.clusters)
    } else {
        String::new()
    };
    format!(
        "({}% CI {:+.2} to {:+.2}; {test}; {} seeds, {} test trials{subjects})",
        level(c.alpha),
        100.0 * low,
        100.0 * high,
        c.seeds,
        c.trials
    )
}

/// An interval's confidence in percent, as short as it reads: "95", "98.3".
pub(super) fn level(alpha: f64) -> String {
    let text = format!("{:.1}", 100.0 * (1.0 - alpha));
    text.trim_end_matches(".0").to_string()
}

/// What more seeds would do, in words.
fn needs(c: &Comparison) -> String {
    let margin = format!("±{} points", 100.0 * c.rope);
    match c.seeds_needed() {
        Ok(n) if n > stats::MOST_SEEDS => format!(
            "more than {} seeds would be needed to detect {margin}",
            stats::MOST_SEEDS
        ),
        Ok(n) => format!("about {n} seeds would detect {margin} with 80% power"),
        Err(why) => format!("to detect {margin}: {why}"),
    }
}

/// The verdict of `a` against `b` in one sentence.
pub(super) fn sentence(a: &str, b: &str, c: &Comparison) -> String {
    let d = 100.0 * c.difference;
    match c.verdict() {
        Verdict::ABetter => format!("{a} > {b} by {d:.2} points {}", evidence(c, false)),
        Verdict::BBetter => format!("{b} > {a} by {:.2} points {}", -d, evidence(c, false)),
        Verdict::Equivalent => format!(
            "{a} ≈ {b}: practically equivalent within ±{} points, {d:+.2} points {}",
            100.0 * c.rope,
            evidence(c, true)
        ),
        Verdict::Undecided => format!(
            "{a} vs {b}: undecided, {d:+.2} points {}; {}",
            evidence(c, false),
            needs(c)
        ),
    }
}

#[cfg(test)]
/// A comparison of A against B with this difference, interval and p-values (for tests).
pub(super) fn comparison(difference: f64, p: f64, p_equivalent: f64) -> Comparison {
    Comparison {
        seeds: 10,
        trials: 1363,
        clusters: 1363,
        difference,
        se: Some(0.005),
        df: 9.0,
        interval: Some((difference - 0.01, difference + 0.01)),
        per_seed_variance: 0.0002,
        seed_mean_variance: 0.00002,
        interaction_variance: 0.00001,
        fixed_variance: 0.000001,
        p,
        p_adjusted: p,
        rope: 0.01,
        p_equivalent,
        p_equivalent_adjusted: p_equivalent,
        family: 3,
        alpha: stats::ALPHA,
        unit: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sentences_name_the_better_configuration_and_small_p_values() {
        let worse = comparison(-0.012, 0.0001, 1.0);
        let s = sentence("relu", "elu", &worse);
        assert!(s.starts_with("elu > relu by 1.20 points"), "{s}");
        assert!(s.contains("p < 0.001") && !s.contains("0.000,"), "{s}");
        let undecided = comparison(0.003, 0.4, 0.2);
        let s = sentence("relu", "elu", &undecided);
        assert!(
            s.starts_with("relu vs elu: undecided") && s.contains("seeds would detect ±1 points"),
            "{s}"
        );
        let one = Comparison {
            seeds: 1,
            se: None,
            interval: None,
            ..comparison(0.05, 1.0, 1.0)
        };
        let s = sentence("relu", "elu", &one);
        assert!(
            s.ends_with("(1 seed, 1363 test trials: no interval); to detect ±1 points: one seed shows no seed-to-seed spread, train at least 2"),
            "{s}"
        );
    }
}

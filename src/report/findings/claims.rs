//! The lab report's claims, answered by a designed study's comparisons.

use super::lab_tables::{mean_sd, metric};
use super::model::{oriented, Claim, ClaimVerdict, Study};
use super::sentences::{level, p_text, sentence};
use crate::config::ModelKind;
use crate::report::stats::{self, Comparison, Verdict};
use crate::store::read::Run;

/// A claim "a > b" (or "a = b") answered by the comparison of `a` against `b`.
fn claim(text: String, a: &str, b: &str, c: &Comparison, equal: bool) -> Claim {
    let verdict = match (c.verdict(), equal) {
        (Verdict::ABetter, false) | (Verdict::Equivalent, true) => ClaimVerdict::Supported,
        (Verdict::BBetter, _) | (Verdict::ABetter, true) | (Verdict::Equivalent, false) => ClaimVerdict::Contradicted,
        (Verdict::Undecided, _) => ClaimVerdict::Undecided,
    };
    let word = match (verdict, equal) {
        (ClaimVerdict::Supported, _) => "supported".to_string(),
        (ClaimVerdict::Contradicted, _) => "contradicted".to_string(),
        (ClaimVerdict::Undecided, true) => format!("undecided, no equivalence within ±{} points shown", 100.0 * c.rope),
        (ClaimVerdict::Undecided, false) => "undecided".to_string(),
    };
    Claim {
        sentence: format!("report claims {text}: {word} — {}", sentence(a, b, c)),
        claim: text,
        verdict,
    }
}

/// The lab report's claims that this designed study can answer.
pub(super) fn lab_claims(s: &Study, best: usize, gap_test: bool) -> Vec<Claim> {
    let mut out = Vec::new();
    let index = |label: &str| s.configs.iter().position(|c| c.label == label);
    if s.varying == ["activation"] {
        // The report: EEGNet ReLU 87.31 > LeakyReLU 86.94 > ELU 83.43;
        // DeepConvNet ReLU 81.11 > LeakyReLU 81.02 = ELU 81.02 (one seed each).
        let claims: &[(&str, &str, bool)] = match s.model {
            ModelKind::EegNet => &[
                ("relu", "leaky_relu", false),
                ("leaky_relu", "elu", false),
                ("relu", "elu", false),
            ],
            ModelKind::DeepConvNet => &[
                ("relu", "leaky_relu", false),
                ("relu", "elu", false),
                ("leaky_relu", "elu", true),
            ],
        };
        for (a, b, equal) in claims {
            if let Some(c) = index(a).zip(index(b)).and_then(|(i, j)| oriented(s, i, j)) {
                let relation = if *equal { "=" } else { ">" };
                out.push(claim(format!("{} {a} {relation} {b}", s.model), a, b, &c, *equal));
            }
        }
    }
    if s.varying == ["dropout"] && s.configs.len() >= 3 {
        let (low, high) = (0, s.configs.len() - 1);
        let text = format!(
            "under-fitting at high dropout ({} below the best)",
            s.configs[high].label
        );
        if high != best {
            if let Some(c) = oriented(s, best, high) {
                out.push(claim(text, &s.configs[best].label, &s.configs[high].label, &c, false));
            }
        } else {
            // The highest rate has the highest mean: that contradicts the claim only if it
            // is shown better than every other rate.
            let better_than_all =
                (0..high).all(|i| oriented(s, high, i).is_some_and(|c| c.verdict() == Verdict::ABetter));
            let verdict = if better_than_all {
                ClaimVerdict::Contradicted
            } else {
                ClaimVerdict::Undecided
            };
            out.push(Claim {
                sentence: format!(
                    "report claims {text}: {} — the highest rate has the highest mean here{}",
                    if better_than_all { "contradicted" } else { "undecided" },
                    if better_than_all {
                        " and is better than every other rate"
                    } else {
                        ""
                    }
                ),
                claim: text,
                verdict,
            });
        }
        if gap_test {
            out.push(overfitting(s, low, reference_rate(s)));
        }
        let range: Vec<&str> = std::iter::once(best)
            .chain(
                (0..s.configs.len())
                    .filter(|&i| i != best && oriented(s, best, i).is_some_and(|c| c.verdict() != Verdict::ABetter)),
            )
            .map(|i| s.configs[i].label.as_str())
            .collect();
        // Supported once some rate is shown worse than the best: the choice matters.
        let matters = range.len() < s.configs.len();
        out.push(Claim {
            claim: "dropout must be chosen".into(),
            verdict: if matters {
                ClaimVerdict::Supported
            } else {
                ClaimVerdict::Undecided
            },
            sentence: format!(
                "report claims dropout must be chosen: {} — rates not shown worse than the best here: {}",
                if matters { "supported" } else { "undecided" },
                range.join(", ")
            ),
        });
    }
    out
}

/// The rate the over-fitting test compares the lowest with, chosen before any result so the
/// test set plays no part in the choice: the model's lab rate where the study has it above
/// the lowest, else the study's middle rate. (Comparing with the rate of the highest test
/// accuracy would pick, by the test set, a rate whose gap is small: biased upward.)
fn reference_rate(s: &Study) -> usize {
    let dropout = |i: usize| s.configs[i].by_seed.values().next().map(|r| r.record.config.dropout);
    let lab = s.configs[0]
        .by_seed
        .values()
        .next()
        .map(|r| r.record.config.model.default_dropout());
    (1..s.configs.len())
        .find(|&i| lab.is_some() && dropout(i) == lab)
        .unwrap_or(s.configs.len() / 2)
}

/// Over-fitting at the lowest rate: its train–test gap exceeds the gap at the reference
/// rate ([`reference_rate`]), paired by seed (paired t over seeds, Holm over the study's
/// family with this test).
fn overfitting(s: &Study, low: usize, best: usize) -> Claim {
    let text = format!(
        "over-fitting at low dropout ({}: train near 100%, test lower)",
        s.configs[low].label
    );
    let undecided = |why: String| Claim {
        sentence: format!("report claims {text}: undecided — {why}"),
        claim: text.clone(),
        verdict: ClaimVerdict::Undecided,
    };
    if low == best {
        return undecided("the study has one rate only".into());
    }
    let gap = |r: &Run| metric(r, "gap");
    let diffs: Vec<f64> = s.configs[low]
        .by_seed
        .iter()
        .filter_map(|(seed, r)| Some(gap(r)? - gap(s.configs[best].by_seed.get(seed)?)?))
        .collect();
    let alpha = s.comparisons.first().map_or(stats::ALPHA, |(_, _, c)| c.alpha);
    let Some(t) = stats::paired_t(&diffs, alpha) else {
        let n = diffs.len();
        return undecided(format!(
            "{n} shared {}: at least 2 are needed",
            if n == 1 { "seed" } else { "seeds" }
        ));
    };
    // This test is one member of the study's Holm family: the others are its pairs.
    let mut family: Vec<f64> = s.comparisons.iter().map(|(_, _, c)| c.p).collect();
    family.resize(s.findings.family_size.max(family.len() + 1) - 1, 1.0);
    family.push(t.p);
    let adjusted = *stats::holm_adjust(&family).last().expect("one p-value");
    let train: Vec<f64> = s.configs[low]
        .by_seed
        .values()
        .filter_map(|r| metric(r, "final train"))
        .collect();
    let detail = format!(
        "gap {:+.2} points larger than at {} ({}% CI {:+.2} to {:+.2}; paired t p {}, Holm {}; {} seeds); final train accuracy there {}",
        100.0 * t.mean,
        s.configs[best].label,
        level(alpha),
        100.0 * t.low,
        100.0 * t.high,
        p_text(t.p),
        p_text(adjusted),
        diffs.len(),
        mean_sd(&train)
    );
    let verdict = match (adjusted < alpha, t.mean > 0.0) {
        (true, true) => ClaimVerdict::Supported,
        (true, false) => ClaimVerdict::Contradicted,
        _ => ClaimVerdict::Undecided,
    };
    let word = match verdict {
        ClaimVerdict::Supported => "supported",
        ClaimVerdict::Contradicted => "contradicted",
        ClaimVerdict::Undecided => "undecided",
    };
    Claim {
        sentence: format!("report claims {text}: {word} — {detail}"),
        claim: text,
        verdict,
    }
}

#[cfg(test)]
mod tests {
    use super::super::sentences::comparison;
    use super::*;

    #[test]
    fn equality_is_claimed_only_from_equivalence() {
        let undecided = comparison(0.0103, 0.3, 0.5);
        let c = claim(
            "deepconvnet leaky_relu = elu".into(),
            "leaky_relu",
            "elu",
            &undecided,
            true,
        );
        assert_eq!(c.verdict, ClaimVerdict::Undecided, "{}", c.sentence);
        assert!(
            c.sentence.contains("no equivalence within ±1 points shown"),
            "{}",
            c.sentence
        );
        let equivalent = comparison(0.001, 0.8, 0.01);
        assert_eq!(
            claim("a = b".into(), "a", "b", &equivalent, true).verdict,
            ClaimVerdict::Supported
        );
        // An ordering claim is not supported by equivalence.
        assert_eq!(
            claim("a > b".into(), "a", "b", &equivalent, false).verdict,
            ClaimVerdict::Contradicted
        );
    }
}

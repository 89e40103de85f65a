//! The findings as terminal text: every comparison, and the headlines with the claims.

use super::model::{Study, LARGE_STUDY};
use std::fmt::Write;

/// Configurations listed for a large study.
pub const TOP: usize = 10;

/// Every comparison of every study, one line each; for a study of more than
/// [`LARGE_STUDY`] configurations, its [`TOP`] configurations by mean instead (every pair is
/// in `findings.json` and `comparisons.csv`).
pub fn comparisons(studies: &[Study]) -> String {
    let mut out = String::new();
    for s in studies.iter().filter(|s| !s.comparisons.is_empty()) {
        let f = &s.findings;
        let _ = writeln!(
            out,
            "{} {} — {}; Holm over {} ({}); equivalence margin ±{} points:",
            s.experiment, s.model, f.accuracy, f.family_size, f.family, f.rope_points
        );
        if s.configs.len() > LARGE_STUDY {
            let _ = writeln!(
                out,
                "  {} configurations, {} pairs compared: every pair is in findings.json and comparisons.csv; the {TOP} highest means:",
                s.configs.len(),
                f.comparisons.len()
            );
            for (rank, c) in f.top(TOP).iter().enumerate() {
                let _ = writeln!(
                    out,
                    "  {:>2}. {} — {:.2}% ({} {})",
                    rank + 1,
                    c.label,
                    c.mean_accuracy.unwrap_or(f64::NAN),
                    c.seeds.len(),
                    if c.seeds.len() == 1 { "seed" } else { "seeds" }
                );
            }
            continue;
        }
        for c in &f.comparisons {
            let _ = writeln!(out, "  {}", c.sentence);
        }
    }
    out
}

/// The findings as sentences: per study its headline, then the lab report's claims.
pub fn findings(studies: &[Study]) -> String {
    let mut out = String::new();
    for s in studies.iter().filter(|s| s.configs.len() > 1) {
        let _ = writeln!(out, "{}", s.findings.headline);
        for c in &s.findings.claims {
            let _ = writeln!(out, "  {}", c.sentence);
        }
    }
    for t in targets(studies) {
        let _ = writeln!(out, "({t} README \"Findings\" states the method.)");
    }
    out
}

/// The distinct targets of the studies that compare anything, in order.
pub fn targets(studies: &[Study]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for s in studies.iter().filter(|s| s.configs.len() > 1) {
        if !out.contains(&s.findings.target) {
            out.push(s.findings.target.clone());
        }
    }
    out
}

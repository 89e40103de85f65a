//! The findings as terminal text: every comparison, and the headlines with the claims.

use super::model::Study;
use std::fmt::Write;

/// Every comparison of every study, one line each.
pub fn comparisons(studies: &[Study]) -> String {
    let mut out = String::new();
    for s in studies.iter().filter(|s| !s.comparisons.is_empty()) {
        let f = &s.findings;
        let _ = writeln!(
            out,
            "{} {} — {}; Holm over {} ({}); equivalence margin ±{} points:",
            s.experiment, s.model, f.accuracy, f.family_size, f.family, f.rope_points
        );
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

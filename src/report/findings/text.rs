//! The findings as terminal text: every comparison, and the headlines with the claims.

use super::model::{Factorial, Study, LARGE_STUDY};
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
            "{} {}{} — {}:",
            s.experiment,
            s.model,
            s.part_suffix(),
            s.family_text()
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

/// Decided interaction contrasts and ties listed before the rest are only counted.
const LISTED: usize = 10;

/// The "Main effects" section of every grid study ([`Factorial`]): each setting's level means
/// and adjacent verdicts, the decided interactions, and the best with its ties.
pub fn main_effects(studies: &[Study]) -> String {
    let mut out = String::new();
    for s in studies {
        let Some(f) = &s.findings.factorial else { continue };
        let _ = writeln!(
            out,
            "Main effects — {} {}{} ({}; Holm over the {} main-effect and interaction contrasts; equivalence margin ±{} points):",
            s.experiment,
            s.model,
            s.part_suffix(),
            s.findings.accuracy,
            f.family_size,
            s.findings.rope_points
        );
        write_factorial(&mut out, f);
    }
    out
}

/// One study's factorial findings as indented lines.
fn write_factorial(out: &mut String, f: &Factorial) {
    for m in &f.main_effects {
        let levels: Vec<String> = m
            .levels
            .iter()
            .map(|l| match l.interval {
                Some((low, high)) => format!("{} {:.2}% [{low:.2}, {high:.2}]", l.level, l.mean),
                None => format!("{} {:.2}%", l.level, l.mean),
            })
            .collect();
        let _ = writeln!(out, "  {}: {}", m.setting, levels.join(" · "));
        for c in &m.contrasts {
            let _ = writeln!(out, "    {}", c.sentence);
        }
    }
    for i in &f.interactions {
        let decided: Vec<&str> = i
            .contrasts
            .iter()
            .filter(|c| c.verdict != crate::report::stats::Verdict::Undecided)
            .map(|c| c.sentence.as_str())
            .collect();
        let _ = writeln!(
            out,
            "  {} × {}: {}, {} decided{}",
            i.settings[0],
            i.settings[1],
            crate::plural::count(i.contrasts.len(), "interaction contrast", "interaction contrasts"),
            decided.len(),
            if decided.is_empty() { "" } else { ":" }
        );
        for sentence in decided.iter().take(LISTED) {
            let _ = writeln!(out, "    {sentence}");
        }
        if decided.len() > LISTED {
            let _ = writeln!(out, "    … and {} more in findings.json", decided.len() - LISTED);
        }
    }
    if let Some(b) = &f.best {
        let _ = writeln!(out, "  {}", b.sentence);
        for t in b.ties.iter().skip(1).take(LISTED) {
            let validation = t
                .validation
                .map_or_else(String::new, |v| format!(" (validation {v:.2}%)"));
            let _ = writeln!(out, "    tied: {} — {:.2}%{validation}", t.label, t.test);
        }
        if b.ties.len() > LISTED + 1 {
            let _ = writeln!(
                out,
                "    … and {} more tied in findings.json",
                b.ties.len() - LISTED - 1
            );
        }
    }
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

//! The findings as markdown: a table of every comparison per study.

use super::labels::significant;
use super::model::{Study, LARGE_STUDY};
use super::sentences::{level, p_text};
use super::text::{targets, TOP};
use crate::report::stats::{self, Verdict};
use std::fmt::Write;

/// The findings as markdown: per study its headline, a table of every comparison and the
/// lab report's claims.
pub fn markdown(studies: &[Study]) -> String {
    let mut out = String::new();
    for s in studies.iter().filter(|s| !s.comparisons.is_empty()) {
        let f = &s.findings;
        let _ = writeln!(
            out,
            "### {} {}{}\n\n{}\n",
            f.experiment,
            f.model,
            s.part_suffix(),
            f.headline
        );
        let _ = writeln!(out, "**Methods.** {}\n", f.methods);
        let _ = writeln!(
            out,
            "{}; A − B in points; Holm over {} ({}); equivalence margin ±{} points.\n",
            f.accuracy, f.family_size, f.family, f.rope_points
        );
        if s.configs.len() > LARGE_STUDY {
            let _ = writeln!(
                out,
                "{} configurations, {} pairs compared: every pair is in `findings.json` and `comparisons.csv`. The {TOP} highest means:\n\n| rank | configuration | mean (%) | seeds |\n|---|---|---|---|",
                s.configs.len(),
                f.comparisons.len()
            );
            for (rank, c) in f.top(TOP).iter().enumerate() {
                let _ = writeln!(
                    out,
                    "| {} | {} | {:.2} | {} |",
                    rank + 1,
                    c.label.replace('|', "\\|"),
                    c.mean_accuracy.unwrap_or(f64::NAN),
                    c.seeds.len()
                );
            }
            out.push('\n');
            continue;
        }
        // The interval's level is the study's per-look level (α over the looks of seed
        // rounds): said in the heading, as is the level every p is held to.
        let alpha = f.comparisons.first().map_or(stats::ALPHA, |c| c.statistics.alpha);
        let _ = writeln!(
            out,
            "| A | B | verdict | A − B | {}% interval | p (Holm; decided below {}) | equivalence p (Holm) | seeds |",
            level(alpha),
            significant(alpha, 3)
        );
        out.push_str("|---|---|---|---|---|---|---|---|\n");
        for c in &f.comparisons {
            let st = &c.statistics;
            let verdict = match c.verdict {
                Verdict::ABetter | Verdict::BBetter => format!("**{}**", c.verdict_word()),
                _ => c.verdict_word(),
            };
            let interval = st
                .interval
                .map(|(low, high)| format!("{:+.2} to {:+.2}", 100.0 * low, 100.0 * high))
                .unwrap_or_else(|| "-".into());
            let _ = writeln!(
                out,
                "| {} | {} | {verdict} | {:+.2} | {interval} | {} ({}) | {} ({}) | {} |",
                c.a.replace('|', "\\|"),
                c.b.replace('|', "\\|"),
                100.0 * st.difference,
                p_text(st.p),
                p_text(st.p_adjusted),
                p_text(st.p_equivalent),
                p_text(st.p_equivalent_adjusted),
                st.seeds
            );
        }
        out.push('\n');
        for claim in &f.claims {
            let _ = writeln!(out, "- {}", claim.sentence);
        }
        if !f.claims.is_empty() {
            out.push('\n');
        }
    }
    if !out.is_empty() {
        for t in targets(studies) {
            let _ = writeln!(out, "{t}");
        }
    }
    out
}

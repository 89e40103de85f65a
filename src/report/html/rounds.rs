//! The page's section per study that adds seeds in rounds: the rule, each look with the
//! seeds it had and the comparisons it decided, and the runs saved against `max`.

use super::tables::table_captioned;
use crate::escape::html as escape;
use crate::plural::count;
use crate::report::findings::RoundsTold;
use std::fmt::Write;

/// One section per rounds study.
pub(super) fn rounds_sections(out: &mut String, told: &[RoundsTold]) {
    for t in told {
        let r = t.rounds;
        let _ = writeln!(
            out,
            "<h2 id=\"rounds-{0}\">Seed rounds: {0}</h2>\n<p>Every configuration trained {1} seeds; after each round, those still in an undecided comparison got {2} more, up to {3}. Each look is taken at α = {4:.4} (0.05 over the {5} possible looks, Bonferroni), so looking after every round keeps the study's error rate at 5%.</p>",
            escape(&t.stem),
            r.start,
            r.step,
            r.max,
            r.alpha_per_look(),
            r.looks()
        );
        let header = [
            "look",
            "seeds per configuration",
            "still undecided after it",
            "decided at this look",
        ]
        .map(String::from);
        let rows: Vec<Vec<String>> = t
            .looks
            .iter()
            .enumerate()
            .map(|(i, look)| {
                let seeds: Vec<String> = t
                    .configurations
                    .iter()
                    .zip(&look.seeds)
                    .map(|(label, n)| format!("{label}: {n}"))
                    .collect();
                vec![
                    (i + 1).to_string(),
                    seeds.join("; "),
                    count(look.open, "configuration", "configurations"),
                    match look.decided.is_empty() {
                        true => "none".into(),
                        false => look.decided.join("; "),
                    },
                ]
            })
            .collect();
        out.push_str("<div class=\"scroll\">");
        table_captioned(out, Some("each look, from the finished runs alone"), &header, &rows);
        out.push_str("</div>\n");
        let saved = t.fixed.saturating_sub(t.trained);
        let _ = writeln!(
            out,
            "<p>{} trained instead of {} for {} seeds each: {} saved.{}</p>",
            count(t.trained, "run", "runs"),
            count(t.fixed, "run", "runs"),
            r.max,
            count(saved, "run", "runs"),
            if t.in_progress {
                " The next round's runs are not all finished: the rounds go on."
            } else {
                ""
            }
        );
    }
}

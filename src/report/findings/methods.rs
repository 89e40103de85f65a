//! A study's "methods" paragraph: what was trained and how it was judged, in words a
//! researcher can paste into a paper (the test, the family and its correction, seeds,
//! epochs, the split, subjects, the equivalence margin).

use super::labels::{setting, significant};
use super::model::{Kind, Study};
use crate::report::stats;
use std::collections::BTreeSet;

/// The paragraph for study `s` (its findings already described).
pub(super) fn methods(s: &Study) -> String {
    let runs: Vec<&crate::store::read::Run> = s.configs.iter().flat_map(|c| c.by_seed.values().copied()).collect();
    let distinct = |name: &str| -> Vec<String> {
        let values: BTreeSet<String> = runs.iter().map(|r| setting(r, name)).collect();
        values.into_iter().collect()
    };
    let seeds: BTreeSet<usize> = s
        .configs
        .iter()
        .map(|c| c.by_seed.keys().map(|(seed, _)| *seed).collect::<BTreeSet<u64>>().len())
        .collect();
    let seeds = match (seeds.first(), seeds.last()) {
        (Some(a), Some(b)) if a == b => format!("{a} {}", if *a == 1 { "seed" } else { "seeds" }),
        (Some(a), Some(b)) => format!("{a} to {b} seeds"),
        _ => "no seeds".into(),
    };
    let epochs = distinct("epochs").join(" or ");
    let split = match distinct("val_fraction").as_slice() {
        [v] if v == "0" => {
            "with no validation split (a best configuration chosen on test accuracy is optimistic)".to_string()
        }
        values => format!(
            "with {} of each training set held out for validation (the epoch of best validation accuracy chosen on it)",
            values.join(" or ")
        ),
    };
    let f = &s.findings;
    let varying = match s.varying.is_empty() {
        true => String::new(),
        false => format!(" varying {}", s.varying.join(", ")),
    };
    let alpha = s.comparisons.first().map_or(stats::ALPHA, |(_, _, c)| c.alpha);
    let mut text = format!(
        "{} configurations of {}{varying} were trained for {epochs} epochs with {seeds} each, {split}; the findings compare the {}. {} ",
        s.configs.len(),
        s.model,
        f.accuracy,
        f.target
    );
    text.push_str(&match f.kind {
        Kind::Designed => format!(
            "Pairs of configurations were compared by a t test whose variance counts both the training seeds and the test set's sampling (crossed random effects, Satterthwaite's degrees of freedom), with two one-sided tests for practical equivalence within ±{} points; Holm's correction over {} comparisons ({}) at α = {}.",
            significant(f.rope_points, 3),
            f.family_size,
            f.family,
            significant(alpha, 3)
        ),
        Kind::Search => format!(
            "The search chose its configuration on validation accuracy; it was compared with the others by the same t test (seeds and test set as crossed random effects), equivalence within ±{} points, Holm's correction over {} comparisons at α = {}.",
            significant(f.rope_points, 3),
            f.family_size,
            significant(alpha, 3)
        ),
    });
    if let Some(g) = &f.factorial {
        text.push(' ');
        text.push_str(&g.method);
        text.push_str(" The best configuration's ties are the configurations not shown worse than it by Hsu's multiple comparisons with the best (Bonferroni over the others), a set that holds the best with probability at least 1 − α.");
    }
    if let Some(r) = s.seed_rounds {
        text.push_str(&format!(
            " Seeds were added in rounds ({} to start, {} more per round to configurations still undecided, at most {}), each look at α = {:.4} (Bonferroni over {} looks).",
            r.start,
            r.step,
            r.max,
            r.alpha_per_look(),
            r.looks()
        ));
    }
    text
}

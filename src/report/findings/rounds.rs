//! Seed rounds (`[seeds] until = "decided"`) judged by the findings: which configurations
//! are still in an undecided comparison (what decides the next round), and, for the
//! report, the rounds of a finished study retraced from its runs alone: each look's seeds,
//! the comparisons it decided, and the runs saved against `max`.

use super::families::studies;
use super::model::{verdict_word, Study};
use crate::config::SeedRounds;
use crate::report::stats::Verdict;
use crate::store::read::{Declaration, Run};
use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

/// The configuration keys that take part in an undecided comparison of these studies.
pub fn open_keys(studies: &[Study]) -> BTreeSet<String> {
    let mut open = BTreeSet::new();
    for s in studies {
        for (i, j, c) in &s.comparisons {
            if c.verdict() == Verdict::Undecided {
                open.insert(s.configs[*i].key.clone());
                open.insert(s.configs[*j].key.clone());
            }
        }
    }
    open
}

/// One look of a rounds study.
pub struct Look {
    /// Seeds per configuration at this look, in the study's order.
    pub seeds: Vec<usize>,
    /// Configurations still in an undecided comparison after it.
    pub open: usize,
    /// The comparisons first decided at this look, as "A vs B: verdict".
    pub decided: Vec<String>,
}

/// A rounds study told: its rounds' rule, each look, and the runs it saved.
pub struct RoundsTold {
    /// The study's anchor ([`Study::stem`]).
    pub stem: String,
    /// Its configurations' labels, in order.
    pub configurations: Vec<String>,
    /// The rounds' rule.
    pub rounds: SeedRounds,
    /// Each look so far.
    pub looks: Vec<Look>,
    /// True when the runs of the next round are not all finished.
    pub in_progress: bool,
    /// Runs trained (per configuration: its seeds, times its runs per seed).
    pub trained: usize,
    /// Runs a fixed study of `max` seeds would have trained.
    pub fixed: usize,
}

/// Every study of `runs` whose declaration adds seeds in rounds, retraced: at each look the
/// configurations hold the seeds the rounds gave them (seeds 0, 1, … as trained), and the
/// findings on those runs decide who goes on, as `eegrun run` decided.
pub fn rounds_told(runs: &[Run], declared: &BTreeMap<PathBuf, Declaration>) -> Vec<RoundsTold> {
    studies(runs, declared)
        .iter()
        .filter_map(|s| Some((s, s.seed_rounds?)))
        .map(|(s, rounds)| retrace(s, rounds, declared))
        .collect()
}

/// The rounds of one study, look by look, from its finished runs.
fn retrace(s: &Study, rounds: SeedRounds, declared: &BTreeMap<PathBuf, Declaration>) -> RoundsTold {
    let seeds_of = |c: usize| -> BTreeSet<u64> { s.configs[c].by_seed.keys().map(|(seed, _)| *seed).collect() };
    let per_seed: Vec<usize> = (0..s.configs.len())
        .map(|c| s.configs[c].by_seed.len().max(1) / seeds_of(c).len().max(1))
        .collect();
    let mut counts = vec![rounds.start; s.configs.len()];
    let mut looks: Vec<Look> = Vec::new();
    let mut verdicts: BTreeMap<(String, String), Verdict> = BTreeMap::new();
    let in_progress = loop {
        // Every configuration must hold seeds 0..count for this look to have been taken.
        let complete = (0..s.configs.len()).all(|c| (0..counts[c] as u64).all(|seed| seeds_of(c).contains(&seed)));
        if !complete {
            break true;
        }
        let subset: Vec<Run> = (0..s.configs.len())
            .flat_map(|c| {
                let count = counts[c];
                s.configs[c]
                    .by_seed
                    .iter()
                    .filter(move |((seed, _), _)| (*seed as usize) < count)
                    .map(|(_, r)| (*r).clone())
            })
            .collect();
        let judged = studies(&subset, declared);
        let mut decided = Vec::new();
        for j in &judged {
            for (a, b, c) in &j.comparisons {
                let key = (j.configs[*a].label.clone(), j.configs[*b].label.clone());
                let now = c.verdict();
                let before = verdicts.insert(key.clone(), now);
                if now != Verdict::Undecided && before.is_none_or(|v| v == Verdict::Undecided) {
                    decided.push(format!("{} vs {}: {}", key.0, key.1, verdict_word(now, &key.0, &key.1)));
                }
            }
        }
        let open_now = open_keys(&judged);
        let open: Vec<bool> = s.configs.iter().map(|c| open_now.contains(&c.key)).collect();
        looks.push(Look {
            seeds: counts.clone(),
            open: open.iter().filter(|&&o| o).count(),
            decided,
        });
        match rounds.next_counts(&counts, &open) {
            Some(next) => counts = next,
            None => break false,
        }
    };
    let last = looks.last().map_or(&counts, |l| &l.seeds);
    RoundsTold {
        stem: s.stem(),
        configurations: s.configs.iter().map(|c| c.label.clone()).collect(),
        rounds,
        trained: last.iter().zip(&per_seed).map(|(n, u)| n * u).sum(),
        fixed: per_seed.iter().map(|u| u * rounds.max).sum(),
        looks,
        in_progress,
    }
}

//! Seed rounds (`[seeds] until = "decided"`): every configuration trains `start` seeds; after
//! each round, the configurations that still take part in an undecided comparison get `step`
//! more, up to `max`, until none does. The rounds follow from the finished runs alone, so they
//! come out the same whatever `--jobs`, kills and resumes; each look is taken at α over the
//! looks ([`SeedRounds::alpha_per_look`]), so looking after every round keeps the level.

use crate::config::{RunSpec, SeedRounds};
use anyhow::Result;

/// Where the rounds stand.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rounds {
    /// Seeds per configuration.
    pub counts: Vec<usize>,
    /// Rounds trained (or, when not complete, reached).
    pub rounds: usize,
    /// False when a round's runs are not all finished (a dry run, or runs that failed).
    pub complete: bool,
    /// After the last round, which configurations were still in an undecided comparison.
    pub open: Vec<bool>,
}

impl Rounds {
    /// Runs trained in all, against a fixed study of `max` seeds per configuration.
    pub fn runs(&self) -> usize {
        self.counts.iter().sum()
    }
}

/// The runs of `configs` with these seed counts: configuration c with seeds 0..counts[c].
pub fn specs(configs: &[RunSpec], counts: &[usize]) -> Vec<RunSpec> {
    configs
        .iter()
        .zip(counts)
        .flat_map(|(c, &n)| (0..n as u64).map(move |seed| RunSpec { seed, ..*c }))
        .collect()
}

/// Runs the rounds over `configs`: `train` brings a round's runs to done (it answers false
/// when they are not all done, and the rounds stop there), `open` says which configurations
/// still take part in an undecided comparison once they are.
pub fn drive(
    configs: &[RunSpec],
    rounds: SeedRounds,
    mut train: impl FnMut(usize, &[RunSpec]) -> Result<bool>,
    mut open: impl FnMut(&[RunSpec]) -> Result<Vec<bool>>,
) -> Result<Rounds> {
    let mut counts = vec![rounds.start; configs.len()];
    let mut round = 1;
    loop {
        let specs = specs(configs, &counts);
        if !train(round, &specs)? {
            return Ok(Rounds {
                counts,
                rounds: round,
                complete: false,
                open: vec![true; configs.len()],
            });
        }
        let still = open(&specs)?;
        match rounds.next_counts(&counts, &still) {
            Some(next) => {
                counts = next;
                round += 1;
            }
            None => {
                return Ok(Rounds {
                    counts,
                    rounds: round,
                    complete: true,
                    open: still,
                })
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ROUNDS: SeedRounds = SeedRounds {
        start: 3,
        step: 2,
        max: 8,
    };

    fn configs(n: usize) -> Vec<RunSpec> {
        (0..n)
            .map(|i| RunSpec {
                dropout: i as f64 / 10.0,
                ..RunSpec::default()
            })
            .collect()
    }

    #[test]
    fn seeds_go_only_where_the_doubt_is_and_stop_at_max() {
        // Configuration 0 is decided after the first round; 1 and 2 never are.
        let mut trained = Vec::new();
        let result = drive(
            &configs(3),
            ROUNDS,
            |round, specs| {
                trained.push((round, specs.len()));
                Ok(true)
            },
            |_| Ok(vec![false, true, true]),
        )
        .unwrap();
        assert_eq!(result.counts, vec![3, 8, 8]);
        assert_eq!(result.rounds, 4, "3 → 5 → 7 → 8 seeds");
        assert!(result.rounds <= ROUNDS.looks());
        assert_eq!(trained, vec![(1, 9), (2, 13), (3, 17), (4, 19)]);
        assert_eq!(result.runs(), 19);
        assert!(result.complete);
    }

    #[test]
    fn a_round_that_is_not_done_stops_the_rounds_and_decided_studies_stop_at_once() {
        let stopped = drive(&configs(2), ROUNDS, |round, _| Ok(round < 2), |_| Ok(vec![true, true])).unwrap();
        assert_eq!(
            (stopped.rounds, stopped.complete, stopped.counts),
            (2, false, vec![5, 5])
        );
        let decided = drive(&configs(2), ROUNDS, |_, _| Ok(true), |_| Ok(vec![false, false])).unwrap();
        assert_eq!((decided.rounds, decided.counts), (1, vec![3, 3]));
        // The seeds of a round extend the seeds before it.
        let s = specs(&configs(2), &[2, 3]);
        let seeds: Vec<u64> = s.iter().map(|r| r.seed).collect();
        assert_eq!(seeds, vec![0, 1, 0, 1, 2]);
        assert_eq!(ROUNDS.looks(), 4);
        assert!((ROUNDS.alpha_per_look() - 0.0125).abs() < 1e-12);
    }
}

//! Seeded hyperparameter search: per-field distributions sampled identically every time.

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use std::collections::BTreeMap;
use toml::Value;

use super::distribution::Distribution;
use super::tpe;

/// How samples after the first round are drawn.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Sampler {
    /// Independent seeded draws.
    Random,
    /// Tree-structured Parzen estimator fitted to the earlier rounds' validation results.
    Tpe,
}

/// The validation metric that ranks runs.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Metric {
    /// Highest validation accuracy so far (higher is better).
    ValAcc,
    /// Lowest validation loss so far (lower is better).
    ValLoss,
}

impl Metric {
    /// Its name in files.
    pub fn name(self) -> &'static str {
        match self {
            Metric::ValAcc => "val_acc",
            Metric::ValLoss => "val_loss",
        }
    }
}

/// `[search.early_stopping]`: synchronous successive halving.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct EarlyStopping {
    /// The validation metric that ranks runs at each rung.
    pub metric: Metric,
    /// The first rung's epoch.
    pub min_epochs: usize,
    /// η: rungs at min_epochs·η^k, and the top 1/η of a rung go on.
    pub reduction_factor: usize,
}

/// A validated `[search]` section.
#[derive(Clone, Debug, PartialEq)]
pub struct Search {
    /// How many configurations are drawn.
    pub samples: usize,
    /// Seeds the draws, so a search samples the same every time.
    pub seed: u64,
    /// Each searched setting with its distribution.
    pub fields: Vec<(String, Distribution)>,
    /// How samples after the first round are drawn.
    pub sampler: Sampler,
    /// Synchronous rounds the samples are split into (each one a halving bracket).
    pub rounds: usize,
    /// Synchronous successive halving, when the search stops runs early.
    pub early_stopping: Option<EarlyStopping>,
}

/// The settings of `[search]` other than fields, as `search.KEY` in messages and `--set`.
pub const OPTIONS: [&str; 5] = ["samples", "seed", "sampler", "rounds", "early_stopping"];
/// The keys of `[search.early_stopping]`.
const EARLY_STOPPING_KEYS: &str = "kind, metric, min_epochs, reduction_factor";

impl Search {
    /// An empty search (no fields yet; one round, random, no early stopping).
    pub fn empty() -> Self {
        Self {
            samples: 0,
            seed: 0,
            fields: Vec::new(),
            sampler: Sampler::Random,
            rounds: 1,
            early_stopping: None,
        }
    }

    /// Sets one option from `[search]` or `--set search.KEY=VALUE` (`early_stopping.KEY` for
    /// one setting of the early stopping); the message says what is allowed.
    pub fn set_option(&mut self, key: &str, value: &Value) -> Result<(), String> {
        let integer = |low: i64, high: i64| match value.as_integer() {
            Some(n) if (low..=high).contains(&n) => Ok(n),
            _ => Err(format!(
                "search.{key} must be an integer from {low} to {high}, got {value}"
            )),
        };
        match key {
            "samples" => self.samples = integer(1, 100_000)? as usize,
            "seed" => self.seed = integer(0, i64::MAX)? as u64,
            "rounds" => self.rounds = integer(1, 1000)? as usize,
            "sampler" => {
                self.sampler = match value.as_str() {
                    Some("random") => Sampler::Random,
                    Some("tpe") => Sampler::Tpe,
                    _ => return Err(format!("search.sampler must be \"random\" or \"tpe\", got {value}")),
                }
            }
            "early_stopping" => {
                let table = value
                    .as_table()
                    .ok_or_else(|| format!("search.early_stopping must be a table with {EARLY_STOPPING_KEYS}"))?;
                if !table.contains_key("kind") {
                    return Err("search.early_stopping needs kind = \"successive_halving\"".into());
                }
                for (k, v) in table {
                    self.set_option(&format!("early_stopping.{k}"), v)?;
                }
            }
            _ => {
                let Some(sub) = key.strip_prefix("early_stopping.") else {
                    return Err(format!(
                        "unknown search setting '{key}'; expected {}",
                        OPTIONS.join(", ")
                    ));
                };
                let es = self.early_stopping.get_or_insert(EarlyStopping {
                    metric: Metric::ValAcc,
                    min_epochs: 1,
                    reduction_factor: 3,
                });
                match sub {
                    "kind" if value.as_str() == Some("successive_halving") => {}
                    "kind" => {
                        return Err(format!(
                            "search.early_stopping.kind must be \"successive_halving\", got {value}"
                        ))
                    }
                    "metric" => {
                        es.metric = match value.as_str() {
                            Some("val_acc") => Metric::ValAcc,
                            Some("val_loss") => Metric::ValLoss,
                            _ => {
                                return Err(format!(
                                    "search.early_stopping.metric must be \"val_acc\" or \"val_loss\" (a validation metric: selecting on test data leaks), got {value}"
                                ))
                            }
                        }
                    }
                    "min_epochs" => es.min_epochs = integer(1, crate::config::MAX_EPOCHS as i64)? as usize,
                    "reduction_factor" => es.reduction_factor = integer(2, 100)? as usize,
                    _ => {
                        return Err(format!(
                            "unknown key search.{key}; [search.early_stopping] takes {EARLY_STOPPING_KEYS}"
                        ))
                    }
                }
            }
        }
        Ok(())
    }

    /// Checks the settings together (after the file and every `--set`).
    pub fn check(&self) -> Result<(), String> {
        if self.samples < self.rounds {
            return Err(format!(
                "search.rounds = {} needs at least as many samples, got samples = {}",
                self.rounds, self.samples
            ));
        }
        if self.sampler == Sampler::Tpe && self.rounds < 2 {
            return Err("search.sampler = \"tpe\" needs rounds ≥ 2: the first round is drawn at random, later rounds learn from the earlier ones".into());
        }
        Ok(())
    }

    /// True when runs are chosen or stopped by their validation results.
    pub fn selects(&self) -> bool {
        self.sampler == Sampler::Tpe || self.early_stopping.is_some()
    }

    /// How many samples each round has (the first rounds take the remainder).
    pub fn round_sizes(&self) -> Vec<usize> {
        let (each, extra) = (self.samples / self.rounds, self.samples % self.rounds);
        (0..self.rounds).map(|r| each + usize::from(r < extra)).collect()
    }

    /// `samples` draws of every field, from `seed`: the same file always gives the same runs.
    pub fn draw(&self) -> Vec<BTreeMap<String, Value>> {
        let mut rng = ChaCha8Rng::seed_from_u64(self.seed);
        (0..self.samples)
            .map(|_| {
                self.fields
                    .iter()
                    .map(|(k, d)| (k.clone(), d.sample(&mut rng)))
                    .collect()
            })
            .collect()
    }

    /// The samples of round `round`. Random: that round's slice of [`Search::draw`]. TPE:
    /// the first round as random; later ones fitted to `ranked`, the earlier rounds'
    /// samples best first, with a generator seeded by (seed, round) — so a round depends
    /// only on the file and the earlier rounds' results.
    pub fn draw_round(&self, round: usize, ranked: &[BTreeMap<String, Value>]) -> Vec<BTreeMap<String, Value>> {
        let sizes = self.round_sizes();
        let start: usize = sizes[..round].iter().sum();
        if self.sampler == Sampler::Random || round == 0 {
            return self.draw().into_iter().skip(start).take(sizes[round]).collect();
        }
        let mut rng = ChaCha8Rng::seed_from_u64(self.seed);
        rng.set_stream(round as u64);
        (0..sizes[round])
            .map(|_| {
                self.fields
                    .iter()
                    .map(|(k, d)| {
                        let seen: Vec<&Value> = ranked.iter().filter_map(|s| s.get(k)).collect();
                        (k.clone(), tpe::suggest(d, &seen, &mut rng))
                    })
                    .collect()
            })
            .collect()
    }
}

//! The findings as data: a study's configurations and comparisons, and what `findings.json`
//! holds of them.

use crate::config::ModelKind;
use crate::report::stats::{Comparison, Verdict};
use crate::results::At;
use crate::store::read::Run;
use serde::Serialize;
use std::collections::BTreeMap;

/// One configuration of a study: its label (the settings that vary, seed aside), its key
/// ([`crate::store::RunRecord::configuration`]) and its finished runs by seed.
pub struct Config<'a> {
    /// Its varying settings, e.g. "relu" or "dropout 0.5".
    pub label: String,
    /// Its identity ([`crate::store::RunRecord::configuration`]).
    pub key: String,
    /// Its finished run per seed and unit: the subject or fold of a per-subject protocol's
    /// run (see [`unit_of`]), empty for a pooled run.
    pub by_seed: BTreeMap<(u64, String), &'a Run>,
}

/// Above this many configurations a study is large: its text and page show the top
/// configurations and the counts of verdicts instead of every pair and every name (the
/// pairs stay in `findings.json` and `comparisons.csv`).
pub const LARGE_STUDY: usize = 20;

/// The unit of a run as [`Config::by_seed`] keys it: its subject or fold, or "" (pooled).
pub fn unit_of(run: &Run) -> String {
    run.record.unit.as_ref().map_or_else(String::new, |u| u.label())
}

/// How a study's configurations came to be.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// A grid: every configuration was chosen before training.
    Designed,
    /// A search: configurations were sampled and promoted by validation accuracy.
    Search,
}

/// The finished runs of one model in one experiment on one data set, grouped into
/// configurations (runs on different data never share test trials, so never pair).
pub struct Study<'a> {
    /// Where its folder holds several studies (declarations): which one this is.
    pub part: Option<Part>,
    /// How its declaration adds seeds, where it does so in rounds.
    pub seed_rounds: Option<crate::config::SeedRounds>,
    /// The experiment's name.
    pub experiment: String,
    /// The network.
    pub model: ModelKind,
    /// The data's fingerprint.
    pub data: String,
    /// Which settings vary between configurations (e.g. `["activation"]`).
    pub varying: Vec<&'static str>,
    /// The configurations, in the study's order.
    pub configs: Vec<Config<'a>>,
    /// Which epoch's test predictions the comparisons use.
    pub at: At,
    /// True when the comparisons are of balanced accuracy (`[findings] metric`).
    pub balanced: bool,
    /// The compared pairs (i, j) with their comparison of i against j.
    pub comparisons: Vec<(usize, usize, Comparison)>,
    /// Everything the study says, as data.
    pub findings: StudyFindings,
}

/// Which of its folder's studies a study is, for headers, anchors and file names only (its
/// findings read the same whatever else shares the folder).
#[derive(Clone, Debug)]
pub struct Part {
    /// Short, for anchors and file names: "d2".
    pub tag: String,
    /// In words: its number, command line and time.
    pub description: String,
}

impl Study<'_> {
    /// "experiment-model", with the part's tag where the folder holds several studies: a
    /// study's anchor and file stem.
    pub fn stem(&self) -> String {
        match &self.part {
            Some(p) => format!("{}-{}-{}", self.experiment, self.model, p.tag),
            None => format!("{}-{}", self.experiment, self.model),
        }
    }

    /// What its comparisons are and how they are corrected: "final-epoch test accuracy; Holm
    /// over 3 (every pair …); equivalence margin ±1 points".
    pub fn family_text(&self) -> String {
        let f = &self.findings;
        format!(
            "{}; Holm over {} ({}); equivalence margin ±{} points",
            f.accuracy, f.family_size, f.family, f.rope_points
        )
    }

    /// The part's description as a header's suffix (" — study 2 of 3: …"), or "".
    pub fn part_suffix(&self) -> String {
        self.part
            .as_ref()
            .map_or_else(String::new, |p| format!(" — {}", p.description))
    }
}

impl StudyFindings {
    /// The `n` configurations with the highest mean, best first.
    pub fn top(&self, n: usize) -> Vec<&ConfigFindings> {
        let mut ranked: Vec<&ConfigFindings> = self
            .configurations
            .iter()
            .filter(|c| c.mean_accuracy.is_some())
            .collect();
        ranked.sort_by(|a, b| {
            b.mean_accuracy
                .partial_cmp(&a.mean_accuracy)
                .unwrap_or(std::cmp::Ordering::Equal)
        });
        ranked.truncate(n);
        ranked
    }
}

/// A study's findings, as written to `findings.json`.
#[derive(Clone, Debug, Serialize)]
pub struct StudyFindings {
    /// The experiment's name.
    pub experiment: String,
    /// The network.
    pub model: String,
    /// The data's fingerprint.
    pub data_fingerprint: String,
    /// A designed study or a search.
    pub kind: Kind,
    /// Which accuracy the comparisons use.
    pub accuracy: &'static str,
    /// Which settings vary between configurations.
    pub varying: Vec<&'static str>,
    /// Margin of practical equivalence, in points.
    pub rope_points: f64,
    /// What population the claims are about, in one sentence.
    pub target: String,
    /// How the family of comparisons was defined, and its size.
    pub family: String,
    /// How many comparisons the family holds (Holm's m).
    pub family_size: usize,
    /// Each configuration with its seeds and mean accuracy.
    pub configurations: Vec<ConfigFindings>,
    /// A search's chosen configuration (by validation accuracy).
    pub chosen: Option<String>,
    /// One sentence: the study's headline.
    pub headline: String,
    /// Every compared pair.
    pub comparisons: Vec<ComparisonFindings>,
    /// The lab report's claims (designed studies only).
    pub claims: Vec<Claim>,
    /// What was trained and how it was judged, in one paragraph for a paper's methods.
    pub methods: String,
    /// Which of its folder's studies this is, where the folder holds several.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub part: Option<String>,
    /// A grid's main effects, interactions and best with its ties (designed studies that
    /// vary two or more settings, or hold more than [`LARGE_STUDY`] configurations).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub factorial: Option<Factorial>,
}

/// A grid's factorial findings ([`crate::report::grid`]).
#[derive(Clone, Debug, Serialize)]
pub struct Factorial {
    /// The rule, its family and its assumptions, in one paragraph.
    pub method: String,
    /// Seeds every configuration shares (units, each its seeds' mean, where models are per
    /// subject or fold).
    pub blocks: usize,
    /// The residual's degrees of freedom ((configurations − 1)(blocks − 1)); 0 without one.
    pub residual_df: f64,
    /// How many contrasts Holm corrects together: every main-effect and interaction contrast.
    pub family_size: usize,
    /// One per varied setting.
    pub main_effects: Vec<MainEffect>,
    /// One per pair of varied settings the grid crosses.
    pub interactions: Vec<Interaction>,
    /// The best configuration and those not shown worse than it.
    pub best: Option<BestAndTies>,
}

/// A setting's marginal means and the verdicts on its adjacent levels.
#[derive(Clone, Debug, Serialize)]
pub struct MainEffect {
    /// The setting, e.g. "lr".
    pub setting: &'static str,
    /// Its levels in order, each with its mean over the other settings and seeds.
    pub levels: Vec<LevelMean>,
    /// Each adjacent pair of levels, lower against higher.
    pub contrasts: Vec<ComparisonFindings>,
}

/// One level's marginal mean.
#[derive(Clone, Debug, Serialize)]
pub struct LevelMean {
    /// The level as labels show it.
    pub level: String,
    /// Configurations averaged.
    pub configurations: usize,
    /// Mean accuracy in percent.
    pub mean: f64,
    /// Its interval in percent, from the residual (none without one).
    pub interval: Option<(f64, f64)>,
}

/// Two settings' two-way means and their interaction contrasts.
#[derive(Clone, Debug, Serialize)]
pub struct Interaction {
    /// The two settings: rows, then columns.
    pub settings: [&'static str; 2],
    /// The first setting's levels.
    pub rows: Vec<String>,
    /// The second setting's levels.
    pub columns: Vec<String>,
    /// Mean accuracy in percent per (row, column), none where the grid has no such cell.
    pub means: Vec<Vec<Option<f64>>>,
    /// For each adjacent pair of rows and of columns: how much more the column change
    /// gains at the higher row than at the lower.
    pub contrasts: Vec<ComparisonFindings>,
}

/// The best configuration and its ties (multiple comparisons with the best).
#[derive(Clone, Debug, Serialize)]
pub struct BestAndTies {
    /// "validation accuracy", or the study's test accuracy where runs hold no validation.
    pub chosen_on: String,
    /// The best configuration's label.
    pub best: String,
    /// Every configuration not shown worse than the best, the best first, by estimate.
    pub ties: Vec<Ranked>,
    /// How many configurations were ranked.
    pub ranked: usize,
    /// The finding in one sentence.
    pub sentence: String,
}

/// A configuration with its estimates in percent.
#[derive(Clone, Debug, Serialize)]
pub struct Ranked {
    /// Its label.
    pub label: String,
    /// Mean test accuracy (the study's accuracy).
    pub test: f64,
    /// Mean best validation accuracy, where runs validate.
    pub validation: Option<f64>,
}

/// One configuration in `findings.json`.
#[derive(Clone, Debug, Serialize)]
pub struct ConfigFindings {
    /// Its varying settings.
    pub label: String,
    /// The seeds it has finished.
    pub seeds: Vec<u64>,
    /// Mean accuracy over seeds, in percent.
    pub mean_accuracy: Option<f64>,
    /// Its run ids.
    pub runs: Vec<String>,
}

/// One comparison in `findings.json`: the statistics and the verdict in words.
#[derive(Clone, Debug, Serialize)]
pub struct ComparisonFindings {
    /// The first configuration's label.
    pub a: String,
    /// The second configuration's label.
    pub b: String,
    /// A better, B better, equivalent or undecided.
    pub verdict: Verdict,
    /// The verdict in one sentence.
    pub sentence: String,
    /// Seeds that would detect ±rope with 80% power, or why no count can.
    pub seeds_needed: Result<usize, String>,
    /// The test's numbers.
    pub statistics: Comparison,
}

impl ComparisonFindings {
    /// The verdict as a table cell says it ([`verdict_word`]).
    pub fn verdict_word(&self) -> String {
        verdict_word(self.verdict, &self.a, &self.b)
    }
}

/// A verdict between `a` and `b` as a table cell says it: "A better", "B better",
/// "equivalent" or "undecided".
pub fn verdict_word(verdict: Verdict, a: &str, b: &str) -> String {
    match verdict {
        Verdict::ABetter => format!("{a} better"),
        Verdict::BBetter => format!("{b} better"),
        Verdict::Equivalent => "equivalent".into(),
        Verdict::Undecided => "undecided".into(),
    }
}

/// What a lab-report claim comes to here.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ClaimVerdict {
    /// The data support the claim.
    Supported,
    /// The data support its opposite (or equality where it claims a difference).
    Contradicted,
    /// The data decide neither.
    Undecided,
}

/// A lab-report claim with its verdict and the evidence in one sentence.
#[derive(Clone, Debug, Serialize)]
pub struct Claim {
    /// The lab report's claim.
    pub claim: String,
    /// What the data say about it.
    pub verdict: ClaimVerdict,
    /// The verdict in one sentence, with the evidence.
    pub sentence: String,
}

/// The comparison of configurations `a` and `b` of a study, oriented as a − b.
pub(super) fn oriented(s: &Study, a: usize, b: usize) -> Option<Comparison> {
    s.comparisons
        .iter()
        .find_map(|(i, j, c)| match (*i == a && *j == b, *i == b && *j == a) {
            (true, _) => Some(c.clone()),
            (_, true) => Some(Comparison {
                difference: -c.difference,
                interval: c.interval.map(|(low, high)| (-high, -low)),
                ..c.clone()
            }),
            _ => None,
        })
}

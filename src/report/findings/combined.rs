//! Studies over several data sets (`data = [..]`: one study per data set, named
//! `NAME@DATA`): each data set keeps its own verdicts, and each pair of configurations
//! compared on every data set gets a combined one, by Stouffer's weighted Z. Trials of
//! different data sets are never pooled as if they were one test set.
//!
//! Why Stouffer and not a random-effects meta-analysis of the differences: the data sets
//! differ in channels, classes and chance level, so their accuracy differences are not on
//! one scale; the z of each data set's own test is (MOABB combines data sets the same way).
//! Each z is weighted by √(units): the subjects (or test trials) its test rests on. The
//! combined claim is a direction, "better across these data sets"; equality is not combined
//! (each data set's own equivalence verdict says it).

use super::model::{oriented, Study};
use super::sentences::p_text;
use crate::report::stats::{self, Comparison};
use serde::Serialize;
use std::collections::BTreeMap;
use std::fmt::Write;

/// One pair of configurations across the data sets of one experiment and model.
#[derive(Clone, Debug, Serialize)]
pub struct CombinedFinding {
    /// The experiment's name (without `@DATA`).
    pub experiment: String,
    /// The network.
    pub model: String,
    /// The first configuration's label.
    pub a: String,
    /// The second configuration's label.
    pub b: String,
    /// Each data set's name, difference A − B (points) and two-sided p-value.
    pub per_data_set: Vec<(String, f64, f64)>,
    /// Stouffer's weighted Z (positive: A better).
    pub z: f64,
    /// Its two-sided p-value.
    pub p: f64,
    /// `p` after Holm over the experiment and model's combined pairs.
    pub p_adjusted: f64,
    /// "a_better", "b_better" or "undecided".
    pub verdict: &'static str,
}

/// The combined findings of every experiment that spans several data sets.
pub fn combined(studies: &[Study]) -> Vec<CombinedFinding> {
    let mut groups: BTreeMap<(String, String), Vec<(String, &Study)>> = BTreeMap::new();
    for s in studies {
        if let Some((experiment, data)) = s.experiment.split_once('@') {
            groups
                .entry((experiment.to_string(), s.model.to_string()))
                .or_default()
                .push((data.to_string(), s));
        }
    }
    let mut out = Vec::new();
    for ((experiment, model), of) in groups.into_iter().filter(|(_, of)| of.len() > 1) {
        let mut labels: Vec<&str> = of[0].1.configs.iter().map(|c| c.label.as_str()).collect();
        labels.retain(|l| of.iter().all(|(_, s)| s.configs.iter().any(|c| c.label == *l)));
        let mut found = Vec::new();
        for (i, a) in labels.iter().enumerate() {
            for b in &labels[i + 1..] {
                let each: Option<Vec<(String, Comparison)>> = of
                    .iter()
                    .map(|(data, s)| {
                        let index = |l: &str| s.configs.iter().position(|c| c.label == l);
                        let c = oriented(s, index(a)?, index(b)?)?;
                        c.se.is_some().then(|| (data.clone(), c))
                    })
                    .collect();
                let Some(each) = each else { continue };
                let tests: Vec<(f64, f64, f64)> = each
                    .iter()
                    .map(|(_, c)| (c.difference, c.p, (c.clusters as f64).sqrt()))
                    .collect();
                let (z, p) = stats::stouffer(&tests);
                found.push(CombinedFinding {
                    experiment: experiment.clone(),
                    model: model.clone(),
                    a: a.to_string(),
                    b: b.to_string(),
                    per_data_set: each
                        .iter()
                        .map(|(d, c)| (d.clone(), 100.0 * c.difference, c.p))
                        .collect(),
                    z,
                    p,
                    p_adjusted: p,
                    verdict: "undecided",
                });
            }
        }
        let adjusted = stats::holm_adjust(&found.iter().map(|f| f.p).collect::<Vec<_>>());
        for (f, p) in found.iter_mut().zip(adjusted) {
            f.p_adjusted = p;
            f.verdict = match (p < stats::ALPHA, f.z > 0.0) {
                (true, true) => "a_better",
                (true, false) => "b_better",
                _ => "undecided",
            };
        }
        out.extend(found);
    }
    out
}

/// The combined findings as text: one heading per experiment and model, a line per pair.
pub fn combined_text(studies: &[Study]) -> String {
    let mut out = String::new();
    let mut last = (String::new(), String::new());
    for f in combined(studies) {
        if (f.experiment.as_str(), f.model.as_str()) != (last.0.as_str(), last.1.as_str()) {
            let _ = writeln!(
                out,
                "{} {} across {} data sets — Stouffer's weighted Z of each data set's two-sided test (weights √ subjects or test trials), Holm over the pairs; trials of different data sets are never pooled; equality is not combined:",
                f.experiment,
                f.model,
                f.per_data_set.len()
            );
            last = (f.experiment.clone(), f.model.clone());
        }
        let verdict = match f.verdict {
            "a_better" => format!("{} > {}", f.a, f.b),
            "b_better" => format!("{} > {}", f.b, f.a),
            _ => format!("{} vs {}: undecided", f.a, f.b),
        };
        let each: Vec<String> = f
            .per_data_set
            .iter()
            .map(|(d, diff, p)| format!("{d} {diff:+.2} points, p {}", p_text(*p)))
            .collect();
        let _ = writeln!(
            out,
            "  {verdict} (Z {:+.2}, p {}, Holm {}; {})",
            f.z,
            p_text(f.p),
            p_text(f.p_adjusted),
            each.join("; ")
        );
    }
    out
}

//! `findings.json`.

use super::combined::combined;
use super::model::{Study, StudyFindings};
use crate::report::stats;

/// `findings.json`: every study's findings, each with its one-sentence target, and, for
/// studies over several data sets, the combined verdicts.
pub fn to_json(studies: &[Study]) -> serde_json::Result<Vec<u8>> {
    let records: Vec<&StudyFindings> = studies.iter().map(|s| &s.findings).collect();
    let mut json = serde_json::json!({
        "alpha": stats::ALPHA,
        "studies": records,
    });
    let combined = combined(studies);
    if !combined.is_empty() {
        json["combined"] = serde_json::to_value(&combined)?;
    }
    serde_json::to_vec_pretty(&json)
}

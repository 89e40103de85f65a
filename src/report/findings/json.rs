//! `findings.json`.

use super::model::{Study, StudyFindings};
use crate::report::stats;

/// `findings.json`: every study's findings, each with its one-sentence target.
pub fn to_json(studies: &[Study]) -> serde_json::Result<Vec<u8>> {
    let records: Vec<&StudyFindings> = studies.iter().map(|s| &s.findings).collect();
    serde_json::to_vec_pretty(&serde_json::json!({
        "alpha": stats::ALPHA,
        "studies": records,
    }))
}

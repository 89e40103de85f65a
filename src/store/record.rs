//! A run's identity, as its folder's `config.json` holds it: the experiment, the resolved
//! spec and the data; the run's id and its configuration (every setting but the seed).

use crate::config::RunSpec;
use crate::data::units::Unit;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// What a run folder's `config.json` holds: everything that identifies the run.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RunRecord {
    /// The experiment's name.
    pub experiment: String,
    /// The resolved settings.
    pub config: RunSpec,
    /// The data's description.
    pub data: String,
    /// The data's fingerprint.
    pub data_fingerprint: String,
    /// The data's sampling rate in Hz, where its files state one (not part of the id).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data_sfreq: Option<f64>,
    /// The subject or fold of a per-subject protocol's run (part of the id; absent: pooled).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unit: Option<Unit>,
    /// The id of a record read in eegrun 0.1's form (see `legacy`).
    #[serde(skip)]
    pub(super) legacy_id: Option<String>,
}

impl RunRecord {
    /// The record of a run of `config` on the data with this description and fingerprint.
    pub fn new(experiment: &str, config: RunSpec, data: &str, data_fingerprint: &str) -> Self {
        Self {
            experiment: experiment.into(),
            config,
            data: data.into(),
            data_fingerprint: data_fingerprint.into(),
            data_sfreq: None,
            unit: None,
            legacy_id: None,
        }
    }

    /// A stable id: the first 12 hex digits of SHA-256 over the resolved spec and the data
    /// fingerprint (for a record written by eegrun 0.1, the id it had then).
    pub fn id(&self) -> String {
        if let Some(id) = &self.legacy_id {
            return id.clone();
        }
        let identity = match &self.unit {
            None => serde_json::json!({"config": self.config, "data_fingerprint": self.data_fingerprint}),
            Some(unit) => {
                serde_json::json!({"config": self.config, "data_fingerprint": self.data_fingerprint, "unit": unit})
            }
        };
        short_hash(identity.to_string().as_bytes())
    }

    /// Which runs are one configuration: every training setting but the seed, and the
    /// data's fingerprint (the one definition findings, tables and the gate share).
    pub fn configuration(&self) -> String {
        configuration_key(&self.config, &self.data_fingerprint)
    }

    /// True when both records describe the same run (whatever form each was read in).
    pub fn same_run(&self, other: &RunRecord) -> bool {
        (&self.experiment, &self.config, &self.data_fingerprint, &self.unit)
            == (&other.experiment, &other.config, &other.data_fingerprint, &other.unit)
    }
}

/// The configuration of `spec` on the data with this fingerprint (see
/// [`RunRecord::configuration`]).
pub fn configuration_key(spec: &RunSpec, data_fingerprint: &str) -> String {
    let spec = RunSpec { seed: 0, ..*spec };
    serde_json::json!({"config": spec, "data_fingerprint": data_fingerprint}).to_string()
}

/// The first 12 hex digits of SHA-256.
pub(super) fn short_hash(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .take(6)
        .map(|b| format!("{b:02x}"))
        .collect()
}

//! Run folders written by eegrun 0.1, read as they are: its config.json held every setting
//! as a string or an f32 (`"dropout": null` for the model's default, a `leaky_slope` for
//! every activation), and a run's id hashed that form with the f32s widened to f64. Those
//! folders keep their ids; a new run finds the folder an old one had.

use super::record::{short_hash, RunRecord};
use crate::config::{Activation, DEFAULT_LEAKY_SLOPE};
use serde::{Deserialize, Serialize};

/// eegrun 0.1's `TrainConfig`, field for field.
#[derive(Serialize, Deserialize)]
struct LegacyConfig {
    model: String,
    activation: String,
    leaky_slope: f32,
    dropout: Option<f32>,
    epochs: usize,
    batch_size: usize,
    optimizer: String,
    lr: f32,
    beta1: f32,
    beta2: f32,
    eps: f32,
    weight_decay: f32,
    seed: u64,
    val_fraction: f32,
    device: String,
}

/// The id eegrun 0.1 gave this configuration.
fn hash(config: &LegacyConfig, data_fingerprint: &str) -> String {
    let identity = serde_json::json!({"config": config, "data_fingerprint": data_fingerprint});
    short_hash(identity.to_string().as_bytes())
}

/// The ids eegrun 0.1 may have given `record`'s run: its dropout left to the model's
/// default, or written out.
pub(super) fn ids(record: &RunRecord) -> Vec<String> {
    let c = &record.config;
    let leaky_slope = match c.activation {
        Activation::LeakyRelu { slope } => slope,
        _ => DEFAULT_LEAKY_SLOPE,
    } as f32;
    let mut dropouts = vec![Some(c.dropout as f32)];
    if c.dropout == c.model.default_dropout() {
        dropouts.insert(0, None);
    }
    dropouts
        .into_iter()
        .map(|dropout| {
            let legacy = LegacyConfig {
                model: c.model.to_string(),
                activation: c.activation.to_string(),
                leaky_slope,
                dropout,
                epochs: c.epochs,
                batch_size: c.batch_size,
                optimizer: c.optimizer.to_string(),
                lr: c.lr as f32,
                beta1: c.beta1 as f32,
                beta2: c.beta2 as f32,
                eps: c.eps as f32,
                weight_decay: c.weight_decay as f32,
                seed: c.seed,
                val_fraction: c.val_fraction as f32,
                device: c.device.to_string(),
            };
            hash(&legacy, &record.data_fingerprint)
        })
        .collect()
}

/// For a config.json in eegrun 0.1's form (a `null` dropout, or a `leaky_slope` beside
/// another activation), the id it was given then.
pub(super) fn id_of(raw: &serde_json::Value) -> Option<String> {
    let config = &raw["config"];
    let legacy_form =
        config["dropout"].is_null() || (config.get("leaky_slope").is_some() && config["activation"] != "leaky_relu");
    if !legacy_form {
        return None;
    }
    let legacy: LegacyConfig = serde_json::from_value(config.clone()).ok()?;
    Some(hash(&legacy, raw["data_fingerprint"].as_str()?))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{ModelKind, RunFields};

    #[test]
    fn a_folder_of_eegrun_0_1_keeps_its_id_and_is_found_again() {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fixtures/runs/act/62ab8b7cc08a/config.json"
        );
        let raw: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        // The id eegrun 0.1 gave it (tests/golden/summary_runs.csv).
        assert_eq!(id_of(&raw).as_deref(), Some("62ab8b7cc08a"));
        let spec = RunFields {
            model: Some(ModelKind::EegNet),
            epochs: Some(3),
            ..RunFields::default()
        }
        .resolve()
        .unwrap();
        let record = RunRecord::new("act", spec, "fixture", "0123456789abcdef");
        assert!(ids(&record).contains(&"62ab8b7cc08a".to_string()));
        assert_ne!(record.id(), "62ab8b7cc08a", "new runs hash the resolved spec");
        let mut current = raw.clone();
        current["config"] = serde_json::to_value(spec).unwrap();
        assert_eq!(id_of(&current), None);
    }
}

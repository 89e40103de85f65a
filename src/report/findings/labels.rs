//! The settings a study varies and the labels its configurations get from them.

use crate::store::read::Run;
use std::collections::{BTreeMap, BTreeSet};

/// How a run shows one of its settings.
type Show = fn(&Run) -> String;

/// Every setting but the model and the seed, with how a run shows it (labels only: which
/// runs are one configuration is [`crate::store::RunRecord::configuration`]).
const SETTINGS: [(&str, Show); 24] = [
    ("activation", |r| r.record.config.activation.to_string()),
    ("leaky_slope", |r| match r.record.config.activation {
        crate::config::Activation::LeakyRelu { slope } => slope.to_string(),
        _ => "-".into(),
    }),
    ("dropout", |r| r.record.config.dropout.to_string()),
    ("batch_size", |r| r.record.config.batch_size.to_string()),
    ("lr", |r| r.record.config.lr.to_string()),
    ("weight_decay", |r| r.record.config.weight_decay.to_string()),
    ("epochs", |r| r.record.config.epochs.to_string()),
    ("beta1", |r| r.record.config.beta1.to_string()),
    ("beta2", |r| r.record.config.beta2.to_string()),
    ("eps", |r| r.record.config.eps.to_string()),
    ("val_fraction", |r| r.record.config.val_fraction.to_string()),
    ("device", |r| r.record.config.device.to_string()),
    ("protocol", |r| r.record.config.protocol.to_string()),
    ("folds", |r| r.record.config.folds.to_string()),
    ("eegnet.f1", |r| r.record.config.eegnet.f1.to_string()),
    ("eegnet.d", |r| r.record.config.eegnet.d.to_string()),
    ("eegnet.f2", |r| r.record.config.eegnet.f2.to_string()),
    ("eegnet.kernel", |r| r.record.config.eegnet.kernel.to_string()),
    ("eegnet.separable_kernel", |r| {
        r.record.config.eegnet.separable_kernel.to_string()
    }),
    ("eegnet.pool1", |r| r.record.config.eegnet.pool1.to_string()),
    ("eegnet.pool2", |r| r.record.config.eegnet.pool2.to_string()),
    ("deepconvnet.filters", |r| {
        format!("{:?}", r.record.config.deepconvnet.filters).replace(' ', "")
    }),
    ("deepconvnet.kernel", |r| r.record.config.deepconvnet.kernel.to_string()),
    ("deepconvnet.pool", |r| r.record.config.deepconvnet.pool.to_string()),
];

/// How many different slopes the group's leaky_relu runs have.
fn leaky_slopes(group: &[&Run]) -> usize {
    group
        .iter()
        .filter_map(|r| match r.record.config.activation {
            crate::config::Activation::LeakyRelu { slope } => Some(slope.to_string()),
            _ => None,
        })
        .collect::<BTreeSet<_>>()
        .len()
}

/// The settings (of [`SETTINGS`]) whose values differ between the runs of `group`.
pub fn varying(group: &[&Run]) -> Vec<&'static str> {
    SETTINGS
        .iter()
        .filter(|(_, show)| group.iter().any(|r| show(r) != show(group[0])))
        .map(|(name, _)| *name)
        // A slope that only tells leaky_relu from the others is the activation's.
        .filter(|name| *name != "leaky_slope" || leaky_slopes(group) > 1)
        .collect()
}

/// The value of one of [`SETTINGS`] for `run`, as shown in labels.
pub fn setting(run: &Run, name: &str) -> String {
    SETTINGS
        .iter()
        .find(|(n, _)| *n == name)
        .map_or_else(String::new, |(_, show)| show(run))
}

/// `value` with `digits` significant digits and no trailing zeros ("0.000123", "0.5", "64");
/// below 1e-12 in size (binary noise around zero, as on an axis's ticks) it is "0".
pub fn significant(value: f64, digits: i32) -> String {
    if value.abs() < 1e-12 {
        return "0".into();
    }
    if !value.is_finite() {
        return value.to_string();
    }
    // Beyond a million or below 1e-4, powers of ten read better than rows of zeros
    // ("1e30", "1.23e-5").
    if !(1e-4..1e6).contains(&value.abs()) {
        let text = format!("{:.*e}", (digits - 1).max(0) as usize, value);
        let (mantissa, exponent) = text.split_once('e').unwrap_or((&text, "0"));
        let mantissa = match mantissa.contains('.') {
            true => mantissa.trim_end_matches('0').trim_end_matches('.'),
            false => mantissa,
        };
        return format!("{mantissa}e{exponent}");
    }
    let decimals = (digits - 1 - value.abs().log10().floor() as i32).max(0) as usize;
    let text = format!("{value:.decimals$}");
    match text.contains('.') {
        true => text.trim_end_matches('0').trim_end_matches('.').to_string(),
        false => text,
    }
}

/// The label of `run` among `group`: its values of the `varying` settings, activation
/// first, numbers with `digits` significant digits.
fn label_of(run: &Run, varying: &[&str], digits: i32) -> String {
    let parts: Vec<String> = SETTINGS
        .iter()
        .filter(|(name, _)| varying.contains(name))
        .map(|(name, show)| {
            let value = show(run);
            let value = value.parse::<f64>().map_or(value, |v| significant(v, digits));
            match *name {
                "activation" => value,
                _ => format!("{name} {value}"),
            }
        })
        .collect();
    if parts.is_empty() {
        run.record.config.activation.to_string()
    } else {
        parts.join(", ")
    }
}

/// A label per run of `group` ([`label_of`] over the settings that vary in it): three
/// significant digits, more where two configurations would otherwise read alike.
pub fn labels(group: &[&Run]) -> Vec<String> {
    let varying = varying(group);
    let configurations: Vec<String> = group.iter().map(|r| r.record.configuration()).collect();
    let mut digits = 3;
    loop {
        let labels: Vec<String> = group.iter().map(|r| label_of(r, &varying, digits)).collect();
        let mut seen: BTreeMap<&str, &str> = BTreeMap::new();
        let distinct = labels
            .iter()
            .zip(&configurations)
            .all(|(l, c)| *seen.entry(l.as_str()).or_insert(c.as_str()) == c.as_str());
        if distinct || digits >= 17 {
            return labels;
        }
        digits += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_get_three_significant_digits() {
        assert_eq!(significant(0.366_123_456_789_012_3, 3), "0.366");
        assert_eq!(significant(0.000_123_456, 3), "0.000123");
        assert_eq!(significant(0.5, 3), "0.5");
        assert_eq!(significant(64.0, 3), "64");
        assert_eq!(significant(1234.6, 3), "1235");
        assert_eq!(significant(-2.5, 3), "-2.5");
        assert_eq!(significant(-2.220_446e-16, 3), "0");
        assert_eq!(significant(0.366_123, 5), "0.36612");
        // Huge and tiny values in powers of ten, not 31 digits or rows of zeros.
        assert_eq!(significant(1e30, 3), "1e30");
        assert_eq!(significant(-2.5e7, 3), "-2.5e7");
        assert_eq!(significant(0.000_012_345, 3), "1.23e-5");
        assert_eq!(significant(1e-8, 3), "1e-8");
    }
}

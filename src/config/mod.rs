//! The run specification: every setting of one training run, typed and resolved.
//!
//! Rules: settings arrive as [`RunFields`] (each optional, as written in TOML, `--set`,
//! a command line or config.json) and become a [`RunSpec`] only through
//! [`RunFields::resolve`], which fills every default (the model's dropout included) and
//! checks every range once. Everything downstream — the run id, config.json, `--dry-run`,
//! the scheduler, the trainer and the report — reads the resolved spec and checks nothing
//! again. Hyperparameters are kept as the f64 the user wrote (0.001, not 0.0010000000474974513);
//! the engine narrows them to f32 where it computes.

mod architecture;

use architecture::check;
pub use architecture::{DeepConvNetArch, DeepConvNetFields, EegNetArch, EegNetFields};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// Significance level of every finding (divided over the looks of a study that adds seeds
/// in rounds).
pub const ALPHA: f64 = 0.05;

/// `[seeds] until = "decided"`: train `start` seeds per configuration, then add `step` seeds
/// to the configurations still in an undecided comparison, up to `max`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SeedRounds {
    /// Seeds every configuration trains first (at least 2).
    pub start: usize,
    /// Seeds added per round to the configurations still undecided.
    pub step: usize,
    /// The most seeds a configuration gets.
    pub max: usize,
}

impl SeedRounds {
    /// The most decisions a study can take: one after each round.
    pub fn looks(&self) -> usize {
        1 + (self.max - self.start).div_ceil(self.step)
    }

    /// The level of each look: α over the looks (Bonferroni), so that looking after every
    /// round keeps the study's error rate at α.
    pub fn alpha_per_look(&self) -> f64 {
        ALPHA / self.looks() as f64
    }

    /// The next round's seed counts: `step` more for each open configuration, at most
    /// `max`; `None` when no count grows (the rounds end).
    pub fn next_counts(&self, counts: &[usize], open: &[bool]) -> Option<Vec<usize>> {
        let next: Vec<usize> = counts
            .iter()
            .zip(open)
            .map(|(&n, &o)| if o { (n + self.step).min(self.max) } else { n })
            .collect();
        (next != counts).then_some(next)
    }
}

/// Default margin of practical equivalence of findings: 1 accuracy point, as a fraction
/// (an experiment's `[findings] rope`).
pub const DEFAULT_ROPE: f64 = 0.01;

/// An enum of named choices: `FromStr` with a message listing the choices, `Display`, and
/// serde as the name.
macro_rules! named_enum {
    ($(#[$doc:meta])* $name:ident, $what:literal, { $($(#[$vdoc:meta])* $variant:ident = $text:literal),+ $(,)? }) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum $name { $($(#[$vdoc])* $variant),+ }

        impl $name {
            /// Every choice, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The name used in files, tables and on the command line.
            pub fn name(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }
        }

        impl FromStr for $name {
            type Err = String;
            fn from_str(text: &str) -> Result<Self, String> {
                match text {
                    $($text => Ok($name::$variant),)+
                    other => Err(format!(
                        "unknown {} '{other}': expected {}",
                        $what,
                        choices(&[$($text),+])
                    )),
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str(self.name())
            }
        }

        impl Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.name())
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let text = String::deserialize(d)?;
                text.parse().map_err(serde::de::Error::custom)
            }
        }
    };
}

/// "a or b", "one of a, b, c".
fn choices(names: &[&str]) -> String {
    match names {
        [one] => one.to_string(),
        [a, b] => format!("{a} or {b}"),
        _ => format!("one of {}", names.join(", ")),
    }
}

named_enum!(
    /// Which network.
    ModelKind, "model", {
        /// EEGNet (Lawhern et al., 2018).
        EegNet = "eegnet",
        /// DeepConvNet (Schirrmeister et al., 2017).
        DeepConvNet = "deepconvnet"
    }
);
named_enum!(
    /// An activation's name (its slope, for leaky_relu, is a separate field).
    ActivationName, "activation", {
        /// ReLU.
        Relu = "relu",
        /// LeakyReLU.
        LeakyRelu = "leaky_relu",
        /// ELU.
        Elu = "elu"
    }
);
named_enum!(
    /// The optimiser (the lab's Adam only).
    Optimizer, "optimizer", {
        /// Adam (torch.optim.Adam's update).
        Adam = "adam"
    }
);
named_enum!(
    /// Where tensors live.
    Device, "device", {
        /// The CPU, on eegrun's own kernels.
        Cpu = "cpu",
        /// An NVIDIA GPU, in a CUDA build.
        Cuda = "cuda"
    }
);

named_enum!(
    /// Which trials train and test each model (`protocol`; see `data::units`).
    #[derive(Default)]
    Protocol, "protocol", {
        /// One model on every subject's training trials, tested on every test trial (the
        /// lab's; the default).
        #[default]
        Pooled = "pooled",
        /// One model per subject: its training trials, tested on its test trials.
        WithinSubject = "within-subject",
        /// Subjects left out in folds: trained on the other subjects' training trials,
        /// tested on the held-out subjects' test trials.
        CrossSubject = "cross-subject"
    }
);

named_enum!(
    /// What findings compare (`[findings] metric`).
    #[derive(Default)]
    FindingsMetric, "findings metric", {
        /// Plain accuracy: the share of test trials right (the lab's number; the default).
        #[default]
        Accuracy = "accuracy",
        /// Balanced accuracy: the mean over the classes of each class's recall (chance is
        /// 1/K whatever the classes' shares).
        BalancedAccuracy = "balanced_accuracy"
    }
);

impl ModelKind {
    /// The lab's dropout for this model (EEGNet 0.25, DeepConvNet 0.5).
    pub fn default_dropout(self) -> f64 {
        match self {
            ModelKind::EegNet => 0.25,
            ModelKind::DeepConvNet => 0.5,
        }
    }
}

/// An activation with its parameter: PyTorch's LeakyReLU slope (default 0.01); ELU's
/// alpha is the lab's 1.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Activation {
    /// max(0, x).
    Relu,
    /// max(0, x) + slope · min(0, x).
    LeakyRelu {
        /// Multiplies negative inputs.
        slope: f64,
    },
    /// x for x > 0, exp(x) − 1 otherwise (alpha 1).
    Elu,
}

impl Activation {
    /// Its name.
    pub fn name(self) -> ActivationName {
        match self {
            Activation::Relu => ActivationName::Relu,
            Activation::LeakyRelu { .. } => ActivationName::LeakyRelu,
            Activation::Elu => ActivationName::Elu,
        }
    }
}

impl fmt::Display for Activation {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str(self.name().name())
    }
}

/// The most epochs a run may ask for.
pub const MAX_EPOCHS: usize = 1_000_000;
/// The largest batch size a run may ask for.
pub const MAX_BATCH: usize = 1_000_000;
/// PyTorch's LeakyReLU slope.
pub const DEFAULT_LEAKY_SLOPE: f64 = 0.01;

/// A run's settings as written: each optional (a missing one takes its default).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RunFields {
    /// EEGNet or DeepConvNet [default: eegnet].
    #[serde(skip_serializing_if = "Option::is_none")]
    pub model: Option<ModelKind>,
    /// relu, leaky_relu or elu [default: relu].
    #[serde(skip_serializing_if = "Option::is_none")]
    pub activation: Option<ActivationName>,
    /// Negative slope of leaky_relu (ignored by the other activations).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub leaky_slope: Option<f64>,
    /// Dropout probability (default: the model's, see [`ModelKind::default_dropout`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dropout: Option<f64>,
    /// Epochs to train [default: 300].
    #[serde(skip_serializing_if = "Option::is_none")]
    pub epochs: Option<usize>,
    /// Trials per batch [default: 64].
    #[serde(skip_serializing_if = "Option::is_none")]
    pub batch_size: Option<usize>,
    /// The optimiser [default: adam].
    #[serde(skip_serializing_if = "Option::is_none")]
    pub optimizer: Option<Optimizer>,
    /// Adam's learning rate [default: 1e-3].
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lr: Option<f64>,
    /// Adam's β₁ [default: 0.9].
    #[serde(skip_serializing_if = "Option::is_none")]
    pub beta1: Option<f64>,
    /// Adam's β₂ [default: 0.999].
    #[serde(skip_serializing_if = "Option::is_none")]
    pub beta2: Option<f64>,
    /// Adam's ε [default: 1e-8].
    #[serde(skip_serializing_if = "Option::is_none")]
    pub eps: Option<f64>,
    /// L2 penalty added to the gradient, as torch.optim.Adam's weight_decay.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub weight_decay: Option<f64>,
    /// Seeds initialisation, shuffling, dropout and the validation split.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub seed: Option<u64>,
    /// Fraction of the training set held out (class-balanced) for validation; 0 = lab protocol.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub val_fraction: Option<f64>,
    /// cpu or cuda [default: cpu].
    #[serde(skip_serializing_if = "Option::is_none")]
    pub device: Option<Device>,
    /// pooled, within-subject or cross-subject [default: pooled].
    #[serde(skip_serializing_if = "Option::is_none")]
    pub protocol: Option<Protocol>,
    /// Folds of a cross-subject protocol [default: one subject per fold].
    #[serde(skip_serializing_if = "Option::is_none")]
    pub folds: Option<usize>,
    /// EEGNet's architecture (used by EEGNet runs only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub eegnet: Option<EegNetFields>,
    /// DeepConvNet's architecture (used by DeepConvNet runs only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deepconvnet: Option<DeepConvNetFields>,
}

/// The field names, in declaration order (the order of grid axes and messages).
pub const FIELDS: [&str; 17] = [
    "model",
    "activation",
    "leaky_slope",
    "dropout",
    "epochs",
    "batch_size",
    "optimizer",
    "lr",
    "beta1",
    "beta2",
    "eps",
    "weight_decay",
    "seed",
    "val_fraction",
    "device",
    "protocol",
    "folds",
];

/// The architecture fields, scoped by model (`eegnet.f1` applies to EEGNet runs only), in
/// the order of grid axes and messages after [`FIELDS`].
pub const ARCHITECTURE_FIELDS: [&str; 10] = [
    "eegnet.f1",
    "eegnet.d",
    "eegnet.f2",
    "eegnet.kernel",
    "eegnet.separable_kernel",
    "eegnet.pool1",
    "eegnet.pool2",
    "deepconvnet.filters",
    "deepconvnet.kernel",
    "deepconvnet.pool",
];

/// A field's place in the order of grid axes: [`FIELDS`], then [`ARCHITECTURE_FIELDS`];
/// `None` for an unknown key.
pub fn field_position(key: &str) -> Option<usize> {
    FIELDS.iter().chain(&ARCHITECTURE_FIELDS).position(|f| *f == key)
}

/// The model an architecture field belongs to (`eegnet.f1` → EEGNet); `None` for the
/// other fields.
pub fn field_model(key: &str) -> Option<ModelKind> {
    let (model, _) = key.split_once('.')?;
    model.parse().ok()
}

/// Fields as dotted keys and values (`eegnet.f1` = 8) nested as TOML tables
/// (`eegnet = { f1 = 8 }`), the form [`RunFields`] reads.
pub fn nest_fields<'a>(fields: impl IntoIterator<Item = (&'a String, &'a toml::Value)>) -> toml::Table {
    let mut table = toml::Table::new();
    for (key, value) in fields {
        match key.split_once('.') {
            Some((scope, field)) => {
                let inner = table
                    .entry(scope.to_string())
                    .or_insert_with(|| toml::Value::Table(toml::Table::new()));
                if let toml::Value::Table(inner) = inner {
                    inner.insert(field.to_string(), value.clone());
                }
            }
            None => {
                table.insert(key.clone(), value.clone());
            }
        }
    }
    table
}

/// Everything that determines a training run (the data aside), resolved and checked.
/// Made only by [`RunFields::resolve`] (serde goes through it too).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(into = "RunFields", try_from = "RunFields")]
pub struct RunSpec {
    /// Which network.
    pub model: ModelKind,
    /// The activation, with its slope for leaky_relu.
    pub activation: Activation,
    /// Dropout probability.
    pub dropout: f64,
    /// Epochs to train.
    pub epochs: usize,
    /// Trials per batch.
    pub batch_size: usize,
    /// The optimiser.
    pub optimizer: Optimizer,
    /// Learning rate.
    pub lr: f64,
    /// Adam's β₁.
    pub beta1: f64,
    /// Adam's β₂.
    pub beta2: f64,
    /// Adam's ε.
    pub eps: f64,
    /// L2 penalty added to the gradient (torch.optim.Adam's weight_decay).
    pub weight_decay: f64,
    /// Seeds initialisation, shuffling, dropout and the validation split.
    pub seed: u64,
    /// Fraction of the training set held out for validation (0: none, the lab's protocol).
    pub val_fraction: f64,
    /// Where the tensors live.
    pub device: Device,
    /// Which trials train and test each model.
    pub protocol: Protocol,
    /// A cross-subject protocol's folds (0: one subject per fold; always 0 for the others).
    pub folds: usize,
    /// EEGNet's architecture (the lab's unless the run is an EEGNet run that sets it).
    pub eegnet: EegNetArch,
    /// DeepConvNet's architecture (the lab's unless the run is a DeepConvNet run that sets it).
    pub deepconvnet: DeepConvNetArch,
}

impl Default for RunSpec {
    /// The lab's settings: EEGNet, ReLU, 300 epochs, batch 64, Adam lr 1e-3.
    fn default() -> Self {
        RunFields::default().resolve().expect("the defaults are valid")
    }
}

impl RunFields {
    /// Fills every default and checks every field: the only way to a [`RunSpec`].
    pub fn resolve(self) -> Result<RunSpec, String> {
        let model = self.model.unwrap_or(ModelKind::EegNet);
        let slope = self.leaky_slope.unwrap_or(DEFAULT_LEAKY_SLOPE);
        check(slope >= 0.0 && slope.is_finite() && (slope as f32) <= MAX_SLOPE, || {
            format!("leaky_slope must be ≥ 0 and at most {MAX_SLOPE}, got {}", shown(slope))
        })?;
        let activation = match self.activation.unwrap_or(ActivationName::Relu) {
            ActivationName::Relu => Activation::Relu,
            ActivationName::LeakyRelu => Activation::LeakyRelu { slope },
            ActivationName::Elu => Activation::Elu,
        };
        let spec = RunSpec {
            model,
            activation,
            dropout: self.dropout.unwrap_or(model.default_dropout()),
            epochs: self.epochs.unwrap_or(300),
            batch_size: self.batch_size.unwrap_or(64),
            optimizer: self.optimizer.unwrap_or(Optimizer::Adam),
            lr: self.lr.unwrap_or(1e-3),
            beta1: self.beta1.unwrap_or(0.9),
            beta2: self.beta2.unwrap_or(0.999),
            eps: self.eps.unwrap_or(1e-8),
            weight_decay: self.weight_decay.unwrap_or(0.0),
            seed: self.seed.unwrap_or(0),
            val_fraction: self.val_fraction.unwrap_or(0.0),
            device: self.device.unwrap_or(Device::Cpu),
            protocol: self.protocol.unwrap_or_default(),
            folds: self.folds.unwrap_or(0),
            eegnet: self
                .eegnet
                .as_ref()
                .map_or(Ok(EegNetArch::default()), EegNetFields::resolve)?,
            deepconvnet: self
                .deepconvnet
                .as_ref()
                .map_or(Ok(DeepConvNetArch::default()), DeepConvNetFields::resolve)?,
        };
        // A model's architecture is scoped to its runs: the other model's is the lab's,
        // so it changes neither the id nor the configuration.
        let spec = match model {
            ModelKind::EegNet => RunSpec {
                deepconvnet: DeepConvNetArch::default(),
                ..spec
            },
            ModelKind::DeepConvNet => RunSpec {
                eegnet: EegNetArch::default(),
                ..spec
            },
        };
        let unit = |name: &str, v: f64| check((0.0..1.0).contains(&v), || format!("{name} must be in [0, 1), got {v}"));
        // What the engine computes with (f32) must be finite too (1e39 is not), and a
        // positive value must stay positive there (1e-46 becomes 0).
        let finite = |v: f64| v.is_finite() && (v as f32).is_finite();
        let positive = |v: f64| v > 0.0 && finite(v) && (v as f32) >= f32::MIN_POSITIVE;
        unit("dropout", spec.dropout)?;
        check((1..=MAX_EPOCHS).contains(&spec.epochs), || {
            format!("epochs must be ≥ 1 and at most {MAX_EPOCHS}, got {}", spec.epochs)
        })?;
        check((1..=MAX_BATCH).contains(&spec.batch_size), || {
            format!(
                "batch_size must be ≥ 1 and at most {MAX_BATCH}, got {}",
                spec.batch_size
            )
        })?;
        check(positive(spec.lr), || {
            format!("lr must be > 0 and finite, got {}", shown(spec.lr))
        })?;
        unit("beta1", spec.beta1)?;
        unit("beta2", spec.beta2)?;
        check(positive(spec.eps), || {
            format!("eps must be > 0 and finite, got {}", shown(spec.eps))
        })?;
        check(spec.weight_decay >= 0.0 && finite(spec.weight_decay), || {
            format!("weight_decay must be ≥ 0 and finite, got {}", shown(spec.weight_decay))
        })?;
        check(spec.folds == 0 || (2..=MAX_FOLDS).contains(&spec.folds), || {
            format!("folds must be at least 2 and at most {MAX_FOLDS}, got {}", spec.folds)
        })?;
        // Folds belong to the cross-subject protocol: the others' runs leave them out, so a
        // grid over protocols does not multiply them.
        let spec = match spec.protocol {
            Protocol::CrossSubject => spec,
            _ => RunSpec { folds: 0, ..spec },
        };
        unit("val_fraction", spec.val_fraction)?;
        check(
            spec.val_fraction == 0.0 || (spec.val_fraction as f32) >= f32::MIN_POSITIVE,
            || {
                format!(
                    "val_fraction must be 0 or a share in (0, 1), got {}",
                    shown(spec.val_fraction)
                )
            },
        )?;
        Ok(spec)
    }

    /// Checks one field on its own, as found in a file or `--set` (`key` must be in
    /// [`FIELDS`] or [`ARCHITECTURE_FIELDS`]); the message says what is wrong (the caller
    /// names the key).
    pub fn check_field(key: &str, value: toml::Value) -> Result<(), String> {
        if field_position(key).is_none() {
            return Err(format!(
                "unknown key; expected one of {}, or an architecture field: {}",
                FIELDS.join(", "),
                ARCHITECTURE_FIELDS.join(", ")
            ));
        }
        let table = nest_fields([(&key.to_string(), &value)]);
        let fields: RunFields = table
            .try_into()
            .map_err(|e: toml::de::Error| e.message().trim().to_string())?;
        fields.resolve().map(|_| ())
    }
}

/// The most folds of a cross-subject protocol (the data's subjects bound them too).
pub const MAX_FOLDS: usize = 10_000;

/// The largest leaky slope: beyond it a negative input's output outgrows the inputs'
/// scale and training breaks down as "loss is NaN" instead of a clear error.
const MAX_SLOPE: f32 = 1e3;

/// A number as the engine would see it: values beyond f32's range show as inf, positive
/// values below its smallest normal number as "… (0 in the engine's f32)".
fn shown(v: f64) -> String {
    if v.is_finite() && !(v as f32).is_finite() {
        "inf".into()
    } else if v > 0.0 && (v as f32) < f32::MIN_POSITIVE {
        format!("{v:e} (0 in the engine's f32)")
    } else {
        v.to_string()
    }
}

impl From<RunSpec> for RunFields {
    fn from(spec: RunSpec) -> Self {
        let slope = match spec.activation {
            Activation::LeakyRelu { slope } => Some(slope),
            _ => None,
        };
        RunFields {
            model: Some(spec.model),
            activation: Some(spec.activation.name()),
            leaky_slope: slope,
            dropout: Some(spec.dropout),
            epochs: Some(spec.epochs),
            batch_size: Some(spec.batch_size),
            optimizer: Some(spec.optimizer),
            lr: Some(spec.lr),
            beta1: Some(spec.beta1),
            beta2: Some(spec.beta2),
            eps: Some(spec.eps),
            weight_decay: Some(spec.weight_decay),
            seed: Some(spec.seed),
            val_fraction: Some(spec.val_fraction),
            device: Some(spec.device),
            // Left out at their defaults, so pooled runs keep the ids they always had.
            protocol: (spec.protocol != Protocol::Pooled).then_some(spec.protocol),
            folds: (spec.folds != 0).then_some(spec.folds),
            eegnet: EegNetFields::written(&spec.eegnet),
            deepconvnet: DeepConvNetFields::written(&spec.deepconvnet),
        }
    }
}

impl TryFrom<RunFields> for RunSpec {
    type Error = String;
    fn try_from(fields: RunFields) -> Result<Self, String> {
        fields.resolve()
    }
}

impl RunSpec {
    /// The settings that usually vary, for listings: `model=eegnet activation=relu …`.
    pub fn describe(&self) -> String {
        let architecture = self.architecture();
        format!(
            "model={} activation={} dropout={} batch_size={} lr={} seed={}{}{architecture}",
            self.model,
            self.activation,
            self.dropout,
            self.batch_size,
            self.lr,
            self.seed,
            if architecture.is_empty() { "" } else { " " }
        )
    }

    /// The architecture fields of this run's model that differ from the lab's, as
    /// `eegnet.f1=8 eegnet.kernel=33` (empty for the lab's architecture).
    pub fn architecture(&self) -> String {
        let fields = RunFields::from(*self);
        let table = match self.model {
            ModelKind::EegNet => fields.eegnet.map(toml::Table::try_from),
            ModelKind::DeepConvNet => fields.deepconvnet.map(toml::Table::try_from),
        };
        let Some(Ok(table)) = table else {
            return String::new();
        };
        table
            .iter()
            .map(|(k, v)| format!("{}.{k}={}", self.model, v.to_string().replace(' ', "")))
            .collect::<Vec<_>>()
            .join(" ")
    }

    /// The model's temporal kernel in seconds at `sfreq` Hz, for tables
    /// ("kernel 51 = 0.319 s at 160 Hz").
    pub fn kernel_in_seconds(&self, sfreq: f64) -> String {
        let kernel = match self.model {
            ModelKind::EegNet => self.eegnet.kernel,
            ModelKind::DeepConvNet => self.deepconvnet.kernel,
        };
        format!("kernel {kernel} = {:.3} s at {sfreq} Hz", kernel as f64 / sfreq)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_resolve_once_and_round_trip_as_written() {
        let spec = RunFields {
            model: Some(ModelKind::DeepConvNet),
            lr: Some(5e-4),
            beta1: Some(0.9),
            ..RunFields::default()
        }
        .resolve()
        .unwrap();
        assert_eq!(spec.dropout, 0.5);
        let json = serde_json::to_string(&spec).unwrap();
        assert!(
            json.contains(r#""lr":0.0005"#) && json.contains(r#""beta1":0.9,"#),
            "{json}"
        );
        assert!(!json.contains("leaky_slope"), "{json}");
        assert_eq!(serde_json::from_str::<RunSpec>(&json).unwrap(), spec);
    }

    #[test]
    fn every_range_is_checked_with_its_message() {
        for (toml_text, message) in [
            (
                "model = 'resnet'",
                "unknown model 'resnet': expected eegnet or deepconvnet",
            ),
            (
                "activation = 'gelu'",
                "unknown activation 'gelu': expected one of relu, leaky_relu, elu",
            ),
            ("dropout = 1.0", "dropout must be in [0, 1), got 1"),
            ("eps = 1e39", "eps must be > 0 and finite, got inf"),
            ("lr = nan", "lr must be > 0 and finite, got NaN"),
            ("epochs = 0", "epochs must be ≥ 1"),
        ] {
            let table: toml::Table = toml::from_str(toml_text).unwrap();
            let (key, value) = table.into_iter().next().unwrap();
            let e = RunFields::check_field(&key, value).unwrap_err();
            assert!(e.contains(message), "{toml_text}: {e}");
        }
    }
}

//! Trials in memory: a data set's shape, a split of trials and labels, and a train/test
//! dataset with its content fingerprint.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::sync::Arc;

/// The most EEG channels a data set may have.
pub const MAX_CHANNELS: usize = 512;
/// The most samples per channel of a trial.
pub const MAX_SAMPLES: usize = 65_536;
/// The most values (channels × samples) in one trial: 2^18, e.g. 64 × 4,096 or 256 × 1,024.
/// EEGNet's first layer holds 16 of these per trial of a batch, so a batch of 64 at this
/// bound takes about 1 GiB there.
pub const MAX_TRIAL_VALUES: usize = 1 << 18;
/// The most classes.
pub const MAX_CLASSES: usize = 64;

/// A data set's shape: channels and samples per trial, and classes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Shape {
    /// EEG channels (the network's input height).
    pub channels: usize,
    /// Samples per channel (the network's input width).
    pub samples: usize,
    /// Classes: labels 1..K in the files, 0..K−1 in memory.
    pub classes: usize,
}

impl Shape {
    /// The lab's data: 2 channels (C3, C4) × 750 samples, left and right hand.
    pub const LAB: Shape = Shape {
        channels: 2,
        samples: 750,
        classes: 2,
    };

    /// Values per trial (channels × samples).
    pub fn trial_len(&self) -> usize {
        self.channels * self.samples
    }

    /// Checks the bounds ([`MAX_CHANNELS`], [`MAX_SAMPLES`], [`MAX_TRIAL_VALUES`],
    /// [`MAX_CLASSES`], at least 2 classes); the message names the value and its limit.
    pub fn check(&self) -> Result<(), String> {
        let Shape {
            channels,
            samples,
            classes,
        } = *self;
        if !(1..=MAX_CHANNELS).contains(&channels) {
            return Err(format!("{channels} channels: eegrun takes 1 to {MAX_CHANNELS}"));
        }
        if !(1..=MAX_SAMPLES).contains(&samples) {
            return Err(format!("{samples} samples per trial: eegrun takes 1 to {MAX_SAMPLES}"));
        }
        if channels * samples > MAX_TRIAL_VALUES {
            return Err(format!(
                "{channels} channels × {samples} samples = {} values per trial: eegrun takes at most {MAX_TRIAL_VALUES}",
                channels * samples
            ));
        }
        if !(2..=MAX_CLASSES).contains(&classes) {
            return Err(format!("{classes} classes: eegrun takes 2 to {MAX_CLASSES}"));
        }
        Ok(())
    }
}

impl fmt::Display for Shape {
    /// `22 channels × 480 samples, 3 classes`.
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(
            f,
            "{} channels × {} samples, {} classes",
            self.channels, self.samples, self.classes
        )
    }
}

/// Trials laid out as (trial, channel, time), i.e. the network's (N, 1, C, T), and
/// labels 0..K−1.
#[derive(Clone, Debug, Default)]
pub struct Split {
    /// Trials × (channel, time) samples, shared by clones of the split.
    pub x: Arc<[f32]>,
    /// Labels, 0..K−1, one per trial.
    pub y: Vec<u8>,
    /// Values per trial (channels × samples).
    pub trial_len: usize,
}

impl Split {
    /// Number of trials.
    pub fn len(&self) -> usize {
        self.y.len()
    }

    /// True when the split has no trials.
    pub fn is_empty(&self) -> bool {
        self.y.is_empty()
    }

    /// The (channel, time) samples of trial `i`.
    pub fn trial(&self, i: usize) -> &[f32] {
        &self.x[i * self.trial_len..][..self.trial_len]
    }

    /// A new split holding the given trials, in that order.
    pub fn select(&self, indices: &[usize]) -> Split {
        Split {
            x: indices.iter().flat_map(|&i| self.trial(i).iter().copied()).collect(),
            y: indices.iter().map(|&i| self.y[i]).collect(),
            trial_len: self.trial_len,
        }
    }
}

/// A train and a test split with a description, its shape and a content fingerprint.
#[derive(Clone, Debug)]
pub struct Dataset {
    /// Where the trials came from, for messages and run records.
    pub description: String,
    /// Channels, samples and classes.
    pub shape: Shape,
    /// The training trials.
    pub train: Split,
    /// The test trials.
    pub test: Split,
    /// 64-bit FNV-1a of all samples and labels (and of the shape, where it is not the
    /// lab's), hex: identifies the data in run ids.
    pub fingerprint: String,
    /// Each test trial's subject (0, 1, …), where the data names them (`data::subjects`).
    pub test_subjects: Option<Vec<u32>>,
    /// Each training trial's subject, where the data names them.
    pub train_subjects: Option<Vec<u32>>,
    /// The subjects' names (S001), by number.
    pub subject_names: Vec<String>,
    /// Samples per second, where the files state it (an `sfreq` array); it shows kernel
    /// lengths in seconds and is not part of the fingerprint.
    pub sfreq: Option<f64>,
}

impl Dataset {
    /// Wraps two splits of `shape`, computing the fingerprint. Data of the lab's shape
    /// keeps the fingerprint it had before shapes could vary.
    pub fn new(description: String, shape: Shape, train: Split, test: Split) -> Self {
        let mut hash = 0xcbf29ce484222325u64;
        let mut eat = |bytes: &[u8]| {
            for b in bytes {
                hash = (hash ^ *b as u64).wrapping_mul(0x100000001b3);
            }
        };
        if shape != Shape::LAB {
            for n in [shape.channels, shape.samples, shape.classes] {
                eat(&(n as u64).to_le_bytes());
            }
        }
        for split in [&train, &test] {
            eat(&(split.len() as u64).to_le_bytes());
            split.x.iter().for_each(|v| eat(&v.to_le_bytes()));
            eat(&split.y);
        }
        Self {
            description,
            shape,
            train,
            test,
            fingerprint: format!("{hash:016x}"),
            test_subjects: None,
            train_subjects: None,
            subject_names: Vec::new(),
            sfreq: None,
        }
    }
}

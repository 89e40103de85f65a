//! Trials in memory: the lab data's shape, a split of trials and labels, and a train/test
//! dataset with its content fingerprint.

use std::sync::Arc;

/// EEG channels and samples per trial, and classes, of the lab data.
pub const CHANNELS: usize = 2;
/// Samples per channel of a trial (3 s at 250 Hz).
pub const SAMPLES: usize = 750;
/// Classes: left and right hand imagery.
pub const CLASSES: usize = 2;

/// Trials laid out as (trial, channel, time), i.e. the network's (N, 1, 2, 750), and
/// labels 0/1.
#[derive(Clone, Debug, Default)]
pub struct Split {
    /// Trials × (channel, time) samples, shared by clones of the split.
    pub x: Arc<[f32]>,
    /// Labels, 0 or 1, one per trial.
    pub y: Vec<u8>,
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
        &self.x[i * CHANNELS * SAMPLES..][..CHANNELS * SAMPLES]
    }

    /// A new split holding the given trials, in that order.
    pub fn select(&self, indices: &[usize]) -> Split {
        Split {
            x: indices.iter().flat_map(|&i| self.trial(i).iter().copied()).collect(),
            y: indices.iter().map(|&i| self.y[i]).collect(),
        }
    }
}

/// A train and a test split with a description and a content fingerprint.
#[derive(Clone, Debug)]
pub struct Dataset {
    /// Where the trials came from, for messages and run records.
    pub description: String,
    /// The training trials.
    pub train: Split,
    /// The test trials.
    pub test: Split,
    /// 64-bit FNV-1a of all samples and labels, hex: identifies the data in run ids.
    pub fingerprint: String,
    /// Each test trial's subject (0, 1, …), where the data names them (`data::subjects`).
    pub test_subjects: Option<Vec<u32>>,
}

impl Dataset {
    /// Wraps two splits, computing the fingerprint.
    pub fn new(description: String, train: Split, test: Split) -> Self {
        let mut hash = 0xcbf29ce484222325u64;
        let mut eat = |bytes: &[u8]| {
            for b in bytes {
                hash = (hash ^ *b as u64).wrapping_mul(0x100000001b3);
            }
        };
        for split in [&train, &test] {
            eat(&(split.len() as u64).to_le_bytes());
            split.x.iter().for_each(|v| eat(&v.to_le_bytes()));
            eat(&split.y);
        }
        Self {
            description,
            train,
            test,
            fingerprint: format!("{hash:016x}"),
            test_subjects: None,
        }
    }
}

//! The models' architecture fields, scoped by model, with `torch_ref.py`'s names: the
//! resolved values (the lab's by default) and the fields as written, with their ranges.

use serde::{Deserialize, Serialize};

/// Checks `ok`, else the message.
pub(super) fn check(ok: bool, message: impl FnOnce() -> String) -> Result<(), String> {
    if ok {
        Ok(())
    } else {
        Err(message())
    }
}

/// EEGNet's architecture, with `torch_ref.py`'s names (the lab's values by default).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct EegNetArch {
    /// Temporal filters F1 (16).
    pub f1: usize,
    /// Depth multiplier D: spatial filters per temporal filter (2).
    pub d: usize,
    /// Pointwise (separable) filters F2 (32).
    pub f2: usize,
    /// Temporal kernel length, odd ('same' padding k // 2) (51).
    pub kernel: usize,
    /// Separable kernel length, odd (15).
    pub separable_kernel: usize,
    /// First average-pooling width (4).
    pub pool1: usize,
    /// Second average-pooling width (8).
    pub pool2: usize,
}

impl Default for EegNetArch {
    fn default() -> Self {
        Self {
            f1: 16,
            d: 2,
            f2: 32,
            kernel: 51,
            separable_kernel: 15,
            pool1: 4,
            pool2: 8,
        }
    }
}

/// DeepConvNet's architecture, with `torch_ref.py`'s names (the lab's values by default).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct DeepConvNetArch {
    /// The five filter counts: temporal, spatial, then the three conv blocks
    /// ([25, 25, 50, 100, 200]).
    pub filters: [usize; 5],
    /// Temporal kernel length of every (1, k) convolution, no padding (5).
    pub kernel: usize,
    /// Max-pooling width (2).
    pub pool: usize,
}

impl Default for DeepConvNetArch {
    fn default() -> Self {
        Self {
            filters: [25, 25, 50, 100, 200],
            kernel: 5,
            pool: 2,
        }
    }
}

/// `[defaults.eegnet]`, `eegnet.f1 = …`: EEGNet's architecture fields as written.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EegNetFields {
    /// Temporal filters F1, 1 to 256 [default: 16].
    #[serde(skip_serializing_if = "Option::is_none")]
    pub f1: Option<usize>,
    /// Depth multiplier D, 1 to 16 [default: 2].
    #[serde(skip_serializing_if = "Option::is_none")]
    pub d: Option<usize>,
    /// Pointwise filters F2, 1 to 1024 [default: 32].
    #[serde(skip_serializing_if = "Option::is_none")]
    pub f2: Option<usize>,
    /// Temporal kernel length, odd, 1 to 1023 [default: 51].
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kernel: Option<usize>,
    /// Separable kernel length, odd, 1 to 1023 [default: 15].
    #[serde(skip_serializing_if = "Option::is_none")]
    pub separable_kernel: Option<usize>,
    /// First pooling width, 1 to 64 [default: 4].
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pool1: Option<usize>,
    /// Second pooling width, 1 to 64 [default: 8].
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pool2: Option<usize>,
}

/// `[defaults.deepconvnet]`, `deepconvnet.kernel = …`: DeepConvNet's architecture fields
/// as written.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeepConvNetFields {
    /// Five filter counts, each 1 to 1024 [default: [25, 25, 50, 100, 200]].
    #[serde(skip_serializing_if = "Option::is_none")]
    pub filters: Option<Vec<usize>>,
    /// Temporal kernel length, 1 to 64 [default: 5].
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kernel: Option<usize>,
    /// Max-pooling width, 1 to 16 [default: 2].
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pool: Option<usize>,
}

/// A whole number in `lo..=hi`, else a message naming the field and the range.
fn bounded(name: &str, v: usize, lo: usize, hi: usize) -> Result<usize, String> {
    check((lo..=hi).contains(&v), || {
        format!("{name} must be from {lo} to {hi}, got {v}")
    })?;
    Ok(v)
}

/// An odd kernel length in `1..=hi` (EEGNet's 'same' padding k // 2 needs an odd length).
fn odd(name: &str, v: usize, hi: usize) -> Result<usize, String> {
    bounded(name, v, 1, hi)?;
    check(v % 2 == 1, || {
        format!("{name} must be odd ('same' padding k // 2, as torch_ref.py), got {v}")
    })?;
    Ok(v)
}

impl EegNetFields {
    /// Fills the lab's values and checks each field's range.
    pub fn resolve(&self) -> Result<EegNetArch, String> {
        let lab = EegNetArch::default();
        Ok(EegNetArch {
            f1: bounded("eegnet.f1", self.f1.unwrap_or(lab.f1), 1, 256)?,
            d: bounded("eegnet.d", self.d.unwrap_or(lab.d), 1, 16)?,
            f2: bounded("eegnet.f2", self.f2.unwrap_or(lab.f2), 1, 1024)?,
            kernel: odd("eegnet.kernel", self.kernel.unwrap_or(lab.kernel), 1023)?,
            separable_kernel: odd(
                "eegnet.separable_kernel",
                self.separable_kernel.unwrap_or(lab.separable_kernel),
                1023,
            )?,
            pool1: bounded("eegnet.pool1", self.pool1.unwrap_or(lab.pool1), 1, 64)?,
            pool2: bounded("eegnet.pool2", self.pool2.unwrap_or(lab.pool2), 1, 64)?,
        })
    }

    /// The fields of `arch` that differ from the lab's; `None` when none does.
    pub(super) fn written(arch: &EegNetArch) -> Option<Self> {
        let lab = EegNetArch::default();
        let differs = |v: usize, d: usize| (v != d).then_some(v);
        let fields = Self {
            f1: differs(arch.f1, lab.f1),
            d: differs(arch.d, lab.d),
            f2: differs(arch.f2, lab.f2),
            kernel: differs(arch.kernel, lab.kernel),
            separable_kernel: differs(arch.separable_kernel, lab.separable_kernel),
            pool1: differs(arch.pool1, lab.pool1),
            pool2: differs(arch.pool2, lab.pool2),
        };
        (fields != Self::default()).then_some(fields)
    }
}

impl DeepConvNetFields {
    /// Fills the lab's values and checks each field's range.
    pub fn resolve(&self) -> Result<DeepConvNetArch, String> {
        let lab = DeepConvNetArch::default();
        let filters = match &self.filters {
            None => lab.filters,
            Some(counts) => {
                let five: [usize; 5] = counts.as_slice().try_into().map_err(|_| {
                    format!(
                        "deepconvnet.filters takes five filter counts (temporal, spatial, three blocks), got {}",
                        counts.len()
                    )
                })?;
                for count in five {
                    bounded("each of deepconvnet.filters", count, 1, 1024)?;
                }
                five
            }
        };
        Ok(DeepConvNetArch {
            filters,
            kernel: bounded("deepconvnet.kernel", self.kernel.unwrap_or(lab.kernel), 1, 64)?,
            pool: bounded("deepconvnet.pool", self.pool.unwrap_or(lab.pool), 1, 16)?,
        })
    }

    /// The fields of `arch` that differ from the lab's; `None` when none does.
    pub(super) fn written(arch: &DeepConvNetArch) -> Option<Self> {
        let lab = DeepConvNetArch::default();
        let fields = Self {
            filters: (arch.filters != lab.filters).then(|| arch.filters.to_vec()),
            kernel: (arch.kernel != lab.kernel).then_some(arch.kernel),
            pool: (arch.pool != lab.pool).then_some(arch.pool),
        };
        (fields != Self::default()).then_some(fields)
    }
}

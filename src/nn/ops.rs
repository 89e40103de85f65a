//! What the layers compute, whatever the device: tensor shapes, activations, pooling,
//! convolution geometry, dropout masks and BatchNorm's constants.

use dfdx::prelude::*;
use rand::Rng;

/// Runtime 4-D shape (batch, channels, height, time).
pub type Shape4 = (usize, usize, usize, usize);
/// An activation tensor carrying tape `T`.
pub type Act<D, T> = Tensor<Shape4, f32, D, T>;
/// A learnable parameter or buffer, stored flat (reshaped where used).
pub type Param<D> = Tensor<(usize,), f32, D>;

/// Element-wise non-linearity, with PyTorch's defaults.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "name", rename_all = "snake_case")]
pub enum Activation {
    /// max(0, x).
    Relu,
    /// `x` for x > 0, `slope * x` otherwise (PyTorch default slope 0.01).
    LeakyRelu {
        /// Multiplies negative inputs.
        slope: f32,
    },
    /// `x` for x > 0, `alpha * (exp(x) - 1)` otherwise (PyTorch default alpha 1.0).
    Elu {
        /// Scale of the negative branch.
        alpha: f32,
    },
}

impl From<crate::config::Activation> for Activation {
    fn from(spec: crate::config::Activation) -> Self {
        match spec {
            crate::config::Activation::Relu => Self::Relu,
            crate::config::Activation::LeakyRelu { slope } => Self::LeakyRelu { slope: slope as f32 },
            crate::config::Activation::Elu => Self::Elu { alpha: 1.0 },
        }
    }
}

impl Activation {
    /// The short name used in configs and tables.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Relu => "relu",
            Self::LeakyRelu { .. } => "leaky_relu",
            Self::Elu { .. } => "elu",
        }
    }
}

/// Pooling along time with kernel = stride = `size` and no padding (floor mode).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Pool {
    /// Average over windows of this many samples.
    Avg(usize),
    /// Maximum over windows of this many samples.
    Max(usize),
}

impl Pool {
    /// Kernel (and stride) length.
    pub fn size(&self) -> usize {
        match *self {
            Pool::Avg(k) | Pool::Max(k) => k,
        }
    }
}

/// Geometry of a 2-D convolution with stride 1, padding on the time axis only.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ConvGeometry {
    /// Input channels.
    pub in_channels: usize,
    /// Output channels.
    pub out_channels: usize,
    /// Kernel (height, width).
    pub kernel: (usize, usize),
    /// Zeros added on each side of the time axis.
    pub time_padding: usize,
    /// Groups (depthwise when equal to the input channels).
    pub groups: usize,
}

impl ConvGeometry {
    /// (in, out) channels, (height, time) kernel, zeros on each side of the time axis, groups.
    pub fn new(
        in_channels: usize,
        out_channels: usize,
        kernel: (usize, usize),
        time_padding: usize,
        groups: usize,
    ) -> Self {
        ConvGeometry {
            in_channels,
            out_channels,
            kernel,
            time_padding,
            groups,
        }
    }

    /// Output (height, time) for an input of (height, time).
    pub fn output_hw(&self, h: usize, w: usize) -> (usize, usize) {
        (h + 1 - self.kernel.0, w + 2 * self.time_padding + 1 - self.kernel.1)
    }

    /// Input channels seen by each output channel.
    pub fn in_per_group(&self) -> usize {
        self.in_channels / self.groups
    }

    /// Number of weights (out, in/groups, kh, kw).
    pub fn weight_len(&self) -> usize {
        self.out_channels * self.in_per_group() * self.kernel.0 * self.kernel.1
    }
}

/// Elements per independently seeded block of a dropout mask.
const MASK_BLOCK: usize = 1 << 14;

/// A dropout mask: each element is 0 with probability `p`, else `1 / (1 − p)`. Blocks
/// are drawn in parallel from (seed, block) streams, so the mask depends only on the seed.
pub fn dropout_mask(len: usize, p: f32, seed: u64) -> Vec<f32> {
    let mut mask = vec![0.0; len];
    fill_dropout_mask(&mut mask, p, seed);
    mask
}

/// Writes [`dropout_mask`]`(mask.len(), p, seed)` into `mask`.
pub fn fill_dropout_mask(mask: &mut [f32], p: f32, seed: u64) {
    use rand::SeedableRng;
    use rayon::prelude::*;
    // Keep when a uniform 32-bit draw is below (1 − p) · 2³².
    let threshold = ((1.0 - p as f64) * 4_294_967_296.0).round().min(u32::MAX as f64) as u32;
    let scale = 1.0 / (1.0 - p);
    mask.par_chunks_mut(MASK_BLOCK).enumerate().for_each(|(block, chunk)| {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
        rng.set_stream(block as u64);
        let mut draws = vec![0u32; chunk.len()];
        rng.fill(&mut draws[..]);
        chunk
            .iter_mut()
            .zip(&draws)
            .for_each(|(m, &d)| *m = if d < threshold { scale } else { 0.0 });
    });
}

/// BatchNorm constants (PyTorch defaults).
pub const BN_EPS: f32 = 1e-5;
/// Weight of a batch's statistics in the running ones.
pub const BN_MOMENTUM: f32 = 0.1;

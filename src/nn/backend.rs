//! The device a model runs on: the CPU's fused kernels, or dfdx's own ops (CUDA).

use super::composed;
use super::layers::Layer;
use super::ops::Act;
use dfdx::prelude::*;
use rand::Rng;

/// Runs a model's feature layers on a device. `Cpu` fuses them into one operation on
/// dfdx's tape with hand-written kernels ([`cpu`]); other devices (CUDA) compose dfdx's
/// own ops ([`composed`]).
pub trait Backend: Device<f32> {
    /// Runs `layers` in order. In training, BatchNorm uses (and updates) batch statistics
    /// and each active dropout layer draws its mask seed from `rng`, in layer order.
    fn forward_layers<T: Tape<f32, Self>>(
        x: Act<Self, T>,
        layers: &mut [Layer<Self>],
        training: bool,
        rng: &mut impl Rng,
    ) -> Act<Self, T> {
        composed::forward_layers(x, layers, training, rng)
    }
}

#[cfg(feature = "cuda")]
impl Backend for Cuda {}

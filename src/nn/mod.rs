//! The neural-network engine: operations on dfdx's tape, the lab's two models,
//! Adam, and the training loop.

pub mod adam;
pub mod backend;
pub mod checkpoint;
pub mod composed;
mod cpu;
#[cfg(feature = "cuda")]
pub mod cuda;
pub mod device;
pub mod layers;
pub mod model;
pub mod ops;
pub mod train;

pub use backend::Backend;
pub use cpu::{describe_plan, Isa, KERNELS_VARIABLE};
pub use ops::{
    dropout_mask, fill_dropout_mask, Act, Activation, ConvGeometry, Param, Pool, Shape4, BN_EPS, BN_MOMENTUM,
};

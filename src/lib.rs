//! eegrun: declarative EEG classifier experiments trained with dfdx.

pub mod cli;
pub mod data;
pub mod nn;

//! eegrun: declarative EEG classifier experiments trained with dfdx.
#![warn(missing_docs)]

pub mod atomic_write;
pub mod bounded_read;
pub mod cli;
pub mod config;
pub mod data;
pub mod escape;
pub mod experiment;
pub mod machine;
pub mod nn;
pub mod plural;
pub mod report;
pub mod results;
pub mod schedule;
pub mod slurm;
pub mod store;

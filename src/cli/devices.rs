//! `eegrun devices`: the devices this binary can train on, what this machine offers, and
//! the kernel plan of each model's convolutions on this CPU.

use crate::config::ModelKind;
use crate::nn::model::{Model, ModelSpec};
use crate::nn::Activation;
use dfdx::prelude::Cpu;

/// Trials per batch the plan is shown for (the lab's).
const BATCH: usize = 64;

pub(super) fn command() {
    println!("cpu   {}", crate::nn::device::cpu_with_kernels());
    println!("cuda  {}", crate::nn::device::cuda_status());
    let dev = Cpu::default();
    for &kind in ModelKind::ALL {
        let spec = ModelSpec {
            kind,
            activation: Activation::Elu { alpha: 1.0 },
            dropout: kind.default_dropout() as f32,
        };
        let model = Model::new(&dev, spec, &mut rand::rngs::mock::StepRng::new(0, 1));
        println!("\n{kind} on the cpu, batches of {BATCH}: the kernel plan");
        for line in crate::nn::describe_plan(&model.convolutions(BATCH)) {
            println!("  {line}");
        }
    }
}

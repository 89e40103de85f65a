//! `eegrun models`: each model's layers, output shapes and parameter counts.

use crate::config::ModelKind;
use crate::nn::model::{Model, ModelSpec};
use crate::nn::Activation;
use dfdx::prelude::Cpu;

/// Each model as shown by `models` and `devices`: ELU, the lab's dropout, on the CPU.
pub(super) fn shown() -> Vec<(ModelKind, Model<Cpu>)> {
    let dev = Cpu::default();
    ModelKind::ALL
        .iter()
        .map(|&kind| {
            let spec = ModelSpec {
                kind,
                activation: Activation::Elu { alpha: 1.0 },
                dropout: kind.default_dropout() as f32,
            };
            (kind, Model::new(&dev, spec, &mut rand::rngs::mock::StepRng::new(0, 1)))
        })
        .collect()
}

pub(super) fn command() {
    for (kind, model) in shown() {
        println!("{kind} (input [-1, 1, 2, 750], activation shown as ELU)");
        println!("{:<34} {:<22} {:>9}", "Layer", "Output shape", "Params");
        println!("{}", "-".repeat(67));
        for (layer, shape, params) in model.summary() {
            println!("{layer:<34} {shape:<22} {params:>9}");
        }
        println!("{}", "-".repeat(67));
        println!("{:<57} {:>9}\n", "Total params", model.parameter_count());
    }
}

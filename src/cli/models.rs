//! `eegrun models`: each model's layers, output shapes and parameter counts, for the lab's
//! data or another data set's shape and architecture.

use super::args::{architecture_fields, ModelsArgs};
use crate::config::{ModelKind, RunFields};
use crate::data::{Shape, Source};
use crate::nn::model::{Model, ModelSpec};
use crate::nn::Activation;
use anyhow::{anyhow, Result};
use dfdx::prelude::Cpu;

/// Each model as shown by `models` and `devices`: ELU, the lab's dropout, on the CPU, for
/// `shape` with the architecture of `fields` (a model whose window is too short is left
/// out, with the reason).
pub(super) fn shown(shape: Shape, fields: &RunFields) -> Vec<(ModelKind, Result<Model<Cpu>, String>)> {
    let dev = Cpu::default();
    ModelKind::ALL
        .iter()
        .map(|&kind| {
            let run = RunFields {
                model: Some(kind),
                ..fields.clone()
            };
            let model = run.resolve().and_then(|run| {
                let spec = ModelSpec {
                    activation: Activation::Elu { alpha: 1.0 },
                    ..ModelSpec::new(&run, shape)
                };
                spec.check()?;
                Ok(Model::new(&dev, spec, &mut rand::rngs::mock::StepRng::new(0, 1)))
            });
            (kind, model)
        })
        .collect()
}

pub(super) fn command(args: ModelsArgs) -> Result<()> {
    let (shape, sfreq) = match &args.data {
        None => (Shape::LAB, None),
        Some(source) => {
            let data = Source::parse(source)?.load()?;
            println!("data: {} ({})\n", data.description, data.shape);
            (data.shape, data.sfreq)
        }
    };
    let fields = architecture_fields(&args.set).map_err(|e| anyhow!("--set {e}"))?;
    let mut refused = 0;
    for (kind, model) in shown(shape, &fields) {
        let model = match model {
            Ok(model) => model,
            Err(e) => {
                println!("{kind}: not built: {e}\n");
                refused += 1;
                continue;
            }
        };
        let run = RunFields {
            model: Some(kind),
            ..fields.clone()
        };
        let architecture = run
            .resolve()
            .map(|r| {
                let fields = r.architecture();
                match sfreq {
                    Some(hz) if fields.is_empty() => r.kernel_in_seconds(hz),
                    Some(hz) => format!("{fields}, {}", r.kernel_in_seconds(hz)),
                    None => fields,
                }
            })
            .unwrap_or_default();
        println!(
            "{kind} (input [-1, 1, {}, {}], {} classes, activation shown as ELU{}{architecture})",
            shape.channels,
            shape.samples,
            shape.classes,
            if architecture.is_empty() { "" } else { ", " }
        );
        println!("{:<34} {:<22} {:>9}", "Layer", "Output shape", "Params");
        println!("{}", "-".repeat(67));
        for (layer, shape, params) in model.summary() {
            println!("{layer:<34} {shape:<22} {params:>9}");
        }
        println!("{}", "-".repeat(67));
        println!("{:<57} {:>9}\n", "Total params", model.parameter_count());
    }
    if refused == ModelKind::ALL.len() {
        anyhow::bail!("no model can be built for {shape} with this architecture (reasons above)");
    }
    Ok(())
}

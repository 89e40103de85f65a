//! eegrun's models against PyTorch: fixtures written by scripts/make_fixtures.py from the
//! lab's reference (logits, loss, every parameter gradient, BatchNorm running statistics,
//! and Adam steps), compared within 1e-4 (absolute or relative, whichever is looser).

use dfdx::prelude::*;
use eegrun::data::npz::{read_all, Array};
use eegrun::nn::adam::{Adam, AdamConfig};
use eegrun::nn::model::{Model, ModelKind, ModelSpec};
use eegrun::nn::Activation;
use rand::SeedableRng;
use std::collections::BTreeMap;
use std::path::PathBuf;

const TOLERANCE: f64 = 1e-4;

fn fixture(name: &str) -> BTreeMap<String, Array> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name);
    read_all(&path).unwrap_or_else(|e| panic!("{e:#}"))
}

fn assert_close(what: &str, ours: &[f32], theirs: &[f64]) {
    assert_eq!(ours.len(), theirs.len(), "{what}: length");
    let mut worst = (0.0f64, 0usize);
    for (i, (&a, &b)) in ours.iter().zip(theirs).enumerate() {
        let err = (a as f64 - b).abs();
        let scaled = err / b.abs().max(1.0);
        if scaled > worst.0 {
            worst = (scaled, i);
        }
    }
    let i = worst.1;
    assert!(
        worst.0 <= TOLERANCE,
        "{what}: element {i} is {} in eegrun but {} in PyTorch (error {:.2e})",
        ours[i],
        theirs[i],
        worst.0
    );
}

/// A model with PyTorch's fixture state loaded, dropout 0 as in the fixtures.
fn model_from_fixture(kind: ModelKind, activation: Activation) -> Model<Cpu> {
    let dev = Cpu::default();
    let spec = ModelSpec {
        kind,
        activation,
        dropout: 0.0,
    };
    let mut model = Model::new(&dev, spec, &mut rand_chacha::ChaCha8Rng::seed_from_u64(0));
    let state = fixture(&format!("{}_state.npz", kind.name()));
    let names: Vec<String> = model.tensors().iter().map(|t| t.name.clone()).collect();
    for (name, tensor) in names.iter().zip(model.tensors_mut()) {
        let values = &state
            .get(&format!("state.{name}"))
            .unwrap_or_else(|| panic!("fixture lacks {name}"))
            .data;
        assert_eq!(values.len(), tensor.shape().0, "{name}: size");
        *tensor = dev.tensor_from_vec(values.iter().map(|&v| v as f32).collect(), (values.len(),));
    }
    model
}

/// The fixture batch and its one-hot targets.
type Input = (
    Tensor<(usize, usize, usize, usize), f32, Cpu>,
    Tensor<(usize, usize), f32, Cpu>,
);

fn input(f: &BTreeMap<String, Array>) -> Input {
    let dev = Cpu::default();
    let x: Vec<f32> = f["x"].data.iter().map(|&v| v as f32).collect();
    let n = f["y"].data.len();
    let onehot = f["y"]
        .data
        .iter()
        .flat_map(|&l| [(l == 0.0) as u8 as f32, (l == 1.0) as u8 as f32])
        .collect();
    (
        dev.tensor_from_vec(x, (n, 1, 2, 750)),
        dev.tensor_from_vec(onehot, (n, 2)),
    )
}

fn check(kind: ModelKind, act_name: &str) {
    let activation = match act_name {
        "relu" => Activation::Relu,
        "leaky_relu" => Activation::LeakyRelu { slope: 0.01 },
        _ => Activation::Elu { alpha: 1.0 },
    };
    let f = fixture(&format!("{}_{act_name}.npz", kind.name()));
    let (x, targets) = input(&f);
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(0);

    // Train mode: batch statistics, gradients, running statistics.
    let mut model = model_from_fixture(kind, activation);
    let logits = model.forward(x.clone().traced(Gradients::leaky()), true, &mut rng);
    assert_close(
        "train logits",
        &logits.retaped::<NoneTape>().as_vec(),
        &f["train.logits"].data,
    );
    let loss = cross_entropy_with_logits_loss(logits, targets.clone());
    assert_close(
        "train loss",
        &loss.retaped::<NoneTape>().as_vec(),
        &f["train.loss"].data,
    );
    let grads = loss.backward();
    let mut checked = 0;
    for t in model.tensors() {
        if t.learnable {
            assert_close(
                &format!("grad {}", t.name),
                &grads.get(t.tensor).as_vec(),
                &f[&format!("train.grad.{}", t.name)].data,
            );
        } else {
            assert_close(
                &format!("after {}", t.name),
                &t.tensor.as_vec(),
                &f[&format!("train.after.{}", t.name)].data,
            );
        }
        checked += 1;
    }
    assert!(checked >= 10, "too few tensors compared");

    // Eval mode: running statistics, no dropout.
    let mut model = model_from_fixture(kind, activation);
    let traced = f.contains_key(&format!("eval.grad.{}", model.tensors()[0].name));
    let logits = model.forward(x.traced(Gradients::leaky()), false, &mut rng);
    assert_close(
        "eval logits",
        &logits.retaped::<NoneTape>().as_vec(),
        &f["eval.logits"].data,
    );
    let loss = cross_entropy_with_logits_loss(logits, targets);
    assert_close("eval loss", &loss.retaped::<NoneTape>().as_vec(), &f["eval.loss"].data);
    if traced {
        let grads = loss.backward();
        for t in model.tensors().iter().filter(|t| t.learnable) {
            assert_close(
                &format!("eval grad {}", t.name),
                &grads.get(t.tensor).as_vec(),
                &f[&format!("eval.grad.{}", t.name)].data,
            );
        }
    }
}

#[test]
fn eegnet_relu_matches_pytorch() {
    check(ModelKind::EegNet, "relu");
}

#[test]
fn eegnet_leaky_relu_matches_pytorch() {
    check(ModelKind::EegNet, "leaky_relu");
}

#[test]
fn eegnet_elu_matches_pytorch() {
    check(ModelKind::EegNet, "elu");
}

#[test]
fn deepconvnet_relu_matches_pytorch() {
    check(ModelKind::DeepConvNet, "relu");
}

#[test]
fn deepconvnet_leaky_relu_matches_pytorch() {
    check(ModelKind::DeepConvNet, "leaky_relu");
}

#[test]
fn deepconvnet_elu_matches_pytorch() {
    check(ModelKind::DeepConvNet, "elu");
}

/// Two Adam steps (lr 1e-3, weight decay 0.01) fed PyTorch's gradients land on
/// PyTorch's parameters.
#[test]
fn adam_matches_pytorch() {
    let dev = Cpu::default();
    let f = fixture("eegnet_relu.npz");
    let mut model = model_from_fixture(ModelKind::EegNet, Activation::Relu);
    let names: Vec<String> = model
        .tensors()
        .iter()
        .filter(|t| t.learnable)
        .map(|t| t.name.clone())
        .collect();
    let lengths = model.learnable_lengths();
    let config = AdamConfig {
        lr: 1e-3,
        betas: (0.9, 0.999),
        eps: 1e-8,
        weight_decay: 0.01,
    };
    let mut adam = Adam::new(&dev, config, &lengths);
    for _ in 0..2 {
        let mut grads = Gradients::leaky();
        for (name, p) in names.iter().zip(model.learnable_mut()) {
            let g = &f[&format!("train.grad.{name}")].data;
            let slot = grads.get_or_alloc_mut(&*p).unwrap();
            slot.iter_mut().zip(g).for_each(|(s, v)| *s = *v as f32);
        }
        adam.update(model.learnable_mut(), &grads);
    }
    for (name, p) in names.iter().zip(model.learnable_mut()) {
        assert_close(&format!("adam {name}"), &p.as_vec(), &f[&format!("adam.{name}")].data);
    }
}

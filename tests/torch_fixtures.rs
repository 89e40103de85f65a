//! eegrun's models against PyTorch: fixtures written by scripts/make_fixtures.py from the
//! lab's reference (logits, loss, every parameter gradient, BatchNorm running statistics,
//! and Adam steps), compared within 1e-4 (absolute or relative, whichever is looser); at
//! other shapes and architectures (`fixtures/shapes/`), within 1e-4 of each tensor's scale
//! (its largest magnitude).

use dfdx::prelude::*;
use eegrun::config::{DeepConvNetArch, EegNetArch};
use eegrun::data::npz::{read_all, Array};
use eegrun::data::Shape;
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
        dropout: 0.0,
        ..ModelSpec::lab(kind, activation)
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
        dev.tensor_from_vec(x, (n, 1, Shape::LAB.channels, Shape::LAB.samples)),
        dev.tensor_from_vec(onehot, (n, Shape::LAB.classes)),
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

/// Two Adam steps (lr 1e-3, weight decay 0.01, as the fixtures') on `model`'s learnable
/// tensors, each step fed PyTorch's train-mode gradients from fixture `f`; returns the
/// tensors' names, in the order of `learnable_mut`.
fn two_adam_steps(dev: &Cpu, model: &mut Model<Cpu>, f: &BTreeMap<String, Array>) -> Vec<String> {
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
    let mut adam = Adam::new(dev, config, &lengths);
    for _ in 0..2 {
        let mut grads = Gradients::leaky();
        for (name, p) in names.iter().zip(model.learnable_mut()) {
            let g = &f[&format!("train.grad.{name}")].data;
            let slot = grads.get_or_alloc_mut(&*p).unwrap();
            slot.iter_mut().zip(g).for_each(|(s, v)| *s = *v as f32);
        }
        adam.update(model.learnable_mut(), &grads);
    }
    names
}

/// Two Adam steps (lr 1e-3, weight decay 0.01) fed PyTorch's gradients land on
/// PyTorch's parameters.
#[test]
fn adam_matches_pytorch() {
    let dev = Cpu::default();
    let f = fixture("eegnet_relu.npz");
    let mut model = model_from_fixture(ModelKind::EegNet, Activation::Relu);
    let names = two_adam_steps(&dev, &mut model, &f);
    for (name, p) in names.iter().zip(model.learnable_mut()) {
        assert_close(&format!("adam {name}"), &p.as_vec(), &f[&format!("adam.{name}")].data);
    }
}

/// Within 1e-4 of the tensor's scale (its largest magnitude in the float64 values), or
/// within five times PyTorch's own float32 error (`f32err`, as a fraction of the scale) where a sum
/// cancels so much that float32 loses digits in any order: the tolerance of the fixtures at
/// other shapes, whose tensors span several scales.
fn assert_close_to_scale(what: &str, ours: &[f32], theirs: &[f64], torch_f32_error: f64) {
    assert_eq!(ours.len(), theirs.len(), "{what}: length");
    let tolerance = TOLERANCE.max(5.0 * torch_f32_error);
    let scale = theirs.iter().fold(0.0f64, |m, v| m.max(v.abs())).max(1e-12);
    let (i, worst) = ours
        .iter()
        .zip(theirs)
        .map(|(&a, &b)| (a as f64 - b).abs())
        .enumerate()
        .fold((0, 0.0), |best, (i, e)| if e > best.1 { (i, e) } else { best });
    assert!(
        worst <= tolerance * scale,
        "{what}: element {i} is {} in eegrun but {} in float64 PyTorch (error {:.2e} of scale {scale:.2e}; PyTorch's float32 {torch_f32_error:.1e})",
        ours[i],
        theirs[i],
        worst / scale
    );
}

/// The state formula of scripts/make_fixtures.py (`formula_state`): the k-th tensor's i-th
/// value.
fn formula_state(model: &mut Model<Cpu>) {
    let dev = Cpu::default();
    let named: Vec<(String, bool)> = model.tensors().iter().map(|t| (t.name.clone(), t.learnable)).collect();
    let fans: Vec<usize> = fan_ins(model);
    for (k, ((name, _), tensor)) in named.iter().zip(model.tensors_mut()).enumerate() {
        let n = tensor.shape().0;
        let values: Vec<f32> = (0..n)
            .map(|i| {
                let wave = (1.3 * i as f64 + k as f64).sin();
                let v = if name.ends_with("running_var") {
                    1.0 + 0.5 * wave
                } else if name.ends_with("running_mean") {
                    0.2 * wave
                } else if fans[k] == 0 {
                    1.0 + 0.2 * wave // BatchNorm weight
                } else {
                    wave / (fans[k] as f64).sqrt()
                };
                v as f32
            })
            .collect();
        *tensor = dev.tensor_from_vec(values, (n,));
    }
}

/// Each state tensor's fan-in as the formula uses it: the elements of one output unit for a
/// weight of several axes, 16 for a bias, 0 for a BatchNorm weight (its own formula).
fn fan_ins(model: &Model<Cpu>) -> Vec<usize> {
    use eegrun::nn::layers::Layer;
    let mut fans = Vec::new();
    for layer in &model.layers {
        match layer {
            Layer::Conv { geometry, bias, .. } => {
                fans.push(geometry.in_per_group() * geometry.kernel.0 * geometry.kernel.1);
                if bias.is_some() {
                    fans.push(16);
                }
            }
            Layer::BatchNorm { .. } => fans.extend([0, 16, 16, 16]),
            _ => {}
        }
    }
    fans.extend([model.classifier.1.in_features, 16]);
    fans
}

/// One case of scripts/make_fixtures.py's SHAPE_CASES: ELU, dropout 0, the formula state and
/// batch; train and eval logits and loss, every gradient, the running statistics, and for
/// EEGNet two Adam steps.
fn check_shape(case: &str, kind: ModelKind, shape: Shape, eegnet: EegNetArch, deepconvnet: DeepConvNetArch) {
    const BATCH: usize = 6;
    let f = fixture(&format!("shapes/{case}.npz"));
    let dev = Cpu::default();
    let spec = ModelSpec {
        kind,
        activation: Activation::Elu { alpha: 1.0 },
        dropout: 0.0,
        shape,
        eegnet,
        deepconvnet,
    };
    spec.check().unwrap();
    let build = || {
        let mut model = Model::new(&dev, spec, &mut rand_chacha::ChaCha8Rng::seed_from_u64(0));
        formula_state(&mut model);
        model
    };
    let mut model = build();
    assert_eq!(
        model.parameter_count() as f64,
        f["params"].data[0],
        "{case}: parameters"
    );
    let close = |key: &str, ours: &[f32]| {
        let torch_f32_error = f[&format!("f32err.{key}")].data[0];
        assert_close_to_scale(&format!("{case} {key}"), ours, &f[key].data, torch_f32_error)
    };
    let (c, t, k) = (shape.channels, shape.samples, shape.classes);
    // scripts/make_fixtures.py's formula_input, at the phase it chose so that no max-pooling
    // window nearly ties (where a float32 rounding may move a gradient to the other element).
    let phase = f["input_phase"].data[0];
    let x: Vec<f32> = (0..BATCH * c * t)
        .map(|i| {
            let i = i as f64;
            (3.0 * (0.7 * i + 1e-4 * i * i + phase).sin()) as f32
        })
        .collect();
    let onehot: Vec<f32> = (0..BATCH)
        .flat_map(|n| (0..k).map(move |j| (n % k == j) as u8 as f32))
        .collect();
    let x = dev.tensor_from_vec(x, (BATCH, 1, c, t));
    let targets = dev.tensor_from_vec(onehot, (BATCH, k));
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(0);
    let logits = model.forward(x.clone().traced(Gradients::leaky()), true, &mut rng);
    close("train.logits", &logits.retaped::<NoneTape>().as_vec());
    let loss = cross_entropy_with_logits_loss(logits, targets.clone());
    close("train.loss", &loss.retaped::<NoneTape>().as_vec());
    let grads = loss.backward();
    // EEGNet's first BatchNorm is normalised away by the depthwise convolution (one input
    // channel per output) and the second BatchNorm: its gradients are 0 but for rounding, on
    // both sides. A gradient below 1e-3 of the model's largest is held to that bound instead.
    let largest = model
        .tensors()
        .iter()
        .filter(|t| t.learnable)
        .flat_map(|t| f[&format!("train.grad.{}", t.name)].data.iter().map(|v| v.abs()))
        .fold(0.0f64, f64::max);
    let vanishing = 1e-3 * largest;
    for t in model.tensors() {
        let (key, ours) = if t.learnable {
            (format!("train.grad.{}", t.name), grads.get(t.tensor).as_vec())
        } else {
            (format!("train.after.{}", t.name), t.tensor.as_vec())
        };
        let theirs = &f[&key].data;
        if t.learnable && theirs.iter().all(|v| v.abs() < vanishing) {
            let ours_largest = ours.iter().fold(0.0f64, |m, v| m.max(v.abs() as f64));
            assert!(
                ours_largest < vanishing,
                "{case} {key}: PyTorch's gradient vanishes (below {vanishing:.1e}) but eegrun's reaches {ours_largest:.1e}"
            );
            continue;
        }
        close(&key, &ours);
    }
    if kind == ModelKind::EegNet {
        // PyTorch's gradients, as the lab's Adam fixture feeds them (the vanishing ones
        // differ in their rounding, which Adam's normalisation would magnify).
        let names = two_adam_steps(&dev, &mut model, &f);
        for (name, p) in names.iter().zip(model.learnable_mut()) {
            close(&format!("adam.{name}"), &p.as_vec());
        }
    }
    let mut model = build();
    let logits = model.forward(x, false, &mut rng);
    close("eval.logits", &logits.as_vec());
    let loss = cross_entropy_with_logits_loss(logits, targets);
    close("eval.loss", &loss.as_vec());
}

fn shape(channels: usize, samples: usize, classes: usize) -> Shape {
    Shape {
        channels,
        samples,
        classes,
    }
}

#[test]
fn both_models_match_pytorch_at_22_channels_480_samples_3_classes() {
    let s = shape(22, 480, 3);
    check_shape(
        "eegnet_22x480x3",
        ModelKind::EegNet,
        s,
        EegNetArch::default(),
        DeepConvNetArch::default(),
    );
    check_shape(
        "deepconvnet_22x480x3",
        ModelKind::DeepConvNet,
        s,
        EegNetArch::default(),
        DeepConvNetArch::default(),
    );
}

#[test]
fn both_models_match_pytorch_at_64_channels_160_samples_4_classes() {
    let s = shape(64, 160, 4);
    check_shape(
        "eegnet_64x160x4",
        ModelKind::EegNet,
        s,
        EegNetArch::default(),
        DeepConvNetArch::default(),
    );
    check_shape(
        "deepconvnet_64x160x4",
        ModelKind::DeepConvNet,
        s,
        EegNetArch::default(),
        DeepConvNetArch::default(),
    );
}

#[test]
fn both_models_match_pytorch_at_3_channels_1000_samples_2_classes() {
    let s = shape(3, 1000, 2);
    check_shape(
        "eegnet_3x1000x2",
        ModelKind::EegNet,
        s,
        EegNetArch::default(),
        DeepConvNetArch::default(),
    );
    check_shape(
        "deepconvnet_3x1000x2",
        ModelKind::DeepConvNet,
        s,
        EegNetArch::default(),
        DeepConvNetArch::default(),
    );
}

#[test]
fn other_architectures_match_pytorch() {
    let eegnet = EegNetArch {
        f1: 8,
        d: 4,
        kernel: 33,
        ..EegNetArch::default()
    };
    check_shape(
        "eegnet_64x160x4_f1-8_d4_kernel33",
        ModelKind::EegNet,
        shape(64, 160, 4),
        eegnet,
        DeepConvNetArch::default(),
    );
    let deepconvnet = DeepConvNetArch {
        kernel: 7,
        ..DeepConvNetArch::default()
    };
    check_shape(
        "deepconvnet_3x1000x2_kernel7",
        ModelKind::DeepConvNet,
        shape(3, 1000, 2),
        EegNetArch::default(),
        deepconvnet,
    );
}

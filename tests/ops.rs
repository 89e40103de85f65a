//! The layers on dfdx's tape: finite-difference gradient checks of the fused CPU
//! pipeline, and the generic dfdx-composed path (used on CUDA) against it, layer by layer
//! and for the fused BatchNorm + activation + pooling + dropout stages of the models.

use dfdx::prelude::*;
use eegrun::nn::layers::Layer;
use eegrun::nn::{composed, Activation, Backend, ConvGeometry, Param, Pool};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

type S4 = (usize, usize, usize, usize);

fn random(len: usize, seed: u64) -> Vec<f32> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    // Keep values away from 0 so activation kinks and max-pool ties are not crossed.
    (0..len)
        .map(|_| {
            let v: f32 = rng.gen_range(0.1..1.5);
            if rng.gen() {
                v
            } else {
                -v
            }
        })
        .collect()
}

fn tensor<S: Shape>(values: Vec<f32>, shape: S) -> Tensor<S, f32, Cpu> {
    Cpu::default().tensor_from_vec(values, shape)
}

/// A traced activation tensor.
type Traced = Tensor<S4, f32, Cpu, OwnedTape<f32, Cpu>>;
/// An op under test: input and parameter values in, output tensor out.
type Op<'a> = dyn Fn(Traced, &[Param<Cpu>]) -> Traced + 'a;

/// Runs `layers` through the CPU pipeline; dropout seeds come from a fixed RNG.
fn cpu(x: Traced, mut layers: Vec<Layer<Cpu>>, training: bool) -> Traced {
    Cpu::forward_layers(x, &mut layers, training, &mut ChaCha8Rng::seed_from_u64(42))
}

/// Runs `layers` through the generic path with the same dropout seeds.
fn gen(x: Traced, mut layers: Vec<Layer<Cpu>>, training: bool) -> Traced {
    composed::forward_layers(x, &mut layers, training, &mut ChaCha8Rng::seed_from_u64(42))
}

/// A convolution layer with the given weight (and bias).
fn conv_layer(g: ConvGeometry, p: &[Param<Cpu>]) -> Layer<Cpu> {
    Layer::Conv {
        geometry: g,
        weight: p[0].clone(),
        bias: p.get(1).cloned(),
        input_grad: true,
    }
}

/// Loss Σ out·r and its gradients with respect to the input and each parameter.
fn loss_and_grads(op: &Op, x: &[f32], shape: S4, params: &[Vec<f32>], r_seed: u64) -> (f64, Vec<Vec<f32>>) {
    let xt = tensor(x.to_vec(), shape);
    let ps: Vec<Param<Cpu>> = params.iter().map(|p| tensor(p.clone(), (p.len(),))).collect();
    let out = op(xt.clone().traced(Gradients::leaky()), &ps);
    let r = tensor(random(out.shape().num_elements(), r_seed), *out.shape());
    let loss = (out * r).sum::<(), _>();
    let value = loss.retaped::<NoneTape>().as_vec()[0] as f64;
    let grads = loss.backward();
    let mut all = vec![grads.get(&xt).as_vec()];
    all.extend(ps.iter().map(|p| grads.get(p).as_vec()));
    (value, all)
}

/// Central differences at a handful of coordinates of the input and every parameter.
fn finite_difference_check(name: &str, op: &Op, shape: S4, params: Vec<Vec<f32>>) {
    let x = random(shape.num_elements(), 1);
    let (_, analytic) = loss_and_grads(op, &x, shape, &params, 99);
    let eps = 1e-2f32;
    let mut inputs = vec![x];
    inputs.extend(params);
    for which in 0..inputs.len() {
        let len = inputs[which].len();
        for k in [0, len / 3, len / 2, len - 1] {
            let eval = |delta: f32| {
                let mut moved = inputs.clone();
                moved[which][k] += delta;
                loss_and_grads(op, &moved[0], shape, &moved[1..], 99).0
            };
            let numeric = (eval(eps) - eval(-eps)) / (2.0 * eps as f64);
            let got = analytic[which][k] as f64;
            assert!(
                (numeric - got).abs() <= 2e-2 * numeric.abs().max(1.0),
                "{name}: d loss / d input{which}[{k}] is {got} analytically but {numeric} numerically"
            );
        }
    }
}

/// The CPU kernels and the generic path agree on the output and every gradient.
fn paths_agree(name: &str, cpu: &Op, generic: &Op, shape: S4, params: Vec<Vec<f32>>) {
    let x = random(shape.num_elements(), 5);
    let (a_loss, a) = loss_and_grads(cpu, &x, shape, &params, 7);
    let (b_loss, b) = loss_and_grads(generic, &x, shape, &params, 7);
    assert!(
        (a_loss - b_loss).abs() <= 1e-4 * a_loss.abs().max(1.0),
        "{name}: loss {a_loss} vs {b_loss}"
    );
    for (i, (ga, gb)) in a.iter().zip(&b).enumerate() {
        assert_eq!(ga.len(), gb.len());
        for (k, (u, v)) in ga.iter().zip(gb).enumerate() {
            assert!(
                (u - v).abs() <= 1e-4 * v.abs().max(1.0),
                "{name}: gradient {i}[{k}]: cpu {u} vs generic {v}"
            );
        }
    }
}

const CONVS: [(&str, ConvGeometry, bool); 4] = [
    (
        "conv 1x5 padded, bias",
        ConvGeometry {
            in_channels: 2,
            out_channels: 3,
            kernel: (1, 5),
            time_padding: 2,
            groups: 1,
        },
        true,
    ),
    (
        "conv 2x3 dense",
        ConvGeometry {
            in_channels: 2,
            out_channels: 3,
            kernel: (2, 3),
            time_padding: 0,
            groups: 1,
        },
        false,
    ),
    (
        "conv 2x1 full height, bias",
        ConvGeometry {
            in_channels: 2,
            out_channels: 3,
            kernel: (2, 1),
            time_padding: 0,
            groups: 1,
        },
        true,
    ),
    (
        "conv 2x1 depthwise",
        ConvGeometry {
            in_channels: 2,
            out_channels: 4,
            kernel: (2, 1),
            time_padding: 0,
            groups: 2,
        },
        false,
    ),
];

fn conv_params(g: &ConvGeometry, bias: bool) -> Vec<Vec<f32>> {
    let mut p = vec![random(g.weight_len(), 3)];
    if bias {
        p.push(random(g.out_channels, 4));
    }
    p
}

#[test]
fn convolution_gradients_match_finite_differences() {
    for (name, g, bias) in CONVS {
        let op = move |x: Traced, p: &[Param<Cpu>]| cpu(x, vec![conv_layer(g, p)], true);
        finite_difference_check(name, &op, (2, 2, 2, 9), conv_params(&g, bias));
    }
}

#[test]
fn convolution_generic_path_matches_finite_differences() {
    for (name, g, bias) in CONVS {
        let op = move |x: Traced, p: &[Param<Cpu>]| gen(x, vec![conv_layer(g, p)], true);
        finite_difference_check(name, &op, (2, 2, 2, 9), conv_params(&g, bias));
    }
}

#[test]
fn convolution_generic_path_matches_cpu_kernel() {
    for (name, g, bias) in CONVS {
        let cpu = move |x: Traced, p: &[Param<Cpu>]| cpu(x, vec![conv_layer(g, p)], true);
        let gen = move |x: Traced, p: &[Param<Cpu>]| gen(x, vec![conv_layer(g, p)], true);
        paths_agree(name, &cpu, &gen, (3, 2, 2, 11), conv_params(&g, bias));
    }
}

/// The 1×5k convolutions (DeepConvNet's 1×5, EEGNet's padded 1×15): on the CPU their weight
/// gradients come from Winograd's transforms, their outputs too from 50 input channels
/// (or a reduction of over 512 terms), their input gradients from a convolution of the
/// output gradient (by the same rule, with out channels for in channels); enough samples
/// for several parallel blocks.
#[test]
fn winograd_convolutions_match_generic_path() {
    let geometry = |in_channels, out_channels, kernel, time_padding| ConvGeometry {
        in_channels,
        out_channels,
        kernel,
        time_padding,
        groups: 1,
    };
    for (g, shape) in [
        (geometry(3, 4, (1, 5), 0), (37, 3, 1, 23)),
        (geometry(4, 3, (1, 15), 7), (35, 4, 1, 30)),
        (geometry(2, 3, (1, 10), 2), (3, 2, 1, 12)),
        (geometry(2, 103, (1, 5), 1), (3, 2, 1, 12)),
        (geometry(50, 3, (1, 10), 3), (17, 50, 1, 21)),
        (geometry(37, 2, (1, 15), 7), (9, 37, 1, 16)),
    ] {
        let name = format!("winograd {:?}", g.kernel);
        let c = move |x: Traced, p: &[Param<Cpu>]| cpu(x, vec![conv_layer(g, p)], true);
        let gn = move |x: Traced, p: &[Param<Cpu>]| gen(x, vec![conv_layer(g, p)], true);
        paths_agree(&name, &c, &gn, shape, conv_params(&g, true));
        finite_difference_check(&name, &c, (2, shape.1, 1, shape.3), conv_params(&g, true));
        // Evaluation without a tape (Winograd's outputs where they pay): the generic
        // path's values within rounding.
        let x = tensor(random(shape.num_elements(), 8), shape);
        let params: Vec<Param<Cpu>> = conv_params(&g, true)
            .into_iter()
            .map(|p| tensor(p.clone(), (p.len(),)))
            .collect();
        let mut rng = ChaCha8Rng::seed_from_u64(0);
        let fast = Cpu::forward_layers(x.clone(), &mut [conv_layer(g, &params)], false, &mut rng).as_vec();
        let reference = composed::forward_layers(x, &mut [conv_layer(g, &params)], false, &mut rng).as_vec();
        assert_eq!(fast.len(), reference.len());
        // Rounding error scales with the outputs' magnitude, not each output's.
        let scale = reference.iter().fold(1.0f32, |m, v| m.max(v.abs()));
        for (i, (a, b)) in fast.iter().zip(&reference).enumerate() {
            assert!(
                (a - b).abs() <= 1e-5 * scale,
                "{name}: output {i}: {a} vs {b} (scale {scale})"
            );
        }
    }
}

#[test]
fn convolution_output_is_cross_correlation_with_zero_padding() {
    // One input channel [1, 2, 3], kernel [1, 10, 100], padding 1 → PyTorch gives [210, 321, 32].
    let g = ConvGeometry {
        in_channels: 1,
        out_channels: 1,
        kernel: (1, 3),
        time_padding: 1,
        groups: 1,
    };
    let layer = Layer::Conv {
        geometry: g,
        weight: tensor(vec![1.0, 10.0, 100.0], (3,)),
        bias: None,
        input_grad: false,
    };
    let out = Cpu::forward_layers(
        tensor(vec![1.0, 2.0, 3.0], (1, 1, 1, 3)),
        &mut [layer],
        false,
        &mut ChaCha8Rng::seed_from_u64(0),
    );
    assert_eq!(out.as_vec(), vec![210.0, 321.0, 32.0]);
}

/// A BatchNorm layer with the given gamma and beta and fixed running statistics.
fn bn_layer(p: &[Param<Cpu>]) -> Layer<Cpu> {
    Layer::BatchNorm {
        gamma: p[0].clone(),
        beta: p[1].clone(),
        running_mean: tensor(vec![0.1, -0.2, 0.3], (3,)),
        running_var: tensor(vec![0.5, 1.5, 2.0], (3,)),
    }
}

/// Gamma and beta for three channels.
fn bn_params() -> Vec<Vec<f32>> {
    vec![random(3, 11), random(3, 12)]
}

#[test]
fn batch_norm_gradients_match_finite_differences() {
    for training in [true, false] {
        let op = move |x: Traced, p: &[Param<Cpu>]| cpu(x, vec![bn_layer(p)], training);
        finite_difference_check(
            &format!("batch norm (training {training})"),
            &op,
            (3, 3, 1, 4),
            bn_params(),
        );
    }
}

#[test]
fn batch_norm_generic_path_matches_cpu_kernel() {
    for training in [true, false] {
        let c = move |x: Traced, p: &[Param<Cpu>]| cpu(x, vec![bn_layer(p)], training);
        let g = move |x: Traced, p: &[Param<Cpu>]| gen(x, vec![bn_layer(p)], training);
        paths_agree("batch norm", &c, &g, (4, 3, 2, 5), bn_params());
    }
}

#[test]
fn batch_norm_updates_running_statistics_like_pytorch() {
    // x over one channel: [1, 2, 3, 4] → mean 2.5, unbiased variance 5/3.
    let x = tensor(vec![1.0, 2.0, 3.0, 4.0], (2, 1, 1, 2));
    let mut rng = ChaCha8Rng::seed_from_u64(0);
    let mut running = Vec::new();
    for generic_path in [false, true] {
        let mut layers = [Layer::BatchNorm {
            gamma: tensor(vec![1.0], (1,)),
            beta: tensor(vec![0.0], (1,)),
            running_mean: tensor(vec![0.0], (1,)),
            running_var: tensor(vec![1.0], (1,)),
        }];
        let y = if generic_path {
            composed::forward_layers(x.clone(), &mut layers, true, &mut rng)
        } else {
            Cpu::forward_layers(x.clone(), &mut layers, true, &mut rng)
        };
        let expected = (1.0 - 2.5) / (1.25f32 + 1e-5).sqrt();
        assert!((y.as_vec()[0] - expected).abs() < 1e-5);
        let [Layer::BatchNorm {
            running_mean,
            running_var,
            ..
        }] = &layers
        else {
            unreachable!()
        };
        let (rm, rv) = (running_mean.as_vec()[0], running_var.as_vec()[0]);
        assert!((rm - 0.25).abs() < 1e-6, "running mean {rm}");
        assert!((rv - (0.9 + 0.1 * 5.0 / 3.0)).abs() < 1e-6, "running variance {rv}");
        running.push((rm, rv));
    }
    assert!((running[0].0 - running[1].0).abs() < 1e-6 && (running[0].1 - running[1].1).abs() < 1e-6);
}

const ACTIVATIONS: [Activation; 3] = [
    Activation::Relu,
    Activation::LeakyRelu { slope: 0.01 },
    Activation::Elu { alpha: 1.0 },
];

#[test]
fn activation_gradients_match_finite_differences_and_generic_path() {
    for act in ACTIVATIONS {
        let c = move |x: Traced, _: &[Param<Cpu>]| cpu(x, vec![Layer::Activation(act)], true);
        let g = move |x: Traced, _: &[Param<Cpu>]| gen(x, vec![Layer::Activation(act)], true);
        finite_difference_check(act.name(), &c, (2, 2, 1, 5), vec![]);
        paths_agree(act.name(), &c, &g, (2, 3, 1, 7), vec![]);
    }
}

#[test]
fn activations_use_pytorch_constants() {
    let x = tensor(vec![-2.0, 3.0], (1, 1, 1, 2));
    let mut rng = ChaCha8Rng::seed_from_u64(0);
    let mut run = |act| Cpu::forward_layers(x.clone(), &mut [Layer::Activation(act)], false, &mut rng).as_vec();
    let leaky = run(Activation::LeakyRelu { slope: 0.01 });
    assert_eq!(leaky, vec![-0.02, 3.0]);
    let elu = run(Activation::Elu { alpha: 1.0 });
    assert!((elu[0] - ((-2.0f32).exp() - 1.0)).abs() < 1e-7 && elu[1] == 3.0);
}

#[test]
fn pooling_gradients_match_finite_differences_and_generic_path() {
    for pool in [Pool::Avg(4), Pool::Max(2), Pool::Avg(3)] {
        let c = move |x: Traced, _: &[Param<Cpu>]| cpu(x, vec![Layer::Pool(pool)], true);
        let g = move |x: Traced, _: &[Param<Cpu>]| gen(x, vec![Layer::Pool(pool)], true);
        let name = format!("{pool:?}");
        finite_difference_check(&name, &c, (2, 2, 1, 11), vec![]);
        paths_agree(&name, &c, &g, (2, 3, 2, 13), vec![]);
    }
}

#[test]
fn pooling_drops_the_tail_like_pytorch() {
    let x = tensor((1..=7).map(|v| v as f32).collect(), (1, 1, 1, 7));
    let mut rng = ChaCha8Rng::seed_from_u64(0);
    let mut run = |pool| Cpu::forward_layers(x.clone(), &mut [Layer::Pool(pool)], false, &mut rng).as_vec();
    assert_eq!(run(Pool::Avg(3)), vec![2.0, 5.0]);
    assert_eq!(run(Pool::Max(2)), vec![2.0, 4.0, 6.0]);
}

/// The models' block tails: BatchNorm, activation, pooling and dropout, run by the CPU as
/// one fused stage, against the generic path layer by layer and finite differences.
#[test]
fn fused_block_stages_match_generic_path_and_finite_differences() {
    for (act, pool) in [
        (Activation::Elu { alpha: 1.0 }, Pool::Avg(4)),
        (Activation::Relu, Pool::Max(2)),
        (Activation::LeakyRelu { slope: 0.01 }, Pool::Max(2)),
    ] {
        for training in [true, false] {
            let block = move |p: &[Param<Cpu>]| {
                vec![
                    bn_layer(p),
                    Layer::Activation(act),
                    Layer::Pool(pool),
                    Layer::Dropout(0.25),
                ]
            };
            let c = move |x: Traced, p: &[Param<Cpu>]| cpu(x, block(p), training);
            let g = move |x: Traced, p: &[Param<Cpu>]| gen(x, block(p), training);
            let name = format!("{act:?} {pool:?} training {training}");
            paths_agree(&name, &c, &g, (4, 3, 2, 13), bn_params());
            finite_difference_check(&name, &c, (3, 3, 1, 8), bn_params());
        }
    }
}

/// A convolution followed by a fused stage, with the input gradient flowing through both.
#[test]
fn convolution_then_block_matches_generic_path() {
    let g = CONVS[0].1;
    let stack = move |p: &[Param<Cpu>]| {
        vec![
            conv_layer(g, &p[..2]),
            bn_layer(&p[2..]),
            Layer::Activation(Activation::Elu { alpha: 1.0 }),
            Layer::Pool(Pool::Max(2)),
        ]
    };
    let mut params = conv_params(&g, true);
    params.extend(bn_params());
    let c = move |x: Traced, p: &[Param<Cpu>]| cpu(x, stack(p), true);
    let gn = move |x: Traced, p: &[Param<Cpu>]| gen(x, stack(p), true);
    paths_agree("conv + block", &c, &gn, (3, 2, 2, 11), params.clone());
    finite_difference_check("conv + block", &c, (2, 2, 2, 9), params);
}

#[test]
fn dropout_scales_kept_units_and_matches_generic_path() {
    let p = 0.25;
    let mask = eegrun::nn::dropout_mask(100_000, p, 9);
    let kept = mask.iter().filter(|&&m| m != 0.0).count() as f64 / mask.len() as f64;
    assert!((kept - 0.75).abs() < 0.01, "kept fraction {kept}");
    assert!(mask.iter().all(|&m| m == 0.0 || m == 1.0 / 0.75));
    assert_eq!(mask, eegrun::nn::dropout_mask(100_000, p, 9));
    let c = |x: Traced, _: &[Param<Cpu>]| cpu(x, vec![Layer::Dropout(0.25)], true);
    let g = |x: Traced, _: &[Param<Cpu>]| gen(x, vec![Layer::Dropout(0.25)], true);
    finite_difference_check("dropout", &c, (2, 3, 1, 9), vec![]);
    paths_agree("dropout", &c, &g, (2, 3, 1, 9), vec![]);
}

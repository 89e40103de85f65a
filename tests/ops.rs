//! The tape operations: finite-difference gradient checks of the CPU kernels, and the
//! generic dfdx-composed path (used on CUDA) against the CPU kernels.

use dfdx::prelude::*;
use eegrun::nn::{generic, Activation, Backend, ConvGeometry, Param, Pool};
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

const CONVS: [(&str, ConvGeometry, bool); 3] = [
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
        let op = move |x: Traced, p: &[Param<Cpu>]| Cpu::conv2d(x, &g, &p[0], p.get(1), true);
        finite_difference_check(name, &op, (2, 2, 2, 9), conv_params(&g, bias));
    }
}

#[test]
fn convolution_generic_path_matches_finite_differences() {
    for (name, g, bias) in CONVS {
        let op = move |x: Traced, p: &[Param<Cpu>]| generic::conv2d(x, &g, &p[0], p.get(1));
        finite_difference_check(name, &op, (2, 2, 2, 9), conv_params(&g, bias));
    }
}

#[test]
fn convolution_generic_path_matches_cpu_kernel() {
    for (name, g, bias) in CONVS {
        let cpu = move |x: Traced, p: &[Param<Cpu>]| Cpu::conv2d(x, &g, &p[0], p.get(1), true);
        let gen = move |x: Traced, p: &[Param<Cpu>]| generic::conv2d(x, &g, &p[0], p.get(1));
        paths_agree(name, &cpu, &gen, (3, 2, 2, 11), conv_params(&g, bias));
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
    let out = Cpu::conv2d(
        tensor(vec![1.0, 2.0, 3.0], (1, 1, 1, 3)),
        &g,
        &tensor(vec![1.0, 10.0, 100.0], (3,)),
        None,
        false,
    );
    assert_eq!(out.as_vec(), vec![210.0, 321.0, 32.0]);
}

/// Running mean and variance for three channels.
fn running() -> (Param<Cpu>, Param<Cpu>) {
    (tensor(vec![0.1, -0.2, 0.3], (3,)), tensor(vec![0.5, 1.5, 2.0], (3,)))
}

fn bn_op(training: bool) -> impl Fn(Traced, &[Param<Cpu>]) -> Traced {
    move |x, p| {
        let (mut rm, mut rv) = running();
        Cpu::batch_norm(x, &p[0], &p[1], (&mut rm, &mut rv), training)
    }
}

/// Gamma and beta for three channels.
fn bn_params() -> Vec<Vec<f32>> {
    vec![random(3, 11), random(3, 12)]
}

#[test]
fn batch_norm_gradients_match_finite_differences() {
    finite_difference_check("batch norm (train)", &bn_op(true), (3, 3, 1, 4), bn_params());
    finite_difference_check("batch norm (eval)", &bn_op(false), (3, 3, 1, 4), bn_params());
}

#[test]
fn batch_norm_generic_path_matches_cpu_kernel() {
    for training in [true, false] {
        let gen = move |x: Traced, p: &[Param<Cpu>]| {
            let (mut rm, mut rv) = running();
            generic::batch_norm(x, &p[0], &p[1], (&mut rm, &mut rv), training)
        };
        paths_agree("batch norm", &bn_op(training), &gen, (4, 3, 2, 5), bn_params());
    }
}

#[test]
fn batch_norm_updates_running_statistics_like_pytorch() {
    // x over one channel: [1, 2, 3, 4] → mean 2.5, unbiased variance 5/3.
    let (mut rm, mut rv) = (tensor(vec![0.0], (1,)), tensor(vec![1.0], (1,)));
    let (gamma, beta) = (tensor(vec![1.0], (1,)), tensor(vec![0.0], (1,)));
    let x = tensor(vec![1.0, 2.0, 3.0, 4.0], (2, 1, 1, 2));
    let y = Cpu::batch_norm(x.clone(), &gamma, &beta, (&mut rm, &mut rv), true);
    assert!((rm.as_vec()[0] - 0.25).abs() < 1e-6);
    assert!((rv.as_vec()[0] - (0.9 + 0.1 * 5.0 / 3.0)).abs() < 1e-6);
    let expected = (1.0 - 2.5) / (1.25f32 + 1e-5).sqrt();
    assert!((y.as_vec()[0] - expected).abs() < 1e-5);
    let (mut grm, mut grv) = (tensor(vec![0.0], (1,)), tensor(vec![1.0], (1,)));
    let _ = generic::batch_norm(x, &gamma, &beta, (&mut grm, &mut grv), true);
    assert!((grm.as_vec()[0] - rm.as_vec()[0]).abs() < 1e-6 && (grv.as_vec()[0] - rv.as_vec()[0]).abs() < 1e-6);
}

const ACTIVATIONS: [Activation; 3] = [
    Activation::Relu,
    Activation::LeakyRelu { slope: 0.01 },
    Activation::Elu { alpha: 1.0 },
];

#[test]
fn activation_gradients_match_finite_differences_and_generic_path() {
    for act in ACTIVATIONS {
        let cpu = move |x: Traced, _: &[Param<Cpu>]| Cpu::activation(x, act);
        let gen = move |x: Traced, _: &[Param<Cpu>]| generic::activation(x, act);
        finite_difference_check(act.name(), &cpu, (2, 2, 1, 5), vec![]);
        paths_agree(act.name(), &cpu, &gen, (2, 3, 1, 7), vec![]);
    }
}

#[test]
fn activations_use_pytorch_constants() {
    let x = tensor(vec![-2.0, 3.0], (1, 1, 1, 2));
    let leaky = Cpu::activation(x.clone(), Activation::parse("leaky_relu", 0.01).unwrap()).as_vec();
    assert_eq!(leaky, vec![-0.02, 3.0]);
    let elu = Cpu::activation(x, Activation::parse("elu", 0.01).unwrap()).as_vec();
    assert!((elu[0] - ((-2.0f32).exp() - 1.0)).abs() < 1e-7 && elu[1] == 3.0);
}

#[test]
fn pooling_gradients_match_finite_differences_and_generic_path() {
    for pool in [Pool::Avg(4), Pool::Max(2), Pool::Avg(3)] {
        let cpu = move |x: Traced, _: &[Param<Cpu>]| Cpu::pool(x, pool);
        let gen = move |x: Traced, _: &[Param<Cpu>]| generic::pool(x, pool);
        let name = format!("{pool:?}");
        finite_difference_check(&name, &cpu, (2, 2, 1, 11), vec![]);
        paths_agree(&name, &cpu, &gen, (2, 3, 2, 13), vec![]);
    }
}

#[test]
fn pooling_drops_the_tail_like_pytorch() {
    let x = tensor((1..=7).map(|v| v as f32).collect(), (1, 1, 1, 7));
    assert_eq!(Cpu::pool(x.clone(), Pool::Avg(3)).as_vec(), vec![2.0, 5.0]);
    assert_eq!(Cpu::pool(x, Pool::Max(2)).as_vec(), vec![2.0, 4.0, 6.0]);
}

#[test]
fn fast_exponential_is_accurate_on_the_negative_axis() {
    let mut worst = 0.0f64;
    for i in 0..=200_000 {
        let x = -(i as f32) * 1e-4 * 8.0; // 0 … −160
        let exact = (x as f64).exp();
        let got = eegrun::nn::cpu::exp_nonpositive(x) as f64;
        worst = worst.max((got - exact).abs() / exact.max(1e-30));
        if x < -87.0 {
            assert!(got < 1e-37);
        }
    }
    assert!(worst < 3e-7, "worst relative error {worst}");
}

#[test]
fn dropout_scales_kept_units_and_matches_generic_path() {
    let p = 0.25;
    let mask = eegrun::nn::dropout_mask(100_000, p, 9);
    let kept = mask.iter().filter(|&&m| m != 0.0).count() as f64 / mask.len() as f64;
    assert!((kept - 0.75).abs() < 0.01, "kept fraction {kept}");
    assert!(mask.iter().all(|&m| m == 0.0 || m == 1.0 / 0.75));
    assert_eq!(mask, eegrun::nn::dropout_mask(100_000, p, 9));
    let cpu = |x: Traced, _: &[Param<Cpu>]| Cpu::dropout(x, 0.25, 3);
    let gen = |x: Traced, _: &[Param<Cpu>]| generic::dropout(x, 0.25, 3);
    finite_difference_check("dropout", &cpu, (2, 3, 1, 9), vec![]);
    paths_agree("dropout", &cpu, &gen, (2, 3, 1, 9), vec![]);
}

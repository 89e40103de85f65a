//! The CPU backend: a model's feature layers run as one operation on dfdx's tape.
//!
//! The layers are grouped into stages — a convolution, or BatchNorm + activation +
//! pooling + dropout fused into one pass — that work in reused buffers. The forward
//! pass keeps what the backward pass needs (stage inputs, statistics, masks) and records
//! a single backward closure that walks the stages in reverse and adds the gradients of
//! the input and of every parameter. Evaluation (no tape) keeps nothing.

/// Defines `$name(args)`, which runs the `#[inline(always)]` function `$body(args)`
/// compiled for AVX2 when the CPU has it: its loops then vectorise 8 wide instead of 4,
/// with identical results (no reassociation, no fused multiply-add).
macro_rules! with_avx2 {
    ($(#[$meta:meta])* $vis:vis fn $name:ident = $body:ident($($arg:ident: $ty:ty),* $(,)?) $(-> $ret:ty)?) => {
        $(#[$meta])*
        $vis fn $name($($arg: $ty),*) $(-> $ret)? {
            #[cfg(target_arch = "x86_64")]
            {
                #[target_feature(enable = "avx2")]
                fn fast($($arg: $ty),*) $(-> $ret)? {
                    $body($($arg),*)
                }
                if std::is_x86_feature_detected!("avx2") {
                    // SAFETY: the CPU was just checked to support AVX2.
                    return unsafe { fast($($arg),*) };
                }
            }
            $body($($arg),*)
        }
    };
}

mod kernels;
mod winograd;

pub use kernels::exp_nonpositive;

use super::layers::Layer;
use super::{fill_dropout_mask, Act, Activation, Backend, ConvGeometry, Pool, Shape4, BN_EPS, BN_MOMENTUM};
use dfdx::prelude::*;
use kernels::{
    activation_backward, add_into, bias_gradient, conv_backward, conv_forward, give_buffer, gradient_sums,
    normalize_activate, normalize_backward, pool_row, row_sums, take_buffer, unpool_row,
};
use rand::Rng;
use rayon::prelude::*;

/// Rows (one time series each) per parallel work item in the fused pass.
const ROWS_PER_TASK: usize = 32;

/// Moves the gradient of `$t` out of `$grads` (the op that produced `$t` is its last reader).
macro_rules! take_grad {
    ($grads:expr, $t:expr) => {
        std::mem::take(&mut **$grads.get_or_alloc_mut(&$t)?)
    };
}

/// Copies a contiguous tensor's data into a reused buffer.
fn read<S: Shape>(t: &Tensor<S, f32, Cpu>) -> Vec<f32> {
    let mut v = take_buffer(t.shape().num_elements());
    t.copy_into(&mut v);
    v
}

/// One step of the pipeline.
enum Stage {
    /// The convolution at this layer index.
    Conv(usize),
    /// BatchNorm (layer index), activation, pooling and dropout (p, mask seed), each
    /// optional, in this order.
    Pointwise {
        norm: Option<usize>,
        act: Option<Activation>,
        pool: Option<Pool>,
        dropout: Option<(f32, u64)>,
    },
}

/// Groups layers into stages; draws a mask seed for each active dropout layer, in layer
/// order (as the generic path does).
fn plan<D: Backend>(layers: &[Layer<D>], training: bool, rng: &mut impl Rng) -> Vec<Stage> {
    let mut stages = Vec::new();
    for (index, layer) in layers.iter().enumerate() {
        let open = match stages.last_mut() {
            Some(Stage::Pointwise {
                norm,
                act,
                pool,
                dropout,
            }) => Some((norm, act, pool, dropout)),
            _ => None,
        };
        let fits = match (&open, layer) {
            (Some((_, act, pool, dropout)), Layer::Activation(_)) => {
                act.is_none() && pool.is_none() && dropout.is_none()
            }
            (Some((_, _, pool, dropout)), Layer::Pool(_)) => pool.is_none() && dropout.is_none(),
            (Some((_, _, _, dropout)), Layer::Dropout(_)) => dropout.is_none(),
            _ => false,
        };
        if !fits && !matches!(layer, Layer::Conv { .. }) {
            stages.push(Stage::Pointwise {
                norm: None,
                act: None,
                pool: None,
                dropout: None,
            });
        }
        match (stages.last_mut(), layer) {
            (_, Layer::Conv { .. }) => stages.push(Stage::Conv(index)),
            (Some(Stage::Pointwise { norm, .. }), Layer::BatchNorm { .. }) => *norm = Some(index),
            (Some(Stage::Pointwise { act, .. }), Layer::Activation(a)) => *act = Some(*a),
            (Some(Stage::Pointwise { pool, .. }), Layer::Pool(p)) => *pool = Some(*p),
            (Some(Stage::Pointwise { dropout, .. }), Layer::Dropout(p)) => {
                if training && *p > 0.0 {
                    *dropout = Some((*p, rng.gen()));
                }
            }
            _ => unreachable!("a new pointwise stage was opened above"),
        }
    }
    stages
}

/// Gradients of one layer's learnable tensors, in `state_dict` order.
type LayerGrads = Vec<Vec<f32>>;

/// What a stage's backward pass needs.
enum Saved {
    Conv {
        layer: usize,
        input: Vec<f32>,
        shape: Shape4,
        geometry: ConvGeometry,
        weight: Vec<f32>,
        has_bias: bool,
        input_grad: bool,
    },
    Pointwise {
        input: Vec<f32>,
        shape: Shape4,
        affine: Affine,
        norm: Option<(usize, Normalization)>,
        act: Option<Activation>,
        pool: Option<Pool>,
        mask: Option<Vec<f32>>,
    },
}

/// Per-channel `x · scale + shift` (BatchNorm folded; identity without one).
struct Affine {
    scale: Vec<f32>,
    shift: Vec<f32>,
}

/// BatchNorm's statistics and gamma, for its backward pass.
struct Normalization {
    mean: Vec<f32>,
    invstd: Vec<f32>,
    gamma: Vec<f32>,
    training: bool,
}

/// Per-channel totals of per-row pairs of sums (rows run over (batch, channel, height)),
/// added in row order so the result does not depend on the thread count.
fn channel_sums(per_row: Vec<(f64, f64)>, (c, h): (usize, usize)) -> Vec<(f64, f64)> {
    let mut sums = vec![(0.0, 0.0); c];
    for (r, (a, b)) in per_row.into_iter().enumerate() {
        let ch = (r / h) % c;
        sums[ch].0 += a;
        sums[ch].1 += b;
    }
    sums
}

/// BatchNorm's folded affine map and statistics; in training also updates the running
/// statistics with PyTorch's momentum rule (unbiased variance).
/// `sums` are the input rows' [`row_sums`] when the producing convolution computed them.
fn normalization(
    layer: &mut Layer<Cpu>,
    x: &[f32],
    shape: Shape4,
    training: bool,
    sums: Option<Vec<(f64, f64)>>,
) -> (Affine, Normalization) {
    let Layer::BatchNorm {
        gamma,
        beta,
        running_mean,
        running_var,
    } = layer
    else {
        unreachable!("planned as BatchNorm")
    };
    let (n, c, h, w) = shape;
    let (gamma_v, beta_v) = (gamma.as_vec(), beta.as_vec());
    let (mean, invstd) = if training {
        let m = (n * h * w) as f64;
        let per_row = sums.unwrap_or_else(|| x[..n * c * h * w].par_chunks(w).map(row_sums).collect());
        let sums = channel_sums(per_row, (c, h));
        let mean64: Vec<f64> = sums.iter().map(|s| s.0 / m).collect();
        let var64: Vec<f64> = sums
            .iter()
            .zip(&mean64)
            .map(|(s, mu)| (s.1 / m - mu * mu).max(0.0))
            .collect();
        let mom = BN_MOMENTUM as f64;
        let unbias = m / (m - 1.0).max(1.0);
        let (rm, rv) = (running_mean.as_vec(), running_var.as_vec());
        let new_rm = (0..c).map(|i| ((1.0 - mom) * rm[i] as f64 + mom * mean64[i]) as f32);
        let new_rv = (0..c).map(|i| ((1.0 - mom) * rv[i] as f64 + mom * var64[i] * unbias) as f32);
        let dev = running_mean.device().clone();
        *running_mean = dev.tensor_from_vec(new_rm.collect(), (c,));
        *running_var = dev.tensor_from_vec(new_rv.collect(), (c,));
        (
            mean64.iter().map(|v| *v as f32).collect::<Vec<f32>>(),
            var64
                .iter()
                .map(|v| (1.0 / (v + BN_EPS as f64).sqrt()) as f32)
                .collect::<Vec<f32>>(),
        )
    } else {
        let invstd = running_var.as_vec().iter().map(|v| 1.0 / (v + BN_EPS).sqrt()).collect();
        (running_mean.as_vec(), invstd)
    };
    let scale: Vec<f32> = (0..c).map(|i| gamma_v[i] * invstd[i]).collect();
    let shift = (0..c).map(|i| beta_v[i] - mean[i] * scale[i]).collect();
    let norm = Normalization {
        mean,
        invstd,
        gamma: gamma_v,
        training,
    };
    (Affine { scale, shift }, norm)
}

/// The fused pointwise pass: `out = pool(act(x · scale + shift)) · mask`, row by row.
fn pointwise_forward(
    x: &[f32],
    shape: Shape4,
    affine: &Affine,
    act: Option<Activation>,
    pool: Option<Pool>,
    mask: Option<&[f32]>,
) -> (Vec<f32>, Shape4) {
    let (n, c, h, w) = shape;
    let wo = pool.map_or(w, |p| w / p.size());
    let mut out = take_buffer(n * c * h * wo);
    out.par_chunks_mut(ROWS_PER_TASK * wo)
        .enumerate()
        .for_each(|(task, out_rows)| {
            let (mut row, mut row_pooled) = (vec![0.0; w], vec![0.0; wo]);
            for (i, out_row) in out_rows.chunks_exact_mut(wo).enumerate() {
                let r = task * ROWS_PER_TASK + i;
                let ch = (r / h) % c;
                let (scale, shift) = (affine.scale[ch], affine.shift[ch]);
                let x_row = &x[r * w..][..w];
                match pool {
                    // The activations are monotonic, so they commute with the maximum:
                    // pooling first evaluates them on half the values.
                    Some(p @ Pool::Max(_)) => {
                        normalize_activate(x_row, &mut row, scale, shift, None);
                        pool_row(&row, p, &mut row_pooled);
                        normalize_activate(&row_pooled, out_row, 1.0, 0.0, act);
                    }
                    Some(p) => {
                        normalize_activate(x_row, &mut row, scale, shift, act);
                        pool_row(&row, p, out_row);
                    }
                    None => normalize_activate(x_row, out_row, scale, shift, act),
                }
                if let Some(mask) = mask {
                    out_row.iter_mut().zip(&mask[r * wo..][..wo]).for_each(|(v, m)| *v *= m);
                }
            }
        });
    (out, (n, c, h, wo))
}

/// Gradient of the fused pass with respect to its input, and gamma and beta gradients
/// (with the BatchNorm's layer index) when it holds one.
fn pointwise_backward(saved: &Saved, gout: &[f32]) -> (Vec<f32>, Option<(usize, LayerGrads)>) {
    let Saved::Pointwise {
        input: x,
        shape,
        affine,
        norm,
        act,
        pool,
        mask,
    } = saved
    else {
        unreachable!("pointwise stage")
    };
    let (n, c, h, w) = *shape;
    let wo = pool.map_or(w, |p| w / p.size());
    let mut gx = take_buffer(n * c * h * w);
    // Pass 1: the gradient at the normalised value z, and per-row sums for BatchNorm.
    let task_sums: Vec<Vec<(f64, f64)>> = gx
        .par_chunks_mut(ROWS_PER_TASK * w)
        .enumerate()
        .map(|(task, g_rows)| {
            {
                let (mut g_pooled, mut z, mut z_pooled) = (vec![0.0; wo], vec![0.0; w], vec![0.0; wo]);
                let mut sums = Vec::with_capacity(ROWS_PER_TASK);
                for (i, g_row) in g_rows.chunks_exact_mut(w).enumerate() {
                    let r = task * ROWS_PER_TASK + i;
                    let ch = (r / h) % c;
                    let x_row = &x[r * w..][..w];
                    let (scale, shift) = (affine.scale[ch], affine.shift[ch]);
                    g_pooled.copy_from_slice(&gout[r * wo..][..wo]);
                    if let Some(mask) = mask {
                        g_pooled
                            .iter_mut()
                            .zip(&mask[r * wo..][..wo])
                            .for_each(|(g, m)| *g *= m);
                    }
                    match (pool, act) {
                        (Some(p @ Pool::Max(_)), _) => {
                            // As in the forward pass, the activation is taken of the
                            // pooled maximum of z, whose position receives the gradient.
                            normalize_activate(x_row, &mut z, scale, shift, None);
                            if let Some(a) = act {
                                pool_row(&z, *p, &mut z_pooled);
                                activation_backward(&mut g_pooled, &z_pooled, 1.0, 0.0, *a);
                            }
                            unpool_row(&g_pooled, *p, &z, g_row);
                        }
                        (Some(p), _) => {
                            unpool_row(&g_pooled, *p, &z, g_row);
                            if let Some(a) = act {
                                activation_backward(g_row, x_row, scale, shift, *a);
                            }
                        }
                        (None, Some(a)) => {
                            g_row.copy_from_slice(&g_pooled);
                            activation_backward(g_row, x_row, scale, shift, *a);
                        }
                        (None, None) => g_row.copy_from_slice(&g_pooled),
                    }
                    if let Some((_, nm)) = norm {
                        sums.push(gradient_sums(g_row, x_row, nm.mean[ch]));
                    }
                }
                sums
            }
        })
        .collect();
    let Some((layer, nm)) = norm else {
        return (gx, None);
    };
    let sums = channel_sums(task_sums.into_iter().flatten().collect(), (c, h));
    let m = (n * h * w) as f64;
    let sum_dy: Vec<f64> = sums.iter().map(|s| s.0).collect();
    let sum_dy_xhat: Vec<f64> = sums.iter().zip(&nm.invstd).map(|(s, &is)| s.1 * is as f64).collect();
    // Pass 2: dx = gamma·invstd·(dy − mean(dy) − xhat·mean(dy·xhat)) in training,
    // gamma·invstd·dy with running statistics.
    let a: Vec<f32> = (0..c).map(|i| nm.gamma[i] * nm.invstd[i]).collect();
    let (b, d): (Vec<f32>, Vec<f32>) = if nm.training {
        (
            (0..c).map(|i| (sum_dy[i] / m) as f32 * a[i]).collect(),
            (0..c).map(|i| (sum_dy_xhat[i] / m) as f32 * a[i]).collect(),
        )
    } else {
        (vec![0.0; c], vec![0.0; c])
    };
    gx.par_chunks_mut(w).enumerate().for_each(|(r, g_row)| {
        let ch = (r / h) % c;
        let statistics = (nm.mean[ch], nm.invstd[ch]);
        normalize_backward(g_row, &x[r * w..][..w], (a[ch], b[ch], d[ch]), statistics);
    });
    let to_f32 = |v: &[f64]| v.iter().map(|s| *s as f32).collect::<Vec<f32>>();
    (gx, Some((*layer, vec![to_f32(&sum_dy_xhat), to_f32(&sum_dy)])))
}

/// Runs the stages; keeps each stage's input and state when `record`.
fn forward(
    layers: &mut [Layer<Cpu>],
    stages: &[Stage],
    mut x: Vec<f32>,
    mut shape: Shape4,
    training: bool,
    record: bool,
) -> (Vec<f32>, Shape4, Vec<Saved>) {
    let mut saved = Vec::new();
    let mut conv_sums = None;
    for (i, stage) in stages.iter().enumerate() {
        let (out, out_shape, state) = match *stage {
            Stage::Conv(index) => {
                let Layer::Conv {
                    geometry,
                    weight,
                    bias,
                    input_grad,
                } = &layers[index]
                else {
                    unreachable!("planned as Conv")
                };
                assert_eq!(shape.1, geometry.in_channels, "conv2d: input channels");
                let (ho, wo) = geometry.output_hw(shape.2, shape.3);
                let out_shape = (shape.0, geometry.out_channels, ho, wo);
                let mut out = take_buffer(out_shape.num_elements());
                let weight = weight.as_vec();
                let bias_v = bias.as_ref().map(|b| b.as_vec());
                // A following BatchNorm in training needs the output rows' sums.
                let next_normalizes = matches!(stages.get(i + 1), Some(Stage::Pointwise { norm: Some(_), .. }));
                let mut sums =
                    (training && next_normalizes).then(|| vec![(0.0, 0.0); ho * shape.0 * geometry.out_channels]);
                conv_forward(
                    &x,
                    shape,
                    geometry,
                    &weight,
                    bias_v.as_deref(),
                    &mut out,
                    sums.as_deref_mut(),
                    !record,
                );
                conv_sums = sums;
                let state = Saved::Conv {
                    layer: index,
                    input: x,
                    shape,
                    geometry: *geometry,
                    weight,
                    has_bias: bias.is_some(),
                    input_grad: *input_grad,
                };
                (out, out_shape, state)
            }
            Stage::Pointwise {
                norm,
                act,
                pool,
                dropout,
            } => {
                let c = shape.1;
                let (affine, norm) = match norm {
                    Some(index) => {
                        let (affine, nm) = normalization(&mut layers[index], &x, shape, training, conv_sums.take());
                        (affine, Some((index, nm)))
                    }
                    None => (
                        Affine {
                            scale: vec![1.0; c],
                            shift: vec![0.0; c],
                        },
                        None,
                    ),
                };
                let out_len = shape.0 * c * shape.2 * pool.map_or(shape.3, |p| shape.3 / p.size());
                let mask = dropout.map(|(p, seed)| {
                    let mut mask = take_buffer(out_len);
                    fill_dropout_mask(&mut mask, p, seed);
                    mask
                });
                let (out, out_shape) = pointwise_forward(&x, shape, &affine, act, pool, mask.as_deref());
                let state = Saved::Pointwise {
                    input: x,
                    shape,
                    affine,
                    norm,
                    act,
                    pool,
                    mask,
                };
                (out, out_shape, state)
            }
        };
        if record {
            saved.push(state);
        } else {
            release(state);
        }
        x = out;
        shape = out_shape;
    }
    (x, shape, saved)
}

/// Hands a stage's input buffer back for reuse.
fn release(state: Saved) {
    match state {
        Saved::Conv { input, .. } => give_buffer(input),
        Saved::Pointwise { input, mask, .. } => {
            give_buffer(input);
            if let Some(mask) = mask {
                give_buffer(mask);
            }
        }
    }
}

/// Walks the stages backwards from the output gradient; returns the input gradient
/// (when the first layer wants one) and each layer's parameter gradients.
fn backward(saved: Vec<Saved>, mut grad: Vec<f32>, layer_count: usize) -> (Option<Vec<f32>>, Vec<LayerGrads>) {
    let mut param_grads = vec![Vec::new(); layer_count];
    let mut input_wanted = true;
    for state in saved.into_iter().rev() {
        let next = match &state {
            Saved::Conv {
                layer,
                input,
                shape,
                geometry,
                weight,
                has_bias,
                input_grad,
            } => {
                let mut gx = input_grad.then(|| take_buffer(input.len()));
                let gw = conv_backward(input, *shape, geometry, weight, &grad, gx.as_deref_mut());
                param_grads[*layer] = vec![gw];
                if *has_bias {
                    let (ho, wo) = geometry.output_hw(shape.2, shape.3);
                    param_grads[*layer].push(bias_gradient(&grad, geometry.out_channels, ho * wo));
                }
                input_wanted = *input_grad;
                gx
            }
            Saved::Pointwise { .. } => {
                let (gx, norm_grads) = pointwise_backward(&state, &grad);
                if let Some((layer, g)) = norm_grads {
                    param_grads[layer] = g;
                }
                input_wanted = true;
                Some(gx)
            }
        };
        release(state);
        give_buffer(std::mem::take(&mut grad));
        match next {
            Some(g) => grad = g,
            None => break,
        }
    }
    (input_wanted.then_some(grad), param_grads)
}

impl Backend for Cpu {
    fn forward_layers<T: Tape<f32, Self>>(
        x: Act<Self, T>,
        layers: &mut [Layer<Self>],
        training: bool,
        rng: &mut impl Rng,
    ) -> Act<Self, T> {
        let (x, mut tape) = x.contiguous().split_tape();
        let stages = plan(layers, training, rng);
        let (out, shape, saved) = forward(layers, &stages, read(&x), *x.shape(), training, T::OWNS_TAPE);
        let out = x.device().tensor_from_vec(out, shape);
        if T::OWNS_TAPE {
            let (x_ghost, out_ghost) = (x.ghost(), out.ghost());
            let param_ghosts: Vec<Vec<_>> = layers
                .iter()
                .map(|layer| layer.learnable().iter().map(|p| p.ghost()).collect())
                .collect();
            tape.add_backward_op(move |grads| {
                let gout = take_grad!(grads, out_ghost);
                let (gx, param_grads) = backward(saved, gout, param_ghosts.len());
                if let Some(gx) = gx {
                    add_into(grads.get_or_alloc_mut(&x_ghost)?, &gx);
                    give_buffer(gx);
                }
                for (ghosts, layer_grads) in param_ghosts.iter().zip(param_grads) {
                    for (ghost, g) in ghosts.iter().zip(layer_grads) {
                        add_into(grads.get_or_alloc_mut(ghost)?, &g);
                    }
                }
                Ok(())
            });
        }
        out.put_tape(tape)
    }
}

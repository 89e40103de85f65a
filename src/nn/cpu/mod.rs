//! The CPU backend: a model's feature layers run as one operation on dfdx's tape.
//!
//! The layers are grouped into stages — a convolution, or BatchNorm + activation +
//! pooling + dropout fused into one pass — that work in reused buffers. The forward
//! pass keeps what the backward pass needs (stage inputs, statistics, masks) and records
//! a single backward closure that walks the stages in reverse and adds the gradients of
//! the input and of every parameter. Evaluation (no tape) keeps nothing.

#[macro_use]
mod isa;
mod buffers;
mod conv;
#[cfg(target_arch = "x86_64")]
mod direct;
mod elementwise;
mod gemm;
#[cfg(target_arch = "x86_64")]
mod lanes;
mod plan;
mod pointwise;
mod reduction;
mod winograd;

pub use isa::{Isa, KERNELS_VARIABLE};

/// One line per convolution (name, geometry, input shape, whether its input gradient is
/// computed): the algorithms the kernel plan picks for it on this CPU's path.
pub fn describe_plan(layers: &[(String, ConvGeometry, Shape4, bool)]) -> Vec<String> {
    plan::describe(layers, Isa::chosen())
}

use super::backend::Backend;
use super::layers::Layer;
use super::ops::{fill_dropout_mask, Act, Activation, ConvGeometry, Pool, Shape4};
use buffers::{give_buffer, take_buffer};
use conv::{bias_gradient, conv_backward, conv_forward};
use dfdx::prelude::*;
use elementwise::add_into;
use pointwise::{Affine, LayerGrads};
use rand::Rng;

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
    Pointwise(pointwise::Saved),
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
                    (&weight, bias_v.as_deref()),
                    &mut out,
                    sums.as_deref_mut(),
                    record,
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
                        let (affine, nm) =
                            pointwise::normalization(&mut layers[index], &x, shape, training, conv_sums.take());
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
                let (out, out_shape) = pointwise::forward(&x, shape, &affine, act, pool, mask.as_deref());
                let state = Saved::Pointwise(pointwise::Saved {
                    input: x,
                    shape,
                    affine,
                    norm,
                    act,
                    pool,
                    mask,
                });
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
        Saved::Pointwise(pointwise::Saved { input, mask, .. }) => {
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
            Saved::Pointwise(saved) => {
                let (gx, norm_grads) = pointwise::backward(saved, &grad);
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
        let out = if T::OWNS_TAPE {
            out
        } else {
            // Without a tape no gradient buffer comes back to the pool for this one: hand
            // dfdx a copy, or every evaluation batch would drain a buffer that training
            // then allocates afresh.
            let copy = out.clone();
            give_buffer(out);
            copy
        };
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

//! The lab's operations composed from dfdx's own ops, so they run on any dfdx device
//! (this is the CUDA path) and dfdx derives their gradients. On the CPU these serve
//! as an independent check of the fused kernels in [`super::cpu`].

use super::layers::Layer;
use super::ops::{Act, Activation, ConvGeometry, Param, Pool, BN_EPS, BN_MOMENTUM};
use dfdx::prelude::*;
use rand::Rng;

/// Convolution as a sum over kernel taps of (shifted input) × (tap weight) matmuls.
pub fn conv2d<D: Device<f32>, T: Tape<f32, D>>(
    x: Act<D, T>,
    g: &ConvGeometry,
    weight: &Param<D>,
    bias: Option<&Param<D>>,
) -> Act<D, T> {
    let (n, cin, h, w) = *x.shape();
    let dev = x.device().clone();
    let (kh, kw) = g.kernel;
    let (ho, wo) = g.output_hw(h, w);
    let cout = g.out_channels;
    let pad = g.time_padding;
    let x = if pad > 0 {
        let zeros = || dev.zeros_like(&(n, cin, h, pad)).retaped::<T>();
        let x = (zeros(), x).concat_along(Axis::<3>);
        (x, zeros()).concat_along(Axis::<3>)
    } else {
        x
    };
    let dense = dense_weight(&dev, g, weight.retaped::<T>());
    // (kh·kw, cin, cout): one (cin × cout) matrix per tap.
    let taps = dense
        .reshape_like(&(cout, cin, kh * kw))
        .permute::<_, Axes3<2, 1, 0>>()
        .contiguous();
    // (n, h, w, cin): channels last, so a tap is a matmul over the last axis.
    let x = x.permute::<_, Axes4<0, 2, 3, 1>>().contiguous();
    // Every tap but the last uses tape-less copies; the last one moves `x` and `taps`,
    // so their history (and the gradients gathered under their ids) stays on the tape.
    let (mut x, mut taps) = (Some(x), Some(taps));
    let mut out = None;
    for t in 0..kh * kw {
        let (i, j) = (t / kw, t % kw);
        let last = t + 1 == kh * kw;
        let tap = take_or_copy(&mut taps, last)
            .slice((t..t + 1, .., ..))
            .reshape_like(&(cin, cout));
        let shifted = take_or_copy(&mut x, last)
            .slice((.., i..i + ho, j..j + wo, ..))
            .reshape_like(&(n, ho * wo, cin));
        let term = shifted.matmul(tap);
        out = Some(match out {
            None => term,
            Some(acc) => acc + term,
        });
    }
    let out = out.expect("kernel has at least one tap");
    let out = out
        .permute::<_, Axes3<0, 2, 1>>()
        .contiguous()
        .reshape_like(&(n, cout, ho, wo));
    match bias {
        Some(b) => {
            let b = b.retaped::<T>().broadcast_like::<_, Axes3<0, 2, 3>>(&(n, cout, ho, wo));
            out + b
        }
        None => out,
    }
}

/// Moves the tensor out when `last`, else returns a copy under a new id.
///
/// The copy matters: dfdx 0.13's CPU `slice` backward *assigns* the input gradient instead
/// of adding to it, so overlapping slices of one tensor would overwrite each other's
/// gradients. Slicing a fresh copy (`× 1`, whose backward adds) keeps them all.
fn take_or_copy<S: Shape, D: Device<f32>, T: Tape<f32, D>>(
    slot: &mut Option<Tensor<S, f32, D, T>>,
    last: bool,
) -> Tensor<S, f32, D, T> {
    if last {
        slot.take().expect("moved only at the last tap")
    } else {
        slot.as_ref().expect("present until the last tap").retaped::<T>() * 1.0
    }
}

/// The weight as a dense (out, in, kh, kw) tensor; grouped weights are spread over a
/// block-diagonal mask.
fn dense_weight<D: Device<f32>, T: Tape<f32, D>>(
    dev: &D,
    g: &ConvGeometry,
    weight: Tensor<(usize,), f32, D, T>,
) -> Tensor<(usize, usize, usize, usize), f32, D, T> {
    let (cout, cin, (kh, kw)) = (g.out_channels, g.in_channels, g.kernel);
    let dense_shape = (cout, cin, kh, kw);
    if g.groups == 1 {
        return weight.reshape_like(&dense_shape);
    }
    assert_eq!(
        g.in_per_group(),
        1,
        "grouped convolution needs one input channel per group"
    );
    let out_per_group = cout / g.groups;
    let mask: Vec<f32> = (0..cout * cin * kh * kw)
        .map(|i| {
            let (o, c) = (i / (cin * kh * kw), (i / (kh * kw)) % cin);
            (c == o / out_per_group) as u8 as f32
        })
        .collect();
    let mask = dev.tensor_from_vec(mask, dense_shape);
    weight
        .reshape_like(&(cout, kh, kw))
        .broadcast_like::<_, Axis<1>>(&dense_shape)
        * mask
}

/// Batch normalisation over (batch, height, time) per channel.
pub fn batch_norm<D: Device<f32>, T: Tape<f32, D>>(
    x: Act<D, T>,
    gamma: &Param<D>,
    beta: &Param<D>,
    (running_mean, running_var): (&mut Param<D>, &mut Param<D>),
    training: bool,
) -> Act<D, T> {
    let shape = *x.shape();
    let c = shape.1;
    let per_channel = |p: &Param<D>| p.retaped::<T>().broadcast_like::<_, Axes3<0, 2, 3>>(&shape);
    let normalized = if training {
        let m = (shape.0 * shape.2 * shape.3) as f32;
        let values = x.retaped::<NoneTape>();
        let mean: Tensor<(usize,), f32, D> = values.clone().mean::<_, Axes3<0, 2, 3>>();
        let var: Tensor<(usize,), f32, D> = values.var::<_, Axes3<0, 2, 3>>();
        let unbias = m / (m - 1.0).max(1.0);
        *running_mean = running_mean.clone() * (1.0 - BN_MOMENTUM) + mean * BN_MOMENTUM;
        *running_var = running_var.clone() * (1.0 - BN_MOMENTUM) + var * (BN_MOMENTUM * unbias);
        x.normalize::<Axes3<0, 2, 3>>(BN_EPS)
    } else {
        let mean = running_mean.clone().broadcast_like::<_, Axes3<0, 2, 3>>(&shape);
        let invstd = (running_var.clone() + BN_EPS).sqrt().recip();
        (x - mean) * invstd.broadcast_like::<_, Axes3<0, 2, 3>>(&shape)
    };
    debug_assert_eq!(gamma.shape().0, c);
    normalized * per_channel(gamma) + per_channel(beta)
}

/// ReLU, LeakyReLU or ELU from dfdx ops.
pub fn activation<D: Device<f32>, T: Tape<f32, D>>(x: Act<D, T>, act: Activation) -> Act<D, T> {
    match act {
        Activation::Relu => x.relu(),
        Activation::LeakyRelu { slope } => x.prelu(slope),
        Activation::Elu { alpha } => {
            // relu(x) + alpha·(exp(min(x, 0)) − 1)
            let negative = (x.retaped::<T>().clamp(f32::MIN, 0.0).exp() - 1.0) * alpha;
            x.relu() + negative
        }
    }
}

/// Pooling along time: drop the tail, fold windows into a new axis, reduce it.
pub fn pool<D: Device<f32>, T: Tape<f32, D>>(x: Act<D, T>, pool: Pool) -> Act<D, T> {
    let (n, c, h, w) = *x.shape();
    let k = pool.size();
    let wo = w / k;
    let windows = x.slice((.., .., .., 0..wo * k)).reshape_like(&(n, c, h, wo, k));
    match pool {
        Pool::Avg(_) => windows.mean::<_, Axis<4>>(),
        Pool::Max(_) => windows.max::<_, Axis<4>>(),
    }
}

/// Dropout as a product with a mask drawn on the host.
pub fn dropout<D: Device<f32>, T: Tape<f32, D>>(x: Act<D, T>, p: f32, seed: u64) -> Act<D, T> {
    let shape = *x.shape();
    let mask = x
        .device()
        .tensor_from_vec(super::ops::dropout_mask(shape.num_elements(), p, seed), shape);
    x * mask
}

/// One layer from dfdx ops; a dropout layer active in training draws its mask seed
/// from `rng`.
pub fn layer<D: Device<f32>, T: Tape<f32, D>>(
    x: Act<D, T>,
    layer: &mut Layer<D>,
    training: bool,
    rng: &mut impl Rng,
) -> Act<D, T> {
    match layer {
        Layer::Conv {
            geometry, weight, bias, ..
        } => conv2d(x, geometry, weight, bias.as_ref()),
        Layer::BatchNorm {
            gamma,
            beta,
            running_mean,
            running_var,
        } => batch_norm(x, gamma, beta, (running_mean, running_var), training),
        Layer::Activation(act) => activation(x, *act),
        Layer::Pool(p) => pool(x, *p),
        Layer::Dropout(p) if training && *p > 0.0 => dropout(x, *p, rng.gen()),
        Layer::Dropout(_) => x,
    }
}

/// The layers in order, each from dfdx ops (the default [`Backend::forward_layers`]).
pub fn forward_layers<D: Device<f32>, T: Tape<f32, D>>(
    x: Act<D, T>,
    layers: &mut [Layer<D>],
    training: bool,
    rng: &mut impl Rng,
) -> Act<D, T> {
    layers.iter_mut().fold(x, |x, l| layer(x, l, training, rng))
}

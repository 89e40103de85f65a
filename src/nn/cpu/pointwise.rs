//! The fused pointwise stage: BatchNorm (folded into a per-channel affine map),
//! activation, pooling and dropout in one pass over each row, and its backward pass.

use super::buffers::take_buffer;
use super::elementwise::{
    activation_backward, gradient_sums, normalize_activate, normalize_backward, pool_row, row_sums, unpool_row,
};
use crate::nn::layers::Layer;
use crate::nn::ops::{Activation, Pool, Shape4, BN_EPS, BN_MOMENTUM};
use dfdx::prelude::*;
use rayon::prelude::*;

/// Gradients of one layer's learnable tensors, in `state_dict` order.
pub(super) type LayerGrads = Vec<Vec<f32>>;

/// Rows (one time series each) per parallel work item in the fused pass.
const ROWS_PER_TASK: usize = 32;

/// What the stage's backward pass needs.
pub(super) struct Saved {
    pub input: Vec<f32>,
    pub shape: Shape4,
    pub affine: Affine,
    pub norm: Option<(usize, Normalization)>,
    pub act: Option<Activation>,
    pub pool: Option<Pool>,
    pub mask: Option<Vec<f32>>,
}

/// Per-channel `x · scale + shift` (BatchNorm folded; identity without one).
pub(super) struct Affine {
    pub scale: Vec<f32>,
    pub shift: Vec<f32>,
}

/// BatchNorm's statistics and gamma, for its backward pass.
pub(super) struct Normalization {
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
pub(super) fn normalization(
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
pub(super) fn forward(
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
pub(super) fn backward(saved: &Saved, gout: &[f32]) -> (Vec<f32>, Option<(usize, LayerGrads)>) {
    let Saved {
        input: x,
        shape,
        affine,
        norm,
        act,
        pool,
        mask,
    } = saved;
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

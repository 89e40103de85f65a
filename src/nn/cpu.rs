//! Fast CPU kernels for the lab's operations, recorded on dfdx's tape.
//!
//! Each op copies its input out of the tensor, computes the output into a fresh
//! buffer, and — when the tape is owned — records a backward closure that reads the
//! output gradient and accumulates into the gradients of its inputs and parameters.
//! All reductions run in a fixed order, so results do not depend on the thread count.

use super::{dropout_mask, Act, Activation, Backend, ConvGeometry, Param, Pool, Shape4, BN_EPS, BN_MOMENTUM};
use dfdx::prelude::*;
use rayon::prelude::*;

/// Samples per parallel work item in reductions (fixed for determinism).
const SAMPLES_PER_TASK: usize = 4;
/// Elements per parallel work item in element-wise loops.
const ELEMENTS_PER_TASK: usize = 1 << 15;

/// Moves the gradient of `$t` out of `$grads` (the op that produced `$t` is its last reader).
macro_rules! take_grad {
    ($grads:expr, $t:expr) => {
        std::mem::take(&mut **$grads.get_or_alloc_mut(&$t)?)
    };
}

/// Copies a contiguous tensor's data to a vector.
pub fn read<S: Shape>(t: &Tensor<S, f32, Cpu>) -> Vec<f32> {
    let mut v = vec![0.0; t.shape().num_elements()];
    t.copy_into(&mut v);
    v
}

fn add_into(dst: &mut [f32], src: &[f32]) {
    dst.iter_mut().zip(src).for_each(|(d, s)| *d += s);
}

/// `c (m×n, row-major) (+)= a · b`, where `a` and `b` are given with (row, column) strides.
#[allow(clippy::too_many_arguments)]
pub fn matmul(
    (m, n, k): (usize, usize, usize),
    c: &mut [f32],
    accumulate: bool,
    a: &[f32],
    (a_rs, a_cs): (usize, usize),
    b: &[f32],
    (b_rs, b_cs): (usize, usize),
) {
    assert!(c.len() >= m * n);
    if m == 0 || n == 0 {
        return;
    }
    assert!(k == 0 || a.len() > (m - 1) * a_rs + (k - 1) * a_cs);
    assert!(k == 0 || b.len() > (k - 1) * b_rs + (n - 1) * b_cs);
    // SAFETY: the asserts above keep every index gemm touches inside the slices.
    unsafe {
        gemm::gemm(
            m,
            n,
            k,
            c.as_mut_ptr(),
            1,
            n as isize,
            accumulate,
            a.as_ptr(),
            a_cs as isize,
            a_rs as isize,
            b.as_ptr(),
            b_cs as isize,
            b_rs as isize,
            1.0,
            1.0,
            false,
            false,
            false,
            gemm::Parallelism::None,
        )
    }
}

/// Fills `col` (K × L, K = in_per_group·kh·kw, L = ho·wo) for one sample and group.
fn im2col(x: &[f32], (h, w): (usize, usize), g: &ConvGeometry, group: usize, col: &mut [f32]) {
    let (kh, kw) = g.kernel;
    let (ho, wo) = g.output_hw(h, w);
    let pad = g.time_padding as isize;
    let mut row = 0;
    for c in 0..g.in_per_group() {
        let plane = &x[(group * g.in_per_group() + c) * h * w..][..h * w];
        for i in 0..kh {
            for j in 0..kw {
                let dst = &mut col[row * ho * wo..][..ho * wo];
                // out[t] = src[t + shift] where 0 ≤ t + shift < w, else 0.
                let shift = j as isize - pad;
                let lo = ((-shift).max(0) as usize).min(wo);
                let hi = ((w as isize - shift).clamp(0, wo as isize) as usize).max(lo);
                for y in 0..ho {
                    let src = &plane[(y + i) * w..][..w];
                    let out = &mut dst[y * wo..][..wo];
                    out[..lo].fill(0.0);
                    out[hi..].fill(0.0);
                    let start = (lo as isize + shift) as usize;
                    out[lo..hi].copy_from_slice(&src[start..start + hi - lo]);
                }
                row += 1;
            }
        }
    }
}

/// Adds `col` (K × L) back into the input-gradient planes of one sample and group.
fn col2im(col: &[f32], (h, w): (usize, usize), g: &ConvGeometry, group: usize, gx: &mut [f32]) {
    let (kh, kw) = g.kernel;
    let (ho, wo) = g.output_hw(h, w);
    let pad = g.time_padding as isize;
    let mut row = 0;
    for c in 0..g.in_per_group() {
        let plane = &mut gx[(group * g.in_per_group() + c) * h * w..][..h * w];
        for i in 0..kh {
            for j in 0..kw {
                let src = &col[row * ho * wo..][..ho * wo];
                let shift = j as isize - pad;
                let lo = ((-shift).max(0) as usize).min(wo);
                let hi = ((w as isize - shift).clamp(0, wo as isize) as usize).max(lo);
                for y in 0..ho {
                    let start = (lo as isize + shift) as usize;
                    let dst = &mut plane[(y + i) * w + start..][..hi - lo];
                    add_into(dst, &src[y * wo + lo..y * wo + hi]);
                }
                row += 1;
            }
        }
    }
}

/// Forward convolution of a contiguous (n, c, h, w) buffer.
pub fn conv2d_forward(x: &[f32], shape: Shape4, g: &ConvGeometry, w: &[f32], bias: Option<&[f32]>) -> Vec<f32> {
    let (n, _, h, wd) = shape;
    let (ho, wo) = g.output_hw(h, wd);
    let l = ho * wo;
    let k = g.in_per_group() * g.kernel.0 * g.kernel.1;
    let out_per_group = g.out_channels / g.groups;
    let in_len = g.in_channels * h * wd;
    let mut out = vec![0.0; n * g.out_channels * l];
    out.par_chunks_mut(g.out_channels * l).enumerate().for_each_init(
        || vec![0.0; k * l],
        |col, (b, out_b)| {
            let xb = &x[b * in_len..][..in_len];
            for group in 0..g.groups {
                im2col(xb, (h, wd), g, group, col);
                let wg = &w[group * out_per_group * k..][..out_per_group * k];
                let og = &mut out_b[group * out_per_group * l..][..out_per_group * l];
                matmul((out_per_group, l, k), og, false, wg, (k, 1), col, (l, 1));
            }
            if let Some(bias) = bias {
                for (o, row) in out_b.chunks_mut(l).enumerate() {
                    row.iter_mut().for_each(|v| *v += bias[o]);
                }
            }
        },
    );
    out
}

/// Gradients of a convolution: adds into `gx` (if given), returns (grad weight, grad bias).
pub fn conv2d_backward(
    x: &[f32],
    shape: Shape4,
    g: &ConvGeometry,
    w: &[f32],
    gout: &[f32],
    gx: Option<&mut [f32]>,
) -> (Vec<f32>, Vec<f32>) {
    let (n, _, h, wd) = shape;
    let (ho, wo) = g.output_hw(h, wd);
    let l = ho * wo;
    let k = g.in_per_group() * g.kernel.0 * g.kernel.1;
    let out_per_group = g.out_channels / g.groups;
    let in_len = g.in_channels * h * wd;
    let out_len = g.out_channels * l;
    let tasks = n.div_ceil(SAMPLES_PER_TASK);
    let task_grads = |task: usize, mut gx_task: Option<&mut [f32]>| {
        let mut gw = vec![0.0; w.len()];
        let mut col = vec![0.0; k * l];
        let mut gcol = vec![0.0; k * l];
        let first = task * SAMPLES_PER_TASK;
        for b in first..(first + SAMPLES_PER_TASK).min(n) {
            let xb = &x[b * in_len..][..in_len];
            let gb = &gout[b * out_len..][..out_len];
            for group in 0..g.groups {
                let gog = &gb[group * out_per_group * l..][..out_per_group * l];
                im2col(xb, (h, wd), g, group, &mut col);
                let gwg = &mut gw[group * out_per_group * k..][..out_per_group * k];
                matmul((out_per_group, k, l), gwg, true, gog, (l, 1), &col, (1, l));
                if let Some(gxt) = gx_task.as_deref_mut() {
                    let wg = &w[group * out_per_group * k..][..out_per_group * k];
                    matmul((k, l, out_per_group), &mut gcol, false, wg, (1, k), gog, (l, 1));
                    col2im(&gcol, (h, wd), g, group, &mut gxt[(b - first) * in_len..][..in_len]);
                }
            }
        }
        gw
    };
    let partial: Vec<Vec<f32>> = match gx {
        Some(gx) => gx
            .par_chunks_mut(SAMPLES_PER_TASK * in_len)
            .enumerate()
            .map(|(task, gxt)| task_grads(task, Some(gxt)))
            .collect(),
        None => (0..tasks).into_par_iter().map(|t| task_grads(t, None)).collect(),
    };
    let mut gw = vec![0.0; w.len()];
    partial.iter().for_each(|p| add_into(&mut gw, p));
    let mut gb = vec![0.0; g.out_channels];
    for b in 0..n {
        for (o, row) in gout[b * out_len..][..out_len].chunks(l).enumerate() {
            gb[o] += row.iter().sum::<f32>();
        }
    }
    (gw, gb)
}

/// Per-channel sums over (batch, height, time) of `f(channel, x-plane, other-plane)` in
/// f64, where the planes are the (height × time) slices of `x` and `other` for one sample
/// and channel. Runs in a fixed order.
fn channel_sums(
    (n, c, hw): (usize, usize, usize),
    x: &[f32],
    other: &[f32],
    f: impl Fn(usize, &[f32], &[f32]) -> f64 + Sync,
) -> Vec<f64> {
    (0..c)
        .into_par_iter()
        .map(|ch| {
            (0..n)
                .map(|b| {
                    let at = (b * c + ch) * hw;
                    f(ch, &x[at..at + hw], other.get(at..at + hw).unwrap_or(&[]))
                })
                .sum()
        })
        .collect()
}

/// `y[b, ch, :] = x[b, ch, :] * scale[ch] + shift[ch]`.
fn scale_shift(x: &[f32], (c, hw): (usize, usize), scale: &[f32], shift: &[f32]) -> Vec<f32> {
    let mut y = vec![0.0; x.len()];
    y.par_chunks_mut(c * hw).zip(x.par_chunks(c * hw)).for_each(|(yb, xb)| {
        for ch in 0..c {
            let (s, t) = (scale[ch], shift[ch]);
            for (yv, xv) in yb[ch * hw..][..hw].iter_mut().zip(&xb[ch * hw..][..hw]) {
                *yv = xv * s + t;
            }
        }
    });
    y
}

/// Applies `f` to every element in parallel, writing a new buffer.
fn map_elements(x: &[f32], f: impl Fn(f32) -> f32 + Sync) -> Vec<f32> {
    let mut y = vec![0.0; x.len()];
    y.par_chunks_mut(ELEMENTS_PER_TASK)
        .zip(x.par_chunks(ELEMENTS_PER_TASK))
        .for_each(|(yc, xc)| yc.iter_mut().zip(xc).for_each(|(yv, xv)| *yv = f(*xv)));
    y
}

/// Rows (of one time series each) per parallel work item in pooling.
const ROWS_PER_TASK: usize = 64;

/// `gx[i] += gout[i] · factor(i)` for every element, in parallel.
fn add_product(gx: &mut [f32], gout: &[f32], factor: impl Fn(usize) -> f32 + Sync) {
    gx.par_chunks_mut(ELEMENTS_PER_TASK)
        .enumerate()
        .for_each(|(task, chunk)| {
            let first = task * ELEMENTS_PER_TASK;
            for (j, v) in chunk.iter_mut().enumerate() {
                *v += gout[first + j] * factor(first + j);
            }
        });
}

/// Pooling forward; for max pooling also returns each window's arg-max (first maximum,
/// NaN propagating, as PyTorch).
pub fn pool_forward(x: &[f32], shape: Shape4, pool: Pool) -> (Vec<f32>, Vec<u8>) {
    let (n, c, h, w) = shape;
    let k = pool.size();
    let wo = w / k;
    let rows = n * c * h;
    let mut out = vec![0.0; rows * wo];
    let tasks = out
        .par_chunks_mut(ROWS_PER_TASK * wo)
        .zip(x.par_chunks(ROWS_PER_TASK * w));
    match pool {
        Pool::Avg(_) => {
            let inv = 1.0 / k as f32;
            tasks.for_each(|(out, x)| {
                for (o, row) in out.chunks_mut(wo).zip(x.chunks(w)) {
                    for (v, win) in o.iter_mut().zip(row.chunks_exact(k)) {
                        *v = win.iter().sum::<f32>() * inv;
                    }
                }
            });
            (out, Vec::new())
        }
        Pool::Max(_) => {
            let mut arg = vec![0u8; rows * wo];
            tasks
                .zip(arg.par_chunks_mut(ROWS_PER_TASK * wo))
                .for_each(|((out, x), arg)| {
                    for ((o, a), row) in out.chunks_mut(wo).zip(arg.chunks_mut(wo)).zip(x.chunks(w)) {
                        for ((v, best), win) in o.iter_mut().zip(a.iter_mut()).zip(row.chunks_exact(k)) {
                            let mut b = 0;
                            for (j, value) in win.iter().enumerate().skip(1) {
                                if *value > win[b] || value.is_nan() {
                                    b = j;
                                }
                            }
                            (*v, *best) = (win[b], b as u8);
                        }
                    }
                });
            (out, arg)
        }
    }
}

/// Adds the pooling gradient into `gx`.
pub fn pool_backward(gout: &[f32], shape: Shape4, pool: Pool, arg: &[u8], gx: &mut [f32]) {
    let w = shape.3;
    let k = pool.size();
    let wo = w / k;
    let inv = 1.0 / k as f32;
    gx.par_chunks_mut(ROWS_PER_TASK * w)
        .zip(gout.par_chunks(ROWS_PER_TASK * wo))
        .enumerate()
        .for_each(|(task, (gx, gout))| {
            for (r, (gx_row, g_row)) in gx.chunks_mut(w).zip(gout.chunks(wo)).enumerate() {
                for (t, (win, g)) in gx_row.chunks_exact_mut(k).zip(g_row).enumerate() {
                    match pool {
                        Pool::Avg(_) => win.iter_mut().for_each(|v| *v += g * inv),
                        Pool::Max(_) => win[arg[(task * ROWS_PER_TASK + r) * wo + t] as usize] += g,
                    }
                }
            }
        });
}

/// `exp(x)` for `x ≤ 0`, branch-free and without libm calls so loops over it vectorise
/// on baseline x86-64 (Cephes' single-precision polynomial, within 2 ulp).
#[inline(always)]
pub fn exp_nonpositive(x: f32) -> f32 {
    // Adding 1.5·2²³ rounds to the nearest integer and leaves it in the low mantissa bits.
    const ROUND: f32 = 12_582_912.0;
    let x = x.clamp(-87.0, 0.0);
    let shifted = x * std::f32::consts::LOG2_E + ROUND;
    let n = shifted - ROUND;
    let r = x - n * 0.693_359_4 + n * 2.121_944_4e-4;
    let mut p = 1.987_569_1e-4f32;
    for c in [1.398_199_9e-3, 8.333_452e-3, 4.166_579_6e-2, 1.666_666_5e-1, 5.0e-1] {
        p = p * r + c;
    }
    let exponent = shifted.to_bits().wrapping_sub(ROUND.to_bits()).wrapping_add(127);
    (p * r * r + r + 1.0) * f32::from_bits(exponent << 23)
}

/// The activation of every element.
fn activate(x: &[f32], act: Activation) -> Vec<f32> {
    match act {
        Activation::Relu => map_elements(x, |v| v.max(0.0)),
        Activation::LeakyRelu { slope } => map_elements(x, move |v| if v > 0.0 { v } else { slope * v }),
        Activation::Elu { alpha } => {
            map_elements(x, move |v| if v > 0.0 { v } else { alpha * (exp_nonpositive(v) - 1.0) })
        }
    }
}

impl Backend for Cpu {
    fn conv2d<T: Tape<f32, Self>>(
        x: Act<Self, T>,
        g: &ConvGeometry,
        weight: &Param<Self>,
        bias: Option<&Param<Self>>,
        input_grad: bool,
    ) -> Act<Self, T> {
        let (x, mut tape) = x.contiguous().split_tape();
        let shape = *x.shape();
        assert_eq!(shape.1, g.in_channels, "conv2d: input channels");
        let xv = read(&x);
        let wv = read(weight);
        let bv = bias.map(read);
        let (ho, wo) = g.output_hw(shape.2, shape.3);
        let out_shape = (shape.0, g.out_channels, ho, wo);
        let out = x
            .device()
            .tensor_from_vec(conv2d_forward(&xv, shape, g, &wv, bv.as_deref()), out_shape);
        if T::OWNS_TAPE {
            let (x_ghost, out_ghost, w_ghost) = (x.ghost(), out.ghost(), weight.ghost());
            let b_ghost = bias.map(|b| b.ghost());
            let g = *g;
            tape.add_backward_op(move |grads| {
                let gout = take_grad!(grads, out_ghost);
                let mut gx = input_grad.then(|| vec![0.0; xv.len()]);
                let (gw, gb) = conv2d_backward(&xv, shape, &g, &wv, &gout, gx.as_deref_mut());
                if let Some(gx) = gx {
                    add_into(grads.get_or_alloc_mut(&x_ghost)?, &gx);
                }
                add_into(grads.get_or_alloc_mut(&w_ghost)?, &gw);
                if let Some(b_ghost) = b_ghost {
                    add_into(grads.get_or_alloc_mut(&b_ghost)?, &gb);
                }
                Ok(())
            });
        }
        out.put_tape(tape)
    }

    fn batch_norm<T: Tape<f32, Self>>(
        x: Act<Self, T>,
        gamma: &Param<Self>,
        beta: &Param<Self>,
        (running_mean, running_var): (&mut Param<Self>, &mut Param<Self>),
        training: bool,
    ) -> Act<Self, T> {
        let (x, mut tape) = x.contiguous().split_tape();
        let shape = *x.shape();
        let (n, c, h, w) = shape;
        let hw = h * w;
        let m = (n * hw) as f64;
        let xv = read(&x);
        let (gv, bv) = (read(gamma), read(beta));
        let dev = x.device().clone();
        let (mean, invstd): (Vec<f32>, Vec<f32>) = if training {
            let dims = (n, c, hw);
            let sum = channel_sums(dims, &xv, &[], |_, x, _| x.iter().map(|&v| v as f64).sum());
            let mean64: Vec<f64> = sum.iter().map(|s| s / m).collect();
            let var64 = channel_sums(dims, &xv, &[], |ch, x, _| {
                x.iter().map(|&v| (v as f64 - mean64[ch]).powi(2)).sum()
            });
            let var64: Vec<f64> = var64.iter().map(|s| s / m).collect();
            let mom = BN_MOMENTUM as f64;
            let (rm, rv) = (read(running_mean), read(running_var));
            let new_rm = (0..c).map(|i| ((1.0 - mom) * rm[i] as f64 + mom * mean64[i]) as f32);
            let unbias = m / (m - 1.0).max(1.0);
            let new_rv = (0..c).map(|i| ((1.0 - mom) * rv[i] as f64 + mom * var64[i] * unbias) as f32);
            *running_mean = dev.tensor_from_vec(new_rm.collect(), (c,));
            *running_var = dev.tensor_from_vec(new_rv.collect(), (c,));
            (
                mean64.iter().map(|v| *v as f32).collect(),
                var64
                    .iter()
                    .map(|v| (1.0 / (v + BN_EPS as f64).sqrt()) as f32)
                    .collect(),
            )
        } else {
            let rv = read(running_var);
            (
                read(running_mean),
                rv.iter().map(|v| 1.0 / (v + BN_EPS).sqrt()).collect(),
            )
        };
        let scale: Vec<f32> = (0..c).map(|i| gv[i] * invstd[i]).collect();
        let shift: Vec<f32> = (0..c).map(|i| bv[i] - mean[i] * scale[i]).collect();
        let out = dev.tensor_from_vec(scale_shift(&xv, (c, hw), &scale, &shift), shape);
        if T::OWNS_TAPE {
            let (x_ghost, out_ghost) = (x.ghost(), out.ghost());
            let (g_ghost, b_ghost) = (gamma.ghost(), beta.ghost());
            tape.add_backward_op(move |grads| {
                let gout = take_grad!(grads, out_ghost);
                let dims = (n, c, hw);
                let sum_dy = channel_sums(dims, &gout, &[], |_, dy, _| dy.iter().map(|&v| v as f64).sum());
                let sum_dy_xhat = channel_sums(dims, &gout, &xv, |ch, dy, x| {
                    let centered: f64 = dy.iter().zip(x).map(|(&d, &v)| (d * (v - mean[ch])) as f64).sum();
                    centered * invstd[ch] as f64
                });
                let (k1, k2, k3): (Vec<f32>, Vec<f32>, Vec<f32>) = if training {
                    // dx = gamma·invstd·(dy − mean(dy) − xhat·mean(dy·xhat))
                    let a: Vec<f32> = (0..c).map(|i| gv[i] * invstd[i]).collect();
                    let b = (0..c).map(|i| (sum_dy[i] / m) as f32 * a[i]).collect();
                    let d = (0..c).map(|i| (sum_dy_xhat[i] / m) as f32 * a[i]).collect();
                    (a, b, d)
                } else {
                    ((0..c).map(|i| gv[i] * invstd[i]).collect(), vec![0.0; c], vec![0.0; c])
                };
                let gx = grads.get_or_alloc_mut(&x_ghost)?;
                gx.par_chunks_mut(c * hw).enumerate().for_each(|(b, gxb)| {
                    for ch in 0..c {
                        let at = (b * c + ch) * hw;
                        let (dy, x) = (&gout[at..at + hw], &xv[at..at + hw]);
                        let (mu, is) = (mean[ch], invstd[ch]);
                        for ((g, &d), &v) in gxb[ch * hw..][..hw].iter_mut().zip(dy).zip(x) {
                            *g += k1[ch] * d - k2[ch] - k3[ch] * (v - mu) * is;
                        }
                    }
                });
                let gg: Vec<f32> = sum_dy_xhat.iter().map(|v| *v as f32).collect();
                add_into(grads.get_or_alloc_mut(&g_ghost)?, &gg);
                let gb: Vec<f32> = sum_dy.iter().map(|v| *v as f32).collect();
                add_into(grads.get_or_alloc_mut(&b_ghost)?, &gb);
                Ok(())
            });
        }
        out.put_tape(tape)
    }

    fn activation<T: Tape<f32, Self>>(x: Act<Self, T>, act: Activation) -> Act<Self, T> {
        let (x, mut tape) = x.contiguous().split_tape();
        let shape = *x.shape();
        let yv = activate(&read(&x), act);
        let out = x.device().tensor_from_vec(yv.clone(), shape);
        if T::OWNS_TAPE {
            let (x_ghost, out_ghost) = (x.ghost(), out.ghost());
            tape.add_backward_op(move |grads| {
                let gout = take_grad!(grads, out_ghost);
                let gx = grads.get_or_alloc_mut(&x_ghost)?;
                add_product(gx, &gout, |i| act.derivative_from_output(yv[i]));
                Ok(())
            });
        }
        out.put_tape(tape)
    }

    fn pool<T: Tape<f32, Self>>(x: Act<Self, T>, pool: Pool) -> Act<Self, T> {
        let (x, mut tape) = x.contiguous().split_tape();
        let shape = *x.shape();
        let (out, arg) = pool_forward(&read(&x), shape, pool);
        let out = x
            .device()
            .tensor_from_vec(out, (shape.0, shape.1, shape.2, shape.3 / pool.size()));
        if T::OWNS_TAPE {
            let (x_ghost, out_ghost) = (x.ghost(), out.ghost());
            tape.add_backward_op(move |grads| {
                let gout = take_grad!(grads, out_ghost);
                pool_backward(&gout, shape, pool, &arg, grads.get_or_alloc_mut(&x_ghost)?);
                Ok(())
            });
        }
        out.put_tape(tape)
    }

    fn dropout<T: Tape<f32, Self>>(x: Act<Self, T>, p: f32, seed: u64) -> Act<Self, T> {
        let (x, mut tape) = x.contiguous().split_tape();
        let shape = *x.shape();
        let mask = dropout_mask(shape.num_elements(), p, seed);
        let mut y = read(&x);
        y.par_chunks_mut(ELEMENTS_PER_TASK)
            .zip(mask.par_chunks(ELEMENTS_PER_TASK))
            .for_each(|(y, m)| y.iter_mut().zip(m).for_each(|(v, m)| *v *= m));
        let out = x.device().tensor_from_vec(y, shape);
        if T::OWNS_TAPE {
            let (x_ghost, out_ghost) = (x.ghost(), out.ghost());
            tape.add_backward_op(move |grads| {
                let gout = take_grad!(grads, out_ghost);
                let gx = grads.get_or_alloc_mut(&x_ghost)?;
                add_product(gx, &gout, |i| mask[i]);
                Ok(())
            });
        }
        out.put_tape(tape)
    }
}

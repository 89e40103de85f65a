//! Slice kernels of the CPU pipeline: convolution (im2col + gemm, Winograd for 1×5
//! kernels, or direct for depthwise kernels), pooling, activations, and the reusable buffers they work in.
//! Every reduction runs in a fixed order, so results do not depend on the thread count.

use super::winograd;
use crate::nn::{Activation, ConvGeometry, Pool, Shape4};
use rayon::prelude::*;
use std::cell::RefCell;
use std::sync::Mutex;

/// Samples per parallel work item in convolution gradients (fixed for determinism).
const SAMPLES_PER_TASK: usize = 4;

/// Buffers handed back after a batch, reused by the next one instead of fresh
/// (page-faulting, zero-filled) allocations.
static SPARE_BUFFERS: Mutex<Vec<Vec<f32>>> = Mutex::new(Vec::new());
/// Spare buffers kept at most.
const MAX_SPARE_BUFFERS: usize = 32;

/// A buffer of `len` values with unspecified contents (every caller overwrites them all).
/// A spare buffer of exactly that length is preferred (shapes recur batch after batch),
/// then the smallest one long enough; growing a buffer zero-fills the new part.
pub fn take_buffer(len: usize) -> Vec<f32> {
    let mut spare = SPARE_BUFFERS.lock().unwrap_or_else(|e| e.into_inner());
    let exact = spare.iter().position(|b| b.len() == len);
    let best = exact.or_else(|| {
        (0..spare.len())
            .filter(|&i| spare[i].capacity() >= len)
            .min_by_key(|&i| (spare[i].len() < len, spare[i].capacity()))
    });
    let mut buffer = match best {
        Some(i) => spare.swap_remove(i),
        None => Vec::with_capacity(len),
    };
    drop(spare);
    if buffer.len() > len {
        buffer.truncate(len);
    } else {
        buffer.resize(len, 0.0);
    }
    buffer
}

/// Returns a buffer for reuse.
pub fn give_buffer(buffer: Vec<f32>) {
    let mut spare = SPARE_BUFFERS.lock().unwrap_or_else(|e| e.into_inner());
    if spare.len() < MAX_SPARE_BUFFERS && buffer.capacity() > 0 {
        spare.push(buffer);
    }
}

thread_local! {
    /// Per-thread im2col matrices (input columns and their gradient).
    static COLUMNS: RefCell<(Vec<f32>, Vec<f32>)> = const { RefCell::new((Vec::new(), Vec::new())) };
}

/// Runs `f` with this thread's two scratch matrices, sized `len` each.
fn with_columns<R>(len: usize, f: impl FnOnce(&mut [f32], &mut [f32]) -> R) -> R {
    COLUMNS.with(|cell| {
        let mut cols = cell.borrow_mut();
        let (a, b) = &mut *cols;
        a.resize(len.max(a.len()), 0.0);
        b.resize(len.max(b.len()), 0.0);
        f(&mut a[..len], &mut b[..len])
    })
}

/// `dst += src`, element-wise.
pub fn add_into(dst: &mut [f32], src: &[f32]) {
    dst.iter_mut().zip(src).for_each(|(d, s)| *d += s);
}

/// `c (+)= a · b` for m×k `a`, k×n `b` and m×n `c`, each given with (row, column)
/// strides (`a` and `b` may overlap themselves: a Hankel view of one row is `(1, 1)`).
#[allow(clippy::too_many_arguments)]
pub fn matmul(
    (m, n, k): (usize, usize, usize),
    (c, (c_rs, c_cs)): (&mut [f32], (usize, usize)),
    accumulate: bool,
    a: &[f32],
    (a_rs, a_cs): (usize, usize),
    b: &[f32],
    (b_rs, b_cs): (usize, usize),
) {
    if m == 0 || n == 0 {
        return;
    }
    assert!(c.len() > (m - 1) * c_rs + (n - 1) * c_cs);
    assert!(k == 0 || a.len() > (m - 1) * a_rs + (k - 1) * a_cs);
    assert!(k == 0 || b.len() > (k - 1) * b_rs + (n - 1) * b_cs);
    // SAFETY: the asserts above keep every index gemm touches inside the slices.
    unsafe {
        gemm::gemm(
            m,
            n,
            k,
            c.as_mut_ptr(),
            c_cs as isize,
            c_rs as isize,
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

/// The part `lo..hi` of an output row that reads inside the input for tap `j`, and the
/// input index of `lo`: `out[t] = src[t + j − pad]` when `0 ≤ t + j − pad < w`.
fn tap_range(j: usize, pad: usize, w: usize, wo: usize) -> (usize, usize, usize) {
    let shift = j as isize - pad as isize;
    let lo = ((-shift).max(0) as usize).min(wo);
    let hi = ((w as isize - shift).clamp(0, wo as isize) as usize).max(lo);
    (lo, hi, (lo as isize + shift) as usize)
}

/// Fills `col` (K × L, K = in_per_group·kh·kw, L = ho·wo) for one sample and group.
fn im2col(x: &[f32], (h, w): (usize, usize), g: &ConvGeometry, group: usize, col: &mut [f32]) {
    let (kh, kw) = g.kernel;
    let (ho, wo) = g.output_hw(h, w);
    let mut rows = col.chunks_exact_mut(wo);
    for c in 0..g.in_per_group() {
        let plane = &x[(group * g.in_per_group() + c) * h * w..][..h * w];
        for i in 0..kh {
            for j in 0..kw {
                let (lo, hi, start) = tap_range(j, g.time_padding, w, wo);
                for y in 0..ho {
                    let out = rows.next().expect("col holds K × L values");
                    out[..lo].fill(0.0);
                    out[hi..].fill(0.0);
                    out[lo..hi].copy_from_slice(&plane[(y + i) * w + start..][..hi - lo]);
                }
            }
        }
    }
}

/// Adds `col` (K × L) back into the input-gradient planes of one sample and group.
fn col2im(col: &[f32], (h, w): (usize, usize), g: &ConvGeometry, group: usize, gx: &mut [f32]) {
    let (kh, kw) = g.kernel;
    let (ho, wo) = g.output_hw(h, w);
    let mut rows = col.chunks_exact(wo);
    for c in 0..g.in_per_group() {
        let plane = &mut gx[(group * g.in_per_group() + c) * h * w..][..h * w];
        for i in 0..kh {
            for j in 0..kw {
                let (lo, hi, start) = tap_range(j, g.time_padding, w, wo);
                for y in 0..ho {
                    let src = rows.next().expect("col holds K × L values");
                    add_into(&mut plane[(y + i) * w + start..][..hi - lo], &src[lo..hi]);
                }
            }
        }
    }
}

/// True when each output channel reads one input channel through a (kh × 1) kernel
/// (EEGNet's depthwise layer): computed directly, a gemm would be all overhead.
fn is_depthwise_column(g: &ConvGeometry) -> bool {
    g.in_per_group() == 1 && g.kernel.1 == 1 && g.time_padding == 0
}

/// True when a dense (kh × 1) kernel spans the whole height (DeepConvNet's spatial
/// layer): the input itself is the im2col matrix, (c·h) × w.
fn is_full_height_column(g: &ConvGeometry, h: usize) -> bool {
    g.groups == 1 && g.kernel == (h, 1) && g.time_padding == 0
}

/// True when the input has one channel and the kernel one row (the models' first
/// layers): each input row, zero-padded, is read as a Hankel matrix `B[j, t] = x[t + j]`
/// straight by gemm, with no im2col copy.
fn is_single_channel_row(g: &ConvGeometry) -> bool {
    g.in_channels == 1 && g.kernel.0 == 1
}

/// `row` with `pad` zeros on each side, in `padded`.
fn pad_row<'a>(row: &[f32], pad: usize, padded: &'a mut Vec<f32>) -> &'a [f32] {
    padded.clear();
    padded.resize(pad, 0.0);
    padded.extend_from_slice(row);
    padded.resize(row.len() + 2 * pad, 0.0);
    padded
}

/// Forward convolution of one sample `x` (c, h, w) into `out` (out_channels, ho, wo).
fn conv_sample(x: &[f32], (h, w): (usize, usize), g: &ConvGeometry, weight: &[f32], out: &mut [f32]) {
    let (ho, wo) = g.output_hw(h, w);
    let l = ho * wo;
    let out_per_group = g.out_channels / g.groups;
    if is_single_channel_row(g) {
        let (kw, mut padded) = (g.kernel.1, Vec::new());
        for y in 0..ho {
            let row = pad_row(&x[y * w..][..w], g.time_padding, &mut padded);
            let c = &mut out[y * wo..];
            matmul(
                (g.out_channels, wo, kw),
                (c, (l, 1)),
                false,
                weight,
                (kw, 1),
                row,
                (1, 1),
            );
        }
        return;
    }
    if is_depthwise_column(g) {
        let kh = g.kernel.0;
        for (o, out_plane) in out.chunks_exact_mut(l).enumerate() {
            let plane = &x[(o / out_per_group) * h * w..][..h * w];
            let taps = &weight[o * kh..][..kh];
            for (y, row) in out_plane.chunks_exact_mut(wo).enumerate() {
                row.fill(0.0);
                for (i, &tap) in taps.iter().enumerate() {
                    row.iter_mut()
                        .zip(&plane[(y + i) * w..][..w])
                        .for_each(|(o, v)| *o += tap * v);
                }
            }
        }
        return;
    }
    let k = g.in_per_group() * g.kernel.0 * g.kernel.1;
    if is_full_height_column(g, h) {
        matmul((g.out_channels, l, k), (out, (l, 1)), false, weight, (k, 1), x, (l, 1));
        return;
    }
    with_columns(k * l, |col, _| {
        for group in 0..g.groups {
            im2col(x, (h, w), g, group, col);
            let wg = &weight[group * out_per_group * k..][..out_per_group * k];
            let og = &mut out[group * out_per_group * l..][..out_per_group * l];
            matmul((out_per_group, l, k), (og, (l, 1)), false, wg, (k, 1), col, (l, 1));
        }
    });
}

/// Independent partial sums per long reduction: they vectorise (a single running sum is
/// one serial chain of additions) and still add up in a fixed order.
const LANES: usize = 8;

/// `(Σ f(a[i], b[i]), Σ g(a[i], b[i]))` in f64, accumulated in [`LANES`] partial sums each.
#[inline(always)]
fn sum_pairs(a: &[f32], b: &[f32], f: impl Fn(f32, f32) -> f64, g: impl Fn(f32, f32) -> f64) -> (f64, f64) {
    let (mut fs, mut gs) = ([0.0f64; LANES], [0.0f64; LANES]);
    let (a_chunks, b_chunks) = (a.chunks_exact(LANES), b.chunks_exact(LANES));
    let tail = a_chunks.remainder().iter().zip(b_chunks.remainder());
    for (x, y) in a_chunks.zip(b_chunks) {
        for lane in 0..LANES {
            fs[lane] += f(x[lane], y[lane]);
            gs[lane] += g(x[lane], y[lane]);
        }
    }
    let (mut f_total, mut g_total) = (fs.iter().sum::<f64>(), gs.iter().sum::<f64>());
    for (&x, &y) in tail {
        f_total += f(x, y);
        g_total += g(x, y);
    }
    (f_total, g_total)
}

/// `Σ a[i]` in f32, accumulated in [`LANES`] partial sums.
#[inline(always)]
fn lane_sum(a: &[f32]) -> f32 {
    let mut sums = [0.0f32; LANES];
    let chunks = a.chunks_exact(LANES);
    let tail: f32 = chunks.remainder().iter().sum();
    for x in chunks {
        for lane in 0..LANES {
            sums[lane] += x[lane];
        }
    }
    sums.iter().sum::<f32>() + tail
}

/// `Σ a[i]·b[i]` in f32, accumulated in [`LANES`] partial sums.
#[inline(always)]
fn dot(a: &[f32], b: &[f32]) -> f32 {
    let mut sums = [0.0f32; LANES];
    let (a_chunks, b_chunks) = (a.chunks_exact(LANES), b.chunks_exact(LANES));
    let tail: f32 = a_chunks
        .remainder()
        .iter()
        .zip(b_chunks.remainder())
        .map(|(x, y)| x * y)
        .sum();
    for (x, y) in a_chunks.zip(b_chunks) {
        for lane in 0..LANES {
            sums[lane] += x[lane] * y[lane];
        }
    }
    sums.iter().sum::<f32>() + tail
}

#[inline(always)]
fn row_sums_body(row: &[f32]) -> (f64, f64) {
    sum_pairs(row, row, |v, _| v as f64, |v, _| (v as f64) * (v as f64))
}

with_avx2! {
    /// Sum and sum of squares of a row, in f64.
    pub fn row_sums = row_sums_body(row: &[f32]) -> (f64, f64)
}

#[inline(always)]
fn gradient_sums_body(grad: &[f32], x: &[f32], mean: f32) -> (f64, f64) {
    sum_pairs(grad, x, |g, _| g as f64, |g, v| (g * (v - mean)) as f64)
}

with_avx2! {
    /// `(Σ grad, Σ grad·(x − mean))` of a row, in f64 (BatchNorm's backward sums).
    pub fn gradient_sums = gradient_sums_body(grad: &[f32], x: &[f32], mean: f32) -> (f64, f64)
}

#[inline(always)]
fn normalize_backward_body(grad: &mut [f32], x: &[f32], (a, b, d): (f32, f32, f32), (mean, invstd): (f32, f32)) {
    for (g, &v) in grad.iter_mut().zip(x) {
        *g = a * *g - b - d * (v - mean) * invstd;
    }
}

with_avx2! {
    /// BatchNorm's input gradient in place: `grad = a·grad − b − d·(x − mean)·invstd`.
    pub fn normalize_backward = normalize_backward_body(
        grad: &mut [f32],
        x: &[f32],
        coefficients: (f32, f32, f32),
        statistics: (f32, f32),
    )
}

/// Forward convolution of a (n, c, h, w) batch into `out`, plus the bias. When `sums`
/// is given, also writes each output row's [`row_sums`] (for a following BatchNorm)
/// while the sample is still in cache. `allow_winograd` lets 1×5 kernels use Winograd's
/// transforms, whose rounding differs slightly from the direct sum: only where no
/// gradient will flow back through this output (so no ReLU or max-pool decision taken
/// from it can differ from PyTorch's).
#[allow(clippy::too_many_arguments)]
pub fn conv_forward(
    x: &[f32],
    shape: Shape4,
    g: &ConvGeometry,
    weight: &[f32],
    bias: Option<&[f32]>,
    out: &mut [f32],
    sums: Option<&mut [(f64, f64)]>,
    allow_winograd: bool,
) {
    let (n, _, h, w) = shape;
    let (ho, wo) = g.output_hw(h, w);
    let l = ho * wo;
    let in_len = g.in_channels * h * w;
    let winograd = allow_winograd && winograd::applies(g, shape);
    if winograd {
        winograd::forward(x, shape, g, weight, out);
    }
    let sample = |out_b: &mut [f32], xb: &[f32], sums_b: Option<&mut [(f64, f64)]>| {
        if !winograd {
            conv_sample(xb, (h, w), g, weight, out_b);
        }
        if let Some(bias) = bias {
            for (row, b) in out_b.chunks_exact_mut(l).zip(bias) {
                row.iter_mut().for_each(|v| *v += b);
            }
        }
        if let Some(sums_b) = sums_b {
            for (s, row) in sums_b.iter_mut().zip(out_b.chunks_exact(wo)) {
                *s = row_sums(row);
            }
        }
    };
    let samples = out[..n * g.out_channels * l]
        .par_chunks_mut(g.out_channels * l)
        .zip(x.par_chunks(in_len));
    match sums {
        Some(sums) => samples
            .zip(sums.par_chunks_mut(g.out_channels * ho))
            .for_each(|((out_b, xb), sums_b)| sample(out_b, xb, Some(sums_b))),
        None => samples.for_each(|(out_b, xb)| sample(out_b, xb, None)),
    }
}

/// Adds one sample's weight gradient into `gw` and, if asked, writes its input gradient.
fn conv_sample_backward(
    x: &[f32],
    (h, w): (usize, usize),
    g: &ConvGeometry,
    weight: &[f32],
    gout: &[f32],
    gw: &mut [f32],
    mut gx: Option<&mut [f32]>,
) {
    let (ho, wo) = g.output_hw(h, w);
    let l = ho * wo;
    let out_per_group = g.out_channels / g.groups;
    if is_single_channel_row(g) && gx.is_none() {
        let (kw, mut padded) = (g.kernel.1, Vec::new());
        for y in 0..ho {
            let row = pad_row(&x[y * w..][..w], g.time_padding, &mut padded);
            let g_rows = &gout[y * wo..];
            matmul(
                (g.out_channels, kw, wo),
                (gw, (kw, 1)),
                true,
                g_rows,
                (l, 1),
                row,
                (1, 1),
            );
        }
        return;
    }
    if let Some(gx) = gx.as_deref_mut() {
        if !is_full_height_column(g, h) {
            gx.fill(0.0); // the paths below accumulate into it
        }
    }
    if is_depthwise_column(g) {
        let kh = g.kernel.0;
        for (o, g_plane) in gout.chunks_exact(l).enumerate() {
            let c = o / out_per_group;
            let plane = &x[c * h * w..][..h * w];
            for (y, g_row) in g_plane.chunks_exact(wo).enumerate() {
                for i in 0..kh {
                    let x_row = &plane[(y + i) * w..][..w];
                    gw[o * kh + i] += dot(g_row, x_row);
                    if let Some(gx) = gx.as_deref_mut() {
                        let tap = weight[o * kh + i];
                        gx[c * h * w + (y + i) * w..][..w]
                            .iter_mut()
                            .zip(g_row)
                            .for_each(|(d, gv)| *d += tap * gv);
                    }
                }
            }
        }
        return;
    }
    let k = g.in_per_group() * g.kernel.0 * g.kernel.1;
    if is_full_height_column(g, h) {
        matmul((g.out_channels, k, l), (gw, (k, 1)), true, gout, (l, 1), x, (1, l));
        if let Some(gx) = gx {
            matmul(
                (k, l, g.out_channels),
                (gx, (l, 1)),
                false,
                weight,
                (1, k),
                gout,
                (l, 1),
            );
        }
        return;
    }
    with_columns(k * l, |col, gcol| {
        for group in 0..g.groups {
            let gog = &gout[group * out_per_group * l..][..out_per_group * l];
            im2col(x, (h, w), g, group, col);
            let gwg = &mut gw[group * out_per_group * k..][..out_per_group * k];
            matmul((out_per_group, k, l), (gwg, (k, 1)), true, gog, (l, 1), col, (1, l));
            if let Some(gx) = gx.as_deref_mut() {
                let wg = &weight[group * out_per_group * k..][..out_per_group * k];
                matmul((k, l, out_per_group), (gcol, (l, 1)), false, wg, (1, k), gog, (l, 1));
                col2im(gcol, (h, w), g, group, gx);
            }
        }
    });
}

/// Gradients of a convolution: writes `gx` (if given) and returns the weight gradient
/// (the bias gradient is [`bias_gradient`]). Both gradients of a 1×5k kernel go through
/// Winograd's transforms (their rounding
/// error, ~10⁻⁶ relative, feeds no decision).
pub fn conv_backward(
    x: &[f32],
    shape: Shape4,
    g: &ConvGeometry,
    weight: &[f32],
    gout: &[f32],
    gx: Option<&mut [f32]>,
) -> Vec<f32> {
    let (n, _, h, w) = shape;
    let (ho, wo) = g.output_hw(h, w);
    let l = ho * wo;
    let in_len = g.in_channels * h * w;
    if winograd::applies(g, shape) {
        if let Some(gx) = gx {
            winograd::input_gradient(gout, shape, g, weight, gx);
        }
        return winograd::weight_gradient(x, shape, g, gout);
    }
    let out_len = g.out_channels * l;
    let task_grads = |task: usize, mut gx_task: Option<&mut [f32]>| {
        let mut gw = vec![0.0; weight.len()];
        let first = task * SAMPLES_PER_TASK;
        for b in first..(first + SAMPLES_PER_TASK).min(n) {
            let gxb = gx_task.as_deref_mut().map(|t| &mut t[(b - first) * in_len..][..in_len]);
            let gb = &gout[b * out_len..][..out_len];
            conv_sample_backward(&x[b * in_len..][..in_len], (h, w), g, weight, gb, &mut gw, gxb);
        }
        gw
    };
    let partial: Vec<Vec<f32>> = match gx {
        Some(gx) => gx[..n * in_len]
            .par_chunks_mut(SAMPLES_PER_TASK * in_len)
            .enumerate()
            .map(|(task, gxt)| task_grads(task, Some(gxt)))
            .collect(),
        None => (0..n.div_ceil(SAMPLES_PER_TASK))
            .into_par_iter()
            .map(|t| task_grads(t, None))
            .collect(),
    };
    let mut gw = vec![0.0; weight.len()];
    partial.iter().for_each(|p| add_into(&mut gw, p));
    gw
}

/// Per output channel, the sum of its gradient `gout` (n, channels, l) over samples and
/// positions.
pub fn bias_gradient(gout: &[f32], channels: usize, l: usize) -> Vec<f32> {
    let mut gb = vec![0.0; channels];
    for (r, row) in gout.chunks_exact(l).enumerate() {
        gb[r % channels] += lane_sum(row);
    }
    gb
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

with_avx2! {
    /// `out[t] = act(x[t] · scale + shift)`.
    pub fn normalize_activate = normalize_activate_body(
        x: &[f32],
        out: &mut [f32],
        scale: f32,
        shift: f32,
        act: Option<Activation>,
    )
}

#[inline(always)]
fn normalize_activate_body(x: &[f32], out: &mut [f32], scale: f32, shift: f32, act: Option<Activation>) {
    let pairs = out.iter_mut().zip(x);
    match act {
        None => pairs.for_each(|(o, v)| *o = v * scale + shift),
        Some(Activation::Relu) => pairs.for_each(|(o, v)| *o = (v * scale + shift).max(0.0)),
        Some(Activation::LeakyRelu { slope }) => pairs.for_each(|(o, v)| {
            let z = v * scale + shift;
            *o = if z > 0.0 { z } else { slope * z };
        }),
        Some(Activation::Elu { alpha }) => pairs.for_each(|(o, v)| {
            let z = v * scale + shift;
            *o = if z > 0.0 { z } else { alpha * (exp_nonpositive(z) - 1.0) };
        }),
    }
}

with_avx2! {
    /// `grad[t] *= act'(x[t] · scale + shift)` (PyTorch's choice at 0 is the negative branch).
    pub fn activation_backward = activation_backward_body(
        grad: &mut [f32],
        x: &[f32],
        scale: f32,
        shift: f32,
        act: Activation,
    )
}

#[inline(always)]
fn activation_backward_body(grad: &mut [f32], x: &[f32], scale: f32, shift: f32, act: Activation) {
    let pairs = grad.iter_mut().zip(x);
    match act {
        Activation::Relu => pairs.for_each(|(g, v)| *g = if v * scale + shift > 0.0 { *g } else { 0.0 }),
        Activation::LeakyRelu { slope } => {
            pairs.for_each(|(g, v)| *g *= if v * scale + shift > 0.0 { 1.0 } else { slope })
        }
        Activation::Elu { alpha } => pairs.for_each(|(g, v)| {
            let z = v * scale + shift;
            *g *= if z > 0.0 { 1.0 } else { alpha * exp_nonpositive(z) };
        }),
    }
}

with_avx2! {
    /// Pools one row into `out` (`row.len() / k` values; the tail is dropped). Max pooling
    /// takes the first maximum and propagates NaN, as PyTorch.
    pub fn pool_row = pool_row_body(row: &[f32], pool: Pool, out: &mut [f32])
}

#[inline(always)]
fn pool_row_body(row: &[f32], pool: Pool, out: &mut [f32]) {
    match pool {
        Pool::Max(2) => {
            for (v, pair) in out.iter_mut().zip(row.chunks_exact(2)) {
                *v = if pair[1] > pair[0] || pair[1].is_nan() {
                    pair[1]
                } else {
                    pair[0]
                };
            }
        }
        Pool::Max(k) => {
            for (v, win) in out.iter_mut().zip(row.chunks_exact(k)) {
                *v = win[arg_max(win)];
            }
        }
        Pool::Avg(4) => average_windows::<4>(row, out),
        Pool::Avg(8) => average_windows::<8>(row, out),
        Pool::Avg(k) => {
            let inv = 1.0 / k as f32;
            for (v, win) in out.iter_mut().zip(row.chunks_exact(k)) {
                *v = win.iter().sum::<f32>() * inv;
            }
        }
    }
}

/// Index of a window's first maximum (NaN counts as the maximum, as in PyTorch).
#[inline(always)]
fn arg_max(win: &[f32]) -> usize {
    let mut best = 0;
    for (j, value) in win.iter().enumerate().skip(1) {
        if *value > win[best] || value.is_nan() {
            best = j;
        }
    }
    best
}

/// Means of windows of a length known at compile time (so the loop vectorises).
#[inline(always)]
fn average_windows<const K: usize>(row: &[f32], out: &mut [f32]) {
    let inv = 1.0 / K as f32;
    for (v, win) in out.iter_mut().zip(row.chunks_exact(K)) {
        let mut sum = win[0];
        for value in &win[1..] {
            sum += value;
        }
        *v = sum * inv;
    }
}

with_avx2! {
    /// Spreads a pooled row's gradient back over `grad` (the full row; the tail gets 0).
    /// Max pooling routes each window's gradient to the arg-max of `z`, the values it
    /// pooled (or any monotonic function of them).
    pub fn unpool_row = unpool_row_body(gout: &[f32], pool: Pool, z: &[f32], grad: &mut [f32])
}

#[inline(always)]
fn unpool_row_body(gout: &[f32], pool: Pool, z: &[f32], grad: &mut [f32]) {
    let covered = gout.len() * pool.size();
    grad[covered..].fill(0.0);
    match pool {
        Pool::Max(2) => {
            for ((g2, pair), &g) in grad.chunks_exact_mut(2).zip(z.chunks_exact(2)).zip(gout) {
                let second = pair[1] > pair[0] || pair[1].is_nan();
                g2[0] = if second { 0.0 } else { g };
                g2[1] = if second { g } else { 0.0 };
            }
        }
        Pool::Max(k) => {
            for ((gw, win), &g) in grad.chunks_exact_mut(k).zip(z.chunks_exact(k)).zip(gout) {
                gw.fill(0.0);
                gw[arg_max(win)] = g;
            }
        }
        Pool::Avg(k) => {
            let inv = 1.0 / k as f32;
            for (gw, &g) in grad.chunks_exact_mut(k).zip(gout) {
                gw.fill(g * inv);
            }
        }
    }
}

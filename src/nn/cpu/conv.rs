//! Convolution on slices: im2col + gemm, the direct kernel (AVX-512, AVX2), Winograd's transforms
//! for 1×5k kernels (weight gradients; outputs and input gradients where they pay), or
//! loops for depthwise and full-height kernels;
//! forward with the following BatchNorm's row sums, and the input, weight and bias
//! gradients. Every reduction runs in a fixed order, so results do not depend on the
//! thread count.

#[cfg(target_arch = "x86_64")]
use super::direct;
use super::elementwise::{add_constant, add_into, add_scaled, dot, lane_sum, row_sums, weighted_rows};
use super::gemm::matmul;
use super::isa::Isa;
use super::plan::{self, Gradients, Sums};
use super::winograd;
use crate::nn::ops::{ConvGeometry, Shape4};
use rayon::prelude::*;
use std::cell::RefCell;

/// Samples per parallel work item in convolution gradients (fixed for determinism).
const SAMPLES_PER_TASK: usize = 4;

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

/// `row` with `pad` zeros on each side, in `padded`.
fn pad_row<'a>(row: &[f32], pad: usize, padded: &'a mut Vec<f32>) -> &'a [f32] {
    padded.clear();
    padded.resize(pad, 0.0);
    padded.extend_from_slice(row);
    padded.resize(row.len() + 2 * pad, 0.0);
    padded
}

/// Forward convolution of one sample `x` (c, h, w) into `out` (out_channels, ho, wo), its
/// sums computed as `sums` (from [`plan::sums`] for `isa`; not Winograd's, which work on
/// batches).
#[allow(clippy::too_many_arguments)]
fn conv_sample(
    x: &[f32],
    (h, w): (usize, usize),
    g: &ConvGeometry,
    weight: &[f32],
    out: &mut [f32],
    sums: Sums,
    isa: Isa,
) {
    if sums == Sums::Direct {
        #[cfg(target_arch = "x86_64")]
        direct::forward_sample(isa, x, (h, w), g, weight, out);
        #[cfg(not(target_arch = "x86_64"))]
        unreachable!("the direct kernel is planned on x86-64 only");
        return;
    }
    let (ho, wo) = g.output_hw(h, w);
    let l = ho * wo;
    let out_per_group = g.out_channels / g.groups;
    if sums == Sums::HankelGemm {
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
    if sums == Sums::DepthwiseRows {
        let kh = g.kernel.0;
        for (o, out_plane) in out.chunks_exact_mut(l).enumerate() {
            let plane = &x[(o / out_per_group) * h * w..][..h * w];
            let taps = &weight[o * kh..][..kh];
            for (y, row) in out_plane.chunks_exact_mut(wo).enumerate() {
                weighted_rows(row, &plane[y * w..], w, taps);
            }
        }
        return;
    }
    let k = g.in_per_group() * g.kernel.0 * g.kernel.1;
    if sums == Sums::FullHeightGemm {
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

/// Forward convolution of a (n, c, h, w) batch into `out`, plus the bias. When `sums` is
/// given, also writes each output row's [`row_sums`] (for a following BatchNorm).
///
/// Outputs a backward pass will read (`for_backward`) are direct sums, as PyTorch's, so
/// every ReLU and max-pool decision routes the gradient as PyTorch's does. Other outputs
/// (evaluation) go through Winograd's transforms where [`plan::winograd_pays`]: they round
/// differently, ~10⁻⁶ relative, and a ReLU or a maximum is continuous, so a decision taken
/// the other way at a near-tie moves the result no further than that.
pub fn conv_forward(
    x: &[f32],
    shape: Shape4,
    g: &ConvGeometry,
    (weight, bias): (&[f32], Option<&[f32]>),
    out: &mut [f32],
    sums: Option<&mut [(f64, f64)]>,
    for_backward: bool,
) {
    let (n, _, h, w) = shape;
    let (ho, wo) = g.output_hw(h, w);
    let l = ho * wo;
    let in_len = g.in_channels * h * w;
    let isa = Isa::chosen();
    let planned = plan::sums(g, shape, isa, for_backward);
    if planned == Sums::Winograd {
        winograd::forward(x, shape, g, weight, out);
    }
    let sample = |out_b: &mut [f32], xb: &[f32], sums_b: Option<&mut [(f64, f64)]>| {
        if planned != Sums::Winograd {
            conv_sample(xb, (h, w), g, weight, out_b, planned, isa);
        }
        if let Some(bias) = bias {
            for (row, &b) in out_b.chunks_exact_mut(l).zip(bias) {
                add_constant(row, b);
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

/// Adds one sample's weight gradient into `gw` and, if asked, writes its input gradient,
/// laid out as `sums` (from [`plan::gradients`]).
#[allow(clippy::too_many_arguments)]
fn conv_sample_backward(
    x: &[f32],
    (h, w): (usize, usize),
    g: &ConvGeometry,
    weight: &[f32],
    gout: &[f32],
    gw: &mut [f32],
    mut gx: Option<&mut [f32]>,
    sums: Sums,
) {
    let (ho, wo) = g.output_hw(h, w);
    let l = ho * wo;
    let out_per_group = g.out_channels / g.groups;
    if sums == Sums::HankelGemm {
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
        if sums != Sums::FullHeightGemm {
            gx.fill(0.0); // the paths below accumulate into it
        }
    }
    if sums == Sums::DepthwiseRows {
        let kh = g.kernel.0;
        for (o, g_plane) in gout.chunks_exact(l).enumerate() {
            let c = o / out_per_group;
            let plane = &x[c * h * w..][..h * w];
            for (y, g_row) in g_plane.chunks_exact(wo).enumerate() {
                for i in 0..kh {
                    let x_row = &plane[(y + i) * w..][..w];
                    gw[o * kh + i] += dot(g_row, x_row);
                    if let Some(gx) = gx.as_deref_mut() {
                        add_scaled(&mut gx[c * h * w + (y + i) * w..][..w], weight[o * kh + i], g_row);
                    }
                }
            }
        }
        return;
    }
    let k = g.in_per_group() * g.kernel.0 * g.kernel.1;
    if sums == Sums::FullHeightGemm {
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
/// (the bias gradient is [`bias_gradient`]). A 1×5k kernel's weight gradient goes through
/// Winograd's transforms, its input gradient through [`transposed_input_gradient`].
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
    let sums = match plan::gradients(g, shape, Isa::chosen(), gx.is_some()) {
        Gradients::Winograd { input } => {
            if let Some(gx) = gx {
                transposed_input_gradient(gout, shape, g, weight, gx, input);
            }
            return winograd::weight_gradient(x, shape, g, gout);
        }
        Gradients::PerSample(sums) => sums,
    };
    let out_len = g.out_channels * l;
    let task_grads = |task: usize, mut gx_task: Option<&mut [f32]>| {
        let mut gw = vec![0.0; weight.len()];
        let first = task * SAMPLES_PER_TASK;
        for b in first..(first + SAMPLES_PER_TASK).min(n) {
            let gxb = gx_task.as_deref_mut().map(|t| &mut t[(b - first) * in_len..][..in_len]);
            let gb = &gout[b * out_len..][..out_len];
            conv_sample_backward(&x[b * in_len..][..in_len], (h, w), g, weight, gb, &mut gw, gxb, sums);
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

/// Input gradient of a single-row convolution of an input of `shape`, as the forward sums
/// of its [`plan::transposed`] convolution (the kernel flipped in time, its channel axes
/// swapped), computed as `sums`: Winograd's transforms, or per sample [`conv_sample`]
/// (gemm's bits on every path).
fn transposed_input_gradient(
    gout: &[f32],
    shape: Shape4,
    g: &ConvGeometry,
    weight: &[f32],
    gx: &mut [f32],
    sums: Sums,
) {
    let (n, c, _, w) = shape;
    let (o, kw) = (g.out_channels, g.kernel.1);
    let (transposed, gout_shape) = plan::transposed(g, shape);
    let out_len = gout_shape.3;
    // flipped[ch, oc, j] = weight[oc, ch, kw − 1 − j]
    let mut flipped = vec![0.0f32; c * o * kw];
    for (oc, per_output) in weight.chunks_exact(c * kw).enumerate() {
        for (ch, taps) in per_output.chunks_exact(kw).enumerate() {
            for (j, &tap) in taps.iter().rev().enumerate() {
                flipped[(ch * o + oc) * kw + j] = tap;
            }
        }
    }
    if sums == Sums::Winograd {
        winograd::forward(gout, gout_shape, &transposed, &flipped, gx);
        return;
    }
    gx[..n * c * w]
        .par_chunks_mut(c * w)
        .zip(gout.par_chunks(o * out_len))
        .for_each(|(gx_b, gout_b)| conv_sample(gout_b, (1, out_len), &transposed, &flipped, gx_b, sums, Isa::chosen()));
}

/// Per output channel, the sum of its gradient `gout` (n, channels, l) over samples and
/// positions: rows summed in parallel, added in row order (the same bits on any thread
/// count).
pub fn bias_gradient(gout: &[f32], channels: usize, l: usize) -> Vec<f32> {
    let row_sums: Vec<f32> = gout.par_chunks_exact(l).map(lane_sum).collect();
    let mut gb = vec![0.0; channels];
    for (r, sum) in row_sums.into_iter().enumerate() {
        gb[r % channels] += sum;
    }
    gb
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The direct convolution, on every path it runs here, gives im2col + gemm's bits: the models' layers and
    /// awkward ones (an input gradient as a convolution, groups, channel remainders, rows
    /// shorter than a vector or one past a block, last blocks of 1 to 3 vectors).
    #[test]
    #[cfg(target_arch = "x86_64")]
    fn direct_convolution_gives_the_gemm_paths_bits() {
        let (paths, skipped): (Vec<Isa>, Vec<Isa>) = [Isa::Avx512, Isa::Avx2]
            .into_iter()
            .partition(|&isa| plan::direct_runs_on(isa));
        for isa in skipped {
            eprintln!(
                "direct convolution: skipped the {} path (this CPU cannot run it)",
                isa.name()
            );
        }
        let cases = [
            (ConvGeometry::new(1, 16, (1, 51), 25, 1), (2, 750)),
            (ConvGeometry::new(32, 32, (1, 15), 7, 1), (1, 187)),
            (ConvGeometry::new(1, 25, (1, 5), 0, 1), (2, 750)),
            (ConvGeometry::new(25, 25, (2, 1), 0, 1), (2, 746)),
            (ConvGeometry::new(25, 50, (1, 10), 0, 1), (1, 373)),
            (ConvGeometry::new(50, 50, (1, 10), 0, 1), (1, 182)),
            (ConvGeometry::new(100, 200, (1, 5), 0, 1), (1, 90)),
            (ConvGeometry::new(100, 50, (1, 5), 4, 1), (1, 180)),
            (ConvGeometry::new(64, 9, (1, 8), 3, 1), (1, 65)),
            (ConvGeometry::new(6, 10, (2, 3), 1, 2), (3, 13)),
            (ConvGeometry::new(3, 5, (1, 4), 0, 1), (1, 67)),
            (ConvGeometry::new(2, 7, (3, 2), 2, 1), (4, 62)),
        ];
        for (g, (h, w)) in cases {
            assert!(plan::direct_applies(&g), "{g:?}");
            let x: Vec<f32> = (0..g.in_channels * h * w)
                .map(|i| ((i * 7919) % 211) as f32 / 37.0 - 2.5)
                .collect();
            let weight: Vec<f32> = (0..g.weight_len())
                .map(|i| ((i * 104_729) % 197) as f32 / 290.0 - 0.3)
                .collect();
            let (ho, wo) = g.output_hw(h, w);
            let shape = (1, g.in_channels, h, w);
            let run = |isa| {
                let mut out = vec![f32::NAN; g.out_channels * ho * wo];
                conv_sample(&x, (h, w), &g, &weight, &mut out, plan::sums(&g, shape, isa, true), isa);
                out.iter().map(|v| v.to_bits()).collect::<Vec<_>>()
            };
            assert_ne!(plan::sums(&g, shape, Isa::Baseline, true), Sums::Direct);
            for &isa in &paths {
                assert_eq!(plan::sums(&g, shape, isa, true), Sums::Direct, "{g:?}");
                assert_eq!(run(isa), run(Isa::Baseline), "{isa:?}: {g:?} on {h}×{w}");
            }
        }
        assert!(!plan::direct_applies(&ConvGeometry::new(100, 100, (1, 10), 0, 1)));
    }
}

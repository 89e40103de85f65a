//! Direct convolution with AVX-512: the forward pass of a dense convolution without
//! im2col. Each output is the same chain of fused multiply-adds, in the same order (input
//! channel, kernel row, tap), that gemm's kernels compute when the reduction fits one of
//! its k-blocks (at most [`UNSPLIT_REDUCTION`] terms), so the bits equal the im2col + gemm path's.

use super::gemm::UNSPLIT_REDUCTION;
use crate::nn::ConvGeometry;
use std::cell::RefCell;

/// Output channels per register block (fewer for a group's last channels).
const CHANNELS: usize = 8;
/// Vectors of 16 positions per register block (a row's last block takes only as many as
/// it needs): with [`CHANNELS`], 24 accumulators and 3 inputs stay in the 32 registers.
const VECTORS: usize = 3;
/// Positions per register block.
const POSITIONS: usize = 16 * VECTORS;

thread_local! {
    /// Per-thread zero-padded input rows (small: one sample's; a pooled buffer would keep
    /// a large activation buffer busy for it).
    static PADDED: RefCell<Vec<f32>> = const { RefCell::new(Vec::new()) };
}

/// Whether [`forward_sample`] computes this convolution with gemm's bits.
pub fn applies(g: &ConvGeometry) -> bool {
    g.in_per_group() * g.kernel.0 * g.kernel.1 <= UNSPLIT_REDUCTION
}

/// Forward convolution of one sample `x` (c, h, w) into `out` (out_channels, ho, wo).
/// The CPU must run AVX-512 (F) and `g` must satisfy [`applies`].
pub fn forward_sample(x: &[f32], (h, w): (usize, usize), g: &ConvGeometry, weight: &[f32], out: &mut [f32]) {
    assert!(std::is_x86_feature_detected!("avx512f") && applies(g));
    let (ho, wo) = g.output_hw(h, w);
    assert!(x.len() >= g.in_channels * h * w && weight.len() >= g.weight_len());
    assert!(out.len() >= g.out_channels * ho * wo);
    // Rows zero-padded on both sides and past the last block, so every load is in bounds.
    let stride = wo.div_ceil(POSITIONS) * POSITIONS + g.kernel.1 - 1;
    PADDED.with(|cell| {
        let mut padded = cell.borrow_mut();
        padded.clear();
        padded.resize(g.in_channels * h * stride, 0.0);
        for (dst, src) in padded.chunks_exact_mut(stride).zip(x.chunks_exact(w)) {
            dst[g.time_padding..][..w].copy_from_slice(src);
        }
        convolve(&padded, (h, stride), (ho, wo), g, weight, out);
    });
}

/// [`forward_sample`] on its padded rows (`stride` values each) into (ho, wo) planes.
fn convolve(
    padded: &[f32],
    (h, stride): (usize, usize),
    (ho, wo): (usize, usize),
    g: &ConvGeometry,
    weight: &[f32],
    out: &mut [f32],
) {
    let (kh, kw) = g.kernel;
    let (cg, og) = (g.in_per_group(), g.out_channels / g.groups);
    let k = cg * kh * kw;
    for group in 0..g.groups {
        let input = &padded[group * cg * h * stride..][..cg * h * stride];
        let mut first = 0;
        while first < og {
            let channels = match og - first {
                left if left >= CHANNELS => CHANNELS,
                left if left >= 4 => 4,
                _ => 1,
            };
            let o = group * og + first;
            let weights = &weight[o * k..][..channels * k];
            let outputs = &mut out[o * ho * wo..][..channels * ho * wo];
            for y in 0..ho {
                for t in (0..wo).step_by(POSITIONS) {
                    let block = Block {
                        input: &input[y * stride + t..],
                        stride,
                        rows: (cg, h, kh),
                        kw,
                        weights,
                    };
                    let valid = (wo - t).min(POSITIONS);
                    let at = y * wo + t;
                    // SAFETY: AVX-512 F was asserted above; `Block::run` reads only inside
                    // `input` (the padded rows reach past every block) and `weights`, and
                    // writes only `valid` positions from `at` of each channel's plane.
                    unsafe {
                        match (channels, valid.div_ceil(16)) {
                            (CHANNELS, 1) => block.run::<CHANNELS, 1>(outputs, ho * wo, at, valid),
                            (CHANNELS, 2) => block.run::<CHANNELS, 2>(outputs, ho * wo, at, valid),
                            (CHANNELS, _) => block.run::<CHANNELS, VECTORS>(outputs, ho * wo, at, valid),
                            (4, _) => block.run::<4, VECTORS>(outputs, ho * wo, at, valid),
                            _ => block.run::<1, VECTORS>(outputs, ho * wo, at, valid),
                        }
                    }
                }
            }
            first += channels;
        }
    }
}

/// One register block: up to `POSITIONS` outputs of up to `CHANNELS` channels at one row.
struct Block<'a> {
    /// The padded input from this block's first position, row (0, y).
    input: &'a [f32],
    /// Length of a padded row.
    stride: usize,
    /// (input channels, input height, kernel height).
    rows: (usize, usize, usize),
    kw: usize,
    /// The block's channels' weights, `k` each.
    weights: &'a [f32],
}

impl Block<'_> {
    /// `out[c·plane + at + p] = Σ_k w[c, k] · x[k, p]` for p < `valid` (at most 16·`V`),
    /// as one fused multiply-add chain per output in k order.
    #[target_feature(enable = "avx512f")]
    unsafe fn run<const C: usize, const V: usize>(&self, out: &mut [f32], plane: usize, at: usize, valid: usize) {
        use std::arch::x86_64::*;
        let (cg, h, kh) = self.rows;
        let k = cg * kh * self.kw;
        let mut acc = [[_mm512_setzero_ps(); V]; C];
        let mut term = 0;
        for c in 0..cg {
            for i in 0..kh {
                let row = self.input[(c * h + i) * self.stride..].as_ptr();
                for j in 0..self.kw {
                    let mut x = [_mm512_setzero_ps(); V];
                    for (v, x) in x.iter_mut().enumerate() {
                        *x = _mm512_loadu_ps(row.add(j + 16 * v));
                    }
                    for (ch, acc) in acc.iter_mut().enumerate() {
                        let w = _mm512_set1_ps(*self.weights.get_unchecked(ch * k + term));
                        for v in 0..V {
                            acc[v] = _mm512_fmadd_ps(w, x[v], acc[v]);
                        }
                    }
                    term += 1;
                }
            }
        }
        for (ch, acc) in acc.iter().enumerate() {
            let dst = out[ch * plane + at..][..valid].as_mut_ptr();
            for (v, value) in acc.iter().enumerate() {
                let first = 16 * v;
                if first >= valid {
                    break;
                }
                let lanes = (valid - first).min(16);
                let mask: __mmask16 = if lanes == 16 { 0xffff } else { (1u16 << lanes) - 1 };
                _mm512_mask_storeu_ps(dst.add(first), mask, *value);
            }
        }
    }
}

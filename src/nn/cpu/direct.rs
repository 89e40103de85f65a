//! Direct convolution with AVX-512 or AVX2+FMA: the forward pass of a dense convolution
//! without im2col. Each output is the same chain of fused multiply-adds, in the same order
//! (input channel, kernel row, tap), that gemm's kernels compute when the reduction fits one
//! of its k-blocks (at most [`UNSPLIT_REDUCTION`] terms), so the bits equal the im2col +
//! gemm path's.

use super::gemm::UNSPLIT_REDUCTION;
use super::isa::Isa;
use crate::nn::ConvGeometry;
use std::arch::x86_64::*;
use std::cell::RefCell;

/// Vectors per register block (a row's last block takes only as many as it needs).
const VECTORS: usize = 3;

thread_local! {
    /// Per-thread zero-padded input rows (small: one sample's; a pooled buffer would keep
    /// a large activation buffer busy for it).
    static PADDED: RefCell<Vec<f32>> = const { RefCell::new(Vec::new()) };
}

/// Whether [`forward_sample`] computes this convolution with gemm's bits.
pub fn applies(g: &ConvGeometry) -> bool {
    g.in_per_group() * g.kernel.0 * g.kernel.1 <= UNSPLIT_REDUCTION
}

/// Whether the kernel runs on the path of `isa` here: AVX-512, or AVX2 with FMA (gemm
/// fuses its multiply-adds only where the CPU has FMA).
pub fn runs_on(isa: Isa) -> bool {
    match isa {
        Isa::Avx512 => isa.runs_here(),
        Isa::Avx2 => isa.runs_here() && std::is_x86_feature_detected!("fma"),
        Isa::Baseline => false,
    }
}

/// Forward convolution of one sample `x` (c, h, w) into `out` (out_channels, ho, wo) on the
/// path of `isa`, which must satisfy [`runs_on`]; `g` must satisfy [`applies`].
pub fn forward_sample(isa: Isa, x: &[f32], (h, w): (usize, usize), g: &ConvGeometry, weight: &[f32], out: &mut [f32]) {
    assert!(runs_on(isa) && applies(g));
    let (ho, wo) = g.output_hw(h, w);
    assert!(x.len() >= g.in_channels * h * w && weight.len() >= g.weight_len());
    assert!(out.len() >= g.out_channels * ho * wo);
    let width = match isa {
        Isa::Avx512 => Avx512::WIDTH,
        _ => Avx2::WIDTH,
    };
    // Rows zero-padded on both sides and past the last block, so every load is in bounds.
    let positions = width * VECTORS;
    let stride = wo.div_ceil(positions) * positions + g.kernel.1 - 1;
    PADDED.with(|cell| {
        let mut padded = cell.borrow_mut();
        padded.clear();
        padded.resize(g.in_channels * h * stride, 0.0);
        for (dst, src) in padded.chunks_exact_mut(stride).zip(x.chunks_exact(w)) {
            dst[g.time_padding..][..w].copy_from_slice(src);
        }
        let rows = Rows {
            padded: &padded,
            h,
            stride,
            ho,
            wo,
        };
        // SAFETY: `runs_on(isa)` was asserted above.
        unsafe {
            match isa {
                Isa::Avx512 => convolve_avx512(&rows, g, weight, out),
                _ => convolve_avx2(&rows, g, weight, out),
            }
        }
    });
}

/// A sample's zero-padded input rows (`stride` values each) and its output plane's size.
struct Rows<'a> {
    padded: &'a [f32],
    h: usize,
    stride: usize,
    ho: usize,
    wo: usize,
}

#[target_feature(enable = "avx512f")]
fn convolve_avx512(rows: &Rows, g: &ConvGeometry, weight: &[f32], out: &mut [f32]) {
    convolve::<Avx512>(rows, g, weight, out);
}

#[target_feature(enable = "avx2,fma")]
fn convolve_avx2(rows: &Rows, g: &ConvGeometry, weight: &[f32], out: &mut [f32]) {
    convolve::<Avx2>(rows, g, weight, out);
}

/// [`forward_sample`] on its padded rows into (ho, wo) planes, in register blocks of up to
/// `L::CHANNELS` channels × `VECTORS` vectors. Inlined into a function compiled for `L`.
#[inline(always)]
fn convolve<L: Lanes>(rows: &Rows, g: &ConvGeometry, weight: &[f32], out: &mut [f32]) {
    let Rows {
        padded,
        h,
        stride,
        ho,
        wo,
    } = *rows;
    let (kh, kw) = g.kernel;
    let (cg, og) = (g.in_per_group(), g.out_channels / g.groups);
    let k = cg * kh * kw;
    let positions = L::WIDTH * VECTORS;
    for group in 0..g.groups {
        let input = &padded[group * cg * h * stride..][..cg * h * stride];
        let mut first = 0;
        while first < og {
            let channels = match og - first {
                left if left >= L::CHANNELS => L::CHANNELS,
                left if left >= 4 => 4,
                _ => 1,
            };
            let o = group * og + first;
            let weights = &weight[o * k..][..channels * k];
            let outputs = &mut out[o * ho * wo..][..channels * ho * wo];
            for y in 0..ho {
                for t in (0..wo).step_by(positions) {
                    let block = Block {
                        input: &input[y * stride + t..],
                        stride,
                        rows: (cg, h, kh),
                        kw,
                        weights,
                    };
                    let valid = (wo - t).min(positions);
                    let at = y * wo + t;
                    // SAFETY: the caller runs on `L`'s instruction set; `Block::run` reads
                    // only inside `input` (the padded rows reach past every block) and
                    // `weights`, and writes only `valid` positions from `at` of each
                    // channel's plane.
                    unsafe {
                        match (channels, valid.div_ceil(L::WIDTH)) {
                            (8, 1) => block.run::<L, 8, 1>(outputs, ho * wo, at, valid),
                            (8, 2) => block.run::<L, 8, 2>(outputs, ho * wo, at, valid),
                            (8, _) => block.run::<L, 8, VECTORS>(outputs, ho * wo, at, valid),
                            (4, 1) => block.run::<L, 4, 1>(outputs, ho * wo, at, valid),
                            (4, 2) => block.run::<L, 4, 2>(outputs, ho * wo, at, valid),
                            (4, _) => block.run::<L, 4, VECTORS>(outputs, ho * wo, at, valid),
                            _ => block.run::<L, 1, VECTORS>(outputs, ho * wo, at, valid),
                        }
                    }
                }
            }
            first += channels;
        }
    }
}

/// The vector operations the kernel needs, on one instruction set. Every method is
/// `#[inline(always)]`, so it compiles into the `#[target_feature]` function that calls it.
trait Lanes {
    /// f32 lanes per vector.
    const WIDTH: usize;
    /// Output channels per full register block: with [`VECTORS`] inputs and a broadcast
    /// weight, the accumulators fill the registers (32 with AVX-512, 16 with AVX2).
    const CHANNELS: usize;
    type Vector: Copy;
    unsafe fn zero() -> Self::Vector;
    unsafe fn load(from: *const f32) -> Self::Vector;
    unsafe fn splat(value: f32) -> Self::Vector;
    /// `a · b + c`, rounded once.
    unsafe fn fused_multiply_add(a: Self::Vector, b: Self::Vector, c: Self::Vector) -> Self::Vector;
    /// Stores the first `lanes` lanes of `v` at `to`.
    unsafe fn store(to: *mut f32, v: Self::Vector, lanes: usize);
}

/// AVX-512 F: 16 lanes.
struct Avx512;

impl Lanes for Avx512 {
    const WIDTH: usize = 16;
    const CHANNELS: usize = 8;
    type Vector = __m512;
    #[inline(always)]
    unsafe fn zero() -> __m512 {
        _mm512_setzero_ps()
    }
    #[inline(always)]
    unsafe fn load(from: *const f32) -> __m512 {
        _mm512_loadu_ps(from)
    }
    #[inline(always)]
    unsafe fn splat(value: f32) -> __m512 {
        _mm512_set1_ps(value)
    }
    #[inline(always)]
    unsafe fn fused_multiply_add(a: __m512, b: __m512, c: __m512) -> __m512 {
        _mm512_fmadd_ps(a, b, c)
    }
    #[inline(always)]
    unsafe fn store(to: *mut f32, v: __m512, lanes: usize) {
        let mask: __mmask16 = if lanes >= 16 { 0xffff } else { (1u16 << lanes) - 1 };
        _mm512_mask_storeu_ps(to, mask, v);
    }
}

/// AVX2 with FMA: 8 lanes.
struct Avx2;

impl Lanes for Avx2 {
    const WIDTH: usize = 8;
    const CHANNELS: usize = 4;
    type Vector = __m256;
    #[inline(always)]
    unsafe fn zero() -> __m256 {
        _mm256_setzero_ps()
    }
    #[inline(always)]
    unsafe fn load(from: *const f32) -> __m256 {
        _mm256_loadu_ps(from)
    }
    #[inline(always)]
    unsafe fn splat(value: f32) -> __m256 {
        _mm256_set1_ps(value)
    }
    #[inline(always)]
    unsafe fn fused_multiply_add(a: __m256, b: __m256, c: __m256) -> __m256 {
        _mm256_fmadd_ps(a, b, c)
    }
    /// A partial vector goes through memory: AMD's masked stores are microcoded (slow).
    #[inline(always)]
    unsafe fn store(to: *mut f32, v: __m256, lanes: usize) {
        if lanes >= 8 {
            _mm256_storeu_ps(to, v);
        } else {
            let mut all = [0.0f32; 8];
            _mm256_storeu_ps(all.as_mut_ptr(), v);
            std::ptr::copy_nonoverlapping(all.as_ptr(), to, lanes);
        }
    }
}

/// One register block: up to `VECTORS` vectors of outputs of up to `CHANNELS` channels at
/// one row.
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
    /// `out[c·plane + at + p] = Σ_k w[c, k] · x[k, p]` for p < `valid` (at most
    /// `L::WIDTH`·`V`), as one fused multiply-add chain per output in k order.
    #[inline(always)]
    unsafe fn run<L: Lanes, const C: usize, const V: usize>(
        &self,
        out: &mut [f32],
        plane: usize,
        at: usize,
        valid: usize,
    ) {
        let (cg, h, kh) = self.rows;
        let k = cg * kh * self.kw;
        let mut acc = [[L::zero(); V]; C];
        let mut term = 0;
        for c in 0..cg {
            for i in 0..kh {
                let row = self.input[(c * h + i) * self.stride..].as_ptr();
                for j in 0..self.kw {
                    let mut x = [L::zero(); V];
                    for (v, x) in x.iter_mut().enumerate() {
                        *x = L::load(row.add(j + L::WIDTH * v));
                    }
                    for (ch, acc) in acc.iter_mut().enumerate() {
                        let w = L::splat(*self.weights.get_unchecked(ch * k + term));
                        for v in 0..V {
                            acc[v] = L::fused_multiply_add(w, x[v], acc[v]);
                        }
                    }
                    term += 1;
                }
            }
        }
        for (ch, acc) in acc.iter().enumerate() {
            let dst = out[ch * plane + at..][..valid].as_mut_ptr();
            for (v, value) in acc.iter().enumerate() {
                let first = L::WIDTH * v;
                if first >= valid {
                    break;
                }
                L::store(dst.add(first), *value, valid - first);
            }
        }
    }
}

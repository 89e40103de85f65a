//! Direct convolution with AVX-512 or AVX2+FMA: the forward pass of a dense convolution
//! without im2col. Each output is the same chain of fused multiply-adds, in the same order
//! (input channel, kernel row, tap), that gemm's kernels compute when the reduction fits one
//! of its k-blocks (at most [`UNSPLIT_REDUCTION`](super::reduction::UNSPLIT_REDUCTION) terms), so the bits equal the im2col +
//! gemm path's. A matrix product is a 1×1 convolution: [`product`] computes the ones gemm
//! spends more time packing than multiplying, in its own register blocks.

use super::buffers::SLACK;
use super::isa::Isa;
use super::lanes::{Avx2, Avx512, Lanes};
use super::plan::{direct_applies, direct_computes_product, direct_runs_on, Layout};
use crate::nn::ops::ConvGeometry;
use std::cell::RefCell;

/// Vectors per register block (a row's last block takes only as many as it needs).
pub(super) const VECTORS: usize = 3;

thread_local! {
    /// Per-thread zero-padded input rows (small: one sample's; a pooled buffer would keep
    /// a large activation buffer busy for it).
    static PADDED: RefCell<Vec<f32>> = const { RefCell::new(Vec::new()) };
}

/// Forward convolution of one sample `x` (c, h, w) into `out` (out_channels, ho, wo) on the
/// path of `isa`, which must satisfy `plan::direct_runs_on`; `g` must satisfy
/// `plan::direct_applies`.
pub fn forward_sample(isa: Isa, x: &[f32], (h, w): (usize, usize), g: &ConvGeometry, weight: &[f32], out: &mut [f32]) {
    assert!(direct_runs_on(isa) && direct_applies(g));
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
        // SAFETY: `direct_runs_on(isa)` was asserted above.
        unsafe {
            match isa {
                Isa::Avx512 => convolve_avx512(&rows, g, weight, out),
                _ => convolve_avx2(&rows, g, weight, out),
            }
        }
    });
}

/// `c = a · b` for m×k `a`, k×n `b` and m×n `c`, `a` and `c` row-major with row strides
/// `lda` and `ldc`, `b` as `layout` says, on the path of `isa`, which must satisfy
/// `plan::direct_runs_on`: the same fused multiply-add chains as gemm's kernels, so the same bits as
/// [`matmul`](super::gemm::matmul), where [`direct_computes_product`] holds. A row-major `b` is
/// read in place, each block of its columns staying in the L1 cache while the rows of `a`
/// stream past it; a column-major one is copied block by block into that form first.
#[allow(clippy::too_many_arguments)]
pub fn product(
    isa: Isa,
    (m, n, k): (usize, usize, usize),
    c: &mut [f32],
    ldc: usize,
    a: &[f32],
    lda: usize,
    b: &[f32],
    layout: Layout,
) {
    assert!(direct_runs_on(isa) && direct_computes_product((m, n, k)));
    assert!(lda >= k && ldc >= n);
    assert!(a.len() >= (m - 1) * lda + k && c.len() >= (m - 1) * ldc + n);
    match layout {
        Layout::Rows(ldb) => assert!(ldb >= n && b.len() >= (k - 1) * ldb + n.next_multiple_of(SLACK)),
        Layout::Columns(ldb) => assert!(ldb >= k && b.len() >= (n - 1) * ldb + k),
    }
    let operands = Operands { a, lda, b, layout, k };
    // SAFETY: `direct_runs_on(isa)` was asserted above.
    unsafe {
        match isa {
            Isa::Avx512 => multiply_avx512(&operands, (m, n), c, ldc),
            _ => multiply_avx2(&operands, (m, n), c, ldc),
        }
    }
}

/// Vectors of columns per register block of a [`product`]. With [`Lanes::PRODUCT_ROWS`]
/// rows and a broadcast value they fill the registers; AVX2 blocks of 4 rows × 3 vectors
/// spill an accumulator to the stack in this loop (measured on Zen 3: 44 against 85–92
/// GFLOP/s).
pub(super) const PRODUCT_VECTORS: usize = 2;

/// The factors of a [`product`]: `a` (· × k, row stride `lda`) and `b` (k × ·).
struct Operands<'a> {
    a: &'a [f32],
    lda: usize,
    b: &'a [f32],
    layout: Layout,
    k: usize,
}

#[target_feature(enable = "avx512f")]
fn multiply_avx512(operands: &Operands, mn: (usize, usize), c: &mut [f32], ldc: usize) {
    multiply::<Avx512>(operands, mn, c, ldc);
}

#[target_feature(enable = "avx2,fma")]
fn multiply_avx2(operands: &Operands, mn: (usize, usize), c: &mut [f32], ldc: usize) {
    multiply::<Avx2>(operands, mn, c, ldc);
}

/// [`product`], column block by column block. Inlined into a function compiled for `L`.
#[inline(always)]
fn multiply<L: Lanes>(operands: &Operands, (m, n): (usize, usize), c: &mut [f32], ldc: usize) {
    let k = operands.k;
    let positions = L::WIDTH * PRODUCT_VECTORS;
    // A block of a column-major `b`'s columns, row-major (lanes past n keep stale values).
    let mut panel = match operands.layout {
        Layout::Rows(_) => Vec::new(),
        Layout::Columns(_) => vec![0.0; k * positions],
    };
    for first_column in (0..n).step_by(positions) {
        let valid = (n - first_column).min(positions);
        let (b, ldb) = match operands.layout {
            Layout::Rows(ldb) => (&operands.b[first_column..], ldb),
            Layout::Columns(ldb) => {
                let columns = &operands.b[first_column * ldb..];
                for (i, row) in panel.chunks_exact_mut(positions).enumerate() {
                    for (j, value) in row[..valid].iter_mut().enumerate() {
                        *value = columns[j * ldb + i];
                    }
                }
                (&panel[..], positions)
            }
        };
        let mut first_row = 0;
        while first_row < m {
            let rows = [L::PRODUCT_ROWS, 4, 2, 1]
                .into_iter()
                .find(|&rows| rows <= m - first_row)
                .expect("a block has at least one row");
            let block = ProductBlock {
                a: &operands.a[first_row * operands.lda..],
                lda: operands.lda,
                b,
                ldb,
                k,
            };
            let out = &mut c[first_row * ldc + first_column..];
            // SAFETY: the caller runs on `L`'s instruction set; `ProductBlock::run` reads
            // `rows` rows of `k` values of `a`, `k` rows of whole vectors of `b` (inside
            // it: `product` asserted a row-major `b`'s slack, and a panel holds whole
            // blocks), and writes `rows` rows of `valid` values of `out`.
            unsafe {
                match (rows, valid > L::WIDTH) {
                    (12, false) => block.run::<L, 12, 1>(out, ldc, valid),
                    (12, true) => block.run::<L, 12, PRODUCT_VECTORS>(out, ldc, valid),
                    (6, false) => block.run::<L, 6, 1>(out, ldc, valid),
                    (6, true) => block.run::<L, 6, PRODUCT_VECTORS>(out, ldc, valid),
                    (4, false) => block.run::<L, 4, 1>(out, ldc, valid),
                    (4, true) => block.run::<L, 4, PRODUCT_VECTORS>(out, ldc, valid),
                    (2, false) => block.run::<L, 2, 1>(out, ldc, valid),
                    (2, true) => block.run::<L, 2, PRODUCT_VECTORS>(out, ldc, valid),
                    (_, false) => block.run::<L, 1, 1>(out, ldc, valid),
                    (_, true) => block.run::<L, 1, PRODUCT_VECTORS>(out, ldc, valid),
                }
            }
            first_row += rows;
        }
    }
}

/// One register block of a [`product`]: rows of `a` against vectors of `b`'s columns.
struct ProductBlock<'a> {
    /// `a` from the block's first row.
    a: &'a [f32],
    lda: usize,
    /// `b` from the block's first column.
    b: &'a [f32],
    ldb: usize,
    k: usize,
}

impl ProductBlock<'_> {
    /// `out[r·ldc + p] = Σ_i a[r·lda + i] · b[i·ldb + p]` for r < `R`, p < `valid` (`V`
    /// vectors' worth, the last maybe partly), one fused multiply-add chain per output in i
    /// order. Lanes past `valid` compute on whatever `b` holds there and are dropped.
    #[inline(always)]
    unsafe fn run<L: Lanes, const R: usize, const V: usize>(&self, out: &mut [f32], ldc: usize, valid: usize) {
        let mut acc = [[L::zero(); V]; R];
        let (mut a, mut b) = (self.a.as_ptr(), self.b.as_ptr());
        for _ in 0..self.k {
            let mut x = [L::zero(); V];
            for (v, x) in x.iter_mut().enumerate() {
                *x = L::load(b.add(L::WIDTH * v));
            }
            for (r, acc) in acc.iter_mut().enumerate() {
                let w = L::splat(*a.add(r * self.lda));
                for v in 0..V {
                    acc[v] = L::fused_multiply_add(w, x[v], acc[v]);
                }
            }
            a = a.add(1);
            b = b.add(self.ldb);
        }
        for (r, acc) in acc.iter().enumerate() {
            let dst = out[r * ldc..][..valid].as_mut_ptr();
            for (v, value) in acc.iter().enumerate() {
                let first = L::WIDTH * v;
                L::store(dst.add(first), *value, valid - first);
            }
        }
    }
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

//! The kernel plan: which algorithm computes each convolution's sums — in training, in
//! evaluation and for its gradients — decided in one place from its geometry, its input's
//! shape and the instruction-set path. Every algorithm gives im2col + gemm's bits except
//! Winograd's, which only evaluation outputs (read by nothing) and the 1×5k layers'
//! gradients use (see `conv::conv_forward`); so a plan changes speed, never a training
//! result. Which kernel computes each matrix product ([`product`]) is decided here too.

use super::buffers::SLACK;
use super::isa::Isa;
use super::reduction::UNSPLIT_REDUCTION;
use crate::nn::ops::{ConvGeometry, Shape4};

/// Taps per chunk of Winograd's F(4,5) transforms.
pub(super) const WINOGRAD_TAPS: usize = 5;

/// Input channels from which a convolution's outputs are cheaper through Winograd's
/// transforms than as a direct sum: each point's product is a gemm of that depth, and
/// shallower ones do not pay for the transforms. Measured per batch of 64 on one thread
/// against the direct kernel (AMD EPYC Zen 3, AVX2): 100 → 200 channels 0.65–0.72× its
/// time, 50 → 100 0.84–0.90×, 25 → 50 0.97–1.04×, EEGNet's 32-channel 1×15 1.24–1.35×;
/// DeepConvNet's input gradients 100 → 50 and 50 → 25, 8.5 → 6.1 and 4.2 → 4.0 ms. One
/// sample at a time the transforms lose (1.1–1.6×): a block of 8 samples is what makes the
/// gemms efficient.
const MIN_WINOGRAD_CHANNELS: usize = 50;

/// How a convolution's sums are computed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Sums {
    /// The direct kernel (AVX-512, or AVX2 with FMA): gemm's bits without an im2col copy.
    Direct,
    /// Each output channel as weighted rows of its one input channel (a depthwise kh × 1
    /// kernel, EEGNet's): a gemm would be all overhead.
    DepthwiseRows,
    /// Each zero-padded input row read by gemm as a Hankel matrix (one input channel, one
    /// kernel row: the models' first layers), no im2col copy.
    HankelGemm,
    /// The input itself as the im2col matrix (a dense kh × 1 kernel spanning the whole
    /// height: DeepConvNet's spatial layer).
    FullHeightGemm,
    /// im2col and gemm.
    Im2colGemm,
    /// Winograd's F(4,5) transforms over blocks of samples.
    Winograd,
}

impl Sums {
    /// A short name for listings.
    pub fn name(self) -> &'static str {
        match self {
            Sums::Direct => "direct",
            Sums::DepthwiseRows => "depthwise rows",
            Sums::HankelGemm => "Hankel gemm",
            Sums::FullHeightGemm => "full-height gemm",
            Sums::Im2colGemm => "im2col gemm",
            Sums::Winograd => "Winograd",
        }
    }
}

/// How a convolution's gradients are computed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Gradients {
    /// The weight gradient through Winograd's transforms; the input gradient as the forward
    /// sums of the transposed convolution, computed as `input`.
    Winograd {
        /// How the transposed convolution's sums are computed.
        input: Sums,
    },
    /// Sample by sample, laid out as these sums.
    PerSample(Sums),
}

/// The plan of one convolution.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ConvPlan {
    /// Outputs the backward pass reads (training).
    pub training: Sums,
    /// Outputs nothing reads back (evaluation).
    pub evaluation: Sums,
    /// Weight and input gradients.
    pub gradients: Gradients,
}

/// The plan of the convolution `g` of an input of `shape` on the path of `isa`, with or
/// without (`input_gradient`) its input's gradient.
pub fn conv(g: &ConvGeometry, shape: Shape4, isa: Isa, input_gradient: bool) -> ConvPlan {
    ConvPlan {
        training: sums(g, shape, isa, true),
        evaluation: sums(g, shape, isa, false),
        gradients: gradients(g, shape, isa, input_gradient),
    }
}

/// How the forward sums of `g` over an input of `shape` are computed; `read_back` when a
/// backward pass reads them (then never through Winograd's transforms, whose rounding
/// could move a ReLU's or a maximum's decision).
pub fn sums(g: &ConvGeometry, shape: Shape4, isa: Isa, read_back: bool) -> Sums {
    if !read_back && winograd_pays(g, shape) {
        return Sums::Winograd;
    }
    if direct_runs_on(isa) && direct_applies(g) && !is_depthwise_column(g) {
        return Sums::Direct;
    }
    gemm_layout(g, shape.2, true)
}

/// How the gradients of `g` over an input of `shape` are computed, with the input gradient
/// or (`input_gradient` false: the first layer) without.
pub fn gradients(g: &ConvGeometry, shape: Shape4, isa: Isa, input_gradient: bool) -> Gradients {
    if winograd_applies(g, shape) {
        let (transposed, gout_shape) = transposed(g, shape);
        return Gradients::Winograd {
            input: sums(&transposed, gout_shape, isa, false),
        };
    }
    Gradients::PerSample(gemm_layout(g, shape.2, !input_gradient))
}

/// The layout of `g`'s sums over inputs of height `h` off the direct and Winograd kernels;
/// rows read as Hankel matrices only where `hankel` allows (not for an input gradient).
fn gemm_layout(g: &ConvGeometry, h: usize, hankel: bool) -> Sums {
    if hankel && is_single_channel_row(g) {
        Sums::HankelGemm
    } else if is_depthwise_column(g) {
        Sums::DepthwiseRows
    } else if is_full_height_column(g, h) {
        Sums::FullHeightGemm
    } else {
        Sums::Im2colGemm
    }
}

/// The convolution whose forward sums are the input gradient of a single-row `g` over an
/// input of `shape`, and its input's shape: the output gradient zero-padded by kw − 1 − pad,
/// correlated with the kernel flipped in time and its channel axes swapped.
pub fn transposed(g: &ConvGeometry, (n, c, _, w): Shape4) -> (ConvGeometry, Shape4) {
    let (o, kw) = (g.out_channels, g.kernel.1);
    let out_len = g.output_hw(1, w).1;
    (
        ConvGeometry::new(o, c, (1, kw), kw - 1 - g.time_padding, 1),
        (n, o, 1, out_len),
    )
}

/// Whether Winograd's transforms compute `g` over an input of `shape`: a dense 1×5k kernel
/// over single-row inputs.
pub fn winograd_applies(g: &ConvGeometry, shape: Shape4) -> bool {
    let (kh, kw) = g.kernel;
    g.groups == 1 && kh == 1 && kw % WINOGRAD_TAPS == 0 && shape.2 == 1 && shape.3 + 2 * g.time_padding >= kw
}

/// Whether evaluation outputs of `g` go through Winograd's transforms: they apply, and the
/// input has [`MIN_WINOGRAD_CHANNELS`], or a reduction (channels × taps) too long for one
/// fused chain. Decided by the shapes alone, so every instruction-set path computes the
/// same bits.
pub fn winograd_pays(g: &ConvGeometry, shape: Shape4) -> bool {
    let c = g.in_channels;
    winograd_applies(g, shape) && (c >= MIN_WINOGRAD_CHANNELS || c * g.kernel.1 > UNSPLIT_REDUCTION)
}

/// Whether the direct kernel computes `g` with gemm's bits: a reduction gemm does not split.
pub fn direct_applies(g: &ConvGeometry) -> bool {
    g.in_per_group() * g.kernel.0 * g.kernel.1 <= UNSPLIT_REDUCTION
}

/// Whether the direct kernels run on the path of `isa` here: AVX-512, or AVX2 with FMA
/// (gemm fuses its multiply-adds only where the CPU has FMA).
#[cfg(target_arch = "x86_64")]
pub fn direct_runs_on(isa: Isa) -> bool {
    match isa {
        Isa::Avx512 => isa.runs_here(),
        Isa::Avx2 => isa.runs_here() && std::is_x86_feature_detected!("fma"),
        Isa::Baseline => false,
    }
}

/// See the x86-64 build's `direct_runs_on`.
#[cfg(not(target_arch = "x86_64"))]
pub fn direct_runs_on(_: Isa) -> bool {
    false
}

/// Which kernel computes a matrix product (`gemm::matmul`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Product {
    /// `direct::product`, reading `b` as laid out: 1.3–1.5× gemm's speed on Winograd's
    /// point products and their weight-gradient products.
    Direct(Layout),
    /// gemm 0.19's AVX-512 kernels.
    GemmAvx512,
    /// gemm 0.15's kernels (AVX2+FMA where the CPU has them).
    Gemm,
}

/// How `direct::product` finds `b[i, j]`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Layout {
    /// At `i·ldb + j`, readable to the last row's n-th value rounded up to [`SLACK`]
    /// (whole vectors are loaded; the lanes past n are dropped).
    Rows(usize),
    /// At `j·ldb + i` (the transpose of a row-major matrix).
    Columns(usize),
}

/// The kernel for `c (+)= a · b` (m×k `a`, k×n `b` of `len` values, each with (row,
/// column) strides) on the path of `isa`. The direct kernel where it runs, computes the
/// product ([`direct_computes_product`]) and `a` and `c` are row-major, `b` row-major with
/// its slack or, from [`MIN_ROWS_TO_PACK`] rows on, column-major, without accumulation;
/// else on the AVX-512 path gemm 0.19 where [`packed_in_both`] holds and the reduction is
/// longer than [`SHORT_REDUCTION`]; else gemm 0.15.
pub fn product(
    isa: Isa,
    accumulate: bool,
    (m, n, k): (usize, usize, usize),
    (a_rs, a_cs): (usize, usize),
    (len, (b_rs, b_cs)): (usize, (usize, usize)),
    (c_rs, c_cs): (usize, usize),
) -> Product {
    let direct = !accumulate
        && direct_runs_on(isa)
        && direct_computes_product((m, n, k))
        && a_cs == 1
        && a_rs >= k
        && c_cs == 1
        && c_rs >= n;
    if direct && b_cs == 1 && b_rs >= n && len >= (k - 1) * b_rs + n.next_multiple_of(SLACK) {
        Product::Direct(Layout::Rows(b_rs))
    } else if direct && b_rs == 1 && b_cs >= k && m >= MIN_ROWS_TO_PACK {
        Product::Direct(Layout::Columns(b_cs))
    } else if isa == Isa::Avx512 && k > SHORT_REDUCTION && packed_in_both((m, n, k), a_cs, b_rs) {
        Product::GemmAvx512
    } else {
        Product::Gemm
    }
}

/// Whether `direct::product` gives gemm's bits for an m×n×k product: gemm's packed kernels
/// run it (gemm takes other paths for matrix-vector products and k ≤ 2), in one k-block.
pub fn direct_computes_product((m, n, k): (usize, usize, usize)) -> bool {
    m > 1 && n > 1 && (3..=UNSPLIT_REDUCTION).contains(&k)
}

/// Rows of `a` from which `direct::product` pays for copying a column-major `b` into
/// row-major blocks. Zen 3, AVX2, against gemm 0.15: one product of 16 rows took 1.27× its
/// time, 32 rows 0.87×, 100 and 200 rows 0.73–0.74×; in Winograd's weight gradients per
/// batch of 64, EEGNet's 32 channels were within noise of gemm (3.0–3.7 against 3.3–3.7
/// ms), DeepConvNet's 100 and 200 channels took 0.81–0.89× and 0.91–0.98× its time.
const MIN_ROWS_TO_PACK: usize = 50;

/// Reductions up to this length run faster on gemm 0.15's kernels than on gemm 0.19's
/// (Intel Xeon, 1 thread: 50×746×25 45 against 56 µs, 32×384×32 18 against 23 µs; at 50
/// terms the two are even, from 100 on gemm 0.19 is ahead).
const SHORT_REDUCTION: usize = 32;

/// Whether gemm 0.19 runs this product through the packed kernels, as gemm 0.15 does: its
/// shortcuts for small products (dot products when m·n ≤ 256 and both matrices are
/// contiguous along k; matrix-vector products when m or n is 1; k ≤ 2) add in other orders.
fn packed_in_both((m, n, k): (usize, usize, usize), a_cs: usize, b_rs: usize) -> bool {
    let dot_products = a_cs == 1 && b_rs == 1 && m * n <= 256;
    m > 1 && n > 1 && k > 2 && !dot_products
}

/// True when each output channel reads one input channel through a (kh × 1) kernel.
fn is_depthwise_column(g: &ConvGeometry) -> bool {
    g.in_per_group() == 1 && g.kernel.1 == 1 && g.time_padding == 0
}

/// True when a dense (kh × 1) kernel spans the whole height `h`.
fn is_full_height_column(g: &ConvGeometry, h: usize) -> bool {
    g.groups == 1 && g.kernel == (h, 1) && g.time_padding == 0
}

/// True when the input has one channel and the kernel one row.
fn is_single_channel_row(g: &ConvGeometry) -> bool {
    g.in_channels == 1 && g.kernel.0 == 1
}

/// One line per convolution of a model's feature layers (`layers`: name, geometry, input
/// shape and whether its input gradient is computed): how its sums and gradients are
/// computed on the path of `isa`.
pub fn describe(layers: &[(String, ConvGeometry, Shape4, bool)], isa: Isa) -> Vec<String> {
    layers
        .iter()
        .map(|(name, g, shape, input_gradient)| {
            let plan = conv(g, *shape, isa, *input_gradient);
            let gradients = match plan.gradients {
                Gradients::Winograd { input } if *input_gradient => {
                    format!("weights by Winograd, input as {} sums", input.name())
                }
                Gradients::Winograd { .. } => "weights by Winograd".to_string(),
                Gradients::PerSample(sums) => sums.name().to_string(),
            };
            format!(
                "{name} ({}→{} channels, {}×{}): training {}, evaluation {}, gradients {gradients}",
                g.in_channels,
                g.out_channels,
                g.kernel.0,
                g.kernel.1,
                plan.training.name(),
                plan.evaluation.name()
            )
        })
        .collect()
}

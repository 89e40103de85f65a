//! Where kernels agree to the bit: the reduction length that gemm's kernels compute as one
//! fused multiply-add chain, the chain the direct and Winograd kernels reproduce.

/// gemm (0.15 and 0.19 alike) never splits a reduction of up to 512 terms (its k-block is at
/// least 512), so up to this length its result is one fused multiply-add chain from zero.
pub const UNSPLIT_REDUCTION: usize = 512;

//! The SIMD lanes the direct kernels are written against: one trait, implemented for
//! AVX-512 F (16 lanes) and AVX2 with FMA (8 lanes).

use std::arch::x86_64::*;

/// The vector operations the kernel needs, on one instruction set. Every method is
/// `#[inline(always)]`, so it compiles into the `#[target_feature]` function that calls it.
pub(super) trait Lanes {
    /// f32 lanes per vector.
    const WIDTH: usize;
    /// Output channels per full register block: with direct.rs's `VECTORS` inputs and a broadcast
    /// weight, the accumulators fill the registers (32 with AVX-512, 16 with AVX2).
    const CHANNELS: usize;
    /// Rows of `a` per register block of direct.rs's `product`: with its `PRODUCT_VECTORS` vectors of
    /// `b` and a broadcast value of `a`, the accumulators fill the registers.
    const PRODUCT_ROWS: usize;
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
pub(super) struct Avx512;

impl Lanes for Avx512 {
    const WIDTH: usize = 16;
    const CHANNELS: usize = 8;
    const PRODUCT_ROWS: usize = 12;
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
pub(super) struct Avx2;

impl Lanes for Avx2 {
    const WIDTH: usize = 8;
    const CHANNELS: usize = 4;
    const PRODUCT_ROWS: usize = 6;
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

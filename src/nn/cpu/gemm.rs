//! Matrix products: `matmul`, a strided product on the instruction-set path (gemm's
//! kernels, or the direct product kernel where it gives the same bits faster).

#[cfg(target_arch = "x86_64")]
use super::direct;
use super::isa::Isa;
use super::plan::{self, Product};

/// `c (+)= a · b` for m×k `a`, k×n `b` and m×n `c`, each given with (row, column)
/// strides (`a` and `b` may overlap themselves: a Hankel view of one row is `(1, 1)`).
///
/// [`plan::product`] chooses the kernel: the direct product kernel, gemm 0.19's AVX-512
/// kernels or gemm 0.15's. All of them compute each output as fused multiply-add chains
/// over the same k-blocks (from the same cache formula), so the choice never changes the
/// bits; `tests::every_path_gives_the_same_products` checks this.
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
    matmul_on(
        Isa::chosen(),
        (m, n, k),
        (c, (c_rs, c_cs)),
        accumulate,
        a,
        (a_rs, a_cs),
        b,
        (b_rs, b_cs),
    );
}

/// [`matmul`] on the path of `isa`.
#[allow(clippy::too_many_arguments)]
fn matmul_on(
    isa: Isa,
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
    // gemm's arguments: sizes, then each matrix as (pointer, column stride, row stride).
    macro_rules! call {
        ($gemm:expr, $parallelism:expr) => {
            $gemm(
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
                $parallelism,
            )
        };
    }
    // SAFETY (both gemm arms): the asserts above keep every index gemm touches inside the
    // slices; the plan picks gemm 0.19's AVX-512 kernels only where the CPU has AVX-512 F.
    let b_strides = (b.len(), (b_rs, b_cs));
    match plan::product(isa, accumulate, (m, n, k), (a_rs, a_cs), b_strides, (c_rs, c_cs)) {
        #[cfg(target_arch = "x86_64")]
        Product::Direct(layout) => direct::product(isa, (m, n, k), c, c_rs, a, a_rs, b, layout),
        #[cfg(not(target_arch = "x86_64"))]
        Product::Direct(_) => unreachable!("the direct kernels run on x86-64 only"),
        Product::GemmAvx512 => unsafe {
            call!(
                gemm_avx512::gemm::f32::get_gemm_fn(),
                gemm_avx512_common::Parallelism::None
            )
        },
        Product::Gemm => unsafe { call!(gemm::gemm, gemm::Parallelism::None) },
    }
}

#[cfg(test)]
mod tests {
    use super::super::buffers::SLACK;
    use super::*;

    /// Deterministic values in [−0.5, 0.5) with every mantissa bit busy.
    fn values(len: usize, seed: u32) -> Vec<f32> {
        (0..len as u32)
            .map(|i| (i.wrapping_mul(2_654_435_761).wrapping_add(seed) >> 8) as f32 / (1 << 24) as f32 - 0.5)
            .collect()
    }

    #[test]
    fn every_path_gives_the_same_products() {
        // (m, n, k) of the models' products: Winograd's point products and their weight
        // gradients (reductions over thousands of slots), the first layer's Hankel weight
        // gradient, DeepConvNet's last layer; odd sizes around the kernels' blocks; products
        // gemm 0.19 takes a shortcut for (small, matrix-vector, k ≤ 2); and row-major ones
        // `direct::product` computes, around its register blocks (6 or 12 rows, 16 or 32
        // columns) and its reduction limit (with a column-major `b`: 50 rows or more).
        let shapes = [
            (53, 17, 7),
            (200, 184, 100),
            (100, 184, 200),
            (25, 1492, 50),
            (13, 17, 3),
            (2, 2, 3),
            (5, 33, 512),
            (12, 47, 64),
            (7, 16, 9),
            (6, 31, 10),
            (4, 1, 8),
            (16, 51, 750),
            (25, 5, 746),
            (16, 16, 300),
            (1, 200, 3000),
            (200, 1, 3000),
            (30, 40, 2),
            (25, 25, 1500),
            (50, 25, 1504),
            (200, 100, 1536),
            (100, 1500, 50),
            (200, 1000, 100),
            (17, 13, 513),
            (33, 47, 1025),
            (5, 3, 4099),
            (32, 384, 33),
            // Other shapes (issue 39): EEGNet's Hankel weight gradient at 22 × 480, the
            // full-height spatial layer of DeepConvNet at 22 and 64 channels and its weight
            // gradient, and a 1×7 layer's im2col product.
            (16, 51, 10560),
            (25, 476, 550),
            (25, 156, 1600),
            (25, 1600, 156),
            (50, 240, 175),
        ];
        let paths = crate::nn::cpu::isa::paths_to_test();
        for (m, n, k) in shapes {
            // `b` with the slack that lets row-major products run on `direct::product`.
            let (a, b) = (values(m * k, 1), values(k * n + SLACK, 2));
            let start = values(m * n, 3);
            for accumulate in [false, true] {
                // Row-major, the transposed layouts of the gradient products, a Hankel `b`.
                for (a_strides, b_strides) in [((k, 1), (n, 1)), ((1, m), (1, k)), ((k, 1), (1, k)), ((k, 1), (1, 1))] {
                    let product = |isa| {
                        let mut c = start.clone();
                        matmul_on(
                            isa,
                            (m, n, k),
                            (&mut c, (n, 1)),
                            accumulate,
                            &a,
                            a_strides,
                            &b,
                            b_strides,
                        );
                        c.iter().map(|v| v.to_bits()).collect::<Vec<u32>>()
                    };
                    let baseline = product(Isa::Baseline);
                    for &isa in &paths {
                        assert!(
                            product(isa) == baseline,
                            "{} path: {m}×{n}×{k} (accumulate {accumulate}, strides {a_strides:?} {b_strides:?})",
                            isa.name()
                        );
                    }
                }
            }
        }
    }
}

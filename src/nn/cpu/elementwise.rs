//! Element-wise and row kernels: lane reductions in a fixed order, BatchNorm's row sums
//! and input gradient, activations and their derivatives, pooling rows and their
//! gradients. Each runs compiled for the best instruction set the CPU has (`with_simd!`:
//! AVX-512, AVX2 or the baseline), with the same results.

use crate::nn::ops::{Activation, Pool};

/// Independent partial sums per long reduction: they vectorise (a single running sum is
/// one serial chain of additions) and still add up in a fixed order.
const LANES: usize = 8;

/// `(Σ f(a[i], b[i]), Σ g(a[i], b[i]))` in f64, accumulated in [`LANES`] partial sums each.
#[inline(always)]
fn sum_pairs(a: &[f32], b: &[f32], f: impl Fn(f32, f32) -> f64, g: impl Fn(f32, f32) -> f64) -> (f64, f64) {
    // One pass per sum: a single set of lanes per loop is what the compiler vectorises.
    (lane_sum_f64(a, b, f), lane_sum_f64(a, b, g))
}

/// `Σ f(a[i], b[i])` in f64, accumulated in [`LANES`] partial sums, then the tail.
#[inline(always)]
fn lane_sum_f64(a: &[f32], b: &[f32], f: impl Fn(f32, f32) -> f64) -> f64 {
    let mut sums = [0.0f64; LANES];
    let (a_chunks, b_chunks) = (a.chunks_exact(LANES), b.chunks_exact(LANES));
    let tail = a_chunks.remainder().iter().zip(b_chunks.remainder());
    for (x, y) in a_chunks.zip(b_chunks) {
        for lane in 0..LANES {
            sums[lane] += f(x[lane], y[lane]);
        }
    }
    let mut total = sums.iter().sum::<f64>();
    for (&x, &y) in tail {
        total += f(x, y);
    }
    total
}

#[inline(always)]
fn lane_sum_body(a: &[f32]) -> f32 {
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

with_simd! {
    /// `Σ a[i]` in f32, accumulated in [`LANES`] partial sums.
    pub fn lane_sum, lane_sum_on = lane_sum_body(a: &[f32]) -> f32
}

#[inline(always)]
fn dot_body(a: &[f32], b: &[f32]) -> f32 {
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

with_simd! {
    /// `Σ a[i]·b[i]` in f32, accumulated in [`LANES`] partial sums.
    pub fn dot, dot_on = dot_body(a: &[f32], b: &[f32]) -> f32
}

#[inline(always)]
fn add_into_body(dst: &mut [f32], src: &[f32]) {
    dst.iter_mut().zip(src).for_each(|(d, s)| *d += s);
}

with_simd! {
    /// `dst += src`, element-wise.
    pub fn add_into, add_into_on = add_into_body(dst: &mut [f32], src: &[f32])
}

#[inline(always)]
fn add_scaled_body(dst: &mut [f32], scale: f32, src: &[f32]) {
    dst.iter_mut().zip(src).for_each(|(d, s)| *d += scale * s);
}

with_simd! {
    /// `dst += scale·src`, element-wise (a multiply, then an add: no fused rounding).
    pub fn add_scaled, add_scaled_on = add_scaled_body(dst: &mut [f32], scale: f32, src: &[f32])
}

#[inline(always)]
fn weighted_rows_body(out: &mut [f32], rows: &[f32], stride: usize, weights: &[f32]) {
    let len = out.len();
    let row = |i: usize| &rows[i * stride..][..len];
    // Two rows per pass over `out` (the first pass adds to zero, as the sum starts there).
    let mut first = true;
    for (pair, w) in weights.chunks(2).enumerate() {
        let a = row(2 * pair);
        let start = |o: &f32| if first { 0.0 } else { *o };
        match *w {
            [wa, wb] => {
                let b = row(2 * pair + 1);
                for ((o, x), y) in out.iter_mut().zip(a).zip(b) {
                    *o = (start(o) + wa * x) + wb * y;
                }
            }
            [wa] => out.iter_mut().zip(a).for_each(|(o, x)| *o = start(o) + wa * x),
            _ => unreachable!("chunks of at most 2"),
        }
        first = false;
    }
    if first {
        out.fill(0.0);
    }
}

with_simd! {
    /// `out[t] = Σ_i weights[i] · rows[i·stride + t]`, added from zero in order of `i`.
    pub fn weighted_rows, weighted_rows_on = weighted_rows_body(out: &mut [f32], rows: &[f32], stride: usize, weights: &[f32])
}

#[inline(always)]
fn add_constant_body(dst: &mut [f32], value: f32) {
    dst.iter_mut().for_each(|d| *d += value);
}

with_simd! {
    /// `dst += value`, element-wise.
    pub fn add_constant, add_constant_on = add_constant_body(dst: &mut [f32], value: f32)
}

#[inline(always)]
fn row_sums_body(row: &[f32]) -> (f64, f64) {
    sum_pairs(row, row, |v, _| v as f64, |v, _| (v as f64) * (v as f64))
}

with_simd! {
    /// Sum and sum of squares of a row, in f64.
    pub fn row_sums, row_sums_on = row_sums_body(row: &[f32]) -> (f64, f64)
}

#[inline(always)]
fn gradient_sums_body(grad: &[f32], x: &[f32], mean: f32) -> (f64, f64) {
    sum_pairs(grad, x, |g, _| g as f64, |g, v| (g * (v - mean)) as f64)
}

with_simd! {
    /// `(Σ grad, Σ grad·(x − mean))` of a row, in f64 (BatchNorm's backward sums).
    pub fn gradient_sums, gradient_sums_on = gradient_sums_body(grad: &[f32], x: &[f32], mean: f32) -> (f64, f64)
}

#[inline(always)]
fn normalize_backward_body(grad: &mut [f32], x: &[f32], (a, b, d): (f32, f32, f32), (mean, invstd): (f32, f32)) {
    for (g, &v) in grad.iter_mut().zip(x) {
        *g = a * *g - b - d * (v - mean) * invstd;
    }
}

with_simd! {
    /// BatchNorm's input gradient in place: `grad = a·grad − b − d·(x − mean)·invstd`.
    pub fn normalize_backward, normalize_backward_on = normalize_backward_body(
        grad: &mut [f32],
        x: &[f32],
        coefficients: (f32, f32, f32),
        statistics: (f32, f32),
    )
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

with_simd! {
    /// `out[t] = act(x[t] · scale + shift)`.
    pub fn normalize_activate, normalize_activate_on = normalize_activate_body(
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

with_simd! {
    /// `grad[t] *= act'(x[t] · scale + shift)` (PyTorch's choice at 0 is the negative branch).
    pub fn activation_backward, activation_backward_on = activation_backward_body(
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

with_simd! {
    /// Pools one row into `out` (`row.len() / k` values; the tail is dropped). Max pooling
    /// takes the first maximum and propagates NaN, as PyTorch.
    pub fn pool_row, pool_row_on = pool_row_body(row: &[f32], pool: Pool, out: &mut [f32])
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

with_simd! {
    /// Spreads a pooled row's gradient back over `grad` (the full row; the tail gets 0).
    /// Max pooling routes each window's gradient to the arg-max of `z`, the values it
    /// pooled (or any monotonic function of them).
    pub fn unpool_row, unpool_row_on = unpool_row_body(gout: &[f32], pool: Pool, z: &[f32], grad: &mut [f32])
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::nn::cpu::isa::{paths_to_test, Isa};
    use rand::{Rng, SeedableRng};

    /// Rows of awkward lengths (tails of every size, empty) with values of both signs,
    /// exact zeros, ties, large and tiny magnitudes, and NaN.
    fn rows() -> Vec<Vec<f32>> {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
        [0, 1, 2, 3, 7, 8, 9, 15, 16, 17, 31, 33, 64, 127, 250]
            .into_iter()
            .map(|len| {
                (0..len)
                    .map(|i| match rng.gen_range(0..10) {
                        0 => 0.0,
                        1 => -0.0,
                        2 => 1.5,
                        3 => -90.0,
                        4 if i % 37 == 5 => f32::NAN,
                        5 => rng.gen_range(-1e-30..1e-30),
                        _ => rng.gen_range(-6.0..6.0),
                    })
                    .collect()
            })
            .collect()
    }

    fn bits(values: &[f32]) -> Vec<u32> {
        values.iter().map(|v| v.to_bits()).collect()
    }

    fn pair_bits((a, b): (f64, f64)) -> (u64, u64) {
        (a.to_bits(), b.to_bits())
    }

    /// Every kernel, on every path this CPU runs, gives the baseline's bits exactly.
    #[test]
    fn every_instruction_set_path_gives_the_baselines_bits() {
        let activations = [
            Activation::Relu,
            Activation::LeakyRelu { slope: 0.01 },
            Activation::Elu { alpha: 1.0 },
        ];
        let pools = [Pool::Max(2), Pool::Max(3), Pool::Avg(4), Pool::Avg(8), Pool::Avg(5)];
        let paths = paths_to_test();
        assert!(paths.contains(&Isa::Baseline));
        for isa in paths {
            for x in rows() {
                let other: Vec<f32> = x.iter().rev().map(|v| v * 0.5 - 0.25).collect();
                let base = Isa::Baseline;
                assert_eq!(pair_bits(row_sums_on(isa, &x)), pair_bits(row_sums_on(base, &x)));
                assert_eq!(lane_sum_on(isa, &x).to_bits(), lane_sum_on(base, &x).to_bits());
                assert_eq!(dot_on(isa, &x, &other).to_bits(), dot_on(base, &x, &other).to_bits());
                let added = |path| {
                    let mut dst = other.clone();
                    add_into_on(path, &mut dst, &x);
                    add_scaled_on(path, &mut dst, -0.7, &x);
                    add_constant_on(path, &mut dst, 0.3);
                    bits(&dst)
                };
                assert_eq!(added(isa), added(base), "{isa:?}, length {}", x.len());
                let weighted = |path| {
                    let mut out = vec![f32::NAN; x.len() / 3];
                    weighted_rows_on(path, &mut out, &x, x.len() / 3, &[0.7, -1.3, 0.2]);
                    let mut expected = vec![0.0f32; x.len() / 3];
                    for (i, weight) in [0.7f32, -1.3, 0.2].into_iter().enumerate() {
                        add_scaled_on(Isa::Baseline, &mut expected, weight, &x[i * (x.len() / 3)..]);
                    }
                    assert_eq!(bits(&out), bits(&expected), "{isa:?}, length {}", x.len());
                    bits(&out)
                };
                assert_eq!(weighted(isa), weighted(base));
                assert_eq!(
                    pair_bits(gradient_sums_on(isa, &x, &other, 0.3)),
                    pair_bits(gradient_sums_on(base, &x, &other, 0.3))
                );
                let backward = |path| {
                    let mut grad = x.clone();
                    normalize_backward_on(path, &mut grad, &other, (1.1, -0.2, 0.7), (0.05, 1.3));
                    bits(&grad)
                };
                assert_eq!(backward(isa), backward(base), "{isa:?}, length {}", x.len());
                for act in activations.iter().map(|a| Some(*a)).chain([None]) {
                    let forward = |path| {
                        let mut out = vec![0.0; x.len()];
                        normalize_activate_on(path, &x, &mut out, 0.9, -0.1, act);
                        bits(&out)
                    };
                    assert_eq!(forward(isa), forward(base), "{isa:?} {act:?}");
                }
                for act in activations {
                    let backward = |path| {
                        let mut grad = other.clone();
                        activation_backward_on(path, &mut grad, &x, 0.9, -0.1, act);
                        bits(&grad)
                    };
                    assert_eq!(backward(isa), backward(base), "{isa:?} {act:?}");
                }
                for pool in pools {
                    let pooled = |path| {
                        let mut out = vec![0.0; x.len() / pool.size()];
                        pool_row_on(path, &x, pool, &mut out);
                        out
                    };
                    assert_eq!(bits(&pooled(isa)), bits(&pooled(base)), "{isa:?} {pool:?}");
                    let gout: Vec<f32> = other[..x.len() / pool.size()].to_vec();
                    let unpooled = |path| {
                        let mut grad = vec![f32::NAN; x.len()];
                        unpool_row_on(path, &gout, pool, &x, &mut grad);
                        bits(&grad)
                    };
                    assert_eq!(unpooled(isa), unpooled(base), "{isa:?} {pool:?}");
                }
            }
        }
    }

    #[test]
    fn fast_exponential_is_accurate_on_the_negative_axis() {
        let mut worst = 0.0f64;
        for i in 0..=200_000 {
            let x = -(i as f32) * 1e-4 * 8.0; // 0 … −160
            let exact = (x as f64).exp();
            let got = exp_nonpositive(x) as f64;
            worst = worst.max((got - exact).abs() / exact.max(1e-30));
            if x < -87.0 {
                assert!(got < 1e-37);
            }
        }
        assert!(worst < 3e-7, "worst relative error {worst}");
    }
}

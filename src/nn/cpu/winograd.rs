//! Winograd's minimal filtering F(4, 5) for 1×5k convolutions (DeepConvNet's 1×5,
//! EEGNet's 1×15 as three 1×5 chunks): the weight gradients, and the outputs and input
//! gradients (an input gradient is the output of a transposed convolution) of the
//! convolutions where it pays (`plan::winograd_pays`). A tile of 4 outputs from 8 inputs costs 8
//! multiplications per pair of channels and chunk instead of 20, the products grouped
//! into 8 gemms. The transforms come from
//! interpolation at 0, ±1, ±2, ±½ and ∞ (Lavin & Gray, 2016); against the direct sum
//! the relative error stays around 10⁻⁶ in f32. Weight gradients use F(5, 4) at the same
//! points: a tile of 4 output gradients against 8 inputs gives its share of the 5 taps.

use super::buffers::{give_buffer, take_buffer, SLACK};
use super::elementwise::add_into;
use super::gemm::matmul;
use crate::nn::ops::{ConvGeometry, Shape4};
use rayon::prelude::*;
use std::sync::OnceLock;

/// Outputs per tile, kernel taps, and inputs per tile (= transformed points).
const TILE: usize = 4;
use super::plan::WINOGRAD_TAPS as TAPS;
const POINTS: usize = TILE + TAPS - 1;
/// Indices of the points 0 and ∞, and of the pairs (+p, −p) among
/// [0, 1, −1, 2, −2, ½, −½, ∞].
const SINGLE_POINTS: [usize; 2] = [0, POINTS - 1];
const POINT_PAIRS: [(usize, usize); 3] = [(1, 2), (3, 4), (5, 6)];
/// Samples per parallel work item: enough tiles for efficient gemms.
const SAMPLES_PER_TASK: usize = 8;
/// The convolution `out[b, o, t] = Σ_c Σ_j weight[o, c, j] · x[b, c, t + j − pad]` of an
/// input of `shape` (zero outside), into `out` (n, o, out_len).
pub fn forward(x: &[f32], shape: Shape4, g: &ConvGeometry, weight: &[f32], out: &mut [f32]) {
    let (n, c, _, w) = shape;
    let (kw, pad) = (g.kernel.1, g.time_padding);
    correlate_chunks(x, (n, c, w), pad, weight, (g.out_channels, kw), out);
}

/// Correlation of rows of `len` values, zero-padded by `pad` on both sides, with a
/// (o, c, kw) kernel, kw = 5k, as k chunks of 5 taps whose outputs add up; `out` is
/// (n, o, len + 2·pad − kw + 1).
fn correlate_chunks(
    x: &[f32],
    (n, c, len): (usize, usize, usize),
    pad: usize,
    weight: &[f32],
    (o, kw): (usize, usize),
    out: &mut [f32],
) {
    let out_len = len + 2 * pad + 1 - kw;
    for chunk in 0..kw / TAPS {
        let taps: Vec<f32> = weight
            .chunks_exact(kw)
            .flat_map(|w| &w[chunk * TAPS..][..TAPS])
            .copied()
            .collect();
        let input = Rows {
            x,
            len,
            pad,
            offset: chunk * TAPS,
        };
        correlate(&input, (n, c), &taps, o, out, out_len, chunk > 0);
    }
}

/// The transform matrices, row-major: `y = Aᵀ[(G·g) ⊙ (Bᵀ·d)]` for a tile `d` of
/// inputs and a kernel `g`.
struct Transforms {
    /// Aᵀ (TILE × POINTS): back from the points to the outputs.
    at: [f32; TILE * POINTS],
    /// G (POINTS × TAPS): the kernel at each point.
    g: [f32; POINTS * TAPS],
    /// Bᵀ (POINTS × POINTS): the inputs to the points.
    bt: [f32; POINTS * POINTS],
    /// For weight gradients, F(5, 4) at the same points: a tile of TILE output
    /// gradients to the points (POINTS × POINTS, columns past TILE zero) …
    gradient_g: [f32; POINTS * POINTS],
    /// … and back from the points to the TAPS weights (TAPS × POINTS).
    gradient_at: [f32; TAPS * POINTS],
}

fn transforms() -> &'static Transforms {
    static TRANSFORMS: OnceLock<Transforms> = OnceLock::new();
    TRANSFORMS.get_or_init(|| {
        let finite = [0.0, 1.0, -1.0, 2.0, -2.0, 0.5, -0.5];
        // Row k: powers of point k, or the leading coefficient for the point at ∞.
        let powers = |k: usize, len: usize| -> Vec<f64> {
            match finite.get(k) {
                Some(&p) => (0..len).map(|i| f64::powi(p, i as i32)).collect(),
                None => (0..len).map(|i| (i == len - 1) as u8 as f64).collect(),
            }
        };
        let vandermonde: Vec<Vec<f64>> = (0..POINTS).map(|k| powers(k, POINTS)).collect();
        let inverse = invert(vandermonde);
        let mut t = Transforms {
            at: [0.0; TILE * POINTS],
            g: [0.0; POINTS * TAPS],
            bt: [0.0; POINTS * POINTS],
            gradient_g: [0.0; POINTS * POINTS],
            gradient_at: [0.0; TAPS * POINTS],
        };
        for k in 0..POINTS {
            for (i, v) in powers(k, TILE).into_iter().enumerate() {
                t.at[i * POINTS + k] = v as f32;
            }
            for (j, v) in powers(k, TAPS).into_iter().enumerate() {
                t.g[k * TAPS + j] = v as f32;
                t.gradient_at[j * POINTS + k] = v as f32;
            }
            for (i, v) in powers(k, TILE).into_iter().enumerate() {
                t.gradient_g[k * POINTS + i] = v as f32;
            }
            // Bᵀ = V⁻ᵀ.
            for (i, inverse_row) in inverse.iter().enumerate() {
                t.bt[k * POINTS + i] = inverse_row[k] as f32;
            }
        }
        t
    })
}

/// Inverse of a small well-conditioned matrix by Gauss–Jordan elimination with pivoting.
fn invert(mut a: Vec<Vec<f64>>) -> Vec<Vec<f64>> {
    let n = a.len();
    let mut inv: Vec<Vec<f64>> = (0..n)
        .map(|i| (0..n).map(|j| (i == j) as u8 as f64).collect())
        .collect();
    for col in 0..n {
        let pivot = (col..n)
            .max_by(|&i, &j| a[i][col].abs().total_cmp(&a[j][col].abs()))
            .expect("non-empty");
        a.swap(col, pivot);
        inv.swap(col, pivot);
        let p = a[col][col];
        for j in 0..n {
            a[col][j] /= p;
            inv[col][j] /= p;
        }
        for i in (0..n).filter(|&i| i != col) {
            let f = a[i][col];
            for j in 0..n {
                a[i][j] -= f * a[col][j];
                inv[i][j] -= f * inv[col][j];
            }
        }
    }
    inv
}

/// Cross-correlation `out[b, o, t] (+)= Σ_c Σ_j weight[o, c, j] · x[b, c, t + j]`
/// for `t < out_len`, `x` being `input` (n, c) (zero past the end of each row), `weight`
/// (o, c, 5), `out` (n, o, out_len). Every step is a gemm: the input rows are read as
/// overlapping tiles (a strided view), and each tile slot past the last real tile of a
/// row is computed and dropped.
fn correlate(
    input: &Rows,
    (n, c): (usize, usize),
    weight: &[f32],
    o: usize,
    out: &mut [f32],
    out_len: usize,
    accumulate: bool,
) {
    let t = transforms();
    let tiles = out_len.div_ceil(TILE);
    // Each row padded to (tiles + 1) · TILE values: tile slot s reads values 4s .. 4s + 8.
    let row_len = (tiles + 1) * TILE;
    // U[ξ] = (G · weight)[ξ] (o × c): rows (o, c) of taps times Gᵀ, stored point-major.
    let mut u = vec![0.0f32; POINTS * o * c];
    matmul(
        (o * c, POINTS, TAPS),
        (&mut u, (1, o * c)),
        false,
        weight,
        (TAPS, 1),
        &t.g,
        (1, TAPS),
    );
    out[..n * o * out_len]
        .par_chunks_mut(SAMPLES_PER_TASK * o * out_len)
        .enumerate()
        .for_each(|(task, out_block)| {
            let first = task * SAMPLES_PER_TASK;
            let samples = out_block.len() / (o * out_len);
            let slots = samples * (tiles + 1);
            let padded = padded_rows(input, (first, samples), c, row_len);
            // V[ξ] (c × slots): Bᵀ applied to every tile slot, stored point-major.
            let rows = c * slots;
            let mut v = take_buffer(POINTS * rows + SLACK);
            transform_input(&padded, &t.bt, &mut v[..POINTS * rows]);
            // M[ξ] = U[ξ] · V[ξ] (o × slots).
            let mut m = take_buffer(POINTS * o * slots);
            for k in 0..POINTS {
                let m_k = &mut m[k * o * slots..][..o * slots];
                // V[ξ] with what follows it in `v`: the slack `matmul` reads whole vectors with.
                let (u_k, v_k) = (&u[k * o * c..][..o * c], &v[k * rows..]);
                matmul((o, slots, c), (m_k, (slots, 1)), false, u_k, (c, 1), v_k, (slots, 1));
            }
            // Aᵀ back to the outputs of every slot, TILE phases, interleaved into place.
            let mut y = take_buffer(TILE * o * slots);
            transform_output(&m, &t.at, &mut y);
            for (r, dst) in out_block.chunks_exact_mut(out_len).enumerate() {
                let (b, oc) = (r / o, r % o);
                let src = &y[(oc * slots + b * (tiles + 1)) * TILE..][..out_len];
                if accumulate {
                    add_into(dst, src);
                } else {
                    dst.copy_from_slice(src);
                }
            }
            for buffer in [padded, v, m, y] {
                give_buffer(buffer);
            }
        });
}

/// Rows of `len` values of `x` (n, c, len), as a correlation reads them: zero-padded by
/// `pad` on both sides, from `offset` on.
#[derive(Clone, Copy)]
struct Rows<'a> {
    x: &'a [f32],
    len: usize,
    pad: usize,
    offset: usize,
}

/// The `rows` of `samples` samples from `first`, channel-major
/// ([channel][sample][row_len]), cut or zero-filled to `row_len`, plus TAPS − 1 zeros
/// (the last tile slot reads past the end).
fn padded_rows(rows: &Rows, (first, samples): (usize, usize), c: usize, row_len: usize) -> Vec<f32> {
    let Rows { x, len, pad, offset } = *rows;
    // dst[j] is padded[offset + j], where padded[i] = src[i − pad] for pad ≤ i < pad + len.
    let lead = pad.saturating_sub(offset).min(row_len);
    let skip = offset.saturating_sub(pad).min(len);
    let copied = (len - skip).min(row_len - lead);
    let mut padded = take_buffer(c * samples * row_len + TAPS - 1);
    padded[c * samples * row_len..].fill(0.0);
    for (r, dst) in padded.chunks_exact_mut(row_len).enumerate() {
        let (ch, b) = (r / samples, r % samples);
        let src = &x[((first + b) * c + ch) * len + skip..][..copied];
        dst[..lead].fill(0.0);
        dst[lead..lead + copied].copy_from_slice(src);
        dst[lead + copied..].fill(0.0);
    }
    padded
}

/// Weight gradient of the convolution of an input of `shape`:
/// `gw[o, c, j] = Σ_b Σ_t gout[b, o, t] · x[b, c, t + j − pad]`, chunk by chunk of 5 taps.
pub fn weight_gradient(x: &[f32], shape: Shape4, g: &ConvGeometry, gout: &[f32]) -> Vec<f32> {
    let (n, c, _, w) = shape;
    let (o, kw, pad) = (g.out_channels, g.kernel.1, g.time_padding);
    let out_len = w + 2 * pad + 1 - kw;
    let mut gw = vec![0.0f32; o * c * kw];
    for chunk in 0..kw / TAPS {
        let inputs = Rows {
            x,
            len: w,
            pad,
            offset: chunk * TAPS,
        };
        let taps = chunk_weight_gradient(&inputs, (n, c), gout, o, out_len);
        for (dst, src) in gw.chunks_exact_mut(kw).zip(taps.chunks_exact(TAPS)) {
            dst[chunk * TAPS..][..TAPS].copy_from_slice(src);
        }
    }
    gw
}

/// `gw[o, c, j] = Σ_b Σ_t gout[b, o, t] · x[b, c, t + j]` for 5 taps, `x` being `inputs`
/// (n, c), with the products of each block of samples summed by gemms over tile slots,
/// and the blocks added in order.
fn chunk_weight_gradient(inputs: &Rows, (n, c): (usize, usize), gout: &[f32], o: usize, out_len: usize) -> Vec<f32> {
    let t = transforms();
    let tiles = out_len.div_ceil(TILE);
    let row_len = (tiles + 1) * TILE;
    let partial: Vec<Vec<f32>> = (0..n.div_ceil(SAMPLES_PER_TASK))
        .into_par_iter()
        .map(|task| {
            let first = task * SAMPLES_PER_TASK;
            let samples = SAMPLES_PER_TASK.min(n - first);
            let slots = samples * (tiles + 1);
            let x_rows = padded_rows(inputs, (first, samples), c, row_len);
            let mut x_points = take_buffer(POINTS * c * slots);
            transform_input(&x_rows, &t.bt, &mut x_points);
            let grad_rows = Rows {
                x: gout,
                len: out_len,
                pad: 0,
                offset: 0,
            };
            let grads = padded_rows(&grad_rows, (first, samples), o, row_len);
            let mut g_points = take_buffer(POINTS * o * slots);
            transform_input(&grads, &t.gradient_g, &mut g_points);
            // W[ξ] (o × c) = Σ_slots G[ξ] (o × slots) · X[ξ]ᵀ (slots × c).
            let mut w_points = vec![0.0f32; POINTS * o * c];
            for k in 0..POINTS {
                let w_k = &mut w_points[k * o * c..][..o * c];
                let g_k = &g_points[k * o * slots..][..o * slots];
                let x_k = &x_points[k * c * slots..][..c * slots];
                matmul((o, c, slots), (w_k, (c, 1)), false, g_k, (slots, 1), x_k, (1, slots));
            }
            for buffer in [x_rows, x_points, grads, g_points] {
                give_buffer(buffer);
            }
            w_points
        })
        .collect();
    // The blocks' sums, added in block order (in parallel over the points).
    let mut w_points = vec![0.0f32; POINTS * o * c];
    w_points.par_chunks_mut(o * c).enumerate().for_each(|(k, w_k)| {
        partial.iter().for_each(|p| add_into(w_k, &p[k * o * c..][..o * c]));
    });
    // gw[o, c, j] = Σ_ξ Aᵀ[j, ξ] · W[ξ][o, c].
    let mut gw = vec![0.0f32; o * c * TAPS];
    for (pair, taps) in gw.chunks_exact_mut(TAPS).enumerate() {
        for (j, tap) in taps.iter_mut().enumerate() {
            *tap = (0..POINTS)
                .map(|k| t.gradient_at[j * POINTS + k] * w_points[k * o * c + pair])
                .sum();
        }
    }
    gw
}

with_simd! {
    /// Bᵀ over every tile slot of `padded`, whose slot `q` holds the values
    /// `padded[TILE·q .. TILE·q + POINTS]`: `v[ξ·slots + q] = Σ_i Bᵀ[ξ, i] · padded[TILE·q + i]`.
    fn transform_input, transform_input_on = transform_input_body(padded: &[f32], bt: &[f32; POINTS * POINTS], v: &mut [f32])
}

/// Slots per block of [`transform_input`] and [`transform_output`]: their phases stay in L1.
const SLOT_BLOCK: usize = 256;

#[inline(always)]
fn transform_input_body(padded: &[f32], bt: &[f32; POINTS * POINTS], v: &mut [f32]) {
    let slots = v.len() / POINTS;
    // phases[j][q]: padded[TILE·(first + q) + j], so input i of slot first + q is
    // phases[i % TILE][q + i / TILE], a contiguous stream over q.
    let mut phases = [[0.0f32; SLOT_BLOCK + 1]; TILE];
    for first in (0..slots).step_by(SLOT_BLOCK) {
        let len = SLOT_BLOCK.min(slots - first);
        for (q, tile) in padded[TILE * first..][..TILE * (len + 1)]
            .chunks_exact(TILE)
            .enumerate()
        {
            for (j, &value) in tile.iter().enumerate() {
                phases[j][q] = value;
            }
        }
        let streams: [&[f32]; POINTS] = std::array::from_fn(|i| &phases[i % TILE][i / TILE..][..len]);
        for k in SINGLE_POINTS {
            let coef = &bt[k * POINTS..][..POINTS];
            for (q, d) in v[k * slots + first..][..len].iter_mut().enumerate() {
                let mut sum = coef[0] * streams[0][q];
                for i in 1..POINTS {
                    sum += coef[i] * streams[i][q];
                }
                *d = sum;
            }
        }
        // Rows of a pair (+p, −p) differ only in the sign of odd columns: even and odd
        // halves are summed once for both.
        for (plus, minus) in POINT_PAIRS {
            let coef = &bt[plus * POINTS..][..POINTS];
            let (head, tail) = v.split_at_mut(minus * slots);
            let d_plus = &mut head[plus * slots + first..][..len];
            let d_minus = &mut tail[first..][..len];
            for (q, (d_plus, d_minus)) in d_plus.iter_mut().zip(d_minus.iter_mut()).enumerate() {
                let mut even = coef[0] * streams[0][q];
                let mut odd = coef[1] * streams[1][q];
                for i in (2..POINTS).step_by(2) {
                    even += coef[i] * streams[i][q];
                    odd += coef[i + 1] * streams[i + 1][q];
                }
                (*d_plus, *d_minus) = (even + odd, even - odd);
            }
        }
    }
}

with_simd! {
    /// Aᵀ over every slot, outputs interleaved: `y[TILE·q + i] = Σ_ξ Aᵀ[i, ξ] · m[ξ·slots + q]`.
    fn transform_output, transform_output_on = transform_output_body(m: &[f32], at: &[f32; TILE * POINTS], y: &mut [f32])
}

#[inline(always)]
fn transform_output_body(m: &[f32], at: &[f32; TILE * POINTS], y: &mut [f32]) {
    let slots = m.len() / POINTS;
    let mut phases = [[0.0f32; SLOT_BLOCK]; TILE];
    for (block, y_block) in y.chunks_mut(TILE * SLOT_BLOCK).enumerate() {
        let first = block * SLOT_BLOCK;
        let len = y_block.len() / TILE;
        let planes: [&[f32]; POINTS] = std::array::from_fn(|k| &m[k * slots + first..][..len]);
        for (i, phase) in phases.iter_mut().enumerate() {
            let coef = &at[i * POINTS..][..POINTS];
            for (q, d) in phase[..len].iter_mut().enumerate() {
                let mut sum = coef[0] * planes[0][q];
                for k in 1..POINTS {
                    sum += coef[k] * planes[k][q];
                }
                *d = sum;
            }
        }
        for (q, out) in y_block.chunks_exact_mut(TILE).enumerate() {
            for (i, v) in out.iter_mut().enumerate() {
                *v = phases[i][q];
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::nn::cpu::isa::{paths_to_test, Isa};

    /// The transforms, on every path this CPU runs, give the baseline's bits exactly
    /// (slot counts around the output block and the vector widths).
    #[test]
    fn every_instruction_set_path_gives_the_baselines_bits() {
        let t = transforms();
        let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
        for isa in paths_to_test() {
            for slots in [1, 3, 8, 15, 16, 17, 255, 256, 257, 600] {
                let padded: Vec<f32> = (0..TILE * (slots + 1))
                    .map(|i| ((i * 7919) % 211) as f32 / 37.0 - 2.5)
                    .collect();
                let input = |path, matrix: &[f32; POINTS * POINTS]| {
                    let mut v = vec![0.0; POINTS * slots];
                    transform_input_on(path, &padded, matrix, &mut v);
                    bits(&v)
                };
                for matrix in [&t.bt, &t.gradient_g] {
                    assert_eq!(
                        input(isa, matrix),
                        input(Isa::Baseline, matrix),
                        "{isa:?}, {slots} slots"
                    );
                }
                let m: Vec<f32> = (0..POINTS * slots)
                    .map(|i| ((i * 104_729) % 197) as f32 / 29.0 - 3.0)
                    .collect();
                let output = |path| {
                    let mut y = vec![0.0; TILE * slots];
                    transform_output_on(path, &m, &t.at, &mut y);
                    bits(&y)
                };
                assert_eq!(output(isa), output(Isa::Baseline), "{isa:?}, {slots} slots");
            }
        }
    }
}

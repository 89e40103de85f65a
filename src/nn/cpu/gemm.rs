//! Buffers and matrix products: reusable buffers (no page-faulting allocation per batch)
//! and `matmul`, a strided gemm call.

use std::sync::Mutex;

/// Buffers handed back after a batch, reused by the next one instead of fresh
/// (page-faulting, zero-filled) allocations.
static SPARE_BUFFERS: Mutex<Vec<Vec<f32>>> = Mutex::new(Vec::new());
/// Spare buffers kept at most.
const MAX_SPARE_BUFFERS: usize = 32;

/// A buffer of `len` values with unspecified contents (every caller overwrites them all).
/// A spare buffer of exactly that length is preferred (shapes recur batch after batch),
/// then the smallest one long enough; growing a buffer zero-fills the new part.
pub fn take_buffer(len: usize) -> Vec<f32> {
    let mut spare = SPARE_BUFFERS.lock().unwrap_or_else(|e| e.into_inner());
    let exact = spare.iter().position(|b| b.len() == len);
    let best = exact.or_else(|| {
        (0..spare.len())
            .filter(|&i| spare[i].capacity() >= len)
            .min_by_key(|&i| (spare[i].len() < len, spare[i].capacity()))
    });
    let mut buffer = match best {
        Some(i) => spare.swap_remove(i),
        None => Vec::with_capacity(len),
    };
    drop(spare);
    if buffer.len() > len {
        buffer.truncate(len);
    } else {
        buffer.resize(len, 0.0);
    }
    buffer
}

/// Returns a buffer for reuse.
pub fn give_buffer(buffer: Vec<f32>) {
    let mut spare = SPARE_BUFFERS.lock().unwrap_or_else(|e| e.into_inner());
    if spare.len() < MAX_SPARE_BUFFERS && buffer.capacity() > 0 {
        spare.push(buffer);
    }
}

/// `dst += src`, element-wise.
pub fn add_into(dst: &mut [f32], src: &[f32]) {
    dst.iter_mut().zip(src).for_each(|(d, s)| *d += s);
}

/// `c (+)= a · b` for m×k `a`, k×n `b` and m×n `c`, each given with (row, column)
/// strides (`a` and `b` may overlap themselves: a Hankel view of one row is `(1, 1)`).
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
    if m == 0 || n == 0 {
        return;
    }
    assert!(c.len() > (m - 1) * c_rs + (n - 1) * c_cs);
    assert!(k == 0 || a.len() > (m - 1) * a_rs + (k - 1) * a_cs);
    assert!(k == 0 || b.len() > (k - 1) * b_rs + (n - 1) * b_cs);
    // SAFETY: the asserts above keep every index gemm touches inside the slices.
    unsafe {
        gemm::gemm(
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
            gemm::Parallelism::None,
        )
    }
}

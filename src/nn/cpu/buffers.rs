//! Reusable buffers: handed back after a batch and reused by the next one, instead of
//! fresh (page-faulting, zero-filled) allocations.

use std::sync::Mutex;

/// A row-major `b` whose last row is readable to its n-th value rounded up to a multiple
/// of this lets `gemm::matmul` use `direct::product`, which reads whole vectors (at most 16
/// lanes) and drops the lanes past n.
pub const SLACK: usize = 16;
/// Buffers handed back after a batch, reused by the next one instead of fresh
/// (page-faulting, zero-filled) allocations.
static SPARE_BUFFERS: Mutex<Vec<Vec<f32>>> = Mutex::new(Vec::new());
/// Spare buffers kept at most.
const MAX_SPARE_BUFFERS: usize = 32;

/// A buffer of `len` values with unspecified contents (every caller overwrites them all),
/// a spare one ([`pick_spare`]) where one holds `len`; growing a buffer zero-fills the new
/// part.
pub fn take_buffer(len: usize) -> Vec<f32> {
    let mut spare = SPARE_BUFFERS.lock().unwrap_or_else(|e| e.into_inner());
    let mut buffer = match pick_spare(&spare, len) {
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

/// Which spare buffer serves `len` values: one of exactly that length (shapes recur batch
/// after batch), else the one of least capacity that holds them, so a large buffer is not
/// cut down for a small shape (its own shape would then need a fresh allocation).
fn pick_spare(spare: &[Vec<f32>], len: usize) -> Option<usize> {
    spare.iter().position(|b| b.len() == len).or_else(|| {
        (0..spare.len())
            .filter(|&i| spare[i].capacity() >= len)
            .min_by_key(|&i| (spare[i].capacity(), std::cmp::Reverse(spare[i].len())))
    })
}

/// Returns a buffer for reuse.
pub fn give_buffer(buffer: Vec<f32>) {
    let mut spare = SPARE_BUFFERS.lock().unwrap_or_else(|e| e.into_inner());
    if spare.len() < MAX_SPARE_BUFFERS && buffer.capacity() > 0 {
        spare.push(buffer);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_spare_buffer_is_the_exact_one_else_the_least_capacity_that_fits() {
        let buffer = |len: usize, capacity: usize| {
            let mut b = Vec::with_capacity(capacity);
            b.resize(len, 0.0f32);
            b
        };
        // A large activation buffer, a small one cut down earlier, one of exact length.
        let spare = vec![buffer(1000, 1000), buffer(100, 300), buffer(250, 250)];
        assert_eq!(pick_spare(&spare, 250), Some(2));
        assert_eq!(pick_spare(&spare, 200), Some(2), "least capacity that holds 200");
        assert_eq!(
            pick_spare(&spare, 280),
            Some(1),
            "grows the cut-down one, keeps the large"
        );
        assert_eq!(pick_spare(&spare, 1000), Some(0));
        assert_eq!(pick_spare(&spare, 1001), None);
    }
}

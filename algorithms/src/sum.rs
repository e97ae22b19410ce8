//! Parallel sums: the chapter's "split the array into blocks, sum each block
//! in its own worker, then sum the partial sums".
//!
//! # Implementation
//!
//! [`sum`] cuts the slice into `4 × workers` contiguous blocks (a few per
//! worker, so that a worker slowed down by another process does not hold
//! the whole call back) and maps [`lanes_sum`] over them with
//! [`Pool::map`]; the caller adds up the partial sums in block order.
//! [`matrix_sum`] is the chapter's pool version: one row per item of
//! `pool.map`, in chunks of `rows / workers` rows as the chapter passes
//! `chunksize`, then the sum of the row sums. Small inputs are summed on the
//! calling thread, where they take less time than waking a worker.
//!
//! The partial sums go back through `map`'s result vector instead of a
//! queue: the pool already collects results in input order, which is what
//! the chapter's `Queue` of partial sums is built by hand to do (the
//! `array_sum` example shows that version).
//!
//! # Several accumulators
//!
//! `data.iter().sum()` adds one element at a time into one accumulator.
//! For integers the compiler reassociates that chain into vector
//! additions, but it may not for floats, whose addition is not
//! associative: each addition waits for the previous one (about four
//! cycles), so one core sums floats far below memory speed. [`lanes_sum`]
//! keeps eight accumulators, adding element `i` into accumulator `i % 8`,
//! and combines them pairwise at the end. The eight chains are
//! independent, so the additions overlap and compile to vector
//! instructions for floats as well as integers. For floats the result
//! differs from the one-accumulator sum by rounding (pairwise combining is,
//! if anything, more accurate); for integers it is the same.

use std::iter::{self, Sum};
use std::ops::Add;

use weft_pool::Pool;

/// Below this many elements, [`sum`] runs on the calling thread (small under
/// Miri, so that its small tests still go through the pool).
const SEQUENTIAL_CUTOFF: usize = if cfg!(miri) { 16 } else { 1 << 15 };

/// Blocks per worker in [`sum`].
const BLOCKS_PER_WORKER: usize = 4;

/// Accumulators in [`lanes_sum`]: enough independent addition chains to
/// hide an addition's latency, a power of two for the pairwise combine.
const LANES: usize = 8;

/// Sums `data` in parallel: partial sums of contiguous blocks on the pool's
/// workers, then the sum of the partial sums.
///
/// The sum of an empty slice is zero (`T`'s empty [`Sum`]). The elements
/// are added in a different order than `data.iter().sum()` adds them. For
/// integers that changes nothing in release builds, where overflow wraps
/// and wrapping addition does not care about order; in debug builds an
/// overflowing partial sum panics, and which partial sums are formed
/// depends on the blocks. Float sums may differ from the sequential sum by
/// rounding.
///
/// # Examples
///
/// ```
/// let pool = weft_pool::Pool::new(2);
/// let data: Vec<u64> = (1..=100_000).collect();
/// assert_eq!(weft_algorithms::sum(&pool, &data), 5_000_050_000);
/// assert_eq!(weft_algorithms::sum::<u64>(&pool, &[]), 0);
/// ```
pub fn sum<T>(pool: &Pool, data: &[T]) -> T
where
    T: Copy + Send + Sync + Sum<T> + Add<Output = T>,
{
    if data.len() < SEQUENTIAL_CUTOFF || pool.workers() == 1 {
        return lanes_sum(data);
    }
    let block = data.len().div_ceil(BLOCKS_PER_WORKER * pool.workers());
    let partials = pool.map(lanes_sum, data.chunks(block));
    partials.into_iter().sum()
}

/// Sums every element of a matrix given as rows, as the chapter does with a
/// pool: each row's sum is one item of [`Pool::map`] (in chunks of
/// `rows / workers` rows), and the caller sums the row sums.
///
/// Rows may have different lengths; an empty matrix, or one of empty rows,
/// sums to zero.
///
/// # Examples
///
/// ```
/// let pool = weft_pool::Pool::new(2);
/// let matrix = vec![vec![1, 2, 3], vec![4, 5], vec![], vec![6]];
/// assert_eq!(weft_algorithms::matrix_sum(&pool, &matrix), 21);
/// assert_eq!(weft_algorithms::matrix_sum::<i32>(&pool, &[]), 0);
/// ```
pub fn matrix_sum<T>(pool: &Pool, matrix: &[Vec<T>]) -> T
where
    T: Copy + Send + Sync + Sum<T> + Add<Output = T>,
{
    // The chapter's `chunksize = rows // nproc`, at least one row.
    let chunksize = (matrix.len() / pool.workers()).max(1);
    let row_sums = pool.map_chunked(|row: &Vec<T>| lanes_sum(row), matrix, chunksize);
    lanes_sum(&row_sums)
}

/// Sums `data` on the calling thread with [`LANES`] independent
/// accumulators (see the module documentation).
pub(crate) fn lanes_sum<T>(data: &[T]) -> T
where
    T: Copy + Sum<T> + Add<Output = T>,
{
    let zero: T = iter::empty().sum();
    let mut lanes = [zero; LANES];
    let mut groups = data.chunks_exact(LANES);
    for group in &mut groups {
        for (lane, &x) in lanes.iter_mut().zip(group) {
            *lane = *lane + x;
        }
    }
    let tail: T = groups.remainder().iter().copied().sum();
    combine(lanes) + tail
}

/// Adds up the lanes pairwise: `(l0 + l4) + (l2 + l6) + ...`, halving the
/// width each step.
#[inline]
pub(crate) fn combine<T: Copy + Add<Output = T>>(mut lanes: [T; LANES]) -> T {
    let mut width = LANES;
    while width > 1 {
        width /= 2;
        for i in 0..width {
            lanes[i] = lanes[i] + lanes[i + width];
        }
    }
    lanes[0]
}

/// The dot product of two equally long slices with [`LANES`] accumulators,
/// for [`matvec`](crate::matvec).
#[inline]
pub(crate) fn dot(a: &[f64], b: &[f64]) -> f64 {
    debug_assert_eq!(a.len(), b.len());
    let mut lanes = [0.0; LANES];
    let a_groups = a.chunks_exact(LANES);
    let b_groups = b.chunks_exact(LANES);
    let tail: f64 = a_groups
        .remainder()
        .iter()
        .zip(b_groups.remainder())
        .map(|(x, y)| x * y)
        .sum();
    for (ga, gb) in a_groups.zip(b_groups) {
        for ((lane, x), y) in lanes.iter_mut().zip(ga).zip(gb) {
            *lane += x * y;
        }
    }
    combine(lanes) + tail
}

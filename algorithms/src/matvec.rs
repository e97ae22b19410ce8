//! Matrix–vector product `y = A x`, rows in parallel.
//!
//! # Implementation
//!
//! The chapter's observation is that each entry `y[i] = A[i,:] · x` depends
//! only on row `i`, so the rows can be computed independently. One task per
//! row would cost more in hand-offs than a short row costs to compute, so
//! the rows are grouped: `4 × workers` groups of consecutive rows, each
//! paired with the slice of `y` it fills, go through [`Pool::map`]. Each
//! group writes only its own part of `y`, so no synchronization is needed
//! beyond the pool's own. Each row's dot product keeps eight accumulators
//! (see the `sum` module) so that a core streams the matrix at memory speed
//! instead of waiting on one chain of additions.

use weft_pool::Pool;

use crate::sum::dot;

/// Below this many matrix entries, [`matvec`] runs on the calling thread
/// (small under Miri, so that its small tests still use the pool).
const SEQUENTIAL_CUTOFF: usize = if cfg!(miri) { 16 } else { 1 << 15 };

/// Row groups per worker.
const GROUPS_PER_WORKER: usize = 4;

/// Computes `y = A x` for the `rows × cols` matrix `a`, stored row-major
/// (`a[i * cols + j]` is `A[i, j]`), splitting the rows among the pool's
/// workers.
///
/// With `cols == 0` the result is `rows` zeros (every row is an empty dot
/// product). Each entry is summed in a different order than a plain loop
/// would, so it may differ from one by rounding.
///
/// # Panics
///
/// If `a.len() != rows * cols` (or that product overflows), or if
/// `x.len() != cols`.
///
/// # Examples
///
/// ```
/// let pool = weft_pool::Pool::new(2);
/// // [1 2 3]   [1]   [ 6]
/// // [4 5 6] · [1] = [15]
/// //           [1]
/// let a = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0];
/// let y = weft_algorithms::matvec(&pool, &a, 2, 3, &[1.0, 1.0, 1.0]);
/// assert_eq!(y, [6.0, 15.0]);
/// ```
pub fn matvec(pool: &Pool, a: &[f64], rows: usize, cols: usize, x: &[f64]) -> Vec<f64> {
    let entries = rows
        .checked_mul(cols)
        .unwrap_or_else(|| panic!("matvec: rows × cols overflows ({rows} × {cols})"));
    assert_eq!(
        a.len(),
        entries,
        "matvec: the matrix has {} entries, but rows × cols = {rows} × {cols} = {entries}",
        a.len()
    );
    assert_eq!(
        x.len(),
        cols,
        "matvec: x has {} entries, but the matrix has {cols} columns",
        x.len()
    );
    let mut y = vec![0.0; rows];
    if cols == 0 || rows == 0 {
        return y;
    }
    if entries < SEQUENTIAL_CUTOFF || pool.workers() == 1 {
        fill_rows(a, cols, x, &mut y);
        return y;
    }
    let group = rows.div_ceil(GROUPS_PER_WORKER * pool.workers());
    pool.map(
        |(a_rows, y_rows): (&[f64], &mut [f64])| fill_rows(a_rows, cols, x, y_rows),
        a.chunks(group * cols).zip(y.chunks_mut(group)),
    );
    y
}

/// `y[i] = a_rows[i] · x` for each row of `a_rows` (which holds exactly
/// `y.len()` rows of `cols` entries).
fn fill_rows(a_rows: &[f64], cols: usize, x: &[f64], y: &mut [f64]) {
    for (row, out) in a_rows.chunks_exact(cols).zip(y) {
        *out = dot(row, x);
    }
}

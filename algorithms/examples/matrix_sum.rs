//! Parallel matrix sum with a pool: one row per item of `pool.map`.
//!
//! The chapter's first pool program: a pool of `cpu_count()` workers maps
//! `sum` over the rows of a 1000 × 100 matrix, in chunks of
//! `rows / nproc` rows, and the parent adds up the row sums. The pool
//! starts the workers, hands out the rows, and collects the results in
//! order, which the earlier examples did by hand with threads and a queue.
//! The parallel sum and the plain one are printed side by side; they are
//! always equal.
//!
//! Run with `cargo run -p weft-algorithms --example matrix_sum [-- ROWS COLS]`.

use std::thread;

use rand::Rng;
use weft_pool::Pool;

fn main() {
    let mut args = std::env::args()
        .skip(1)
        .map(|arg| arg.parse().expect("sizes must be numbers"));
    let rows: usize = args.next().unwrap_or(1000);
    let cols: usize = args.next().unwrap_or(100);
    let nproc = thread::available_parallelism().map_or(2, |p| p.get());

    // Create a random matrix.
    let mut rng = rand::rng();
    let a: Vec<Vec<u64>> = (0..rows)
        .map(|_| (0..cols).map(|_| rng.random_range(0..1000)).collect())
        .collect();

    let pool = Pool::new(nproc);
    // Note: the chunk size is optional (`pool.map` picks one).
    let row_sums = pool.map_chunked(
        |row: &Vec<u64>| row.iter().sum::<u64>(),
        &a,
        (rows / nproc).max(1),
    );
    let parsum: u64 = row_sums.iter().sum();
    let total: u64 = a.iter().flatten().sum();
    println!("{parsum} {total}"); // the two sums will be the same

    println!(
        "weft_algorithms::matrix_sum: {}",
        weft_algorithms::matrix_sum(&pool, &a)
    );
}

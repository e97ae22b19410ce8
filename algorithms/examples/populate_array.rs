//! Populating an array in parallel: each worker fills its own block.
//!
//! The chapter fills a shared array of 250 integers with random numbers in
//! `[0, 1000)` using 16 processes: the array is cut into blocks of
//! `ceil(250 / 16)` elements, and process `i` fills block `i`. Because the
//! blocks do not overlap, the processes need no lock. Here the workers are
//! scoped threads, and each receives a `&mut` to exactly its own block,
//! which is how Rust knows the blocks are disjoint; the last block is
//! shorter, as in the chapter, since 250 is not a multiple of 16.
//!
//! The library's `populate_random` does the same on a Weft pool, with one
//! twist: each fixed-size block has its own generator keyed by a seed and
//! the block's index, so the array depends only on the seed, not on how
//! many workers filled it. The example shows that by filling the same
//! array with one and with four workers.
//!
//! Run with `cargo run -p weft-algorithms --example populate_array [-- N]`.

use std::thread;

use rand::Rng;
use weft_pool::Pool;

fn worker(block: &mut [i32]) {
    let mut rng = rand::rng();
    for x in block {
        *x = rng.random_range(0..1000);
    }
}

fn main() {
    let n: usize = std::env::args()
        .nth(1)
        .map(|arg| arg.parse().expect("N must be a number"))
        .unwrap_or(250);
    let nproc = 16;
    let mut array = vec![0i32; n];
    let bsize = n.div_ceil(nproc).max(1);
    thread::scope(|s| {
        // Split the array into blocks, one per worker.
        for block in array.chunks_mut(bsize) {
            s.spawn(move || worker(block));
        }
    }); // wait until they all end
    println!("{array:?}");

    let seed = 42;
    let one = weft_algorithms::populate_random(&Pool::new(1), n, 0..=999, seed);
    let four = weft_algorithms::populate_random(&Pool::new(4), n, 0..=999, seed);
    println!(
        "populate_random(seed {seed}): first ten {:?}; same with 1 and 4 workers: {}",
        &one[..n.min(10)],
        one == four
    );
}

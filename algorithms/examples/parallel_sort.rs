//! Multi-threaded sorting: sort `T` disjoint blocks in parallel, then merge.
//!
//! The chapter's sort splits the array into `T` blocks of `ceil(n / T)`
//! elements, gives each block to its own thread to sort in place, waits for
//! all of them, and merges the `T` sorted blocks in `O(n log T)` with a
//! heap. There is no race even without a lock, because no two threads
//! touch the same element: in Rust, each thread gets a `&mut` to its own
//! block, and the compiler checks that the blocks are disjoint.
//!
//! The first part is that program as written: scoped threads sort the
//! blocks, then the main thread merges them with a binary heap (Python's
//! `heapq.merge`). The second part is the library's `sort`, which sorts
//! the blocks on a Weft pool and merges them in parallel too.
//!
//! Run with `cargo run -p weft-algorithms --example parallel_sort [-- N]`.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::thread;
use std::time::Instant;

use rand::Rng;
use weft_pool::Pool;

fn sort_parallel(a: &mut [u64], t: usize) -> Vec<u64> {
    let bsize = a.len().div_ceil(t).max(1);
    thread::scope(|s| {
        for block in a.chunks_mut(bsize) {
            s.spawn(move || block.sort_unstable());
        }
    }); // wait until all threads have finished
    merge(a.chunks(bsize).collect())
}

/// `heapq.merge`: repeatedly take the smallest head among the blocks.
fn merge(arrays: Vec<&[u64]>) -> Vec<u64> {
    let mut heads: BinaryHeap<Reverse<(u64, usize, usize)>> = arrays
        .iter()
        .enumerate()
        .filter(|(_, a)| !a.is_empty())
        .map(|(i, a)| Reverse((a[0], i, 0)))
        .collect();
    let mut out = Vec::with_capacity(arrays.iter().map(|a| a.len()).sum());
    while let Some(Reverse((value, i, j))) = heads.pop() {
        out.push(value);
        if let Some(&next) = arrays[i].get(j + 1) {
            heads.push(Reverse((next, i, j + 1)));
        }
    }
    out
}

fn main() {
    let n: usize = std::env::args()
        .nth(1)
        .map(|arg| arg.parse().expect("N must be a number"))
        .unwrap_or(100_000);
    let t = thread::available_parallelism().map_or(2, |p| p.get());
    let mut rng = rand::rng();
    let original: Vec<u64> = (0..n).map(|_| rng.random_range(0..1_000_000)).collect();
    let mut expected = original.clone();
    expected.sort_unstable();

    let mut a = original.clone();
    let start = Instant::now();
    let sorted = sort_parallel(&mut a, t);
    println!(
        "the chapter's sort_parallel: {n} numbers, {t} threads, {:?}; sorted correctly: {}",
        start.elapsed(),
        sorted == expected
    );

    let pool = Pool::new(t);
    let mut a = original;
    let start = Instant::now();
    weft_algorithms::sort(&pool, &mut a);
    println!(
        "weft_algorithms::sort: {n} numbers, {t} workers, {:?}; sorted correctly: {}",
        start.elapsed(),
        a == expected
    );
    println!("first ten: {:?}", &a[..a.len().min(10)]);
}

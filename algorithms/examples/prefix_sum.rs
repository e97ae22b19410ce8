//! A barrier between two phases: the parallel prefix sum.
//!
//! The chapter lists the barrier among the synchronization primitives: a
//! point every thread must reach before any may continue. This example
//! shows why an algorithm needs one. To compute running totals in
//! parallel, each thread first computes the running totals of its own
//! block (phase 1); then each thread adds, to every element of its block,
//! the totals of all the blocks before it (phase 2). Phase 2 reads other
//! threads' phase-1 results, so no thread may start it until every thread
//! has finished phase 1: they all wait at a Weft `Barrier` in between. The
//! barrier's `is_leader` picks one thread to announce each phase.
//!
//! The last line runs the library's `prefix_sum`, the same algorithm with
//! the offsets added up once, in the barrier's completion step, on a larger
//! array, and checks it against a sequential scan.
//!
//! Run with `cargo run -p weft-algorithms --example prefix_sum`.

use std::thread;

use weft_barrier::Barrier;
use weft_mutex::Mutex;

fn main() {
    let threads = 4;
    let mut data: Vec<u64> = (1..=16).collect();
    println!("input:  {data:?}");
    let block = data.len().div_ceil(threads);
    let totals: Vec<Mutex<u64>> = (0..threads).map(|_| Mutex::new(0)).collect();
    let barrier = Barrier::new(threads);
    thread::scope(|s| {
        for (t, chunk) in data.chunks_mut(block).enumerate() {
            let (totals, barrier) = (&totals, &barrier);
            s.spawn(move || {
                // Phase 1: running totals of this block alone.
                for i in 1..chunk.len() {
                    chunk[i] += chunk[i - 1];
                }
                *totals[t].lock() = chunk[chunk.len() - 1];
                println!(
                    "thread {t}: phase 1 done, block total {}",
                    chunk[chunk.len() - 1]
                );
                if barrier.wait().is_leader() {
                    println!("-- everyone reached the barrier --");
                }
                // Phase 2: add the totals of the blocks before this one,
                // all of which are final now.
                let offset: u64 = totals[..t].iter().map(|total| *total.lock()).sum();
                for x in chunk.iter_mut() {
                    *x += offset;
                }
                println!("thread {t}: phase 2 done, added {offset}");
            });
        }
    });
    println!("output: {data:?}");

    let mut big: Vec<u64> = (1..=100_000).collect();
    weft_algorithms::prefix_sum(threads, &mut big);
    let expected: Vec<u64> = (1..=100_000u64).map(|n| n * (n + 1) / 2).collect();
    println!(
        "weft_algorithms::prefix_sum of 1..=100000 correct: {}",
        big == expected
    );
}

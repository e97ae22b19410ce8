//! What Weft's benchmarks share. The benchmarks themselves live in
//! `benches/`, one file per crate, and `cargo xtask bench` runs them all and
//! prints the summary; `BENCHMARKS.md` at the root names every scenario.
//!
//! Naming: a criterion group is `"<crate>/<scenario>"` and a function inside
//! it is the implementation, `weft` for ours and the peer's name for the
//! others, so the summary can line them up. A thread-count sweep is one
//! group named `"<crate>/<scenario>_sweep"` whose benchmarks carry the
//! thread count as criterion's parameter (`BenchmarkId::new("weft", 4)`),
//! running [`SWEEP_THREADS`]; the report draws it as ratio against threads.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread;
use std::time::{Duration, Instant};

/// The thread counts of every `*_sweep` group: one thread, one per core of
/// a two-core machine, then two and four threads per core, to show how a
/// primitive behaves once threads outnumber cores.
pub const SWEEP_THREADS: [usize; 4] = [1, 2, 4, 8];

/// Runs `work(i)` on `threads` fresh threads (`i` = 0, 1, ...) and returns
/// the wall-clock time from the moment all of them are ready to start until
/// the last one finishes. Thread start-up is not measured.
///
/// The threads meet at a start line on which they spin (yielding), not
/// sleep: a sleeping start would wake them one after another, often onto
/// the same core as their waker, and the first milliseconds of the run
/// would measure the scheduler's placement instead of the primitive. Every
/// implementation under test starts from the same line.
pub fn timed_threads<F>(threads: usize, work: F) -> Duration
where
    F: Fn(usize) + Sync,
{
    // Workers count themselves in, then spin until the count passes
    // `threads`, which only the timing thread's own increment does, after it
    // read the clock: no work can start before the clock does.
    let arrived = AtomicUsize::new(0);
    thread::scope(|s| {
        let handles: Vec<_> = (0..threads)
            .map(|i| {
                let (arrived, work) = (&arrived, &work);
                s.spawn(move || {
                    // Release/Acquire: nothing is published through the
                    // start line; the orderings keep the spin honest.
                    arrived.fetch_add(1, Ordering::Release);
                    while arrived.load(Ordering::Acquire) <= threads {
                        thread::yield_now();
                    }
                    work(i);
                })
            })
            .collect();
        while arrived.load(Ordering::Acquire) < threads {
            thread::yield_now();
        }
        let start = Instant::now();
        arrived.fetch_add(1, Ordering::Release);
        for h in handles {
            h.join().unwrap();
        }
        start.elapsed()
    })
}

/// About 100 ns of work that the optimizer cannot remove or shorten: a
/// chain of dependent multiply-xorshift steps, each hidden behind
/// `black_box`.
#[inline]
pub fn busy_work(seed: u64) -> u64 {
    let mut x = seed;
    for _ in 0..40 {
        x = std::hint::black_box(x).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        x ^= x >> 29;
    }
    x
}

/// Splits `total` operations over `threads` as evenly as possible; thread
/// `i` gets the returned count.
pub fn share(total: u64, threads: usize, i: usize) -> u64 {
    let threads = threads as u64;
    let i = i as u64;
    total / threads + u64::from(i < total % threads)
}

/// The worker count of every pool in the benchmarks, Weft's and rayon's
/// alike: one per CPU.
pub fn workers() -> usize {
    thread::available_parallelism().map_or(1, |n| n.get())
}

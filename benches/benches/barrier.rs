#![allow(missing_docs)] // criterion's macros generate undocumented functions.

//! `weft_barrier::Barrier` against `std::sync::Barrier`.
//!
//! Every scenario measures the time per round: N threads each pass the
//! barrier `iters` times in a row with no work in between, so a round is
//! nothing but the barrier's own cost (arrivals, the release, and the
//! wake-ups when somebody slept), and the wall time divided by `iters` is
//! the time per round.
//!
//! Scenarios (see BENCHMARKS.md):
//! - `2_threads`: one thread per core on a two-core machine, the case
//!   where spinning briefly instead of sleeping pays most.
//! - `4_threads`: four threads, two per core on a two-core machine.
//! - `8_threads_oversubscribed`: eight threads on the (two) cores, so most
//!   of them are descheduled at any moment and every round needs the
//!   scheduler: what matters there is sleeping and yielding well, not
//!   spinning.
//! - `completion_4_threads`: four threads, and a step that must run once
//!   between rounds, after everyone arrived and before anyone goes on.
//!   Weft runs it as the barrier's completion; with std, the leader runs it
//!   and a second `wait` holds the others until it is done.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use weft_benches::timed_threads;

/// The one operation both barriers offer.
trait Wait: Sync {
    fn new(n: usize) -> Self;
    fn wait_is_leader(&self) -> bool;
}

impl Wait for weft_barrier::Barrier {
    fn new(n: usize) -> Self {
        weft_barrier::Barrier::new(n)
    }
    #[inline]
    fn wait_is_leader(&self) -> bool {
        self.wait().is_leader()
    }
}

impl Wait for std::sync::Barrier {
    fn new(n: usize) -> Self {
        std::sync::Barrier::new(n)
    }
    #[inline]
    fn wait_is_leader(&self) -> bool {
        self.wait().is_leader()
    }
}

/// `threads` threads run `iters` rounds each on one barrier; the elapsed
/// time divided by `iters` is the time per round.
fn rounds<B: Wait>(
    g: &mut criterion::BenchmarkGroup<'_, criterion::measurement::WallTime>,
    name: &str,
    threads: usize,
) {
    g.bench_function(name, |b| {
        b.iter_custom(|iters| {
            let barrier = B::new(threads);
            timed_threads(threads, |_| {
                for _ in 0..iters {
                    std::hint::black_box(barrier.wait_is_leader());
                }
            })
        })
    });
}

fn bench_rounds(c: &mut Criterion) {
    for (scenario, threads) in [
        ("barrier/2_threads", 2),
        ("barrier/4_threads", 4),
        ("barrier/8_threads_oversubscribed", 8),
    ] {
        let mut g = c.benchmark_group(scenario);
        g.sample_size(30);
        rounds::<weft_barrier::Barrier>(&mut g, "weft", threads);
        rounds::<std::sync::Barrier>(&mut g, "std", threads);
        g.finish();
    }
}

/// The step between rounds: a counter bump, so that the barrier's own
/// cost is what is measured.
fn step(counter: &AtomicU64) {
    counter.fetch_add(1, Relaxed);
}

fn bench_completion(c: &mut Criterion) {
    const THREADS: usize = 4;
    let mut g = c.benchmark_group("barrier/completion_4_threads");
    g.sample_size(30);
    g.bench_function("weft", |b| {
        b.iter_custom(|iters| {
            let counter = Arc::new(AtomicU64::new(0));
            let barrier = {
                let counter = Arc::clone(&counter);
                weft_barrier::Barrier::with_completion(THREADS, move || step(&counter))
            };
            let elapsed = timed_threads(THREADS, |_| {
                for _ in 0..iters {
                    barrier.wait();
                }
            });
            assert_eq!(counter.load(Relaxed), iters);
            elapsed
        })
    });
    g.bench_function("std", |b| {
        b.iter_custom(|iters| {
            let counter = AtomicU64::new(0);
            let barrier = std::sync::Barrier::new(THREADS);
            let elapsed = timed_threads(THREADS, |_| {
                for _ in 0..iters {
                    if barrier.wait().is_leader() {
                        step(&counter);
                    }
                    barrier.wait();
                }
            });
            assert_eq!(counter.load(Relaxed), iters);
            elapsed
        })
    });
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().warm_up_time(Duration::from_secs(1)).measurement_time(Duration::from_secs(2));
    targets = bench_rounds, bench_completion
}
criterion_main!(benches);

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
//! - `latch_4_threads`: `weft_barrier::Latch` against crossbeam-utils'
//!   `WaitGroup` and a count under a `std::sync::Mutex` with a `Condvar`.
//!   Each round, four threads count a fresh latch down once each and all
//!   wait for it to open: the count-down-and-release round trip, with the
//!   cost of making the latch.

use std::cell::UnsafeCell;
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

/// A single-use count-down as `latch_rounds` uses it.
trait CountDown: Send + Sync {
    /// A fresh count-down for `threads` threads.
    fn new(threads: usize) -> Self;
    /// Thread `i`'s one count-down, then the wait until all are in.
    fn arrive_and_wait(&self, i: usize);
}

impl CountDown for weft_barrier::Latch {
    fn new(threads: usize) -> Self {
        weft_barrier::Latch::new(threads)
    }
    #[inline]
    fn arrive_and_wait(&self, _: usize) {
        self.arrive_and_wait();
    }
}

/// crossbeam-utils' `WaitGroup`, one handle per thread: a handle's `wait`
/// is that thread's count-down and wait.
struct WaitGroups(Vec<UnsafeCell<Option<crossbeam_utils::sync::WaitGroup>>>);

// SAFETY: thread `i` alone touches handle `i`, once, and `latch_rounds`
// replaces the whole value only when no thread uses it.
unsafe impl Sync for WaitGroups {}

impl CountDown for WaitGroups {
    fn new(threads: usize) -> Self {
        let first = crossbeam_utils::sync::WaitGroup::new();
        let handles = (0..threads).map(|_| UnsafeCell::new(Some(first.clone())));
        Self(handles.collect())
    }
    #[inline]
    fn arrive_and_wait(&self, i: usize) {
        // SAFETY: see `impl Sync for WaitGroups`.
        let handle = unsafe { (*self.0[i].get()).take() };
        handle.expect("one count-down per thread").wait();
    }
}

/// The textbook count-down: a count under a mutex, and a condition
/// variable that waiters sleep on until it is zero.
struct MutexCondvarLatch {
    left: std::sync::Mutex<usize>,
    zero: std::sync::Condvar,
}

impl CountDown for MutexCondvarLatch {
    fn new(threads: usize) -> Self {
        Self {
            left: std::sync::Mutex::new(threads),
            zero: std::sync::Condvar::new(),
        }
    }
    #[inline]
    fn arrive_and_wait(&self, _: usize) {
        let mut left = self.left.lock().unwrap();
        *left -= 1;
        if *left == 0 {
            self.zero.notify_all();
        } else {
            drop(self.zero.wait_while(left, |left| *left > 0).unwrap());
        }
    }
}

/// `threads` threads run `iters` rounds, each on a fresh count-down, and
/// the elapsed time divided by `iters` is the time per round.
///
/// Round `k` uses slot `k % 3` of a ring. Once round `k` has opened, every
/// thread has arrived in it, so every call of round `k - 1` has returned:
/// thread 0 then replaces that slot with a fresh count-down for round
/// `k + 2`. Nobody reaches round `k + 2` before round `k + 1` opens, which
/// needs thread 0's arrival, after the replacement; the count-down of
/// round `k + 1` publishes it.
fn latch_rounds<L: CountDown>(
    g: &mut criterion::BenchmarkGroup<'_, criterion::measurement::WallTime>,
    name: &str,
    threads: usize,
) {
    struct Ring<L>([UnsafeCell<L>; 3]);
    // SAFETY: a slot is replaced only while no thread uses it, as above.
    unsafe impl<L: CountDown> Sync for Ring<L> {}
    impl<L> Ring<L> {
        /// The slot of round `k`.
        fn slot(&self, k: usize) -> *mut L {
            self.0[k % 3].get()
        }
    }

    g.bench_function(name, |b| {
        b.iter_custom(|iters| {
            let ring = Ring([(); 3].map(|_| UnsafeCell::new(L::new(threads))));
            timed_threads(threads, |i| {
                for k in 0..iters as usize {
                    // SAFETY: slot `k % 3` is replaced only after round
                    // `k + 1` opened, after this call.
                    unsafe { &*ring.slot(k) }.arrive_and_wait(i);
                    if i == 0 {
                        // SAFETY: round `k` opened, so every call on this
                        // slot (round `k - 1`) has returned, and its next
                        // users wait for round `k + 1`.
                        unsafe { *ring.slot(k + 2) = L::new(threads) };
                    }
                }
            })
        })
    });
}

fn bench_latch(c: &mut Criterion) {
    let mut g = c.benchmark_group("barrier/latch_4_threads");
    g.sample_size(30);
    latch_rounds::<weft_barrier::Latch>(&mut g, "weft", 4);
    latch_rounds::<WaitGroups>(&mut g, "crossbeam", 4);
    latch_rounds::<MutexCondvarLatch>(&mut g, "mutex_condvar", 4);
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().warm_up_time(Duration::from_secs(1)).measurement_time(Duration::from_secs(2));
    targets = bench_rounds, bench_completion, bench_latch
}
criterion_main!(benches);

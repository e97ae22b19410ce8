#![allow(missing_docs)] // criterion's macros generate undocumented functions.

//! `weft_mutex` against `std::sync` and `parking_lot`.
//!
//! Scenarios (see BENCHMARKS.md):
//! - `uncontended`: one thread, lock + increment + unlock.
//! - `contended_sweep/N` for N = 1, 2, 4, 8 threads: N threads hammer one
//!   lock with a one-increment critical section; time per operation over
//!   all threads (lower = more throughput). The parameter is the thread
//!   count, so the report can draw how each lock scales past the core count.
//! - `long_cs_2_threads`: 2 threads, ~100 ns of work inside the lock.
//! - `condvar_ping_pong`: 2 threads hand a turn back and forth through a
//!   mutex and a condition variable; time per round trip.
//! - `lock_api_uncontended`: `uncontended` through
//!   `lock_api::Mutex<weft_mutex::RawMutex, u64>` (as `weft`) against
//!   `weft_mutex::Mutex<u64>` itself (as `weft_mutex`): what lock_api's
//!   wrapper costs, so the ratio reads 1.00× when it costs nothing.

use std::hint::black_box;
use std::time::Duration;

use criterion::measurement::WallTime;
use criterion::{Bencher, BenchmarkId, Criterion, criterion_group, criterion_main};
use weft_benches::{SWEEP_THREADS, busy_work, share, timed_threads};

/// The one operation every mutex under test offers.
trait Lock: Sync {
    fn new(value: u64) -> Self;
    fn with<R>(&self, f: impl FnOnce(&mut u64) -> R) -> R;
}

impl Lock for weft_mutex::Mutex<u64> {
    fn new(value: u64) -> Self {
        weft_mutex::Mutex::new(value)
    }
    #[inline]
    fn with<R>(&self, f: impl FnOnce(&mut u64) -> R) -> R {
        f(&mut self.lock())
    }
}

impl Lock for lock_api::Mutex<weft_mutex::RawMutex, u64> {
    fn new(value: u64) -> Self {
        lock_api::Mutex::new(value)
    }
    #[inline]
    fn with<R>(&self, f: impl FnOnce(&mut u64) -> R) -> R {
        f(&mut self.lock())
    }
}

impl Lock for std::sync::Mutex<u64> {
    fn new(value: u64) -> Self {
        std::sync::Mutex::new(value)
    }
    #[inline]
    fn with<R>(&self, f: impl FnOnce(&mut u64) -> R) -> R {
        f(&mut self.lock().unwrap())
    }
}

impl Lock for parking_lot::Mutex<u64> {
    fn new(value: u64) -> Self {
        parking_lot::Mutex::new(value)
    }
    #[inline]
    fn with<R>(&self, f: impl FnOnce(&mut u64) -> R) -> R {
        f(&mut self.lock())
    }
}

fn uncontended<L: Lock>(
    c: &mut criterion::BenchmarkGroup<'_, criterion::measurement::WallTime>,
    name: &str,
) {
    let lock = L::new(0);
    c.bench_function(name, |b| b.iter(|| lock.with(|x| *x += 1)));
    black_box(lock.with(|x| *x));
}

/// The routine of a contended scenario: `threads` threads share the
/// iterations, each one lock + critical section + unlock.
fn contended<L: Lock>(threads: usize, work_inside: bool) -> impl FnMut(&mut Bencher<'_, WallTime>) {
    move |b| {
        b.iter_custom(|iters| {
            let lock = L::new(0);
            timed_threads(threads, |i| {
                for _ in 0..share(iters, threads, i) {
                    if work_inside {
                        lock.with(|x| *x = busy_work(*x));
                    } else {
                        lock.with(|x| *x += 1);
                    }
                }
            })
        })
    }
}

fn bench_uncontended(c: &mut Criterion) {
    let mut g = c.benchmark_group("mutex/uncontended");
    uncontended::<weft_mutex::Mutex<u64>>(&mut g, "weft");
    uncontended::<std::sync::Mutex<u64>>(&mut g, "std");
    uncontended::<parking_lot::Mutex<u64>>(&mut g, "parking_lot");
    g.finish();
}

/// The same lock behind lock_api's `Mutex` and behind Weft's own.
fn bench_lock_api(c: &mut Criterion) {
    let mut g = c.benchmark_group("mutex/lock_api_uncontended");
    uncontended::<lock_api::Mutex<weft_mutex::RawMutex, u64>>(&mut g, "weft");
    uncontended::<weft_mutex::Mutex<u64>>(&mut g, "weft_mutex");
    g.finish();
}

/// The thread-count sweep; at each count the three locks run back to back.
fn bench_contended(c: &mut Criterion) {
    let mut g = c.benchmark_group("mutex/contended_sweep");
    g.sample_size(30);
    for threads in SWEEP_THREADS {
        let id = |name| BenchmarkId::new(name, threads);
        g.bench_function(
            id("weft"),
            contended::<weft_mutex::Mutex<u64>>(threads, false),
        );
        g.bench_function(
            id("std"),
            contended::<std::sync::Mutex<u64>>(threads, false),
        );
        g.bench_function(
            id("parking_lot"),
            contended::<parking_lot::Mutex<u64>>(threads, false),
        );
    }
    g.finish();
}

fn bench_long_cs(c: &mut Criterion) {
    let mut g = c.benchmark_group("mutex/long_cs_2_threads");
    g.sample_size(30);
    g.bench_function("weft", contended::<weft_mutex::Mutex<u64>>(2, true));
    g.bench_function("std", contended::<std::sync::Mutex<u64>>(2, true));
    g.bench_function("parking_lot", contended::<parking_lot::Mutex<u64>>(2, true));
    g.finish();
}

/// One round trip: the main side sets the turn to "pong" and waits for it
/// to come back to "ping"; the other thread does the opposite.
fn bench_condvar(c: &mut Criterion) {
    let mut g = c.benchmark_group("mutex/condvar_ping_pong");
    g.sample_size(30);

    g.bench_function("weft", |b| {
        b.iter_custom(|rounds| {
            let turn = weft_mutex::Mutex::new(false);
            let cv = weft_mutex::Condvar::new();
            timed_threads(2, |side| {
                let mine = side == 1;
                for _ in 0..rounds {
                    let mut t = cv.wait_while(turn.lock(), |t| *t != mine);
                    *t = !mine;
                    drop(t);
                    cv.notify_one();
                }
            })
        })
    });

    g.bench_function("std", |b| {
        b.iter_custom(|rounds| {
            let turn = std::sync::Mutex::new(false);
            let cv = std::sync::Condvar::new();
            timed_threads(2, |side| {
                let mine = side == 1;
                for _ in 0..rounds {
                    let mut t = cv.wait_while(turn.lock().unwrap(), |t| *t != mine).unwrap();
                    *t = !mine;
                    drop(t);
                    cv.notify_one();
                }
            })
        })
    });

    g.bench_function("parking_lot", |b| {
        b.iter_custom(|rounds| {
            let turn = parking_lot::Mutex::new(false);
            let cv = parking_lot::Condvar::new();
            timed_threads(2, |side| {
                let mine = side == 1;
                for _ in 0..rounds {
                    let mut t = turn.lock();
                    cv.wait_while(&mut t, |t| *t != mine);
                    *t = !mine;
                    drop(t);
                    cv.notify_one();
                }
            })
        })
    });
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().warm_up_time(Duration::from_secs(1)).measurement_time(Duration::from_secs(2));
    targets = bench_uncontended, bench_lock_api, bench_contended, bench_long_cs, bench_condvar
}
criterion_main!(benches);

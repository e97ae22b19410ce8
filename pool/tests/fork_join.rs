//! Behaviour of `Pool::fork_join`, rayon's `join`: both results come back,
//! `b` runs on a worker or back on the caller, nesting and recursion never
//! deadlock, panics come back after both halves finished, and a waiting
//! thread sleeps. Several are ported from rayon-core's `join` tests.
#![cfg(not(loom))]

mod common;

use std::panic::{self, AssertUnwindSafe};
use std::sync::atomic::Ordering::SeqCst;
use std::sync::atomic::{AtomicBool, AtomicUsize};
use std::sync::{Arc, Barrier};
use std::thread;
use std::time::{Duration, Instant};

use weft_pool::Pool;
use weft_testkit::{Watchdog, iterations};

use common::{CLOSED, Custom, EXPECTED, HANG, quiet_expected_panics, quiet_refusals};

/// Fibonacci by `fork_join` down to a sequential cutoff.
fn fib(pool: &Pool, n: u64, cutoff: u64) -> u64 {
    if n <= cutoff {
        return fib_sequential(n);
    }
    let (a, b) = pool.fork_join(|| fib(pool, n - 1, cutoff), || fib(pool, n - 2, cutoff));
    a + b
}

fn fib_sequential(n: u64) -> u64 {
    if n < 2 {
        n
    } else {
        fib_sequential(n - 1) + fib_sequential(n - 2)
    }
}

/// Quicksort by `fork_join` on the two sides of the pivot, down to pieces
/// of `cutoff` elements: each half is a `&mut` borrow of the caller's slice.
fn quicksort(pool: &Pool, v: &mut [u64], cutoff: usize) {
    if v.len() <= cutoff.max(1) {
        v.sort_unstable();
        return;
    }
    let mid = partition(v);
    let (low, high) = v.split_at_mut(mid);
    pool.fork_join(
        || quicksort(pool, low, cutoff),
        || quicksort(pool, &mut high[1..], cutoff),
    );
}

/// Lomuto's partition around the middle element; returns its final index.
fn partition(v: &mut [u64]) -> usize {
    let last = v.len() - 1;
    v.swap(v.len() / 2, last);
    let mut store = 0;
    for i in 0..last {
        if v[i] <= v[last] {
            v.swap(i, store);
            store += 1;
        }
    }
    v.swap(store, last);
    store
}

/// Scrambled numbers with repeats, from a fixed linear congruential
/// generator.
fn scrambled(len: usize) -> Vec<u64> {
    let mut x = 0x2545_f491_4f6c_dd1d_u64;
    (0..len)
        .map(|_| {
            x = x.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
            (x >> 33) % (len as u64 / 2 + 1)
        })
        .collect()
}

/// Blocks until `flag` is set, failing the test after a long while.
fn wait_for(flag: &AtomicBool, what: &str) {
    let start = Instant::now();
    while !flag.load(SeqCst) {
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "{what} never happened"
        );
        thread::yield_now();
    }
}

#[test]
fn fork_join_returns_both_results() {
    let pool = Pool::new(2);
    let text = String::from("borrowed");
    let (a, b) = pool.fork_join(|| text.len(), || text.to_uppercase());
    assert_eq!((a, b.as_str()), (8, "BORROWED"));
    assert_eq!(pool.fork_join(|| (), || 1), ((), 1));
}

/// rayon's `sort` and `sort_in_pool`: a recursive quicksort from outside
/// the pool and from inside a task, on one, two and four workers.
#[test]
fn quicksort_sorts_from_outside_and_inside_the_pool() {
    let _watchdog = Watchdog::new("quicksort_sorts_from_outside_and_inside_the_pool", HANG);
    let (len, cutoff) = if cfg!(miri) { (200, 8) } else { (100_000, 64) };
    for workers in [1, 2, 4] {
        let pool = Pool::new(workers);
        let mut expected = scrambled(len);
        let mut v = expected.clone();
        expected.sort_unstable();
        quicksort(&pool, &mut v, cutoff);
        assert_eq!(v, expected, "{workers} workers, from outside");

        let mut v = scrambled(len);
        let sorted = pool.apply(
            |mut v: Vec<u64>| {
                quicksort(&pool, &mut v, cutoff);
                v
            },
            (v.split_off(0),),
        );
        assert_eq!(sorted, expected, "{workers} workers, inside a task");
    }
}

#[test]
fn fib_with_a_cutoff_returns_the_sequential_fib() {
    let _watchdog = Watchdog::new("fib_with_a_cutoff_returns_the_sequential_fib", HANG);
    let (n, cutoff) = if cfg!(miri) { (12, 6) } else { (27, 12) };
    let expected = fib_sequential(n);
    for workers in [1, 2, 3] {
        let pool = Pool::new(workers);
        assert_eq!(fib(&pool, n, cutoff), expected, "{workers} workers");
        // No cutoff at all: a fork_join per call, down to the leaves.
        assert_eq!(fib(&pool, n / 2, 1), fib_sequential(n / 2));
    }
}

/// rayon's `join_context_second`: from outside, `b` runs on a worker while
/// the caller runs `a` (the two meet at a barrier, so they run at the same
/// time, on different threads).
#[test]
fn b_runs_on_a_worker_while_the_caller_runs_a() {
    let _watchdog = Watchdog::new("b_runs_on_a_worker_while_the_caller_runs_a", HANG);
    let pool = Pool::new(1);
    let barrier = Barrier::new(2);
    let (a, b) = pool.fork_join(
        || {
            barrier.wait();
            thread::current().id()
        },
        || {
            barrier.wait();
            thread::current().id()
        },
    );
    assert_eq!(a, thread::current().id(), "the caller runs a");
    assert_ne!(b, a, "b runs on the worker");
}

/// rayon's `join_context_neither`: inside a task of a one-worker pool, no
/// other thread can take `b`, so the worker runs both halves itself.
#[test]
fn on_one_busy_worker_both_halves_run_on_it() {
    let _watchdog = Watchdog::new("on_one_busy_worker_both_halves_run_on_it", HANG);
    let pool = Pool::new(1);
    let (worker, a, b) = pool.apply(
        || {
            let (a, b) = pool.fork_join(|| thread::current().id(), || thread::current().id());
            (thread::current().id(), a, b)
        },
        (),
    );
    assert_eq!((a, b), (worker, worker));
    assert_ne!(worker, thread::current().id());
}

/// A recursion much deeper than the pool has workers, with borrowed data
/// at every level, completes on one worker: every level takes its own `b`
/// back.
#[test]
fn deep_recursion_completes_on_one_worker() {
    let _watchdog = Watchdog::new("deep_recursion_completes_on_one_worker", HANG);
    fn depth(pool: &Pool, n: usize, seen: &AtomicUsize) -> usize {
        seen.fetch_add(1, SeqCst);
        if n == 0 {
            return 0;
        }
        let (a, ()) = pool.fork_join(|| depth(pool, n - 1, seen), || ());
        a + 1
    }
    let n = iterations(500, 20);
    for workers in [1, 2] {
        let pool = Pool::new(workers);
        let seen = AtomicUsize::new(0);
        assert_eq!(pool.apply(|| depth(&pool, n, &seen), ()), n);
        assert_eq!(depth(&pool, n, &seen), n);
        assert_eq!(seen.load(SeqCst), 2 * (n + 1));
    }
}

/// `fork_join` inside the tasks of every other kind of call, with every
/// worker inside such a task.
#[test]
fn fork_join_inside_tasks_of_every_kind_completes() {
    let _watchdog = Watchdog::new("fork_join_inside_tasks_of_every_kind_completes", HANG);
    for workers in [1, 2] {
        let pool = Arc::new(Pool::new(workers));
        let n = iterations(16, 10);
        let expected: Vec<u64> = (0..8).map(fib_sequential).collect();
        assert_eq!(pool.map(|i: u64| fib(&pool, i, 2), 0..8), expected);
        assert_eq!(
            pool.map_slice_chunked(|&i| fib(&pool, i, 2), &(0..8).collect::<Vec<u64>>(), 1),
            expected
        );
        let inner = pool.clone();
        let r = pool.map_async_chunked(move |i: u64| fib(&inner, i, 2), 0..8, 1);
        assert_eq!(r.get().unwrap(), expected);
        let handles: Vec<_> = (0..workers as u64 + 2)
            .map(|_| {
                let inner = pool.clone();
                pool.apply_async(move || fib(&inner, n as u64, 3), ())
            })
            .collect();
        for h in handles {
            assert_eq!(h.get().unwrap(), fib_sequential(n as u64));
        }
    }
}

/// rayon's `panic_propagate_a`, `_b` and `_both`, with the payloads
/// checked: each comes back unchanged, `a`'s when both panic.
#[test]
fn a_panic_in_either_half_comes_back_with_its_payload() {
    quiet_expected_panics();
    let pool = Pool::new(2);
    let payload = |f: &dyn Fn()| {
        *panic::catch_unwind(AssertUnwindSafe(f))
            .unwrap_err()
            .downcast::<Custom>()
            .unwrap()
    };
    let a = payload(&|| {
        pool.fork_join(|| panic::panic_any(Custom(1)), || 2);
    });
    assert_eq!(a, Custom(1));
    let b = payload(&|| {
        pool.fork_join(|| 1, || panic::panic_any(Custom(2)));
    });
    assert_eq!(b, Custom(2));
    let both = payload(&|| {
        pool.fork_join(
            || -> () { panic::panic_any(Custom(1)) },
            || -> () { panic::panic_any(Custom(2)) },
        );
    });
    assert_eq!(both, Custom(1));
    // The pool keeps its workers and stays usable.
    assert_eq!(pool.workers(), 2);
    assert_eq!(pool.fork_join(|| 3, || 4), (3, 4));
    assert_eq!(pool.map(|x: u8| x + 1, 0..4), [1, 2, 3, 4]);
}

/// rayon's `panic_b_still_executes`, both ways round: the other half runs
/// to its end before the panic comes back, from outside and inside a task.
#[test]
fn the_other_half_finishes_before_a_panic_comes_back() {
    quiet_expected_panics();
    let _watchdog = Watchdog::new("the_other_half_finishes_before_a_panic_comes_back", HANG);
    let pool = Pool::new(2);
    let slow = || {
        thread::sleep(Duration::from_millis(if cfg!(miri) { 1 } else { 20 }));
        true
    };
    for inside in [false, true] {
        let b_done = AtomicBool::new(false);
        let a_done = AtomicBool::new(false);
        let run = |f: &(dyn Fn() + Sync)| {
            if inside {
                pool.apply(f, ());
            } else {
                f();
            }
        };
        let caught = panic::catch_unwind(AssertUnwindSafe(|| {
            run(&|| {
                pool.fork_join(
                    || -> () { panic!("{EXPECTED}: a") },
                    || b_done.store(slow(), SeqCst),
                );
            });
        }));
        assert!(caught.is_err());
        assert!(b_done.load(SeqCst), "b finished first (inside: {inside})");

        let caught = panic::catch_unwind(AssertUnwindSafe(|| {
            run(&|| {
                pool.fork_join(
                    || a_done.store(slow(), SeqCst),
                    || -> () { panic!("{EXPECTED}: b") },
                );
            });
        }));
        assert!(caught.is_err());
        assert!(a_done.load(SeqCst), "a finished first (inside: {inside})");
    }
}

/// Counts its drops.
struct Counted<'a>(&'a AtomicUsize);

impl Drop for Counted<'_> {
    fn drop(&mut self) {
        self.0.fetch_add(1, SeqCst);
    }
}

/// The result of the half that did not panic, the closures and what they
/// own are all dropped, once each, by the time the panic comes back; and
/// both results are handed back undropped on success.
#[test]
fn results_and_closures_are_dropped_once() {
    quiet_expected_panics();
    let pool = Pool::new(2);
    let drops = &AtomicUsize::new(0);
    let owned_a = Counted(drops);
    let owned_b = Counted(drops);
    let caught = panic::catch_unwind(AssertUnwindSafe(|| {
        pool.fork_join(
            move || {
                drop(owned_a);
                Counted(drops)
            },
            move || -> Counted<'_> {
                let _owned = owned_b;
                panic!("{EXPECTED}: b")
            },
        )
    }));
    assert!(caught.is_err());
    assert_eq!(drops.load(SeqCst), 3, "both captures and a's result");

    drops.store(0, SeqCst);
    let caught = panic::catch_unwind(AssertUnwindSafe(|| {
        pool.fork_join(
            || -> Counted<'_> { panic!("{EXPECTED}: a") },
            || Counted(drops),
        )
    }));
    assert!(caught.is_err());
    assert_eq!(drops.load(SeqCst), 1, "b's result");

    drops.store(0, SeqCst);
    let (a, b) = pool.fork_join(|| Counted(drops), || Counted(drops));
    assert_eq!(drops.load(SeqCst), 0, "the results are handed back");
    drop((a, b));
    assert_eq!(drops.load(SeqCst), 2);
}

/// From outside, a closed pool refuses `fork_join` (having dropped both
/// closures, and run neither); inside a task it is accepted work, and runs
/// after a close too.
#[test]
fn a_closed_pool_refuses_fork_join_from_outside_but_not_from_its_tasks() {
    quiet_refusals();
    let _watchdog = Watchdog::new(
        "a_closed_pool_refuses_fork_join_from_outside_but_not_from_its_tasks",
        HANG,
    );
    let pool = Arc::new(Pool::new(2));
    let started = Arc::new(AtomicBool::new(false));
    let closed = Arc::new(AtomicBool::new(false));
    let inner = pool.clone();
    let (started2, closed2) = (started.clone(), closed.clone());
    let task = pool.apply_async(
        move || {
            started2.store(true, SeqCst);
            wait_for(&closed2, "the close");
            fib(&inner, iterations(18, 8) as u64, 4)
        },
        (),
    );
    wait_for(&started, "the task's start");
    pool.close();
    closed.store(true, SeqCst);
    assert_eq!(
        task.get().unwrap(),
        fib_sequential(iterations(18, 8) as u64)
    );

    let drops = AtomicUsize::new(0);
    let (a, b) = (Counted(&drops), Counted(&drops));
    let refused = panic::catch_unwind(AssertUnwindSafe(|| {
        pool.fork_join(move || drop(a), move || drop(b));
    }));
    let payload = refused.unwrap_err();
    assert_eq!(payload.downcast_ref::<&str>(), Some(&CLOSED));
    assert_eq!(drops.load(SeqCst), 2, "both closures dropped, neither run");
}

/// Many threads split work with `fork_join` on one pool at once; every
/// half runs exactly once.
#[test]
fn many_callers_may_fork_join_on_one_pool_at_once() {
    let _watchdog = Watchdog::new("many_callers_may_fork_join_on_one_pool_at_once", HANG);
    let pool = Pool::new(2);
    let leaves = AtomicUsize::new(0);
    fn count(pool: &Pool, depth: u32, leaves: &AtomicUsize) {
        if depth == 0 {
            leaves.fetch_add(1, SeqCst);
            return;
        }
        pool.fork_join(
            || count(pool, depth - 1, leaves),
            || count(pool, depth - 1, leaves),
        );
    }
    let (callers, depth) = if cfg!(miri) { (2, 3) } else { (4, 10) };
    thread::scope(|s| {
        for _ in 0..callers {
            s.spawn(|| count(&pool, depth, &leaves));
        }
    });
    assert_eq!(leaves.load(SeqCst), callers << depth);
}

/// A worker waiting for a `b` that another worker runs sleeps instead of
/// spinning.
#[test]
#[cfg_attr(miri, ignore = "Miri cannot read a thread's CPU time")]
fn a_worker_waiting_for_b_sleeps() {
    let _watchdog = Watchdog::new("a_worker_waiting_for_b_sleeps", HANG);
    let pool = Pool::new(2);
    let barrier = Barrier::new(2);
    pool.apply(
        || {
            weft_testkit::assert_sleeps("a worker waiting in fork_join", || {
                pool.fork_join(
                    // `a` returns only once the other worker runs `b`.
                    || barrier.wait(),
                    || {
                        barrier.wait();
                        thread::sleep(weft_testkit::BLOCKED);
                    },
                )
            });
        },
        (),
    );
}

/// And so does a caller from outside whose `b` a worker took.
#[test]
#[cfg_attr(miri, ignore = "Miri cannot read a thread's CPU time")]
fn a_caller_waiting_for_b_sleeps() {
    let _watchdog = Watchdog::new("a_caller_waiting_for_b_sleeps", HANG);
    let pool = Pool::new(1);
    let barrier = Barrier::new(2);
    weft_testkit::assert_sleeps("a caller waiting in fork_join", || {
        pool.fork_join(
            || barrier.wait(),
            || {
                barrier.wait();
                thread::sleep(weft_testkit::BLOCKED);
            },
        )
    });
}

/// A waiting worker still sleeps while other work passes through the
/// queue: a third worker runs a stream of unrelated tasks, each changing
/// the queue's length, for as long as the wait lasts.
#[test]
#[cfg_attr(miri, ignore = "Miri cannot read a thread's CPU time")]
fn a_worker_waiting_for_b_sleeps_while_other_work_comes_and_goes() {
    let _watchdog = Watchdog::new(
        "a_worker_waiting_for_b_sleeps_while_other_work_comes_and_goes",
        HANG,
    );
    let pool = Pool::new(3);
    let barrier = Barrier::new(3);
    let done = AtomicBool::new(false);
    thread::scope(|s| {
        s.spawn(|| {
            barrier.wait();
            while !done.load(SeqCst) {
                let batch: Vec<_> = (0..64).map(|_| pool.apply_async(|| (), ())).collect();
                batch.into_iter().for_each(|r| r.get().unwrap());
            }
        });
        pool.apply(
            || {
                weft_testkit::assert_sleeps("a worker waiting in fork_join", || {
                    pool.fork_join(
                        || barrier.wait(),
                        || {
                            barrier.wait();
                            thread::sleep(weft_testkit::BLOCKED);
                        },
                    )
                });
                done.store(true, SeqCst);
            },
            (),
        );
    });
}

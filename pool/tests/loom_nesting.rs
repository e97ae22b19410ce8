//! Loom models of the waits that help: `fork_join` taking `b` back while a
//! worker may pop it, a `scope` whose tasks spawn tasks while its owner
//! may sleep, and an `AsyncResult::get` on a worker taking the awaited job
//! out of the queue while another worker may pop it.
//!
//! Under loom's futex model a sleeper that is never woken deadlocks the
//! model, and every access to an `UnsafeCell` (a `fork_join`'s result, a
//! slot's value) is checked against happens-before, so these models catch
//! a lost wake-up, a missing ordering, and a job run twice or never.
#![cfg(loom)]

use std::sync::atomic::Ordering::{Acquire, Relaxed, Release};

use weft_futex::atomic::{AtomicBool, AtomicUsize};
use weft_futex::loom;
use weft_futex::sync::Arc;
use weft_pool::Pool;

/// Runs a model with at most two preemptions (see `loom_pool.rs`).
fn model_two_preemptions(f: impl Fn() + Sync + Send + 'static) {
    let mut builder = loom::model::Builder::new();
    builder.preemption_bound = Some(builder.preemption_bound.map_or(2, |b| b.min(2)));
    builder.check(f);
}

/// `fork_join` from outside a pool of one worker: the worker pops `b`, or
/// the caller takes it back after `a`. Either way `b` runs exactly once,
/// its result reaches the caller (loom checks the result cell's accesses),
/// and the caller is woken if it slept waiting for the worker.
#[test]
fn fork_join_runs_b_once_whoever_takes_it() {
    loom::model(|| {
        let pool = Pool::new(1);
        let runs = AtomicUsize::new(0);
        let (a, b) = pool.fork_join(
            || 1,
            || {
                runs.fetch_add(1, Relaxed);
                2
            },
        );
        assert_eq!((a, b), (1, 2));
        // The latch ordered b's increment before this load.
        assert_eq!(runs.load(Relaxed), 1);
    });
}

/// `fork_join` inside a task on a pool of two workers: the other worker
/// may pop `b` while the task's worker takes it back or waits for it.
#[test]
fn fork_join_inside_a_task_runs_b_once() {
    model_two_preemptions(|| {
        let pool = Arc::new(Pool::new(2));
        let inner = pool.clone();
        let runs = Arc::new(AtomicUsize::new(0));
        let counted = runs.clone();
        let result = pool.apply_async(
            move || {
                inner.fork_join(
                    || 1,
                    || {
                        counted.fetch_add(1, Relaxed);
                        2
                    },
                )
            },
            (),
        );
        assert_eq!(result.get().unwrap(), (1, 2));
        assert_eq!(runs.load(Relaxed), 1);
    });
}

/// A scope from outside a pool of one worker. The body spawns `t1`; `t1`
/// spawns `t2` and then waits for `t2` to set a flag, holding the only
/// worker. The owner, which may already sleep in the scope's wait, must be
/// woken for `t2` (a poke) and run it: without that wake nobody would.
/// The scope returns only after both tasks, and each runs once.
#[test]
fn a_task_spawned_while_the_owner_sleeps_wakes_it() {
    loom::model(|| {
        let pool = Pool::new(1);
        let t2_ran = AtomicBool::new(false);
        let runs = AtomicUsize::new(0);
        pool.scope(|s| {
            s.spawn(|s| {
                runs.fetch_add(1, Relaxed);
                s.spawn(|_| {
                    runs.fetch_add(1, Relaxed);
                    // Release: pairs with the Acquire load below.
                    t2_ran.store(true, Release);
                });
                // Acquire: pairs with the Release store above.
                while !t2_ran.load(Acquire) {
                    loom::thread::yield_now();
                }
            });
        });
        // The scope's latch ordered both increments before this load.
        assert_eq!(runs.load(Relaxed), 2);
    });
}

/// A scope on a pool of one worker, from inside a task: the only worker
/// is the owner, and runs every task itself, tasks spawned by tasks
/// included.
#[test]
fn a_scope_on_its_only_worker_runs_every_task() {
    loom::model(|| {
        let pool = Arc::new(Pool::new(1));
        let inner = pool.clone();
        let result = pool.apply_async(
            move || {
                let runs = AtomicUsize::new(0);
                inner.scope(|s| {
                    s.spawn(|s| {
                        runs.fetch_add(1, Relaxed);
                        s.spawn(|_| {
                            runs.fetch_add(1, Relaxed);
                        });
                    });
                });
                runs.load(Relaxed)
            },
            (),
        );
        assert_eq!(result.get().unwrap(), 2);
    });
}

/// A task on a pool of two workers submits another and waits for it: the
/// waiting worker takes the queued job back and runs it, or the other
/// worker pops it first and the waiter sleeps until it is done. The job
/// runs once, and its value reaches the waiter (loom checks the slot).
#[test]
fn get_on_a_worker_runs_the_queued_job_once() {
    model_two_preemptions(|| {
        let pool = Arc::new(Pool::new(2));
        let inner = pool.clone();
        let runs = Arc::new(AtomicUsize::new(0));
        let counted = runs.clone();
        let outer = pool.apply_async(
            move || {
                let counted = counted.clone();
                let job = inner.apply_async(
                    move || {
                        counted.fetch_add(1, Relaxed);
                        5
                    },
                    (),
                );
                job.get().unwrap()
            },
            (),
        );
        assert_eq!(outer.get().unwrap(), 5);
        assert_eq!(runs.load(Relaxed), 1);
    });
}

/// The same on a pool of one worker, where nobody but the waiter can run
/// the job (a deadlock without the take-back).
#[test]
fn get_on_the_only_worker_runs_the_queued_job() {
    loom::model(|| {
        let pool = Arc::new(Pool::new(1));
        let inner = pool.clone();
        let outer = pool.apply_async(move || inner.apply_async(|| 5, ()).get().unwrap() + 1, ());
        assert_eq!(outer.get().unwrap(), 6);
    });
}

/// A worker waiting in `fork_join` for the `b` another worker runs must be
/// woken for the job `b` leaves queued: `b` splits itself with a
/// `fork_join` of its own whose `a` waits for its `b` to have run, holding
/// the other worker. Only the first worker, which may already sleep
/// waiting for the outer `b`, can run the inner `b` (a descendant of its
/// call), and only if the push wakes it.
#[test]
fn a_worker_waiting_for_b_is_woken_for_bs_queued_job() {
    model_two_preemptions(|| {
        let pool = Arc::new(Pool::new(2));
        let inner = pool.clone();
        let result = pool.apply_async(
            move || {
                let pool = &*inner;
                let (_, inner_b_ran) = pool.fork_join(
                    || (),
                    || {
                        let ran = AtomicBool::new(false);
                        pool.fork_join(
                            || {
                                // Acquire: pairs with the Release store below.
                                while !ran.load(Acquire) {
                                    loom::thread::yield_now();
                                }
                            },
                            // Release: pairs with the Acquire load above.
                            || ran.store(true, Release),
                        );
                        ran.load(Relaxed)
                    },
                );
                inner_b_ran
            },
            (),
        );
        assert!(result.get().unwrap());
    });
}

//! Waiting inside the pool's own tasks never deadlocks: an
//! `AsyncResult::get` (or `wait`, `wait_timeout`, `get_timeout`) made on a
//! worker runs the awaited job itself when no worker has started it, and a
//! waiting frame never runs a job it does not wait for. Each test would
//! hang without that (its watchdog turns the hang into a failure).
#![cfg(not(loom))]

mod common;

use std::sync::Arc;
use std::sync::atomic::AtomicUsize;
use std::sync::atomic::Ordering::SeqCst;
use std::sync::mpsc;
use std::thread;
use std::time::Duration;

use weft_pool::{AsyncResult, Pool};
use weft_testkit::{Watchdog, iterations};

use common::HANG;

/// A task on a pool of one worker submits another task and waits for it:
/// the task is queued behind the waiting one, on the only worker, so the
/// wait runs it.
#[test]
fn get_inside_a_task_on_one_worker_runs_the_queued_task() {
    let _watchdog = Watchdog::new("get_inside_a_task_on_one_worker_runs_the_queued_task", HANG);
    let pool = Arc::new(Pool::new(1));
    let inner = pool.clone();
    let outer = pool.apply_async(
        move || {
            let worker = thread::current().id();
            let r = inner.apply_async(move || (6 * 7, thread::current().id()), ());
            let (value, ran_on) = r.get().unwrap();
            assert_eq!(ran_on, worker, "the waiting worker ran the task");
            value
        },
        (),
    );
    assert_eq!(outer.get().unwrap(), 42);
}

/// The same for `map_async`, whose queued tickets the wait takes back: the
/// first runs every chunk, the others find nothing left; and for every
/// form of waiting on a result.
#[test]
fn every_wait_inside_a_task_on_one_worker_runs_the_queued_work() {
    let _watchdog = Watchdog::new(
        "every_wait_inside_a_task_on_one_worker_runs_the_queued_work",
        HANG,
    );
    let pool = Arc::new(Pool::new(1));
    let inner = pool.clone();
    let outer = pool.apply_async(
        move || {
            let squares = inner.map_async_chunked(|x: u64| x * x, 0..10, 3);
            assert_eq!(squares.get().unwrap()[9], 81);

            let r = inner.apply_async(|| 1, ());
            r.wait();
            assert_eq!(r.get().unwrap(), 1);

            let r = inner.starmap_async(|a: u64, b: u64| a + b, vec![(1, 2), (3, 4)]);
            assert!(r.wait_timeout(Duration::from_secs(3600)));
            assert_eq!(r.get().unwrap(), [3, 7]);

            let r = inner.apply_async(|| 2, ());
            r.get_timeout(Duration::from_secs(3600)).unwrap()
        },
        (),
    );
    assert_eq!(outer.get().unwrap(), 2);
}

/// Every worker of the pool runs a task that waits for tasks submitted
/// after it: with nobody idle, each wait runs its own task.
#[test]
fn every_worker_waiting_for_a_queued_task_still_completes() {
    let _watchdog = Watchdog::new(
        "every_worker_waiting_for_a_queued_task_still_completes",
        HANG,
    );
    for workers in [1, 2, 4] {
        let pool = Arc::new(Pool::new(workers));
        let outers: Vec<_> = (0..iterations(4 * workers, 2 * workers) as u64)
            .map(|i| {
                let inner = pool.clone();
                pool.apply_async(
                    move || {
                        let children: Vec<_> = (0..3)
                            .map(|j| inner.apply_async(move |x: u64| x * 10 + j, (i,)))
                            .collect();
                        children.into_iter().map(|c| c.get().unwrap()).sum::<u64>()
                    },
                    (),
                )
            })
            .collect();
        for (i, outer) in outers.into_iter().enumerate() {
            assert_eq!(outer.get().unwrap(), 30 * i as u64 + 3, "{workers} workers");
        }
    }
}

/// A wait on a worker for a task that another worker has already started
/// sleeps until it is done.
#[test]
fn get_inside_a_task_waits_for_a_task_running_elsewhere() {
    let _watchdog = Watchdog::new("get_inside_a_task_waits_for_a_task_running_elsewhere", HANG);
    let pool = Arc::new(Pool::new(2));
    let (started_tx, started) = mpsc::channel();
    let slow = pool.apply_async(
        move || {
            started_tx.send(()).unwrap();
            thread::sleep(Duration::from_millis(20));
            5
        },
        (),
    );
    started.recv().unwrap();
    let waiter = pool.apply_async(|slow: AsyncResult<u64>| slow.get().unwrap() + 1, (slow,));
    assert_eq!(waiter.get().unwrap(), 6);
}

/// A waiting frame runs only jobs it waits for. Task T, on one worker,
/// waits in a scope for its task S, which runs on the other worker, while
/// job J, queued, waits for T's result. Were T's frame to run J on top of
/// itself (as a "run anything while waiting" pool would), J would wait for
/// the very frame below it on the same thread, forever. Here T's frame
/// sleeps; the other worker runs J once S is done; T returns; J gets its
/// result.
#[test]
fn a_waiting_frame_never_runs_an_unrelated_job() {
    let _watchdog = Watchdog::new("a_waiting_frame_never_runs_an_unrelated_job", HANG);
    let pool = Arc::new(Pool::new(2));
    let (s_running_tx, s_running) = mpsc::channel();
    let (j_queued_tx, j_queued) = mpsc::channel::<()>();
    let inner = pool.clone();
    let t = pool.apply_async(
        move |j_queued: mpsc::Receiver<()>| {
            inner.scope(|s| {
                let (started_tx, started) = mpsc::channel();
                s.spawn(move |_| {
                    started_tx.send(()).unwrap();
                    thread::sleep(Duration::from_millis(50));
                });
                // S runs on the other worker...
                started.recv().unwrap();
                s_running_tx.send(()).unwrap();
                // ...and J is queued, before this frame starts waiting.
                j_queued.recv().unwrap();
            });
            7
        },
        (j_queued,),
    );
    s_running.recv().unwrap();
    let j = pool.apply_async(|t: AsyncResult<u64>| t.get().unwrap() + 1, (t,));
    j_queued_tx.send(()).unwrap();
    assert_eq!(j.get().unwrap(), 8);
}

/// The same with `fork_join`: T's `b` runs on the other worker while J,
/// waiting for T, is queued; T's frame waits for `b` without running J.
#[test]
fn a_frame_waiting_in_fork_join_never_runs_an_unrelated_job() {
    let _watchdog = Watchdog::new(
        "a_frame_waiting_in_fork_join_never_runs_an_unrelated_job",
        HANG,
    );
    let pool = Arc::new(Pool::new(2));
    let (b_running_tx, b_running) = mpsc::channel();
    let (j_queued_tx, j_queued) = mpsc::channel::<()>();
    let inner = pool.clone();
    let t = pool.apply_async(
        move |j_queued: mpsc::Receiver<()>| {
            let (started_tx, started) = mpsc::channel();
            let b_running_tx = b_running_tx.clone();
            inner.fork_join(
                move || {
                    started.recv().unwrap();
                    b_running_tx.send(()).unwrap();
                    j_queued.recv().unwrap();
                },
                move || {
                    started_tx.send(()).unwrap();
                    thread::sleep(Duration::from_millis(50));
                },
            );
            7
        },
        (j_queued,),
    );
    b_running.recv().unwrap();
    let j = pool.apply_async(|t: AsyncResult<u64>| t.get().unwrap() + 1, (t,));
    j_queued_tx.send(()).unwrap();
    assert_eq!(j.get().unwrap(), 8);
}

/// Waiting frames of many kinds at once, on every worker: async tasks
/// that open scopes whose tasks `fork_join`, `map` and wait for other async
/// tasks, which do the same one level down.
#[test]
fn mixed_nested_waits_on_every_worker_complete() {
    let _watchdog = Watchdog::new("mixed_nested_waits_on_every_worker_complete", HANG);
    fn work(pool: &Arc<Pool>, level: u32, done: &Arc<AtomicUsize>) -> u64 {
        done.fetch_add(1, SeqCst);
        if level == 0 {
            return 1;
        }
        let sum = AtomicUsize::new(0);
        pool.scope(|s| {
            for _ in 0..2 {
                s.spawn(|_| {
                    let (a, b) = pool.fork_join(
                        || pool.map(|x: u64| x, 0..3).iter().sum::<u64>(),
                        || {
                            let (inner, done) = (pool.clone(), done.clone());
                            let r = pool.apply_async(move || work(&inner, level - 1, &done), ());
                            r.get().unwrap()
                        },
                    );
                    sum.fetch_add((a + b) as usize, SeqCst);
                });
            }
        });
        sum.into_inner() as u64
    }
    let level = iterations(3, 1) as u32;
    for workers in [1, 2, 3] {
        let pool = Arc::new(Pool::new(workers));
        let done = Arc::new(AtomicUsize::new(0));
        let outers: Vec<_> = (0..workers + 1)
            .map(|_| {
                let (inner, done) = (pool.clone(), done.clone());
                pool.apply_async(move || work(&inner, level, &done), ())
            })
            .collect();
        // Each level sums 2 × (3 + the level below), with 1 at the bottom.
        let expected = (0..level).fold(1, |below, _| 2 * (3 + below));
        for outer in outers {
            assert_eq!(outer.get().unwrap(), expected, "{workers} workers");
        }
        let calls_per_outer = (0..=level).map(|l| 2u64.pow(l)).sum::<u64>() as usize;
        assert_eq!(done.load(SeqCst), (workers + 1) * calls_per_outer);
    }
}

/// A caller from outside the pool runs only its own call's jobs, never a
/// job that a worker waits for. Here the only worker runs the caller's
/// `b`, which splits itself with a `fork_join` whose `b` waits for an
/// async task. Were the caller, waiting for its `b`, to take that inner
/// `b` (a descendant of its call), the inner `b`'s `get` would run on a
/// thread outside the pool, which cannot run the queued task, while the
/// worker waited for the inner `b`: nobody would run the task.
#[test]
fn an_outside_caller_never_runs_a_job_a_worker_waits_for() {
    let _watchdog = Watchdog::new(
        "an_outside_caller_never_runs_a_job_a_worker_waits_for",
        HANG,
    );
    let pool = Pool::new(1);
    let caller = thread::current().id();
    let (b_started_tx, b_started) = mpsc::channel();
    let ((), inner_b_thread) = pool.fork_join(
        // `a` returns once the worker runs `b`; the caller then waits.
        move || b_started.recv().unwrap(),
        || {
            b_started_tx.send(()).unwrap();
            // Long enough for the caller to be waiting for this `b`.
            thread::sleep(Duration::from_millis(20));
            let ((), inner) = pool.fork_join(
                // Long enough for a waiting caller to take the inner `b`,
                // if it would.
                || thread::sleep(Duration::from_millis(20)),
                || {
                    assert_eq!(pool.apply_async(|| 3, ()).get().unwrap(), 3);
                    thread::current().id()
                },
            );
            inner
        },
    );
    assert_ne!(inner_b_thread, caller, "the inner b ran on the worker");
}

//! Loom models of whole pools: a blocking call and the drop that joins a
//! sleeping worker, submissions racing `close`, and the nested call. The
//! models of the pieces (the latch, the queue's sleep protocol, the feed)
//! sit next to them in `src/`, where they can reach private items.
//!
//! Under loom's futex model a sleeper that is never woken deadlocks the
//! model, and every access to an `UnsafeCell` is checked against
//! happens-before, so these models catch both a lost wake-up and a missing
//! ordering.
#![cfg(loom)]

mod common;

use std::sync::atomic::Ordering::Relaxed;

use weft_futex::atomic::AtomicUsize;
use weft_futex::loom::{self, thread};
use weft_futex::sync::Arc;
use weft_pool::Pool;

use common::{apply_async_racing_a_close, map_racing_a_close};

/// Runs a model of three busy threads (a whole two-worker pool) with at
/// most two preemptions: with CI's three, each takes about a minute, while
/// two finish in seconds and still explore every preemption pattern of
/// two (the ones these races need: one to stop a thread between its check
/// and its sleep, one to run the other side in between).
fn model_two_preemptions(f: impl Fn() + Sync + Send + 'static) {
    let mut builder = loom::model::Builder::new();
    builder.preemption_bound = Some(builder.preemption_bound.map_or(2, |b| b.min(2)));
    builder.check(f);
}

/// A whole pool of one worker: a blocking `apply` from outside, then the
/// drop, which must join a worker that may be asleep.
#[test]
fn apply_returns_the_tasks_value_and_the_drop_joins_a_sleeping_worker() {
    loom::model(|| {
        let pool = Pool::new(1);
        let shared = Arc::new(AtomicUsize::new(0));
        let seen = shared.clone();
        let value = pool.apply(
            move || {
                seen.store(1, Relaxed);
                7
            },
            (),
        );
        assert_eq!(value, 7);
        // The latch ordered the task's store before our load.
        assert_eq!(shared.load(Relaxed), 1);
        drop(pool);
    });
}

/// An async task submitted just before the pool is dropped still runs, and
/// its handle outlives the pool.
#[test]
fn an_async_task_submitted_before_the_drop_still_runs() {
    loom::model(|| {
        let pool = Pool::new(1);
        let result = pool.apply_async(|| 7, ());
        drop(pool);
        assert!(result.ready(), "the drop waited for the queued task");
        assert_eq!(result.get().unwrap(), 7);
    });
}

/// An async task racing a `close` from another thread: the close never
/// loses accepted work, and the getter is woken.
#[test]
fn a_close_never_loses_an_accepted_async_task() {
    loom::model(|| {
        let pool = Arc::new(Pool::new(1));
        let result = pool.apply_async(|| 3, ());
        let closer = {
            let pool = pool.clone();
            thread::spawn(move || pool.close())
        };
        assert_eq!(result.get().unwrap(), 3);
        closer.join().unwrap();
    });
}

/// An `apply_async` racing a `close` from another thread, on a pool of one
/// worker that may be asleep: the submission is either accepted, and then
/// its task runs exactly once and its getter is woken, or refused with
/// "pool is closed", and then the task never runs. Dropping the pool joins
/// the worker either way, so nobody sleeps forever.
#[test]
fn an_apply_async_racing_a_close_runs_once_or_is_refused() {
    model_two_preemptions(|| {
        let pool = Arc::new(Pool::new(1));
        let closer = {
            let pool = pool.clone();
            thread::spawn(move || pool.close())
        };
        let runs = Arc::new(AtomicUsize::new(0));
        let accepted = apply_async_racing_a_close(&pool, &runs, &"loom");
        closer.join().unwrap();
        drop(pool);
        // The join of the worker orders its increment before this load.
        assert_eq!(runs.load(Relaxed), usize::from(accepted));
    });
}

/// A blocking `map` from outside racing a `close`: accepted, it returns
/// every result (its ticket runs before the worker may exit); refused, it
/// raises "pool is closed" and nothing ran.
#[test]
fn a_blocking_map_racing_a_close_returns_every_result_or_is_refused() {
    model_two_preemptions(|| {
        let pool = Arc::new(Pool::new(1));
        let closer = {
            let pool = pool.clone();
            thread::spawn(move || pool.close())
        };
        map_racing_a_close(&pool, &"loom");
        closer.join().unwrap();
    });
}

/// A blocking `map` from outside on two workers: two tickets, two chunks
/// fed one after the other (the array's size hint is exact), results back
/// in order through the latch.
#[test]
fn a_fed_map_on_two_workers_returns_its_results_in_order() {
    model_two_preemptions(|| {
        let pool = Pool::new(2);
        assert_eq!(pool.map_chunked(|x: usize| x + 1, [1, 2], 1), [2, 3]);
    });
}

/// `map_slice` on two workers: two tickets claim the two chunks of a
/// borrowed slice and read its elements in place; the results come back in
/// order through the latch, and the borrow ends with the call.
#[test]
fn map_slice_on_two_workers_returns_its_results_in_order() {
    model_two_preemptions(|| {
        let pool = Pool::new(2);
        let data = vec![1usize, 2];
        assert_eq!(pool.map_slice_chunked(|x| x + 1, &data, 1), [2, 3]);
        drop(data);
    });
}

/// A blocking `map` made inside a task on a two-worker pool: the calling
/// worker claims chunks itself, pushes one ticket for the idle worker, and
/// takes it back if nobody popped it.
#[test]
fn a_map_inside_a_task_completes() {
    model_two_preemptions(|| {
        let pool = Arc::new(Pool::new(2));
        let inner = pool.clone();
        let result = pool.apply_async(move || inner.map_chunked(|x: usize| x * 2, [1, 2], 1), ());
        assert_eq!(result.get().unwrap(), [2, 4]);
    });
}

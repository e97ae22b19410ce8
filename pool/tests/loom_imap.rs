//! Loom models of `imap`'s window on whole pools of one worker: the
//! consumer pulling and submitting chunks, the worker finishing them, and
//! the consumer waiting for the next result. (Under loom an imap keeps two
//! chunks in flight, so three items make it refill its window.) Chunks
//! finishing out of order on two threads are modelled without a pool, in
//! `src/imap/shared.rs`: with one, three busy threads take minutes.
//!
//! Under loom's futex model a consumer that is never woken deadlocks the
//! model, and loom reports an `Arc` that is never freed, so these models
//! catch a lost wake-up, a result delivered twice or never, and a drop
//! that leaks the shared state.
#![cfg(loom)]

use std::sync::atomic::Ordering::Relaxed;

use weft_futex::atomic::AtomicUsize;
use weft_futex::loom;
use weft_futex::sync::Arc;
use weft_pool::Pool;

/// Runs a model with at most two preemptions (see `loom_pool.rs`): the
/// window's refill makes the models with three items long.
fn model_two_preemptions(f: impl Fn() + Sync + Send + 'static) {
    let mut builder = loom::model::Builder::new();
    builder.preemption_bound = Some(builder.preemption_bound.map_or(2, |b| b.min(2)));
    builder.check(f);
}

/// One worker runs the chunks while the consumer refills the window and
/// sleeps on the next result: each result comes once, in order.
#[test]
fn imap_hands_out_every_result_once_in_order() {
    model_two_preemptions(|| {
        let pool = Pool::new(1);
        let results: Vec<u32> = pool
            .imap(|x: u32| x + 1, 0..3)
            .map(Result::unwrap)
            .collect();
        assert_eq!(results, [1, 2, 3]);
    });
}

/// The same with `imap_unordered`: each result once, whatever the order.
#[test]
fn imap_unordered_hands_out_every_result_once() {
    model_two_preemptions(|| {
        let pool = Pool::new(1);
        let mut results: Vec<u32> = pool
            .imap_unordered(|x: u32| x + 1, 0..3)
            .map(Result::unwrap)
            .collect();
        results.sort_unstable();
        assert_eq!(results, [1, 2, 3]);
    });
}

/// A value that counts its drops.
struct Counted(Arc<AtomicUsize>);

impl Drop for Counted {
    fn drop(&mut self) {
        self.0.fetch_add(1, Relaxed);
    }
}

/// Dropping the iterator after one result, while the other chunk in flight
/// may be queued, running or finished: that chunk still runs, its result
/// is dropped, and the shared state is freed (loom reports a leaked `Arc`).
#[test]
fn dropping_the_iterator_midway_drops_the_late_results_and_frees_everything() {
    loom::model(|| {
        let pool = Pool::new(1);
        let made = Arc::new(AtomicUsize::new(0));
        let dropped = Arc::new(AtomicUsize::new(0));
        let f = {
            let (made, dropped) = (made.clone(), dropped.clone());
            move |_: u32| {
                made.fetch_add(1, Relaxed);
                Counted(dropped.clone())
            }
        };
        let mut results = pool.imap(f, 0..3);
        drop(results.next().unwrap().unwrap());
        drop(results);
        // The join waits for the chunk in flight.
        drop(pool);
        assert_eq!(made.load(Relaxed), 2, "the window's two chunks ran");
        assert_eq!(dropped.load(Relaxed), 2, "and both results were dropped");
    });
}

/// Inside a task on a one-worker pool, the consumer takes its tickets back
/// and runs its chunks itself; nobody else could.
#[test]
fn imap_inside_a_task_on_one_worker_runs_its_own_chunks() {
    loom::model(|| {
        let pool = Pool::new(1);
        let sum = pool.apply(
            || {
                pool.imap(|x: u32| x + 1, 0..3)
                    .map(Result::unwrap)
                    .sum::<u32>()
            },
            (),
        );
        assert_eq!(sum, 6);
    });
}

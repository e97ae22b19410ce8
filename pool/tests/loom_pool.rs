//! Loom models of the pool: the completion latch, the job queue's sleep
//! protocol, submit-versus-shutdown, and small whole pools.
//!
//! Under loom's futex model a sleeper that is never woken deadlocks the
//! model, and every access to an `UnsafeCell` is checked against
//! happens-before, so these models catch both a lost wake-up and a missing
//! ordering.
#![cfg(loom)]

use std::panic::{self, AssertUnwindSafe};
use std::sync::Once;
use std::sync::atomic::Ordering::Relaxed;

use weft_futex::UnsafeCell;
use weft_futex::atomic::AtomicUsize;
use weft_futex::loom::{self, sync::Arc, thread};
use weft_pool::Pool;
use weft_pool::internals::{CountLatch, Feed, Injector};

/// A latch and one result cell per job: the jobs write their cell and
/// count down; the waiter reads every cell after `wait`.
struct Call {
    latch: CountLatch,
    results: Vec<UnsafeCell<usize>>,
}

fn latch_with_jobs(jobs: usize) {
    loom::model(move || {
        let call = Arc::new(Call {
            latch: CountLatch::new(jobs),
            results: (0..jobs).map(|_| UnsafeCell::new(0)).collect(),
        });
        let handles: Vec<_> = (0..jobs)
            .map(|i| {
                let call = call.clone();
                thread::spawn(move || {
                    // SAFETY: cell `i` is this job's alone until it counts
                    // down.
                    call.results[i].with_mut(|r| unsafe { *r = i + 1 });
                    // SAFETY: the `Arc` keeps the latch alive; one count.
                    unsafe { CountLatch::count_down(&call.latch, 1) };
                })
            })
            .collect();
        call.latch.wait();
        assert!(call.latch.is_done());
        for (i, cell) in call.results.iter().enumerate() {
            // SAFETY: the latch is open, so every job is done with its
            // cell (loom checks that this read happens after the write).
            assert_eq!(cell.with(|r| unsafe { *r }), i + 1);
        }
        for h in handles {
            h.join().unwrap();
        }
    });
}

#[test]
fn latch_one_job() {
    latch_with_jobs(1);
}

#[test]
fn latch_two_jobs() {
    latch_with_jobs(2);
}

/// Three jobs racing to count down, and the waiter's sleep: only the lost
/// wake-up is checked here (no result cells), to keep the model small.
#[test]
fn latch_three_jobs() {
    loom::model(|| {
        let latch = Arc::new(CountLatch::new(3));
        let jobs: Vec<_> = (0..3)
            .map(|_| {
                let latch = latch.clone();
                // SAFETY: the `Arc` keeps the latch alive; one count each.
                thread::spawn(move || unsafe { CountLatch::count_down(&*latch, 1) })
            })
            .collect();
        latch.wait();
        for job in jobs {
            job.join().unwrap();
        }
    });
}

/// The waiter retires a job itself (a ticket taken back from the queue)
/// while another job counts down.
#[test]
fn latch_waiter_retires_a_job() {
    loom::model(|| {
        let latch = Arc::new(CountLatch::new(2));
        let job = {
            let latch = latch.clone();
            // SAFETY: the `Arc` keeps the latch alive; one count.
            thread::spawn(move || unsafe { CountLatch::count_down(&*latch, 1) })
        };
        // SAFETY: the other count is ours to retire.
        unsafe { CountLatch::count_down(&*latch, 1) };
        latch.wait();
        job.join().unwrap();
    });
}

/// A consumer that may be asleep is woken by each push (no close comes to
/// rescue a missed wake).
#[test]
fn injector_push_wakes_a_sleeper() {
    loom::model(|| {
        let queue = Arc::new(Injector::new());
        let consumer = {
            let queue = queue.clone();
            thread::spawn(move || [queue.pop_or_sleep(), queue.pop_or_sleep()])
        };
        assert!(queue.push(1, 1));
        assert!(queue.push(2, 1));
        assert_eq!(consumer.join().unwrap(), [Some(1), Some(2)]);
    });
}

/// Two consumers that may both be asleep and two pushes of one job: each
/// push wakes one sleeper (`wake_one`), and each consumer gets a job.
#[test]
fn injector_single_pushes_wake_two_consumers() {
    loom::model(|| {
        let queue = Arc::new(Injector::new());
        let consumers: Vec<_> = (0..2)
            .map(|_| {
                let queue = queue.clone();
                thread::spawn(move || queue.pop_or_sleep())
            })
            .collect();
        assert!(queue.push(1, 1));
        assert!(queue.push(2, 1));
        let mut got: Vec<_> = consumers.into_iter().map(|c| c.join().unwrap()).collect();
        got.sort();
        assert_eq!(got, [Some(1), Some(2)]);
    });
}

/// Two consumers that may both be asleep and a batch of two jobs: the
/// push must wake both (waking one would leave the other asleep with a job
/// queued), and each gets one job.
#[test]
fn injector_batch_wakes_two_consumers() {
    loom::model(|| {
        let queue = Arc::new(Injector::new());
        let consumers: Vec<_> = (0..2)
            .map(|_| {
                let queue = queue.clone();
                thread::spawn(move || queue.pop_or_sleep())
            })
            .collect();
        assert!(queue.push(7, 2));
        for c in consumers {
            assert_eq!(c.join().unwrap(), Some(7));
        }
    });
}

/// Submit versus shutdown: a push racing a close either is refused or is
/// delivered; never lost, never duplicated, and the consumer always exits.
#[test]
fn injector_submit_vs_shutdown() {
    loom::model(|| {
        let queue = Arc::new(Injector::new());
        let consumer = {
            let queue = queue.clone();
            thread::spawn(move || {
                let mut seen = Vec::new();
                while let Some(job) = queue.pop_or_sleep() {
                    seen.push(job);
                }
                seen
            })
        };
        let closer = {
            let queue = queue.clone();
            thread::spawn(move || queue.close())
        };
        let accepted = queue.push(5, 1);
        assert!(closer.join().unwrap(), "only one close");
        let seen = consumer.join().unwrap();
        assert_eq!(seen, if accepted { vec![5] } else { vec![] });
        assert!(!queue.push(6, 1), "closed for good");
    });
}

/// A whole pool of one worker: a blocking `apply` from outside, then the
/// drop, which must join a worker that may be asleep.
#[test]
fn pool_apply_then_drop() {
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
fn pool_apply_async_then_drop() {
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
fn pool_close_races_async_get() {
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

/// Silences the "pool is closed" panics that the models below expect (one
/// per refused execution), keeping the default report for every other.
fn quiet_refusals() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let default = panic::take_hook();
        panic::set_hook(Box::new(move |info| {
            if info.payload().downcast_ref::<&str>() != Some(&"pool is closed") {
                default(info);
            }
        }));
    });
}

/// Runs `submit` and returns its value, or `None` if the pool refused it
/// with "pool is closed". Any other panic goes on unwinding: loom reports a
/// deadlock by panicking in the blocked thread, and that must reach loom.
fn unless_refused<T>(submit: impl FnOnce() -> T) -> Option<T> {
    match panic::catch_unwind(AssertUnwindSafe(submit)) {
        Ok(value) => Some(value),
        Err(payload) if payload.downcast_ref::<&str>() == Some(&"pool is closed") => None,
        Err(payload) => panic::resume_unwind(payload),
    }
}

/// An `apply_async` racing a `close` from another thread, on a pool of one
/// worker that may be asleep: the submission is either accepted, and then
/// its task runs exactly once and its getter is woken, or refused with
/// "pool is closed", and then the task never runs. Dropping the pool joins
/// the worker either way, so nobody sleeps forever.
#[test]
fn pool_close_races_apply_async() {
    quiet_refusals();
    model_two_preemptions(|| {
        let pool = Arc::new(Pool::new(1));
        let closer = {
            let pool = pool.clone();
            thread::spawn(move || pool.close())
        };
        let runs = Arc::new(AtomicUsize::new(0));
        let counter = runs.clone();
        let submitted =
            unless_refused(|| pool.apply_async(move || counter.fetch_add(1, Relaxed), ()));
        let accepted = submitted.is_some();
        if let Some(result) = submitted {
            assert_eq!(result.get().unwrap(), 0, "the task ran once");
        }
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
fn pool_close_races_a_blocking_map() {
    quiet_refusals();
    model_two_preemptions(|| {
        let pool = Arc::new(Pool::new(1));
        let closer = {
            let pool = pool.clone();
            thread::spawn(move || pool.close())
        };
        let runs = AtomicUsize::new(0);
        let mapped = unless_refused(|| {
            pool.map_chunked(
                |x: usize| {
                    runs.fetch_add(1, Relaxed);
                    x + 1
                },
                [1, 2],
                1,
            )
        });
        if let Some(results) = &mapped {
            assert_eq!(results, &[2, 3]);
        }
        // The latch orders the chunks' increments before this load.
        assert_eq!(runs.load(Relaxed), if mapped.is_some() { 2 } else { 0 });
        closer.join().unwrap();
    });
}

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

/// A fed call's feed: the feeder writes each chunk's cell and publishes it
/// (the last one with the close); each waiter reads the cell of the chunk
/// it waited for, and a waiter for a chunk beyond the close learns that it
/// never comes. Loom checks that every read sees its write and that no
/// waiter sleeps forever.
fn feed_with_waiters(waiting_for: &'static [usize], published: usize) {
    loom::model(move || {
        let shared = Arc::new((Feed::new(), [UnsafeCell::new(0), UnsafeCell::new(0)]));
        let handles: Vec<_> = waiting_for
            .iter()
            .map(|&i| {
                let shared = shared.clone();
                thread::spawn(move || {
                    let (feed, cells) = &*shared;
                    if feed.wait_for(i) {
                        assert!(i < published, "chunk {i} was never published");
                        // SAFETY: the feeder wrote this cell before
                        // publishing it and never touches it again.
                        assert_eq!(cells[i].with(|c| unsafe { *c }), i + 1);
                    } else {
                        assert!(i >= published, "chunk {i} was published");
                    }
                })
            })
            .collect();
        let (feed, cells) = &*shared;
        for (i, cell) in cells.iter().enumerate().take(published) {
            // SAFETY: unpublished cells are the feeder's alone.
            cell.with_mut(|c| unsafe { *c = i + 1 });
            if i + 1 < published {
                feed.publish(1);
            } else {
                feed.close(1);
            }
        }
        if published == 0 {
            feed.close(0);
        }
        for h in handles {
            h.join().unwrap();
        }
        assert_eq!(feed.published(), published);
    });
}

#[test]
fn feed_two_waiters_two_chunks() {
    feed_with_waiters(&[0, 1], 2);
}

#[test]
fn feed_two_waiters_for_the_second_chunk() {
    feed_with_waiters(&[1, 1], 2);
}

#[test]
fn feed_closed_short_of_a_waiter() {
    feed_with_waiters(&[0, 1], 1);
}

#[test]
fn feed_closed_empty() {
    feed_with_waiters(&[0, 1], 0);
}

/// A blocking `map` from outside on two workers: two tickets, two chunks
/// fed one after the other (the array's size hint is exact), results back
/// in order through the latch.
#[test]
fn pool_map_on_two_workers() {
    model_two_preemptions(|| {
        let pool = Pool::new(2);
        assert_eq!(pool.map_chunked(|x: usize| x + 1, [1, 2], 1), [2, 3]);
    });
}

/// `map_slice` on two workers: two tickets claim the two chunks of a
/// borrowed slice and read its elements in place; the results come back in
/// order through the latch, and the borrow ends with the call.
#[test]
fn pool_map_slice_on_two_workers() {
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
fn pool_nested_map() {
    model_two_preemptions(|| {
        let pool = Arc::new(Pool::new(2));
        let inner = pool.clone();
        let result = pool.apply_async(move || inner.map_chunked(|x: usize| x * 2, [1, 2], 1), ());
        assert_eq!(result.get().unwrap(), [2, 4]);
    });
}

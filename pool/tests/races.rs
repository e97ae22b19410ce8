//! The races of `loom_pool.rs` in which a pool's `close` races a
//! submission, run with real threads: accepted work runs exactly once and
//! its caller is woken; refused work raises "pool is closed" and never
//! runs. Round after round (see `weft_testkit::races`), the closer pauses
//! first, so that the worker and the caller are asleep when it closes, or
//! the submitter does, so that the close usually comes first, or the two
//! start together.
#![cfg(not(loom))]

use std::panic::{self, AssertUnwindSafe, resume_unwind};
use std::sync::atomic::AtomicUsize;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::{Arc, Once};
use std::thread;

use weft_pool::Pool;
use weft_testkit::races::{pause_if, rounds};

/// An `apply_async` racing a `close` from another thread, on a pool of one
/// worker that may be asleep: accepted, its task runs exactly once and its
/// getter is woken; refused with "pool is closed", the task never runs.
/// Dropping the pool joins the worker either way.
#[test]
fn pool_close_races_apply_async() {
    rounds("pool_close_races_apply_async", |round| {
        let pool = Pool::new(1);
        let runs = Arc::new(AtomicUsize::new(0));
        let accepted = thread::scope(|t| {
            t.spawn(|| {
                pause_if(round % 3 == 1);
                pool.close();
            });
            pause_if(round % 3 == 2);
            let counter = runs.clone();
            let submitted =
                unless_refused(|| pool.apply_async(move || counter.fetch_add(1, Relaxed), ()));
            let accepted = submitted.is_some();
            if let Some(result) = submitted {
                assert_eq!(result.get().unwrap(), 0, "round {round}: the task ran once");
            }
            accepted
        });
        drop(pool);
        // The join of the worker orders its increment before this load.
        assert_eq!(
            runs.load(Relaxed),
            usize::from(accepted),
            "round {round}: accepted {accepted}"
        );
    });
}

/// A blocking `map` from outside racing a `close` on a pool of one worker:
/// accepted, it returns every result, each item mapped once; refused, it
/// raises "pool is closed" and nothing ran.
#[test]
fn pool_close_races_a_blocking_map() {
    rounds("pool_close_races_a_blocking_map", |round| {
        let pool = Pool::new(1);
        let runs = AtomicUsize::new(0);
        let mapped = thread::scope(|t| {
            t.spawn(|| {
                pause_if(round % 3 == 1);
                pool.close();
            });
            pause_if(round % 3 == 2);
            unless_refused(|| {
                pool.map_chunked(
                    |x: usize| {
                        runs.fetch_add(1, Relaxed);
                        x + 1
                    },
                    [1, 2],
                    1,
                )
            })
        });
        if let Some(results) = &mapped {
            assert_eq!(results, &[2, 3], "round {round}");
        }
        // The latch orders the chunks' increments before this load.
        assert_eq!(
            runs.load(Relaxed),
            if mapped.is_some() { 2 } else { 0 },
            "round {round}: mapped {mapped:?}"
        );
        drop(pool);
    });
}

/// Runs `submit` and returns its value, or `None` if the pool refused it
/// with "pool is closed". Any other panic goes on unwinding.
fn unless_refused<T>(submit: impl FnOnce() -> T) -> Option<T> {
    quiet_refusals();
    match panic::catch_unwind(AssertUnwindSafe(submit)) {
        Ok(value) => Some(value),
        Err(payload) if payload.downcast_ref::<&str>() == Some(&"pool is closed") => None,
        Err(payload) => resume_unwind(payload),
    }
}

/// Silences the "pool is closed" panics that the tests expect (one per
/// refused submission), keeping the default report for every other.
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

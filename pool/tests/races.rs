//! The races of `loom_pool.rs` in which a pool's `close` races a
//! submission, run with real threads: accepted work runs exactly once and
//! its caller is woken; refused work raises "pool is closed" and never
//! runs. Round after round (see `weft_testkit::races`), the closer pauses
//! first, so that the worker and the caller are asleep when it closes, or
//! the submitter does, so that the close usually comes first, or the two
//! start together.
#![cfg(not(loom))]

mod common;

use std::sync::Arc;
use std::sync::atomic::AtomicUsize;
use std::sync::atomic::Ordering::Relaxed;
use std::thread;

use weft_pool::Pool;
use weft_testkit::races::{pause_if, rounds};

use common::{apply_async_racing_a_close, map_racing_a_close};

/// An `apply_async` racing a `close` from another thread, on a pool of one
/// worker that may be asleep: accepted, its task runs exactly once and its
/// getter is woken; refused with "pool is closed", the task never runs.
/// Dropping the pool joins the worker either way.
#[test]
fn an_apply_async_racing_a_close_runs_once_or_is_refused() {
    rounds(
        "an_apply_async_racing_a_close_runs_once_or_is_refused",
        |round| {
            let pool = Pool::new(1);
            let runs = Arc::new(AtomicUsize::new(0));
            let accepted = thread::scope(|t| {
                t.spawn(|| {
                    pause_if(round % 3 == 1);
                    pool.close();
                });
                pause_if(round % 3 == 2);
                apply_async_racing_a_close(&pool, &runs, &format_args!("round {round}"))
            });
            drop(pool);
            // The join of the worker orders its increment before this load.
            assert_eq!(
                runs.load(Relaxed),
                usize::from(accepted),
                "round {round}: accepted {accepted}"
            );
        },
    );
}

/// A blocking `map` from outside racing a `close` on a pool of one worker:
/// accepted, it returns every result, each item mapped once; refused, it
/// raises "pool is closed" and nothing ran.
#[test]
fn a_blocking_map_racing_a_close_returns_every_result_or_is_refused() {
    rounds(
        "a_blocking_map_racing_a_close_returns_every_result_or_is_refused",
        |round| {
            let pool = Pool::new(1);
            thread::scope(|t| {
                t.spawn(|| {
                    pause_if(round % 3 == 1);
                    pool.close();
                });
                pause_if(round % 3 == 2);
                map_racing_a_close(&pool, &format_args!("round {round}"));
            });
            drop(pool);
        },
    );
}

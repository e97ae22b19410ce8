//! What the pool's test files share: the expected panics and how to keep
//! them quiet, the hang deadline, and the races of a submission with
//! `close` that both `loom_pool.rs` and `races.rs` run.
//!
//! Each test file uses a part of this module; the rest is dead code there.
#![allow(dead_code)]

use std::any::Any;
use std::fmt::Display;
use std::panic::{self, AssertUnwindSafe};
use std::sync::Once;
use std::sync::atomic::Ordering::Relaxed;
use std::time::Duration;

use weft_futex::atomic::AtomicUsize;
use weft_futex::sync::Arc;
use weft_pool::Pool;

/// Panics whose message starts with this are expected by the tests and
/// not printed.
pub(crate) const EXPECTED: &str = "expected panic";

/// What a refused submission raises.
pub(crate) const CLOSED: &str = "pool is closed";

/// How long a test that could hang (a lost wake-up) may run before its
/// [`weft_testkit::Watchdog`] fails it: far longer than any test needs,
/// under Miri too, whose clock is virtual and slow.
pub(crate) const HANG: Duration = Duration::from_secs(if cfg!(miri) { 3600 } else { 120 });

/// A panic payload that is not a string: a task's own payload, to check
/// that payloads travel unchanged and cannot be mistaken for the message
/// of a panicking `Drop`.
#[derive(Debug, PartialEq)]
pub(crate) struct Custom(pub(crate) usize);

/// The text of a `panic!` payload, if it is one.
fn message(payload: &(dyn Any + Send)) -> Option<&str> {
    payload
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
}

/// Adds to the panic hook: panics whose payload `expected` accepts are not
/// printed; every other one still gets the report it got before.
fn keep_quiet_about(expected: fn(&(dyn Any + Send)) -> bool) {
    let report = panic::take_hook();
    panic::set_hook(Box::new(move |info| {
        if !expected(info.payload()) {
            report(info);
        }
    }));
}

/// Silences the expected panics (a [`Custom`] payload, or a message that
/// starts with [`EXPECTED`]); there are thousands.
pub(crate) fn quiet_expected_panics() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        keep_quiet_about(|payload| {
            payload.is::<Custom>() || message(payload).is_some_and(|m| m.starts_with(EXPECTED))
        });
    });
}

/// Silences the "pool is closed" panics of the races with `close` (one per
/// refused submission).
pub(crate) fn quiet_refusals() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| keep_quiet_about(|payload| message(payload) == Some(CLOSED)));
}

/// Runs `submit` and returns its value, or `None` if the pool refused it
/// with "pool is closed". Any other panic goes on unwinding: loom reports a
/// deadlock by panicking in the blocked thread, and that must reach loom.
pub(crate) fn unless_refused<T>(submit: impl FnOnce() -> T) -> Option<T> {
    quiet_refusals();
    match panic::catch_unwind(AssertUnwindSafe(submit)) {
        Ok(value) => Some(value),
        Err(payload) if message(&*payload) == Some(CLOSED) => None,
        Err(payload) => panic::resume_unwind(payload),
    }
}

/// The submission side of an `apply_async` racing a `close`: submits a
/// task that counts its runs in `runs`, and returns whether the pool
/// accepted it. Accepted, its getter must be woken, and the task must have
/// run once. (`runs` stays at zero for a refused task; the caller checks
/// that once the pool is joined.)
pub(crate) fn apply_async_racing_a_close(
    pool: &Pool,
    runs: &Arc<AtomicUsize>,
    context: &dyn Display,
) -> bool {
    let counter = runs.clone();
    let submitted = unless_refused(|| pool.apply_async(move || counter.fetch_add(1, Relaxed), ()));
    let accepted = submitted.is_some();
    if let Some(result) = submitted {
        assert_eq!(result.get().unwrap(), 0, "{context}: the task ran once");
    }
    accepted
}

/// The submission side of a blocking `map` racing a `close`: maps
/// `x + 1` over `[1, 2]` in chunks of one. Accepted, it returns every
/// result, each item mapped once; refused with "pool is closed", nothing
/// ran.
pub(crate) fn map_racing_a_close(pool: &Pool, context: &dyn Display) {
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
        assert_eq!(results, &[2, 3], "{context}");
    }
    // The latch orders the chunks' increments before this load.
    assert_eq!(
        runs.load(Relaxed),
        if mapped.is_some() { 2 } else { 0 },
        "{context}: mapped {mapped:?}"
    );
}

//! Panics of user code that the pool does not hand to a caller: the
//! values it throws away, the function it drops after a call, and the
//! calls it refuses.
//!
//! A task's own panic goes back to its caller (see the crate's design
//! note). Besides that, the pool drops values on its own: a failed call's
//! results, a failed chunk's leftover items, a refused call's function and
//! input, the results of a `map_async` that nobody took, and every call's
//! function once the call is over. Each of them is dropped inside
//! `catch_unwind`, one value at a time, and a panic of its `Drop` is passed
//! over: it never replaces the task's payload, and no value is dropped
//! while another panic unwinds, which would abort the process.

use std::any::Any;
use std::mem;
use std::panic::{self, AssertUnwindSafe};
use std::ptr;
use std::thread;

/// A caught panic's payload.
pub(crate) type Payload = Box<dyn Any + Send>;

/// Drops a value that user code may have given a panicking `Drop`, without
/// letting the panic out.
pub(crate) fn drop_quietly<T>(value: T) {
    let _ = panic::catch_unwind(AssertUnwindSafe(move || drop(value)));
}

/// Drops the values in `slice` one by one, each inside `catch_unwind`: a
/// panic of a value's `Drop` is passed over, and the values after it are
/// still dropped. One `drop_in_place` of the whole slice would go on
/// dropping the rest while the first panic unwinds, and a second panicking
/// `Drop` would then abort the process.
///
/// # Safety
///
/// `slice` holds initialized values that the caller owns and gives up.
pub(crate) unsafe fn drop_quietly_in_place<T>(slice: *mut [T]) {
    if !mem::needs_drop::<T>() {
        return;
    }
    let first = slice.cast::<T>();
    for i in 0..slice.len() {
        // SAFETY: value `i` is initialized and the caller's to give up;
        // each is dropped once.
        let _ = panic::catch_unwind(AssertUnwindSafe(|| unsafe {
            ptr::drop_in_place(first.add(i));
        }));
    }
}

/// Drops `values` as [`drop_quietly_in_place`] does, and frees their
/// buffer.
pub(crate) fn drop_vec_quietly<T>(mut values: Vec<T>) {
    let slice = ptr::slice_from_raw_parts_mut(values.as_mut_ptr(), values.len());
    // SAFETY: with the length set to zero the `Vec` no longer owns its
    // values, so they are ours to drop; it still frees the buffer.
    unsafe {
        values.set_len(0);
        drop_quietly_in_place(slice);
    }
}

/// Drops a call's outcome, results or payload, quietly.
pub(crate) fn drop_outcome_quietly<R>(outcome: Result<Vec<R>, Payload>) {
    match outcome {
        Ok(results) => drop_vec_quietly(results),
        Err(payload) => drop_quietly(payload),
    }
}

/// Calls `call` with `f`, then drops `f`, each inside `catch_unwind`, and
/// returns the value or the call's panic. After a call that panicked, a
/// panic of `f`'s `Drop` is passed over; after a call that returned, it is
/// the outcome, and the value goes to `discard` (which drops it quietly).
/// Dropping `f` inside the call's `catch_unwind` would drop it, or the
/// value, while a panic unwinds.
pub(crate) fn call_then_drop<F, T>(
    f: F,
    call: impl FnOnce(&F) -> T,
    discard: impl FnOnce(T),
) -> thread::Result<T> {
    let outcome = panic::catch_unwind(AssertUnwindSafe(|| call(&f)));
    let dropped = panic::catch_unwind(AssertUnwindSafe(move || drop(f)));
    match (outcome, dropped) {
        (Ok(value), Err(payload)) => {
            discard(value);
            Err(payload)
        }
        (outcome, dropped) => {
            drop_quietly(dropped);
            outcome
        }
    }
}

/// Raises the panic for work submitted to a closed pool.
#[cold]
#[track_caller]
pub(crate) fn closed() -> ! {
    panic!("pool is closed")
}

/// Refuses a call on a closed pool: drops its function and its input, each
/// quietly, and then raises "pool is closed".
#[cold]
#[track_caller]
pub(crate) fn refuse<F, I>(f: F, input: I) -> ! {
    drop_quietly(f);
    drop_quietly(input);
    closed()
}

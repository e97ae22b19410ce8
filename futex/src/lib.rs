//! The one place Weft talks to the operating system.
//!
//! Every Weft primitive is a handful of atomic words plus two operations the
//! kernel offers on such a word, the *futex* ("fast userspace mutex"):
//!
//! - [`wait`]`(word, expected)`: sleep while `word` still holds `expected`.
//!   The check and the going-to-sleep are one atomic step inside the kernel,
//!   so a wake that comes after the check cannot be missed.
//! - [`wake_one`]`(word)` / [`wake_all`]`(word)`: wake threads sleeping on
//!   `word`.
//!
//! [`wait_timeout`] adds a deadline. All three are thin: a primitive's fast
//! path never reaches them, and its slow path calls them only when a thread
//! may really be asleep.
//!
//! Around them sit the mechanics every primitive shares, so that each
//! primitive's own file holds only its protocol: [`Deadline`] and
//! [`wait_until`] for timed waits, [`SpinWait`] for backing off.
//!
//! The crate also holds the *facade* ([`atomic`], [`UnsafeCell`],
//! [`sync::Arc`], [`thread`], [`spin_loop`], [`yield_now`],
//! [`const_unless_loom!`]). Weft's crates import these from here, never
//! from `std` directly, so that building with `--cfg loom` swaps every
//! atomic, cell, reference count, thread and both futex operations for
//! [loom](https://docs.rs/loom)'s model at once. Under loom, `wait` and
//! `wake_*` run on a futex model faithful to the kernel's contract (see the
//! `model` module): a primitive that forgets a wake leaves a thread asleep
//! forever, and loom reports the deadlock.
//!
//! # Per operating system
//!
//! Each supported OS gets its kernel's own calls, made directly. Any other
//! target fails to compile, rather than fall back to spinning (`--cfg loom`
//! builds anywhere: the model needs no kernel).
//!
//! | OS | `wait`, `wait_timeout` | `wake_one` / `wake_all` | the timeout, as |
//! |----|------------------------|-------------------------|-----------------|
//! | Linux, Android | `futex(FUTEX_WAIT_BITSET)` | `futex(FUTEX_WAKE)` | an absolute `CLOCK_MONOTONIC` deadline |
//! | FreeBSD | `_umtx_op(UMTX_OP_WAIT_UINT_PRIVATE)` | `_umtx_op(UMTX_OP_WAKE_PRIVATE)` | an absolute `CLOCK_MONOTONIC` deadline in a `_umtx_time` |
//! | Windows | `WaitOnAddress` | `WakeByAddressSingle` / `WakeByAddressAll` | the milliseconds left, rounded up |
//! | macOS 14.4+, iOS 17.4+ | `os_sync_wait_on_address` / `_with_timeout` | `os_sync_wake_by_address_any` / `_all` | the nanoseconds left |
//! | older macOS and iOS | `__ulock_wait(UL_COMPARE_AND_WAIT)` | `__ulock_wake` | the microseconds left, rounded up |
//!
//! Every one of them sleeps on the word itself, process-private. The timed
//! wait needs these calls anyway, and `wait` is the same call without a
//! deadline, so each OS's four operations sit together in one file
//! (`src/os/`), with one rule for errors: a timeout or an interruption is
//! handled, anything else aborts (see [`wait_timeout`]). The `atomic-wait`
//! crate makes the same untimed calls on Linux, FreeBSD and Windows, but on
//! macOS it waits through libc++'s `std::atomic<T>::wait`, which sleeps on a
//! counter in a table of its own rather than on the word: a direct timed
//! wait on the word would not see its wakes, and Miri cannot run libc++.
//!
//! On macOS and iOS the `os_sync` functions are the public interface and
//! are used where they exist, found by name at run time with `dlsym` and
//! cached in an atomic pointer, as std's `weak!` does (naming them outright
//! would stop the program from loading on an older OS). Before that,
//! `__ulock_wait` and `__ulock_wake` are the private calls underneath, the
//! ones libc++ and libdispatch use; std avoids them because App Store review
//! refuses private interfaces.
//!
//! Under Miri every call above but `__ulock_*` runs on Miri's model of it,
//! so Weft's tests run under Miri for each OS's targets (on Apple's, Miri's
//! `dlsym` finds the `os_sync` functions).
//!
//! # When to use this crate
//!
//! Only to build a blocking primitive. To *use* one, pick
//! `weft-mutex`, `weft-semaphore`, `weft-barrier`, `weft-queue` or
//! `weft-pool`.
//!
//! # Example
//!
//! A one-shot flag: one thread sleeps until another sets it.
//!
//! ```
//! use std::sync::atomic::Ordering::{Acquire, Release};
//! use weft_futex::atomic::AtomicU32;
//!
//! let flag = AtomicU32::new(0);
//! std::thread::scope(|s| {
//!     s.spawn(|| {
//!         // Acquire: pairs with the Release store below.
//!         while flag.load(Acquire) == 0 {
//!             weft_futex::wait(&flag, 0);
//!         }
//!     });
//!     // Release: publishes everything written before the flag.
//!     flag.store(1, Release);
//!     weft_futex::wake_one(&flag);
//! });
//! ```

mod cell;
mod deadline;
#[cfg(loom)]
mod model;
#[cfg(not(loom))]
mod os;
mod spin;

pub use cell::UnsafeCell;
pub use deadline::{Deadline, wait_until};
#[cfg(loom)]
pub use model::{wait, wait_timeout, wake_all, wake_one};
#[cfg(not(loom))]
pub use os::{wait, wait_timeout, wake_all, wake_one};
pub use spin::SpinWait;

/// The loom crate itself, so that model tests of every Weft crate can reach
/// `loom::model` and `loom::thread` through the one crate that depends on it.
#[cfg(loom)]
pub use loom;

/// Atomic types and fences: `std`'s normally, loom's under `--cfg loom`.
///
/// `Ordering` is always `std`'s (loom uses it too).
pub mod atomic {
    pub use std::sync::atomic::Ordering;

    #[cfg(loom)]
    pub use loom::sync::atomic::{AtomicBool, AtomicPtr, AtomicU32, AtomicU64, AtomicUsize, fence};
    #[cfg(not(loom))]
    pub use std::sync::atomic::{AtomicBool, AtomicPtr, AtomicU32, AtomicU64, AtomicUsize, fence};
}

/// Shared ownership: `std`'s [`Arc`](std::sync::Arc) normally, loom's
/// under `--cfg loom`, so that loom checks the last owner's drop too.
pub mod sync {
    #[cfg(loom)]
    pub use loom::sync::Arc;
    #[cfg(not(loom))]
    pub use std::sync::Arc;
}

/// Threads: `std::thread` normally, `loom::thread` under `--cfg loom`
/// (whose threads the model schedules), with the matching `thread_local!`.
///
/// Only what both provide is used through here: `spawn`, `JoinHandle`,
/// `current`, `yield_now` and `thread_local!` without a `const` block.
pub mod thread {
    #[cfg(loom)]
    pub use loom::thread::*;
    #[cfg(loom)]
    pub use loom::thread_local;
    #[cfg(not(loom))]
    pub use std::thread::*;
    #[cfg(not(loom))]
    pub use std::thread_local;
}

/// Defines a function that is `const` normally and not under `--cfg loom`.
///
/// A constructor such as `Mutex::new` should be `const`, so that the
/// primitive can sit in a `static`; loom's atomics and cells register with
/// the model when created, so their `new` is not `const`, and neither can
/// a constructor that calls it be. This writes both from one body:
///
/// ```
/// use weft_futex::atomic::AtomicU32;
///
/// pub struct Flag(AtomicU32);
///
/// impl Flag {
///     weft_futex::const_unless_loom! {
///         /// A flag, not yet set.
///         pub fn new() -> Self {
///             Self(AtomicU32::new(0))
///         }
///     }
/// }
///
/// static READY: Flag = Flag::new();
/// # let _ = &READY;
/// ```
#[macro_export]
macro_rules! const_unless_loom {
    (
        $(#[$attr:meta])*
        $vis:vis fn $name:ident($($args:tt)*) -> $ret:ty $body:block
    ) => {
        $(#[$attr])*
        #[cfg(not(loom))]
        #[inline]
        $vis const fn $name($($args)*) -> $ret $body

        $(#[$attr])*
        #[cfg(loom)]
        $vis fn $name($($args)*) -> $ret $body
    };
}

/// Hints to the CPU that the caller is in a spin loop.
///
/// Under loom this is loom's `spin_loop`, which lets the model schedule
/// another thread.
#[inline]
pub fn spin_loop() {
    #[cfg(loom)]
    loom::hint::spin_loop();
    #[cfg(not(loom))]
    std::hint::spin_loop();
}

/// Gives the rest of the time slice to another thread.
#[inline]
pub fn yield_now() {
    #[cfg(loom)]
    loom::thread::yield_now();
    #[cfg(not(loom))]
    std::thread::yield_now();
}

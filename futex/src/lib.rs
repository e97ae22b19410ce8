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
//! The crate also holds the *atomics facade* ([`atomic`], [`UnsafeCell`],
//! [`spin_loop`], [`yield_now`]). Weft's crates import their atomics from
//! here, never from `std` directly, so that building with `--cfg loom` swaps
//! every atomic, every cell and both futex operations for
//! [loom](https://docs.rs/loom)'s model at once. Under loom, `wait` and
//! `wake_*` run on a futex model faithful to the kernel's contract (see the
//! `model` module): a primitive that forgets a wake leaves a thread asleep
//! forever, and loom reports the deadlock.
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
#[cfg(loom)]
mod model;
#[cfg(not(loom))]
mod os;

pub use cell::UnsafeCell;
#[cfg(loom)]
pub use model::{wait, wait_timeout, wake_all, wake_one};
#[cfg(not(loom))]
pub use os::{thread_cpu_time, wait, wait_timeout, wake_all, wake_one};

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

/// How many rounds a primitive may spin before it sleeps: `rounds`
/// normally, and zero under loom.
///
/// Spinning hides lost wake-ups from a model checker: with even one spin
/// round, loom finds an interleaving where the other thread finishes while
/// this one spins, and never explores the one where this thread sleeps and
/// must be woken. So under `--cfg loom` every primitive goes straight to its
/// futex wait.
///
/// ```
/// let mut spins = weft_futex::spin_limit(100);
/// while spins > 0 {
///     weft_futex::spin_loop();
///     spins -= 1;
/// }
/// ```
#[inline]
#[must_use]
pub const fn spin_limit(rounds: u32) -> u32 {
    if cfg!(loom) { 0 } else { rounds }
}

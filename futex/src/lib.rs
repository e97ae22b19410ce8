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
//! [`spin_loop`], [`yield_now`], [`SpinWait`]). Weft's crates import their atomics from
//! here, never from `std` directly, so that building with `--cfg loom` swaps
//! every atomic, every cell and both futex operations for
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

/// The spin-then-sleep schedule every Weft primitive follows before it
/// waits on a futex: rounds of 1, 2, 4 and 8 pause instructions, then up to
/// six yields of the time slice, then give up and sleep.
///
/// Backing off between reads keeps a spinner off the cache line that the
/// thread it waits for is writing; yielding helps when threads outnumber
/// cores and the thread we wait for needs ours. The schedule is close to
/// parking_lot's `SpinWait`.
///
/// Under `--cfg loom` [`spin`](Self::spin) returns `false` at once. Spinning
/// hides lost wake-ups from a model checker: with even one spin round, loom
/// finds an interleaving where the other thread finishes while this one
/// spins, and never explores the one where this thread sleeps and must be
/// woken.
///
/// # Examples
///
/// ```
/// use std::sync::atomic::Ordering::Acquire;
/// use weft_futex::{SpinWait, atomic::AtomicU32};
///
/// fn wait_for_nonzero(word: &AtomicU32) {
///     let mut spin = SpinWait::new();
///     // Acquire: pairs with the writer's Release store.
///     while word.load(Acquire) == 0 {
///         if !spin.spin() {
///             weft_futex::wait(word, 0);
///         }
///     }
/// }
/// # wait_for_nonzero(&AtomicU32::new(1));
/// ```
#[derive(Debug, Default)]
pub struct SpinWait {
    round: u32,
    /// Whole schedules still to run after the current one.
    repeats_left: u32,
}

impl SpinWait {
    /// Rounds of 1, 2, 4 and 8 pauses...
    const PAUSE_ROUNDS: u32 = 4;
    /// ...then this many yields.
    const YIELD_ROUNDS: u32 = 6;

    /// A fresh schedule.
    #[inline]
    #[must_use]
    pub const fn new() -> Self {
        Self::repeated(1)
    }

    /// The schedule run `times` times over (at least once) before
    /// [`spin`](Self::spin) gives up: for a wait that is usually short but
    /// worth catching awake for longer than one schedule, such as a queue
    /// slot or a chunk that the thread on the other core is about to fill.
    #[inline]
    #[must_use]
    pub const fn repeated(times: u32) -> Self {
        Self {
            round: 0,
            repeats_left: times.saturating_sub(1),
        }
    }

    /// Backs off once and returns `true`, or returns `false` when the budget
    /// is spent and the caller should sleep.
    #[inline]
    pub fn spin(&mut self) -> bool {
        if cfg!(loom) {
            return false;
        }
        if self.round == Self::PAUSE_ROUNDS + Self::YIELD_ROUNDS {
            if self.repeats_left == 0 {
                return false;
            }
            self.repeats_left -= 1;
            self.round = 0;
        }
        if self.round < Self::PAUSE_ROUNDS {
            for _ in 0..1u32 << self.round {
                spin_loop();
            }
        } else {
            yield_now();
        }
        self.round += 1;
        true
    }

    /// Starts the current schedule over (repeats already used stay used:
    /// after a sleep, one schedule is enough).
    #[inline]
    pub fn reset(&mut self) {
        self.round = 0;
    }
}

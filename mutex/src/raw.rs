//! The lock itself, without a value: one futex word.
//!
//! [`Mutex<T>`](crate::Mutex) is this lock beside an `UnsafeCell<T>`; with
//! the `lock_api` feature, the same lock is also `lock_api`'s raw mutex.
//!
//! # Implementation
//!
//! This is the third mutex of Ulrich Drepper's paper "Futexes Are Tricky"
//! (2004, revised 2011), the design that Linux's glibc and Rust's own
//! `std::sync::Mutex` use on futex platforms. The whole lock is one
//! `AtomicU32` with three states:
//!
//! ```text
//!   UNLOCKED (0) ──lock, fast path──▶ LOCKED (1)
//!        ▲                               │ another thread wants it
//!        │                               ▼
//!        └───────unlock + wake ◀──── CONTENDED (2): locked, and a thread
//!                                     may be asleep on the word
//! ```
//!
//! **Locking.** The fast path is one compare-and-swap from `UNLOCKED` to
//! `LOCKED`. When it fails, the thread first *spins* a little, but only
//! while the state is `LOCKED` (held, nobody asleep): then the holder is
//! probably running and about to unlock. As soon as the state is
//! `CONTENDED`, somebody already sleeps, the lock is not about to be free,
//! and spinning would only burn the core.
//!
//! **Spinning** reads the word and never writes it: a read keeps the cache
//! line shared, while a failed compare-and-swap would pull it away from the
//! holder. Between reads the spinner *backs off*, with rounds of 1, 2, 4 and
//! 8 pause instructions and then a few `sched_yield`s, before it gives up
//! and sleeps. Backing off is what makes a contended lock fast: a thread
//! that just unlocked can usually lock again at once, with the lock word and
//! the data still in its own cache, instead of every unlock handing both to
//! another core. Yielding matters when threads outnumber cores: the holder
//! may be waiting for a CPU, and a yield gives it one. The schedule is
//! [`SpinWait`]'s, close to parking_lot's; std's futex mutex instead reads the word up
//! to 100 times in a row with one pause each. `BENCHMARKS.md` compares the
//! three under contention.
//!
//! After spinning, the thread swaps the state to `CONTENDED`. If the swap
//! returns `UNLOCKED`, the lock was free and is now ours; we keep it in the
//! `CONTENDED` state because we cannot know whether others still sleep, and
//! a wake too many is harmless while a wake too few is a hang. Otherwise the
//! thread sleeps with `futex_wait(state, CONTENDED)`, and tries again when
//! woken.
//!
//! **Unlocking.** One swap to `UNLOCKED`. Only if the old state was
//! `CONTENDED` can anyone be asleep, and then the unlocker wakes one sleeper.
//! An uncontended lock and unlock therefore never enter the kernel.
//!
//! **Why no wake-up is lost.** A sleeper sets `CONTENDED` *before* it sleeps,
//! and `futex_wait` sleeps only if the word still reads `CONTENDED` at the
//! moment the kernel queues the thread. An unlock between the swap and the
//! sleep changes the word to `UNLOCKED`, so the kernel refuses to sleep and
//! the thread retries; an unlock after the thread is queued sees `CONTENDED`
//! and wakes it. Drepper's paper shows how the obvious two-state version
//! gets exactly this wrong.
//!
//! **Timed locking** is the same slow path with a deadline on each sleep.
//! A deadline that has already passed asks for no wait at all, not even a
//! spin: after the one compare-and-swap, the answer is no.
//!
//! **Fairness.** None: an unlocked mutex goes to whichever thread swaps
//! first, and a running thread usually beats a just-woken one. That keeps
//! the lock busy and fast, at the cost of a possible starvation under
//! constant contention.
//!
//! # Memory ordering
//!
//! The lock's only job for memory is to make everything done inside one
//! critical section visible to the next. Every successful acquisition is an
//! `Acquire` operation (the fast compare-and-swap, the swap to `CONTENDED`)
//! and every unlock is a `Release` swap, so each unlock *happens before* the
//! lock that follows it. The spin loads and the failure orderings are
//! `Relaxed`: they read the state only to decide what to try next, never to
//! enter the critical section. The futex calls themselves order nothing.

use core::fmt;
use std::sync::atomic::Ordering::{Acquire, Relaxed, Release};
use std::time::Duration;

use weft_futex::atomic::AtomicU32;
use weft_futex::{Deadline, SpinWait};

/// Nobody holds the lock.
const UNLOCKED: u32 = 0;
/// Held, and no thread is asleep waiting for it.
const LOCKED: u32 = 1;
/// Held, and a thread may be asleep on the word: unlock must wake one.
const CONTENDED: u32 = 2;

/// A mutual-exclusion lock that protects no value of its own: the lock
/// under [`Mutex`](crate::Mutex), for use with
/// [`lock_api`](https://docs.rs/lock_api).
///
/// `lock_api::Mutex<RawMutex, T>` is a mutex with lock_api's whole surface:
/// guards that [`map`](lock_api::MutexGuard::map) to a part of the value,
/// `Arc`-owned guards ([`lock_arc`](lock_api::Mutex::lock_arc)), and
/// [`try_lock_for`](lock_api::Mutex::try_lock_for) and
/// [`try_lock_until`](lock_api::Mutex::try_lock_until). It locks and
/// unlocks exactly as [`Mutex`](crate::Mutex) does, with the same four bytes
/// and no poisoning. Its guards are not `Send`, like `Mutex`'s.
///
/// Available with the `lock_api` feature, and not under `--cfg loom`:
/// loom's atomics cannot be created in a `const`, so there is no
/// `RawMutex::INIT` to implement lock_api's traits with.
///
/// # Examples
///
/// ```
/// # #[cfg(feature = "lock_api")] {
/// use lock_api::RawMutex as _; // for `RawMutex::INIT`
///
/// type Mutex<T> = lock_api::Mutex<weft_mutex::RawMutex, T>;
///
/// static SCORES: Mutex<Vec<u32>> = Mutex::const_new(weft_mutex::RawMutex::INIT, Vec::new());
///
/// std::thread::scope(|s| {
///     for score in [3, 5] {
///         s.spawn(move || SCORES.lock().push(score));
///     }
/// });
/// let best = lock_api::MutexGuard::map(SCORES.lock(), |scores| {
///     scores.sort();
///     scores.last_mut().unwrap()
/// });
/// assert_eq!(*best, 5);
/// # }
/// ```
#[cfg_attr(not(feature = "lock_api"), allow(unreachable_pub))]
pub struct RawMutex {
    /// `UNLOCKED`, `LOCKED` or `CONTENDED`.
    state: AtomicU32,
}

impl RawMutex {
    weft_futex::const_unless_loom! {
        /// Creates an unlocked mutex.
        pub(crate) fn new() -> Self {
            Self {
                state: AtomicU32::new(UNLOCKED),
            }
        }
    }

    /// Blocks until this thread holds the lock.
    ///
    /// Locking a mutex that the same thread already holds never returns
    /// (there is no owner check).
    #[inline]
    pub(crate) fn lock(&self) {
        // Acquire: pairs with the Release swap in `unlock`, so this critical
        // section sees everything the previous one wrote.
        if self
            .state
            .compare_exchange(UNLOCKED, LOCKED, Acquire, Relaxed)
            .is_err()
        {
            self.lock_contended(Deadline::NEVER);
        }
    }

    /// Takes the lock if it is free right now, without waiting.
    #[inline]
    pub(crate) fn try_lock(&self) -> bool {
        // Acquire: pairs with the Release swap in `unlock`.
        self.state
            .compare_exchange(UNLOCKED, LOCKED, Acquire, Relaxed)
            .is_ok()
    }

    /// Waits at most `timeout` for the lock. A free lock is taken even with
    /// a zero timeout; `false` means the time ran out while another thread
    /// held it.
    #[inline]
    pub(crate) fn try_lock_for(&self, timeout: Duration) -> bool {
        self.try_lock() || self.lock_contended(Deadline::after(timeout))
    }

    /// Whether some thread holds the lock at this instant. The answer may be
    /// stale as soon as it is returned; use it for diagnostics, not for
    /// synchronization.
    #[inline]
    pub(crate) fn is_locked(&self) -> bool {
        self.state.load(Relaxed) != UNLOCKED
    }

    /// Releases the lock, waking one sleeper if there may be any.
    ///
    /// # Safety
    ///
    /// The calling thread holds the lock (its `lock`, or a successful
    /// `try_lock*`, has not yet been matched by an `unlock`).
    #[inline]
    pub(crate) unsafe fn unlock(&self) {
        // Release: pairs with the Acquire of whichever lock comes next,
        // publishing this critical section's writes.
        if self.state.swap(UNLOCKED, Release) == CONTENDED {
            self.wake();
        }
    }

    /// The slow path of locking: spin, then sleep until the lock is ours.
    /// Returns `false` only if `deadline` passed first; one that has
    /// already passed gives up at once, without spinning (for
    /// [`Deadline::NEVER`] this check reads no clock).
    #[cold]
    fn lock_contended(&self, deadline: Deadline) -> bool {
        if deadline.has_passed() {
            return false;
        }
        let mut state = self.spin();

        // The holder left while we spun and nobody sleeps: take it as
        // uncontended.
        if state == UNLOCKED {
            // Acquire: pairs with the Release swap in `unlock`.
            match self
                .state
                .compare_exchange(UNLOCKED, LOCKED, Acquire, Relaxed)
            {
                Ok(_) => return true,
                Err(seen) => state = seen,
            }
        }

        loop {
            // Announce that we are about to sleep. If the lock turns out to
            // be free, the swap took it (in the CONTENDED state, since other
            // sleepers may remain). Skip the write when the word already
            // says CONTENDED.
            // Acquire: pairs with the Release swap in `unlock`.
            if state != CONTENDED && self.state.swap(CONTENDED, Acquire) == UNLOCKED {
                return true;
            }

            // Sleep while the word still says CONTENDED; an unlock in
            // between makes the kernel return at once. On a timeout the
            // word stays CONTENDED: the next unlock makes one wake more than
            // needed, which is harmless.
            if !weft_futex::wait_until(&self.state, CONTENDED, deadline) {
                return false;
            }

            state = self.spin();
        }
    }

    /// Waits a little for a `LOCKED` word to change, and returns the last
    /// state read: `UNLOCKED` if the holder left, `CONTENDED` as soon as
    /// somebody sleeps (then spinning is pointless), or `LOCKED` when the
    /// budget is spent.
    ///
    /// The schedule is [`SpinWait`]'s: short pauses, then a few yields,
    /// re-reading the word (load only) between rounds; see "Spinning" in
    /// the module documentation.
    #[inline]
    fn spin(&self) -> u32 {
        let mut spin = SpinWait::new();
        loop {
            // Relaxed: the value only chooses the next step; the step that
            // takes the lock carries the Acquire.
            let state = self.state.load(Relaxed);
            if state != LOCKED || !spin.spin() {
                return state;
            }
        }
    }

    /// The unlock found CONTENDED: some thread set it before sleeping (or
    /// is about to sleep). One wake is enough: the woken thread takes the
    /// lock, leaves the state CONTENDED (it cannot know whether more sleep),
    /// and its own unlock wakes the next one.
    #[cold]
    fn wake(&self) {
        weft_futex::wake_one(&self.state);
    }
}

/// Shows whether the lock is held. Never blocks.
impl fmt::Debug for RawMutex {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RawMutex")
            .field("locked", &self.is_locked())
            .finish()
    }
}

// lock_api's traits. Each method calls the inherent one above of the same
// name (in a method call an inherent method takes precedence over a
// trait's), so the traits add no code of their own; only `try_lock_until`,
// which Weft's `Mutex` does not offer, puts the timed path together here.

/// The lock is exclusive: every way of taking it moves the word away from
/// `UNLOCKED` with one atomic operation, which only one thread can win
/// until `unlock` stores `UNLOCKED` again. Taking it is `Acquire` and
/// unlocking is `Release`, so each critical section sees the previous
/// one's writes.
// SAFETY: see the doc comment above.
#[cfg(all(feature = "lock_api", not(loom)))]
unsafe impl lock_api::RawMutex for RawMutex {
    const INIT: Self = Self::new();

    /// Not `Send`, like [`MutexGuard`](crate::MutexGuard) and std's guard.
    /// The word records no owner, so unlocking on another thread would be
    /// sound; the bound keeps the guards of the two mutexes alike.
    type GuardMarker = lock_api::GuardNoSend;

    #[inline]
    fn lock(&self) {
        self.lock();
    }

    #[inline]
    fn try_lock(&self) -> bool {
        self.try_lock()
    }

    #[inline]
    unsafe fn unlock(&self) {
        // SAFETY: lock_api's contract for `unlock` is ours: the lock is
        // held in the current context.
        unsafe { self.unlock() }
    }

    #[inline]
    fn is_locked(&self) -> bool {
        self.is_locked()
    }
}

/// The timed forms wait on the futex with a deadline, as
/// [`Mutex::try_lock_for`](crate::Mutex::try_lock_for) does.
// SAFETY: a timed lock that succeeds has taken the lock through the same
// protocol as `lock`; one that fails has changed nothing that `unlock`
// relies on (at most it left the word CONTENDED, which only costs a wake).
#[cfg(all(feature = "lock_api", not(loom)))]
unsafe impl lock_api::RawMutexTimed for RawMutex {
    type Duration = Duration;
    type Instant = std::time::Instant;

    #[inline]
    fn try_lock_for(&self, timeout: Duration) -> bool {
        self.try_lock_for(timeout)
    }

    #[inline]
    fn try_lock_until(&self, deadline: std::time::Instant) -> bool {
        self.try_lock() || self.lock_contended(Deadline::at(deadline))
    }
}

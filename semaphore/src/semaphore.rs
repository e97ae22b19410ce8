//! A counting semaphore on a futex word.
//!
//! # Implementation
//!
//! The design is glibc's POSIX semaphore (`nptl/sem_waitcommon.c` and
//! `sem_post.c`, Torvald Riegel's rewrite for glibc 2.21): a count of
//! available permits that waiters sleep on with `futex_wait`, and beside it
//! a count of threads that may be asleep, so that a release makes a system
//! call only when somebody could need waking. Three words make up a [`Semaphore`]:
//!
//! - `permits`, the number of permits available. It is the futex word that
//!   threads waiting for one permit sleep on.
//! - `waiters`, how many threads have announced that they may sleep, split
//!   into those waiting for one permit and those waiting for several (see
//!   "Waiting for several permits" below).
//! - `epoch`, a counter that threads waiting for several permits sleep on.
//!
//! **Acquiring** `n` permits is, on the fast path, one compare-and-swap of
//! `permits` from `p` to `p - n`, tried only while `p >= n`: all `n` or
//! none, so two threads asking for several can never each hold part of
//! what the other needs. With too few permits, the thread re-reads
//! `permits` for a moment ([`SpinWait`](weft_futex::SpinWait)): the
//! permit is often released a moment later on another core. Then it
//! *registers* in `waiters`, makes one read-modify-write on `permits`
//! (explained below), and loops: take the permits if there are enough,
//! else `futex_wait(permits, p)` with the `p` it just saw, so the kernel
//! puts it to sleep only if no permit arrived since. Done (or past its
//! deadline), it unregisters.
//!
//! **Releasing** `n` permits is one compare-and-swap from `p` to `p + n`
//! (a loop, so that a count past [`Semaphore::MAX_PERMITS`] is refused
//! before anything changes), then one plain load of `waiters`. Only if some
//! thread is registered does the release call `futex_wake`.
//!
//! **Why no wake-up is lost.** Registering and releasing form a
//! store-then-load pair from each side, as in Dekker's algorithm: the
//! waiter writes `waiters`, then reads `permits`; the releaser writes
//! `permits`, then reads `waiters`. The danger is that each reads the
//! other's word *before* the other's write: the waiter sees no permit and
//! sleeps, the releaser sees no waiter and does not wake it. What rules
//! this out is that both touch `permits` with a read-modify-write (the
//! waiter's registration ends with `permits.fetch_add(0)`), and all
//! read-modify-writes of one word happen in a single total order:
//!
//! - If the waiter's read-modify-write comes first, the releaser's
//!   compare-and-swap (`Acquire`) reads a value written after the waiter's
//!   (`Release`), so the registration happens before the releaser reads
//!   `waiters`: the releaser sees the waiter and wakes it. If the waiter
//!   has not reached the kernel yet, `futex_wait` finds `permits` changed
//!   and does not sleep; if it is asleep, the wake finds it.
//! - If the releaser's compare-and-swap comes first, the waiter's
//!   read-modify-write reads the new count, sees the permit and takes it
//!   instead of sleeping.
//!
//! Every write to `permits` is a read-modify-write (never a plain store),
//! which is what lets the waiter's one `Release` reach *every* later
//! release. A waiter that read a count, then lost the permit to another
//! thread before it slept, sleeps with a count of zero, which is right:
//! the permit is in use, and the release that returns it will see the
//! registration.
//!
//! glibc packs the count and the waiters into one 64-bit word and waits
//! on half of it, a mixed-size access that Rust's memory model (and loom,
//! and Miri) does not allow; two words joined by the read-modify-write
//! above cost the same on the fast path, where a `SeqCst` fence on both
//! sides would cost a full barrier on every release.
//!
//! **Waiting for several permits.** Threads in
//! [`acquire_many`](Semaphore::acquire_many) with `n > 1` do *not* sleep on
//! `permits`: a `wake_one` meant for a thread that needs one permit could
//! reach one that needs three, which finds too few and sleeps again while
//! the permit stays unused. (Switching to `wake_all` when a release sees a
//! multi-permit waiter is not enough: one that registers just after that
//! check can still be queued first, and the kernel need not wake in
//! arrival order.) So they count in the upper half of `waiters` and sleep
//! on `epoch`, and a `wake_one` on `permits` only ever reaches a thread
//! that can use one permit. A release that sees them registered, and
//! leaves at least two permits, increments `epoch` and wakes them all;
//! each checks whether there are now enough for it, a thundering herd only
//! among multi-permit waiters. They read `epoch` (`Acquire`) before each
//! check of `permits`, so a release they missed there has changed `epoch`
//! by the time they call `futex_wait(epoch, e)`, as in `weft_mutex::Condvar`.
//!
//! **The C++ standard libraries got this wrong.** libc++'s
//! `counting_semaphore::release` notified only when the count went up
//! *from zero*: with two threads asleep and two `release(1)` calls, the
//! second release wakes nobody and a sleeper sleeps on beside a permit
//! ([llvm/llvm-project#46357](https://github.com/llvm/llvm-project/issues/46357),
//! fixed by [#79265](https://github.com/llvm/llvm-project/pull/79265));
//! libstdc++'s can sleep forever under contention in the same way
//! ([GCC bug 104928](https://gcc.gnu.org/bugzilla/show_bug.cgi?id=104928)).
//! Both decide whether to wake from the *value* of the count, which says
//! nothing about who sleeps. Here the decision rests on `waiters` alone,
//! which counts every thread from before its last look at `permits` until
//! after it stops waiting. `tests/loom_semaphore.rs` checks the libc++
//! scenario on a futex model where a forgotten wake is a reported
//! deadlock.
//!
//! **No FIFO order.** Permits go to whichever thread takes them first: a
//! running thread that calls `acquire` right after a release usually beats
//! the sleeper that the release woke ("barging"), and the kernel wakes
//! sleepers in its own order. This is deliberate and is what glibc's
//! `sem_t` and most mutexes do: handing the permit to the oldest waiter
//! instead would cost a context switch per permit under contention, and a
//! convoy of threads each waiting to be scheduled. The price is fairness: a
//! thread can be overtaken repeatedly, and a thread waiting for several
//! permits can starve while others keep taking them one at a time. Where
//! order matters, put the work in a FIFO queue.
//!
//! **Lifetime.** A release reads `waiters` after its increment, when the
//! last waiter may already have returned (freeing the semaphore was
//! glibc's bug 12674); here `&self` keeps the semaphore alive until
//! `release` returns.
//!
//! # Memory ordering
//!
//! A semaphore hands *permission* from a releasing thread to an acquiring
//! one, and with it the data the releaser prepared (the producer's queue
//! item). So every successful take is an `Acquire` compare-and-swap and
//! every release a `Release` one; all writes to `permits` being
//! read-modify-writes, each take synchronizes with every release before it.
//! The releaser's compare-and-swap is also `Acquire`, pairing with the
//! `Release` read-modify-write that ends a waiter's registration (see "Why
//! no wake-up is lost"), which makes the `Relaxed` load of `waiters` safe.
//! The increment of `epoch` is `Release` and a multi-permit waiter's read of
//! it `Acquire`, so a waiter that sees the new epoch also sees the permits.
//! Everything else (spin reads, registration counts, failed
//! compare-and-swaps) is `Relaxed`: those values only choose the next step.
//! There are no `SeqCst` operations, so loom checks the protocol exactly.

mod waiting;

use core::fmt;
use std::sync::atomic::Ordering::{AcqRel, Acquire, Relaxed};
use std::time::Duration;

use weft_futex::Deadline;
use weft_futex::atomic::{AtomicU32, AtomicU64};

/// No thread is registered as a waiter.
const NO_WAITERS: u64 = 0;
/// The weight in `waiters` of one thread waiting for a single permit
/// (the lower 32 bits count them).
const ONE_PERMIT_WAITER: u64 = 1;
/// The weight in `waiters` of one thread waiting for several permits
/// (the upper 32 bits count them).
const MANY_PERMITS_WAITER: u64 = 1 << 32;

/// A counting semaphore: a number of permits that threads take and give
/// back, sleeping while there are not enough.
///
/// [`acquire`](Self::acquire) takes one permit, blocking until one is
/// available; [`release`](Self::release) adds one and wakes a waiting
/// thread. [`access`](Self::access) takes a permit for the life of a
/// [`SemaphoreGuard`]. Any thread may release, whether or not it acquired
/// before: a semaphore that starts at zero counts events, as in the
/// producer–consumer pattern.
///
/// Waiters are not served in FIFO order; see the [module
/// documentation](self) for why, and for how the semaphore works.
///
/// # Examples
///
/// At most two threads inside at once:
///
/// ```
/// use std::sync::atomic::{AtomicU32, Ordering::Relaxed};
/// use weft_semaphore::Semaphore;
///
/// let slots = Semaphore::new(2);
/// let inside = AtomicU32::new(0);
/// std::thread::scope(|s| {
///     for _ in 0..6 {
///         s.spawn(|| {
///             let _permit = slots.access();
///             assert!(inside.fetch_add(1, Relaxed) < 2);
///             inside.fetch_sub(1, Relaxed);
///         });
///     }
/// });
/// assert_eq!(slots.available_permits(), 2);
/// ```
pub struct Semaphore {
    /// The permits available now. Single-permit waiters sleep on this word.
    permits: AtomicU32,
    /// Incremented by every release that finds a multi-permit waiter
    /// registered and leaves at least two permits; multi-permit waiters
    /// sleep on this word.
    epoch: AtomicU32,
    /// The registered waiters, two counters in one word so that a release
    /// reads both with one load:
    ///
    /// ```text
    ///  63                32 31                 0
    /// ┌────────────────────┬────────────────────┐
    /// │ waiting for n > 1  │ waiting for n = 1  │
    /// └────────────────────┴────────────────────┘
    /// ```
    ///
    /// Neither half can overflow into the other: that would take 2³²
    /// threads.
    waiters: AtomicU64,
}

impl Semaphore {
    /// The most permits a semaphore can hold: `i32::MAX`, 2³¹ − 1 =
    /// 2 147 483 647.
    ///
    /// It is glibc's `SEM_VALUE_MAX`, so the count always fits a C `int` or
    /// an `i32`, and it leaves the top bit of the 32-bit futex word unused,
    /// so `permits + n` with both within the limit can never wrap around.
    /// Creating a semaphore with more, releasing past it, or asking
    /// [`acquire_many`](Self::acquire_many) for more than it panics with a
    /// message naming `MAX_PERMITS`, and leaves the count as it was.
    pub const MAX_PERMITS: u32 = i32::MAX as u32;

    weft_futex::const_unless_loom! {
        /// Creates a semaphore holding `permits` permits.
        ///
        /// # Panics
        ///
        /// If `permits` is greater than [`MAX_PERMITS`](Self::MAX_PERMITS)
        /// (at compile time when used in a `const` or `static`).
        ///
        /// # Examples
        ///
        /// ```
        /// use weft_semaphore::Semaphore;
        ///
        /// static DOWNLOADS: Semaphore = Semaphore::new(4);
        /// let _slot = DOWNLOADS.access();
        /// assert_eq!(DOWNLOADS.available_permits(), 3);
        /// ```
        pub fn new(permits: u32) -> Self {
            assert!(
                permits <= Self::MAX_PERMITS,
                "Semaphore::new: more permits than Semaphore::MAX_PERMITS (2147483647)"
            );
            Self {
                permits: AtomicU32::new(permits),
                epoch: AtomicU32::new(0),
                waiters: AtomicU64::new(NO_WAITERS),
            }
        }
    }

    /// Takes one permit, blocking until one is available.
    ///
    /// # Examples
    ///
    /// ```
    /// use weft_semaphore::Semaphore;
    ///
    /// let done = Semaphore::new(0);
    /// std::thread::scope(|s| {
    ///     s.spawn(|| done.release());
    ///     done.acquire(); // returns once the other thread has released
    /// });
    /// ```
    #[inline]
    pub fn acquire(&self) {
        if !self.try_take(1) {
            self.acquire_contended(1, Deadline::NEVER);
        }
    }

    /// Takes one permit if one is available right now, without waiting.
    ///
    /// # Examples
    ///
    /// ```
    /// let s = weft_semaphore::Semaphore::new(1);
    /// assert!(s.try_acquire());
    /// assert!(!s.try_acquire());
    /// ```
    #[inline]
    pub fn try_acquire(&self) -> bool {
        self.try_take(1)
    }

    /// Takes one permit, waiting at most `timeout` for it. Returns `false`
    /// if the time ran out first. An available permit is taken even with a
    /// zero timeout.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use weft_semaphore::Semaphore;
    ///
    /// let s = Semaphore::new(0);
    /// assert!(!s.try_acquire_for(Duration::from_millis(10)));
    /// s.release();
    /// assert!(s.try_acquire_for(Duration::ZERO));
    /// ```
    pub fn try_acquire_for(&self, timeout: Duration) -> bool {
        if self.try_take(1) {
            return true;
        }
        if timeout.is_zero() {
            return false;
        }
        self.acquire_contended(1, Deadline::after(timeout))
    }

    /// Takes `n` permits at once, blocking until `n` are available.
    ///
    /// The permits are taken all together or not at all: a thread waiting
    /// here never holds part of them, so two threads asking for several
    /// permits cannot deadlock each other by each holding half. `n == 0`
    /// returns at once.
    ///
    /// A thread waiting for several permits can be overtaken by threads
    /// taking fewer, indefinitely if they keep the count low (there is no
    /// FIFO order).
    ///
    /// # Panics
    ///
    /// If `n` is greater than [`MAX_PERMITS`](Self::MAX_PERMITS): no
    /// semaphore can ever hold that many.
    ///
    /// # Examples
    ///
    /// ```
    /// use weft_semaphore::Semaphore;
    ///
    /// let s = Semaphore::new(1);
    /// std::thread::scope(|t| {
    ///     t.spawn(|| s.release_many(2));
    ///     s.acquire_many(3); // waits for the other two
    /// });
    /// assert_eq!(s.available_permits(), 0);
    /// ```
    #[inline]
    pub fn acquire_many(&self, n: u32) {
        check_request(n);
        if !self.try_take(n) {
            self.acquire_contended(n, Deadline::NEVER);
        }
    }

    /// Takes `n` permits if that many are available right now, without
    /// waiting; otherwise takes none and returns `false`.
    ///
    /// # Panics
    ///
    /// If `n` is greater than [`MAX_PERMITS`](Self::MAX_PERMITS), like
    /// [`acquire_many`](Self::acquire_many).
    ///
    /// # Examples
    ///
    /// ```
    /// let s = weft_semaphore::Semaphore::new(2);
    /// assert!(!s.try_acquire_many(3));
    /// assert_eq!(s.available_permits(), 2); // all or nothing
    /// assert!(s.try_acquire_many(2));
    /// ```
    #[inline]
    pub fn try_acquire_many(&self, n: u32) -> bool {
        check_request(n);
        self.try_take(n)
    }

    /// Adds one permit, and wakes a thread waiting for one if there is any.
    ///
    /// The calling thread need not have acquired a permit before.
    ///
    /// # Panics
    ///
    /// If the semaphore already holds [`MAX_PERMITS`](Self::MAX_PERMITS)
    /// permits; the count is left unchanged.
    ///
    /// # Examples
    ///
    /// ```
    /// let s = weft_semaphore::Semaphore::new(0);
    /// s.release();
    /// assert_eq!(s.available_permits(), 1);
    /// ```
    #[inline]
    pub fn release(&self) {
        self.release_many(1);
    }

    /// Adds `n` permits at once, and wakes threads that can use them.
    ///
    /// # Panics
    ///
    /// If the count would exceed [`MAX_PERMITS`](Self::MAX_PERMITS). The
    /// check and the addition are one atomic step, so the count is left
    /// exactly as it was.
    ///
    /// # Examples
    ///
    /// ```
    /// use weft_semaphore::Semaphore;
    ///
    /// let s = Semaphore::new(0);
    /// s.release_many(3);
    /// assert_eq!(s.available_permits(), 3);
    ///
    /// let full = Semaphore::new(Semaphore::MAX_PERMITS);
    /// let refused = std::panic::catch_unwind(|| full.release_many(1));
    /// assert!(refused.is_err());
    /// assert_eq!(full.available_permits(), Semaphore::MAX_PERMITS);
    /// ```
    #[inline]
    pub fn release_many(&self, n: u32) {
        if n == 0 {
            return;
        }
        let mut permits = self.permits.load(Relaxed);
        loop {
            // `permits <= MAX_PERMITS` always holds, so this cannot underflow.
            if n > Self::MAX_PERMITS - permits {
                too_many_released(permits, n);
            }
            // Release: pairs with the Acquire of every take, handing over
            // what this thread wrote before releasing.
            // Acquire: pairs with the Release read-modify-write that ends a
            // waiter's registration, so the load of `waiters` below sees
            // every waiter that could miss these permits.
            match self
                .permits
                .compare_exchange_weak(permits, permits + n, AcqRel, Relaxed)
            {
                Ok(_) => break,
                Err(now) => permits = now,
            }
        }
        let waiters = self.waiters.load(Relaxed);
        if waiters != NO_WAITERS {
            self.wake(n, permits + n, waiters);
        }
    }

    /// Takes one permit and returns a guard that releases it when dropped,
    /// also when a panic unwinds.
    ///
    /// # Examples
    ///
    /// ```
    /// let s = weft_semaphore::Semaphore::new(1);
    /// {
    ///     let _permit = s.access();
    ///     assert_eq!(s.available_permits(), 0);
    /// }
    /// assert_eq!(s.available_permits(), 1);
    /// ```
    #[inline]
    pub fn access(&self) -> SemaphoreGuard<'_> {
        self.acquire();
        SemaphoreGuard {
            semaphore: self,
            permits: 1,
        }
    }

    /// Takes `n` permits at once, as [`acquire_many`](Self::acquire_many)
    /// does, and returns a guard that releases all `n` when dropped.
    ///
    /// # Panics
    ///
    /// If `n` is greater than [`MAX_PERMITS`](Self::MAX_PERMITS).
    ///
    /// # Examples
    ///
    /// ```
    /// let s = weft_semaphore::Semaphore::new(5);
    /// let permits = s.access_many(3);
    /// assert_eq!((permits.permits(), s.available_permits()), (3, 2));
    /// drop(permits);
    /// assert_eq!(s.available_permits(), 5);
    /// ```
    #[inline]
    pub fn access_many(&self, n: u32) -> SemaphoreGuard<'_> {
        self.acquire_many(n);
        SemaphoreGuard {
            semaphore: self,
            permits: n,
        }
    }

    /// The number of permits available at this instant. Other threads may
    /// change it as soon as it is read; use it for diagnostics and tests,
    /// not to decide whether to acquire (use the `try_` methods for that).
    #[inline]
    pub fn available_permits(&self) -> u32 {
        self.permits.load(Relaxed)
    }

    /// The fast path of every acquisition: take `n` permits if there are
    /// that many. One compare-and-swap, retried only when another thread
    /// changed the count in between and there are still enough.
    #[inline]
    fn try_take(&self, n: u32) -> bool {
        let mut permits = self.permits.load(Relaxed);
        self.take_from(&mut permits, n)
    }

    /// Takes `n` permits by compare-and-swap, starting from `*permits`, a
    /// value just read; gives up as soon as fewer than `n` are left.
    ///
    /// On failure `*permits` holds the last value this thread saw, which is
    /// the value a waiter must pass to `futex_wait`. Sleeping on an older
    /// value would be a lost wake-up: with `permits` at 1 when read, taken
    /// by another thread (0), then released again (1), the kernel would
    /// find the expected 1 and put the waiter to sleep beside a permit
    /// whose release may already have looked for sleepers.
    #[inline]
    fn take_from(&self, permits: &mut u32, n: u32) -> bool {
        while *permits >= n {
            // Acquire: pairs with the Release of the releases that made
            // these permits, so this thread sees what their threads wrote.
            match self
                .permits
                .compare_exchange_weak(*permits, *permits - n, Acquire, Relaxed)
            {
                Ok(_) => return true,
                Err(now) => *permits = now,
            }
        }
        false
    }
}

/// Shows the permits available and the number of registered waiters, read
/// without blocking (each may change at once).
impl fmt::Debug for Semaphore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let waiters = self.waiters.load(Relaxed);
        f.debug_struct("Semaphore")
            .field("permits", &self.available_permits())
            .field(
                "waiters",
                &((waiters & u64::from(u32::MAX)) + (waiters >> 32)),
            )
            .finish()
    }
}

/// Permits taken from a [`Semaphore`] with [`access`](Semaphore::access) or
/// [`access_many`](Semaphore::access_many), released when the guard is
/// dropped, also while a panic unwinds.
///
/// Unlike a mutex guard, a permit is not tied to the thread that took it: a
/// guard may be sent to another thread and dropped there.
#[must_use = "the permits are released as soon as the guard is dropped"]
pub struct SemaphoreGuard<'a> {
    semaphore: &'a Semaphore,
    permits: u32,
}

impl SemaphoreGuard<'_> {
    /// The number of permits this guard holds and will release.
    #[inline]
    pub fn permits(&self) -> u32 {
        self.permits
    }
}

impl Drop for SemaphoreGuard<'_> {
    /// Releases the permits. This panics only if other threads released so
    /// many permits in the meantime that the count would pass
    /// [`Semaphore::MAX_PERMITS`]; during unwinding that aborts the process.
    #[inline]
    fn drop(&mut self) {
        self.semaphore.release_many(self.permits);
    }
}

impl fmt::Debug for SemaphoreGuard<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SemaphoreGuard")
            .field("permits", &self.permits)
            .finish_non_exhaustive()
    }
}

/// Panics if no semaphore could ever hold `n` permits.
#[inline]
fn check_request(n: u32) {
    if n > Semaphore::MAX_PERMITS {
        too_many_requested(n);
    }
}

#[cold]
#[inline(never)]
fn too_many_requested(n: u32) -> ! {
    panic!(
        "cannot acquire {n} permits at once: a Semaphore holds at most \
         Semaphore::MAX_PERMITS ({}) permits",
        Semaphore::MAX_PERMITS
    );
}

#[cold]
#[inline(never)]
fn too_many_released(permits: u32, n: u32) -> ! {
    panic!(
        "cannot release {n} permits: the Semaphore holds {permits}, and at most \
         Semaphore::MAX_PERMITS ({}) (count left unchanged)",
        Semaphore::MAX_PERMITS
    );
}

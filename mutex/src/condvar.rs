//! A condition variable on a futex counter.
//!
//! # Implementation
//!
//! A condition variable needs no queue of its own: the kernel already keeps
//! one per futex word. So a [`Condvar`] is two words:
//!
//! - `seq`, a counter that every notification increments, and on which
//!   waiters sleep;
//! - `waiters`, how many threads are between "decided to wait" and "woke
//!   up", so that a notification with nobody waiting costs one load and no
//!   system call.
//!
//! **Waiting** (with the mutex held): count ourselves in `waiters`, read
//! `seq`, unlock the mutex, then `futex_wait(seq, value read)`. On return,
//! count ourselves out and lock the mutex again. Between the unlock and the
//! sleep the waiter watches `seq` for a few microseconds
//! ([`SpinWait`]): when the notification comes that
//! fast, as in a hand-off between two running threads, catching it awake
//! saves two context switches.
//!
//! **Notifying**: if `waiters` is zero, return. Otherwise increment `seq`
//! and wake one (or all) of the threads sleeping on it.
//!
//! **Why no notification is lost.** The waiter reads `seq` *while it still
//! holds the mutex*. A notifier that changed the shared state did so under
//! the same mutex, so either it did that before the waiter locked (and the
//! waiter, checking its condition, does not wait at all), or after the
//! waiter unlocked. In the second case the notifier's increment of `seq`
//! comes after the waiter's read: if it lands before the waiter reaches the
//! kernel, `futex_wait` sees a changed value and returns at once; if after,
//! the waiter is already queued and the wake finds it. The same argument
//! covers `waiters`: the waiter counted itself in before unlocking, so a
//! notifier that locked afterwards sees a non-zero count and does not skip
//! the wake.
//!
//! This relies on the notifier changing the state under the mutex, which is
//! what every correct use of a condition variable does anyway. The counter
//! would have to wrap all the way around (2³² notifications) between a
//! waiter's read and its sleep for a wake to be missed, as in std's futex
//! condition variable.
//!
//! Spurious wake-ups can happen (a notification meant for another waiter,
//! a signal), so a waiter always re-checks its condition in a loop:
//! [`Condvar::wait_while`] does that for you.
//!
//! # Memory ordering
//!
//! Every access to `seq` and `waiters` is `Relaxed`. What orders them is the
//! mutex: the waiter's increment of `waiters` and read of `seq` come before
//! its unlock (`Release`), and a notifier that then locks (`Acquire`)
//! happens after them, so it reads a `waiters` count that includes the
//! waiter and increments `seq` past the value the waiter read. The data the
//! condition is about is protected by the mutex, never by the condition
//! variable.

use core::fmt;
use std::sync::atomic::Ordering::Relaxed;
use std::time::Duration;

use weft_futex::atomic::AtomicU32;
use weft_futex::{Deadline, SpinWait};

use crate::MutexGuard;

/// A condition variable: lets threads sleep until the state behind a
/// [`Mutex`](crate::Mutex) changes.
///
/// Any number of threads may wait on one `Condvar`, and unlike std's it may
/// be used with different mutexes over its life.
///
/// # Examples
///
/// ```
/// use weft_mutex::{Condvar, Mutex};
///
/// let started = Mutex::new(false);
/// let cv = Condvar::new();
/// std::thread::scope(|s| {
///     s.spawn(|| {
///         *started.lock() = true;
///         cv.notify_all();
///     });
///     let mut guard = started.lock();
///     while !*guard {
///         guard = cv.wait(guard);
///     }
/// });
/// ```
pub struct Condvar {
    /// Incremented by every notification that may find a waiter; waiters
    /// sleep on it.
    seq: AtomicU32,
    /// Threads that have read `seq` and not yet woken.
    waiters: AtomicU32,
}

impl Condvar {
    weft_futex::const_unless_loom! {
        /// Creates a condition variable with no waiters.
        pub fn new() -> Self {
            Self {
                seq: AtomicU32::new(0),
                waiters: AtomicU32::new(0),
            }
        }
    }

    /// Unlocks the guard's mutex, sleeps until notified, and locks it again.
    ///
    /// May also return without a notification (a spurious wake-up), so call
    /// it in a loop that checks the condition, or use
    /// [`wait_while`](Self::wait_while).
    pub fn wait<'a, T: ?Sized>(&self, guard: MutexGuard<'a, T>) -> MutexGuard<'a, T> {
        self.wait_inner(guard, Deadline::NEVER).0
    }

    /// Waits as long as `condition` returns `true`, checking it first: if it
    /// is already `false`, returns at once without unlocking.
    ///
    /// # Examples
    ///
    /// ```
    /// use weft_mutex::{Condvar, Mutex};
    ///
    /// let items = Mutex::new(0);
    /// let cv = Condvar::new();
    /// std::thread::scope(|s| {
    ///     s.spawn(|| {
    ///         *items.lock() += 3;
    ///         cv.notify_one();
    ///     });
    ///     let guard = cv.wait_while(items.lock(), |n| *n < 3);
    ///     assert_eq!(*guard, 3);
    /// });
    /// ```
    pub fn wait_while<'a, T: ?Sized, F>(
        &self,
        mut guard: MutexGuard<'a, T>,
        mut condition: F,
    ) -> MutexGuard<'a, T>
    where
        F: FnMut(&mut T) -> bool,
    {
        while condition(&mut *guard) {
            guard = self.wait(guard);
        }
        guard
    }

    /// Like [`wait`](Self::wait), but gives up after `timeout`. Returns the
    /// guard and `true` if the wait timed out.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use weft_mutex::{Condvar, Mutex};
    ///
    /// let m = Mutex::new(());
    /// let cv = Condvar::new();
    /// let (_guard, timed_out) = cv.wait_timeout(m.lock(), Duration::from_millis(5));
    /// assert!(timed_out);
    /// ```
    pub fn wait_timeout<'a, T: ?Sized>(
        &self,
        guard: MutexGuard<'a, T>,
        timeout: Duration,
    ) -> (MutexGuard<'a, T>, bool) {
        let (guard, woken) = self.wait_inner(guard, Deadline::after(timeout));
        (guard, !woken)
    }

    /// Waits while `condition` holds, for at most `timeout` in all. Returns
    /// the guard and `true` if it gave up with the condition still true.
    pub fn wait_timeout_while<'a, T: ?Sized, F>(
        &self,
        mut guard: MutexGuard<'a, T>,
        timeout: Duration,
        mut condition: F,
    ) -> (MutexGuard<'a, T>, bool)
    where
        F: FnMut(&mut T) -> bool,
    {
        let deadline = Deadline::after(timeout);
        while condition(&mut *guard) {
            if deadline.has_passed() {
                return (guard, true);
            }
            guard = self.wait_inner(guard, deadline).0;
        }
        (guard, false)
    }

    /// Wakes one waiting thread, if there is one.
    ///
    /// Costs one load when nobody waits.
    #[inline]
    pub fn notify_one(&self) {
        if self.waiters.load(Relaxed) != 0 {
            self.seq.fetch_add(1, Relaxed);
            weft_futex::wake_one(&self.seq);
        }
    }

    /// Wakes every waiting thread.
    ///
    /// Costs one load when nobody waits.
    #[inline]
    pub fn notify_all(&self) {
        if self.waiters.load(Relaxed) != 0 {
            self.seq.fetch_add(1, Relaxed);
            weft_futex::wake_all(&self.seq);
        }
    }

    /// Unlock, sleep on `seq`, relock. Returns `false` if `deadline`
    /// passed.
    fn wait_inner<'a, T: ?Sized>(
        &self,
        guard: MutexGuard<'a, T>,
        deadline: Deadline,
    ) -> (MutexGuard<'a, T>, bool) {
        // Both Relaxed, and both before the unlock below: a notifier that
        // locks the mutex after us sees them (see "Memory ordering").
        self.waiters.fetch_add(1, Relaxed);
        let seq = self.seq.load(Relaxed);

        let mutex = guard.mutex();
        drop(guard);

        let mut spin = SpinWait::new();
        let woken = loop {
            // Relaxed: a changed counter only means "stop waiting"; the
            // mutex, locked below, orders the data.
            if self.seq.load(Relaxed) != seq {
                break true;
            }
            if !spin.spin() {
                break weft_futex::wait_until(&self.seq, seq, deadline);
            }
        };

        self.waiters.fetch_sub(1, Relaxed);
        (mutex.lock(), woken)
    }
}

impl Default for Condvar {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for Condvar {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Condvar").finish_non_exhaustive()
    }
}

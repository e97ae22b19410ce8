//! A mutex on one futex word.
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
use core::marker::PhantomData;
use core::ops::{Deref, DerefMut};
use std::sync::atomic::Ordering::{Acquire, Relaxed, Release};
use std::time::Duration;

use weft_futex::atomic::AtomicU32;
use weft_futex::{Deadline, SpinWait, UnsafeCell};

/// Nobody holds the lock.
const UNLOCKED: u32 = 0;
/// Held, and no thread is asleep waiting for it.
const LOCKED: u32 = 1;
/// Held, and a thread may be asleep on the word: unlock must wake one.
const CONTENDED: u32 = 2;

/// A mutual-exclusion lock protecting a value of type `T`.
///
/// [`lock`](Self::lock) blocks until the calling thread holds the lock and
/// returns a [`MutexGuard`]; the value is reached through the guard, and the
/// lock is released when the guard is dropped. There is no poisoning: a
/// guard dropped while a panic unwinds unlocks the mutex like any other, and
/// the next `lock` succeeds.
///
/// # Examples
///
/// ```
/// use weft_mutex::Mutex;
///
/// let count = Mutex::new(0);
/// std::thread::scope(|s| {
///     for _ in 0..4 {
///         s.spawn(|| {
///             for _ in 0..1000 {
///                 *count.lock() += 1;
///             }
///         });
///     }
/// });
/// assert_eq!(count.into_inner(), 4000);
/// ```
pub struct Mutex<T: ?Sized> {
    /// `UNLOCKED`, `LOCKED` or `CONTENDED`.
    state: AtomicU32,
    value: UnsafeCell<T>,
}

/// A `Mutex` hands out `&mut T` to one thread at a time, so sharing it
/// between threads only needs `T` itself to be allowed to move between them
/// (`Send`), not to be shared (`Sync`): the same bound as std's mutex.
/// (`Send` for `Mutex<T>` follows automatically from its fields.)
// SAFETY: see the doc comment above; exclusive access is what the lock
// protocol guarantees.
unsafe impl<T: ?Sized + Send> Sync for Mutex<T> {}

impl<T> Mutex<T> {
    weft_futex::const_unless_loom! {
        /// Creates an unlocked mutex holding `value`.
        ///
        /// # Examples
        ///
        /// ```
        /// static LOG: weft_mutex::Mutex<Vec<&str>> = weft_mutex::Mutex::new(Vec::new());
        /// LOG.lock().push("started");
        /// ```
        pub fn new(value: T) -> Self {
            Self {
                state: AtomicU32::new(UNLOCKED),
                value: UnsafeCell::new(value),
            }
        }
    }

    /// Consumes the mutex and returns its value. No locking is needed: owning
    /// the mutex proves nobody else can hold it.
    #[inline]
    pub fn into_inner(self) -> T {
        self.value.into_inner()
    }
}

impl<T: ?Sized> Mutex<T> {
    /// Blocks until this thread holds the lock, and returns a guard that
    /// releases it when dropped.
    ///
    /// Locking a mutex that the same thread already holds never returns
    /// (there is no owner check); use [`try_lock`](Self::try_lock) where that
    /// can happen.
    ///
    /// # Examples
    ///
    /// ```
    /// let m = weft_mutex::Mutex::new(vec![1, 2]);
    /// m.lock().push(3);
    /// assert_eq!(*m.lock(), [1, 2, 3]);
    /// ```
    #[inline]
    pub fn lock(&self) -> MutexGuard<'_, T> {
        // Acquire: pairs with the Release swap in `unlock`, so this critical
        // section sees everything the previous one wrote.
        if self
            .state
            .compare_exchange(UNLOCKED, LOCKED, Acquire, Relaxed)
            .is_err()
        {
            self.lock_contended(Deadline::NEVER);
        }
        MutexGuard::new(self)
    }

    /// Takes the lock if it is free right now, without waiting.
    ///
    /// # Examples
    ///
    /// ```
    /// let m = weft_mutex::Mutex::new(());
    /// let held = m.lock();
    /// assert!(m.try_lock().is_none());
    /// drop(held);
    /// assert!(m.try_lock().is_some());
    /// ```
    #[inline]
    pub fn try_lock(&self) -> Option<MutexGuard<'_, T>> {
        // Acquire: pairs with the Release swap in `unlock`.
        self.state
            .compare_exchange(UNLOCKED, LOCKED, Acquire, Relaxed)
            .ok()
            .map(|_| MutexGuard::new(self))
    }

    /// Waits at most `timeout` for the lock. A free lock is taken even with
    /// a zero timeout; `None` means the time ran out while another thread
    /// held it.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let m = weft_mutex::Mutex::new(0);
    /// let held = m.lock();
    /// std::thread::scope(|s| {
    ///     s.spawn(|| assert!(m.try_lock_for(Duration::from_millis(10)).is_none()));
    /// });
    /// drop(held);
    /// assert!(m.try_lock_for(Duration::ZERO).is_some());
    /// ```
    pub fn try_lock_for(&self, timeout: Duration) -> Option<MutexGuard<'_, T>> {
        if let Some(guard) = self.try_lock() {
            return Some(guard);
        }
        self.lock_contended(Deadline::after(timeout))
            .then(|| MutexGuard::new(self))
    }

    /// Whether some thread holds the lock at this instant. The answer may be
    /// stale as soon as it is returned; use it for diagnostics, not for
    /// synchronization.
    #[inline]
    pub fn is_locked(&self) -> bool {
        self.state.load(Relaxed) != UNLOCKED
    }

    /// Returns a mutable reference to the value. No locking is needed:
    /// `&mut self` proves nobody else can hold the lock.
    #[inline]
    pub fn get_mut(&mut self) -> &mut T {
        self.value.get_mut()
    }

    /// The slow path of locking: spin, then sleep until the lock is ours.
    /// Returns `false` only if `deadline` passed first.
    #[cold]
    fn lock_contended(&self, deadline: Deadline) -> bool {
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

    /// Releases the lock, waking one sleeper if there may be any.
    ///
    /// Called only by `MutexGuard::drop`, by the thread holding the lock.
    #[inline]
    fn unlock(&self) {
        // Release: pairs with the Acquire of whichever lock comes next,
        // publishing this critical section's writes.
        if self.state.swap(UNLOCKED, Release) == CONTENDED {
            self.wake();
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

impl<T: Default> Default for Mutex<T> {
    fn default() -> Self {
        Self::new(T::default())
    }
}

impl<T> From<T> for Mutex<T> {
    fn from(value: T) -> Self {
        Self::new(value)
    }
}

/// Shows the value if the lock is free, and `<locked>` if it is held. Never
/// blocks.
impl<T: ?Sized + fmt::Debug> fmt::Debug for Mutex<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("Mutex");
        match self.try_lock() {
            Some(guard) => d.field("value", &&*guard),
            None => d.field("value", &format_args!("<locked>")),
        };
        d.finish_non_exhaustive()
    }
}

/// Proof that the current thread holds a [`Mutex`]; gives access to its
/// value, and unlocks when dropped.
///
/// A guard cannot be sent to another thread (the lock belongs to the thread
/// that took it), but `&MutexGuard<T>` can be shared when `T: Sync`.
#[must_use = "the lock is released as soon as the guard is dropped"]
pub struct MutexGuard<'a, T: ?Sized> {
    mutex: &'a Mutex<T>,
    /// Makes the guard `!Send`.
    _not_send: PhantomData<*const ()>,
}

/// Sharing a guard shares only `&T`, as sharing `&T` itself would.
// SAFETY: see the doc comment above; a `&MutexGuard` can only produce `&T`.
unsafe impl<T: ?Sized + Sync> Sync for MutexGuard<'_, T> {}

impl<'a, T: ?Sized> MutexGuard<'a, T> {
    /// Wraps a lock that the calling thread has just taken.
    fn new(mutex: &'a Mutex<T>) -> Self {
        Self {
            mutex,
            _not_send: PhantomData,
        }
    }

    /// The mutex this guard holds, for `Condvar`, which unlocks and relocks
    /// it around a wait.
    pub(crate) fn mutex(&self) -> &'a Mutex<T> {
        self.mutex
    }
}

impl<T: ?Sized> Deref for MutexGuard<'_, T> {
    type Target = T;

    fn deref(&self) -> &T {
        // SAFETY: the guard exists only while this thread holds the lock, so
        // no other thread accesses the value until it drops; the reference
        // borrows the guard and so cannot outlive it.
        self.mutex.value.with(|ptr| unsafe { &*ptr })
    }
}

impl<T: ?Sized> DerefMut for MutexGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: as in `deref`, and `&mut self` makes this the only
        // reference the guard hands out.
        self.mutex.value.with_mut(|ptr| unsafe { &mut *ptr })
    }
}

impl<T: ?Sized> Drop for MutexGuard<'_, T> {
    #[inline]
    fn drop(&mut self) {
        self.mutex.unlock();
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for MutexGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

impl<T: ?Sized + fmt::Display> fmt::Display for MutexGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&**self, f)
    }
}

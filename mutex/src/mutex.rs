//! A mutex that protects a value: [`Mutex<T>`] and its [`MutexGuard`].
//!
//! The lock itself is a `RawMutex` (`src/raw.rs`): one futex word with
//! Drepper's three states, whose module documentation explains the protocol
//! and its memory ordering. This file pairs that lock with the value. A
//! [`MutexGuard`] exists only while its thread holds the lock, so it may
//! hand out `&mut T`; dropping it unlocks. The lock's `Acquire` when it
//! is taken and `Release` when it is freed are what make one critical
//! section's writes to the value visible to the next.

use core::fmt;
use core::marker::PhantomData;
use core::ops::{Deref, DerefMut};
use std::time::Duration;

use weft_futex::UnsafeCell;

use crate::raw::RawMutex;

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
    /// Held exactly while a [`MutexGuard`] of this mutex exists.
    raw: RawMutex,
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
                raw: RawMutex::new(),
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
        self.raw.lock();
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
        self.raw.try_lock().then(|| MutexGuard::new(self))
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
        self.raw
            .try_lock_for(timeout)
            .then(|| MutexGuard::new(self))
    }

    /// Whether some thread holds the lock at this instant. The answer may be
    /// stale as soon as it is returned; use it for diagnostics, not for
    /// synchronization.
    #[inline]
    pub fn is_locked(&self) -> bool {
        self.raw.is_locked()
    }

    /// Returns a mutable reference to the value. No locking is needed:
    /// `&mut self` proves nobody else can hold the lock.
    #[inline]
    pub fn get_mut(&mut self) -> &mut T {
        self.value.get_mut()
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
        // SAFETY: a guard exists only while this thread holds the lock, and
        // this is its one unlock.
        unsafe { self.mutex.raw.unlock() };
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

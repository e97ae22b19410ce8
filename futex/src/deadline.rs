//! Deadlines: the one way Weft's timed operations count their time.
//!
//! A primitive's `*_timeout(timeout)` turns the timeout into a [`Deadline`]
//! once, on entry, and every sleep of its wait loop then asks for the time
//! *left* ([`wait_until`]). Recomputing from the original timeout after each
//! wake-up would stretch the wait by every spurious or contended wake; a
//! deadline computed once cannot.
//!
//! A timeout too large to add to [`Instant::now`] (`Duration::MAX`, say)
//! gives [`Deadline::NEVER`]: the caller waits as if it had no timeout,
//! instead of panicking on an overflow.

use std::time::{Duration, Instant};

use crate::atomic::AtomicU32;

/// The instant a timed wait gives up, or never.
///
/// # Examples
///
/// ```
/// use std::sync::atomic::Ordering::Acquire;
/// use std::time::Duration;
/// use weft_futex::{Deadline, atomic::AtomicU32};
///
/// /// Waits until `flag` is set or `timeout` passes; tells which.
/// fn wait_for_flag(flag: &AtomicU32, timeout: Duration) -> bool {
///     let deadline = Deadline::after(timeout);
///     // Acquire: pairs with the setter's Release store.
///     while flag.load(Acquire) == 0 {
///         if !weft_futex::wait_until(flag, 0, deadline) {
///             // One last look: a flag set with the deadline still counts.
///             return flag.load(Acquire) != 0;
///         }
///     }
///     true
/// }
/// assert!(!wait_for_flag(&AtomicU32::new(0), Duration::from_millis(1)));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Deadline(Option<Instant>);

impl Deadline {
    /// No deadline: waits end only when woken.
    pub const NEVER: Self = Self(None);

    /// `timeout` from now; [`NEVER`](Self::NEVER) if that instant cannot be
    /// represented.
    #[inline]
    #[must_use]
    pub fn after(timeout: Duration) -> Self {
        Self(Instant::now().checked_add(timeout))
    }

    /// The deadline `at`.
    #[inline]
    #[must_use]
    pub const fn at(at: Instant) -> Self {
        Self(Some(at))
    }

    /// The instant, or `None` for [`NEVER`](Self::NEVER).
    #[inline]
    #[must_use]
    pub const fn instant(self) -> Option<Instant> {
        self.0
    }

    /// Whether this is [`NEVER`](Self::NEVER).
    #[inline]
    #[must_use]
    pub const fn is_never(self) -> bool {
        self.0.is_none()
    }

    /// The time left until the deadline (zero once it has passed), or
    /// `None` for [`NEVER`](Self::NEVER).
    #[inline]
    #[must_use]
    pub fn remaining(self) -> Option<Duration> {
        self.0
            .map(|at| at.saturating_duration_since(Instant::now()))
    }

    /// Whether the deadline has passed; never true for
    /// [`NEVER`](Self::NEVER).
    #[inline]
    #[must_use]
    pub fn has_passed(self) -> bool {
        self.0.is_some_and(|at| Instant::now() >= at)
    }
}

/// Blocks while `*word == expected`, until `deadline` at the latest.
///
/// Returns `false` if the deadline has passed (also when it had already
/// passed on entry, without sleeping), and `true` otherwise: woken, the
/// word did not hold `expected`, or a spurious return, as for
/// [`wait`](crate::wait). Like `wait`, it establishes no memory ordering;
/// the caller reloads its word with the ordering it needs.
#[inline]
pub fn wait_until(word: &AtomicU32, expected: u32, deadline: Deadline) -> bool {
    match deadline.remaining() {
        None => {
            crate::wait(word, expected);
            true
        }
        Some(left) => !left.is_zero() && crate::wait_timeout(word, expected, left),
    }
}

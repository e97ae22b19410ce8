//! A single-use latch: a count that threads bring down to zero, and a futex
//! word that waiters sleep on until it gets there.
//!
//! # Implementation
//!
//! A [`Latch`] is C++20's `std::latch` (and crossbeam-utils' `WaitGroup`
//! without the handles): a count set by `new`, lowered by `count_down`,
//! never raised, and a door that opens for good when the count reaches
//! zero. It is two words (and, on 64-bit targets, an unused one that
//! fills the padding; see "Dropping the latch"):
//!
//! - `count`, an `AtomicUsize`: how many count-downs are still missing.
//! - `state`, an `AtomicU32` and the futex word that waiters sleep on:
//!   `CLOSED`, `SLEEPERS` (closed, and a waiter may be asleep) or `OPEN`.
//!
//! **Counting down** by `n` is a compare-and-swap loop on `count`, from
//! `left` to `left - n`, tried only while `n <= left`: a count-down past
//! zero panics before it changes anything. The count only falls, so
//! exactly one count-down takes it from non-zero to zero. That one is the
//! *opener*: it swaps `OPEN` into `state`, and calls `futex_wake_all` only
//! if the value it replaced was `SLEEPERS`. Every other count-down touches
//! `count` alone and never disturbs the waiters.
//!
//! **Waiting** reads `state` and returns once it is `OPEN`. Until then the
//! waiter re-reads it for a moment ([`SpinWait`]), in case the last
//! count-down is about to happen on another core; then it announces itself
//! with a compare-and-swap from `CLOSED` to `SLEEPERS` (unless another
//! waiter already did) and calls `futex_wait(state, SLEEPERS)`. On every
//! return it reads `state` again, since the futex may return spuriously. A
//! timed wait whose deadline passes looks once more, so that a latch
//! opened just as time ran out still counts as open. A waiter that timed
//! out leaves `SLEEPERS` set, which costs the opener one `wake_all` that
//! finds nobody.
//!
//! **Why no wake-up is lost.** A waiter sleeps only if `state` still holds
//! `SLEEPERS` at the moment the kernel queues it. If the opener's swap
//! comes before that moment, the kernel finds `OPEN` and does not put the
//! waiter to sleep; if it comes after, the swap replaces `SLEEPERS`
//! (nothing but the opener's swap ever changes `state` once it holds
//! `SLEEPERS`), so the opener calls `wake_all` and finds the waiter queued.
//! The announcement cannot slip in after the opening either: its
//! compare-and-swap expects `CLOSED`, and fails on `OPEN`.
//!
//! **Why two words.** The count may be any `usize`, but a futex word has 32
//! bits, and sleeping on half of a 64-bit word is a mixed-size access that
//! Rust's memory model (and loom, and Miri) does not allow. The second word
//! costs the opener one more atomic operation, once per latch; in return
//! the waiters' word changes at most twice (announced, opened), so the
//! count-downs before the last never make a waiter that is about to sleep
//! fail its `futex_wait` and go round again.
//!
//! **Dropping the latch.** The count reaches zero one step before `state`
//! says `OPEN`, so every method decides "open" from `state` alone: a thread
//! that returned on seeing a zero count could free the latch before the
//! opener's swap, which would then write to freed memory. Once a waiter
//! has seen `OPEN`, though, its call returns, and the latch may be freed
//! while the opener is still inside `count_down`, about to call `wake_all`.
//! That is sound for the reasons told under "Dropping the barrier" in the
//! [`barrier`](crate::barrier) module: the opener takes the address of
//! `state` before its swap and touches nothing of the latch after it
//! (whether to wake comes from the swap's own result, and an
//! [`arrive_and_wait`](Latch::arrive_and_wait) whose count-down opened the
//! latch returns without looking at `state`); `weft_futex::wake_all` uses
//! the address only as a key; and no byte of a `Latch` is frozen behind
//! the opener's `&self`. That takes more than two atomic fields: on 64-bit
//! targets they would leave four bytes of padding, which lie outside any
//! atomic and are frozen like a plain field, so a third, unused atomic
//! fills them (without it, Miri reports the free in the test
//! `freed_by_the_waiter_while_the_opener_wakes`).
//!
//! # Memory ordering
//!
//! A latch promises that everything a thread did before its count-down
//! happens before everything a thread does after a call that saw the latch
//! open. Each count-down is a `Release` compare-and-swap of `count`; since
//! every change of `count` is a read-modify-write, they form one release
//! sequence, and the opener's compare-and-swap, `AcqRel`, reads its end and
//! so synchronizes with every count-down before it. The opener's swap of
//! `state` is `Release`, and every read of `state` that can show `OPEN` is
//! `Acquire` (the loads, and the announcement's compare-and-swap when it
//! fails), so a thread that sees `OPEN` sees all that the opener saw. The
//! announcement publishes nothing and is `Relaxed` when it succeeds; the
//! reads of `count` that only pick the next compare-and-swap are `Relaxed`.
//! The futex calls order nothing.

use core::fmt;
use std::sync::atomic::Ordering::{AcqRel, Acquire, Relaxed, Release};
use std::time::Duration;

use weft_futex::atomic::{AtomicU32, AtomicUsize};
use weft_futex::{Deadline, SpinWait};

/// The count is not zero yet, and no waiter sleeps.
const CLOSED: u32 = 0;
/// The count is not zero yet, and a waiter may be asleep on `state`: the
/// opener must wake all.
const SLEEPERS: u32 = 1;
/// The count is zero, for good.
const OPEN: u32 = 2;

/// A single-use latch: threads count it down, and waiters block until the
/// count reaches zero.
///
/// This is C++20's `std::latch`: [`new`](Self::new) sets the count,
/// [`count_down`](Self::count_down) lowers it, and [`wait`](Self::wait)
/// blocks until it is zero. Once open the latch stays open: unlike a
/// [`Barrier`](crate::Barrier) it cannot be reused, but the threads that
/// count down need not wait. Everything a thread did before its count-down
/// is visible to every thread after a `wait` returns.
///
/// It never allocates, makes no system call unless a waiter had to sleep,
/// and waiters sleep in the kernel rather than spin. See the [module
/// documentation](self) for how it works.
///
/// # Examples
///
/// The main thread waits until three workers have each done their part:
///
/// ```
/// use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
/// use weft_barrier::Latch;
///
/// let done = Latch::new(3);
/// let results = [AtomicU64::new(0), AtomicU64::new(0), AtomicU64::new(0)];
/// std::thread::scope(|s| {
///     for (i, result) in results.iter().enumerate() {
///         let done = &done;
///         s.spawn(move || {
///             result.store(10 * i as u64, Relaxed);
///             done.count_down();
///             // ... the worker may go on with other work here ...
///         });
///     }
///     done.wait();
///     // Every worker's result is in.
///     let total: u64 = results.iter().map(|r| r.load(Relaxed)).sum();
///     assert_eq!(total, 30);
/// });
/// ```
pub struct Latch {
    /// The count-downs still missing. Only falls, and never below zero.
    count: AtomicUsize,
    /// `CLOSED`, `SLEEPERS` or `OPEN`; the futex word of the waiters. It
    /// becomes `OPEN` only after `count` has reached zero.
    state: AtomicU32,
    /// Never used: it fills what would otherwise be padding after `state`,
    /// so that no byte of a `Latch` is frozen behind `&self` (see
    /// "Dropping the latch" in the module documentation).
    #[cfg(target_pointer_width = "64")]
    _padding: AtomicU32,
}

impl Latch {
    weft_futex::const_unless_loom! {
        /// Creates a latch that opens after `count` count-downs. With
        /// `count == 0` it is open from the start: every wait returns at
        /// once.
        ///
        /// # Examples
        ///
        /// ```
        /// use weft_barrier::Latch;
        ///
        /// static READY: Latch = Latch::new(1);
        /// assert!(!READY.try_wait());
        /// READY.count_down();
        /// assert!(READY.try_wait());
        /// ```
        pub fn new(count: usize) -> Self {
            Self {
                count: AtomicUsize::new(count),
                state: AtomicU32::new(if count == 0 { OPEN } else { CLOSED }),
                #[cfg(target_pointer_width = "64")]
                _padding: AtomicU32::new(0),
            }
        }
    }

    /// Lowers the count by one, and opens the latch (waking every waiter)
    /// if that brings it to zero. Does not block.
    ///
    /// The latch may be dropped as soon as the waiters' calls have
    /// returned, even while the `count_down` that opened it is still
    /// running.
    ///
    /// # Panics
    ///
    /// If the count is already zero; the count stays zero.
    ///
    /// # Examples
    ///
    /// ```
    /// let latch = weft_barrier::Latch::new(2);
    /// latch.count_down();
    /// assert!(!latch.try_wait());
    /// latch.count_down();
    /// assert!(latch.try_wait());
    /// ```
    #[inline]
    #[track_caller]
    pub fn count_down(&self) {
        self.count_down_and_open(1);
    }

    /// Lowers the count by `n`, and opens the latch (waking every waiter)
    /// if that brings it to zero. `n == 0` changes nothing. Does not
    /// block.
    ///
    /// # Panics
    ///
    /// If `n` is larger than what is left of the count (so always for
    /// `n == usize::MAX` unless the count is exactly that); the count stays
    /// as it was.
    ///
    /// # Examples
    ///
    /// ```
    /// let latch = weft_barrier::Latch::new(5);
    /// latch.count_down_by(3);
    /// assert_eq!(format!("{latch:?}"), "Latch { count: 2, .. }");
    /// latch.count_down_by(2);
    /// assert!(latch.try_wait());
    /// ```
    #[inline]
    #[track_caller]
    pub fn count_down_by(&self, n: usize) {
        self.count_down_and_open(n);
    }

    /// Blocks until the count is zero; returns at once if it already is.
    ///
    /// Everything each thread did before its count-down is visible to the
    /// caller once `wait` returns.
    ///
    /// # Examples
    ///
    /// ```
    /// use weft_barrier::Latch;
    ///
    /// let started = Latch::new(1);
    /// std::thread::scope(|s| {
    ///     s.spawn(|| started.count_down());
    ///     started.wait();
    /// });
    /// ```
    #[inline]
    pub fn wait(&self) {
        if !self.try_wait() {
            let opened = self.wait_until_open(Deadline::NEVER);
            debug_assert!(opened, "a wait without a deadline cannot time out");
        }
    }

    /// Like [`wait`](Self::wait), but gives up when `timeout` has passed;
    /// returns whether the count reached zero.
    ///
    /// `Duration::ZERO` answers at once, without spinning or sleeping: it
    /// is [`try_wait`](Self::try_wait). Any other timeout spins for a few
    /// microseconds before sleeping, as `wait` does; a timeout too large to
    /// represent waits without a deadline. `false` means the whole timeout
    /// passed with the latch closed.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use weft_barrier::Latch;
    ///
    /// let latch = Latch::new(1);
    /// assert!(!latch.wait_timeout(Duration::from_millis(10)));
    /// std::thread::scope(|s| {
    ///     s.spawn(|| latch.count_down());
    ///     assert!(latch.wait_timeout(Duration::from_secs(3600)));
    /// });
    /// ```
    pub fn wait_timeout(&self, timeout: Duration) -> bool {
        // Taken first, so that time spent looking counts.
        let deadline = Deadline::after(timeout);
        if self.try_wait() {
            return true;
        }
        !timeout.is_zero() && self.wait_until_open(deadline)
    }

    /// Whether the count is zero now. Never blocks.
    ///
    /// When it returns `true`, everything each thread did before its
    /// count-down is visible to the caller, as after [`wait`](Self::wait).
    ///
    /// # Examples
    ///
    /// ```
    /// let latch = weft_barrier::Latch::new(1);
    /// assert!(!latch.try_wait());
    /// latch.count_down();
    /// assert!(latch.try_wait());
    /// ```
    #[inline]
    #[must_use]
    pub fn try_wait(&self) -> bool {
        // Acquire: pairs with the opener's Release swap, so the count-downs'
        // writes are visible once we see OPEN.
        self.state.load(Acquire) == OPEN
    }

    /// Counts down by one, then waits until the count is zero: the latch
    /// used as a single-use barrier.
    ///
    /// # Panics
    ///
    /// If the count is already zero, as [`count_down`](Self::count_down).
    ///
    /// # Examples
    ///
    /// ```
    /// let latch = weft_barrier::Latch::new(3);
    /// std::thread::scope(|s| {
    ///     for _ in 0..3 {
    ///         s.spawn(|| {
    ///             // ... set up ...
    ///             latch.arrive_and_wait();
    ///             // ... every thread has finished setting up ...
    ///         });
    ///     }
    /// });
    /// ```
    #[inline]
    #[track_caller]
    pub fn arrive_and_wait(&self) {
        // The opener does not look at `state` again: the waiters may free
        // the latch as soon as they see it open.
        if !self.count_down_and_open(1) {
            self.wait();
        }
    }

    /// Lowers the count by `n`; returns whether this call opened the latch,
    /// in which case `self` may already be freed when it returns.
    #[inline]
    #[track_caller]
    fn count_down_and_open(&self, n: usize) -> bool {
        if n == 0 {
            return false;
        }
        let mut left = self.count.load(Relaxed);
        loop {
            if n > left {
                count_down_past_zero(n, left);
            }
            let opens = n == left;
            // Release: publishes this thread's writes along the release
            // sequence of `count`. AcqRel for the opener: its Acquire half
            // reads the end of that sequence, so it sees every count-down's
            // writes before it passes them on with the swap below.
            let order = if opens { AcqRel } else { Release };
            match self
                .count
                .compare_exchange_weak(left, left - n, order, Relaxed)
            {
                Ok(_) => break,
                Err(seen) => left = seen,
            }
        }
        if n == left {
            open(&self.state);
            true
        } else {
            false
        }
    }

    /// Waits until `state` is `OPEN`: spins a little, then announces itself
    /// and sleeps. Returns `false` only if `deadline` passed with the latch
    /// still closed.
    #[cold]
    fn wait_until_open(&self, deadline: Deadline) -> bool {
        let mut spin = SpinWait::new();
        // Acquire, here and at every read of `state` below (the failed
        // announcement's included): pairs with the opener's Release swap,
        // so the count-downs' writes are visible once we see OPEN.
        let mut state = self.state.load(Acquire);
        while state != OPEN {
            if spin.spin() {
                state = self.state.load(Acquire);
                continue;
            }
            if state == CLOSED {
                // Relaxed on success: the announcement publishes nothing.
                if let Err(seen) = self
                    .state
                    .compare_exchange(CLOSED, SLEEPERS, Relaxed, Acquire)
                {
                    state = seen;
                    continue;
                }
            }
            // Sleep while `state` still says SLEEPERS; the opener's swap
            // changes it and is followed by `wake_all`.
            if !weft_futex::wait_until(&self.state, SLEEPERS, deadline) {
                // One last look: a latch opened as time ran out is open.
                return self.try_wait();
            }
            state = self.state.load(Acquire);
        }
        true
    }
}

/// Opens the latch, whose count has just reached zero, and wakes the
/// sleepers. A waiter that sees `OPEN` may free the latch at once, so
/// after the swap only the address of `state` is used.
#[inline]
fn open(state: &AtomicU32) {
    // Taken before the swap (see "Dropping the latch").
    let word: *const AtomicU32 = state;
    // Release: pairs with the waiters' Acquire reads of `state`, passing on
    // the writes of every count-down (which this thread's AcqRel
    // compare-and-swap acquired).
    if state.swap(OPEN, Release) == SLEEPERS {
        wake_all(word);
    }
}

/// Wakes every thread asleep on the latch's word.
///
/// `word` may dangle: the latch may be freed from the instant it opened.
#[cold]
fn wake_all(word: *const AtomicU32) {
    // No `unsafe` is needed, but this is where the latch may already be
    // freed: `weft_futex::wake_all` only uses the address as a key (see
    // "Dropping the latch" in the module documentation).
    weft_futex::wake_all(word);
}

/// The panic of a count-down by more than what is left.
#[cold]
#[track_caller]
fn count_down_past_zero(n: usize, left: usize) -> ! {
    panic!("cannot count a latch down by {n}: only {left} left")
}

/// Shows the count left (a snapshot that may be stale at once).
impl fmt::Debug for Latch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Latch")
            .field("count", &self.count.load(Relaxed))
            .finish_non_exhaustive()
    }
}

//! Backing off: the one schedule every Weft primitive spins by.
//!
//! A thread that finds a primitive busy has three different things to wait
//! for, and [`SpinWait`] has a method for each:
//!
//! - [`spin`](SpinWait::spin): a condition another thread will make true,
//!   perhaps much later. Spin briefly, then the caller sleeps on a futex.
//! - [`snooze`](SpinWait::snooze): another thread that is in the middle of
//!   an operation (it has claimed a slot and not yet filled it). It is
//!   running or about to, so waiting never takes long and sleeping is not
//!   an option: there is no futex to be woken on.
//! - [`pause`](SpinWait::pause): nothing; a compare-and-swap was lost to
//!   another thread, which has already moved on. Backing off only spreads
//!   the retries of the threads that collided.

use crate::{spin_loop, yield_now};

/// The spin-then-sleep schedule every Weft primitive follows before it
/// waits on a futex, with the two other backoffs of the module
/// documentation: rounds of 1, 2, 4 and 8 pause instructions, then up to
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
    /// [`pause`](Self::pause) doubles up to `1 << 6` pauses.
    const MAX_PAUSE_DOUBLINGS: u32 = 6;

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

    /// Waits a moment for a thread in the middle of an operation: the
    /// [`spin`](Self::spin) schedule, then a yield of the time slice each
    /// time once the schedule is spent. It never gives up: the caller has
    /// nothing to sleep on, and the thread it waits for will finish.
    #[inline]
    pub fn snooze(&mut self) {
        if !self.spin() {
            yield_now();
        }
    }

    /// Backs off after a lost compare-and-swap: 1, 2, 4, ... pause
    /// instructions, doubling with each call up to 64, never a yield (the
    /// winner is running, and a yield would cost more than the retry).
    ///
    /// Under `--cfg loom` it yields instead, which is how the model lets the
    /// winner take its next step.
    #[inline]
    pub fn pause(&mut self) {
        if cfg!(loom) {
            yield_now();
            return;
        }
        for _ in 0..1u32 << self.round {
            spin_loop();
        }
        self.round = (self.round + 1).min(Self::MAX_PAUSE_DOUBLINGS);
    }

    /// Starts the current schedule over (repeats already used stay used:
    /// after a sleep, one schedule is enough).
    #[inline]
    pub fn reset(&mut self) {
        self.round = 0;
    }
}

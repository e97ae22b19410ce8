//! An event count: how a blocked thread sleeps until the queue changes in
//! its favour.
//!
//! Each queue has two [`EventCount`]s: *not empty*, on which consumers
//! sleep, and *not full*, on which producers sleep. An event count is two
//! words:
//!
//! - `seq`, a counter that a notifier increments and sleepers futex-wait on;
//! - `sleepers`, the number of threads registered to sleep, so that the
//!   notifier of a push or pop with nobody asleep pays one load and no
//!   system call.
//!
//! # The protocol
//!
//! A thread that found the queue empty (or full) and spun a while
//! ([`SPIN_SCHEDULES`]) without luck:
//!
//! 1. registers: `sleepers += 1` (`SeqCst`);
//! 2. reads `seq`;
//! 3. tries its operation once more, whose empty (full) check reads the
//!    other index after a `SeqCst` fence;
//! 4. only if that fails, sleeps with `futex_wait(seq, value read in 2)`.
//!
//! A thread that pushed (popped) moved `tail` (`head`) with a `SeqCst`
//! compare-and-swap, and then reads `sleepers` (`SeqCst`); if it is not zero
//! it increments `seq` and wakes one sleeper.
//!
//! **Why no wake-up is lost.** Steps 1 and 3 of the sleeper and the two
//! steps of the notifier form a Dekker pair under `SeqCst`: either the
//! notifier's read of `sleepers` sees the registration, or the sleeper's
//! re-check in step 3 sees the moved index and does not sleep. In the first
//! case the notifier increments `seq`: if that happens before step 4, the
//! kernel sees a changed `seq` and does not sleep; if after, the sleeper is
//! queued in the kernel and the wake finds it.
//!
//! One wake per push is enough: every value pushed wakes one consumer, and a
//! woken consumer that lost the value to a faster one goes back to sleep;
//! somebody got the value. `close` wakes everybody.
//!
//! # Loom
//!
//! Loom models a `SeqCst` *access* as if it were only acquire/release, which
//! would break the Dekker argument inside the model and report lost
//! wake-ups that cannot happen; it does model `SeqCst` *fences*. So under
//! `--cfg loom` the notifier adds a `SeqCst` fence before reading
//! `sleepers`, giving the model the same guarantee that the `SeqCst`
//! accesses give real code (where the fence would cost an `mfence` on every
//! push).

use std::sync::atomic::Ordering::{Acquire, Relaxed, Release, SeqCst};

use weft_futex::atomic::AtomicU32;
use weft_futex::{Deadline, SpinWait};

/// How many [`SpinWait`] schedules a blocked thread goes through, retrying
/// its operation after each round, before it registers and sleeps: about
/// 120 pauses and 48 yields, some tens of microseconds.
///
/// A queue that is full (or empty) between two running threads usually
/// changes within that time, and catching the change awake saves the
/// system calls of a sleep and a wake on both sides; why eight, see
/// BENCHMARKS.md, Design measurements, queue. Yields give the core away
/// whenever another thread wants it, so the spinning costs little when
/// threads outnumber cores.
const SPIN_SCHEDULES: u32 = 8;

/// Sleepers waiting for one kind of change; see the module documentation.
pub(crate) struct EventCount {
    /// Incremented by every notification that may find a sleeper.
    seq: AtomicU32,
    /// Threads between registering and waking.
    sleepers: AtomicU32,
}

impl EventCount {
    pub(crate) fn new() -> Self {
        Self {
            seq: AtomicU32::new(0),
            sleepers: AtomicU32::new(0),
        }
    }

    /// Wakes one sleeper, if any. Call after a `SeqCst` change of the
    /// queue's indices that may let a sleeper proceed.
    #[inline]
    pub(crate) fn notify_one(&self) {
        loom_fence();
        // SeqCst: the notifier's half of the Dekker pair.
        if self.sleepers.load(SeqCst) != 0 {
            self.wake(false);
        }
    }

    /// Wakes every sleeper, for `close`.
    pub(crate) fn notify_all(&self) {
        loom_fence();
        // SeqCst: as in `notify_one`.
        if self.sleepers.load(SeqCst) != 0 {
            self.wake(true);
        }
    }

    #[cold]
    fn wake(&self, all: bool) {
        // Release: pairs with the Acquire load of `seq` in `wait_until`, so
        // a sleeper that reads the new count also sees the change that
        // caused it.
        self.seq.fetch_add(1, Release);
        if all {
            weft_futex::wake_all(&self.seq);
        } else {
            weft_futex::wake_one(&self.seq);
        }
    }

    /// Calls `attempt` until it returns `Some`, sleeping in between; returns
    /// `None` if `deadline` passes first.
    ///
    /// `attempt` must read the queue's other index with `SeqCst` (after a
    /// `SeqCst` fence) before it reports failure, and read the closed bit
    /// after that same fence; that is the sleeper's half of the Dekker pair,
    /// with pushes and pops on one side and with `close` on the other.
    pub(crate) fn wait_until<R>(
        &self,
        deadline: Deadline,
        mut attempt: impl FnMut() -> Option<R>,
    ) -> Option<R> {
        let mut spin = SpinWait::repeated(SPIN_SCHEDULES);
        loop {
            if let Some(done) = attempt() {
                return Some(done);
            }
            if spin.spin() {
                continue;
            }

            // SeqCst: the sleeper's half of the Dekker pair.
            self.sleepers.fetch_add(1, SeqCst);
            // Acquire: pairs with the Release increment in `wake`.
            let seq = self.seq.load(Acquire);
            if let Some(done) = attempt() {
                self.sleepers.fetch_sub(1, Relaxed);
                return Some(done);
            }
            let in_time = weft_futex::wait_until(&self.seq, seq, deadline);
            self.sleepers.fetch_sub(1, Relaxed);
            if !in_time {
                // One last try: a value that arrived with the deadline is
                // still taken rather than left behind.
                return attempt();
            }
            spin.reset();
        }
    }
}

/// A `SeqCst` fence under loom only; see "Loom" in the module documentation.
#[inline]
fn loom_fence() {
    #[cfg(loom)]
    weft_futex::atomic::fence(SeqCst);
}

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
//! # Selecting threads
//!
//! A thread blocked in a select sleeps on its own word, not on `seq` (see
//! `select/context.rs`), so an event count also keeps a [`Registry`] of the
//! selects waiting on it, behind a lock, and the top bit of `sleepers`,
//! [`SELECTING`], says that the registry is not empty. A notifier still
//! reads only `sleepers`: a queue that nobody selects on pays nothing more.
//! When the bit is set, the notifier claims one registered select (all of
//! them for `close`) and wakes it, and falls back on the sleepers of `seq`
//! only if there was none to claim.
//!
//! A select registers (setting the bit, if it is the first, with a `SeqCst`
//! read-modify-write, under the registry's lock) and then checks the queue
//! after a `SeqCst` fence before it sleeps: the same Dekker pair as above,
//! with one more case. A select that finds the registry not empty sets no
//! bit itself; but the bit was set by an earlier entry's `SeqCst`
//! read-modify-write, inside the lock, before this select's own check (the
//! lock orders them), so a notifier whose load misses the bit also comes
//! before that check in the `SeqCst` order, and the check sees its change.
//! A notifier that sees the bit takes the lock: if it gets it before the
//! select registered, its change came before the select's check, which
//! sees it; if after, it finds the entry.
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
use weft_mutex::Mutex;

use crate::select::{Context, Entry, Registry};

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

/// The bit of `sleepers` that says selects are registered.
const SELECTING: u32 = 1 << 31;

/// Sleepers waiting for one kind of change; see the module documentation.
///
/// `repr(C)` keeps the two words that every push and pop may touch at the
/// front, next to the other event count's, with the registry behind them.
#[repr(C)]
pub(crate) struct EventCount {
    /// Incremented by every notification that may find a sleeper.
    seq: AtomicU32,
    /// ```text
    /// bit 31     SELECTING: `selectors` holds entries
    /// bits 0-30  threads between registering to sleep on `seq` and waking
    /// ```
    sleepers: AtomicU32,
    /// The selects waiting for this change.
    selectors: Mutex<Registry>,
}

impl EventCount {
    pub(crate) fn new() -> Self {
        Self {
            seq: AtomicU32::new(0),
            sleepers: AtomicU32::new(0),
            selectors: Mutex::new(Registry::default()),
        }
    }

    /// Wakes one sleeper or select, if any. Call after a `SeqCst` change of
    /// the queue's indices that may let a sleeper proceed.
    #[inline]
    pub(crate) fn notify_one(&self) {
        loom_fence();
        // SeqCst: the notifier's half of the Dekker pair.
        let sleepers = self.sleepers.load(SeqCst);
        if sleepers != 0 {
            self.wake(sleepers, false);
        }
    }

    /// Wakes every sleeper and select, for `close`.
    pub(crate) fn notify_all(&self) {
        loom_fence();
        // SeqCst: as in `notify_one`.
        let sleepers = self.sleepers.load(SeqCst);
        if sleepers != 0 {
            self.wake(sleepers, true);
        }
    }

    /// The rest of a notification that found `sleepers` not zero.
    #[cold]
    fn wake(&self, sleepers: u32, all: bool) {
        if sleepers & SELECTING != 0 && self.selectors.lock().notify(all) && !all {
            return;
        }
        if sleepers & !SELECTING == 0 {
            return;
        }
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

    /// Registers a select's entry. The caller then checks the queue, after
    /// a `SeqCst` fence, before its thread sleeps; see "Selecting threads".
    pub(crate) fn register(&self, entry: Entry) {
        let mut selectors = self.selectors.lock();
        if selectors.is_empty() {
            // SeqCst: the select's half of the Dekker pair.
            self.sleepers.fetch_or(SELECTING, SeqCst);
        }
        selectors.register(entry);
    }

    /// Removes the entry of `cx` for `op`, if it is still registered.
    pub(crate) fn unregister(&self, cx: &Context, op: u32) {
        let mut selectors = self.selectors.lock();
        selectors.unregister(cx, op);
        if selectors.is_empty() {
            // Relaxed: a notifier that still sees the bit only takes the
            // lock for nothing.
            self.sleepers.fetch_and(!SELECTING, Relaxed);
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

//! The context of a selecting thread: one futex word that says whether
//! the thread still waits and, once something happened, what.
//!
//! A thread that blocks in a select registers an [`Entry`] with every
//! channel it selects on, each entry naming the thread's [`Context`] and
//! one operation of the select. A channel that can now let an operation
//! proceed *claims* the context for it: a compare-and-swap of the word
//! from [`WAITING`] to that operation, then a futex wake. The
//! compare-and-swap succeeds once, so when several channels fire together
//! exactly one claim wins and the others see a word that is no longer
//! `WAITING` and move on. The selecting thread itself ends its wait the same
//! way, swapping in [`ABORTED`] when it finds an operation ready on its own
//! or its deadline passes; if that fails, a channel's claim came first and
//! the thread takes the claimed operation.
//!
//! Each thread has one context, reused by all its selects (a select never
//! runs inside another on the same thread). A context is reset to `WAITING`
//! only after the thread has removed every entry of its previous select,
//! under each channel's lock, and channels claim only under that lock; so
//! no claim meant for an earlier select can land on a later one. A late
//! futex wake can: that is a spurious wake-up, which [`Context::wait_until`]
//! sleeps through.

use std::sync::atomic::Ordering::{Acquire, Relaxed, Release};

use weft_futex::Deadline;
use weft_futex::atomic::AtomicU32;
use weft_futex::sync::Arc;

/// The state of a context whose thread is registered and may sleep.
pub(crate) const WAITING: u32 = 0;
/// The thread ended its wait itself: it found an operation ready while
/// registering, or its deadline passed.
pub(crate) const ABORTED: u32 = 1;
/// `FIRST_OP + i`: a channel claimed the thread's operation `i`.
const FIRST_OP: u32 = 2;

/// The futex word of one selecting thread; see the module documentation.
#[derive(Debug)]
pub(crate) struct Context {
    /// [`WAITING`], [`ABORTED`], or `FIRST_OP + i` once operation `i` was
    /// claimed. The thread sleeps on it while it is `WAITING`.
    state: AtomicU32,
}

/// A registration of one operation of a select with one channel.
#[derive(Debug)]
pub(crate) struct Entry {
    /// The selecting thread.
    pub(crate) cx: Arc<Context>,
    /// The value a claim stores in the context's word.
    pub(crate) op: u32,
    /// A watcher waits for the operation to become ready without
    /// performing it (`Select::ready`); a channel wakes every watcher but
    /// only one selector per event.
    pub(crate) watch: bool,
}

impl Context {
    fn new() -> Self {
        Self {
            state: AtomicU32::new(WAITING),
        }
    }

    /// The calling thread's context, reset to [`WAITING`]; a fresh one if
    /// the thread's own is gone (a select from a thread-local destructor).
    pub(crate) fn current() -> Arc<Self> {
        weft_futex::thread::thread_local! {
            static CONTEXT: Arc<Context> = Arc::new(Context::new());
        }
        let cx = CONTEXT
            .try_with(Arc::clone)
            .unwrap_or_else(|_| Arc::new(Self::new()));
        // Relaxed: no entry of this context is registered anywhere, and the
        // registrations that follow are published by the channels' locks.
        cx.state.store(WAITING, Relaxed);
        cx
    }

    /// The word's value for operation `index` of a select.
    pub(crate) fn op(index: usize) -> u32 {
        u32::try_from(index)
            .ok()
            .and_then(|i| i.checked_add(FIRST_OP))
            .expect("too many operations in one select")
    }

    /// The index of the claimed operation, if `state` names one.
    pub(crate) fn claimed(state: u32) -> Option<usize> {
        state.checked_sub(FIRST_OP).map(|i| i as usize)
    }

    /// Whether `self` and `other` are the same thread's context.
    pub(crate) fn is(&self, other: &Self) -> bool {
        core::ptr::eq(self, other)
    }

    /// The current state.
    pub(crate) fn state(&self) -> u32 {
        // Acquire: pairs with the Release of a claim, as in `wait_until`.
        self.state.load(Acquire)
    }

    /// Whether the thread still waits to be claimed.
    pub(crate) fn is_waiting(&self) -> bool {
        // Relaxed: only a shortcut before `try_claim`, which decides.
        self.state.load(Relaxed) == WAITING
    }

    /// Claims the context for `op` if nothing else has; the caller holds
    /// the lock of the channel where the entry is registered, and must call
    /// [`wake`](Self::wake) after a success.
    pub(crate) fn try_claim(&self, op: u32) -> bool {
        // Release: pairs with the Acquire loads of the selecting thread
        // (`wait_until`, `state`), which so sees what the claimer wrote
        // before, such as a rendezvous hand-off.
        self.state
            .compare_exchange(WAITING, op, Release, Relaxed)
            .is_ok()
    }

    /// Wakes the context's thread after a successful claim.
    pub(crate) fn wake(&self) {
        weft_futex::wake_one(&self.state);
    }

    /// Ends the wait from the thread itself: [`ABORTED`], or the operation
    /// a channel claimed first.
    pub(crate) fn abort(&self) -> u32 {
        // Acquire on failure: as in `state`.
        match self
            .state
            .compare_exchange(WAITING, ABORTED, Relaxed, Acquire)
        {
            Ok(_) => ABORTED,
            Err(state) => state,
        }
    }

    /// Sleeps until a channel claims the context or `deadline` passes, and
    /// returns the final state: a claimed operation, or [`ABORTED`].
    pub(crate) fn wait_until(&self, deadline: Deadline) -> u32 {
        loop {
            let state = self.state();
            if state != WAITING {
                return state;
            }
            if !weft_futex::wait_until(&self.state, WAITING, deadline) {
                return self.abort();
            }
        }
    }
}

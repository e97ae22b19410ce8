//! Type-erased jobs: what the queue holds.
//!
//! A [`JobRef`] is a data pointer and the function that knows what it
//! points to, rayon-core's `JobRef` (`rayon-core/src/job.rs`). The queue
//! never learns the types of a call's closure, items or results, and a
//! blocking call can push pointers into its own stack frame: no allocation
//! per job, and none at all per item.
//!
//! Each job also names its [`Owner`], the call it belongs to, which is how
//! a waiting thread finds the queued jobs it may run itself:
//!
//! - a `fork_join`'s `b`, pointing to the call's frame on the caller's
//!   stack (`fork_join::ForkJoinB`), owned by that call's context;
//! - a `scope`'s task, a box that the job frees (`scope::ScopeTask`), owned
//!   by the scope's context;
//! - a blocking `map`'s ticket, pointing to the call's descriptor on the
//!   caller's stack (`map::MapCall`), owned by the call's context;
//! - a blocking `apply` from outside the pool, pointing to a descriptor on
//!   the caller's stack (`apply::ApplyJob`), owned by nothing anybody looks
//!   for;
//! - the async forms' jobs, pointing to a heap allocation that the job
//!   owns (`map::MapAsync`, `apply::HeapApply`), owned by the result's
//!   slot, which `AsyncResult::get` looks for.
//!
//! Every `execute` catches the panics of user code (and reports them to the
//! call), so a job never unwinds into the thread that runs it.

use std::fmt;
use std::ptr;

use crate::context::{self, Context};

/// A pointer to a job and the function that runs it, and the call the job
/// belongs to.
#[derive(Clone, Copy)]
pub(crate) struct JobRef {
    data: *const (),
    execute: unsafe fn(*const ()),
    owner: Owner,
}

/// The call a job belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Owner {
    /// A `fork_join`, `scope` or blocking `map`, which waits in its
    /// caller's frame; the job runs with this context current.
    Context(*const Context),
    /// A call that no frame helps with (an async call's slot, a blocking
    /// `apply`'s descriptor); the address only identifies it. The job runs
    /// with no current context.
    Call(*const ()),
}

/// A `JobRef` is made to be run on another thread: each constructor's
/// caller guarantees that what `data` points to may be used from the
/// thread that runs it (the pool's methods require `Send` items and
/// results and `Sync` closures, or `Send` ones for a job run once), and
/// the owner is only compared, or followed as `context.rs` allows.
// SAFETY: see the doc comment above.
unsafe impl Send for JobRef {}

impl JobRef {
    /// Wraps `data`, the function that runs it, and its owner.
    ///
    /// # Safety
    ///
    /// Until the job has been executed (or removed from the queue by its
    /// owner), `data` must stay valid for `execute`, and `execute(data)`
    /// must be sound to call once per pushed copy, from any thread. An
    /// `Owner::Context` must wait for the job before it goes away.
    pub(crate) unsafe fn new(data: *const (), execute: unsafe fn(*const ()), owner: Owner) -> Self {
        Self {
            data,
            execute,
            owner,
        }
    }

    /// The call the job belongs to.
    #[inline]
    pub(crate) fn owner(&self) -> Owner {
        self.owner
    }

    /// The context that owns the job; null for a job of an
    /// [`Owner::Call`].
    #[inline]
    pub(crate) fn context(&self) -> *const Context {
        match self.owner {
            Owner::Context(context) => context,
            Owner::Call(_) => ptr::null(),
        }
    }

    /// Runs the job, with its context current (see `context.rs`).
    ///
    /// # Safety
    ///
    /// Called once per copy pushed, as promised to [`JobRef::new`], by a
    /// thread that took the copy out of the queue.
    #[inline]
    pub(crate) unsafe fn run(self) {
        // Jobs catch every panic of user code; one escaping would unwind a
        // frame that a queued job may point into, so treat it as fatal.
        let abort = AbortOnUnwind;
        // SAFETY: guaranteed by `new`'s contract and this function's.
        context::run_in(self.context(), || unsafe { (self.execute)(self.data) });
        std::mem::forget(abort);
    }
}

impl fmt::Debug for JobRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("JobRef")
            .field(&self.data)
            .field(&self.owner)
            .finish()
    }
}

/// Aborts the process if dropped during a panic: a job unwound into the
/// thread that ran it, which the pool's jobs never do.
struct AbortOnUnwind;

impl Drop for AbortOnUnwind {
    fn drop(&mut self) {
        eprintln!("weft-pool: a job unwound out of its execution; aborting");
        std::process::abort();
    }
}

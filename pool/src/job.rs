//! Type-erased jobs: what the queue holds.
//!
//! A [`JobRef`] is a data pointer and the function that knows what it
//! points to, rayon-core's `JobRef` (`rayon-core/src/job.rs`). The queue
//! never learns the types of a call's closure, items or results, and a
//! blocking call can push pointers into its own stack frame: no allocation
//! per job, and none at all per item.
//!
//! Three kinds of job exist, each with its own `execute` function:
//!
//! - a blocking `map`'s ticket, pointing to the call's descriptor on the
//!   caller's stack (`map::MapCall`);
//! - a blocking `apply`, pointing to a descriptor on the caller's stack
//!   (`apply::ApplyJob`);
//! - the async forms' jobs, pointing to a heap allocation that the job
//!   owns (`map::MapAsync`, `apply::HeapApply`).
//!
//! Every `execute` catches the panics of user code (and reports them to the
//! call), so a job never unwinds into the worker loop.

use std::fmt;

/// A pointer to a job and the function that runs it.
#[derive(Clone, Copy)]
pub(crate) struct JobRef {
    data: *const (),
    execute: unsafe fn(*const ()),
}

/// A `JobRef` is made to be run on another thread: each constructor's
/// caller guarantees that what `data` points to may be used from the
/// worker that pops it (the pool's methods require `Send` items and
/// results and `Sync` closures, or `Send` ones for a job run once).
// SAFETY: see the doc comment above.
unsafe impl Send for JobRef {}

impl JobRef {
    /// Wraps `data` and the function that runs it.
    ///
    /// # Safety
    ///
    /// Until the job has been executed (or removed from the queue by its
    /// owner), `data` must stay valid for `execute`, and `execute(data)`
    /// must be sound to call once per pushed copy, from any thread.
    pub(crate) unsafe fn new(data: *const (), execute: unsafe fn(*const ())) -> Self {
        Self { data, execute }
    }

    /// The data pointer, which identifies the call a job belongs to.
    pub(crate) fn data(&self) -> *const () {
        self.data
    }

    /// Runs the job.
    ///
    /// # Safety
    ///
    /// Called once per copy pushed, as promised to [`JobRef::new`].
    pub(crate) unsafe fn execute(self) {
        // SAFETY: guaranteed by `new`'s contract and this function's.
        unsafe { (self.execute)(self.data) }
    }
}

impl fmt::Debug for JobRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("JobRef").field(&self.data).finish()
    }
}

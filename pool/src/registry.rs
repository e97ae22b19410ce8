//! What the pool's threads share: the job queue, the worker count, and the
//! worker loop.

use std::cell::Cell;
use std::ptr;

use crate::injector::Injector;
use crate::job::JobRef;
use crate::spare::Spare;
use crate::sync::Arc;

/// The state shared by a pool's handle and its worker threads.
#[derive(Debug)]
pub(crate) struct Registry {
    /// Every job of the pool goes through this queue.
    pub(crate) injector: Injector<JobRef>,
    /// The input buffer kept between blocking map calls.
    pub(crate) spare: Spare,
    workers: usize,
}

#[cfg(not(loom))]
std::thread_local! {
    /// The registry whose worker the current thread is; null elsewhere.
    static WORKER_OF: Cell<*const Registry> = const { Cell::new(ptr::null()) };
}

#[cfg(loom)]
weft_futex::loom::thread_local! {
    /// The registry whose worker the current thread is; null elsewhere.
    static WORKER_OF: Cell<*const Registry> = Cell::new(ptr::null());
}

impl Registry {
    /// A registry for `workers` threads, none of them started.
    pub(crate) fn new(workers: usize) -> Self {
        Self {
            injector: Injector::new(),
            spare: Spare::default(),
            workers,
        }
    }

    /// The number of worker threads.
    #[inline]
    pub(crate) fn workers(&self) -> usize {
        self.workers
    }

    /// Whether the calling thread is one of this registry's workers.
    #[inline]
    pub(crate) fn is_current_worker(&self) -> bool {
        WORKER_OF.with(|w| ptr::eq(w.get(), self))
    }

    /// A worker thread's whole life: pop a job, run it, repeat; sleep when
    /// there is none; return when the pool is closed and its queue empty.
    pub(crate) fn main_loop(this: Arc<Registry>) {
        WORKER_OF.with(|w| w.set(Arc::as_ptr(&this)));
        // Jobs catch every panic of user code; one escaping would mean a
        // call whose latch never opens, so treat it as fatal.
        let abort = AbortOnUnwind;
        while let Some(job) = this.injector.pop_or_sleep() {
            // SAFETY: each pushed copy of a job is popped, and so run, once;
            // whoever pushed it keeps its data alive until it has run.
            unsafe { job.execute() };
        }
        std::mem::forget(abort);
        WORKER_OF.with(|w| w.set(ptr::null()));
    }
}

/// Aborts the process if dropped during a panic: a job unwound into the
/// worker loop, which the pool's jobs never do.
struct AbortOnUnwind;

impl Drop for AbortOnUnwind {
    fn drop(&mut self) {
        eprintln!("weft-pool: a job unwound into the worker loop; aborting");
        std::process::abort();
    }
}

//! What the pool's threads share: the job queue, the worker count, and the
//! worker loop.

use std::cell::Cell;
use std::ptr;
use std::sync::atomic::Ordering::Relaxed;

use weft_futex::atomic::AtomicUsize;
use weft_futex::sync::Arc;

use crate::injector::Injector;
use crate::job::JobRef;
use crate::spare::Spare;

/// The state shared by a pool's handle and its worker threads.
#[derive(Debug)]
pub(crate) struct Registry {
    /// Every job of the pool goes through this queue.
    pub(crate) injector: Injector<JobRef>,
    /// The input buffer kept between blocking map calls.
    pub(crate) spare: Spare,
    /// How many workers may be waiting on the feeds of fed map calls right
    /// now; kept below `workers` (see [`reserve_feeders`](Self::reserve_feeders)).
    feeders: AtomicUsize,
    workers: usize,
}

// std's `thread_local!` with a `const` initializer, which needs no lazy
// initialization on the path of every blocking call; loom's has no `const`
// form, so under loom the facade's takes over.
#[cfg(not(loom))]
std::thread_local! {
    /// The registry whose worker the current thread is; null elsewhere.
    static WORKER_OF: Cell<*const Registry> = const { Cell::new(ptr::null()) };
}

#[cfg(loom)]
weft_futex::thread::thread_local! {
    /// The registry whose worker the current thread is; null elsewhere.
    static WORKER_OF: Cell<*const Registry> = Cell::new(ptr::null());
}

impl Registry {
    /// A registry for `workers` threads, none of them started.
    pub(crate) fn new(workers: usize) -> Self {
        Self {
            injector: Injector::new(),
            spare: Spare::default(),
            feeders: AtomicUsize::new(0),
            workers,
        }
    }

    /// Reserves up to `want` workers to run a fed call's chunks while its
    /// caller is still collecting them, and returns how many it got.
    ///
    /// Such a worker waits on the caller, and the caller's iterator may
    /// itself wait for pool work (a task it feeds from, a `map` of its
    /// own). So fed calls together never hold more than `workers - 1`
    /// workers: one at least stays free for everything else, and the pool
    /// cannot deadlock on its own feeds. A call that gets fewer waits with
    /// its other tickets until its input is collected. Give the
    /// reservation back with [`release_feeders`](Self::release_feeders)
    /// once the feed is closed.
    pub(crate) fn reserve_feeders(&self, want: usize) -> usize {
        let limit = self.workers - 1;
        let mut taken = 0;
        // Relaxed: a count of permissions; nothing is published through it.
        let _ = self.feeders.fetch_update(Relaxed, Relaxed, |now| {
            taken = want.min(limit.saturating_sub(now));
            Some(now + taken)
        });
        taken
    }

    /// Gives back `n` workers reserved by [`reserve_feeders`](Self::reserve_feeders).
    pub(crate) fn release_feeders(&self, n: usize) {
        if n > 0 {
            // Relaxed: as in `reserve_feeders`.
            self.feeders.fetch_sub(n, Relaxed);
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

    /// Calls `f` with the registry whose worker the calling thread is, if
    /// that registry's address is `addr`; returns `None` otherwise.
    pub(crate) fn with_current_worker_at<T>(
        addr: usize,
        f: impl FnOnce(&Registry) -> T,
    ) -> Option<T> {
        let registry = WORKER_OF.with(Cell::get);
        if registry.is_null() || registry.addr() != addr {
            return None;
        }
        // SAFETY: the calling thread is one of this registry's workers,
        // whose loop holds a reference to it for as long as the thread
        // runs jobs, and so during this call.
        Some(f(unsafe { &*registry }))
    }

    /// A worker thread's whole life: pop a job, run it, repeat; sleep when
    /// there is none; return when the pool is closed and its queue empty.
    pub(crate) fn main_loop(this: Arc<Registry>) {
        WORKER_OF.with(|w| w.set(Arc::as_ptr(&this)));
        while let Some(job) = this.injector.pop_or_sleep() {
            // SAFETY: each pushed copy of a job is popped (or taken back),
            // and so run, once; whoever pushed it keeps its data alive
            // until it has run.
            unsafe { job.run() };
        }
        WORKER_OF.with(|w| w.set(ptr::null()));
    }
}

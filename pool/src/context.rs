//! Contexts: which waiting call a queued job belongs to, and which calls
//! wait for it through others.
//!
//! # Implementation
//!
//! Every call that pushes jobs pointing into its caller's frame and then
//! waits for them (a `fork_join`, a `scope`, a blocking `map`) keeps a
//! [`Context`] in that frame: the [`CountLatch`] it waits on, and its
//! *parent*, the context of the job that the calling thread was running
//! when the call was made (null on a thread that runs no job, and inside
//! async jobs, which nobody helps with). The jobs it pushes carry a pointer
//! to it ([`Owner::Context`](crate::job::Owner)), and a thread that runs
//! such a job makes its context *current* (a thread-local) for as long as
//! the job runs, so that the calls made inside the job become its
//! children.
//!
//! The parent links thus draw the tree of waits: a call returns only after
//! its jobs have finished, each job only after the calls made inside it
//! have returned, and so on down. A job whose context's chain of parents
//! reaches a context `C` is one that `C`'s frame waits for, through the
//! calls in between: a *descendant* of `C`. That is the only kind of job
//! a waiting frame runs (see `help.rs`).
//!
//! **Why the chain can be walked.** A queued job's context is alive: its
//! frame waits for the job. That frame sits inside a running job of the
//! parent context (the job that made the call), so the parent's frame
//! waits for that job and is alive too, and so on up to the root. The
//! links never change after a context is made, and they were written
//! before the job that carries them was pushed, so a thread that holds the
//! queue's lock (or runs inside the chain) may follow them.

use std::cell::Cell;
use std::ptr;

use crate::latch::CountLatch;
use crate::registry::Registry;

// std's `thread_local!` with a `const` initializer, which needs no lazy
// initialization on the path of every call; loom's has no `const` form.
#[cfg(not(loom))]
std::thread_local! {
    /// The context of the job the current thread is running; null when it
    /// runs none.
    static CURRENT: Cell<*const Context> = const { Cell::new(ptr::null()) };
}

#[cfg(loom)]
weft_futex::thread::thread_local! {
    /// The context of the job the current thread is running; null when it
    /// runs none.
    static CURRENT: Cell<*const Context> = Cell::new(ptr::null());
}

/// A waiting call: the latch its frame waits on, the call it was made
/// inside, and whether its frame helps with descendants.
#[derive(Debug)]
pub(crate) struct Context {
    /// Counts the call's jobs that have not finished.
    pub(crate) latch: CountLatch,
    /// The context of the job that was running on the calling thread when
    /// this one was made; null at a root.
    parent: *const Context,
    /// The registry whose queue holds the context's jobs.
    registry: *const Registry,
    /// Whether the waiting frame also runs the queued descendants of the
    /// context: it runs on one of the registry's workers. Otherwise it
    /// runs only its own jobs.
    helps: bool,
}

/// Nothing in a context is written after it is made except the latch,
/// which is atomic; the pointers are only followed while the contexts they
/// point to are alive (see the module docs).
// SAFETY: see the doc comment above.
unsafe impl Sync for Context {}

/// A context holds nothing tied to the thread that made it: its pointers
/// name other contexts and a registry, followed from any thread under the
/// rules above. (This makes `Scope` `Send`, as `std::thread::Scope` is.)
// SAFETY: see the doc comment above.
unsafe impl Send for Context {}

impl Context {
    /// A context made by the current thread, child of its current context,
    /// for jobs pushed to `registry`'s queue, whose latch starts at `count`.
    /// `helps` says whether its frame runs descendants while it waits (it
    /// runs on one of the registry's workers).
    pub(crate) fn new(count: usize, registry: &Registry, helps: bool) -> Self {
        Self {
            latch: CountLatch::new(count),
            parent: current(),
            registry,
            helps,
        }
    }

    /// Whether this context's waiting frame runs descendants of it from
    /// `registry`'s queue.
    #[inline]
    pub(crate) fn helps_in(&self, registry: &Registry) -> bool {
        self.helps && ptr::eq(self.registry, registry)
    }

    /// The parent context; null at a root.
    #[inline]
    pub(crate) fn parent(&self) -> *const Context {
        self.parent
    }

    /// Whether `ancestor` is a strict ancestor of `context`: whether it
    /// waits for `context`'s jobs through the calls in between.
    ///
    /// # Safety
    ///
    /// `context` is null or a context whose chain is alive: the context of
    /// a job in the queue, with the queue's lock held, or one the calling
    /// thread runs inside.
    pub(crate) unsafe fn is_below(context: *const Context, ancestor: *const Context) -> bool {
        let mut c = context;
        while !c.is_null() {
            // SAFETY: the chain is alive, by this function's contract.
            c = unsafe { (*c).parent };
            if ptr::eq(c, ancestor) {
                return true;
            }
        }
        false
    }
}

/// The context of the job the current thread is running; null if none.
#[inline]
pub(crate) fn current() -> *const Context {
    CURRENT.with(Cell::get)
}

/// Whether the calling thread runs work that `registry` has accepted: it
/// is one of the registry's workers, or it runs a job of one of the
/// registry's contexts (a scope's task, or a `fork_join`'s `b`, that a
/// caller from outside took back). A `fork_join` or `scope` called there
/// is nested work, which a closed pool still takes.
pub(crate) fn runs_work_of(registry: &Registry) -> bool {
    if registry.is_current_worker() {
        return true;
    }
    let context = current();
    // SAFETY: the current context is that of the job this thread runs, and
    // its frame waits for the job, so it is alive.
    !context.is_null() && ptr::eq(unsafe { (*context).registry }, registry)
}

/// Makes `context` current, runs `f`, and makes the previous one current
/// again. (`f` never unwinds: it runs a job, which catches its panics.)
#[inline]
pub(crate) fn run_in<T>(context: *const Context, f: impl FnOnce() -> T) -> T {
    let previous = CURRENT.with(|c| c.replace(context));
    let value = f();
    CURRENT.with(|c| c.set(previous));
    value
}

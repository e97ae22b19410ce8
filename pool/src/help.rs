//! Waiting that helps: a thread that waits for a call of its own runs the
//! call's queued jobs, and on a worker their descendants, instead of
//! sleeping; and a push wakes such a waiter when it brings a job the
//! waiter could run.
//!
//! # Implementation
//!
//! A `fork_join`, a `scope`, or a blocking `map` made on a worker waits for
//! its [`Context`]'s latch in [`Registry::wait_helping`]:
//!
//! 1. If the latch is open, return.
//! 2. Under the queue's lock, pick a job: one of the call's own, newest
//!    first (a `fork_join`'s `b` is usually the last job pushed, so taking
//!    it back costs one comparison), else, if the frame runs on one of the
//!    pool's workers, the oldest queued *descendant* of the call (a job
//!    whose context's chain of parents reaches the call's, see
//!    `context.rs`). Run it, with its context current, and go to 1.
//! 3. Spin a little, watching the latch and the queue's length (going to
//!    1 when they change); one budget for each stretch of finding
//!    nothing, so that other calls' traffic on the queue cannot keep the
//!    frame from sleeping.
//! 4. Pick again, and if there is still nothing, announce the sleep in the
//!    same critical section: set the latch's `SLEEPING` and `HELPING` bits
//!    and count the frame among the queue's `waiters`. Sleep on the latch's
//!    word, clear the bits, and go to 1.
//!
//! A thread that is not one of the pool's workers (a caller from outside)
//! runs only its call's own jobs: a job that some worker waits for never
//! runs on a thread outside the pool, so no worker ever waits for an
//! outside thread, which may itself be blocked in ways the pool does not
//! see (an `AsyncResult::get` that does not run the job it waits for).
//!
//! **Pokes.** A job pushed while every worker is busy may be one that a
//! sleeping frame could run: a task spawned into a scope whose owner
//! sleeps, or a `b` pushed by a worker running a job that another worker's
//! frame waits for. [`Registry::push_nested`] pushes like any submission
//! (waking idle workers), and if some frame sleeps in step 4 and the push
//! woke fewer idle workers than it brought jobs, it walks up the job's
//! chain of contexts and pokes the nearest frames that would run it: the
//! job's own context, whatever thread waits for it, and ancestors waiting
//! on this pool's workers. The pusher runs inside the chain (it runs the
//! call the job belongs to, or a job that call waits for), so every frame
//! in it is alive. No wake-up is lost: a frame announces its sleep in a
//! critical section that found nothing, and a push that comes after it
//! reads the frame's count in `waiters` and then its `HELPING` bit, so it
//! pokes (or another pusher already did, and the frame will look again
//! after both pushes); a push that comes before is found by the frame's
//! pick (see `injector.rs` and `latch.rs` for the two halves).
//!
//! **Why helping never deadlocks** is argued in the design note
//! (`README.md`, "Nesting"): every job put on top of a waiting frame is
//! one the frame waits for anyway.

use std::collections::VecDeque;

use weft_futex::SpinWait;

use crate::context::Context;
use crate::job::{JobRef, Owner};
use crate::registry::Registry;

impl Registry {
    /// Pushes `copies` copies of `job`, a job of a context (a
    /// `fork_join`'s `b`, a `scope`'s task, a nested `map`'s tickets), even
    /// if the pool is closed, and makes sure a thread comes for each: an
    /// idle worker, or a sleeping frame that would run it (a poke).
    ///
    /// The calling thread runs inside the job's context, or inside a job
    /// that the context waits for.
    pub(crate) fn push_nested(&self, job: JobRef, copies: usize) {
        let unserved = self.injector.push_nested(job, copies);
        if unserved > 0 {
            self.poke_waiters(job.context(), unserved);
        }
    }

    /// Pokes up to `n` sleeping frames that would run a job of `context`,
    /// nearest first (see the module docs).
    #[cold]
    fn poke_waiters(&self, context: *const Context, mut n: usize) {
        let mut own = true;
        let mut c = context;
        while n > 0 && !c.is_null() {
            // SAFETY: the caller of `push_nested` runs inside this chain,
            // so every context in it is alive (see `context.rs`).
            let context = unsafe { &*c };
            // Its own frame takes the job wherever it runs; an ancestor's
            // only if it runs on one of this pool's workers.
            if (own || context.helps_in(self)) && context.latch.poke() {
                n -= 1;
            }
            own = false;
            c = context.parent();
        }
    }

    /// Waits until `context`'s latch opens, running meanwhile the queued
    /// jobs of the context and, if its frame runs on one of this pool's
    /// workers, their descendants (see the module docs). Afterwards,
    /// everything the counted jobs wrote is visible. Never unwinds.
    pub(crate) fn wait_helping(&self, context: &Context) {
        let this: *const Context = context;
        let descendants = context.helps_in(self);
        let pick = move |jobs: &VecDeque<JobRef>| pick(jobs, this, descendants);
        // One spin budget for each stretch of finding nothing: the queue's
        // length changes with other calls' work too, and a frame that
        // looked again at every change might never sleep.
        let mut spin = SpinWait::new();
        // The queue's length when the frame last looked.
        let mut seen = None;
        loop {
            if context.latch.is_open() {
                return;
            }
            let len = self.injector.len();
            if seen != Some(len) {
                seen = Some(len);
                if let Some(job) = self.injector.take(pick) {
                    // SAFETY: the job was taken out of the queue: this
                    // thread runs this copy, once.
                    unsafe { job.run() };
                    (spin, seen) = (SpinWait::new(), None);
                    continue;
                }
            }
            if spin.spin() {
                continue;
            }
            let announce = || context.latch.announce_helping_sleep();
            match self.injector.take_or_announce(pick, announce) {
                // SAFETY: as above.
                Ok(job) => unsafe { job.run() },
                // The latch opened.
                Err(None) => return,
                Err(Some(word)) => {
                    context.latch.sleep(word);
                    context.latch.end_helping_sleep();
                    self.injector.waiter_awake();
                }
            }
            (spin, seen) = (SpinWait::new(), None);
        }
    }
}

/// The index of the job that a frame waiting for `context` runs next: its
/// own newest, else (if `descendants`) the oldest descendant.
///
/// Called under the queue's lock, where every queued job's chain of
/// contexts is alive.
fn pick(jobs: &VecDeque<JobRef>, context: *const Context, descendants: bool) -> Option<usize> {
    let own = Owner::Context(context);
    if let Some(i) = jobs.iter().rposition(|job| job.owner() == own) {
        return Some(i);
    }
    if !descendants {
        return None;
    }
    // SAFETY: the jobs are queued and the lock is held (see above).
    jobs.iter()
        .position(|job| unsafe { Context::is_below(job.context(), context) })
}

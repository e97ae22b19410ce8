//! `fork_join`: run two closures, perhaps in parallel, and return both
//! results (rayon's `join`).
//!
//! # Implementation
//!
//! rayon-core's `join` (`rayon-core/src/join/mod.rs`) on the pool's one
//! queue. The call keeps `b`, a cell for its result and a [`Context`] (a
//! latch of one) in a [`ForkJoinB`] on the caller's stack (rayon's
//! `StackJob`), and pushes one job pointing to it. Then the caller runs `a`
//! itself. Meanwhile an idle worker may pop `b` and run it.
//!
//! Once `a` has returned, the caller waits for the context in
//! [`Registry::wait_helping`]: if `b` is still queued, that takes it back
//! out of the queue (searching from the back, where it usually is the last
//! job) and runs it right there; if a worker took it, the caller runs the
//! worker's queued descendants of `b` (if the caller is itself a worker)
//! until `b` is done, then sleeps. Either way the job counts the latch
//! down as its last access to the frame, and the caller returns only after
//! the latch opens: the queued job points into the caller's frame, so the
//! frame must outlive it. Nothing between the push and the end of the wait
//! unwinds (`a` runs inside `catch_unwind`).
//!
//! A panic in either closure is re-raised once both have finished: `a`'s
//! payload if both panicked (`b`'s is dropped), and the other closure's
//! result is dropped first. Dropping any of these never raises a second
//! panic (see `panics.rs`).
//!
//! The job costs no allocation; the push and the take-back are one
//! critical section each, and the push wakes an idle worker only if one
//! sleeps.

use std::panic::{self, AssertUnwindSafe};
use std::thread;

use weft_futex::UnsafeCell;

use crate::context::{self, Context};
use crate::job::{JobRef, Owner};
use crate::latch::CountLatch;
use crate::panics::{drop_quietly, refuse};
use crate::pool::Pool;

/// The `b` half of a `fork_join`, in the caller's frame.
struct ForkJoinB<B, RB> {
    /// The call's place in the tree of waits; its latch counts `b`.
    context: Context,
    /// Taken by whichever thread runs the job.
    b: UnsafeCell<Option<B>>,
    /// `b`'s outcome, read by the caller after the latch opens.
    result: UnsafeCell<Option<thread::Result<RB>>>,
}

impl<B, RB> ForkJoinB<B, RB>
where
    B: FnOnce() -> RB + Send,
    RB: Send,
{
    /// Runs `b`, stores its outcome, opens the latch.
    ///
    /// # Safety
    ///
    /// `this` is a `ForkJoinB<B, RB>` whose caller waits on its latch, and
    /// this runs once.
    unsafe fn execute(this: *const ()) {
        let this = this.cast::<Self>();
        {
            // SAFETY: the caller keeps the frame alive until the latch
            // opens.
            let job = unsafe { &*this };
            // SAFETY: only this execution touches `b`, once.
            let b = job.b.with_mut(|b| unsafe { (*b).take() });
            let b = b.expect("a fork_join's b runs once");
            let outcome = panic::catch_unwind(AssertUnwindSafe(b));
            // SAFETY: the caller reads `result` only after the latch opens.
            job.result
                .with_mut(|result| unsafe { *result = Some(outcome) });
        }
        // SAFETY: the frame is live until this count-down takes effect, and
        // not touched after it.
        unsafe { CountLatch::count_down(&raw const (*this).context.latch, 1) };
    }
}

impl Pool {
    /// Runs `a` and `b`, perhaps in parallel, and returns both results:
    /// rayon's `join` (the name [`join`](Self::join) is Python's shutdown).
    ///
    /// `b` is offered to the workers while the calling thread runs `a`;
    /// once `a` is done, the caller runs `b` itself if no worker took it,
    /// or else waits for it, running meanwhile (on one of the pool's
    /// workers) the jobs that `b` left queued. Both closures may borrow
    /// from the caller. Calls nest freely: `fork_join` and
    /// [`scope`](Self::scope) inside either closure, or inside any task of
    /// the pool, never deadlock, even on a pool of one worker (see the
    /// crate's design note, "Nesting").
    ///
    /// Splitting work in two at each level, down to pieces big enough to
    /// pay for a hand-off (a few microseconds of work), lets the pool
    /// balance recursive divide-and-conquer by itself.
    ///
    /// # Panics
    ///
    /// If `a` or `b` panics, with its payload (`a`'s if both do), once both
    /// have finished. If the pool is closed and the call is not made inside
    /// one of its tasks ("pool is closed"); called from a task (on a worker,
    /// or a scope's task run by its caller), `fork_join` is part of
    /// accepted work and runs after a [`close`](Self::close) too.
    ///
    /// # Examples
    ///
    /// Fibonacci, split in two down to a sequential cutoff:
    ///
    /// ```
    /// use weft_pool::Pool;
    ///
    /// fn fib(pool: &Pool, n: u64) -> u64 {
    ///     if n < 15 {
    ///         return fib_sequential(n);
    ///     }
    ///     let (a, b) = pool.fork_join(|| fib(pool, n - 1), || fib(pool, n - 2));
    ///     a + b
    /// }
    ///
    /// fn fib_sequential(n: u64) -> u64 {
    ///     if n < 2 { n } else { fib_sequential(n - 1) + fib_sequential(n - 2) }
    /// }
    ///
    /// let pool = Pool::new(2);
    /// assert_eq!(fib(&pool, 25), 75_025);
    /// ```
    ///
    /// Quicksort, sorting the two halves of a borrowed slice in place:
    ///
    /// ```
    /// use weft_pool::Pool;
    ///
    /// fn quicksort<T: Ord + Send>(pool: &Pool, v: &mut [T]) {
    ///     if v.len() <= 1_000 {
    ///         v.sort_unstable();
    ///         return;
    ///     }
    ///     let mid = partition(v);
    ///     let (low, high) = v.split_at_mut(mid);
    ///     pool.fork_join(|| quicksort(pool, low), || quicksort(pool, &mut high[1..]));
    /// }
    ///
    /// /// Lomuto's partition around the last element; returns its final index.
    /// fn partition<T: Ord>(v: &mut [T]) -> usize {
    ///     let pivot = v.len() - 1;
    ///     let mut store = 0;
    ///     for i in 0..pivot {
    ///         if v[i] <= v[pivot] {
    ///             v.swap(i, store);
    ///             store += 1;
    ///         }
    ///     }
    ///     v.swap(store, pivot);
    ///     store
    /// }
    ///
    /// let pool = Pool::new(2);
    /// let mut v: Vec<u32> = (0..10_000u32).map(|i| i.wrapping_mul(2_654_435_761) % 1_009).collect();
    /// quicksort(&pool, &mut v);
    /// assert!(v.windows(2).all(|w| w[0] <= w[1]));
    /// ```
    pub fn fork_join<A, B, RA, RB>(&self, a: A, b: B) -> (RA, RB)
    where
        A: FnOnce() -> RA + Send,
        B: FnOnce() -> RB + Send,
        RA: Send,
        RB: Send,
    {
        let registry = &*self.registry;
        if registry.injector.is_closed() && !context::runs_work_of(registry) {
            refuse(a, b);
        }
        let job = ForkJoinB {
            context: Context::new(1, registry, registry.is_current_worker()),
            b: UnsafeCell::new(Some(b)),
            result: UnsafeCell::new(None),
        };
        let owner = Owner::Context(&raw const job.context);
        // SAFETY: the frame lives here until the latch opens below, and the
        // job counts the latch down as its last access; `B` and `RB` are
        // `Send`, so another thread may run `b` and hand back its result.
        let job_ref =
            unsafe { JobRef::new((&raw const job).cast(), ForkJoinB::<B, RB>::execute, owner) };
        registry.push_nested(job_ref, 1);

        let ra = panic::catch_unwind(AssertUnwindSafe(a));
        // Takes `b` back if it is still queued; returns once it has run,
        // and never unwinds: the soundness of the call rests on this.
        registry.wait_helping(&job.context);
        // SAFETY: the latch is open: the job wrote the result and will not
        // touch the frame again.
        let rb = job.result.with_mut(|result| unsafe { (*result).take() });
        let rb = rb.expect("a finished fork_join's b leaves its result");
        match (ra, rb) {
            (Ok(ra), Ok(rb)) => (ra, rb),
            (Err(payload), rb) => {
                drop_quietly(rb);
                panic::resume_unwind(payload)
            }
            (Ok(ra), Err(payload)) => {
                drop_quietly(ra);
                panic::resume_unwind(payload)
            }
        }
    }
}

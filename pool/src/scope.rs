//! `scope`: tasks that may borrow from outside the scope, run on the
//! pool's workers, and all finish before the scope returns.
//!
//! # Implementation
//!
//! rayon-core's `scope` (`rayon-core/src/scope/mod.rs`) on the pool's one
//! queue, with the lifetimes of `std::thread::scope`. A [`Scope`] lives in
//! the frame of [`Pool::scope`]: a [`Context`] whose latch counts the
//! unfinished tasks, and the first panic. [`Scope::spawn`] counts the task
//! up, boxes it with a reference to the scope (a [`ScopeTask`]), and pushes
//! one job owning the box; whichever thread runs the job frees the box,
//! calls the task, records its panic, and counts the latch down as its
//! last access to the scope.
//!
//! Once the body has returned, the caller waits for the latch in
//! [`Registry::wait_helping`](crate::registry::Registry): it runs the
//! scope's queued tasks itself, newest first, and (on one of the pool's
//! workers) the queued descendants of the tasks other threads run, and
//! sleeps when there is neither. A task spawned by a task while the
//! caller sleeps wakes it (a poke, see `help.rs`) if no idle worker was
//! woken for it. The latch opens only when every task has finished: a
//! task is counted before it is pushed, by its spawner, which is the body
//! (before the wait starts) or a task still counted itself. So no task can
//! outlive the borrows it holds, and the scope never returns or unwinds
//! while a task may still touch it.
//!
//! **Panics.** The first panic, of a task or of the body, is kept; later
//! ones are dropped. It is raised again once every task has finished, and
//! the body's value, if any, is dropped first. The pool keeps its workers:
//! every task runs inside `catch_unwind`.

use std::fmt;
use std::marker::PhantomData;
use std::panic::{self, AssertUnwindSafe};

use weft_mutex::Mutex;

use crate::context::{self, Context};
use crate::job::{JobRef, Owner};
use crate::latch::CountLatch;
use crate::panics::{Payload, drop_quietly, refuse};
use crate::pool::Pool;
use crate::registry::Registry;

/// A scope in which tasks that borrow from outside it run on the pool:
/// made by [`Pool::scope`], which returns only after every task spawned in
/// it has finished.
///
/// `'env` is the lifetime of what the tasks may borrow, and `'s` that of
/// the scope itself; like [`std::thread::Scope`], the type is invariant in
/// both.
///
/// # Examples
///
/// ```
/// let pool = weft_pool::Pool::new(2);
/// let mut halves = [vec![1, 2, 3], vec![4, 5, 6]];
/// let factor = 10;
/// pool.scope(|s| {
///     for half in &mut halves {
///         s.spawn(move |_| half.iter_mut().for_each(|x| *x *= factor));
///     }
/// });
/// assert_eq!(halves, [[10, 20, 30], [40, 50, 60]]);
/// ```
///
/// A task may not borrow what lives only inside the scope's body, which
/// may be gone before the task runs:
///
/// ```compile_fail
/// let pool = weft_pool::Pool::new(1);
/// pool.scope(|s| {
///     let local = vec![1, 2, 3];
///     s.spawn(|_| assert_eq!(local.len(), 3));
/// });
/// ```
///
/// and a task runs on another thread, so what it captures must be `Send`:
///
/// ```compile_fail
/// let pool = weft_pool::Pool::new(1);
/// let shared = std::rc::Rc::new(1);
/// pool.scope(|s| s.spawn(move |_| assert_eq!(*shared, 1)));
/// ```
pub struct Scope<'s, 'env: 's> {
    registry: &'s Registry,
    /// The scope's place in the tree of waits; its latch counts the
    /// unfinished tasks.
    context: Context,
    /// The first panic of a task or of the body.
    panic: Mutex<Option<Payload>>,
    scope: PhantomData<&'s mut &'s ()>,
    env: PhantomData<&'env mut &'env ()>,
}

impl Pool {
    /// Runs `f` with a [`Scope`] in which it (and the tasks themselves) may
    /// spawn tasks that borrow from outside the scope, and returns `f`'s
    /// value once every task has finished.
    ///
    /// The tasks run on the pool's workers; while the caller waits for
    /// them, it runs those still queued itself (and, on one of the pool's
    /// workers, the queued jobs of the tasks that other workers run). The
    /// pool keeps its workers when `scope` returns. Scopes, and
    /// [`fork_join`](Self::fork_join), nest freely, inside the body, inside
    /// tasks, and inside any task of the pool, and never deadlock (see the
    /// crate's design note, "Nesting").
    ///
    /// # Panics
    ///
    /// If a task or `f` panics, with the first payload, once every task has
    /// finished (the other tasks still run). If the pool is closed and the
    /// call is not made inside one of its tasks ("pool is closed"); a scope
    /// called from a task, and one that has started, keep accepting tasks
    /// after a [`close`](Self::close).
    ///
    /// # Examples
    ///
    /// Counting through a shared borrow, and writing disjoint parts of a
    /// borrowed slice, from tasks that spawn tasks:
    ///
    /// ```
    /// use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
    ///
    /// let pool = weft_pool::Pool::new(2);
    /// let total = AtomicU64::new(0);
    /// let mut squares = vec![0u64; 100];
    /// pool.scope(|s| {
    ///     for (i, chunk) in squares.chunks_mut(10).enumerate() {
    ///         let total = &total;
    ///         s.spawn(move |s| {
    ///             for (j, x) in chunk.iter_mut().enumerate() {
    ///                 let n = (10 * i + j) as u64;
    ///                 *x = n * n;
    ///             }
    ///             s.spawn(move |_| {
    ///                 total.fetch_add(1, Relaxed);
    ///             });
    ///         });
    ///     }
    /// });
    /// assert_eq!(total.into_inner(), 10);
    /// assert_eq!(squares[99], 9801);
    /// ```
    pub fn scope<'env, R>(&self, f: impl for<'s> FnOnce(&'s Scope<'s, 'env>) -> R) -> R {
        let registry = &*self.registry;
        if registry.injector.is_closed() && !context::runs_work_of(registry) {
            refuse(f, ());
        }
        let scope = Scope {
            registry,
            context: Context::new(0, registry, registry.is_current_worker()),
            panic: Mutex::new(None),
            scope: PhantomData,
            env: PhantomData,
        };
        let value = match panic::catch_unwind(AssertUnwindSafe(|| f(&scope))) {
            Ok(value) => Some(value),
            Err(payload) => {
                scope.record_panic(payload);
                None
            }
        };
        // Returns once every task has finished, and never unwinds: the
        // soundness of the tasks' borrows rests on this.
        registry.wait_helping(&scope.context);
        let panic = scope.panic.lock().take();
        match (value, panic) {
            (Some(value), None) => value,
            (value, Some(payload)) => {
                drop_quietly(value);
                panic::resume_unwind(payload)
            }
            (None, None) => unreachable!("a body that panicked left its payload"),
        }
    }
}

impl<'s, 'env> Scope<'s, 'env> {
    /// Spawns `task` on the pool. It may borrow anything that outlives the
    /// scope, and gets the scope, to spawn more tasks; the scope returns
    /// only after it has finished.
    ///
    /// # Panics
    ///
    /// With more than 2^29 - 1 tasks spawned and unfinished at once. (A
    /// panic of the task itself is raised by [`Pool::scope`].)
    ///
    /// # Examples
    ///
    /// A tree walked by tasks that each spawn a task per child:
    ///
    /// ```
    /// use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};
    /// use weft_pool::Scope;
    ///
    /// struct Node(Vec<Node>);
    ///
    /// fn count<'s>(s: &'s Scope<'s, '_>, node: &'s Node, nodes: &'s AtomicUsize) {
    ///     nodes.fetch_add(1, Relaxed);
    ///     for child in &node.0 {
    ///         s.spawn(move |s| count(s, child, nodes));
    ///     }
    /// }
    ///
    /// let tree = Node(vec![Node(vec![]), Node(vec![Node(vec![]), Node(vec![])])]);
    /// let nodes = AtomicUsize::new(0);
    /// let pool = weft_pool::Pool::new(2);
    /// pool.scope(|s| count(s, &tree, &nodes));
    /// assert_eq!(nodes.into_inner(), 5);
    /// ```
    pub fn spawn(&'s self, task: impl FnOnce(&'s Scope<'s, 'env>) + Send + 's) {
        self.spawn_task(task);
    }

    /// [`spawn`](Self::spawn), with the task's type named.
    fn spawn_task<F>(&'s self, task: F)
    where
        F: FnOnce(&'s Scope<'s, 'env>) + Send + 's,
    {
        if !self.context.latch.try_count_up() {
            drop_quietly(task);
            panic!("too many unfinished tasks: a scope holds at most 2^29 - 1");
        }
        let job = Box::into_raw(Box::new(ScopeTask {
            scope: self,
            f: task,
        }));
        let owner = Owner::Context(&raw const self.context);
        // SAFETY: the job owns the box and frees it when it runs, once; the
        // scope, and everything the task borrows for `'s`, outlives the
        // job, since the scope waits for the count taken above, which the
        // job gives back last. `F: Send`, and the scope is `Sync`.
        let job_ref = unsafe {
            JobRef::new(
                job.cast_const().cast(),
                ScopeTask::<'s, 'env, F>::execute,
                owner,
            )
        };
        self.registry.push_nested(job_ref, 1);
    }

    /// Keeps `payload` if it is the scope's first panic; drops it quietly
    /// otherwise.
    fn record_panic(&self, payload: Payload) {
        let later = {
            let mut first = self.panic.lock();
            if first.is_none() {
                *first = Some(payload);
                None
            } else {
                Some(payload)
            }
        };
        drop_quietly(later);
    }
}

impl fmt::Debug for Scope<'_, '_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Scope").finish_non_exhaustive()
    }
}

/// A spawned task and the scope it belongs to, boxed; the job owns the box.
struct ScopeTask<'s, 'env, F> {
    scope: &'s Scope<'s, 'env>,
    f: F,
}

impl<'s, 'env, F> ScopeTask<'s, 'env, F>
where
    F: FnOnce(&'s Scope<'s, 'env>) + Send + 's,
{
    /// Frees the box, runs the task, records its panic, and counts the
    /// scope's latch down.
    ///
    /// # Safety
    ///
    /// `this` came from `Box::into_raw` of a `ScopeTask<'s, 'env, F>`
    /// counted on its scope's latch, and this runs once.
    unsafe fn execute(this: *const ()) {
        // SAFETY: guaranteed by the contract above.
        let task = unsafe { Box::from_raw(this.cast::<Self>().cast_mut()) };
        let ScopeTask { scope, f } = *task;
        let this_scope: *const Scope<'s, 'env> = scope;
        if let Err(payload) = panic::catch_unwind(AssertUnwindSafe(move || f(scope))) {
            // SAFETY: the scope waits for this task's count, given back
            // below.
            unsafe { (*this_scope).record_panic(payload) };
        }
        // SAFETY: the scope is live until this count-down takes effect, and
        // not touched after it.
        unsafe { CountLatch::count_down(&raw const (*this_scope).context.latch, 1) };
    }
}

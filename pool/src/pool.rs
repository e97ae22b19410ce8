//! The `Pool` handle: starting and stopping the workers, and every way of
//! giving them work.
//!
//! How the pieces fit is told in the crate's design note (`README.md`);
//! this file holds the public methods and the lifecycle, and hands each
//! call to the module that runs it (`map`, `apply`).

use std::fmt;
use std::panic;

use weft_futex::sync::Arc;
use weft_futex::thread;

use crate::apply::{self, ApplyJob, HeapApply};
use crate::async_result::AsyncResult;
use crate::map::{MapAsync, MapCall, check_chunksize, default_chunksize, map_blocking};
use crate::panics::{call_then_drop, drop_vec_quietly, refuse};
use crate::registry::Registry;
use crate::star::StarFn;

/// A pool of worker threads that run functions over many inputs: Python's
/// `multiprocessing.Pool`, on threads.
///
/// - Blocking calls, [`map`](Self::map), [`starmap`](Self::starmap) (and
///   their `_chunked` forms) and [`apply`](Self::apply), may borrow from the
///   caller's stack, and return the results in input order.
/// - Async calls, [`map_async`](Self::map_async),
///   [`starmap_async`](Self::starmap_async) and
///   [`apply_async`](Self::apply_async), take `'static` work and return an
///   [`AsyncResult`] at once.
/// - [`close`](Self::close) refuses new work, [`join`](Self::join) (and
///   dropping the pool) waits for all queued work and the threads.
///
/// `Pool::new(n)` starts `n` threads that live as long as the pool and run
/// up to `n` chunks at once. Idle workers sleep in the kernel and use no
/// CPU.
///
/// # Panics in tasks
///
/// A panic inside a blocking call's function is re-raised in the caller,
/// with the task's own payload, but only after every chunk of the call has
/// finished (no fail-fast: the chunks borrow the caller's data). An async
/// call reports it as `Err(TaskError)` from [`AsyncResult::get`]. Either
/// way the pool keeps all its workers.
///
/// # Values whose `Drop` panics
///
/// The pool never drops a value it was given while a panic unwinds (a
/// second panic there would abort the process), and a panicking `Drop`
/// never hides a task's payload:
///
/// - The results a failed call had produced, the items its failed chunk
///   had not reached, the items a refused call had already collected, and
///   the results of a `map_async` that nobody took are dropped one by one,
///   each panic of their `Drop` passed over.
/// - A refused call drops its function and its input, quietly, before it
///   panics with "pool is closed".
/// - Every call drops its function once the call is over: after a task
///   panicked, quietly, and the task's panic is the one reported; after
///   success, a panic of the function's `Drop` is reported (raised by a
///   blocking call, as the `TaskError` of an async one), and the results
///   are dropped quietly.
/// - An item's `Drop` that runs inside `f` (which owns the item) is part of
///   the task: its panic is the task's panic.
///
/// What stays under Rust's ordinary rules: a refused call's input and the
/// results handed back are each dropped as one value (a `Vec` whose
/// elements' `Drop`s panic twice aborts, as any `Vec` does), and an input
/// iterator that panics is dropped while its own panic unwinds, as in
/// `iter.collect()`.
///
/// # Nesting
///
/// A task may use the pool that runs it (through a `&Pool` it borrows or an
/// `Arc<Pool>`), and waiting inside a task never deadlocks the pool, even
/// with a single worker: a worker that waits runs queued work meanwhile,
/// but only work it waits for.
///
/// - A blocking call made on one of the pool's own workers takes part in
///   the call, running its chunks itself, while any idle workers help;
///   `apply` simply runs the function on the calling worker.
/// - [`fork_join`](Self::fork_join) and [`scope`](Self::scope) run their
///   own queued jobs themselves, and, on a worker, the queued jobs of the
///   tasks that other workers run for them.
/// - Waiting for an [`AsyncResult`] on one of the pool's workers runs the
///   task right there if no worker has started it yet.
///
/// Such nested calls keep working after [`close`](Self::close), since they
/// belong to work the pool already accepted. (Tasks that block each other
/// by other means, a channel or a lock, can still hold every worker, as in
/// any pool of fixed size.)
///
/// # Examples
///
/// ```
/// use weft_pool::Pool;
///
/// let pool = Pool::new(4);
/// let factor = 3;
/// let data = vec![1, 2, 3, 4];
/// // Blocking calls borrow `factor` and `data`; `f` gets a `&i32`.
/// assert_eq!(pool.map(|x| x * factor, &data), [3, 6, 9, 12]);
/// assert_eq!(pool.starmap(u64::pow, [(2, 3), (10, 2)]), [8, 100]);
/// assert_eq!(pool.apply(|a: i32, b: i32| a - b, (50, 8)), 42);
///
/// let later = pool.map_async(|x: u64| x + 1, vec![1, 2, 3]);
/// assert_eq!(later.get().unwrap(), [2, 3, 4]);
/// pool.join();
/// ```
pub struct Pool {
    pub(crate) registry: Arc<Registry>,
    /// The workers, joined by `Drop`.
    pub(crate) threads: Vec<thread::JoinHandle<()>>,
}

impl Pool {
    /// Starts a pool of `workers` threads, named `weft-pool-{i}`:
    /// `Pool::builder().workers(workers).build()`, with a panic for an
    /// error (see [`PoolBuilder`](crate::PoolBuilder)).
    ///
    /// # Panics
    ///
    /// If `workers` is zero ("a pool needs at least one worker"), or if a
    /// thread cannot be started (the threads already started are joined
    /// first).
    ///
    /// # Examples
    ///
    /// ```
    /// let pool = weft_pool::Pool::new(2);
    /// assert_eq!(pool.workers(), 2);
    /// ```
    pub fn new(workers: usize) -> Self {
        Pool::builder()
            .workers(workers)
            .build()
            .expect("failed to start a pool worker thread")
    }

    /// The number of worker threads.
    #[inline]
    pub fn workers(&self) -> usize {
        self.registry.workers()
    }

    /// Calls `f` on every item, on the workers, and returns the results in
    /// input order. Blocks until all are done.
    ///
    /// The items are split into contiguous chunks of Python's default size,
    /// `ceil(len / (4 * workers))` (see [`default_chunksize`]); each chunk
    /// runs in order on one worker. `f` and the items may borrow from the
    /// caller: mapping over `&data` hands `f` a `&T`. By the time `map`
    /// returns, `f` and every item have been dropped.
    ///
    /// If the input is long (65 536 items or more) and its iterator's size
    /// hint exact (slices, `Vec`s, ranges and most adapters over them), and
    /// the pool has two workers or more, the workers start on the first
    /// chunks while this thread is still taking the later items from the
    /// iterator (see the crate's design note). An iterator that breaks its
    /// hint still has every item it yields mapped, once, in order.
    ///
    /// # Panics
    ///
    /// If the pool is closed ("pool is closed"), and with the task's own
    /// payload if `f` panicked on some item, once every chunk has finished.
    /// If the input iterator panics, that panic comes back, after the
    /// chunks already started have finished and every result and item has
    /// been dropped; `f` may have run on items before the failing one.
    ///
    /// # Examples
    ///
    /// ```
    /// let pool = weft_pool::Pool::new(2);
    /// let words = ["apple", "fig", "banana"];
    /// assert_eq!(pool.map(|w| w.len(), &words), [5, 3, 6]);
    /// assert_eq!(pool.map(|x: u32| x * 2, 0..4), [0, 2, 4, 6]);
    /// ```
    pub fn map<T, R, F, I>(&self, f: F, items: I) -> Vec<R>
    where
        I: IntoIterator<Item = T>,
        T: Send,
        R: Send,
        F: Fn(T) -> R + Sync,
    {
        self.blocking(f, items, |f, items| {
            map_blocking(&self.registry, f, items.into_iter(), None)
        })
    }

    /// [`map`](Self::map) with chunks of `chunksize` items (the last one
    /// may be shorter).
    ///
    /// # Panics
    ///
    /// If `chunksize` is zero, if the pool is closed, and as
    /// [`map`](Self::map) when `f` panics.
    ///
    /// # Examples
    ///
    /// ```
    /// let pool = weft_pool::Pool::new(2);
    /// let squares = pool.map_chunked(|x: u64| x * x, 0..100, 20);
    /// assert_eq!(squares[99], 9801);
    /// ```
    pub fn map_chunked<T, R, F, I>(&self, f: F, items: I, chunksize: usize) -> Vec<R>
    where
        I: IntoIterator<Item = T>,
        T: Send,
        R: Send,
        F: Fn(T) -> R + Sync,
    {
        check_chunksize(chunksize);
        self.blocking(f, items, |f, items| {
            map_blocking(&self.registry, f, items.into_iter(), Some(chunksize))
        })
    }

    /// [`map`](Self::map) over the elements of a slice, read in place:
    /// `pool.map_slice(f, &data)` returns what `pool.map(f, &data)` does,
    /// but the workers read the elements where they are.
    ///
    /// `map` takes any iterator, and only the calling thread may drive it,
    /// so it moves every item (here, every reference) into a buffer that
    /// the workers then read from the other cores. A slice needs none of
    /// that: the chunks are ranges of indices. For cheap functions over
    /// long slices that is most of the time of the call.
    ///
    /// # Panics
    ///
    /// As [`map`](Self::map).
    ///
    /// # Examples
    ///
    /// ```
    /// let pool = weft_pool::Pool::new(2);
    /// let data: Vec<u64> = (0..1000).collect();
    /// let offset = 1;
    /// let next = pool.map_slice(|x| x + offset, &data);
    /// assert_eq!(next, pool.map(|x| x + offset, &data));
    /// ```
    pub fn map_slice<'a, T, R, F>(&self, f: F, items: &'a [T]) -> Vec<R>
    where
        T: Sync,
        R: Send,
        F: Fn(&'a T) -> R + Sync,
    {
        let chunksize = default_chunksize(items.len(), self.workers());
        self.blocking(f, items, |f, items| {
            MapCall::run_borrowed(&self.registry, f, items, chunksize)
        })
    }

    /// [`map_slice`](Self::map_slice) with chunks of `chunksize` elements
    /// (the last one may be shorter).
    ///
    /// # Panics
    ///
    /// If `chunksize` is zero, and as [`map`](Self::map).
    ///
    /// # Examples
    ///
    /// ```
    /// let pool = weft_pool::Pool::new(2);
    /// let words = ["apple", "fig", "banana", "kiwi"];
    /// assert_eq!(pool.map_slice_chunked(|w| w.len(), &words, 3), [5, 3, 6, 4]);
    /// ```
    pub fn map_slice_chunked<'a, T, R, F>(&self, f: F, items: &'a [T], chunksize: usize) -> Vec<R>
    where
        T: Sync,
        R: Send,
        F: Fn(&'a T) -> R + Sync,
    {
        check_chunksize(chunksize);
        self.blocking(f, items, |f, items| {
            MapCall::run_borrowed(&self.registry, f, items, chunksize)
        })
    }

    /// Like [`map`](Self::map), but each item is a tuple of arguments, which
    /// `f` receives splatted: Python's `starmap`. See [`StarFn`].
    ///
    /// # Panics
    ///
    /// As [`map`](Self::map).
    ///
    /// # Examples
    ///
    /// ```
    /// let pool = weft_pool::Pool::new(2);
    /// assert_eq!(pool.starmap(u64::pow, [(2, 10), (3, 3)]), [1024, 27]);
    /// assert_eq!(pool.starmap(|a: u64, b: u64| a * b, [(6, 7)]), [42]);
    /// ```
    pub fn starmap<A, R, F, I>(&self, f: F, items: I) -> Vec<R>
    where
        I: IntoIterator<Item = A>,
        A: Send,
        R: Send,
        F: StarFn<A, Output = R> + Sync,
    {
        self.map(move |args| f.call(args), items)
    }

    /// [`starmap`](Self::starmap) with chunks of `chunksize` items.
    ///
    /// # Panics
    ///
    /// If `chunksize` is zero, and as [`map`](Self::map).
    ///
    /// # Examples
    ///
    /// ```
    /// let pool = weft_pool::Pool::new(2);
    /// let pairs: Vec<(u32, u32)> = (0..10).map(|i| (i, i)).collect();
    /// let sums = pool.starmap_chunked(|a: u32, b: u32| a + b, pairs, 3);
    /// assert_eq!(sums, (0..10).map(|i| 2 * i).collect::<Vec<_>>());
    /// ```
    pub fn starmap_chunked<A, R, F, I>(&self, f: F, items: I, chunksize: usize) -> Vec<R>
    where
        I: IntoIterator<Item = A>,
        A: Send,
        R: Send,
        F: StarFn<A, Output = R> + Sync,
    {
        self.map_chunked(move |args| f.call(args), items, chunksize)
    }

    /// Runs `f` with the arguments in the tuple `args` on a worker, and
    /// returns its value. A one-argument function takes `(x,)`.
    ///
    /// Called from one of the pool's own tasks, `apply` runs `f` right
    /// there, on the calling worker.
    ///
    /// # Panics
    ///
    /// If the pool is closed, and with the task's own payload if `f`
    /// panics.
    ///
    /// # Examples
    ///
    /// ```
    /// let pool = weft_pool::Pool::new(1);
    /// let name = String::from("weft");
    /// assert_eq!(pool.apply(|s: &str| s.len(), (name.as_str(),)), 4);
    /// assert_eq!(pool.apply(|| 42, ()), 42);
    /// ```
    pub fn apply<A, R, F>(&self, f: F, args: A) -> R
    where
        A: Send,
        R: Send,
        F: StarFn<A, Output = R> + Send,
    {
        if self.registry.is_current_worker() {
            // Nested: this thread is a worker of this pool and would only
            // wait; run the task here (see "Nesting").
            return apply::call_here(f, args);
        }
        let (f, args) = self.check_open(f, args);
        ApplyJob::run(&self.registry, f, args)
    }

    /// Submits [`map`](Self::map)'s work and returns at once; the results,
    /// in input order, come from the [`AsyncResult`].
    ///
    /// The work is `'static`: it owns `f` and the items. The result is
    /// ready only after every chunk has finished; if any panicked, `get`
    /// returns the first panic as a [`TaskError`](crate::TaskError).
    ///
    /// # Panics
    ///
    /// If the pool is closed.
    ///
    /// # Examples
    ///
    /// ```
    /// let pool = weft_pool::Pool::new(2);
    /// let doubled = pool.map_async(|x: i32| 2 * x, vec![1, 2, 3]);
    /// assert_eq!(doubled.get().unwrap(), [2, 4, 6]);
    /// ```
    pub fn map_async<T, R, F, I>(&self, f: F, items: I) -> AsyncResult<Vec<R>>
    where
        I: IntoIterator<Item = T>,
        T: Send + 'static,
        R: Send + 'static,
        F: Fn(T) -> R + Send + Sync + 'static,
    {
        let (f, items) = self.check_open(f, items);
        let items: Vec<T> = items.into_iter().collect();
        let chunksize = default_chunksize(items.len(), self.workers());
        MapAsync::submit(&self.registry, f, items, chunksize)
    }

    /// [`map_async`](Self::map_async) with chunks of `chunksize` items.
    ///
    /// # Panics
    ///
    /// If `chunksize` is zero, or the pool is closed.
    ///
    /// # Examples
    ///
    /// ```
    /// let pool = weft_pool::Pool::new(2);
    /// let r = pool.map_async_chunked(|x: u8| x as u32 * 2, 0..=255, 64);
    /// assert_eq!(r.get().unwrap().len(), 256);
    /// ```
    pub fn map_async_chunked<T, R, F, I>(
        &self,
        f: F,
        items: I,
        chunksize: usize,
    ) -> AsyncResult<Vec<R>>
    where
        I: IntoIterator<Item = T>,
        T: Send + 'static,
        R: Send + 'static,
        F: Fn(T) -> R + Send + Sync + 'static,
    {
        check_chunksize(chunksize);
        let (f, items) = self.check_open(f, items);
        MapAsync::submit(&self.registry, f, items.into_iter().collect(), chunksize)
    }

    /// [`starmap`](Self::starmap)'s work, submitted like
    /// [`map_async`](Self::map_async).
    ///
    /// # Panics
    ///
    /// If the pool is closed.
    ///
    /// # Examples
    ///
    /// ```
    /// let pool = weft_pool::Pool::new(2);
    /// let powers = pool.starmap_async(u32::pow, vec![(2, 5), (5, 2)]);
    /// assert_eq!(powers.get().unwrap(), [32, 25]);
    /// ```
    pub fn starmap_async<A, R, F, I>(&self, f: F, items: I) -> AsyncResult<Vec<R>>
    where
        I: IntoIterator<Item = A>,
        A: Send + 'static,
        R: Send + 'static,
        F: StarFn<A, Output = R> + Send + Sync + 'static,
    {
        self.map_async(move |args| f.call(args), items)
    }

    /// [`starmap_async`](Self::starmap_async) with chunks of `chunksize`
    /// items.
    ///
    /// # Panics
    ///
    /// If `chunksize` is zero, or the pool is closed.
    ///
    /// # Examples
    ///
    /// ```
    /// let pool = weft_pool::Pool::new(2);
    /// let r = pool.starmap_async_chunked(|a: u8, b: u8| a.max(b), vec![(1, 2), (4, 3)], 1);
    /// assert_eq!(r.get().unwrap(), [2, 4]);
    /// ```
    pub fn starmap_async_chunked<A, R, F, I>(
        &self,
        f: F,
        items: I,
        chunksize: usize,
    ) -> AsyncResult<Vec<R>>
    where
        I: IntoIterator<Item = A>,
        A: Send + 'static,
        R: Send + 'static,
        F: StarFn<A, Output = R> + Send + Sync + 'static,
    {
        self.map_async_chunked(move |args| f.call(args), items, chunksize)
    }

    /// Submits one call of `f` with the arguments in `args` and returns at
    /// once; the value comes from the [`AsyncResult`].
    ///
    /// # Panics
    ///
    /// If the pool is closed.
    ///
    /// # Examples
    ///
    /// ```
    /// let pool = weft_pool::Pool::new(2);
    /// let answer = pool.apply_async(|a: u32, b: u32| a * b, (6, 7));
    /// assert_eq!(answer.get().unwrap(), 42);
    /// ```
    pub fn apply_async<A, R, F>(&self, f: F, args: A) -> AsyncResult<R>
    where
        A: Send + 'static,
        R: Send + 'static,
        F: StarFn<A, Output = R> + Send + Sync + 'static,
    {
        let (f, args) = self.check_open(f, args);
        HeapApply::submit(&self.registry, f, args)
    }

    /// Stops the pool from taking new work. Work already submitted still
    /// runs, and [`AsyncResult`]s stay valid; the workers exit once the
    /// queue is empty. Idempotent.
    ///
    /// # Examples
    ///
    /// ```
    /// let pool = weft_pool::Pool::new(1);
    /// let queued = pool.apply_async(|| 1, ());
    /// pool.close();
    /// assert_eq!(queued.get().unwrap(), 1);
    /// let refused = std::panic::catch_unwind(|| pool.apply(|| 2, ()));
    /// assert!(refused.is_err());
    /// ```
    pub fn close(&self) {
        self.registry.injector.close();
    }

    /// Closes the pool, waits for every queued task to finish, and joins
    /// the worker threads. Unlike Python, it closes the pool itself
    /// instead of requiring `close` first. Dropping a pool does the same.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};
    /// use std::sync::Arc;
    ///
    /// let pool = weft_pool::Pool::new(2);
    /// let done = Arc::new(AtomicUsize::new(0));
    /// for _ in 0..10 {
    ///     let done = done.clone();
    ///     drop(pool.apply_async(move || done.fetch_add(1, Relaxed), ()));
    /// }
    /// pool.join();
    /// assert_eq!(done.load(Relaxed), 10);
    /// ```
    pub fn join(self) {
        drop(self);
    }

    /// Hands back `f` and `input` if the pool is open; otherwise refuses
    /// the call (see [`refuse`]).
    #[inline]
    #[track_caller]
    fn check_open<F, I>(&self, f: F, input: I) -> (F, I) {
        if self.registry.injector.is_closed() {
            refuse(f, input);
        }
        (f, input)
    }

    /// Makes the blocking call `call` with `f` and `input`, and drops `f`
    /// afterwards, never while a panic unwinds (a `Drop` that panicked
    /// then would abort the process):
    ///
    /// - A call on a closed pool is refused (see [`refuse`]), unless it is
    ///   made on one of the pool's own workers: then it is part of
    ///   accepted work and goes on after `close` (see "Nesting").
    /// - If the call panics (a task's payload, or "pool is closed" from a
    ///   `close` that came while the input was collected), `f` is dropped
    ///   quietly and the call's panic raised again.
    /// - If `f`'s `Drop` panics after a call that succeeded, the results
    ///   are dropped quietly and that panic is raised.
    #[track_caller]
    fn blocking<F, I, R>(&self, f: F, input: I, call: impl FnOnce(&F, I) -> Vec<R>) -> Vec<R> {
        if self.registry.injector.is_closed() && !self.registry.is_current_worker() {
            refuse(f, input);
        }
        match call_then_drop(f, |f| call(f, input), drop_vec_quietly) {
            Ok(results) => results,
            Err(payload) => panic::resume_unwind(payload),
        }
    }
}

impl Drop for Pool {
    /// Joins: closes the pool, lets the workers drain the queue, and joins
    /// them. When the last handle is dropped on one of the pool's own
    /// workers, that worker cannot join itself; it is left to exit on its
    /// own once its current task returns.
    fn drop(&mut self) {
        self.registry.injector.close();
        let me = thread::current().id();
        for handle in self.threads.drain(..) {
            if handle.thread().id() == me {
                continue;
            }
            // A worker never panics (jobs catch every panic), so `join`
            // returns `Ok`; there is nothing to report either way.
            let _ = handle.join();
        }
    }
}

/// No panic can leave a pool half-updated: every task runs inside
/// `catch_unwind`, and the queue's critical sections call no user code.
/// So a `&Pool` may cross `catch_unwind`, as in the example of
/// [`Pool::close`].
impl std::panic::RefUnwindSafe for Pool {}
impl std::panic::UnwindSafe for Pool {}

impl Default for Pool {
    /// A pool with one worker per available CPU (`num_cpus::get()`).
    fn default() -> Self {
        Pool::new(num_cpus::get())
    }
}

impl fmt::Debug for Pool {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Pool")
            .field("workers", &self.workers())
            .field("closed", &self.registry.injector.is_closed())
            .field("queued", &self.registry.injector.len())
            .finish()
    }
}

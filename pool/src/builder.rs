//! `PoolBuilder`: a pool with chosen thread names, stack size and a
//! per-worker initializer, and a start that reports a failed spawn.
//!
//! # Implementation
//!
//! [`PoolBuilder::build`] starts the workers one by one. Each worker runs
//! the initializer, if there is one, on its own thread before it enters
//! the worker loop, and then reports to the builder through a
//! [`CountLatch`] of one count per worker: `build` waits for the latch, so
//! every initializer has finished when it returns. An initializer that
//! panics is caught on its worker, which records the first such panic and
//! returns without entering the loop.
//!
//! Failure leaves nothing running. The pool under construction is an
//! ordinary [`Pool`] from the first spawn on, so the way out is the one
//! `Drop` takes: close the queue (no job was ever pushed, so every worker
//! that reaches the loop finds it closed and empty, and exits) and join
//! the threads started so far. A spawn that fails (`std::thread::Builder`'s
//! `io::Error`) or an initializer that panicked thus makes `build` return
//! an error only after every thread it started has been joined.

use std::fmt;
use std::io;
use std::panic::{self, AssertUnwindSafe};

use weft_futex::sync::Arc;
use weft_futex::thread;
use weft_mutex::Mutex;

use crate::error::TaskError;
use crate::latch::CountLatch;
use crate::pool::Pool;
use crate::registry::Registry;

/// The name a worker gets when the builder is given none: `weft-pool-{i}`.
fn default_name(i: usize) -> String {
    format!("weft-pool-{i}")
}

/// Configures and starts a [`Pool`]: the number of workers, their thread
/// names and stack size, and an initializer each worker runs before its
/// first task. Made by [`Pool::builder`] (or `PoolBuilder::default()`).
///
/// [`Pool::new(n)`](Pool::new) is `Pool::builder().workers(n).build()`,
/// with a panic where `build` returns an error.
///
/// # Examples
///
/// ```
/// use std::cell::Cell;
///
/// thread_local! {
///     // Each worker's own scratch state, set up once by the initializer.
///     static WORKER: Cell<usize> = const { Cell::new(usize::MAX) };
/// }
///
/// let pool = weft_pool::Pool::builder()
///     .workers(2)
///     .thread_name(|i| format!("render-{i}"))
///     .stack_size(4 << 20)
///     .initializer(|i| WORKER.with(|w| w.set(i)))
///     .build()
///     .expect("the workers start");
/// let (name, index) = pool.apply(
///     || (std::thread::current().name().unwrap().to_owned(), WORKER.with(Cell::get)),
///     (),
/// );
/// assert_eq!(name, format!("render-{index}"));
/// ```
#[must_use = "a builder does nothing until `build` is called"]
pub struct PoolBuilder {
    workers: Option<usize>,
    thread_name: Option<Box<dyn Fn(usize) -> String + Send + Sync>>,
    stack_size: Option<usize>,
    initializer: Option<Box<dyn Fn(usize) + Send + Sync>>,
}

impl Pool {
    /// A [`PoolBuilder`], to choose more than the number of workers.
    ///
    /// # Examples
    ///
    /// ```
    /// let pool = weft_pool::Pool::builder().workers(3).build().unwrap();
    /// assert_eq!(pool.workers(), 3);
    /// ```
    pub fn builder() -> PoolBuilder {
        PoolBuilder::default()
    }
}

impl Default for PoolBuilder {
    /// One worker per available CPU (`num_cpus::get()`), named
    /// `weft-pool-{i}`, with the platform's default stack size and no
    /// initializer.
    fn default() -> Self {
        Self {
            workers: None,
            thread_name: None,
            stack_size: None,
            initializer: None,
        }
    }
}

impl PoolBuilder {
    /// Sets the number of worker threads (the default is one per available
    /// CPU, `num_cpus::get()`).
    ///
    /// # Panics
    ///
    /// If `n` is zero ("a pool needs at least one worker").
    ///
    /// # Examples
    ///
    /// ```
    /// let pool = weft_pool::Pool::builder().workers(2).build().unwrap();
    /// assert_eq!(pool.workers(), 2);
    /// ```
    pub fn workers(mut self, n: usize) -> Self {
        assert!(n > 0, "a pool needs at least one worker");
        self.workers = Some(n);
        self
    }

    /// Names worker `i` (from `0` to `workers - 1`) `name(i)`; the default
    /// is `weft-pool-{i}`. `name` is called on the thread that calls
    /// [`build`](Self::build).
    ///
    /// # Examples
    ///
    /// ```
    /// let pool = weft_pool::Pool::builder()
    ///     .workers(1)
    ///     .thread_name(|i| format!("io-{i}"))
    ///     .build()
    ///     .unwrap();
    /// let name = pool.apply(|| std::thread::current().name().map(str::to_owned), ());
    /// assert_eq!(name.as_deref(), Some("io-0"));
    /// ```
    pub fn thread_name(mut self, name: impl Fn(usize) -> String + Send + Sync + 'static) -> Self {
        self.thread_name = Some(Box::new(name));
        self
    }

    /// Sets the stack size of every worker thread, in bytes, as
    /// [`std::thread::Builder::stack_size`] does (the default is the
    /// platform's, which `RUST_MIN_STACK` can change).
    ///
    /// # Examples
    ///
    /// ```
    /// let pool = weft_pool::Pool::builder().stack_size(16 << 20).build().unwrap();
    /// // A task may now keep large arrays on its stack, or recurse deeply.
    /// let last = pool.apply(
    ///     || {
    ///         let big = std::hint::black_box([7u8; 4 << 20]);
    ///         big[big.len() - 1]
    ///     },
    ///     (),
    /// );
    /// assert_eq!(last, 7);
    /// ```
    pub fn stack_size(mut self, bytes: usize) -> Self {
        self.stack_size = Some(bytes);
        self
    }

    /// Has each worker call `init(i)`, with its index `i` (the worker named
    /// `name(i)`), on its own thread, once, before it runs any task: to set
    /// up thread-local state, pin the thread, and the like. Python's
    /// `Pool(initializer=...)`.
    ///
    /// Every initializer has finished when [`build`](Self::build) returns
    /// the pool; if one panics, `build` returns an error instead.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};
    /// use std::sync::Arc;
    ///
    /// let started = Arc::new(AtomicUsize::new(0));
    /// let counter = started.clone();
    /// let pool = weft_pool::Pool::builder()
    ///     .workers(3)
    ///     .initializer(move |_| {
    ///         counter.fetch_add(1, Relaxed);
    ///     })
    ///     .build()
    ///     .unwrap();
    /// assert_eq!(started.load(Relaxed), 3);
    /// ```
    pub fn initializer(mut self, init: impl Fn(usize) + Send + Sync + 'static) -> Self {
        self.initializer = Some(Box::new(init));
        self
    }

    /// Starts the pool: spawns the workers, and waits until each has run
    /// the initializer.
    ///
    /// # Errors
    ///
    /// - The error of [`std::thread::Builder::spawn`] when a worker thread
    ///   cannot be started (out of memory or threads, an impossible stack
    ///   size).
    /// - An error of kind [`io::ErrorKind::Other`] when an initializer
    ///   panicked; its message names the worker and, when the payload is a
    ///   string, quotes it.
    ///
    /// Either way the workers already started have been shut down and
    /// joined: none is left running.
    ///
    /// # Panics
    ///
    /// If a `thread_name` function panics (the workers already started are
    /// joined first), or if a name contains a NUL byte (as
    /// `std::thread::Builder::spawn` does).
    ///
    /// # Examples
    ///
    /// ```
    /// let failed = weft_pool::Pool::builder()
    ///     .workers(2)
    ///     .initializer(|i| assert!(i != 1, "no device for worker {i}"))
    ///     .build()
    ///     .unwrap_err();
    /// assert!(failed.to_string().contains("no device for worker 1"));
    /// ```
    pub fn build(self) -> io::Result<Pool> {
        let workers = self.workers.unwrap_or_else(num_cpus::get);
        let startup = self.initializer.map(|init| {
            Arc::new(Startup {
                init,
                done: CountLatch::new(workers),
                failure: Mutex::new(None),
            })
        });
        // From here on `pool` is a pool like any other: if anything below
        // fails or unwinds, its `Drop` closes it and joins the threads
        // started so far.
        let mut pool = Pool {
            registry: Arc::new(Registry::new(workers)),
            threads: Vec::with_capacity(workers),
        };
        for i in 0..workers {
            let name = match &self.thread_name {
                Some(name) => name(i),
                None => default_name(i),
            };
            let mut spawner = thread::Builder::new().name(name);
            if let Some(bytes) = self.stack_size {
                spawner = spawner.stack_size(bytes);
            }
            let registry = pool.registry.clone();
            let startup = startup.clone();
            let handle = spawner.spawn(move || {
                let initialized = startup.is_none_or(|startup| startup.run(i));
                if initialized {
                    Registry::main_loop(registry);
                }
            })?;
            pool.threads.push(handle);
        }
        if let Some(startup) = startup {
            // Every worker counts down once, after its initializer.
            startup.done.wait();
            if let Some(failure) = startup.failure.lock().take() {
                return Err(io::Error::other(failure));
            }
        }
        Ok(pool)
    }
}

impl fmt::Debug for PoolBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PoolBuilder")
            .field("workers", &self.workers)
            .field("thread_name", &self.thread_name.as_ref().map(|_| ..))
            .field("stack_size", &self.stack_size)
            .field("initializer", &self.initializer.as_ref().map(|_| ..))
            .finish()
    }
}

/// What the workers of a pool with an initializer share while it starts.
struct Startup {
    init: Box<dyn Fn(usize) + Send + Sync>,
    /// Counted down by each worker once its initializer has returned or
    /// panicked.
    done: CountLatch,
    /// The first initializer panic, as the message `build` returns.
    failure: Mutex<Option<String>>,
}

impl Startup {
    /// Runs worker `i`'s initializer and reports to the builder; returns
    /// whether it succeeded (the worker may enter its loop).
    fn run(&self, i: usize) -> bool {
        let outcome = panic::catch_unwind(AssertUnwindSafe(|| (self.init)(i)));
        let succeeded = outcome.is_ok();
        if let Err(payload) = outcome {
            let error = TaskError::new(payload);
            let message = match error.message() {
                Some(text) => format!("the initializer of pool worker {i} panicked: {text}"),
                None => format!("the initializer of pool worker {i} panicked"),
            };
            self.failure.lock().get_or_insert(message);
            // The payload is the initializer's; a panic of its `Drop` is
            // not the builder's concern.
            crate::panics::drop_quietly(error);
        }
        // SAFETY: every worker holds an `Arc` of `self`, so the latch
        // outlives the count-down; each worker counts down once, and the
        // latch counts one per worker.
        unsafe { CountLatch::count_down(&self.done, 1) };
        succeeded
    }
}

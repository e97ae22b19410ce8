//! A thread pool with `map`, `starmap`, `apply` and their async forms:
//! Python's `multiprocessing.Pool`, on threads, built on Weft's own
//! primitives.
//!
//! - [`Pool`] starts a fixed number of worker threads and hands them work.
//!   Its blocking calls ([`Pool::map`], [`Pool::starmap`], [`Pool::apply`])
//!   may borrow from the caller's stack and return results in input order;
//!   its async calls ([`Pool::map_async`], [`Pool::starmap_async`],
//!   [`Pool::apply_async`]) return an [`AsyncResult`] at once.
//!   [`Pool::map_slice`] is `map` over a slice, read in place by the
//!   workers: the fast way to map a cheap function over a long slice.
//! - [`Pool::imap`] and [`Pool::imap_unordered`] (and their `_chunked`
//!   forms) are lazy maps: iterators ([`Imap`], [`ImapUnordered`]) that
//!   pull the input on the iterating thread, a bounded window of chunks
//!   ahead of the results, and hand the results out in input order or as
//!   their chunks finish. An endless input is fine.
//! - [`Pool::fork_join`] (rayon's `join`) runs two closures, perhaps in
//!   parallel, and [`Pool::scope`] runs tasks spawned with
//!   [`Scope::spawn`] that may borrow from outside the scope: recursive
//!   divide-and-conquer, split as it runs. Both nest freely, inside each
//!   other and inside any task.
//! - [`Pool::builder`] ([`PoolBuilder`]) sets the workers' names and stack
//!   size and runs an initializer on each before its first task; its
//!   `build` reports a thread that could not start as an error.
//! - [`StarFn`] lets `starmap` and `apply` splat a tuple of arguments into
//!   a function of 0 to 12 parameters: `pool.starmap(u64::pow, pairs)`.
//! - A task's panic comes back as the caller's own panic (blocking calls,
//!   after every chunk has finished) or as a [`TaskError`] (async calls).
//!
//! How it works (the queue, the tickets, the latch, how idle workers sleep
//! without losing a wake-up, imap's window, fork-join and scopes, panics,
//! shutdown, and why waiting inside a task cannot deadlock) is told in the
//! design note, `README.md` next to this crate's `Cargo.toml`, and in each
//! module.
//!
//! # When to use it
//!
//! For data parallelism with a known amount of work per call, with the
//! `multiprocessing.Pool` vocabulary: a map over a list, a batch of
//! independent calls, results collected in order. The workers are
//! persistent, so a call costs a lock and a wake, not a thread start.
//!
//! For recursive divide-and-conquer (a quicksort, a tree walk), split the
//! work with [`Pool::fork_join`] or [`Pool::scope`] down to pieces of a few
//! microseconds or more: the pool then balances it as it runs, as rayon
//! does, and a task that waits runs the queued pieces it waits for. All of
//! the pool's threads share one queue behind one lock, where rayon gives
//! each worker a deque of its own and lets idle ones steal; on a few cores
//! the two keep pace (see BENCHMARKS.md), but with many cores and very
//! fine splits the one lock becomes the bottleneck, and rayon scales
//! further.
//!
//! Prefer `rayon` for parallel iterator chains and for very fine-grained
//! work. Prefer `std::thread::scope` for a handful of long-lived, different
//! tasks.
//!
//! # Example
//!
//! The course's parallel sum: each worker sums one row.
//!
//! ```
//! use weft_pool::Pool;
//!
//! let matrix: Vec<Vec<u64>> = (0..8).map(|r| (0..100).map(|c| r * 100 + c).collect()).collect();
//! let pool = Pool::new(4);
//! let row_sums = pool.map(|row| row.iter().sum::<u64>(), &matrix);
//! assert_eq!(row_sums.iter().sum::<u64>(), (0..800).sum());
//! ```
//!
//! A pool is shared by reference, also with its own tasks, and results are
//! sent back, so the pool and its handles cross threads:
//!
//! ```
//! fn check<T: Send + Sync>() {}
//! check::<weft_pool::Pool>();
//! fn send<T: Send>() {}
//! send::<weft_pool::AsyncResult<Vec<u8>>>();
//! ```
//!
//! but an `AsyncResult` of a type that cannot leave its thread cannot
//! either:
//!
//! ```compile_fail
//! fn send<T: Send>() {}
//! send::<weft_pool::AsyncResult<std::rc::Rc<u8>>>();
//! ```
//!
//! and async work must own what it uses:
//!
//! ```compile_fail
//! let pool = weft_pool::Pool::new(1);
//! let local = vec![1, 2, 3];
//! let r = pool.map_async(|x: &i32| x + 1, &local);
//! ```

mod apply;
mod async_result;
mod builder;
mod context;
mod error;
mod fork_join;
mod help;
mod imap;
mod injector;
mod job;
mod latch;
mod map;
mod panics;
mod pool;
mod registry;
mod scope;
mod sleep_bit;
mod spare;
mod star;

pub use async_result::{AsyncResult, GetTimeoutError};
pub use builder::PoolBuilder;
pub use error::TaskError;
pub use imap::{Imap, ImapUnordered};
pub use map::default_chunksize;
pub use pool::Pool;
pub use scope::Scope;
pub use star::StarFn;

/// How long a test of the crate's internals may run before its watchdog
/// calls it hung: far longer than any of them needs, under Miri too.
#[cfg(all(test, not(loom)))]
const HANG: std::time::Duration =
    std::time::Duration::from_secs(if cfg!(miri) { 3600 } else { 60 });

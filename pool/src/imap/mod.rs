//! `imap` and `imap_unordered`: lazy maps whose results are iterated as
//! they come, over inputs of any length, endless ones included.
//!
//! # Implementation
//!
//! An imap is a pipeline with a bounded window. The consumer, the thread
//! that iterates, pulls the input a chunk at a time and submits each chunk
//! as a heap job, keeping at most a window of chunks in flight (a few per
//! worker); the workers run the chunks and leave their results in the
//! shared state; the consumer collects them, in input order or in the
//! order they finish, and hands them out one by one. Nothing is pulled
//! until results are asked for, and a slow consumer holds back the input,
//! so an endless input uses bounded memory.
//!
//! - `shared.rs`: [`Shared`](shared::Shared), what the consumer and the
//!   workers share in an `Arc`: the queued and finished chunks and the
//!   futex word the consumer sleeps on; the tickets that run the chunks;
//!   each item under its own `catch_unwind`.
//! - `stream.rs`: [`Stream`](stream::Stream), the consumer: pulling,
//!   the window, ordering, waiting (and, on one of the pool's own
//!   workers, running its own queued chunks instead of sleeping), and what
//!   dropping it leaves to the workers.

mod shared;
mod stream;

use std::fmt;
use std::iter::FusedIterator;

use self::stream::{Order, Stream};
use crate::error::TaskError;
use crate::map::check_chunksize;
use crate::pool::Pool;

impl Pool {
    /// A lazy [`map`](Self::map): an iterator over the results of `f` on
    /// each item, in input order, each computed on the workers. Python's
    /// `Pool.imap`, with chunks of one item (see
    /// [`imap_chunked`](Self::imap_chunked)).
    ///
    /// The input is pulled on the thread that iterates, a chunk at a time,
    /// only as results are consumed: at most a window of a few chunks per
    /// worker is in flight (pulled, and not yet handed out), so an endless
    /// input with a slow consumer uses bounded memory, and
    /// `pool.imap(f, 0..).take(10)` ends. The input iterator therefore
    /// needs to be neither `Send` nor `'static`; `f`, the items and the
    /// results do, as for [`map_async`](Self::map_async).
    ///
    /// Each result is an `Ok` value, or `Err(TaskError)` if `f` panicked
    /// on that item; the other items are unaffected. Dropping the iterator
    /// stops the pulling: the chunks in flight still run, and their results
    /// are dropped.
    ///
    /// Iterated inside one of the pool's own tasks, the iterator runs its
    /// queued chunks itself rather than wait for a worker, so it cannot
    /// deadlock, even on a pool of one worker.
    ///
    /// # Panics
    ///
    /// If the pool is closed ("pool is closed", having dropped `f` and
    /// `items`). The iterator's `next` panics with "pool is closed" if the
    /// pool was closed since and more input must be submitted (the items
    /// it pulled are dropped); it raises the input iterator's own panic
    /// once the results of the items before it have been handed out.
    ///
    /// # Examples
    ///
    /// ```
    /// let pool = weft_pool::Pool::new(2);
    /// let squares: Vec<u64> = pool.imap(|x: u64| x * x, 0..5).map(Result::unwrap).collect();
    /// assert_eq!(squares, [0, 1, 4, 9, 16]);
    ///
    /// // An endless input: only what is consumed (and a window ahead) is pulled.
    /// let first: Vec<u64> = pool.imap(|x: u64| x + 1, 0..).take(3).map(Result::unwrap).collect();
    /// assert_eq!(first, [1, 2, 3]);
    /// ```
    ///
    /// A panic fails only its own item:
    ///
    /// ```
    /// # fn quiet() { std::panic::set_hook(Box::new(|_| {})); }
    /// # quiet();
    /// let pool = weft_pool::Pool::new(2);
    /// let results: Vec<_> = pool
    ///     .imap(|x: u32| if x == 2 { panic!("two") } else { x }, 0..4)
    ///     .map(|r| r.map_err(|e| e.to_string()))
    ///     .collect();
    /// assert_eq!(results, [Ok(0), Ok(1), Err("task panicked: two".into()), Ok(3)]);
    /// ```
    #[track_caller]
    pub fn imap<T, R, F, I>(&self, f: F, items: I) -> Imap<'_, I::IntoIter, R>
    where
        I: IntoIterator<Item = T>,
        T: Send + 'static,
        R: Send + 'static,
        F: Fn(T) -> R + Send + Sync + 'static,
    {
        self.imap_chunked(f, items, 1)
    }

    /// [`imap`](Self::imap) with chunks of `chunksize` items (the last one
    /// may be shorter): fewer, larger jobs, for cheap functions over long
    /// inputs. The window then counts chunks of this size.
    ///
    /// # Panics
    ///
    /// If `chunksize` is zero, and as [`imap`](Self::imap).
    ///
    /// # Examples
    ///
    /// ```
    /// let pool = weft_pool::Pool::new(2);
    /// let total: u64 = pool
    ///     .imap_chunked(|x: u64| x + 1, 0..10_000, 256)
    ///     .map(Result::unwrap)
    ///     .sum();
    /// assert_eq!(total, (1..=10_000).sum());
    /// ```
    #[track_caller]
    pub fn imap_chunked<T, R, F, I>(
        &self,
        f: F,
        items: I,
        chunksize: usize,
    ) -> Imap<'_, I::IntoIter, R>
    where
        I: IntoIterator<Item = T>,
        T: Send + 'static,
        R: Send + 'static,
        F: Fn(T) -> R + Send + Sync + 'static,
    {
        check_chunksize(chunksize);
        Imap {
            stream: Stream::new(
                &self.registry,
                f,
                items.into_iter(),
                chunksize,
                Order::Input,
            ),
        }
    }

    /// [`imap`](Self::imap) whose results come in the order their chunks
    /// finish, rather than in input order (within a chunk, in input order):
    /// Python's `Pool.imap_unordered`. A slow item then holds back only its
    /// own chunk.
    ///
    /// # Panics
    ///
    /// As [`imap`](Self::imap).
    ///
    /// # Examples
    ///
    /// ```
    /// let pool = weft_pool::Pool::new(2);
    /// let mut lengths: Vec<usize> = pool
    ///     .imap_unordered(|w: &str| w.len(), ["fig", "apple", "kiwi"])
    ///     .map(Result::unwrap)
    ///     .collect();
    /// lengths.sort();
    /// assert_eq!(lengths, [3, 4, 5]);
    /// ```
    #[track_caller]
    pub fn imap_unordered<T, R, F, I>(&self, f: F, items: I) -> ImapUnordered<'_, I::IntoIter, R>
    where
        I: IntoIterator<Item = T>,
        T: Send + 'static,
        R: Send + 'static,
        F: Fn(T) -> R + Send + Sync + 'static,
    {
        self.imap_unordered_chunked(f, items, 1)
    }

    /// [`imap_unordered`](Self::imap_unordered) with chunks of `chunksize`
    /// items.
    ///
    /// # Panics
    ///
    /// If `chunksize` is zero, and as [`imap`](Self::imap).
    ///
    /// # Examples
    ///
    /// ```
    /// let pool = weft_pool::Pool::new(2);
    /// let mut all: Vec<u32> = pool
    ///     .imap_unordered_chunked(|x: u32| x * 10, 0..10, 3)
    ///     .map(Result::unwrap)
    ///     .collect();
    /// all.sort();
    /// assert_eq!(all, (0..10).map(|x| x * 10).collect::<Vec<_>>());
    /// ```
    #[track_caller]
    pub fn imap_unordered_chunked<T, R, F, I>(
        &self,
        f: F,
        items: I,
        chunksize: usize,
    ) -> ImapUnordered<'_, I::IntoIter, R>
    where
        I: IntoIterator<Item = T>,
        T: Send + 'static,
        R: Send + 'static,
        F: Fn(T) -> R + Send + Sync + 'static,
    {
        check_chunksize(chunksize);
        ImapUnordered {
            stream: Stream::new(
                &self.registry,
                f,
                items.into_iter(),
                chunksize,
                Order::Finish,
            ),
        }
    }
}

/// The iterator of [`Pool::imap`] and [`Pool::imap_chunked`]: the results
/// of a function over an input iterator `I`, in input order, each
/// `Ok(value)` or `Err(TaskError)` for an item whose call panicked.
///
/// It borrows the pool. The input is pulled by `next`, a chunk at a time,
/// keeping a bounded window of chunks in flight. Dropping it stops the
/// pulling; the chunks in flight still run, and their results are
/// dropped.
///
/// It is `Send` when the input iterator is (the items and results always
/// are), so it may be iterated on another thread:
///
/// ```
/// let pool = weft_pool::Pool::new(2);
/// let results = pool.imap(|x: u8| x.count_ones(), vec![1, 3, 7]);
/// let ones: Vec<u32> = std::thread::scope(|s| {
///     s.spawn(|| results.map(Result::unwrap).collect()).join().unwrap()
/// });
/// assert_eq!(ones, [1, 2, 3]);
/// ```
///
/// but not over an input that must stay on its thread:
///
/// ```compile_fail
/// fn send<T: Send>(_: T) {}
/// let pool = weft_pool::Pool::new(1);
/// let local = std::rc::Rc::new(1);
/// send(pool.imap(|x: u32| x, (0..3).map(move |x| x + *local)));
/// ```
///
/// and the work must own what it uses:
///
/// ```compile_fail
/// let pool = weft_pool::Pool::new(1);
/// let offset = 1;
/// let results = pool.imap(|x: u32| x + offset, 0..3);
/// ```
#[must_use = "an imap does nothing until iterated"]
pub struct Imap<'p, I: Iterator, R> {
    stream: Stream<'p, I, R>,
}

impl<I: Iterator, R> Iterator for Imap<'_, I, R> {
    type Item = Result<R, TaskError>;

    /// The next result in input order; waits for it if needed.
    ///
    /// # Panics
    ///
    /// With the input iterator's panic, after the results of the items
    /// before it; with "pool is closed" if the pool was closed and more
    /// input must be submitted.
    #[track_caller]
    fn next(&mut self) -> Option<Self::Item> {
        self.stream.next()
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.stream.size_hint()
    }
}

impl<I: Iterator, R> FusedIterator for Imap<'_, I, R> {}

impl<I: Iterator, R> fmt::Debug for Imap<'_, I, R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        debug_stream("Imap", &self.stream, f)
    }
}

/// The iterator of [`Pool::imap_unordered`] and
/// [`Pool::imap_unordered_chunked`]: the results of a function over an
/// input iterator `I`, in the order their chunks finish (in input order
/// within a chunk), each `Ok(value)` or `Err(TaskError)` for an item whose
/// call panicked.
///
/// Like [`Imap`] in everything else: it borrows the pool, pulls the input
/// lazily with a bounded window, and dropping it stops the pulling.
///
/// # Examples
///
/// ```
/// let pool = weft_pool::Pool::new(2);
/// let mut seen: Vec<u64> = pool
///     .imap_unordered(|x: u64| x * x, 1..=4)
///     .map(Result::unwrap)
///     .collect();
/// seen.sort();
/// assert_eq!(seen, [1, 4, 9, 16]);
/// ```
#[must_use = "an imap does nothing until iterated"]
pub struct ImapUnordered<'p, I: Iterator, R> {
    stream: Stream<'p, I, R>,
}

impl<I: Iterator, R> Iterator for ImapUnordered<'_, I, R> {
    type Item = Result<R, TaskError>;

    /// The next result of a finished chunk; waits for one if needed.
    ///
    /// # Panics
    ///
    /// As [`Imap::next`].
    #[track_caller]
    fn next(&mut self) -> Option<Self::Item> {
        self.stream.next()
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.stream.size_hint()
    }
}

impl<I: Iterator, R> FusedIterator for ImapUnordered<'_, I, R> {}

impl<I: Iterator, R> fmt::Debug for ImapUnordered<'_, I, R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        debug_stream("ImapUnordered", &self.stream, f)
    }
}

/// What the `Debug` of both iterators shows.
fn debug_stream<I: Iterator, R>(
    name: &str,
    stream: &Stream<'_, I, R>,
    f: &mut fmt::Formatter<'_>,
) -> fmt::Result {
    f.debug_struct(name)
        .field("chunksize", &stream.chunksize())
        .field("chunks_in_flight", &stream.in_flight())
        .field("input", &format_args!("{}", stream.input_state()))
        .finish_non_exhaustive()
}

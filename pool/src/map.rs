//! `map` and its kin: splitting the input into chunks, running the chunks
//! on the workers, and putting the results back in order.
//!
//! # Implementation
//!
//! A call moves its items into a `Vec<T>` (a blocking call reuses the
//! pool's spare buffer for it, see the `spare` module) and allocates a
//! `Vec<R>` for the results; the two buffers are described by a
//! [`MapWork`]. Chunk `i` is the items `i * chunksize .. (i + 1) *
//! chunksize` (the last one shorter): it reads each item out of the input
//! buffer, calls `f` on it and writes the result at the same index of the
//! output buffer, so the results come out in input order with no sorting
//! and no per-item allocation.
//!
//! **Slices.** [`Pool::map_slice`](crate::Pool::map_slice) skips the input
//! buffer: its chunks are ranges of indices into the caller's slice, and
//! item `i` is a reference to element `i`, made by the worker that runs
//! the chunk. Where the items come from is the call's [`Source`]: an
//! [`Owned`] buffer or a [`Borrowed`] slice; everything else is shared.
//! The difference matters for cheap functions over long inputs: moving
//! 100 000 references into a buffer on the calling thread, and reading
//! them back on the workers' cores, took several times as long as the
//! whole of rayon's `par_iter().map().collect()` on the same slice.
//!
//! **Feeding.** A blocking call over a long iterator whose size hint is
//! exact is *fed* ([`map_blocking`]): it submits first and fills the input
//! buffer while the workers already run the chunks filled so far, each
//! chunk waiting on the call's [`Feed`] until it is published. Every other
//! call has its feed complete from the start.
//!
//! **Claiming instead of queueing chunks.** The call does not push one job
//! per chunk. It pushes *tickets*, at most one per worker, all pointing to
//! the same descriptor; a worker that pops a ticket claims chunk after
//! chunk with a `fetch_add` on the descriptor's `next` counter until none
//! is left, then retires the ticket. So a call costs one lock acquisition
//! whatever its size, chunks are handed out in order (each is still a
//! contiguous run, run in order on one worker), and a call never has more
//! workers on it than it has tickets: `Pool::new(n)` runs up to `n` chunks
//! at once.
//!
//! **Blocking calls** (`MapCall`) keep the descriptor, the closure and both
//! buffers in the caller's stack frame, like rayon's `StackJob`. The
//! tickets are counted by a [`CountLatch`]; each ticket counts down as the
//! last thing it does, and the caller returns only after the latch opens,
//! so no ticket can outlive the frame it points into. When the caller is
//! itself one of the pool's workers, it also claims chunks itself, and
//! afterwards takes its unclaimed tickets back out of the queue (see
//! `Pool`'s documentation on nesting).
//!
//! **Async calls** (`MapAsync`) own everything in one `Arc`; each ticket
//! holds a reference. A second counter, `remaining`, counts unfinished
//! chunks; the thread that finishes the last chunk drops the closure,
//! assembles the `Vec<R>` and completes the [`AsyncResult`]'s slot.
//!
//! **Panics.** Each chunk runs inside `catch_unwind`. A chunk that panics
//! records its index and the payload (the first payload wins) and, once
//! the unwinding is over, drops the items it had not reached and the
//! results it had produced ([`MapWork::run_chunk`]). The other chunks
//! still run: no fail-fast, because a blocking call's borrowed data must
//! outlive every chunk anyway. At the end the results of the chunks that
//! succeeded are dropped and the first payload is reported. Everything
//! the pool throws away is dropped value by value, each `Drop` inside
//! `catch_unwind` ([`drop_quietly_in_place`]): a `Drop` that panics is
//! passed over, never replaces the task's payload, and never runs while
//! another panic unwinds (which would abort the process).
//!
//! # Memory ordering
//!
//! Items (or, for a borrowed slice, its elements) are written by the
//! caller before it pushes the tickets, and the
//! queue's mutex publishes them to the worker that pops a ticket; in a fed
//! call, the feed's Release/Acquire pair publishes each chunk's items (and
//! a shortened `len`) to the worker that waited for it. A chunk's
//! results (and its failure record, behind its own mutex) reach the caller
//! through the latch's Release/Acquire pair, or, for `MapAsync`, through
//! the `AcqRel` decrement of `remaining`: each chunk's decrement releases
//! its writes, and the one that reaches zero acquires all of them. The
//! claim counter `next` is `Relaxed`: it only decides who runs which
//! chunk, and the chunk's data is ordered by the edges above.

use std::any::Any;
use std::cell::Cell;
use std::marker::PhantomData;
use std::mem::{self, ManuallyDrop};
use std::panic::{self, AssertUnwindSafe};
use std::ptr;
use std::sync::atomic::Ordering::{AcqRel, Relaxed};

use weft_futex::UnsafeCell;
use weft_futex::atomic::AtomicUsize;
use weft_mutex::Mutex;

use crate::async_result::{AsyncResult, Slot, drop_quietly};
use crate::error::TaskError;
use crate::feed::Feed;
use crate::job::JobRef;
use crate::latch::CountLatch;
use crate::registry::Registry;
use crate::sync::Arc;

/// A caught panic's payload.
pub(crate) type Payload = Box<dyn Any + Send>;

/// The chunk size Python's `Pool.map` picks when none is given:
/// `ceil(len / (4 * workers))`, so that each worker gets about four chunks,
/// and `0` for an empty input, which makes no chunks at all.
///
/// # Examples
///
/// ```
/// // Four workers share 100 items in chunks of 7 (15 chunks).
/// assert_eq!(weft_pool::default_chunksize(100, 4), 7);
/// assert_eq!(weft_pool::default_chunksize(0, 4), 0);
/// ```
pub fn default_chunksize(len: usize, workers: usize) -> usize {
    len.div_ceil(workers.max(1).saturating_mul(4))
}

/// Panics unless `chunksize` is usable.
#[track_caller]
pub(crate) fn check_chunksize(chunksize: usize) {
    assert!(chunksize > 0, "chunksize must be at least 1, got 0");
}

/// The shortest input a blocking call feeds (see the `feed` module)
/// instead of collecting it first; small under Miri and loom, so that
/// their small tests take both paths.
///
/// Feeding splits the submission in two, and the workers that start early
/// share the machine with the caller's collection. That pays off once the
/// collection lasts a good many microseconds. Measured on two cores with
/// `map(|x| x + 1, &data)` against collecting first, feeding was 20-25%
/// faster at 100 000 items and 15-20% at 300 000, about even at 30 000,
/// and up to twice as slow at 10 000.
const FEED_MIN_LEN: usize = if cfg!(any(miri, loom)) { 2 } else { 1 << 16 };

/// Runs a blocking map of `f` over `items` in chunks of `chunksize` (or
/// Python's default), and returns the results in order.
///
/// When the iterator's size hint is exact and long (at least
/// [`FEED_MIN_LEN`]), the call is *fed*: its chunks start running while the
/// caller is still moving later items into the input buffer (see the `feed`
/// module). Other inputs, nested calls from a worker, and calls on a pool of
/// one worker (whose only worker could not start before the caller is done)
/// collect the items first.
pub(crate) fn map_blocking<T, R, F>(
    registry: &Registry,
    f: &F,
    items: impl Iterator<Item = T>,
    chunksize: Option<usize>,
) -> Vec<R>
where
    T: Send,
    R: Send,
    F: Fn(T) -> R + Sync,
{
    let mut items = items;
    let (lower, upper) = items.size_hint();
    if upper == Some(lower)
        && lower >= FEED_MIN_LEN
        && mem::size_of::<T>() != 0
        && registry.workers() > 1
        && !registry.is_current_worker()
    {
        let len = lower;
        let chunksize = chunksize.unwrap_or_else(|| default_chunksize(len, registry.workers()));
        if (2..=Feed::MAX_CHUNKS).contains(&len.div_ceil(chunksize)) {
            let buffer = registry.spare.buffer(len);
            return MapCall::run_fed(registry, f, &mut items, buffer, len, chunksize);
        }
    }
    let items = registry.spare.collect(items);
    let chunksize = chunksize.unwrap_or_else(|| default_chunksize(items.len(), registry.workers()));
    MapCall::run(registry, f, items, chunksize)
}

/// The buffers of one map call and the state shared by its chunks.
///
/// It holds the call's [`Source`] of items (an owned input buffer whose
/// items the chunks move out one by one, or a borrowed slice) and owns the
/// output buffer (which the chunks fill), as raw parts; it has no `Drop`,
/// and [`finish`](Self::finish) (or, for an owned buffer,
/// [`take_input`](MapWork::take_input) then `finish_output`) or
/// [`drop_unstarted`](Self::drop_unstarted) must be called exactly once.
pub(crate) struct MapWork<T, R, S = Owned<T>> {
    /// Where the chunks take their items from.
    source: S,
    output: *mut R,
    output_capacity: usize,
    /// The number of items. Only a fed call's feeder changes it, before it
    /// closes the feed, and only to shorten the last published chunk.
    len: AtomicUsize,
    chunksize: usize,
    /// The most chunks the call can have; a fed call may publish fewer.
    chunks: usize,
    /// The next chunk to claim; may run past `chunks`.
    next: AtomicUsize,
    /// Which chunks have their items in the input buffer: all of them from
    /// the start, unless the call is fed (see the `feed` module).
    feed: Feed,
    /// The chunks that panicked and the first payload.
    failure: Mutex<Failure>,
    /// The item type, which only `S` mentions.
    marker: PhantomData<fn(T)>,
}

/// Where a call's chunks take their items from: a buffer the call owns
/// ([`Owned`]), or a slice it borrows ([`Borrowed`]).
///
/// # Safety
///
/// Implementations hand out each index's item by [`take`](Self::take) at
/// most once, and must let different threads take different indices at the
/// same time.
pub(crate) unsafe trait Source<T>: Copy {
    /// The item at index `i`, moved out of the source.
    ///
    /// # Safety
    ///
    /// `i` is below the call's length, and neither taken nor dropped
    /// before.
    unsafe fn take(&self, i: usize) -> T;

    /// Drops the items `start..end`, none of them taken, each once: a
    /// panic of an item's `Drop` is passed over, and the items after it
    /// are still dropped (see [`drop_quietly_in_place`]).
    ///
    /// # Safety
    ///
    /// As for [`take`](Self::take), for each of these indices.
    unsafe fn drop_items(&self, start: usize, end: usize);

    /// Frees the source's memory, once every item was taken or dropped.
    ///
    /// # Safety
    ///
    /// Called once, after which the source is not used.
    unsafe fn release(&self);

    /// Drops the items `0..len`, none of them taken, as
    /// [`drop_items`](Self::drop_items) does, and frees the source's
    /// memory.
    ///
    /// # Safety
    ///
    /// As for [`drop_items`](Self::drop_items) and then
    /// [`release`](Self::release).
    unsafe fn discard(&self, len: usize) {
        // SAFETY: guaranteed by the caller.
        unsafe {
            self.drop_items(0, len);
            self.release();
        }
    }
}

/// A buffer of items that the call owns: the raw parts of a `Vec<T>`,
/// whose items the chunks move out one by one.
pub(crate) struct Owned<T> {
    ptr: *mut T,
    capacity: usize,
}

// By hand: a derive would require `T: Copy`.
impl<T> Clone for Owned<T> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<T> Copy for Owned<T> {}

// SAFETY: `take` moves each item out with `ptr::read` from its own index,
// and the callers take each index once.
unsafe impl<T> Source<T> for Owned<T> {
    #[inline]
    unsafe fn take(&self, i: usize) -> T {
        // SAFETY: `i` is within the items the buffer holds, not yet moved
        // out (guaranteed by the caller).
        unsafe { ptr::read(self.ptr.add(i)) }
    }

    unsafe fn drop_items(&self, start: usize, end: usize) {
        // SAFETY: these items are initialized and owned by the caller, who
        // gives them up.
        unsafe {
            drop_quietly_in_place(ptr::slice_from_raw_parts_mut(
                self.ptr.add(start),
                end - start,
            ))
        };
    }

    unsafe fn release(&self) {
        // SAFETY: the buffer came from a `Vec<T>` of this capacity; with
        // length 0, dropping it frees only the memory.
        drop(unsafe { Vec::from_raw_parts(self.ptr, 0, self.capacity) });
    }
}

/// A slice the call maps over in place: item `i` is a reference to its
/// element `i`, so the calling thread copies nothing and the workers read
/// the elements where they are.
pub(crate) struct Borrowed<'a, U> {
    ptr: *const U,
    marker: PhantomData<&'a [U]>,
}

impl<U> Clone for Borrowed<'_, U> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<U> Copy for Borrowed<'_, U> {}

// SAFETY: `take` only makes shared references into a slice that outlives
// the call (`'a`), which any number of threads may hold at once.
unsafe impl<'a, U> Source<&'a U> for Borrowed<'a, U> {
    #[inline]
    unsafe fn take(&self, i: usize) -> &'a U {
        // SAFETY: `i` is within the slice (guaranteed by the caller), which
        // is borrowed for `'a`.
        unsafe { &*self.ptr.add(i) }
    }

    unsafe fn drop_items(&self, _start: usize, _end: usize) {}

    unsafe fn release(&self) {}
}

/// What went wrong in a call, if anything.
#[derive(Default)]
struct Failure {
    first: Option<Payload>,
    failed_chunks: Vec<usize>,
}

impl<T, R> MapWork<T, R> {
    /// Takes over `items` and allocates room for as many results.
    ///
    /// `items` must not be empty, and `chunksize` must not be zero.
    pub(crate) fn new(items: Vec<T>, chunksize: usize) -> Self {
        debug_assert!(!items.is_empty() && chunksize > 0);
        let len = items.len();
        let chunks = len.div_ceil(chunksize);
        Self::with_buffer(items, len, chunksize, Feed::complete(chunks))
    }

    /// Room for `len` items, to be written by the caller with
    /// [`feed_from`](Self::feed_from) while the chunks run.
    ///
    /// `buffer` must be empty with room for `len` items; `len` must not be
    /// zero, and `chunksize` neither.
    pub(crate) fn fed(buffer: Vec<T>, len: usize, chunksize: usize) -> Self {
        debug_assert!(buffer.is_empty() && buffer.capacity() >= len);
        debug_assert!(len > 0 && chunksize > 0);
        Self::with_buffer(buffer, len, chunksize, Feed::new())
    }

    fn with_buffer(input: Vec<T>, len: usize, chunksize: usize, feed: Feed) -> Self {
        let mut input = ManuallyDrop::new(input);
        let source = Owned {
            ptr: input.as_mut_ptr(),
            capacity: input.capacity(),
        };
        MapWork::with_source(source, len, chunksize, feed)
    }
}

impl<'a, U, R> MapWork<&'a U, R, Borrowed<'a, U>> {
    /// Maps over `items` in place, and allocates room for as many results.
    ///
    /// `items` must not be empty, and `chunksize` must not be zero.
    pub(crate) fn borrowed(items: &'a [U], chunksize: usize) -> Self {
        debug_assert!(!items.is_empty() && chunksize > 0);
        let source = Borrowed {
            ptr: items.as_ptr(),
            marker: PhantomData,
        };
        let chunks = items.len().div_ceil(chunksize);
        MapWork::with_source(source, items.len(), chunksize, Feed::complete(chunks))
    }
}

impl<T, R, S: Source<T>> MapWork<T, R, S> {
    fn with_source(source: S, len: usize, chunksize: usize, feed: Feed) -> Self {
        let mut output = ManuallyDrop::new(Vec::<R>::with_capacity(len));
        Self {
            source,
            output: output.as_mut_ptr(),
            output_capacity: output.capacity(),
            len: AtomicUsize::new(len),
            chunksize,
            chunks: len.div_ceil(chunksize),
            next: AtomicUsize::new(0),
            feed,
            failure: Mutex::new(Failure::default()),
            marker: PhantomData,
        }
    }

    /// How many chunks the call has.
    pub(crate) fn chunks(&self) -> usize {
        self.chunks
    }

    /// The index range `start..end` of chunk `i < chunks`. (The sum
    /// saturates for zero-sized items, whose count may approach
    /// `usize::MAX`.)
    #[inline]
    fn bounds(&self, i: usize) -> (usize, usize) {
        let start = i * self.chunksize;
        // Relaxed: a chunk's bounds are read after the feed published it
        // (Acquire), and `len` only changes before that publication.
        let len = self.len.load(Relaxed);
        (start, start.saturating_add(self.chunksize).min(len))
    }

    /// Claims the next chunk nobody has claimed, waiting until the caller
    /// has put its items in (see the `feed` module); `None` when no chunk
    /// is left.
    #[inline]
    pub(crate) fn claim(&self) -> Option<usize> {
        // Relaxed: see "Memory ordering" in the module docs. The counter
        // overshoots `chunks` by at most one per ticket plus the helper.
        let i = self.next.fetch_add(1, Relaxed);
        (i < self.chunks && self.feed.wait_for(i)).then_some(i)
    }

    /// Runs chunk `i`: moves each of its items out of the input buffer,
    /// calls `f` on it and writes the result at the same index. If `f`
    /// panics, records the panic and, once the unwinding is over, drops
    /// what the chunk had not consumed or had produced.
    ///
    /// # Safety
    ///
    /// Chunk `i` was claimed by this thread (so it runs exactly once), and
    /// the buffers are live, as `finish` has not been called.
    pub(crate) unsafe fn run_chunk<F>(&self, f: &F, i: usize)
    where
        F: Fn(T) -> R,
    {
        let (start, end) = self.bounds(i);
        // Local copies of the two pointers: read through `self`, they would
        // be reloaded after every result written (the output might alias
        // `self` for all the compiler knows), and the loop would not
        // vectorize.
        let (source, output) = (self.source, self.output);
        let stopped = Cell::new((start, start));
        let outcome = panic::catch_unwind(AssertUnwindSafe(|| {
            let mut progress = Progress {
                read: start,
                written: start,
                stopped: &stopped,
            };
            while progress.read < end {
                // SAFETY: `read` is in this chunk, which only this thread
                // touches, and each item is taken exactly once.
                let item = unsafe { source.take(progress.read) };
                progress.read += 1;
                let result = f(item);
                // SAFETY: `written` is in this chunk and within the output
                // buffer's capacity (`len` results fit).
                unsafe { ptr::write(output.add(progress.written), result) };
                progress.written += 1;
            }
            mem::forget(progress);
        }));
        if let Err(payload) = outcome {
            // The leftovers are dropped now, not while `f`'s panic unwinds:
            // a `Drop` that panicked then would abort the process.
            let (read, written) = stopped.get();
            // SAFETY: `f` panicked on item `read - 1`, so the items
            // `read..end` are still in the source and the results
            // `start..written` in the output buffer (see `Progress`); they
            // belong to this chunk alone, and are dropped once, here.
            unsafe {
                source.drop_items(read, end);
                drop_quietly_in_place(ptr::slice_from_raw_parts_mut(
                    output.add(start),
                    written - start,
                ));
            }
            self.record_failure(i, payload);
        }
    }

    /// Notes that chunk `i` panicked with `payload`; keeps the first
    /// payload and drops the others.
    fn record_failure(&self, i: usize, payload: Payload) {
        let mut failure = self.failure.lock();
        failure.failed_chunks.push(i);
        let extra = match failure.first {
            None => {
                failure.first = Some(payload);
                None
            }
            Some(_) => Some(payload),
        };
        drop(failure);
        drop_quietly(extra);
    }

    /// After every chunk has run: the results in order, or, if a chunk
    /// panicked, the first panic's payload (the results of the chunks that
    /// succeeded are dropped first). Frees both buffers.
    ///
    /// # Safety
    ///
    /// Every chunk has run, and this thread sees all their writes (the
    /// latch or the `remaining` counter gives that); called once, and no
    /// chunk runs after it.
    pub(crate) unsafe fn finish(&self) -> Result<Vec<R>, Payload> {
        // SAFETY: guaranteed by this function's contract: every item was
        // taken by its chunk or dropped by a failed chunk's guard.
        unsafe { self.source.release() };
        // SAFETY: as above.
        unsafe { self.finish_output() }
    }

    /// The second half of [`finish`](Self::finish): the results, or the
    /// first panic's payload.
    ///
    /// # Safety
    ///
    /// As for [`finish`](Self::finish), after [`take_input`](Self::take_input).
    unsafe fn finish_output(&self) -> Result<Vec<R>, Payload> {
        let failure = std::mem::take(&mut *self.failure.lock());
        // Relaxed: this thread either set `len` (a feeder) or saw every
        // chunk's end through the latch or `remaining`.
        let len = self.len.load(Relaxed);
        match failure.first {
            None => {
                // SAFETY: every chunk succeeded, so all `len` results are
                // written (the published chunks cover `0..len`), in a
                // buffer of `output_capacity` from a `Vec<R>`.
                Ok(unsafe { Vec::from_raw_parts(self.output, len, self.output_capacity) })
            }
            Some(payload) => {
                // SAFETY: the output buffer came from a `Vec<R>` of this
                // capacity; with length 0 dropping it frees only the memory.
                let output = unsafe { Vec::from_raw_parts(self.output, 0, self.output_capacity) };
                let mut failed = failure.failed_chunks;
                failed.sort_unstable();
                for i in 0..self.feed.published() {
                    if failed.binary_search(&i).is_err() {
                        let (start, end) = self.bounds(i);
                        // SAFETY: chunk `i` succeeded, so its results are
                        // written, within the buffer, and owned by nobody
                        // else.
                        unsafe {
                            drop_quietly_in_place(ptr::slice_from_raw_parts_mut(
                                self.output.add(start),
                                end - start,
                            ));
                        }
                    }
                }
                drop(output);
                Err(payload)
            }
        }
    }

    /// Drops the items and frees the buffers of a call whose chunks never
    /// ran (it found the pool closed).
    ///
    /// # Safety
    ///
    /// No chunk has been claimed, and no ticket refers to this work.
    pub(crate) unsafe fn drop_unstarted(&self) {
        // A fed call holds the items of its published chunks only: none
        // before it is fed, `len` of them after (see `feed_from`).
        let items = if self.feed.published() == 0 {
            0
        } else {
            self.len.load(Relaxed)
        };
        // SAFETY: the output buffer holds nothing yet; the source holds
        // `items` items, which nobody took.
        unsafe {
            drop(Vec::from_raw_parts(self.output, 0, self.output_capacity));
            self.source.discard(items);
        }
    }
}

impl<T, R> MapWork<T, R> {
    /// The emptied input buffer, as a `Vec` of length 0, for reuse.
    ///
    /// # Safety
    ///
    /// As for [`finish`](Self::finish), and called once, before
    /// [`finish_output`](Self::finish_output) (and instead of `finish`).
    pub(crate) unsafe fn take_input(&self) -> Vec<T> {
        // SAFETY: every item was moved out by its chunk (or dropped by a
        // failed chunk's guard), so the input buffer holds no live item;
        // it came from a `Vec<T>` of this capacity.
        unsafe { Vec::from_raw_parts(self.source.ptr, 0, self.source.capacity) }
    }

    /// Moves the items of `iter` into the input buffer of a fed call,
    /// publishing each chunk as soon as its last item is in, and closes the
    /// feed. See the `feed` module.
    ///
    /// An iterator that ends early makes the call shorter: `len` shrinks to
    /// what it yielded (before the last chunk is published). One that
    /// yields more than `len` items has the extra ones collected into
    /// `Fed::Done::rest` after the feed is closed. If the iterator panics,
    /// the items of the chunk being filled are dropped, the call keeps only
    /// the chunks already published, and the payload is returned.
    ///
    /// # Safety
    ///
    /// The work was made by [`fed`](Self::fed), and this is its one call,
    /// made by the thread that made the call, before it waits for the
    /// chunks.
    pub(crate) unsafe fn feed_from(&self, iter: &mut impl Iterator<Item = T>) -> Fed<T> {
        let len = self.len.load(Relaxed);
        let mut written = 0;
        let filled = panic::catch_unwind(AssertUnwindSafe(|| {
            let mut chunk_end = self.chunksize.min(len);
            while written < len {
                let Some(item) = iter.next() else { break };
                // SAFETY: `written < len <= capacity`, and no worker
                // reads this index before its chunk is published below.
                unsafe { ptr::write(self.source.ptr.add(written), item) };
                written += 1;
                if written == chunk_end {
                    self.feed.publish(1);
                    chunk_end = chunk_end.saturating_add(self.chunksize).min(len);
                }
            }
        }));
        let whole_chunks = written / self.chunksize;
        let published = if written == len {
            // Every chunk, the last one perhaps short, is published.
            len.div_ceil(self.chunksize)
        } else {
            whole_chunks
        };
        if let Err(payload) = filled {
            let kept = published * self.chunksize;
            // The items of the chunk being filled never reach a worker.
            let unpublished =
                ptr::slice_from_raw_parts_mut(self.source.ptr.wrapping_add(kept), written - kept);
            // SAFETY: `kept..written` were written above and not published,
            // so this thread alone owns them.
            unsafe { drop_quietly_in_place(unpublished) };
            // Relaxed: published by the Release in `close`.
            self.len.store(kept, Relaxed);
            self.feed.close(0);
            return Fed::Panicked(payload);
        }
        if written < len {
            // The iterator ended early: its last chunk, short or whole,
            // ends the call.
            // Relaxed: published by the Release in `close`.
            self.len.store(written, Relaxed);
            let last = u32::from(written > whole_chunks * self.chunksize);
            self.feed.close(last);
            return Fed::Done { rest: Vec::new() };
        }
        self.feed.close(0);
        // The iterator promised `len` items; any beyond that make a second
        // call.
        match panic::catch_unwind(AssertUnwindSafe(|| iter.collect::<Vec<T>>())) {
            Ok(rest) => Fed::Done { rest },
            Err(payload) => Fed::Panicked(payload),
        }
    }
}

/// How feeding a call went; see [`MapWork::feed_from`].
pub(crate) enum Fed<T> {
    /// Every item is in the call, except `rest`: the items beyond the count
    /// the iterator's size hint promised.
    Done { rest: Vec<T> },
    /// The iterator panicked; the call holds the chunks published before.
    Panicked(Payload),
}

/// Drops the values in `slice` one by one, each inside `catch_unwind`: a
/// panic of a value's `Drop` is passed over, and the values after it are
/// still dropped. This is how the pool drops what it throws away (a failed
/// call's results, a failed chunk's leftovers, a refused call's items):
/// one `drop_in_place` of the whole slice would go on dropping the rest
/// while the first panic unwinds, and a second panicking `Drop` would then
/// abort the process.
///
/// # Safety
///
/// `slice` holds initialized values that the caller owns and gives up.
unsafe fn drop_quietly_in_place<T>(slice: *mut [T]) {
    if !mem::needs_drop::<T>() {
        return;
    }
    let first = slice.cast::<T>();
    for i in 0..slice.len() {
        // SAFETY: value `i` is initialized and the caller's to give up;
        // each is dropped once.
        let _ = panic::catch_unwind(AssertUnwindSafe(|| unsafe {
            ptr::drop_in_place(first.add(i));
        }));
    }
}

/// Drops `values` as [`drop_quietly_in_place`] does, and frees their
/// buffer.
pub(crate) fn drop_vec_quietly<T>(mut values: Vec<T>) {
    let slice = ptr::slice_from_raw_parts_mut(values.as_mut_ptr(), values.len());
    // SAFETY: with the length set to zero the `Vec` no longer owns its
    // values, so they are ours to drop; it still frees the buffer.
    unsafe {
        values.set_len(0);
        drop_quietly_in_place(slice);
    }
}

/// Drops a call's outcome, results or payload, quietly.
fn drop_outcome_quietly<R>(outcome: Result<Vec<R>, Payload>) {
    match outcome {
        Ok(results) => drop_vec_quietly(results),
        Err(payload) => drop_quietly(payload),
    }
}

/// Where a chunk's loop is: the items `read..` are still in the source,
/// and the results from the chunk's start to `written` are in the output
/// buffer. If `f` panics, the unwinding drops it, and its `Drop` only
/// stores the two indices in `stopped`, for `run_chunk` to drop the
/// leftovers after the unwinding. Forgotten when the chunk succeeds.
struct Progress<'a> {
    read: usize,
    written: usize,
    stopped: &'a Cell<(usize, usize)>,
}

impl Drop for Progress<'_> {
    fn drop(&mut self) {
        self.stopped.set((self.read, self.written));
    }
}

/// A blocking map call's descriptor, on the caller's stack.
pub(crate) struct MapCall<'f, T, R, F, S = Owned<T>> {
    f: &'f F,
    work: MapWork<T, R, S>,
    /// Counts the tickets that may still touch this descriptor.
    latch: CountLatch,
}

impl<'f, T, R, F, S> MapCall<'f, T, R, F, S>
where
    T: Send,
    R: Send,
    F: Fn(T) -> R + Sync,
    S: Source<T>,
{
    /// Runs every chunk of `work` on the pool (and on this thread too, if
    /// it is one of the pool's workers), waits until they have all run, and
    /// returns the finished call; panics with "pool is closed" (having
    /// dropped the work) if the pool refuses it.
    fn run_work(registry: &Registry, f: &'f F, work: MapWork<T, R, S>) -> Self {
        let helper = registry.is_current_worker();
        // A worker waiting for its own call takes part in it, so it needs
        // one ticket less; see `Pool`'s docs on nesting.
        let tickets = if helper {
            (work.chunks() - 1).min(registry.workers() - 1)
        } else {
            work.chunks().min(registry.workers())
        };
        let call = MapCall {
            f,
            work,
            latch: CountLatch::new(tickets),
        };
        let this = &raw const call;

        if tickets > 0 {
            // `T: Send`, `R: Send` and `F: Sync` make running chunks on
            // other threads sound.
            // SAFETY: the descriptor lives in this frame until the latch
            // opens below, and each ticket counts the latch down as its
            // last access.
            let job = unsafe { JobRef::new(this.cast(), Self::execute_ticket) };
            if !registry.injector.push(job, tickets) {
                if helper {
                    // Closed under our feet: a worker's nested call is part
                    // of accepted work, so it runs alone.
                    // SAFETY: nothing was pushed; we own the count.
                    unsafe { CountLatch::count_down(&call.latch, tickets as u32) };
                } else {
                    // SAFETY: nothing was pushed, so no chunk was claimed.
                    unsafe { call.work.drop_unstarted() };
                    crate::pool::closed();
                }
            }
        }

        if helper {
            while let Some(i) = call.work.claim() {
                // SAFETY: we claimed chunk `i`; the buffers live until
                // `finish` below.
                unsafe { call.work.run_chunk(call.f, i) };
            }
            // Every chunk is claimed. Tickets still queued would only find
            // nothing to do, but they point into this frame: take them
            // back instead of waiting for a worker to pop them.
            let unpopped = registry
                .injector
                .remove_where(|job| job.data() == this.cast());
            if unpopped > 0 {
                // SAFETY: these tickets were removed from the queue, so
                // they will never run; their counts are ours to retire.
                unsafe { CountLatch::count_down(&call.latch, unpopped as u32) };
            }
        }

        // The soundness of the whole call rests on this wait: it returns
        // only when every ticket has finished with the descriptor, and it
        // cannot unwind. (Moving `call` out afterwards is fine: no ticket
        // holds its address any more.)
        call.latch.wait();
        call
    }

    /// What a worker does with a ticket: claim and run chunks until none is
    /// left, then count the latch down.
    ///
    /// # Safety
    ///
    /// `this` is a `MapCall<T, R, F, S>` whose latch counts this ticket.
    unsafe fn execute_ticket(this: *const ()) {
        let this = this.cast::<Self>();
        {
            // SAFETY: the caller waits for the latch, which counts this
            // ticket, before its frame goes away.
            let call = unsafe { &*this };
            while let Some(i) = call.work.claim() {
                // SAFETY: we claimed chunk `i`; the caller calls `finish`
                // only after the latch opens.
                unsafe { call.work.run_chunk(call.f, i) };
            }
        }
        // The last access: after it the caller may return and free the
        // descriptor.
        // SAFETY: `this` is live until this count-down takes effect.
        unsafe { CountLatch::count_down(&raw const (*this).latch, 1) };
    }
}

impl<'a, 'f, U, R, F> MapCall<'f, &'a U, R, F, Borrowed<'a, U>>
where
    U: Sync,
    R: Send,
    F: Fn(&'a U) -> R + Sync,
{
    /// Runs `f` over the elements of `items` on the pool, in chunks of
    /// `chunksize`, reading them in place; returns the results in order,
    /// or re-raises a chunk's panic after every chunk has run.
    pub(crate) fn run_borrowed(
        registry: &Registry,
        f: &'f F,
        items: &'a [U],
        chunksize: usize,
    ) -> Vec<R> {
        if items.is_empty() {
            return Vec::new();
        }
        let call = Self::run_work(registry, f, MapWork::borrowed(items, chunksize));
        // SAFETY: `run_work` waited for the latch, so every chunk has run
        // and its writes are visible; this is the one call of `finish`.
        match unsafe { call.work.finish() } {
            Ok(results) => results,
            Err(payload) => panic::resume_unwind(payload),
        }
    }
}

impl<'f, T, R, F> MapCall<'f, T, R, F>
where
    T: Send,
    R: Send,
    F: Fn(T) -> R + Sync,
{
    /// Runs `f` over `items` on the pool in chunks of `chunksize`, and
    /// returns the results in order; re-raises a chunk's panic after every
    /// chunk has run.
    pub(crate) fn run(registry: &Registry, f: &'f F, items: Vec<T>, chunksize: usize) -> Vec<R> {
        if items.is_empty() {
            registry.spare.give_back(items);
            return Vec::new();
        }
        let call = Self::run_work(registry, f, MapWork::new(items, chunksize));
        // A ticket retires only when no chunk is left to claim, and a
        // helping worker claims until none is left.
        // SAFETY: so once `run_work` has waited for the latch, every chunk
        // has run and its writes are visible.
        let input = unsafe { call.work.take_input() };
        registry.spare.give_back(input);
        // SAFETY: as above, and the input was taken just now.
        match unsafe { call.work.finish_output() } {
            Ok(results) => results,
            Err(payload) => panic::resume_unwind(payload),
        }
    }

    /// [`run`](Self::run) for items still in `iter`, whose size hint
    /// promised `len` of them: the caller moves them into `buffer` while the
    /// workers already run the chunks it has filled (see the `feed`
    /// module). The calling thread must not be one of the pool's workers,
    /// and the call must have at least two chunks and the pool two
    /// workers.
    pub(crate) fn run_fed(
        registry: &Registry,
        f: &'f F,
        iter: &mut impl Iterator<Item = T>,
        buffer: Vec<T>,
        len: usize,
        chunksize: usize,
    ) -> Vec<R> {
        debug_assert!(!registry.is_current_worker());
        let work = MapWork::fed(buffer, len, chunksize);
        let tickets = work.chunks().min(registry.workers());
        let call = MapCall {
            f,
            work,
            latch: CountLatch::new(tickets),
        };
        let this = &raw const call;
        // `feed_from` catches the iterator's panics, so nothing skips the
        // wait for the latch below.
        // SAFETY: as in `run`: the descriptor lives in this frame until the
        // latch opens, and each ticket counts the latch down last.
        let job = unsafe { JobRef::new(this.cast(), Self::execute_ticket) };
        // While this thread feeds, it is busy too: one ticket at least
        // waits until the feed is done, so that the call keeps as many
        // threads running as the pool has workers (on a pool with a worker
        // per core, the workers then share no core with the feeding
        // caller).
        // The pool also keeps a worker free of feeds (see
        // `Registry::reserve_feeders`), so a call may get no early ticket.
        let early = registry.reserve_feeders(tickets - 1);
        if early > 0 && !registry.injector.push(job, early) {
            registry.release_feeders(early);
            // SAFETY: nothing was pushed or fed, so no chunk was claimed.
            unsafe { call.work.drop_unstarted() };
            crate::pool::closed();
        }
        // SAFETY: the work was made by `fed`; this thread made the call and
        // feeds it once, before waiting.
        let fed = unsafe { call.work.feed_from(iter) };
        // The feed is closed: no early ticket waits on it any more.
        registry.release_feeders(early);
        let late = tickets - early;
        if !registry.injector.push(job, late) {
            // Closed by another thread meanwhile.
            if early > 0 {
                // The call was accepted, and its early tickets run every
                // chunk; the other tickets' counts are ours to retire.
                // SAFETY: these tickets were never pushed.
                unsafe { CountLatch::count_down(&call.latch, late as u32) };
            } else {
                // Nothing was pushed, so no chunk was claimed: the call
                // never started.
                // SAFETY: as just said.
                unsafe { call.work.drop_unstarted() };
                if let Fed::Panicked(payload) = fed {
                    panic::resume_unwind(payload);
                }
                crate::pool::closed();
            }
        }

        // As in `run`: the wait that makes the call sound.
        call.latch.wait();

        // SAFETY: the latch is open, so every published chunk has run and
        // its writes are visible; the feed is closed.
        registry.spare.give_back(unsafe { call.work.take_input() });
        // SAFETY: as above, and the input was taken just now.
        let results = unsafe { call.work.finish_output() };
        let rest = match fed {
            Fed::Done { rest } => rest,
            Fed::Panicked(payload) => {
                drop_outcome_quietly(results);
                panic::resume_unwind(payload);
            }
        };
        // An iterator that yielded more than its size hint promised: the
        // extra items make a second call, so that every item runs.
        let more = if rest.is_empty() {
            Ok(Vec::new())
        } else {
            panic::catch_unwind(AssertUnwindSafe(|| Self::run(registry, f, rest, chunksize)))
        };
        match (results, more) {
            (Ok(mut results), Ok(more)) => {
                results.extend(more);
                results
            }
            (Err(payload), more) => {
                drop_outcome_quietly(more);
                panic::resume_unwind(payload)
            }
            (Ok(results), Err(payload)) => {
                drop_vec_quietly(results);
                panic::resume_unwind(payload)
            }
        }
    }
}

/// An async map call: owns the closure and the buffers, shared by its
/// tickets through an `Arc`.
pub(crate) struct MapAsync<T, R, F> {
    /// Dropped by whoever finishes the last chunk.
    f: UnsafeCell<ManuallyDrop<F>>,
    work: MapWork<T, R>,
    /// Chunks not yet finished.
    remaining: AtomicUsize,
    slot: Arc<Slot<Vec<R>>>,
}

impl<T, R, F> MapAsync<T, R, F>
where
    T: Send + 'static,
    R: Send + 'static,
    F: Fn(T) -> R + Send + Sync + 'static,
{
    /// Submits `f` over `items` in chunks of `chunksize`, and returns the
    /// handle to the results.
    pub(crate) fn submit(
        registry: &Registry,
        f: F,
        items: Vec<T>,
        chunksize: usize,
    ) -> AsyncResult<Vec<R>> {
        if items.is_empty() {
            drop(f);
            return AsyncResult::ready_with(Vec::new());
        }
        let work = MapWork::new(items, chunksize);
        let chunks = work.chunks();
        let tickets = chunks.min(registry.workers());
        // Results nobody takes are thrown away like a failed call's.
        let slot = Arc::new(Slot::dropping_with(drop_vec_quietly));
        let call = Arc::new(MapAsync {
            f: UnsafeCell::new(ManuallyDrop::new(f)),
            work,
            remaining: AtomicUsize::new(chunks),
            slot: slot.clone(),
        });
        // One reference per ticket.
        let this = Arc::into_raw(call);
        for _ in 1..tickets {
            // SAFETY: `this` came from `Arc::into_raw` and is still owned.
            unsafe { Arc::increment_strong_count(this) };
        }
        // SAFETY: each ticket owns one reference, so the descriptor lives
        // until every ticket has run; the bounds on `T`, `R` and `F` make
        // running it on a worker sound.
        let job = unsafe { JobRef::new(this.cast(), Self::execute_ticket) };
        if !registry.injector.push(job, tickets) {
            for _ in 1..tickets {
                // SAFETY: we own these references; none was pushed.
                unsafe { Arc::decrement_strong_count(this) };
            }
            // SAFETY: the last reference, ours.
            let call = unsafe { Arc::from_raw(this) };
            // SAFETY: nothing was pushed, so no chunk was claimed.
            unsafe { call.work.drop_unstarted() };
            // SAFETY: `f` is taken once, here; nobody else can reach it.
            let f = call.f.with_mut(|f| unsafe { ManuallyDrop::take(&mut *f) });
            drop(call);
            crate::pool::refuse(f, ());
        }
        AsyncResult::new(slot)
    }

    /// What a worker does with a ticket: claim and run chunks until none is
    /// left; whoever finishes the last chunk completes the call.
    ///
    /// # Safety
    ///
    /// `this` is one reference to a `MapAsync<T, R, F>`, owned by this
    /// ticket.
    unsafe fn execute_ticket(this: *const ()) {
        // SAFETY: the ticket owns this reference.
        let call = unsafe { Arc::from_raw(this.cast::<Self>()) };
        let mut finished_last = false;
        while let Some(i) = call.work.claim() {
            // SAFETY: `f` is alive: chunk `i` is not finished, so
            // `remaining` is not zero and nobody dropped `f`. The borrow
            // ends before this chunk's decrement below.
            call.f.with(|f| unsafe { call.work.run_chunk(&**f, i) });
            // AcqRel: Release publishes this chunk's results and failure
            // record; the Acquire of the decrement that reaches zero sees
            // every chunk's.
            if call.remaining.fetch_sub(1, AcqRel) == 1 {
                finished_last = true;
            }
        }
        if finished_last {
            // SAFETY: every chunk has finished and we saw their writes.
            unsafe { call.finish() };
        }
        // The last reference may drop a result nobody took; keep its
        // panic, if any, out of the worker.
        drop_quietly(call);
    }

    /// Drops the closure, assembles the results and completes the slot.
    ///
    /// # Safety
    ///
    /// Every chunk has finished, and this thread saw their writes.
    unsafe fn finish(&self) {
        // SAFETY: no chunk is running or will run, so nobody else reads
        // `f`; it is taken once, here.
        let f = self.f.with_mut(|f| unsafe { ManuallyDrop::take(&mut *f) });
        let dropped_f = panic::catch_unwind(AssertUnwindSafe(move || drop(f)));
        // SAFETY: guaranteed by this function's contract.
        let mut result = unsafe { self.work.finish() };
        if let (Err(payload), Ok(_)) = (dropped_f, &result) {
            // The closure's own `Drop` panicked: report that.
            drop_outcome_quietly(mem::replace(&mut result, Err(payload)));
        }
        // SAFETY: only the thread that finished the last chunk gets here,
        // once.
        unsafe { self.slot.complete(result.map_err(TaskError::new)) };
    }
}

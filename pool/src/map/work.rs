//! The chunk model of a map call: the input and output buffers, where the
//! items come from, running one chunk, and collecting the results.
//!
//! # Implementation
//!
//! A [`MapWork`] describes a call's two buffers, as raw parts: the input
//! the chunks take their items from, and the output they write their
//! results to, each at the item's own index. Chunk `i` is the items
//! `i * chunksize .. (i + 1) * chunksize` (the last one shorter).
//!
//! **Sources.** Where the items come from is the call's [`Source`]: an
//! [`Owned`] buffer that the caller collected the items into, whose items
//! the chunks move out one by one, or a [`Borrowed`] slice
//! ([`Pool::map_slice`](crate::Pool::map_slice)), whose chunks are ranges
//! of indices and whose item `i` is a reference to element `i`, made by the
//! worker that runs the chunk: the calling thread copies nothing, and the
//! workers read the elements where they are. Everything else is shared.
//!
//! **Claiming.** [`MapWork::claim`] hands out the next chunk index with a
//! `fetch_add`, and waits on the call's feed until that chunk's items are
//! in (at once, unless the call is fed: see `feed.rs`).
//!
//! **Panics.** Each chunk runs inside `catch_unwind`. A chunk that panics
//! records its index and the payload (the first payload wins) and, once
//! the unwinding is over, drops the items it had not reached and the
//! results it had produced ([`MapWork::run_chunk`]). The other chunks
//! still run: no fail-fast, because a blocking call's borrowed data must
//! outlive every chunk anyway. At the end the results of the chunks that
//! succeeded are dropped and the first payload is reported
//! ([`MapWork::finish`]). Everything thrown away is dropped quietly, value
//! by value (see `panics.rs`).
//!
//! How the items and results are ordered between threads is told in the
//! `map` module.

use std::cell::Cell;
use std::marker::PhantomData;
use std::mem::{self, ManuallyDrop};
use std::panic::{self, AssertUnwindSafe};
use std::ptr;
use std::sync::atomic::Ordering::Relaxed;

use weft_futex::atomic::AtomicUsize;
use weft_mutex::Mutex;

use super::feed::Feed;
use crate::panics::{Payload, drop_quietly, drop_quietly_in_place};

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
    pub(super) source: S,
    output: *mut R,
    output_capacity: usize,
    /// The number of items. Only a fed call's feeder changes it, before it
    /// closes the feed, and only to shorten the last published chunk.
    pub(super) len: AtomicUsize,
    pub(super) chunksize: usize,
    /// The most chunks the call can have; a fed call may publish fewer.
    chunks: usize,
    /// The next chunk to claim; may run past `chunks`.
    next: AtomicUsize,
    /// Which chunks have their items in the input buffer: all of them from
    /// the start, unless the call is fed (see `feed.rs`).
    pub(super) feed: Feed,
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
    pub(super) ptr: *mut T,
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

    /// Takes over `input`, whose first `len` items are or will be the
    /// call's, and allocates room for `len` results.
    pub(super) fn with_buffer(input: Vec<T>, len: usize, chunksize: usize, feed: Feed) -> Self {
        let mut input = ManuallyDrop::new(input);
        let source = Owned {
            ptr: input.as_mut_ptr(),
            capacity: input.capacity(),
        };
        MapWork::with_source(source, len, chunksize, feed)
    }

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
    /// has put its items in (see `feed.rs`); `None` when no chunk
    /// is left.
    #[inline]
    pub(crate) fn claim(&self) -> Option<usize> {
        // Relaxed: see "Memory ordering" in the `map` module. The counter
        // overshoots `chunks` by at most one per ticket, plus one for a
        // calling worker that runs chunks of its own call.
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
    pub(crate) unsafe fn finish_output(&self) -> Result<Vec<R>, Payload> {
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

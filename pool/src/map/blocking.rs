//! A blocking map call: its descriptor on the caller's stack, the wait
//! that makes borrowing sound, and the caller that runs chunks of its own
//! call when it is one of the pool's workers.
//!
//! # Implementation
//!
//! A [`MapCall`] keeps the descriptor, the closure and both buffers in the
//! caller's stack frame, like rayon's `StackJob`, and pushes tickets to it
//! (see the `map` module). The tickets are counted by a [`CountLatch`];
//! each ticket counts down as the last thing it does, and the caller
//! returns only after the latch opens, so no ticket can outlive the frame
//! it points into.
//!
//! **Nesting.** When the caller is itself one of the pool's workers, it
//! pushes one ticket fewer and claims chunks itself until none is left;
//! then it takes its unpopped tickets back out of the queue and retires
//! them, and waits only for the chunks that other workers are running
//! (`Pool`'s documentation and the design note say why this always makes
//! progress).
//!
//! **Feeding.** A call over a long iterator whose size hint is exact is
//! fed (see `feed.rs`): [`MapCall::run_fed`] pushes its tickets first, and
//! [`MapWork::feed_from`] fills the input buffer while the workers already
//! run the chunks filled so far, publishing each chunk on the call's feed.

use std::mem;
use std::panic::{self, AssertUnwindSafe};
use std::ptr;
use std::sync::atomic::Ordering::Relaxed;

use super::feed::Feed;
use super::work::{Borrowed, MapWork, Owned, Source, default_chunksize};
use crate::context::Context;
use crate::job::{JobRef, Owner};
use crate::latch::CountLatch;
use crate::panics::{
    Payload, closed, drop_outcome_quietly, drop_quietly_in_place, drop_vec_quietly,
};
use crate::registry::Registry;

/// The shortest input a blocking call feeds (see `feed.rs`) instead of
/// collecting it first; small under Miri and loom, so that their small
/// tests take both paths.
///
/// Feeding splits the submission in two, and the workers that start early
/// share the machine with the caller's collection: it pays off only once
/// the collection lasts a good many microseconds. The threshold comes
/// from benchmarks, not from a formula: see BENCHMARKS.md, "Design
/// measurements", pool.
const FEED_MIN_LEN: usize = if cfg!(any(miri, loom)) { 2 } else { 1 << 16 };

/// Runs a blocking map of `f` over `items` in chunks of `chunksize` (or
/// Python's default), and returns the results in order.
///
/// When the iterator's size hint is exact and long (at least
/// [`FEED_MIN_LEN`]), the call is *fed*: its chunks start running while the
/// caller is still moving later items into the input buffer (see
/// `feed.rs`). Other inputs, nested calls from a worker, and calls on a
/// pool of one worker (whose only worker could not start before the caller
/// is done) collect the items first.
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

/// A blocking map call's descriptor, on the caller's stack.
pub(crate) struct MapCall<'f, T, R, F, S = Owned<T>> {
    f: &'f F,
    work: MapWork<T, R, S>,
    /// The call's place in the tree of waits; its latch counts the tickets
    /// that may still touch this descriptor.
    context: Context,
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
        let caller_is_worker = registry.is_current_worker();
        // A worker waiting for its own call takes part in it, so it needs
        // one ticket less; see `Pool`'s docs on nesting.
        let tickets = if caller_is_worker {
            (work.chunks() - 1).min(registry.workers() - 1)
        } else {
            work.chunks().min(registry.workers())
        };
        let call = MapCall {
            f,
            work,
            context: Context::new(tickets, registry, caller_is_worker),
        };
        let this = &raw const call;
        let owner = Owner::Context(&raw const call.context);
        // `T: Send`, `R: Send` and `F: Sync` make running chunks on other
        // threads sound.
        // SAFETY: the descriptor lives in this frame until the latch opens
        // below, and each ticket counts the latch down as its last access.
        let job = unsafe { JobRef::new(this.cast(), Self::execute_ticket, owner) };

        if !caller_is_worker {
            if tickets > 0 && !registry.injector.push(job, tickets) {
                // SAFETY: nothing was pushed, so no chunk was claimed.
                unsafe { call.work.drop_unstarted() };
                closed();
            }
            // The soundness of the whole call rests on this wait: it
            // returns only when every ticket has finished with the
            // descriptor, and it cannot unwind. (Moving `call` out
            // afterwards is fine: no ticket holds its address any more.)
            call.context.latch.wait();
            return call;
        }

        // A nested call is part of accepted work: it is pushed even if the
        // pool was closed meanwhile, and this thread runs it alone if no
        // worker is left.
        if tickets > 0 {
            registry.push_nested(job, tickets);
        }
        while let Some(i) = call.work.claim() {
            // SAFETY: we claimed chunk `i`; the buffers live until `finish`
            // below.
            unsafe { call.work.run_chunk(call.f, i) };
        }
        // Every chunk is claimed. The tickets still queued only find nothing
        // to do, and the wait takes them back first; then it runs the
        // descendants of the chunks other workers are running, until those
        // are done. As above, the call is sound because this wait returns
        // only when every ticket has finished, and never unwinds.
        registry.wait_helping(&call.context);
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
        unsafe { CountLatch::count_down(&raw const (*this).context.latch, 1) };
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
        // calling worker claims until none is left.
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
    /// workers already run the chunks it has filled (see `feed.rs`). The
    /// calling thread must not be one of the pool's workers, and the call
    /// must have at least two chunks and the pool two workers.
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
            context: Context::new(tickets, registry, false),
        };
        let this = &raw const call;
        let owner = Owner::Context(&raw const call.context);
        // `feed_from` catches the iterator's panics, so nothing skips the
        // wait for the latch below.
        // SAFETY: as in `run`: the descriptor lives in this frame until the
        // latch opens, and each ticket counts the latch down last.
        let job = unsafe { JobRef::new(this.cast(), Self::execute_ticket, owner) };
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
            closed();
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
                unsafe { CountLatch::count_down(&call.context.latch, late as u32) };
            } else {
                // Nothing was pushed, so no chunk was claimed: the call
                // never started.
                // SAFETY: as just said.
                unsafe { call.work.drop_unstarted() };
                if let Fed::Panicked(payload) = fed {
                    panic::resume_unwind(payload);
                }
                closed();
            }
        }

        // As in `run`: the wait that makes the call sound.
        call.context.latch.wait();

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

impl<T, R> MapWork<T, R> {
    /// Room for `len` items, to be written by the caller with
    /// [`feed_from`](Self::feed_from) while the chunks run.
    ///
    /// `buffer` must be empty with room for `len` items; `len` must not be
    /// zero, and `chunksize` neither.
    fn fed(buffer: Vec<T>, len: usize, chunksize: usize) -> Self {
        debug_assert!(buffer.is_empty() && buffer.capacity() >= len);
        debug_assert!(len > 0 && chunksize > 0);
        Self::with_buffer(buffer, len, chunksize, Feed::new())
    }

    /// Moves the items of `iter` into the input buffer of a fed call,
    /// publishing each chunk as soon as its last item is in, and closes the
    /// feed (see `feed.rs`).
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
    unsafe fn feed_from(&self, iter: &mut impl Iterator<Item = T>) -> Fed<T> {
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
enum Fed<T> {
    /// Every item is in the call, except `rest`: the items beyond the count
    /// the iterator's size hint promised.
    Done { rest: Vec<T> },
    /// The iterator panicked; the call holds the chunks published before.
    Panicked(Payload),
}

//! An async map call: `map_async` and `starmap_async`.
//!
//! # Implementation
//!
//! A [`MapAsync`] owns everything (the closure, the buffers, the handle's
//! slot) in one `Arc`, and each of its tickets holds a reference. A
//! counter, `remaining`, counts unfinished chunks; the thread that finishes
//! the last chunk drops the closure, assembles the `Vec<R>` and completes
//! the [`AsyncResult`]'s slot. The last reference, a ticket's or the
//! handle's, frees the rest; results that nobody took are dropped quietly
//! (see `panics.rs`).

use std::mem::{self, ManuallyDrop};
use std::panic::{self, AssertUnwindSafe};
use std::sync::atomic::Ordering::AcqRel;

use weft_futex::UnsafeCell;
use weft_futex::atomic::AtomicUsize;
use weft_futex::sync::Arc;

use super::work::MapWork;
use crate::async_result::{AsyncResult, Slot};
use crate::error::TaskError;
use crate::job::{JobRef, Owner};
use crate::panics::{drop_outcome_quietly, drop_quietly, drop_vec_quietly, refuse};
use crate::registry::Registry;

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
        // The owner is the slot, which `AsyncResult::get` looks for.
        let owner = Owner::Call(Arc::as_ptr(&slot).cast());
        // SAFETY: each ticket owns one reference, so the descriptor lives
        // until every ticket has run; the bounds on `T`, `R` and `F` make
        // running it on a worker sound.
        let job = unsafe { JobRef::new(this.cast(), Self::execute_ticket, owner) };
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
            refuse(f, ());
        }
        AsyncResult::new(slot, registry)
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

//! `apply` and `apply_async`: one call of a function, on a worker.
//!
//! # Implementation
//!
//! A blocking `apply` pushes one job pointing to an [`ApplyJob`] in the
//! caller's frame, which holds the function and its arguments, a cell for
//! the outcome and a [`CountLatch`] of one; the worker takes the input,
//! stores the outcome and counts the latch down as its last access, and
//! the caller returns (or re-raises the task's panic) once the latch is
//! open. Called on one of the pool's own workers, `apply` runs the function
//! right there instead ([`call_here`]): that worker would only wait.
//!
//! `apply_async` boxes a [`HeapApply`] that owns the function, the
//! arguments and a reference to the handle's slot; the worker frees the box
//! and completes the slot.
//!
//! Either way the worker drops the function right after the call, outside
//! the call's `catch_unwind` (see `call_then_drop` in `panics.rs`).

use std::panic;
use std::thread;

use weft_futex::UnsafeCell;
use weft_futex::sync::Arc;

use crate::async_result::{AsyncResult, Slot};
use crate::error::TaskError;
use crate::job::{JobRef, Owner};
use crate::latch::CountLatch;
use crate::panics::{call_then_drop, drop_quietly, refuse};
use crate::registry::Registry;
use crate::star::StarFn;

/// Runs `f` with `args` on this thread, then drops `f`, and returns the
/// value or re-raises the task's panic: a nested `apply`.
pub(crate) fn call_here<F: StarFn<A>, A>(f: F, args: A) -> F::Output {
    match call(f, args) {
        Ok(value) => value,
        Err(payload) => panic::resume_unwind(payload),
    }
}

/// Calls `f` with `args`, then drops `f`, and returns the value or the
/// task's panic; see [`call_then_drop`].
fn call<F: StarFn<A>, A>(f: F, args: A) -> thread::Result<F::Output> {
    call_then_drop(f, |f| f.call(args), drop_quietly)
}

/// A blocking `apply`'s job, in the caller's frame.
pub(crate) struct ApplyJob<F, A, R> {
    /// The function and its arguments; the worker takes them.
    input: UnsafeCell<Option<(F, A)>>,
    /// The worker's outcome, read by the caller after the latch opens.
    output: UnsafeCell<Option<thread::Result<R>>>,
    latch: CountLatch,
}

impl<F, A, R> ApplyJob<F, A, R>
where
    A: Send,
    R: Send,
    F: StarFn<A, Output = R> + Send,
{
    /// Runs `f` with `args` on a worker and returns its value, or re-raises
    /// its panic; panics with "pool is closed" (having dropped `f` and
    /// `args`) if the pool refuses the job.
    pub(crate) fn run(registry: &Registry, f: F, args: A) -> R {
        let job = ApplyJob {
            input: UnsafeCell::new(Some((f, args))),
            output: UnsafeCell::new(None),
            latch: CountLatch::new(1),
        };
        let this = &raw const job;
        // SAFETY: `job` lives in this frame until the latch opens below,
        // and the job counts the latch down as its last access; `A`, `R`
        // and `F` are `Send`, so the worker may take them. Nobody looks
        // for the job: its owner is only its own address.
        let job_ref = unsafe { JobRef::new(this.cast(), Self::execute, Owner::Call(this.cast())) };
        if !registry.injector.push(job_ref, 1) {
            // SAFETY: the job was not pushed, so its input is still ours.
            let input = job.input.with_mut(|input| unsafe { (*input).take() });
            let (f, args) = input.expect("an apply job is made with its input");
            refuse(f, args);
        }
        // Returns only once the worker is done with `job`; cannot unwind.
        job.latch.wait();
        // SAFETY: the latch is open: the worker wrote the output and will
        // not touch `job` again.
        let output = job.output.with_mut(|output| unsafe { (*output).take() });
        match output {
            Some(Ok(value)) => value,
            Some(Err(payload)) => panic::resume_unwind(payload),
            None => unreachable!("an executed apply job leaves its output"),
        }
    }

    /// Runs the call, stores its outcome, opens the latch.
    ///
    /// # Safety
    ///
    /// `this` is an `ApplyJob<F, A, R>` whose caller waits on its latch,
    /// and this runs once.
    unsafe fn execute(this: *const ()) {
        let this = this.cast::<Self>();
        {
            // SAFETY: the caller keeps the job alive until the latch opens.
            let job = unsafe { &*this };
            // SAFETY: only this execution touches `input`, once.
            let input = job.input.with_mut(|input| unsafe { (*input).take() });
            let (f, args) = input.expect("an apply job runs once");
            // `f` is dropped here, on the worker, before the caller wakes.
            let outcome = call(f, args);
            job.output.with_mut(|output| {
                // SAFETY: the caller reads `output` only after the latch
                // opens.
                unsafe { *output = Some(outcome) }
            });
        }
        // SAFETY: the job is live until this count-down takes effect, and
        // not touched after it.
        unsafe { CountLatch::count_down(&raw const (*this).latch, 1) };
    }
}

/// An `apply_async` job: owns its function and arguments, on the heap.
pub(crate) struct HeapApply<F, A, R> {
    f: F,
    args: A,
    slot: Arc<Slot<R>>,
}

impl<F, A, R> HeapApply<F, A, R>
where
    A: Send + 'static,
    R: Send + 'static,
    F: StarFn<A, Output = R> + Send + Sync + 'static,
{
    /// Submits one call of `f` with `args` and returns the handle to its
    /// value; panics with "pool is closed" (having dropped `f` and `args`)
    /// if the pool refuses the job.
    pub(crate) fn submit(registry: &Registry, f: F, args: A) -> AsyncResult<R> {
        let slot = Arc::new(Slot::new());
        let job = Box::into_raw(Box::new(HeapApply {
            f,
            args,
            slot: slot.clone(),
        }));
        // The owner is the slot, which `AsyncResult::get` looks for.
        let owner = Owner::Call(Arc::as_ptr(&slot).cast());
        // SAFETY: the job owns its allocation and frees it when it runs,
        // once; `A`, `R` and `F` are `Send + 'static`.
        let job_ref = unsafe { JobRef::new(job.cast_const().cast(), Self::execute, owner) };
        if !registry.injector.push(job_ref, 1) {
            // SAFETY: the job was not pushed, so the allocation is still
            // only ours.
            let HeapApply { f, args, slot } = *unsafe { Box::from_raw(job) };
            drop(slot);
            refuse(f, args);
        }
        AsyncResult::new(slot, registry)
    }

    /// Runs the call and completes the slot; frees the job.
    ///
    /// # Safety
    ///
    /// `this` came from `Box::into_raw` of a `HeapApply<F, A, R>`, and this
    /// runs once.
    unsafe fn execute(this: *const ()) {
        // SAFETY: guaranteed by the contract above.
        let job = unsafe { Box::from_raw(this.cast::<Self>().cast_mut()) };
        let HeapApply { f, args, slot } = *job;
        let outcome = call(f, args);
        // SAFETY: the slot belongs to this job alone and is completed once.
        unsafe { slot.complete(outcome.map_err(TaskError::new)) };
        // If the handle is gone, this drops the result: keep a panicking
        // `Drop` out of the worker.
        drop_quietly(slot);
    }
}

//! `AsyncResult`: a handle to the result of work submitted with the async
//! forms, the one-shot slot behind it, and the error of a timed-out wait.
//!
//! # Implementation
//!
//! The job and the handle share a `Slot`, reference-counted: a cell for the
//! result and one futex word, `state`:
//!
//! ```text
//!   PENDING ──a getter is about to sleep──▶ WAITING
//!      │                                       │
//!      └──────── job stores the result ────────┴──▶ SUCCEEDED or FAILED
//! ```
//!
//! **Completing** (the job, once): write the result into the cell, then
//! swap the state to `SUCCEEDED` or `FAILED`; if the old state was
//! `WAITING`, wake every sleeper (a shared `&AsyncResult` may have several
//! threads in [`AsyncResult::wait`]).
//!
//! **Waiting**: read the state; a final state means the result is there.
//! Otherwise spin a little ([`SpinWait`]), then move `PENDING` to
//! `WAITING` and `futex_wait(state, WAITING)`. The completer's swap either
//! comes before the waiter's compare-and-swap (which then fails, and the
//! waiter re-reads a final state) or after it (and then it sees `WAITING`
//! and wakes): no wake-up is lost, and a result that nobody waits for costs
//! no system call.
//!
//! **Waiting on a worker.** A task that waits for another task of its own
//! pool would hold a worker while the task it waits for may sit in the
//! queue behind it, and a pool whose workers all wait so deadlocks. So a
//! wait made on one of the pool's own workers first takes the awaited
//! job's queued copies out of the queue (their owner names the slot, see
//! `job.rs`) and runs them itself: `apply_async`'s one job, or
//! `map_async`'s tickets, the first of which runs every chunk no worker has
//! claimed while the others find nothing left. A job that another worker
//! has started is waited for by sleeping, as from any other thread.
//!
//! **Dropping** a handle drops only its reference: the job still runs,
//! stores its result, and the last reference (the job's or the handle's)
//! frees the slot and the result in it, with the slot's `drop_unclaimed`
//! (a `map_async` passes one that drops its results quietly, see
//! `panics.rs`). Nothing is cancelled, nothing leaks.
//!
//! # Memory ordering
//!
//! The completer's swap is `Release` and every read of a final state is
//! `Acquire`: the result written into the cell happens before any reader
//! that saw the state say so takes it out. The `PENDING → WAITING`
//! compare-and-swap is `Relaxed`; it only arranges the wake.

use std::error::Error;
use std::fmt;
use std::sync::atomic::Ordering::{Acquire, Relaxed, Release};
use std::time::Duration;

use weft_futex::atomic::AtomicU32;
use weft_futex::sync::Arc;
use weft_futex::{Deadline, SpinWait, UnsafeCell};

use crate::error::TaskError;
use crate::job::Owner;
use crate::registry::Registry;

/// The job has not finished, and nobody sleeps on the slot.
const PENDING: u32 = 0;
/// The job has not finished, and a thread may be asleep on the slot.
const WAITING: u32 = 1;
/// The result is in the cell, and it is a value.
const SUCCEEDED: u32 = 2;
/// The result is in the cell, and it is a task's panic.
const FAILED: u32 = 3;

/// Where a job leaves its result for an [`AsyncResult`].
pub(crate) struct Slot<R> {
    /// `PENDING`, `WAITING`, `SUCCEEDED` or `FAILED`.
    state: AtomicU32,
    /// Written once by the completing job, before the state turns final;
    /// taken once by `AsyncResult::get`.
    result: UnsafeCell<Option<Result<R, TaskError>>>,
    /// Drops a value that nobody took, with the slot.
    drop_unclaimed: fn(R),
}

/// The cell is written only by the one completing job before the state
/// turns final, and read only after a reader saw the final state with
/// `Acquire`; the value moves to the getter's thread, hence `R: Send`.
// SAFETY: see the doc comment above.
unsafe impl<R: Send> Sync for Slot<R> {}

impl<R> Slot<R> {
    /// An empty slot.
    pub(crate) fn new() -> Self {
        Self::dropping_with(drop)
    }

    /// An empty slot that drops a value nobody took with `drop_unclaimed`,
    /// on whichever thread lets go of the slot last (the handle's or the
    /// job's).
    pub(crate) fn dropping_with(drop_unclaimed: fn(R)) -> Self {
        Self {
            state: AtomicU32::new(PENDING),
            result: UnsafeCell::new(None),
            drop_unclaimed,
        }
    }

    /// Stores the result and wakes the waiters.
    ///
    /// # Safety
    ///
    /// Called at most once per slot.
    pub(crate) unsafe fn complete(&self, result: Result<R, TaskError>) {
        let done = if result.is_ok() { SUCCEEDED } else { FAILED };
        // SAFETY: this is the only write, and no reader touches the cell
        // before the state below turns final.
        self.result.with_mut(|cell| unsafe { *cell = Some(result) });
        // Release: pairs with the Acquire loads in `AsyncResult`, publishing
        // the result written above.
        if self.state.swap(done, Release) == WAITING {
            // Everyone in `wait` sleeps on this word; wake them all. The
            // slot is kept alive by the caller's reference.
            weft_futex::wake_all(&self.state);
        }
    }
}

impl<R> Drop for Slot<R> {
    fn drop(&mut self) {
        if let Some(Ok(value)) = self.result.get_mut().take() {
            (self.drop_unclaimed)(value);
        }
    }
}

/// A handle to the result of [`Pool::apply_async`](crate::Pool::apply_async),
/// [`Pool::map_async`](crate::Pool::map_async) or
/// [`Pool::starmap_async`](crate::Pool::starmap_async).
///
/// Python's `AsyncResult`: [`get`](Self::get) blocks for the value (a
/// task's panic comes back as `Err(TaskError)`),
/// [`get_timeout`](Self::get_timeout) gives up after a while and hands the
/// handle back, [`wait`](Self::wait) and [`wait_timeout`](Self::wait_timeout)
/// wait without taking the value, and [`ready`](Self::ready) and
/// [`successful`](Self::successful) look without waiting.
///
/// Waiting for a result inside a task of the same pool (on one of its
/// workers) never deadlocks the pool: if no worker has started the task
/// yet, the waiting worker runs it itself, right there; otherwise it sleeps
/// until the task is done.
///
/// Dropping the handle neither cancels the work nor leaks it: the task
/// runs, and its result is dropped with the last reference, the handle's
/// or the finished job's. The results of a `map_async` or `starmap_async`
/// that nobody took are dropped as a failed call's are: one by one, a
/// panic of their `Drop` passed over. Handles stay valid after the pool is
/// closed, joined or dropped.
///
/// # Examples
///
/// ```
/// let pool = weft_pool::Pool::new(2);
/// let squares = pool.map_async(|x: u64| x * x, 0..5);
/// let sum = pool.apply_async(|a: u64, b: u64| a + b, (40, 2));
/// assert_eq!(sum.get().unwrap(), 42);
/// squares.wait();
/// assert_eq!(squares.successful(), Some(true));
/// assert_eq!(squares.get().unwrap(), [0, 1, 4, 9, 16]);
/// ```
#[must_use = "dropping the handle does not cancel the task, but loses its result"]
pub struct AsyncResult<R> {
    slot: Arc<Slot<R>>,
    /// The address of the registry whose queue holds the job, to recognize
    /// its workers; 0 for a result made ready at once.
    pool: usize,
}

impl<R> AsyncResult<R> {
    /// A handle to `slot`, which a job pushed to `registry`'s queue will
    /// complete; the job's owner is `Owner::Call` of the slot's address.
    pub(crate) fn new(slot: Arc<Slot<R>>, registry: &Registry) -> Self {
        let pool = std::ptr::from_ref(registry).addr();
        Self { slot, pool }
    }

    /// A handle whose result is already there (for an empty `map_async`).
    pub(crate) fn ready_with(value: R) -> Self {
        let slot = Slot::new();
        // SAFETY: the slot is new and completed only here.
        unsafe { slot.complete(Ok(value)) };
        Self {
            slot: Arc::new(slot),
            pool: 0,
        }
    }

    /// Blocks until the task has finished, and returns its value, or its
    /// panic as a [`TaskError`]. On one of the pool's workers, runs the
    /// task itself first if no worker has started it yet (as do the other
    /// waits).
    ///
    /// # Errors
    ///
    /// `Err(TaskError)` when the task panicked (for `map_async`: when any
    /// chunk did; the first panic is reported).
    ///
    /// # Examples
    ///
    /// ```
    /// let pool = weft_pool::Pool::new(1);
    /// assert_eq!(pool.apply_async(|| 6 * 7, ()).get().unwrap(), 42);
    /// ```
    pub fn get(self) -> Result<R, TaskError> {
        self.wait();
        self.take()
    }

    /// Like [`get`](Self::get), but gives up after `timeout` and returns
    /// the handle in [`GetTimeoutError::Timeout`], so the caller can keep
    /// waiting.
    ///
    /// # Errors
    ///
    /// [`GetTimeoutError::Timeout`] with this handle when the result was
    /// not ready in time; [`GetTimeoutError::Failed`] when the task
    /// panicked.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let pool = weft_pool::Pool::new(1);
    /// let quick = pool.apply_async(|| "done", ());
    /// assert_eq!(quick.get_timeout(Duration::from_secs(60)).unwrap(), "done");
    /// ```
    pub fn get_timeout(self, timeout: Duration) -> Result<R, GetTimeoutError<R>> {
        if self.wait_timeout(timeout) {
            self.take().map_err(GetTimeoutError::Failed)
        } else {
            Err(GetTimeoutError::Timeout(self))
        }
    }

    /// Blocks until the task has finished.
    ///
    /// # Examples
    ///
    /// ```
    /// let pool = weft_pool::Pool::new(1);
    /// let result = pool.apply_async(|| (), ());
    /// result.wait();
    /// assert!(result.ready());
    /// ```
    pub fn wait(&self) {
        self.wait_until(Deadline::NEVER);
    }

    /// Blocks until the task has finished or `timeout` has passed, and
    /// returns whether it has finished.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let pool = weft_pool::Pool::new(1);
    /// let slow = pool.apply_async(|| std::thread::sleep(Duration::from_millis(100)), ());
    /// assert!(!slow.wait_timeout(Duration::from_millis(1)));
    /// assert!(slow.wait_timeout(Duration::from_secs(60)));
    /// ```
    pub fn wait_timeout(&self, timeout: Duration) -> bool {
        // A finished task needs no clock.
        is_final(self.load_state()) || self.wait_until(Deadline::after(timeout))
    }

    /// Waits for a final state until `deadline`, and returns whether it
    /// came: on one of the pool's workers, runs the job first if it is
    /// still queued; then spins a little ([`SpinWait`]), then sleeps on the
    /// state.
    #[inline]
    fn wait_until(&self, deadline: Deadline) -> bool {
        if !is_final(self.load_state()) {
            self.run_if_queued();
        }
        let mut spin = SpinWait::new();
        loop {
            let state = self.load_state();
            if is_final(state) {
                return true;
            }
            if deadline.has_passed() {
                return false;
            }
            if spin.spin() {
                continue;
            }
            if self.announce_sleep(state) {
                // A `false` (the deadline passed) is seen by the next turn.
                weft_futex::wait_until(&self.slot.state, WAITING, deadline);
            }
        }
    }

    /// If the calling thread is one of the pool's workers, takes the
    /// task's queued jobs out of the queue and runs them here (see "Waiting
    /// on a worker" in the module docs).
    fn run_if_queued(&self) {
        let owner = Owner::Call(Arc::as_ptr(&self.slot).cast());
        Registry::with_current_worker_at(self.pool, |registry| {
            let mut job = None;
            let taken = registry.injector.remove_where(|queued| {
                let ours = queued.owner() == owner;
                if ours {
                    job = Some(*queued);
                }
                ours
            });
            // Every queued copy of a call's job is the same `JobRef`.
            if let Some(job) = job {
                for _ in 0..taken {
                    // SAFETY: these copies were taken out of the queue, so
                    // this thread runs each of them, once.
                    unsafe { job.run() };
                }
            }
        });
    }

    /// Whether the task has finished (so [`get`](Self::get) would not
    /// block).
    #[inline]
    pub fn ready(&self) -> bool {
        is_final(self.load_state())
    }

    /// `Some(true)` if the task finished with a value, `Some(false)` if it
    /// panicked, and `None` while it has not finished. (Python raises an
    /// error for a result that is not ready.)
    ///
    /// # Examples
    ///
    /// ```
    /// let pool = weft_pool::Pool::new(1);
    /// let failing = pool.apply_async(|| -> () { panic!("boom") }, ());
    /// failing.wait();
    /// assert_eq!(failing.successful(), Some(false));
    /// ```
    pub fn successful(&self) -> Option<bool> {
        match self.load_state() {
            SUCCEEDED => Some(true),
            FAILED => Some(false),
            _ => None,
        }
    }

    /// The slot's state. Acquire: pairs with the Release swap in
    /// `Slot::complete`, so a final state comes with the result.
    #[inline]
    fn load_state(&self) -> u32 {
        self.slot.state.load(Acquire)
    }

    /// Makes sure the state says `WAITING` before the caller sleeps on it;
    /// returns `false` when the task finished meanwhile (do not sleep).
    fn announce_sleep(&self, state: u32) -> bool {
        state == WAITING
            // Relaxed: only arranges the wake; a final state is re-read
            // with Acquire by the caller's loop.
            || self
                .slot
                .state
                .compare_exchange(PENDING, WAITING, Relaxed, Relaxed)
                .is_ok()
    }

    /// Takes the result out of a slot whose state is final.
    fn take(self) -> Result<R, TaskError> {
        // SAFETY: the state is final (checked with Acquire by the caller),
        // so the completing job wrote the cell and never touches it again;
        // this handle is consumed, so nobody else takes the result.
        let result = self.slot.result.with_mut(|cell| unsafe { (*cell).take() });
        // A final state always comes with a result.
        result.unwrap_or_else(|| unreachable!("a finished slot holds its result"))
    }
}

/// Whether `state` says the result is in the slot.
#[inline]
fn is_final(state: u32) -> bool {
    state >= SUCCEEDED
}

impl<R> fmt::Debug for AsyncResult<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = match self.successful() {
            None => "pending",
            Some(true) => "succeeded",
            Some(false) => "failed",
        };
        f.debug_struct("AsyncResult")
            .field("state", &format_args!("{state}"))
            .finish()
    }
}

/// Why [`AsyncResult::get_timeout`] returned no value.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use weft_pool::{GetTimeoutError, Pool};
///
/// let pool = Pool::new(1);
/// let slow = pool.apply_async(|| std::thread::sleep(Duration::from_millis(50)), ());
/// let slow = match slow.get_timeout(Duration::ZERO) {
///     Err(GetTimeoutError::Timeout(handle)) => handle, // keep waiting with it
///     other => panic!("expected a timeout, got {other:?}"),
/// };
/// assert!(slow.get().is_ok());
/// ```
pub enum GetTimeoutError<R> {
    /// The result was not ready in time; here is the handle back, to wait
    /// again.
    Timeout(AsyncResult<R>),
    /// The task panicked.
    Failed(TaskError),
}

impl<R> fmt::Debug for GetTimeoutError<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Timeout(handle) => f.debug_tuple("Timeout").field(handle).finish(),
            Self::Failed(error) => f.debug_tuple("Failed").field(error).finish(),
        }
    }
}

impl<R> fmt::Display for GetTimeoutError<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Timeout(_) => f.write_str("timed out waiting for the task's result"),
            Self::Failed(error) => fmt::Display::fmt(error, f),
        }
    }
}

impl<R> Error for GetTimeoutError<R> {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        match self {
            Self::Timeout(_) => None,
            Self::Failed(error) => Some(error),
        }
    }
}

//! What an imap's consumer and the workers share: the chunks waiting for a
//! worker, the chunks finished and not yet collected, the function, and
//! the futex word the consumer sleeps on.
//!
//! # Implementation
//!
//! [`Shared`] lives in an `Arc`: one reference is the consumer's (the
//! `Imap` or `ImapUnordered`), and every ticket in the pool's queue holds
//! another. A chunk is submitted in two steps, in this order: the consumer
//! appends it to `queued` (under `state`'s lock), then pushes one ticket.
//! A ticket does not name its chunk: whoever executes it takes the
//! *oldest* queued chunk. Since every chunk comes with exactly one ticket
//! and every executed ticket takes exactly one chunk, there are always as
//! many tickets left as chunks queued, so an executed ticket always finds
//! one. This is what lets a consumer that is one of the pool's workers
//! take one of its tickets back out of the queue and run a chunk itself
//! (see `stream.rs`): all its tickets are alike, and the counting argument
//! does not care who executes them.
//!
//! A finished chunk goes to `finished` with its sequence number, under the
//! lock, and then the runner *reports* it on `signal`.
//!
//! # The signal word
//!
//! ```text
//!   bits 31..1                     bit 0
//! ┌──────────────────────────────┬──────────┐
//! │ chunks finished (wrapping)    │ SLEEPING │
//! └──────────────────────────────┴──────────┘
//! ```
//!
//! There is one waiter, the consumer. It reads the word *before* it looks
//! into `finished`; if it finds nothing it can use, it waits, with the
//! sleep-bit loop of `sleep_bit.rs` and `SLEEPING` as the bit, until the
//! count differs from what it read. A report adds one to the count and
//! clears `SLEEPING` in one read-modify-write, and wakes the consumer if
//! the bit was set.
//!
//! **Why no wake-up is lost.** A chunk the consumer's look missed was put
//! into `finished` after the look (the lock orders them), so its report
//! comes after the consumer's read of the word, and the count differs from
//! what the consumer waits on. By the argument of `sleep_bit.rs` the
//! consumer then either sees the change, or has set `SLEEPING` before the
//! report, which finds the bit and wakes it. A report that clears a bit
//! set for an earlier sleep also wakes, so a set bit is never cleared
//! without a wake. The count can only come back to the value the consumer
//! read after 2^31 reports, and at most a window of chunks is in flight.
//!
//! # Memory ordering
//!
//! The lock publishes the chunks in both directions. The report is a
//! `Release` read-modify-write and the consumer's reads of the word are
//! `Acquire` (see `sleep_bit.rs`): a consumer that sees a count change
//! and then takes the lock finds the reported chunk in `finished`.

use std::collections::VecDeque;
use std::iter::Peekable;
use std::mem::{self, ManuallyDrop};
use std::panic::{self, AssertUnwindSafe};
use std::sync::atomic::Ordering::{Acquire, Relaxed, Release};
use std::vec;

use weft_futex::SpinWait;
use weft_futex::atomic::AtomicU32;
use weft_futex::sync::Arc;
use weft_mutex::Mutex;

use crate::error::TaskError;
use crate::job::{JobRef, Owner};
use crate::panics::drop_quietly;
use crate::sleep_bit::wait_with_sleep_bit;

/// Set while the consumer may be asleep on `signal`.
const SLEEPING: u32 = 1;
/// What one report adds to `signal`: the count sits above `SLEEPING`, and
/// wraps around without touching it.
const REPORTED: u32 = 2;

/// The state an imap's consumer and its tickets share; see the module
/// docs.
pub(super) struct Shared<T, R> {
    state: Mutex<State<T, R>>,
    /// The count of reported chunks and the `SLEEPING` bit.
    signal: AtomicU32,
    /// Dropped, quietly, with the last reference.
    f: ManuallyDrop<Box<dyn ChunkFn<T, R>>>,
}

/// The part of [`Shared`] behind its lock.
struct State<T, R> {
    /// Submitted chunks no ticket has taken yet, oldest first.
    queued: VecDeque<Chunk<T>>,
    /// Finished chunks the consumer has not collected, in the order they
    /// finished.
    finished: VecDeque<Finished<R>>,
}

/// A submitted chunk: its place in the input and its items.
struct Chunk<T> {
    seq: usize,
    items: Vec<T>,
}

/// A finished chunk: its place in the input and its results.
pub(super) struct Finished<R> {
    pub(super) seq: usize,
    pub(super) output: ChunkOutput<R>,
}

/// Runs `f` over a chunk's items, each inside its own `catch_unwind`: the
/// imap's function with its type erased, so that `Imap`'s type need not
/// name it. One virtual call per chunk; the loop over the items is
/// compiled for the function itself.
pub(super) trait ChunkFn<T, R>: Send + Sync {
    fn run(&self, items: Vec<T>) -> ChunkOutput<R>;
}

impl<T, R, F> ChunkFn<T, R> for F
where
    F: Fn(T) -> R + Send + Sync,
{
    fn run(&self, items: Vec<T>) -> ChunkOutput<R> {
        let len = items.len();
        let mut values = Vec::with_capacity(len);
        let mut failures = Vec::new();
        for (i, item) in items.into_iter().enumerate() {
            // A panic fails its own item only; `f` owned the item, which
            // is dropped as the panic unwinds out of `f`.
            match panic::catch_unwind(AssertUnwindSafe(|| self(item))) {
                Ok(value) => values.push(value),
                Err(payload) => failures.push((i, TaskError::new(payload))),
            }
        }
        ChunkOutput {
            values: values.into_iter(),
            failures: failures.into_iter().peekable(),
            position: 0,
            len,
        }
    }
}

/// A chunk's results, handed out one by one in input order: the values of
/// the items that succeeded, and the panics of those that failed, with
/// their positions in the chunk. What is not handed out is dropped
/// quietly (see `panics.rs`).
pub(super) struct ChunkOutput<R> {
    values: vec::IntoIter<R>,
    failures: Peekable<vec::IntoIter<(usize, TaskError)>>,
    /// The position of the next result in the chunk.
    position: usize,
    len: usize,
}

impl<R> ChunkOutput<R> {
    /// The next result, in input order.
    pub(super) fn next(&mut self) -> Option<Result<R, TaskError>> {
        if self.position == self.len {
            return None;
        }
        let at = self.position;
        self.position += 1;
        if let Some((_, error)) = self.failures.next_if(|&(i, _)| i == at) {
            return Some(Err(error));
        }
        self.values.next().map(Ok)
    }

    /// The number of results not yet handed out.
    pub(super) fn remaining(&self) -> usize {
        self.len - self.position
    }
}

impl<R> Drop for ChunkOutput<R> {
    fn drop(&mut self) {
        if mem::needs_drop::<R>() {
            self.values.by_ref().for_each(drop_quietly);
        }
        self.failures.by_ref().for_each(drop_quietly);
    }
}

impl<T, R> Shared<T, R> {
    /// The shared state of an imap of `f`, with nothing submitted.
    ///
    /// The only constructor, and it requires `T: Send` and `R: Send`: every
    /// `Shared` is one whose chunks may run on a worker.
    pub(super) fn new<F>(f: F) -> Self
    where
        T: Send,
        R: Send,
        F: Fn(T) -> R + Send + Sync + 'static,
    {
        Self {
            state: Mutex::new(State {
                queued: VecDeque::new(),
                finished: VecDeque::new(),
            }),
            signal: AtomicU32::new(0),
            f: ManuallyDrop::new(Box::new(f)),
        }
    }

    /// Queues chunk number `seq`, to be taken by the next ticket executed.
    /// The caller pushes one ticket for it afterwards.
    pub(super) fn queue(&self, seq: usize, items: Vec<T>) {
        self.state.lock().queued.push_back(Chunk { seq, items });
    }

    /// Takes back the chunk queued last, whose ticket the pool refused.
    /// (No other ticket can have taken it: each takes the oldest, and
    /// every older chunk has its own ticket.)
    pub(super) fn unqueue_last(&self) -> Vec<T> {
        let chunk = self.state.lock().queued.pop_back();
        chunk.map(|c| c.items).unwrap_or_default()
    }

    /// A ticket for one queued chunk: a job that owns one reference to
    /// `this`. Pass it to the pool's queue, or give it up with
    /// [`discard_ticket`](Self::discard_ticket).
    ///
    /// The ticket's owner is [`owner`](Self::owner): every ticket of this
    /// imap has the same, so that its consumer can find one in the queue.
    pub(super) fn ticket(this: &Arc<Self>) -> JobRef {
        let owner = Self::owner(this);
        let data = Arc::into_raw(this.clone());
        // SAFETY: the job owns the reference it points to, and releases it
        // when executed, once; `T: Send` and `R: Send` (required by `new`)
        // let a worker run the chunk and hand back its results, and the
        // function is `Send + Sync`.
        unsafe { JobRef::new(data.cast(), Self::execute_ticket, owner) }
    }

    /// What identifies this imap's tickets in the queue: the address of
    /// the shared state, which no other job can have while the consumer
    /// holds its reference. No frame helps with them but the consumer's
    /// (`stream.rs`), so their chunks run with no context (see `job.rs`).
    pub(super) fn owner(this: &Arc<Self>) -> Owner {
        Owner::Call(Arc::as_ptr(this).cast())
    }

    /// Releases the reference owned by a ticket of `this` that was never
    /// queued.
    ///
    /// # Safety
    ///
    /// A ticket made by [`ticket`](Self::ticket) for `this` was neither
    /// queued nor run, and is given up.
    pub(super) unsafe fn discard_ticket(this: &Arc<Self>) {
        // SAFETY: the ticket's reference is a strong count of this `Arc`,
        // which nobody else will release.
        unsafe { Arc::decrement_strong_count(Arc::as_ptr(this)) };
    }

    /// Executes a ticket whose reference is `data`: runs the oldest queued
    /// chunk and reports it, then releases the reference (the last one
    /// drops the function and any results nobody collected, quietly).
    ///
    /// # Safety
    ///
    /// `data` is the reference of a ticket made by [`ticket`](Self::ticket)
    /// for this type, executed once: popped from the pool's queue by a
    /// worker, or taken back out of it by the consumer.
    unsafe fn execute_ticket(data: *const ()) {
        // SAFETY: the ticket owns this reference.
        let this = unsafe { Arc::from_raw(data.cast::<Self>()) };
        this.run_oldest();
    }

    /// Runs the oldest queued chunk and reports it to the consumer.
    fn run_oldest(&self) {
        let chunk = self.state.lock().queued.pop_front();
        // A ticket per chunk, and a chunk per ticket executed: see the
        // module docs.
        let Some(Chunk { seq, items }) = chunk else {
            debug_assert!(false, "an imap ticket found no chunk");
            return;
        };
        let output = self.f.run(items);
        self.state
            .lock()
            .finished
            .push_back(Finished { seq, output });
        self.report();
    }

    /// Counts one more finished chunk and wakes the consumer if it may be
    /// asleep. The wake protocol is the module docs' "Why no wake-up is
    /// lost": the consumer is the only waiter, so one wake is enough, and
    /// this thread holds a reference to `self`, so the word is alive.
    fn report(&self) {
        // Release: pairs with the consumer's Acquire reads of the word, so
        // that one that sees the new count finds the chunk under the lock.
        let before = self
            .signal
            .fetch_update(Release, Relaxed, |word| {
                Some(word.wrapping_add(REPORTED) & !SLEEPING)
            })
            .unwrap_or_else(|word| word);
        if before & SLEEPING != 0 {
            weft_futex::wake_one(&self.signal);
        }
    }

    /// The word to pass to [`wait_for_report`](Self::wait_for_report), read
    /// before the consumer looks into `finished`.
    pub(super) fn reports(&self) -> u32 {
        // Acquire: pairs with the Release in `report`.
        self.signal.load(Acquire) & !SLEEPING
    }

    /// Hands every finished chunk not yet collected to `collect`, in the
    /// order they finished.
    pub(super) fn collect_finished(&self, mut collect: impl FnMut(Finished<R>)) {
        let mut state = self.state.lock();
        state.finished.drain(..).for_each(&mut collect);
    }

    /// Blocks until a chunk is reported after `seen` was read: spins a
    /// little, then sleeps on the word.
    pub(super) fn wait_for_report(&self, seen: u32) {
        wait_with_sleep_bit(&self.signal, SLEEPING, SpinWait::new(), |word| {
            (word & !SLEEPING != seen).then_some(())
        });
    }
}

impl<T, R> Drop for Shared<T, R> {
    fn drop(&mut self) {
        // SAFETY: dropped once, here, and never used again.
        let f = unsafe { ManuallyDrop::take(&mut self.f) };
        // The function is the pool's to drop; a panic of its `Drop` is
        // passed over, as after any call (see `panics.rs`). Uncollected
        // results drop quietly on their own.
        drop_quietly(f);
    }
}

/// Loom models of the report and the consumer's wait, without a pool: the
/// consumer queues chunks and hands their tickets to threads of its own,
/// then collects the results as `stream.rs` does. On `weft-futex`'s futex
/// model a report that does not wake a sleeping consumer is a deadlock,
/// and a chunk collected twice or never fails the assertions.
#[cfg(all(test, loom))]
mod models {
    use weft_futex::loom::{self, thread};

    use super::*;

    /// Queues `items` as chunk `seq` and runs its ticket on a new thread.
    fn submit(
        shared: &Arc<Shared<u32, u32>>,
        seq: usize,
        items: Vec<u32>,
    ) -> thread::JoinHandle<()> {
        shared.queue(seq, items);
        let ticket = Shared::ticket(shared);
        // SAFETY: the ticket is run once, on that thread.
        thread::spawn(move || unsafe { ticket.run() })
    }

    /// The consumer's wait of `stream.rs`, reduced: collects finished
    /// chunks until `want` of them have come, and returns them by sequence
    /// number with their results.
    fn collect(shared: &Shared<u32, u32>, want: usize) -> Vec<(usize, Vec<u32>)> {
        let mut got = Vec::new();
        while got.len() < want {
            let seen = shared.reports();
            let before = got.len();
            shared.collect_finished(|mut chunk| {
                let mut results = Vec::new();
                while let Some(result) = chunk.output.next() {
                    results.push(result.unwrap());
                }
                got.push((chunk.seq, results));
            });
            if got.len() == before {
                shared.wait_for_report(seen);
            }
        }
        got.sort_unstable();
        got
    }

    /// Two chunks finish on two threads in either order, racing the
    /// consumer's look and its sleep: each is collected once.
    #[test]
    fn the_consumer_collects_each_chunk_once_whichever_finishes_first() {
        // Three threads: two preemptions explore every order of the two
        // reports around the consumer's look and sleep, in seconds (see
        // `tests/loom_pool.rs`).
        let mut model = loom::model::Builder::new();
        model.preemption_bound = Some(model.preemption_bound.map_or(2, |b| b.min(2)));
        model.check(|| {
            let shared = Arc::new(Shared::new(|x: u32| x + 1));
            let runners = [submit(&shared, 0, vec![1]), submit(&shared, 1, vec![2, 3])];
            assert_eq!(collect(&shared, 2), [(0, vec![2]), (1, vec![3, 4])]);
            for runner in runners {
                runner.join().unwrap();
            }
        });
    }

    /// The window refills: a chunk submitted after the consumer collected
    /// and slept once is reported to it as well.
    #[test]
    fn a_chunk_submitted_after_a_sleep_wakes_the_consumer_again() {
        loom::model(|| {
            let shared = Arc::new(Shared::new(|x: u32| x * 2));
            let first = submit(&shared, 0, vec![1]);
            assert_eq!(collect(&shared, 1), [(0, vec![2])]);
            let second = submit(&shared, 1, vec![5]);
            assert_eq!(collect(&shared, 1), [(1, vec![10])]);
            first.join().unwrap();
            second.join().unwrap();
        });
    }

    /// The consumer lets go of the shared state while a chunk runs: the
    /// runner's reference frees it, the results with it (loom reports a
    /// leaked `Arc`).
    #[test]
    fn a_consumer_that_leaves_early_leaves_nothing_behind() {
        loom::model(|| {
            let shared = Arc::new(Shared::new(|x: u32| x));
            let runner = submit(&shared, 0, vec![7]);
            drop(shared);
            runner.join().unwrap();
        });
    }
}

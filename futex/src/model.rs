//! A futex for loom.
//!
//! Loom cannot run the real `futex(2)`: the kernel would block a thread that
//! loom believes runnable. So under `--cfg loom` the four operations run on
//! this model, which keeps the kernel's contract and nothing more:
//!
//! - `wait(word, expected)` compares and enqueues *atomically*: a `wake`
//!   that follows a change of the word either comes before the comparison
//!   (which then sees the change) or finds the waiter queued.
//! - A waiter returns only when a `wake` on the same address dequeued it.
//!   There are no spurious returns and no timeouts for `wait`, so a protocol
//!   that forgets a wake leaves the waiter blocked forever; when every
//!   thread is blocked, loom reports a deadlock.
//! - `wait_timeout` may time out at any point after it enqueued itself: it
//!   yields once, and then returns `false` if no `wake` picked it meanwhile.
//!   Loom explores both outcomes.
//! - `wake_one` dequeues the oldest waiter on the address, `wake_all` every
//!   one; a wake with nobody waiting does nothing (it is not remembered).
//!
//! # Waking orders nothing
//!
//! The kernel keeps its waiters in hash buckets, each under a lock that
//! `wait` takes to compare and enqueue and `wake` takes to dequeue. The
//! model keeps one loom `Mutex` per address for that, and with it the
//! orderings a lock gives: a later waiter's comparison sees what a wake
//! saw. But a thread woken from its sleep is not handed the waker's view of
//! memory: the kernel promises no ordering to user code, so a woken thread
//! must re-load its word with `Acquire` to see what the waker wrote.
//!
//! Every loom primitive that blocks a thread (`Mutex`, `Condvar`, `park`)
//! passes the unblocker's view of memory to the thread it unblocks, which
//! would hide a missing `Acquire`. So after enqueueing itself and leaving
//! the bucket lock, a waiter first checks whether a wake has dequeued it
//! already, and if so returns without touching anything the wake touched
//! with ordering: the queue lives in an [`Unseen`] cell, which loom does
//! not see (loom runs one thread at a time and switches only inside its own
//! operations, and the cell is never borrowed across one), and the check and
//! the dequeue each follow a `Relaxed` read-modify-write of one model-wide
//! word, which orders nothing but makes loom see the two as dependent and
//! explore both orders. Only a waiter not woken by then sleeps on its
//! bucket's loom `Condvar`, which a wake notifies. Loom explores both
//! paths, so a protocol that relies on the wake for ordering fails the
//! model in the first.
//!
//! (Entering that check is a point where loom may switch threads, counted
//! against `LOOM_MAX_PREEMPTIONS` like any other; a `yield_now` there would
//! be free and multiply the schedules loom explores many times over.)

use std::cell::UnsafeCell;
use std::sync::Arc;
use std::sync::atomic::Ordering::{Acquire, Relaxed, Release};
use std::time::Duration;

use loom::sync::atomic::AtomicU32;
use loom::sync::{Condvar, Mutex, MutexGuard};

/// The model's bookkeeping; see the module documentation.
struct Futexes {
    /// The word whose `Relaxed` read-modify-writes make loom see a dequeue
    /// and a waiter's check as dependent.
    kernel: AtomicU32,
    /// The kernel's buckets: one per address, made on first use.
    buckets: Unseen<Vec<(usize, Arc<Bucket>)>>,
    /// The queue proper, out of loom's sight.
    queue: Unseen<Queue>,
}

/// One address's lock, and the condition variable its sleepers block on.
struct Bucket {
    lock: Mutex<()>,
    woken: Condvar,
}

#[derive(Default)]
struct Queue {
    next_ticket: u64,
    /// Waiters in arrival order, as `(address, ticket)`.
    waiting: Vec<(usize, u64)>,
}

impl Queue {
    fn enqueue(&mut self, address: usize) -> u64 {
        let ticket = self.next_ticket;
        self.next_ticket += 1;
        self.waiting.push((address, ticket));
        ticket
    }

    /// Removes `ticket` if it is still queued; says whether it was.
    fn remove(&mut self, ticket: u64) -> bool {
        let before = self.waiting.len();
        self.waiting.retain(|&(_, t)| t != ticket);
        self.waiting.len() != before
    }

    fn is_queued(&self, ticket: u64) -> bool {
        self.waiting.iter().any(|&(_, t)| t == ticket)
    }
}

loom::lazy_static! {
    // Created anew for every execution of a loom model.
    static ref FUTEXES: Futexes = Futexes {
        kernel: AtomicU32::new(0),
        buckets: Unseen::new(Vec::new()),
        queue: Unseen::new(Queue::default()),
    };
}

impl Futexes {
    /// The bucket of `address`.
    fn bucket(&self, address: usize) -> Arc<Bucket> {
        self.buckets.with(|buckets| {
            if let Some((_, bucket)) = buckets.iter().find(|(a, _)| *a == address) {
                return bucket.clone();
            }
            let bucket = Arc::new(Bucket {
                lock: Mutex::new(()),
                woken: Condvar::new(),
            });
            buckets.push((address, bucket.clone()));
            bucket
        })
    }

    /// Runs `step` on the queue right after a `Relaxed` read-modify-write
    /// of `kernel`, the loom operation at which loom may switch threads;
    /// `step` itself runs before any other thread and orders nothing.
    fn step<R>(&self, step: impl FnOnce(&mut Queue) -> R) -> R {
        self.kernel.fetch_add(1, Relaxed);
        self.queue.with(step)
    }

    /// Under the bucket lock, compares `word` with `expected` and, if equal,
    /// enqueues the caller; returns the ticket, or `None` if the word
    /// differed.
    fn compare_and_enqueue(&self, word: &AtomicU32, expected: u32) -> Option<u64> {
        let bucket = self.bucket(address(word));
        let _locked = lock(&bucket);
        // Relaxed: the kernel's comparison orders nothing beyond its lock.
        if word.load(Relaxed) != expected {
            return None;
        }
        Some(self.step(|queue| queue.enqueue(address(word))))
    }

    /// Under the bucket lock of `address`, dequeues its oldest waiter, or
    /// every one, and tells the bucket's sleepers.
    fn dequeue(&self, address: usize, all: bool) {
        let bucket = self.bucket(address);
        let _locked = lock(&bucket);
        let dequeued = self.step(|queue| {
            let before = queue.waiting.len();
            if all {
                queue.waiting.retain(|&(a, _)| a != address);
            } else if let Some(i) = queue.waiting.iter().position(|&(a, _)| a == address) {
                queue.waiting.remove(i);
            }
            queue.waiting.len() != before
        });
        if dequeued {
            bucket.woken.notify_all();
        }
    }
}

/// See `weft_futex::wait` outside loom; here, waits until a `wake` on
/// `word` dequeues this thread.
pub fn wait(word: &AtomicU32, expected: u32) {
    let futexes = &*FUTEXES;
    let Some(ticket) = futexes.compare_and_enqueue(word, expected) else {
        return;
    };
    // A wake that came since the enqueue returns this thread with no
    // ordering from it.
    if !futexes.step(|queue| queue.is_queued(ticket)) {
        return;
    }
    let bucket = futexes.bucket(address(word));
    let mut locked = lock(&bucket);
    while futexes.queue.with(|queue| queue.is_queued(ticket)) {
        locked = bucket.woken.wait(locked).expect("never poisoned");
    }
}

/// Like [`wait`], but may time out at any point after enqueueing; returns
/// `false` when it did. Woken or not, it returns with no ordering from a
/// wake.
pub fn wait_timeout(word: &AtomicU32, expected: u32, _timeout: Duration) -> bool {
    let futexes = &*FUTEXES;
    let Some(ticket) = futexes.compare_and_enqueue(word, expected) else {
        return true;
    };
    // The deadline may pass now, or after any number of other steps.
    loom::thread::yield_now();
    let timed_out = futexes.step(|queue| queue.remove(ticket));
    !timed_out
}

/// Dequeues the oldest waiter on `word`, if any. `word` is only a key: it is
/// never dereferenced, as the kernel never does.
pub fn wake_one(word: *const AtomicU32) {
    FUTEXES.dequeue(word as usize, false);
}

/// Dequeues every waiter on `word`; as for [`wake_one`], `word` is only a
/// key.
pub fn wake_all(word: *const AtomicU32) {
    FUTEXES.dequeue(word as usize, true);
}

fn lock(bucket: &Bucket) -> MutexGuard<'_, ()> {
    bucket.lock.lock().expect("never poisoned")
}

fn address(word: &AtomicU32) -> usize {
    word as *const AtomicU32 as usize
}

/// A cell that loom does not see, for the model's bookkeeping: loom tracks
/// every access to its own cells and would report the unsynchronized ones
/// the model makes on purpose.
///
/// Loom runs one model thread at a time and switches threads only inside
/// its own operations, and no borrow of an `Unseen` spans one, so borrows
/// never overlap; `with` checks that with a flag and panics if they ever
/// did.
struct Unseen<T> {
    borrowed: std::sync::atomic::AtomicBool,
    value: UnsafeCell<T>,
}

// SAFETY: `with` gives out at most one borrow at a time (the flag's swap
// fails for any other), and its Acquire swap and Release store order one
// borrow's accesses before the next; `T: Send` lets the value be used from
// whichever thread borrows it.
unsafe impl<T: Send> Sync for Unseen<T> {}

impl<T> Unseen<T> {
    fn new(value: T) -> Self {
        Self {
            borrowed: std::sync::atomic::AtomicBool::new(false),
            value: UnsafeCell::new(value),
        }
    }

    /// Runs `f` on the value. `f` must not run a loom operation.
    fn with<R>(&self, f: impl FnOnce(&mut T) -> R) -> R {
        // Acquire: pairs with the Release store below, ending the previous
        // borrow before this one starts.
        let was_borrowed = self.borrowed.swap(true, Acquire);
        assert!(
            !was_borrowed,
            "the futex model's bookkeeping was borrowed twice"
        );
        // SAFETY: the flag was clear and is now set, so this is the only
        // borrow until the store below.
        let result = f(unsafe { &mut *self.value.get() });
        // Release: pairs with the Acquire swap of the next borrow.
        self.borrowed.store(false, Release);
        result
    }
}

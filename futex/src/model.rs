//! A futex for loom.
//!
//! Loom cannot run the real `futex(2)`: the kernel would block a thread that
//! loom believes runnable. So under `--cfg loom` the four operations run on
//! this model, which keeps the kernel's contract and nothing more:
//!
//! - `wait(word, expected)` compares and enqueues *atomically*: both happen
//!   under one loom `Mutex` (the kernel's hash-bucket lock), so a `wake` that
//!   follows a change of the word either precedes the comparison (which then
//!   sees the change) or finds the waiter in the queue.
//! - A waiter returns only when a `wake` on the same address dequeued it.
//!   There are no spurious returns and no timeouts for `wait`, so a protocol
//!   that forgets a wake leaves the waiter blocked on the model's `Condvar`
//!   forever; when every thread is blocked, loom reports a deadlock.
//! - `wait_timeout` may time out at any point after it enqueued itself: it
//!   yields once, and then returns `false` if no `wake` picked it meanwhile.
//!   Loom explores both outcomes.
//! - `wake_one` dequeues the oldest waiter on the address, `wake_all` every
//!   one; a wake with nobody waiting does nothing (it is not remembered).
//!
//! The comparison loads the word with `Relaxed`, as the kernel promises no
//! ordering to user code; protocols must order their data with their own
//! atomics.

use std::sync::atomic::Ordering::Relaxed;
use std::time::Duration;

use loom::sync::atomic::AtomicU32;
use loom::sync::{Condvar, Mutex};

/// The model's futex queues: one `Mutex` standing for the kernel's bucket
/// locks, and one `Condvar` on which every waiter sleeps until dequeued.
struct Futexes {
    queue: Mutex<Queue>,
    dequeued: Condvar,
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
        queue: Mutex::new(Queue::default()),
        dequeued: Condvar::new(),
    };
}

/// See `weft_futex::wait` outside loom; here, blocks until a `wake` on
/// `word` dequeues this thread.
pub fn wait(word: &AtomicU32, expected: u32) {
    let futexes = &*FUTEXES;
    let mut queue = futexes.queue.lock().unwrap();
    if word.load(Relaxed) != expected {
        return;
    }
    let ticket = queue.enqueue(address(word));
    while queue.is_queued(ticket) {
        queue = futexes.dequeued.wait(queue).unwrap();
    }
}

/// Like [`wait`], but may time out at any point after enqueueing; returns
/// `false` when it did.
pub fn wait_timeout(word: &AtomicU32, expected: u32, _timeout: Duration) -> bool {
    let futexes = &*FUTEXES;
    let ticket = {
        let mut queue = futexes.queue.lock().unwrap();
        if word.load(Relaxed) != expected {
            return true;
        }
        queue.enqueue(address(word))
    };
    // The deadline may pass now, or after any number of other steps.
    loom::thread::yield_now();
    let timed_out = futexes.queue.lock().unwrap().remove(ticket);
    !timed_out
}

/// Dequeues the oldest waiter on `word`, if any.
pub fn wake_one(word: *const AtomicU32) {
    let futexes = &*FUTEXES;
    let mut queue = futexes.queue.lock().unwrap();
    let address = word as usize;
    if let Some(i) = queue.waiting.iter().position(|&(a, _)| a == address) {
        queue.waiting.remove(i);
        futexes.dequeued.notify_all();
    }
}

/// Dequeues every waiter on `word`.
pub fn wake_all(word: *const AtomicU32) {
    let futexes = &*FUTEXES;
    let mut queue = futexes.queue.lock().unwrap();
    let address = word as usize;
    let before = queue.waiting.len();
    queue.waiting.retain(|&(a, _)| a != address);
    if queue.waiting.len() != before {
        futexes.dequeued.notify_all();
    }
}

fn address(word: &AtomicU32) -> usize {
    word as *const AtomicU32 as usize
}

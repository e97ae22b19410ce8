//! A counting semaphore on a futex word.
//!
//! A [`Semaphore`] holds a number of *permits*. [`acquire`](Semaphore::acquire)
//! takes one, sleeping while there are none; [`release`](Semaphore::release)
//! puts one back and wakes a sleeper if there is one. Taking and giving back
//! are one atomic instruction each when no thread has to wait, and a release
//! enters the kernel only when a thread may really be asleep. The
//! [`semaphore`] module explains how it works, and why no wake-up is lost.
//!
//! # When to use a semaphore
//!
//! - To let at most N threads into a region at once (a pool of N
//!   connections, N concurrent downloads): create it with N permits and wrap
//!   the region in [`access`](Semaphore::access), whose [`SemaphoreGuard`]
//!   gives the permit back when dropped.
//! - To count events between threads, as in the producer–consumer pattern:
//!   create it with 0 permits, `release` once per item produced and
//!   `acquire` once per item consumed. A permit need not be acquired before
//!   it is released.
//!
//! For plain mutual exclusion over data, `weft_mutex::Mutex` fits better (it
//! ties the lock to the data it protects); to wait for an arbitrary
//! condition on shared state, use `weft_mutex::Condvar`; to hand values
//! from producers to consumers, a channel (`weft-queue`) does the counting
//! and the storing at once. Waiters are not served in FIFO order (see
//! [`semaphore`]); if you need first-come-first-served, use a queue.
//!
//! # Example
//!
//! The course chapter's producer–consumer: the semaphore counts the items
//! in a queue that a mutex protects.
//!
//! ```
//! use std::collections::VecDeque;
//! use weft_mutex::Mutex;
//! use weft_semaphore::Semaphore;
//!
//! let queue = Mutex::new(VecDeque::new());
//! let items = Semaphore::new(0);
//!
//! std::thread::scope(|s| {
//!     s.spawn(|| {
//!         for i in 0..100 {
//!             queue.lock().push_back(i);
//!             items.release(); // one more item to take
//!         }
//!     });
//!     for expected in 0..100 {
//!         items.acquire(); // wait for an item
//!         assert_eq!(queue.lock().pop_front(), Some(expected));
//!     }
//! });
//! ```

pub mod semaphore;

pub use semaphore::{Semaphore, SemaphoreGuard};

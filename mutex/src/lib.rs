//! A mutex and a condition variable, each built on one futex word.
//!
//! - [`Mutex<T>`] protects a `T`: [`lock`](Mutex::lock) returns a
//!   [`MutexGuard`] through which the value is read and written, and the lock
//!   is released when the guard drops. It is four bytes plus the value,
//!   takes one atomic instruction to lock and one to unlock when nobody
//!   competes, and sleeps in the kernel when somebody does.
//! - [`Condvar`] lets a thread holding a lock sleep until another thread
//!   changes the protected state and notifies it.
//!
//! The [`mutex`] and [`condvar`] modules explain how each works; the lock
//! protocol under `Mutex` is told beside its code, in `src/raw.rs`.
//!
//! # Which lock to use
//!
//! Use this mutex where you would use `std::sync::Mutex` and do not want
//! poisoning: a panic while the lock is held simply unlocks it. It is also
//! the lock that the rest of Weft is built on, and it adds
//! [`try_lock_for`](Mutex::try_lock_for), a lock with a timeout.
//!
//! Prefer `std::sync::Mutex` when poisoning is what you want (a panic in a
//! critical section must stop every later user), or when you need a
//! platform's own lock (on some systems it brings priority inheritance).
//! Prefer `parking_lot::Mutex` when you need fairness: this lock, like
//! std's, lets a running thread take the lock ahead of a sleeping one, which
//! maximises throughput but can starve a waiter under constant contention.
//! For many readers and few writers, a reader-writer lock fits better.
//!
//! # Example
//!
//! ```
//! use weft_mutex::{Condvar, Mutex};
//!
//! let ready = Mutex::new(Vec::new());
//! let changed = Condvar::new();
//!
//! std::thread::scope(|s| {
//!     s.spawn(|| {
//!         ready.lock().push("bread");
//!         changed.notify_one();
//!     });
//!     let shelf = changed.wait_while(ready.lock(), |shelf| shelf.is_empty());
//!     assert_eq!(*shelf, ["bread"]);
//! });
//! ```
//!
//! # With `lock_api`
//!
//! The `lock_api` feature makes the lock under `Mutex`, without its value,
//! public as `weft_mutex::RawMutex`, and implements the
//! [lock_api](https://docs.rs/lock_api) crate's `RawMutex` and
//! `RawMutexTimed` traits for it. `lock_api::Mutex<weft_mutex::RawMutex, T>`
//! is then this same lock with lock_api's surface: guards mapped to a part
//! of the value, guards that own an `Arc` of the mutex (`lock_arc`), and
//! `try_lock_until` with an `Instant`. The traits are not implemented under
//! `--cfg loom`, whose atomics cannot be created in a `const` such as
//! `RawMutex::INIT`.
//!
//! ```
//! # #[cfg(feature = "lock_api")] {
//! use std::sync::Arc;
//! use std::time::{Duration, Instant};
//!
//! type Mutex<T> = lock_api::Mutex<weft_mutex::RawMutex, T>;
//! type MutexGuard<'a, T> = lock_api::MutexGuard<'a, weft_mutex::RawMutex, T>;
//!
//! // A guard of one field.
//! let account = Mutex::new(("savings", 100));
//! let mut balance = MutexGuard::map(account.lock(), |(_, balance)| balance);
//! *balance += 5;
//! drop(balance);
//!
//! let deadline = Instant::now() + Duration::from_millis(10);
//! assert_eq!(account.try_lock_until(deadline).unwrap().1, 105);
//!
//! // A guard that holds an `Arc` of its mutex, so it outlives the handle.
//! let guard = Arc::new(Mutex::new("report")).lock_arc();
//! assert_eq!(*guard, "report");
//! # }
//! ```
//!
//! # `Send` and `Sync`
//!
//! A guard stays on the thread that locked:
//!
//! ```compile_fail
//! let m = weft_mutex::Mutex::new(0);
//! let guard = m.lock();
//! std::thread::scope(|s| {
//!     s.spawn(move || drop(guard));
//! });
//! ```
//!
//! and a mutex is shared between threads only if its value may move between
//! them (`Rc` may not):
//!
//! ```compile_fail
//! fn shared<T: Sync>(_: &T) {}
//! shared(&weft_mutex::Mutex::new(std::rc::Rc::new(0)));
//! ```

pub mod condvar;
pub mod mutex;
mod raw;

pub use condvar::Condvar;
pub use mutex::{Mutex, MutexGuard};
#[cfg(feature = "lock_api")]
pub use raw::RawMutex;

/// The workspace README's example, compiled and run as a doc test.
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
pub struct ReadmeExample;

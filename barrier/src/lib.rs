//! A reusable barrier on one futex word, with a completion step and
//! threads that may leave; and a single-use latch.
//!
//! A [`Barrier`] makes a group of `n` threads meet: each thread's
//! [`wait`](Barrier::wait) blocks until all `n` have called it, then all of
//! them go on, and the barrier is ready for the next round. Exactly one
//! thread per round gets a [`BarrierWaitResult`] whose
//! [`is_leader`](BarrierWaitResult::is_leader) is `true`, handy for work
//! that one thread should do between phases.
//!
//! [`Barrier::with_completion`] runs a step once per round, on the last
//! thread to arrive, after everyone arrived and before anyone goes on, as
//! C++20's `std::barrier` does; [`arrive_and_drop`](Barrier::arrive_and_drop)
//! lets a thread leave, so that this round and every later one waits for
//! one thread fewer.
//!
//! The barrier's waiting is one `AtomicU32` (the round number, the count of
//! arrived threads and two flags) beside the thread count: arriving is one
//! compare-and-swap, waiters spin briefly and then sleep on the futex, and
//! the thread that ends the round wakes them only if one of them really
//! went to sleep. The [`barrier`] module explains the protocol.
//!
//! # When to use it
//!
//! Use it where you would use `std::sync::Barrier`: phases of parallel work
//! where every thread must finish phase *k* before any starts phase *k + 1*.
//! It is the same API, is faster when rounds are short (no mutex, no system
//! call when threads arrive close together), and adds
//! [`wait_timeout`](Barrier::wait_timeout), which withdraws a thread that
//! gave up so the round stays consistent.
//!
//! A barrier is the wrong tool when threads should not all wait for the
//! slowest. For "wait until N tasks are done", or a one-time "start"
//! signal, use a [`Latch`] (C++20's `std::latch`, crossbeam-utils'
//! `WaitGroup`): a count that threads bring down to zero without waiting,
//! and that waiters block on until it gets there. It is single use; the
//! [`latch`] module explains how it works.
//!
//! # Example
//!
//! ```
//! use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
//! use weft_barrier::Barrier;
//!
//! let partial = [AtomicU64::new(0), AtomicU64::new(0)];
//! let barrier = Barrier::new(2);
//! std::thread::scope(|s| {
//!     for i in 0..2 {
//!         let (partial, barrier) = (&partial, &barrier);
//!         s.spawn(move || {
//!             // Phase one: each thread sums its half.
//!             let half = if i == 0 { 1..=50u64 } else { 51..=100 };
//!             partial[i].store(half.sum(), Relaxed);
//!             // Phase two starts once both halves are in.
//!             barrier.wait();
//!             let total: u64 = partial.iter().map(|p| p.load(Relaxed)).sum();
//!             assert_eq!(total, 5050);
//!         });
//!     }
//! });
//! ```

pub mod barrier;
pub mod latch;

pub use barrier::{Barrier, BarrierWaitResult};
pub use latch::Latch;

//! The chapter's first lesson: a shared counter incremented by many threads.
//!
//! Each increment is a read followed by a write (`M = N; N = M + 1`). Two
//! threads that both read before either writes write the same value, and
//! one increment is lost. Holding a lock across the read and the write
//! makes the pair indivisible, so no increment can be lost: with `threads`
//! threads doing `increments` each, the counter ends at exactly `threads ×
//! increments`. (The `race_condition` example shows the lost updates
//! without the lock.)

use std::thread;

use weft_mutex::Mutex;

/// Starts `threads` threads that each increment one shared counter
/// `increments` times, each increment a read and a separate write under a
/// Weft [`Mutex`], and returns the final count, which is always exactly
/// `threads × increments`.
///
/// # Panics
///
/// If a thread cannot be started.
///
/// # Examples
///
/// ```
/// assert_eq!(weft_algorithms::increment_counter(4, 1000), 4000);
/// assert_eq!(weft_algorithms::increment_counter(0, 1000), 0);
/// ```
pub fn increment_counter(threads: usize, increments: usize) -> u64 {
    let counter = Mutex::new(0u64);
    thread::scope(|s| {
        for _ in 0..threads {
            s.spawn(|| {
                for _ in 0..increments {
                    // The chapter's safe region: `with lock: M = N; N = M + 1`.
                    let mut n = counter.lock();
                    let m = *n;
                    *n = m + 1;
                }
            });
        }
    });
    counter.into_inner()
}

//! Parallel prefix sum: two phases with a barrier between them.
//!
//! # Implementation
//!
//! The chapter describes a barrier as the point where each thread waits
//! until all the others have arrived. A prefix sum (`data[i] = data[0] +
//! ... + data[i]`) needs exactly that. Cut the slice into one block per
//! thread; then each thread:
//!
//! 1. computes the prefix sums of its own block, in place, and publishes
//!    its block's total;
//! 2. **waits at the barrier** until every thread has published; the
//!    barrier's *completion step* runs once, on the last thread to arrive,
//!    and turns the totals into each block's offset (the sum of the totals
//!    of the blocks before it);
//! 3. adds its block's offset to each element of its block.
//!
//! The completion step reads every block's total and phase 3 reads what
//! it wrote, so it must run after all of phase 1 and before any of phase
//! 3, which is what [`Barrier::with_completion`] guarantees, with the
//! writes ordered before the reads. Each thread touches each of its
//! elements twice, so the work is `2n` additions split `threads` ways, plus
//! `threads` more in the completion step.
//!
//! The threads are scoped threads of their own, not pool tasks: the tasks
//! of one pool call do not necessarily all run at the same time (a busy
//! worker may start its task after another finished its own, or run two in
//! turn), and a task that waits at a barrier for a task that cannot start
//! until it finishes would wait forever. A barrier needs its parties to be
//! running concurrently, which only dedicated threads guarantee.

use std::ops::Add;
use std::panic::{self, AssertUnwindSafe};
use std::sync::Arc;
use std::thread;

use weft_barrier::Barrier;
use weft_mutex::Mutex;

/// Replaces each element of `data` with the sum of the elements up to and
/// including it (an inclusive scan), using `threads` threads that meet at
/// a Weft [`Barrier`] between their two phases.
///
/// Uses at most one thread per element. Integer results equal the
/// sequential scan; for floats, the additions are grouped differently, so
/// results may differ by rounding.
///
/// # Panics
///
/// If `threads` is zero, or a thread cannot be started; an addition that
/// panics (an overflow in a debug build) panics here too, after every
/// thread has stopped, leaving `data` partly summed.
///
/// `T: 'static` because the barrier's completion step, which adds up the
/// block totals, owns what it works on.
///
/// # Examples
///
/// ```
/// let mut data = [1, 2, 3, 4, 5, 6, 7];
/// weft_algorithms::prefix_sum(3, &mut data);
/// assert_eq!(data, [1, 3, 6, 10, 15, 21, 28]);
/// ```
pub fn prefix_sum<T>(threads: usize, data: &mut [T])
where
    T: Copy + Send + Add<Output = T> + 'static,
{
    assert!(threads > 0, "prefix_sum needs at least one thread, got 0");
    if data.is_empty() {
        return;
    }
    let block = data.len().div_ceil(threads.min(data.len()));
    let blocks = data.len().div_ceil(block);
    // Slot `t` holds block `t`'s total after phase 1, then, after the
    // completion step, its offset: what phase 2 adds (`None`: nothing, for
    // the first block, or after a block whose phase 1 failed). The lock is
    // taken once per thread and phase; the barrier orders the rest.
    let slots: Arc<Mutex<Vec<Option<T>>>> = Arc::new(Mutex::new(vec![None; blocks]));
    let barrier = Barrier::with_completion(blocks, {
        let slots = Arc::clone(&slots);
        move || {
            let mut slots = slots.lock();
            let mut before: Option<T> = None;
            let mut failed = false;
            for slot in slots.iter_mut() {
                let total = slot.take();
                *slot = if failed { None } else { before };
                match total {
                    Some(total) => before = Some(before.map_or(total, |sum| sum + total)),
                    None => failed = true,
                }
            }
        }
    });
    thread::scope(|s| {
        let mut threads = Vec::with_capacity(blocks);
        for (t, chunk) in data.chunks_mut(block).enumerate() {
            let (slots, barrier) = (&slots, &barrier);
            threads.push(s.spawn(move || {
                // Phase 1: the block's own prefix sums. A panic here (an
                // overflow) must not leave the other threads at the
                // barrier forever: catch it, arrive anyway, and re-raise it
                // once everyone is past.
                let phase1 = panic::catch_unwind(AssertUnwindSafe(|| {
                    for i in 1..chunk.len() {
                        chunk[i] = chunk[i - 1] + chunk[i];
                    }
                    chunk[chunk.len() - 1]
                }));
                if let Ok(total) = phase1 {
                    slots.lock()[t] = Some(total);
                }
                // The completion step turns the totals into offsets here;
                // if one of its additions panics, so does this `wait`, on
                // the thread that ran it.
                barrier.wait();
                if let Err(payload) = phase1 {
                    panic::resume_unwind(payload);
                }
                // Phase 2: add the offset.
                let offset = slots.lock()[t];
                if let Some(offset) = offset {
                    for x in chunk {
                        *x = offset + *x;
                    }
                }
            }));
        }
        // Join them all, then pass on the first panic with its own payload.
        let results: Vec<thread::Result<()>> = threads.into_iter().map(|t| t.join()).collect();
        if let Some(payload) = results.into_iter().find_map(Result::err) {
            panic::resume_unwind(payload);
        }
    });
}

//! A countdown latch on one futex word: how a call waits for the jobs it
//! submitted.
//!
//! # Implementation
//!
//! The latch starts at the number of jobs a call pushed (a blocking call
//! pushes at most one per worker; a scope counts each task up as it is
//! spawned). Each job counts down once, as the very last thing it does with
//! the call's memory; the call waits until the count reads zero. It is the
//! `CountLatch` of rayon-core (`rayon-core/src/latch.rs`) reduced to what
//! the pool needs: one waiter, the thread that made the call.
//!
//! The whole latch is one `AtomicU32`:
//!
//! ```text
//!   bit 31     bit 30     bits 29..0
//! ┌─────────┬─────────┬──────────────────────────┐
//! │SLEEPING │ HELPING │ jobs that have not yet    │
//! │         │         │ counted down              │
//! └─────────┴─────────┴──────────────────────────┘
//! ```
//!
//! **Waiting** is the sleep-bit loop of `sleep_bit.rs`: the waiter reads
//! the word, and a count of zero means done; otherwise it spins a little
//! ([`SpinWait`]), since short jobs finish before a sleep would pay off,
//! then sets `SLEEPING` and sleeps on the word.
//!
//! **Counting down** is one `fetch_sub`. The job that takes the count to
//! zero wakes the waiter if `SLEEPING` was set; one wake is enough, as
//! there is one waiter. No wake-up is lost, by the argument of
//! `sleep_bit.rs`: every count-down is a read-modify-write of the word.
//!
//! **Helping waits** (`help.rs`) sleep on the same word, and want to be
//! woken for two reasons: the count reached zero, or a job they could run
//! was pushed (a *poke*). Such a waiter sets `HELPING` with `SLEEPING`
//! (in the queue's critical section that found nothing to run), and clears
//! both when it wakes. A pusher pokes it by clearing `HELPING` with a
//! `fetch_and`: only the poker that found the bit set wakes the waiter, and
//! the change of the word sends a waiter that is about to sleep back to
//! look (the sleep-bit argument again). The count-down ignores `HELPING`.
//!
//! **Why the latch may vanish under the last job.** The call's frame, and
//! the latch in it, can be freed the moment the waiter sees zero. So
//! [`CountLatch::count_down`] takes a raw pointer, derives the word's
//! address from it (`&raw const`, no reference) while the latch is live,
//! touches the word only through the `fetch_sub`, and after it uses that
//! address only as the futex key of `wake_one`, which the kernel never
//! dereferences (see `weft_futex::wake_one`). This is the hazard of
//! rust-lang/rust#55005 (`Arc::drop`), met the same way std's scoped
//! threads meet it.
//!
//! **Why not `weft_barrier::Latch`.** That latch is general: any number
//! of waiters, any `usize` count, and a count-down past zero must panic
//! with the count unchanged, so its count-downs are compare-and-swap loops
//! on a count beside a separate futex word. Here every count-down is exact
//! by construction (one per job), so the count, the sleep bits and the
//! futex share one word, and counting down is a single `fetch_sub` with
//! nothing to check.
//!
//! # Memory ordering
//!
//! Each `fetch_sub` is `Release` and pairs with the waiter's `Acquire`
//! reads (see `sleep_bit.rs`): every job's writes, the results it
//! produced, happen before the waiter sees a zero count. Counting up and
//! poking are `Relaxed`: a count-up happens before the count-down of the
//! job it counts (the job is pushed after it), and a poke publishes
//! nothing (the queue's lock publishes the job).

use std::sync::atomic::Ordering::{Acquire, Relaxed, Release};

use weft_futex::SpinWait;
use weft_futex::atomic::AtomicU32;

use crate::sleep_bit::wait_with_sleep_bit;

/// Set while the waiter may be asleep on the word.
const SLEEPING: u32 = 1 << 31;
/// Set while the waiter sleeps in a helping wait and wants to be woken
/// when a job it could run is pushed.
const HELPING: u32 = 1 << 30;
/// The bits that hold the count.
const COUNT: u32 = HELPING - 1;
/// The most unfinished jobs [`CountLatch::try_count_up`] accepts: half the
/// count's range, so that threads counting up at once cannot carry into
/// the flags before one of them sees the limit.
const MAX_COUNT: u32 = COUNT / 2;

/// A countdown of outstanding jobs with one waiter.
#[derive(Debug)]
pub(crate) struct CountLatch {
    /// The count of outstanding jobs and the `SLEEPING` bit.
    word: AtomicU32,
}

impl CountLatch {
    /// A latch that opens after `count` count-downs.
    ///
    /// # Panics
    ///
    /// If `count` does not fit in 29 bits (a blocking call pushes at most
    /// one job per worker to a latch, so this means half a billion
    /// workers).
    pub(crate) fn new(count: usize) -> Self {
        let count = u32::try_from(count)
            .ok()
            .filter(|&c| c <= MAX_COUNT)
            .expect("a latch counts at most 2^29 - 1 jobs");
        Self {
            word: AtomicU32::new(count),
        }
    }

    /// Counts down `n` jobs.
    ///
    /// # Safety
    ///
    /// `this` points to a live latch whose count is at least `n`. The latch
    /// may be freed as soon as the count reaches zero, possibly before this
    /// function returns; the function does not read or write it after the
    /// decrement, and the caller must not either.
    #[inline]
    pub(crate) unsafe fn count_down(this: *const Self, n: u32) {
        // The word's address, taken while the latch is live: after the
        // decrement it is the only thing of the latch this function uses.
        // SAFETY: the caller guarantees `this` is live here; no reference
        // is made.
        let word = unsafe { &raw const (*this).word };
        // Release: pairs with the Acquire reads of the word in `wait`,
        // publishing the job's writes to the waiter.
        // SAFETY: the latch is live until this decrement takes effect, and
        // the reference made for the call is not used after it.
        let before = unsafe { (*word).fetch_sub(n, Release) };
        debug_assert!(before & COUNT >= n, "latch counted down below zero");
        if before & !HELPING == SLEEPING | n {
            // The count is zero and the waiter sleeps, or is about to. The
            // latch may already be gone: only the word's address is used.
            Self::wake(word);
        }
    }

    /// Wakes the waiter sleeping on `word`, the latch's word, which may
    /// dangle by now. Only the job that took the count to zero gets here,
    /// and there is only one waiter, so one wake is enough.
    #[cold]
    fn wake(word: *const AtomicU32) {
        // `wake_one` takes a raw pointer and never dereferences it: the
        // kernel (or loom's model) uses the address only as a key.
        weft_futex::wake_one(word);
    }

    /// Blocks until the count reaches zero: spins a little, then sleeps on
    /// the word. Afterwards, everything the counted jobs wrote is visible.
    pub(crate) fn wait(&self) {
        wait_with_sleep_bit(&self.word, SLEEPING, SpinWait::new(), |word| {
            (word & COUNT == 0).then_some(())
        });
    }

    /// Counts one more job, which the caller then pushes, and returns
    /// `true`; returns `false`, leaving the count as it was, when 2^29 - 1
    /// jobs are already unfinished.
    ///
    /// The count must not be zero while a thread waits on the latch: the
    /// caller is the waiter before it waits, or a job that is counted.
    #[inline]
    pub(crate) fn try_count_up(&self) -> bool {
        // Relaxed: the job counted here is pushed after this, and the queue
        // orders the push before the job's Release count-down.
        let before = self.word.fetch_add(1, Relaxed);
        if before & COUNT >= MAX_COUNT {
            self.word.fetch_sub(1, Relaxed);
            return false;
        }
        true
    }

    /// Whether the count is zero. After `true`, everything the counted jobs
    /// wrote is visible.
    #[inline]
    pub(crate) fn is_open(&self) -> bool {
        // Acquire: pairs with the Release count-downs.
        self.word.load(Acquire) & COUNT == 0
    }

    /// Announces a helping sleep: sets `SLEEPING` and `HELPING`, and returns
    /// the word to pass to [`sleep`](Self::sleep), or `None` if the count
    /// is zero (do not sleep; the bits are cleared again).
    pub(crate) fn announce_helping_sleep(&self) -> Option<u32> {
        // Acquire: as in `is_open`; this read-modify-write is where the
        // waiter learns of a count-down made since it last looked.
        let word = self.word.fetch_or(SLEEPING | HELPING, Acquire) | SLEEPING | HELPING;
        if word & COUNT == 0 {
            self.end_helping_sleep();
            return None;
        }
        Some(word)
    }

    /// Sleeps on the word while it holds `word`, the value
    /// [`announce_helping_sleep`](Self::announce_helping_sleep) returned.
    /// May return spuriously.
    pub(crate) fn sleep(&self, word: u32) {
        weft_futex::wait(&self.word, word);
    }

    /// After a helping sleep: clears `SLEEPING` and `HELPING`, so that
    /// neither a count-down nor a push makes a system call to wake a waiter
    /// that is awake.
    pub(crate) fn end_helping_sleep(&self) {
        // Relaxed: the waiter reads the count again, with Acquire, before
        // it decides anything.
        self.word.fetch_and(!(SLEEPING | HELPING), Relaxed);
    }

    /// Wakes the waiter if it sleeps in a helping wait and nobody has poked
    /// it since; returns whether this call did.
    ///
    /// The latch must be alive: the caller runs inside the call the latch
    /// belongs to, or in a job it waits for.
    pub(crate) fn poke(&self) -> bool {
        // Relaxed: a poke publishes nothing (see the module docs).
        if self.word.load(Relaxed) & HELPING == 0
            || self.word.fetch_and(!HELPING, Relaxed) & HELPING == 0
        {
            return false;
        }
        // The waiter is the only thread that sleeps on the word.
        weft_futex::wake_one(&self.word);
        true
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use std::time::Duration;

    use weft_testkit::Watchdog;

    use super::*;

    #[test]
    fn the_waiter_returns_once_every_job_has_counted_down() {
        let _watchdog = Watchdog::new(
            "the_waiter_returns_once_every_job_has_counted_down",
            crate::HANG,
        );
        let latch = CountLatch::new(2);
        std::thread::scope(|s| {
            for _ in 0..2 {
                let latch = &latch;
                s.spawn(move || {
                    // Long enough for the waiter to give up spinning.
                    std::thread::sleep(Duration::from_millis(20));
                    // SAFETY: the latch outlives the scope, and the two
                    // threads count down once each from a count of two.
                    unsafe { CountLatch::count_down(latch, 1) }
                });
            }
            latch.wait();
        });
    }
}

/// Loom models of the latch: on `weft-futex`'s futex model a lost wake-up
/// is a deadlock that loom reports, and every access to an `UnsafeCell` is
/// checked against happens-before.
#[cfg(all(test, loom))]
mod models {
    use weft_futex::UnsafeCell;
    use weft_futex::loom::{self, thread};
    use weft_futex::sync::Arc;

    use super::*;

    /// A latch and one result cell per job: the jobs write their cell and
    /// count down; the waiter reads every cell after `wait`.
    struct Call {
        latch: CountLatch,
        results: Vec<UnsafeCell<usize>>,
    }

    #[test]
    fn the_waiter_sees_what_each_job_wrote() {
        for jobs in 1..=2 {
            loom::model(move || {
                let call = Arc::new(Call {
                    latch: CountLatch::new(jobs),
                    results: (0..jobs).map(|_| UnsafeCell::new(0)).collect(),
                });
                let handles: Vec<_> = (0..jobs)
                    .map(|i| {
                        let call = call.clone();
                        thread::spawn(move || {
                            // SAFETY: cell `i` is this job's alone until it
                            // counts down.
                            call.results[i].with_mut(|r| unsafe { *r = i + 1 });
                            // SAFETY: the `Arc` keeps the latch alive; one
                            // count.
                            unsafe { CountLatch::count_down(&call.latch, 1) };
                        })
                    })
                    .collect();
                call.latch.wait();
                for (i, cell) in call.results.iter().enumerate() {
                    // SAFETY: the latch is open, so every job is done with
                    // its cell (loom checks that this read happens after
                    // the write).
                    assert_eq!(cell.with(|r| unsafe { *r }), i + 1);
                }
                for h in handles {
                    h.join().unwrap();
                }
            });
        }
    }

    /// Three jobs racing to count down, and the waiter's sleep: only the
    /// lost wake-up is checked here (no result cells), to keep the model
    /// small.
    #[test]
    fn the_last_of_three_jobs_wakes_the_waiter() {
        loom::model(|| {
            let latch = Arc::new(CountLatch::new(3));
            let jobs: Vec<_> = (0..3)
                .map(|_| {
                    let latch = latch.clone();
                    // SAFETY: the `Arc` keeps the latch alive; one count
                    // each.
                    thread::spawn(move || unsafe { CountLatch::count_down(&*latch, 1) })
                })
                .collect();
            latch.wait();
            for job in jobs {
                job.join().unwrap();
            }
        });
    }

    /// The waiter retires a job itself (a ticket taken back from the queue)
    /// while another job counts down.
    #[test]
    fn a_waiter_that_retires_a_job_itself_is_still_woken() {
        loom::model(|| {
            let latch = Arc::new(CountLatch::new(2));
            let job = {
                let latch = latch.clone();
                // SAFETY: the `Arc` keeps the latch alive; one count.
                thread::spawn(move || unsafe { CountLatch::count_down(&*latch, 1) })
            };
            // SAFETY: the other count is ours to retire.
            unsafe { CountLatch::count_down(&*latch, 1) };
            latch.wait();
            job.join().unwrap();
        });
    }
}

//! A countdown latch on one futex word: how a blocking call waits for the
//! jobs it submitted.
//!
//! # Implementation
//!
//! The latch starts at the number of jobs a blocking call pushed (at most one
//! per worker, so the count is small). Each job counts down once, as the
//! very last thing it does with the call's memory; the call waits until the
//! count reads zero. It is the `CountLatch` of rayon-core
//! (`rayon-core/src/latch.rs`) reduced to what the pool needs: one waiter,
//! the thread that made the call.
//!
//! The whole latch is one `AtomicU32`:
//!
//! ```text
//!   bit 31      bits 30..0
//! ┌─────────┬──────────────────────────┐
//! │SLEEPING │ jobs that have not yet    │
//! │         │ counted down              │
//! └─────────┴──────────────────────────┘
//! ```
//!
//! **Waiting.** The waiter reads the word. A count of zero means done.
//! Otherwise it spins a little ([`SpinWait`]): short jobs finish before a
//! sleep would pay off. Then it sets `SLEEPING` with a `fetch_or`, which
//! also tells it whether the count reached zero in the meantime, and sleeps
//! with `futex_wait(word, value with SLEEPING)`.
//!
//! **Counting down** is one `fetch_sub`. The job that takes the count to
//! zero wakes the waiter if `SLEEPING` was set.
//!
//! **Why no wake-up is lost.** The last `fetch_sub` and the waiter's
//! `fetch_or` are read-modify-writes of the same word, so one comes first.
//! If the `fetch_sub` does, the `fetch_or` returns a zero count and the
//! waiter does not sleep. If the `fetch_or` does, the `fetch_sub` sees
//! `SLEEPING` and wakes; the waiter's `futex_wait` either sees the changed
//! word and returns at once, or is already queued and gets the wake. Every
//! other `fetch_sub` also changes the word, so a waiter that meant to sleep
//! on an older value returns and re-reads.
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
//! # Memory ordering
//!
//! Each `fetch_sub` is `Release` and the waiter's load (and its `fetch_or`)
//! `Acquire`: every job's writes (the results it produced) happen before
//! the waiter's read of a zero count, because all updates of the word are
//! read-modify-writes and so continue each job's release sequence.

use std::sync::atomic::Ordering::{Acquire, Release};

use weft_futex::SpinWait;
use weft_futex::atomic::AtomicU32;

/// Set while the waiter may be asleep on the word.
const SLEEPING: u32 = 1 << 31;
/// The bits that hold the count.
const COUNT: u32 = SLEEPING - 1;

/// A countdown of outstanding jobs with one waiter.
///
/// # Examples
///
/// ```
/// use weft_pool::internals::CountLatch;
///
/// let latch = CountLatch::new(2);
/// std::thread::scope(|s| {
///     for _ in 0..2 {
///         let latch = &latch;
///         // SAFETY: the latch outlives the scope, and the two threads
///         // count down once each from a count of two.
///         s.spawn(move || unsafe { CountLatch::count_down(latch, 1) });
///     }
///     latch.wait();
///     assert!(latch.is_done());
/// });
/// ```
#[derive(Debug)]
pub struct CountLatch {
    /// The count of outstanding jobs and the `SLEEPING` bit.
    word: AtomicU32,
}

impl CountLatch {
    /// A latch that opens after `count` count-downs.
    ///
    /// # Panics
    ///
    /// If `count` does not fit in 31 bits (a pool pushes at most one job per
    /// worker to a latch, so this means over two billion workers).
    pub fn new(count: usize) -> Self {
        let count = u32::try_from(count)
            .ok()
            .filter(|&c| c <= COUNT)
            .expect("a latch counts at most 2^31 - 1 jobs");
        Self {
            word: AtomicU32::new(count),
        }
    }

    /// Whether the count has reached zero. After `true`, everything the
    /// counted jobs wrote is visible to the caller.
    #[inline]
    pub fn is_done(&self) -> bool {
        // Acquire: pairs with the Release `fetch_sub` in `count_down`.
        self.word.load(Acquire) & COUNT == 0
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
    pub unsafe fn count_down(this: *const Self, n: u32) {
        // The word's address, taken while the latch is live: after the
        // decrement it is the only thing of the latch this function uses.
        // SAFETY: the caller guarantees `this` is live here; no reference
        // is made.
        let word = unsafe { &raw const (*this).word };
        // Release: pairs with the Acquire load in `wait`/`is_done`,
        // publishing the job's writes to the waiter.
        // SAFETY: the latch is live until this decrement takes effect, and
        // the reference made for the call is not used after it.
        let before = unsafe { (*word).fetch_sub(n, Release) };
        debug_assert!(before & COUNT >= n, "latch counted down below zero");
        if before == SLEEPING | n {
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
    /// the word.
    pub fn wait(&self) {
        let mut spin = SpinWait::new();
        loop {
            // Acquire: pairs with the Release `fetch_sub` in `count_down`.
            let mut word = self.word.load(Acquire);
            if word & COUNT == 0 {
                return;
            }
            if spin.spin() {
                continue;
            }
            if word & SLEEPING == 0 {
                // Announce the sleep. Acquire: if the count reached zero in
                // between, this read-modify-write is where we learn it, and
                // it must see the jobs' writes like the load above.
                word = self.word.fetch_or(SLEEPING, Acquire) | SLEEPING;
                if word & COUNT == 0 {
                    return;
                }
            }
            weft_futex::wait(&self.word, word);
        }
    }
}

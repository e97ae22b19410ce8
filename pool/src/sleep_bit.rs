//! Waiting on a futex word that carries a sleep bit: the wait loop that
//! the latch and the feed share.
//!
//! A *sleep bit* is a bit of a futex word that a waiter sets before it
//! sleeps, so that the thread that updates the word makes the system call
//! to wake it only when the bit was set: without sleepers, an update costs
//! one atomic operation. The waiter
//!
//! 1. reads the word; if its condition holds, it is done;
//! 2. spins while its [`SpinWait`] allows, and reads again;
//! 3. sets the bit with a `fetch_or`, whose result it checks the same way
//!    (the condition may have come true since the read);
//! 4. sleeps with `futex_wait(word, value with the bit)`, and starts over.
//!
//! **Why no wake-up is lost**, given an updater that changes the word with
//! a read-modify-write and wakes when the value before it had the bit: the
//! waiter's `fetch_or` and that update are read-modify-writes of the same
//! word, so one comes first. If the update does, the `fetch_or` returns the
//! updated value and the waiter sees its condition without sleeping. If the
//! `fetch_or` does, the update sees the bit and wakes; the waiter's
//! `futex_wait` either finds the word changed and returns at once, or is
//! already queued in the kernel and gets the wake. Any other change of the
//! word likewise sends a waiter that meant to sleep on an older value back
//! to read it again.
//!
//! What each protocol does with the bit (one waiter or many, whether the
//! updater clears it) is told in `latch.rs` and `map/feed.rs`.
//!
//! # Memory ordering
//!
//! Both reads are `Acquire` and pair with the updater's `Release`
//! read-modify-write: a waiter that sees its condition sees everything
//! written before the update that made it true. Every later change of the
//! word is a read-modify-write too, so it continues that release sequence.

use std::sync::atomic::Ordering::Acquire;

use weft_futex::SpinWait;
use weft_futex::atomic::AtomicU32;

/// Waits until `ready` returns `Some` for the value of `word`, and returns
/// that: reads, spins while `spin` allows, then sets `sleep_bit` and sleeps
/// on the word (see the module docs).
#[inline]
pub(crate) fn wait_with_sleep_bit<T>(
    word: &AtomicU32,
    sleep_bit: u32,
    mut spin: SpinWait,
    ready: impl Fn(u32) -> Option<T>,
) -> T {
    loop {
        // Acquire: pairs with the updater's Release read-modify-write.
        let mut value = word.load(Acquire);
        if let Some(done) = ready(value) {
            return done;
        }
        if spin.spin() {
            continue;
        }
        if value & sleep_bit == 0 {
            // Announce the sleep. Acquire: as for the load; this
            // read-modify-write is where we learn of an update made since.
            value = word.fetch_or(sleep_bit, Acquire) | sleep_bit;
            if let Some(done) = ready(value) {
                return done;
            }
        }
        weft_futex::wait(word, value);
    }
}

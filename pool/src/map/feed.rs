//! Feeding: how a blocking map call hands its chunks to the workers while
//! it is still collecting their items.
//!
//! # Why
//!
//! `map` takes any `IntoIterator`, and only the calling thread may drive
//! it (nothing makes the iterator `Send`). So the caller must move every
//! item into the call's input buffer, and done first, that collection is
//! latency the workers sit out. With a feed, the caller pushes the call's
//! tickets (all but one at most) *before* it collects, and publishes each
//! chunk the moment its last item is in the buffer; the woken workers run
//! chunk 0 while the caller fills chunk 1. The caller's side, what it does
//! when the iterator breaks its size hint or panics, is
//! `MapCall::run_fed` in `blocking.rs`.
//!
//! A worker claims chunk indices in order, as always, and then waits on
//! the feed until the chunk it claimed is published, or until the feed is
//! closed short of it: an iterator that panicked, or ended before its size
//! hint said, leaves the chunks after it unpublished for good. A call that
//! is not fed has its feed complete from the start.
//!
//! # The word
//!
//! The feed is one `AtomicU32`:
//!
//! ```text
//!   bit 31     bit 30    bits 29..0
//! ┌─────────┬─────────┬──────────────────────┐
//! │ WAITERS │ CLOSED  │ chunks published      │
//! └─────────┴─────────┴──────────────────────┘
//! ```
//!
//! Only the caller (the *feeder*) adds to the count and sets `CLOSED`; any
//! number of workers wait.
//!
//! **Waiting for chunk `i`** is the sleep-bit loop of `sleep_bit.rs`, with
//! `WAITERS` as the bit: a count above `i` means the chunk is ready;
//! `CLOSED` with a count at most `i` means it never will be.
//!
//! **Publishing** is one `fetch_add` of the new chunks (and of `CLOSED`,
//! the last time). If the value before it had `WAITERS`, the feeder clears
//! the bit and wakes every waiter; each reads the word again and goes back
//! to sleep if its chunk is still not there, setting the bit again.
//! Without waiters, publishing costs the one `fetch_add`.
//!
//! **Why no wake-up is lost**: by the argument of `sleep_bit.rs`, since
//! every `fetch_add` that finds `WAITERS` wakes everyone. The clearing of
//! the bit adds one case: a waiter that set the bit between the `fetch_add`
//! and the clearing sleeps, if at all, on a value that the clearing
//! changes, so its `futex_wait` returns at once.
//!
//! # Memory ordering
//!
//! The feeder writes a chunk's items, then publishes it with a `Release`
//! `fetch_add`; a waiter reads the count with `Acquire` before it touches
//! the items (see `sleep_bit.rs`).

use std::sync::atomic::Ordering::{Acquire, Relaxed, Release};

use weft_futex::SpinWait;
use weft_futex::atomic::AtomicU32;

use crate::sleep_bit::wait_with_sleep_bit;

/// Set while some waiter may be asleep on the word.
const WAITERS: u32 = 1 << 31;
/// Set when no chunk will be published any more.
const CLOSED: u32 = 1 << 30;
/// The bits that hold the count of published chunks.
const COUNT: u32 = CLOSED - 1;

/// How many [`SpinWait`] schedules a waiter goes through before it sleeps
/// (some tens of microseconds): a chunk of a fast iterator is filled
/// within that, and catching it awake saves the feeder a wake-up call per
/// chunk.
const SPIN_SCHEDULES: u32 = 16;

/// The chunks of a call that are ready to run; see the module docs.
#[derive(Debug)]
pub(crate) struct Feed {
    word: AtomicU32,
}

impl Feed {
    /// The most chunks a feed can count.
    pub(crate) const MAX_CHUNKS: usize = COUNT as usize;

    /// A feed with nothing published yet.
    #[must_use]
    pub(crate) fn new() -> Self {
        Self {
            word: AtomicU32::new(0),
        }
    }

    /// A closed feed with all `chunks` published: for a call whose items
    /// were collected before it started. Counts above
    /// [`MAX_CHUNKS`](Self::MAX_CHUNKS) are capped there: such a call
    /// treats every chunk as ready anyway (see [`wait_for`](Self::wait_for)).
    #[must_use]
    pub(crate) fn complete(chunks: usize) -> Self {
        let count = u32::try_from(chunks.min(Self::MAX_CHUNKS)).unwrap_or(COUNT);
        Self {
            word: AtomicU32::new(CLOSED | count),
        }
    }

    /// The number of chunks published so far. After the feed is closed and
    /// every waiter has finished, this is the call's final chunk count.
    pub(crate) fn published(&self) -> usize {
        // Acquire: pairs with the Release `fetch_add` in `add`.
        (self.word.load(Acquire) & COUNT) as usize
    }

    /// Publishes `more` chunks. Only the feeder calls this, after writing
    /// their items.
    ///
    /// # Panics
    ///
    /// In debug builds, if the count would pass
    /// [`MAX_CHUNKS`](Self::MAX_CHUNKS) or the feed is closed.
    pub(crate) fn publish(&self, more: u32) {
        self.add(more);
    }

    /// Publishes `more` last chunks and closes the feed: waiters for any
    /// later chunk return `false`. Only the feeder calls this, once.
    pub(crate) fn close(&self, more: u32) {
        self.add(more | CLOSED);
    }

    fn add(&self, delta: u32) {
        // Release: publishes the items of the new chunks to the waiters'
        // Acquire reads of the count (in `wait_for` and `published`).
        let before = self.word.fetch_add(delta, Release);
        debug_assert!(before & CLOSED == 0, "a closed feed published more");
        debug_assert!(
            (before & COUNT) + (delta & COUNT) <= COUNT,
            "a feed counted past its limit"
        );
        if before & WAITERS != 0 {
            self.wake();
        }
    }

    #[cold]
    fn wake(&self) {
        // Relaxed: the bit is only a hint to publish with a wake; the
        // waiters re-read the count with Acquire after waking.
        self.word.fetch_and(!WAITERS, Relaxed);
        weft_futex::wake_all(&self.word);
    }

    /// Waits until chunk `i` is published (`true`) or the feed is closed
    /// without it (`false`). A chunk index at or beyond
    /// [`MAX_CHUNKS`](Self::MAX_CHUNKS) is ready as soon as the feed is
    /// closed with that many chunks.
    pub(crate) fn wait_for(&self, i: usize) -> bool {
        let i = i.min(Self::MAX_CHUNKS - 1) as u32;
        let spin = SpinWait::repeated(SPIN_SCHEDULES);
        wait_with_sleep_bit(&self.word, WAITERS, spin, |word| {
            if word & COUNT > i {
                Some(true)
            } else if word & CLOSED != 0 {
                Some(false)
            } else {
                None
            }
        })
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use std::thread;
    use std::time::Duration;

    use weft_testkit::Watchdog;

    use super::*;

    #[test]
    fn complete_feeds_are_ready_up_to_their_count() {
        let feed = Feed::complete(3);
        assert_eq!(feed.published(), 3);
        assert!(feed.wait_for(0) && feed.wait_for(2));
        assert!(!feed.wait_for(3));
        assert!(Feed::complete(usize::MAX).wait_for(usize::MAX));
        assert!(!Feed::complete(0).wait_for(0));
    }

    #[test]
    fn a_sleeping_waiter_wakes_for_its_chunk_and_for_the_close() {
        let _watchdog = Watchdog::new(
            "a_sleeping_waiter_wakes_for_its_chunk_and_for_the_close",
            crate::HANG,
        );
        let feed = Feed::new();
        thread::scope(|s| {
            let first = s.spawn(|| feed.wait_for(0));
            let third = s.spawn(|| feed.wait_for(2));
            // Long enough for both to give up spinning and sleep.
            thread::sleep(Duration::from_millis(20));
            feed.publish(1);
            assert!(first.join().unwrap());
            thread::sleep(Duration::from_millis(20));
            feed.close(1);
            assert!(!third.join().unwrap());
        });
        assert_eq!(feed.published(), 2);
        assert_eq!(feed.word.load(Relaxed) & WAITERS, 0, "the bit is cleared");
    }
}

/// Loom models of the feed: on `weft-futex`'s futex model a waiter that is
/// never woken is a deadlock that loom reports, and every access to an
/// `UnsafeCell` is checked against happens-before.
#[cfg(all(test, loom))]
mod models {
    use weft_futex::UnsafeCell;
    use weft_futex::loom::{self, thread};
    use weft_futex::sync::Arc;

    use super::*;

    /// The feeder writes each chunk's cell and publishes it (the last one
    /// with the close); each waiter reads the cell of the chunk it waited
    /// for, and a waiter for a chunk beyond the close learns that it never
    /// comes.
    fn feed_with_waiters(waiting_for: &'static [usize], published: usize) {
        loom::model(move || {
            let shared = Arc::new((Feed::new(), [UnsafeCell::new(0), UnsafeCell::new(0)]));
            let handles: Vec<_> = waiting_for
                .iter()
                .map(|&i| {
                    let shared = shared.clone();
                    thread::spawn(move || {
                        let (feed, cells) = &*shared;
                        if feed.wait_for(i) {
                            assert!(i < published, "chunk {i} was never published");
                            // SAFETY: the feeder wrote this cell before
                            // publishing it and never touches it again.
                            assert_eq!(cells[i].with(|c| unsafe { *c }), i + 1);
                        } else {
                            assert!(i >= published, "chunk {i} was published");
                        }
                    })
                })
                .collect();
            let (feed, cells) = &*shared;
            for (i, cell) in cells.iter().enumerate().take(published) {
                // SAFETY: unpublished cells are the feeder's alone.
                cell.with_mut(|c| unsafe { *c = i + 1 });
                if i + 1 < published {
                    feed.publish(1);
                } else {
                    feed.close(1);
                }
            }
            if published == 0 {
                feed.close(0);
            }
            for h in handles {
                h.join().unwrap();
            }
            assert_eq!(feed.published(), published);
        });
    }

    /// Two waiters, each for its own chunk or both for the second one, and
    /// a feeder that publishes both chunks, one or none before it closes:
    /// every waiter sees its chunk's items, or learns it never comes, and
    /// none sleeps forever.
    #[test]
    fn every_waiter_gets_its_chunk_or_the_close() {
        for (waiting_for, published) in [(&[0, 1], 2), (&[1, 1], 2), (&[0, 1], 1), (&[0, 1], 0)] {
            // Shown with a failure only.
            eprintln!("waiters for chunks {waiting_for:?}, {published} chunks published");
            feed_with_waiters(waiting_for, published);
        }
    }
}

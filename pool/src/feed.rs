//! How a blocking map call hands its chunks to the workers while it is
//! still collecting them.
//!
//! # Why
//!
//! `map` takes any `IntoIterator`, and only the calling thread may drive
//! it (nothing makes the iterator `Send`). So the caller must move every
//! item into the call's input buffer. Done first, that collection is pure
//! latency: on a large input of cheap items it took as long as running the
//! chunks. With a feed, the caller pushes the call's tickets (all but one
//! at most, see `MapCall::run_fed`) *before* it collects, and publishes
//! each chunk the moment its last item is in the buffer; the woken workers
//! run chunk 0 while the caller fills chunk 1.
//!
//! A worker claims chunk indices in order, as always (see the `map`
//! module), and then waits on the feed until the chunk it claimed is
//! published, or until the feed is closed short of it: an iterator that
//! panicked, or ended before its size hint said, leaves the chunks after
//! it unpublished for good.
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
//! **Waiting for chunk `i`.** Read the word: a count above `i` means the
//! chunk is ready; `CLOSED` with a count at most `i` means it never will
//! be. Otherwise spin a while, then set `WAITERS` with a `fetch_or` (whose
//! result is checked the same way) and sleep with
//! `futex_wait(word, value with WAITERS)`.
//!
//! **Publishing** is one `fetch_add` of the new chunks (and of `CLOSED`,
//! the last time). If the value before it had `WAITERS`, the feeder clears
//! the bit and wakes every waiter; each re-reads the word and goes back to
//! sleep if its chunk is still not there, setting the bit again. Without
//! waiters, publishing costs the one `fetch_add`.
//!
//! **Why no wake-up is lost.** A waiter's `fetch_or` and the feeder's
//! `fetch_add` are read-modify-writes of the same word, so one comes first.
//! If the `fetch_add` does, the `fetch_or` returns the new count and the
//! waiter does not sleep for a chunk that is ready. If the `fetch_or` does,
//! the `fetch_add` sees `WAITERS` and wakes everyone; a waiter not yet
//! asleep finds the word changed (by the `fetch_add` or by the clearing of
//! the bit) and its `futex_wait` returns at once. A waiter that set the bit
//! between the `fetch_add` and the clearing sleeps, if at all, on a value
//! that the clearing changes.
//!
//! # Memory ordering
//!
//! The feeder writes a chunk's items, then publishes it with a `Release`
//! `fetch_add`; a waiter reads the count with `Acquire` (load or
//! `fetch_or`) before it touches the items. Every later change of the word
//! is a read-modify-write, so it continues the release sequence.

use std::sync::atomic::Ordering::{Acquire, Relaxed, Release};

use weft_futex::SpinWait;
use weft_futex::atomic::AtomicU32;

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
///
/// # Examples
///
/// ```
/// use weft_pool::internals::Feed;
///
/// // The feeder fills two chunks and stops; chunk 1 runs, chunk 2 never.
/// let feed = Feed::new();
/// std::thread::scope(|s| {
///     s.spawn(|| assert!(feed.wait_for(1)));
///     s.spawn(|| assert!(!feed.wait_for(2)));
///     feed.publish(1);
///     feed.close(1);
/// });
/// assert_eq!(feed.published(), 2);
/// ```
#[derive(Debug)]
pub struct Feed {
    word: AtomicU32,
}

impl Default for Feed {
    fn default() -> Self {
        Self::new()
    }
}

impl Feed {
    /// The most chunks a feed can count.
    pub const MAX_CHUNKS: usize = COUNT as usize;

    /// A feed with nothing published yet.
    #[must_use]
    pub fn new() -> Self {
        Self {
            word: AtomicU32::new(0),
        }
    }

    /// A closed feed with all `chunks` published: for a call whose items
    /// were collected before it started. Counts above
    /// [`MAX_CHUNKS`](Self::MAX_CHUNKS) are capped there: such a call
    /// treats every chunk as ready anyway (see [`wait_for`](Self::wait_for)).
    #[must_use]
    pub fn complete(chunks: usize) -> Self {
        let count = u32::try_from(chunks.min(Self::MAX_CHUNKS)).unwrap_or(COUNT);
        Self {
            word: AtomicU32::new(CLOSED | count),
        }
    }

    /// The number of chunks published so far. After the feed is closed and
    /// every waiter has finished, this is the call's final chunk count.
    pub fn published(&self) -> usize {
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
    pub fn publish(&self, more: u32) {
        self.add(more);
    }

    /// Publishes `more` last chunks and closes the feed: waiters for any
    /// later chunk return `false`. Only the feeder calls this, once.
    pub fn close(&self, more: u32) {
        self.add(more | CLOSED);
    }

    fn add(&self, delta: u32) {
        // Release: publishes the items of the new chunks to the waiters'
        // Acquire reads of the count.
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
    pub fn wait_for(&self, i: usize) -> bool {
        let i = i.min(Self::MAX_CHUNKS - 1) as u32;
        let ready = |word: u32| -> Option<bool> {
            if word & COUNT > i {
                Some(true)
            } else if word & CLOSED != 0 {
                Some(false)
            } else {
                None
            }
        };
        let mut spin = SpinWait::repeated(SPIN_SCHEDULES);
        loop {
            // Acquire: pairs with the Release `fetch_add` in `add`.
            let mut word = self.word.load(Acquire);
            if let Some(ready) = ready(word) {
                return ready;
            }
            if spin.spin() {
                continue;
            }
            if word & WAITERS == 0 {
                // Acquire: as for the load; this read-modify-write is where
                // we learn of a chunk published since.
                word = self.word.fetch_or(WAITERS, Acquire) | WAITERS;
                if let Some(ready) = ready(word) {
                    return ready;
                }
            }
            weft_futex::wait(&self.word, word);
        }
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
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
        let feed = Feed::new();
        std::thread::scope(|s| {
            let first = s.spawn(|| feed.wait_for(0));
            let third = s.spawn(|| feed.wait_for(2));
            // Long enough for both to give up spinning and sleep.
            std::thread::sleep(std::time::Duration::from_millis(20));
            feed.publish(1);
            assert!(first.join().unwrap());
            std::thread::sleep(std::time::Duration::from_millis(20));
            feed.close(1);
            assert!(!third.join().unwrap());
        });
        assert_eq!(feed.published(), 2);
        assert_eq!(feed.word.load(Relaxed) & WAITERS, 0, "the bit is cleared");
    }
}

//! A reusable barrier on one futex word.
//!
//! # Implementation
//!
//! A barrier releases threads in *rounds*: each round, the first `n - 1`
//! threads to call [`wait`](Barrier::wait) block, and the `n`-th releases
//! them all and starts the next round. std builds this from a `Mutex`, a
//! `Condvar`, a count and a generation number; here the count and the
//! generation live in one `AtomicU32`, with two flags, and the kernel's
//! futex queue on that word replaces the condition variable:
//!
//! ```text
//!    31            17    16      15    14                 0
//!   ┌────────────────┬───────┬──────┬────────────────────┐
//!   │   generation   │CLOSING│ SLEEP│      arrived       │
//!   └────────────────┴───────┴──────┴────────────────────┘
//! ```
//!
//! - `arrived` (15 bits) counts the threads that have arrived in the current
//!   round. It stays below `n` except while a round closes, which caps `n`
//!   at 2¹⁵ − 1 ([`Barrier::MAX_THREADS`]).
//! - `SLEEPERS` is set by a waiter before it sleeps in the kernel, so that
//!   the thread ending the round makes a system call only when somebody
//!   may be asleep.
//! - `CLOSING` marks a complete round whose completion step is running
//!   (only with [`Barrier::with_completion`]).
//! - `generation` (15 bits, wrapping) numbers the rounds.
//!
//! Beside the word, `n` is the number of threads a round waits for; it only
//! ever goes down, when a thread leaves with
//! [`arrive_and_drop`](Barrier::arrive_and_drop).
//!
//! **Arriving** is one compare-and-swap. A thread reads the word; if
//! `arrived + 1 < n` it swaps in `arrived + 1`, and the generation in the
//! value it replaced is *its round*. If `arrived + 1 == n` it is the last
//! arriver, the round's leader, and ends the round (below). If the word
//! changed in between, the swap fails and the thread decides again on the
//! new value.
//!
//! **Waiting.** A non-last arriver watches the word until its generation
//! changes. First it spins a little
//! ([`SpinWait`](weft_futex::SpinWait): a few pauses, then a few
//! yields), because barrier rounds are often short: threads doing equal
//! work arrive within microseconds of each other, and catching the end of
//! the round awake saves a sleep and a wake-up. It starts from the value
//! its own arrival wrote and reads the word again only after a spin round,
//! a failed swap or a sleep. Then it sets `SLEEPERS`
//! (a compare-and-swap from the exact value it read) and calls
//! `futex_wait(word, value with SLEEPERS)`. On every return it reloads the
//! word and checks the generation again, since the futex can return
//! spuriously or because `arrived` changed.
//!
//! **Ending a round.** Without a completion step, the leader's swap itself
//! ends the round: it writes the next generation with `arrived` zero and
//! `SLEEPERS` clear, which resets the count, ends the round and opens the
//! next one in a single atomic step. If the value it replaced had
//! `SLEEPERS` set, it then calls `futex_wake_all` on the word; otherwise
//! everybody is still spinning and sees the new generation by itself, and
//! the round costs no system call at all.
//!
//! **The completion step** must run after every thread of the round has
//! arrived and before any is released, so the end takes two steps. The
//! leader's swap counts it in and sets `CLOSING`: the round is now complete
//! and claimed, no thread may withdraw from it (a timed-out waiter that
//! finds `CLOSING` waits for the end instead), and a thread arriving for
//! the next round (possible when more than `n` threads share the barrier)
//! waits for the next generation before it counts itself in. The leader
//! runs the step, catching a panic, then swaps in the next generation as
//! above, wakes the sleepers, and only then lets the panic go on. Only the
//! thread that set `CLOSING` runs the step, so it is never called twice at
//! once, and it needs `Send`, not `Sync`.
//!
//! **Why no wake-up is lost.** A waiter sleeps only if the word still holds
//! the exact value it read, with its own generation and `SLEEPERS` set, at
//! the moment the kernel queues it. The swap that starts the next round
//! changes the generation, so if it comes before that moment the kernel
//! refuses to sleep and the waiter sees the new round; if it comes after,
//! the swap replaced a value with `SLEEPERS` set (nothing else clears it),
//! so the thread ending the round calls `wake_all` and finds the waiter
//! queued. Setting the flag cannot race with the end either: the waiter's
//! compare-and-swap expects the exact value it read, so it fails if the
//! round already ended.
//!
//! **Why one word.** With the count and the generation in two words, a
//! waiter would have to read the generation *before* counting itself in:
//! read after, and the round might end in between, so that the waiter waits
//! for the generation after the one it belongs to and never wakes. But even
//! reading it before is not enough when more than `n` threads share a
//! barrier: a thread may read generation `g`, then the leader resets the
//! count, then the thread counts itself in (in round `g + 1`) and then the
//! leader publishes `g + 1`, releasing the thread a round early and leaving
//! round `g + 1` one arrival short of a real quorum. Reset-before-publish and
//! publish-before-reset each lose one way. In one word the question "which
//! round did I join" is answered by the very compare-and-swap that joins it,
//! and the reset and the publication are one event, so an early arriver of
//! the next round, with `arrived` necessarily below `n` and the next
//! generation in the word, can only join the next round.
//!
//! Arrival could be a single `fetch_add` if the leader reset the count with
//! a second operation, but arrivals that land between the two (possible
//! when more than `n` threads share the barrier) would then count past `n`
//! and need their own repair. The compare-and-swap costs the same as a
//! `fetch_add` when it succeeds, and keeps `arrived` within `n`.
//!
//! **Timeouts.** [`wait_timeout`](Barrier::wait_timeout) is well defined
//! because an arrival can be *withdrawn*: a waiter whose deadline passed
//! swaps `arrived - 1` into the word, but only if the generation is still
//! its own and the round is not `CLOSING`. If the swap succeeds, the round has not ended and now lacks this
//! thread again, exactly as if it had never arrived; the round goes on
//! waiting for `n` threads. If the generation has changed, the round ended
//! with this thread counted in, and it returns as a normal waiter. The
//! withdrawal leaves `SLEEPERS` alone: other waiters may still sleep, and a
//! flag left set only costs the leader one `wake_all` too many.
//!
//! **Leaving.** [`arrive_and_drop`](Barrier::arrive_and_drop) lowers `n`
//! by one, for this round and every later one, and does not arrive. If the
//! threads already arrived are now all the round needs, somebody must end
//! it, and the danger is a Dekker race: an arrival reads `n` and then
//! swaps the word, the leaving thread writes `n` and then reads the word,
//! and each may see the other's old value: the arrival joins thinking a
//! thread is still missing, the leaving thread sees one arrival too few,
//! and nobody ends the round. As in `weft_semaphore`, the cure is that
//! both sides touch the *word* with a read-modify-write after their own
//! step: arrivals swap it anyway, and the leaving thread ends with a
//! `fetch_add(0)`. Read-modify-writes of one word happen in one total
//! order. If the leaving thread's comes first, the arrival's swap
//! (`Acquire`) reads it, and so sees the new `n` when it reads `n` again
//! after joining; it then ends the round itself. If the arrival's comes
//! first, the leaving thread's `fetch_add` (`Acquire`) sees the arrival
//! counted in, and ends the round. Both may try; the swap that ends it
//! succeeds once. A round ended by a leaving thread has no leader.
//! When more than `n` threads share the barrier, an arrival may find a
//! round complete but not yet ended by the thread that left; it ends the
//! round for it and then joins the next.
//!
//! **Generation wrap-around.** The generation has 15 bits. A waiter that
//! misses the end of its round can only do so if, while it does not run,
//! 32 768 further rounds complete and leave the word exactly as it was.
//! That needs more than `n` threads sharing the barrier, since with exactly
//! `n` no round can complete without the waiter, and it needs the waiter to
//! be descheduled for all those rounds; std's futex condition variable
//! accepts the same kind of risk with its 32-bit counter.
//!
//! **Dropping the barrier.** The moment the leader's swap lands, every
//! other thread may see the new generation, return, and free the barrier
//! (for instance through a reference count that they drop), while the
//! leader is still inside `wait`, about to call `wake_all`. Three things
//! make that sound:
//!
//! - The leader reads and writes nothing of the barrier after its swap: it
//!   took the word's address and loaded `n` before, and decides whether to
//!   wake from the swap's own result.
//! - `weft_futex::wake_all` takes a raw pointer and never dereferences it:
//!   the kernel (and Miri's futex) uses the address only as the key of its
//!   wait queue. A freed or reused address at worst wakes threads waiting
//!   on whatever lives there now, and every futex waiter tolerates spurious
//!   wake-ups.
//! - Every byte of a `Barrier` is interior-mutable: `n` is an `AtomicU32`
//!   although it never changes. Rust's aliasing rules treat the `&self` of a
//!   running call as a promise that the *frozen* bytes behind it (those
//!   outside any `UnsafeCell`) stay allocated until the call returns, so
//!   with a plain `n: u32` freeing the barrier while the leader is still in
//!   `wait` would be undefined behaviour; Miri reports exactly that for the
//!   test `freed_by_the_waiter_while_the_leader_wakes`. Bytes inside an
//!   `UnsafeCell` carry no such promise in either of Miri's aliasing
//!   models, so with both fields atomic that test is clean under Stacked
//!   and Tree Borrows. (The same question arose for `Arc`'s drop,
//!   rust-lang/rust#55005.)
//!
//! # Memory ordering
//!
//! A barrier promises that everything any thread did before its `wait`
//! happens before everything every thread does after its `wait` returns,
//! in the same round, and that the completion step sees the first and is
//! seen by the second. Each arrival is a read-modify-write with `Release`
//! (its `Acquire` half is for leaving, above); the swap that ends the round
//! (or sets `CLOSING`) is `Acquire` at least, and the one that starts the
//! next round `Release`. Because every change of the word is a
//! read-modify-write, the arrivals, those swaps and any later change form
//! one release sequence: the ending thread's `Acquire` reads the last
//! arrival's value and so synchronizes with every arrival of the round, and
//! a waiter's `Acquire` load that sees the new generation synchronizes with
//! the ending thread (and through it with all the arrivals). The
//! compare-and-swaps that set `SLEEPERS` or withdraw an arrival are
//! `Relaxed` when they succeed: they publish nothing, and being
//! read-modify-writes they do not break the release sequence. When they
//! fail, the value they read may be the new generation, which ends the
//! wait, so their failure ordering is `Acquire`, like the waiter's loads.
//! The futex calls order nothing.

mod round;

use core::fmt;
use std::sync::atomic::Ordering::{AcqRel, Relaxed};
use std::time::Duration;

use weft_futex::atomic::AtomicU32;
use weft_futex::{Deadline, UnsafeCell};

use round::Arrival;

/// Bits 0..15: threads arrived in the current round, at most `n`.
const ARRIVED_MASK: u32 = (1 << 15) - 1;
/// Bit 15: a waiter may be asleep on the word; whoever ends the round must
/// wake all.
const SLEEPERS: u32 = 1 << 15;
/// Bit 16: the round is complete and its completion step is running; no
/// thread may join or withdraw until the generation changes.
const CLOSING: u32 = 1 << 16;
/// Bits 17..32: the round number, wrapping.
const GENERATION_MASK: u32 = !(ARRIVED_MASK | SLEEPERS | CLOSING);
/// One step of the generation.
const ONE_GENERATION: u32 = 1 << 17;

/// Bits 0..15 of the `n` word: the threads each round waits for.
const N_MASK: u32 = ARRIVED_MASK;
/// Bit 31 of the `n` word: the barrier has a completion step.
const HAS_COMPLETION: u32 = 1 << 31;

/// The step run between rounds: once per round, by the thread that closes
/// it.
type Completion = Box<dyn FnMut() + Send>;

/// A reusable barrier: each round, `n` threads wait for each other, and
/// then all of them proceed together.
///
/// Every call to [`wait`](Self::wait) blocks until `n` threads (counting
/// the caller) have called it, then they all return, exactly one of them
/// with [`is_leader`](BarrierWaitResult::is_leader) `true`, and the barrier
/// is ready for the next round. `n` counts calls, not particular threads,
/// as in std: any thread may take part in any round.
///
/// It is two words and a pointer, allocates only to hold a completion
/// step, makes no system call in a round where every thread arrives within
/// a few microseconds of the first, and otherwise sleeps in the kernel. See the [module documentation](self) for
/// how it works.
///
/// # Examples
///
/// ```
/// use weft_barrier::Barrier;
///
/// let barrier = Barrier::new(3);
/// let leaders = std::sync::atomic::AtomicUsize::new(0);
/// std::thread::scope(|s| {
///     for _ in 0..3 {
///         s.spawn(|| {
///             // ... first phase of work ...
///             if barrier.wait().is_leader() {
///                 leaders.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
///             }
///             // ... second phase: every thread's first phase is done ...
///         });
///     }
/// });
/// assert_eq!(leaders.into_inner(), 1);
/// ```
pub struct Barrier {
    /// `generation | CLOSING? | SLEEPERS? | arrived`; see the module
    /// documentation.
    state: AtomicU32,
    /// `HAS_COMPLETION? | n`: the threads each round waits for, `0..=MAX_THREADS`
    /// (0 once every thread has left, and then a round needs one), lowered
    /// only by [`arrive_and_drop`](Self::arrive_and_drop). An atomic also so
    /// that no byte of a `Barrier` is frozen behind `&self` (see "Dropping
    /// the barrier" in the module documentation).
    n: AtomicU32,
    /// The completion step, called only by the thread that holds the
    /// round's `CLOSING` claim, so never by two threads at once.
    completion: UnsafeCell<Option<Completion>>,
}

// SAFETY: `completion` is the only field that is not an atomic. It is
// `Send`, and it is touched only by the thread that set `CLOSING` in the
// state word (one per round, and the claim ends only after the call has
// returned), or through `&mut self` when the barrier is dropped. So shared
// references never give two threads access to it at once.
unsafe impl Sync for Barrier {}

/// The result of [`Barrier::wait`]: says whether this thread was the
/// round's leader.
///
/// # Examples
///
/// ```
/// let barrier = weft_barrier::Barrier::new(1);
/// assert!(barrier.wait().is_leader());
/// ```
#[derive(Debug, Clone, Copy)]
pub struct BarrierWaitResult {
    is_leader: bool,
}

impl Barrier {
    /// The largest `n` a barrier accepts, 32 767: the count of arrived
    /// threads has 15 bits of the word, and reaches `n` while a round
    /// closes (see the module documentation).
    pub const MAX_THREADS: usize = ARRIVED_MASK as usize;

    weft_futex::const_unless_loom! {
        /// Creates a barrier for rounds of `n` threads. `n == 0` behaves as
        /// `n == 1`, as in std: every `wait` returns at once, as leader.
        ///
        /// # Panics
        ///
        /// If `n` is larger than [`Barrier::MAX_THREADS`] (32 768).
        ///
        /// # Examples
        ///
        /// ```
        /// static START: weft_barrier::Barrier = weft_barrier::Barrier::new(1);
        /// assert!(START.wait().is_leader());
        /// ```
        pub fn new(n: usize) -> Self {
            Self {
                state: AtomicU32::new(0),
                n: AtomicU32::new(threads_per_round(n)),
                completion: UnsafeCell::new(None),
            }
        }
    }

    /// Creates a barrier for rounds of `n` threads that runs `completion`
    /// once per round: on the last thread to arrive, after every thread of
    /// the round has arrived and before any of them is released. What it
    /// writes is visible to every thread of the round when its `wait`
    /// returns.
    ///
    /// If `completion` panics, the round's other threads are released as
    /// usual, the panic continues on the thread that ran it (out of its
    /// `wait`), and the barrier stays usable: later rounds run `completion`
    /// again. It is dropped once, with the barrier.
    ///
    /// # Panics
    ///
    /// If `n` is larger than [`Barrier::MAX_THREADS`].
    ///
    /// # Examples
    ///
    /// Each round, the completion hands out the next phase number:
    ///
    /// ```
    /// use std::sync::Arc;
    /// use std::sync::atomic::{AtomicU32, Ordering::Relaxed};
    /// use weft_barrier::Barrier;
    ///
    /// let phase = Arc::new(AtomicU32::new(0));
    /// let next = Arc::clone(&phase);
    /// let barrier = Barrier::with_completion(3, move || {
    ///     next.fetch_add(1, Relaxed);
    /// });
    /// std::thread::scope(|s| {
    ///     for _ in 0..3 {
    ///         s.spawn(|| {
    ///             for round in 1..=4 {
    ///                 barrier.wait();
    ///                 // Every thread sees this round's completion, and the
    ///                 // next one cannot run before this thread arrives.
    ///                 assert_eq!(phase.load(Relaxed), round);
    ///             }
    ///         });
    ///     }
    /// });
    /// assert_eq!(phase.load(Relaxed), 4);
    /// ```
    pub fn with_completion(n: usize, completion: impl FnMut() + Send + 'static) -> Self {
        Self {
            state: AtomicU32::new(0),
            n: AtomicU32::new(threads_per_round(n) | HAS_COMPLETION),
            completion: UnsafeCell::new(Some(Box::new(completion))),
        }
    }

    /// Blocks until `n` threads have called `wait` in this round, then
    /// returns; exactly one of the `n` calls returns a leader.
    ///
    /// Everything each thread did before its `wait` is visible to every
    /// thread of the round after its `wait` returns.
    ///
    /// The barrier may be dropped as soon as the other threads' calls have
    /// returned, even while the leader is still inside its own.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::atomic::{AtomicU32, Ordering::Relaxed};
    /// use weft_barrier::Barrier;
    ///
    /// let barrier = Barrier::new(2);
    /// let phase_one = [AtomicU32::new(0), AtomicU32::new(0)];
    /// std::thread::scope(|s| {
    ///     for i in 0..2 {
    ///         let (barrier, phase_one) = (&barrier, &phase_one);
    ///         s.spawn(move || {
    ///             phase_one[i].store(1, Relaxed);
    ///             barrier.wait();
    ///             // The other thread's phase one is done.
    ///             assert_eq!(phase_one[1 - i].load(Relaxed), 1);
    ///         });
    ///     }
    /// });
    /// ```
    #[inline]
    pub fn wait(&self) -> BarrierWaitResult {
        match self.arrive() {
            Arrival::Leader => BarrierWaitResult { is_leader: true },
            Arrival::Waiter { joined } => {
                let ended = self.wait_for_generation_change(joined, Deadline::NEVER);
                debug_assert!(ended, "a wait without a deadline cannot time out");
                BarrierWaitResult { is_leader: false }
            }
        }
    }

    /// Like [`wait`](Self::wait), but gives up when `timeout` has passed
    /// before the round is complete.
    ///
    /// `None` means the time ran out and this thread's arrival was
    /// *withdrawn*: the round still waits for `n` threads, exactly as if
    /// this call had never happened. `Some` means the round completed with
    /// this thread in it, and then it counts as a normal `wait` (even if the
    /// round completed just as the deadline passed). A leader never waits,
    /// so it always gets `Some`, even with a zero timeout.
    ///
    /// Before sleeping the thread spins for a few microseconds, as `wait`
    /// does, whatever the timeout. A timeout too large to represent waits
    /// without a deadline.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use weft_barrier::Barrier;
    ///
    /// let barrier = Barrier::new(2);
    /// // Nobody else arrives: the call gives up and withdraws.
    /// assert!(barrier.wait_timeout(Duration::from_millis(10)).is_none());
    /// // The withdrawal left the round empty, so two threads complete it.
    /// std::thread::scope(|s| {
    ///     s.spawn(|| barrier.wait());
    ///     barrier.wait_timeout(Duration::from_secs(3600)).expect("the other thread arrives");
    /// });
    /// ```
    pub fn wait_timeout(&self, timeout: Duration) -> Option<BarrierWaitResult> {
        // Taken before arriving, so time spent arriving counts.
        let deadline = Deadline::after(timeout);
        match self.arrive() {
            Arrival::Leader => Some(BarrierWaitResult { is_leader: true }),
            Arrival::Waiter { joined } => {
                if self.wait_for_generation_change(joined, deadline) {
                    Some(BarrierWaitResult { is_leader: false })
                } else {
                    self.withdraw(joined & GENERATION_MASK)
                }
            }
        }
    }

    /// Leaves the barrier: this round, and every later one, waits for one
    /// thread fewer. The calling thread does not wait; if it was the last
    /// one the round was missing, it ends the round (running the
    /// completion step, whose panic then continues out of this call), and
    /// that round has no leader.
    ///
    /// Once every thread has left, the barrier behaves as `Barrier::new(0)`:
    /// a `wait` returns at once, as leader. Leaving a barrier that nobody
    /// is left in does nothing.
    ///
    /// # Examples
    ///
    /// A worker that finishes early stops holding the others up:
    ///
    /// ```
    /// use weft_barrier::Barrier;
    ///
    /// let barrier = Barrier::new(2);
    /// std::thread::scope(|s| {
    ///     s.spawn(|| barrier.arrive_and_drop());
    ///     for _ in 0..3 {
    ///         // Alone now: every round needs only this thread.
    ///         barrier.wait();
    ///     }
    /// });
    /// ```
    pub fn arrive_and_drop(&self) {
        let mut n = self.n.load(Relaxed);
        loop {
            if n & N_MASK == 0 {
                return;
            }
            // Relaxed: the read-modify-write of the state word below
            // publishes the new count.
            match self.n.compare_exchange_weak(n, n - 1, Relaxed, Relaxed) {
                Ok(_) => break,
                Err(seen) => n = seen,
            }
        }
        // The other half of the pairing with the arrivals (see "Leaving").
        // AcqRel: the Release half carries the new count to every arrival
        // whose compare-and-swap reads this value or a later one; the
        // Acquire half makes every earlier arrival visible to the check
        // below.
        let state = self.state.fetch_add(0, AcqRel);
        self.close_if_complete(state);
    }
}

/// `n` as stored: 0 becomes 1, and the limit is checked.
const fn threads_per_round(n: usize) -> u32 {
    assert!(
        n <= Barrier::MAX_THREADS,
        "Barrier::new: n is larger than Barrier::MAX_THREADS (32767)"
    );
    if n == 0 { 1 } else { n as u32 }
}

impl BarrierWaitResult {
    /// Whether this thread was the round's leader: exactly one thread per
    /// round is (the one whose arrival completed it).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};
    ///
    /// let barrier = weft_barrier::Barrier::new(4);
    /// let leaders = AtomicUsize::new(0);
    /// std::thread::scope(|s| {
    ///     for _ in 0..4 {
    ///         s.spawn(|| {
    ///             if barrier.wait().is_leader() {
    ///                 leaders.fetch_add(1, Relaxed);
    ///             }
    ///         });
    ///     }
    /// });
    /// assert_eq!(leaders.into_inner(), 1);
    /// ```
    #[inline]
    #[must_use]
    pub fn is_leader(&self) -> bool {
        self.is_leader
    }
}

/// Shows `n` and how many threads are waiting in the current round (a
/// snapshot that may be stale at once).
impl fmt::Debug for Barrier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = self.state.load(Relaxed);
        f.debug_struct("Barrier")
            .field("n", &(self.n.load(Relaxed) & N_MASK))
            .field("waiting", &(state & ARRIVED_MASK))
            .finish_non_exhaustive()
    }
}

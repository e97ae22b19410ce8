//! A reusable barrier on one futex word.
//!
//! # Implementation
//!
//! A barrier releases threads in *rounds*: each round, the first `n - 1`
//! threads to call [`wait`](Barrier::wait) block, and the `n`-th releases
//! them all and starts the next round. std builds this from a `Mutex`, a
//! `Condvar`, a count and a generation number; here the count and the
//! generation live in one `AtomicU32`, with a flag saying whether anybody
//! sleeps, and the kernel's futex queue on that word replaces the condition
//! variable:
//!
//! ```text
//!    31               16   15    14                 0
//!   ┌───────────────────┬──────┬────────────────────┐
//!   │    generation     │ SLEEP│      arrived       │
//!   └───────────────────┴──────┴────────────────────┘
//! ```
//!
//! - `arrived` (15 bits) counts the threads that have arrived in the current
//!   round. It is always below `n`: the arrival that would make it `n` starts
//!   the next round instead. That caps `n` at 2¹⁵ ([`Barrier::MAX_THREADS`]).
//! - `SLEEPERS` is set by a waiter before it sleeps in the kernel, so that
//!   the thread ending the round makes a system call only when somebody
//!   may be asleep.
//! - `generation` (16 bits, wrapping) numbers the rounds.
//!
//! **Arriving** is one compare-and-swap. A thread reads the word; if
//! `arrived + 1 < n` it swaps in `arrived + 1`, and the generation in the
//! value it replaced is *its round*. If `arrived + 1 == n` it is the last
//! arriver, the round's leader: it swaps in the next generation with
//! `arrived` zero and `SLEEPERS` clear, which resets the count, ends the
//! round and opens the next one in a single atomic step. If the word
//! changed in between, the swap fails and the thread decides again on the
//! new value.
//!
//! **Waiting.** A non-last arriver watches the word until its generation
//! changes. First it spins a little ([`SpinWait`]: a few pauses, then a few
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
//! **Ending a round.** If the value the leader replaced had `SLEEPERS` set,
//! it calls `futex_wake_all` on the word; otherwise everybody is still
//! spinning and sees the new generation by itself, and the round costs no
//! system call at all.
//!
//! **Why no wake-up is lost.** A waiter sleeps only if the word still holds
//! the exact value it read, with its own generation and `SLEEPERS` set, at
//! the moment the kernel queues it. The leader's swap changes the
//! generation, so if it comes before that moment the kernel refuses to sleep
//! and the waiter sees the new round; if it comes after, the swap replaced
//! a value with `SLEEPERS` set (nothing but the leader's swap clears it), so
//! the leader calls `wake_all` and finds the waiter queued. Setting the flag
//! cannot race with the leader either: the waiter's compare-and-swap expects
//! its own generation, so it fails if the round already ended.
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
//! `fetch_add` when it succeeds, and keeps the invariant `arrived < n`
//! true at every instant.
//!
//! **Timeouts.** [`wait_timeout`](Barrier::wait_timeout) is well defined
//! because an arrival can be *withdrawn*: a waiter whose deadline passed
//! swaps `arrived - 1` into the word, but only if the generation is still
//! its own. If the swap succeeds, the round has not ended and now lacks this
//! thread again, exactly as if it had never arrived; the round goes on
//! waiting for `n` threads. If the generation has changed, the round ended
//! with this thread counted in, and it returns as a normal waiter. The
//! withdrawal leaves `SLEEPERS` alone: other waiters may still sleep, and a
//! flag left set only costs the leader one `wake_all` too many.
//!
//! **Generation wrap-around.** The generation has 16 bits. A waiter that
//! misses the end of its round can only do so if, while it does not run,
//! 65 536 further rounds complete and leave the word exactly as it was.
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
//! in the same round. Each arrival is a `Release` read-modify-write; the
//! leader's swap is `AcqRel`. Because every change of the word is a
//! read-modify-write, the arrivals, the leader's swap and any later change
//! form one release sequence: the leader's `Acquire` reads the last
//! arrival's value and so synchronizes with every arrival of the round, and
//! a waiter's `Acquire` load that sees the new generation synchronizes with
//! the leader (and through it with all the arrivals). The compare-and-swaps
//! that set `SLEEPERS` or withdraw an arrival are `Relaxed` when they
//! succeed: they publish nothing, and being read-modify-writes they do not
//! break the release sequence. When they fail, the value they read may be
//! the new generation, which ends the wait, so their failure ordering is
//! `Acquire`, like the waiter's loads. The futex calls order nothing.

use core::fmt;
use std::sync::atomic::Ordering::{AcqRel, Acquire, Relaxed, Release};
use std::time::Duration;

use weft_futex::atomic::AtomicU32;
use weft_futex::{Deadline, SpinWait};

/// Bits 0..15: threads arrived in the current round, always below `n`.
const ARRIVED_MASK: u32 = (1 << 15) - 1;
/// Bit 15: a waiter may be asleep on the word; the leader must wake all.
const SLEEPERS: u32 = 1 << 15;
/// Bits 16..32: the round number, wrapping.
const GENERATION_MASK: u32 = !(ARRIVED_MASK | SLEEPERS);
/// One step of the generation.
const ONE_GENERATION: u32 = 1 << 16;

/// A reusable barrier: each round, `n` threads wait for each other, and
/// then all of them proceed together.
///
/// Every call to [`wait`](Self::wait) blocks until `n` threads (counting
/// the caller) have called it, then they all return, exactly one of them
/// with [`is_leader`](BarrierWaitResult::is_leader) `true`, and the barrier
/// is ready for the next round. `n` counts calls, not particular threads,
/// as in std: any thread may take part in any round.
///
/// It is eight bytes, never allocates, makes no system call in a round
/// where every thread arrives within a few microseconds of the first, and
/// otherwise sleeps in the kernel. See the [module documentation](self) for
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
    /// `generation | SLEEPERS? | arrived`; see the module documentation.
    state: AtomicU32,
    /// Threads per round, `1..=MAX_THREADS`. Never changes; an atomic only
    /// so that no byte of a `Barrier` is frozen behind `&self` (see
    /// "Dropping the barrier" in the module documentation).
    n: AtomicU32,
}

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
    /// The largest `n` a barrier accepts: the count of arrived threads has
    /// 15 bits of the word (see the module documentation).
    pub const MAX_THREADS: usize = ARRIVED_MASK as usize + 1;

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
            }
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

    /// Counts the calling thread into the current round; if it completes
    /// the round, starts the next one and wakes any sleepers.
    #[inline]
    fn arrive(&self) -> Arrival {
        // Taken now: after the leader's swap below, `self` is not touched
        // again (see "Dropping the barrier").
        let word: *const AtomicU32 = &self.state;
        // Relaxed: `n` is written only by `new`.
        let n = self.n.load(Relaxed);
        let mut state = self.state.load(Relaxed);
        loop {
            let arrived = state & ARRIVED_MASK;
            if arrived + 1 < n {
                // Join the round in progress.
                // Release: publishes this thread's pre-barrier writes to the
                // leader, whose AcqRel swap continues this release sequence.
                match self
                    .state
                    .compare_exchange_weak(state, state + 1, Release, Relaxed)
                {
                    Ok(_) => {
                        return Arrival::Waiter { joined: state + 1 };
                    }
                    Err(seen) => state = seen,
                }
            } else {
                // The last arrival: reset the count, clear SLEEPERS and
                // bump the generation, all in this one swap.
                let next = (state & GENERATION_MASK).wrapping_add(ONE_GENERATION);
                // AcqRel: the Acquire half reads the end of the release
                // sequence of this round's arrivals (so the leader sees
                // their writes); the Release half pairs with the Acquire
                // load in `wait_for_generation_change`, publishing all of
                // them to the waiters.
                match self
                    .state
                    .compare_exchange_weak(state, next, AcqRel, Relaxed)
                {
                    Ok(_) => {
                        if state & SLEEPERS != 0 {
                            wake_all(word);
                        }
                        return Arrival::Leader;
                    }
                    Err(seen) => state = seen,
                }
            }
        }
    }

    /// Waits until the generation differs from the one in `joined` (the
    /// value this thread's arrival wrote): spins a little, then sleeps.
    /// Returns `false` only if `deadline` passed first (according to the
    /// futex).
    ///
    /// Not `#[cold]`: every thread but the leader comes here each round.
    fn wait_for_generation_change(&self, joined: u32, deadline: Deadline) -> bool {
        let generation = joined & GENERATION_MASK;
        let mut spin = SpinWait::new();
        // The last value we know of; the loop reads the word only when it
        // has a reason to (after a spin round, a failed swap or a sleep).
        let mut state = joined;
        // Every value that can end the loop comes from an Acquire read:
        // that pairs with the leader's AcqRel swap (or, through the release
        // sequence, with any later change of the word), so the round's
        // writes are visible once we see the new generation.
        while state & GENERATION_MASK == generation {
            if spin.spin() {
                state = self.state.load(Acquire);
                continue;
            }

            // Announce the sleep, unless another waiter already did. The
            // swap expects our generation, so it cannot land after the
            // leader's swap; if the word changed, decide again on the value
            // the failed swap read.
            let sleeping = state | SLEEPERS;
            if state != sleeping {
                // Relaxed on success: the flag publishes nothing. Acquire on
                // failure: the value read may show the new generation.
                if let Err(seen) = self
                    .state
                    .compare_exchange(state, sleeping, Relaxed, Acquire)
                {
                    state = seen;
                    continue;
                }
            }

            // Sleep while the word still says "this round, SLEEPERS set";
            // the leader's swap changes it and is followed by `wake_all`.
            if !weft_futex::wait_until(&self.state, sleeping, deadline) {
                return false;
            }
            state = self.state.load(Acquire);
        }
        true
    }

    /// The deadline passed: take back this thread's arrival if its round is
    /// still open, or else return as a normal waiter of the completed round.
    #[cold]
    fn withdraw(&self, generation: u32) -> Option<BarrierWaitResult> {
        // Acquire (here and on failure below): as in
        // `wait_for_generation_change`, for the case where the value read
        // shows that the round completed.
        let mut state = self.state.load(Acquire);
        loop {
            if state & GENERATION_MASK != generation {
                // The round completed with us counted in: we are one of its
                // waiters.
                return Some(BarrierWaitResult { is_leader: false });
            }
            // Our own arrival is counted in this generation, so `arrived`
            // is at least 1 and the subtraction stays inside its bits.
            debug_assert!(state & ARRIVED_MASK >= 1);
            // Relaxed on success: withdrawing publishes nothing.
            match self
                .state
                .compare_exchange_weak(state, state - 1, Relaxed, Acquire)
            {
                Ok(_) => return None,
                Err(seen) => state = seen,
            }
        }
    }
}

/// Where an arrival left the calling thread.
enum Arrival {
    /// It completed the round (and has already woken any sleepers).
    Leader,
    /// It joined a round that is still open; `joined` is the value its
    /// arrival wrote, whose generation bits number that round.
    Waiter { joined: u32 },
}

/// `n` as stored: 0 becomes 1, and the limit is checked.
const fn threads_per_round(n: usize) -> u32 {
    assert!(
        n <= Barrier::MAX_THREADS,
        "Barrier::new: n is larger than Barrier::MAX_THREADS (32768)"
    );
    if n == 0 { 1 } else { n as u32 }
}

/// Wakes every thread asleep on the barrier's word.
///
/// `word` may dangle: the leader calls this after the swap that ends the
/// round, and from that instant the other threads may return and free the
/// barrier.
#[cold]
fn wake_all(word: *const AtomicU32) {
    // No `unsafe` is needed, but this is where the barrier may already be
    // freed: `weft_futex::wake_all` only uses the address as a key. Why that
    // and the rest of the leader's path are sound is "Dropping the barrier"
    // in the module documentation.
    weft_futex::wake_all(word);
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
            .field("n", &self.n.load(Relaxed))
            .field("waiting", &(state & ARRIVED_MASK))
            .finish_non_exhaustive()
    }
}

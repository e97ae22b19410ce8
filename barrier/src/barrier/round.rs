//! How a round runs: arriving, waiting, ending a round (with its
//! completion step), leaving and withdrawing. The protocol, why no wake-up
//! is lost and the memory orderings are in the `barrier` module's
//! documentation; the public methods that call these are there too.

use std::panic::{self, AssertUnwindSafe};
use std::sync::atomic::Ordering::{AcqRel, Acquire, Relaxed, Release};

use weft_futex::atomic::AtomicU32;
use weft_futex::{Deadline, SpinWait};

use super::{
    ARRIVED_MASK, Barrier, BarrierWaitResult, CLOSING, GENERATION_MASK, HAS_COMPLETION, N_MASK,
    ONE_GENERATION, SLEEPERS,
};

impl Barrier {
    /// The threads each round waits for now: `n`, or one once every thread
    /// has left.
    #[inline]
    fn threads(&self) -> u32 {
        // Relaxed: `n` changes only in `arrive_and_drop`, whose
        // read-modify-write of the state word orders it (see "Leaving").
        (self.n.load(Relaxed) & N_MASK).max(1)
    }

    /// Whether the barrier has a completion step; fixed at creation.
    #[inline]
    fn has_completion(&self) -> bool {
        self.n.load(Relaxed) & HAS_COMPLETION != 0
    }

    /// Counts the calling thread into the current round; if it completes
    /// the round, ends it (running the completion step) and wakes any
    /// sleepers.
    #[inline]
    pub(super) fn arrive(&self) -> Arrival {
        let mut state = self.state.load(Relaxed);
        loop {
            if state & CLOSING != 0 {
                // The round is full and closing without us: we belong to
                // the next one.
                state = self.wait_for_next_round(state);
                continue;
            }
            let n = self.threads();
            let arrived = state & ARRIVED_MASK;
            if arrived + 1 < n {
                // Join the round in progress.
                // AcqRel: the Release half publishes this thread's
                // pre-barrier writes to whoever ends the round, whose
                // Acquire read-modify-write continues this release
                // sequence; the Acquire half pairs with `arrive_and_drop`
                // (see "Leaving").
                match self
                    .state
                    .compare_exchange_weak(state, state + 1, AcqRel, Relaxed)
                {
                    Ok(_) => {
                        let joined = state + 1;
                        // A thread that left after `n` was read may have made
                        // this arrival the last one the round needs.
                        if arrived + 1 >= self.threads() && self.close_if_complete(joined) {
                            return Arrival::Leader;
                        }
                        return Arrival::Waiter { joined };
                    }
                    Err(seen) => state = seen,
                }
            } else if arrived < n {
                // The last arrival: it ends the round, counting itself in.
                match self.end_round(state, 1) {
                    Ok(()) => return Arrival::Leader,
                    Err(seen) => state = seen,
                }
            } else {
                // Full without us, and not closing: threads left until the
                // arrived ones were all the round needs, and the one that
                // left last has not ended it yet. End it for them (that
                // round has no leader), then join the next.
                match self.end_round(state, 0) {
                    Ok(()) => state = self.state.load(Relaxed),
                    Err(seen) => state = seen,
                }
            }
        }
    }

    /// Ends the round whose word reads `state` if it is complete: every
    /// thread it waits for has arrived. Returns whether this call ended it.
    /// Called after a thread left, and by an arrival that finds a thread
    /// left since it read `n`.
    pub(super) fn close_if_complete(&self, mut state: u32) -> bool {
        let generation = state & GENERATION_MASK;
        loop {
            if state & GENERATION_MASK != generation
                || state & CLOSING != 0
                || state & ARRIVED_MASK < self.threads()
            {
                return false;
            }
            match self.end_round(state, 0) {
                Ok(()) => return true,
                Err(seen) => state = seen,
            }
        }
    }

    /// Ends the round if the word still reads `state`, `arrived` counting
    /// the calling thread too when `arrives` is 1; otherwise returns what
    /// the word holds. The caller has checked that the round is complete.
    ///
    /// Without a completion step, one compare-and-swap starts the next
    /// round: the count reset, `SLEEPERS` cleared and the generation bumped
    /// in one step. With one, the compare-and-swap sets `CLOSING` instead,
    /// the step runs, and a swap starts the next round.
    #[inline]
    fn end_round(&self, state: u32, arrives: u32) -> Result<(), u32> {
        // Taken now: once the next round has started, `self` is not
        // touched again (see "Dropping the barrier").
        let word: *const AtomicU32 = &self.state;
        let next = (state & GENERATION_MASK).wrapping_add(ONE_GENERATION);
        if !self.has_completion() {
            // AcqRel: the Acquire half reads the end of the release sequence
            // of this round's arrivals (so this thread sees their writes);
            // the Release half pairs with the Acquire loads in
            // `wait_for_generation_change`, publishing all of them to the
            // waiters.
            self.state
                .compare_exchange_weak(state, next, AcqRel, Relaxed)?;
            if state & SLEEPERS != 0 {
                wake_all(word);
            }
            return Ok(());
        }

        // Acquire: as above, the arrivals' writes, which the completion
        // step may read. Nothing is released yet.
        self.state
            .compare_exchange_weak(state, (state + arrives) | CLOSING, Acquire, Relaxed)?;
        let outcome = self.completion.with_mut(|completion| {
            // SAFETY: this thread set `CLOSING`, which no other thread can
            // set until the swap below, so it alone touches the cell now.
            let completion = unsafe { &mut *completion };
            completion
                .as_mut()
                .map(|step| panic::catch_unwind(AssertUnwindSafe(step)))
        });
        // Release: pairs with the Acquire loads in
        // `wait_for_generation_change`, publishing the arrivals' writes
        // (acquired above) and the completion step's.
        let closed = self.state.swap(next, Release);
        if closed & SLEEPERS != 0 {
            wake_all(word);
        }
        if let Some(Err(payload)) = outcome {
            panic::resume_unwind(payload);
        }
        Ok(())
    }

    /// Waits, without a deadline, until the round whose word reads `state`
    /// has ended; returns the word as it then reads. For an arrival or a
    /// withdrawal that finds the round closing.
    #[cold]
    fn wait_for_next_round(&self, state: u32) -> u32 {
        let ended = self.wait_for_generation_change(state, Deadline::NEVER);
        debug_assert!(ended, "a wait without a deadline cannot time out");
        self.state.load(Acquire)
    }

    /// Waits until the generation differs from the one in `joined` (the
    /// value this thread's arrival wrote): spins a little, then sleeps.
    /// Returns `false` only if `deadline` passed first (according to the
    /// futex).
    ///
    /// Not `#[cold]`: every thread but the leader comes here each round.
    pub(super) fn wait_for_generation_change(&self, joined: u32, deadline: Deadline) -> bool {
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
    pub(super) fn withdraw(&self, generation: u32) -> Option<BarrierWaitResult> {
        // Acquire (here and on failure below): as in
        // `wait_for_generation_change`, for the case where the value read
        // shows that the round completed.
        let mut state = self.state.load(Acquire);
        loop {
            if state & CLOSING != 0 && state & GENERATION_MASK == generation {
                // Complete, with us counted in, and its completion step is
                // running: too late to withdraw. The round ends in a moment.
                state = self.wait_for_next_round(state);
            }
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
pub(super) enum Arrival {
    /// It completed the round (and has already woken any sleepers).
    Leader,
    /// It joined a round that is still open; `joined` is the value its
    /// arrival wrote, whose generation bits number that round.
    Waiter { joined: u32 },
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

//! The `barrier` workload: `weft_barrier::Barrier`.
//!
//! - **Rounds.** Three threads meet at a `Barrier::new(3)` round after
//!   round, pausing at random in between. Each counts itself into an
//!   atomic total of arrivals before `wait`; after its `r`-th `wait` the
//!   total divided by three must be exactly `r` (the round was not left
//!   early, and no thread is a round ahead). The leader of each round
//!   counts itself too: after round `r` the leaders number `r - 1` or `r`
//!   (that round's leader may not have counted yet), and exactly the rounds
//!   at the end. Every other round's leader decides whether the run goes
//!   on, so all three stop after the same round.
//! - **Timeouts.** Three threads share a `Barrier::new(2)`, calling only
//!   `wait_timeout` with random timeouts. A timed-out call withdraws its
//!   arrival, as if it had never come, so every completed round holds
//!   exactly two threads that got `Some`, one of them the leader: at the
//!   end, the `Some`s must number twice the leaders.

use std::sync::atomic::Ordering::Relaxed;
use std::sync::atomic::{AtomicBool, AtomicU64};
use std::thread;

use weft_barrier::Barrier;

use super::{Ctx, Op};

/// Threads of the rounds barrier, and its `n`.
const ROUND_THREADS: u64 = 3;

/// What the threads of the rounds barrier share.
struct Rounds {
    barrier: Barrier,
    /// Arrivals so far, counted just before each `wait`.
    arrived: AtomicU64,
    /// Leaders so far, counted just after `wait`.
    leaders: AtomicU64,
    /// Whether to go on, written by the leader of every odd round and read
    /// after the next.
    go_on: AtomicBool,
}

pub(super) fn run(ctx: &mut Ctx<'_>) {
    let soak = ctx.soak;
    let rounds = Rounds {
        barrier: Barrier::new(ROUND_THREADS as usize),
        arrived: AtomicU64::new(0),
        leaders: AtomicU64::new(0),
        go_on: AtomicBool::new(true),
    };
    let timed = Barrier::new(2);
    let (completed, timed_leaders) = (AtomicU64::new(0), AtomicU64::new(0));
    let done: Vec<u64> = thread::scope(|s| {
        let round_threads: Vec<_> = (0..ROUND_THREADS)
            .map(|i| soak.spawn(s, format!("barrier-rounds-{i}"), |ctx| meet(ctx, &rounds)))
            .collect();
        for i in 0..3 {
            soak.spawn(s, format!("barrier-timeout-{i}"), |ctx| {
                while ctx.running() {
                    let timeout = ctx.timeout();
                    let result = ctx.track_timeout(
                        Op::BarrierWaitTimeout,
                        timeout,
                        || timed.wait_timeout(timeout),
                        Option::is_none,
                    );
                    if let Some(result) = result {
                        completed.fetch_add(1, Relaxed);
                        if result.is_leader() {
                            timed_leaders.fetch_add(1, Relaxed);
                        }
                    }
                    ctx.pause();
                }
            });
        }
        round_threads
            .into_iter()
            .filter_map(|t| t.join().ok().flatten())
            .collect()
    });

    let leaders = rounds.leaders.load(Relaxed);
    if let Some(&round) = done.iter().find(|&&r| r != leaders) {
        soak.broken(format!(
            "{leaders} barrier leaders in {round} rounds (the rounds of each thread: {done:?})"
        ));
    }
    let (completed, timed_leaders) = (completed.into_inner(), timed_leaders.into_inner());
    if completed != 2 * timed_leaders {
        soak.broken(format!(
            "a Barrier::new(2) under wait_timeout let {completed} calls through in {timed_leaders} rounds"
        ));
    }
}

/// A thread of the rounds barrier: meets the others two rounds at a time
/// until a leader says to stop, and returns the rounds it took part in.
fn meet(ctx: &mut Ctx<'_>, rounds: &Rounds) -> u64 {
    let mut round = 0;
    loop {
        for _ in 0..2 {
            ctx.pause();
            // Relaxed, here and below: the barrier orders one round's
            // counts before the next round's.
            rounds.arrived.fetch_add(1, Relaxed);
            let result = ctx.track(Op::BarrierWait, || rounds.barrier.wait());
            round += 1;
            let arrived = rounds.arrived.load(Relaxed);
            if arrived / ROUND_THREADS != round {
                ctx.soak.broken(format!(
                    "{arrived} arrivals at a Barrier::new({ROUND_THREADS}) seen after round {round}"
                ));
            }
            let leaders = rounds.leaders.load(Relaxed);
            if leaders + 1 < round || leaders > round {
                ctx.soak.broken(format!(
                    "{leaders} barrier leaders seen after round {round}"
                ));
            }
            if result.is_leader() {
                rounds.leaders.fetch_add(1, Relaxed);
                if round % 2 == 1 {
                    rounds.go_on.store(ctx.running(), Relaxed);
                }
            }
        }
        // Written in the previous round, which every thread has finished.
        if !rounds.go_on.load(Relaxed) {
            return round;
        }
    }
}

//! Loom models of `weft_barrier::Barrier`: exactly one leader per round,
//! over two rounds so that the reuse of the word by the next generation is
//! explored; writes before `wait` visible after it (loom checks every
//! access to the cells); no lost wake-up (a waiter that is never woken
//! deadlocks the model); and `wait_timeout` withdrawing an arrival without
//! breaking the round.
#![cfg(loom)]

use std::time::Duration;

use weft_barrier::Barrier;
use weft_futex::UnsafeCell;
use weft_futex::loom::{self, sync::Arc, thread};

/// What the threads of a model share: the barrier, and per round a cell
/// per thread, written before that round's `wait` and read by everybody
/// after it.
struct Shared {
    barrier: Barrier,
    cells: [Vec<UnsafeCell<usize>>; 2],
}

/// `threads` threads (the model's main thread among them) pass a barrier
/// for `threads` twice, under `builder`. Each thread returns whether it led
/// each round, so that counting leaders adds no atomics to the model.
fn two_rounds(builder: loom::model::Builder, threads: usize) {
    builder.check(move || {
        let shared = Arc::new(Shared {
            barrier: Barrier::new(threads),
            cells: [0, 1].map(|_| (0..threads).map(|_| UnsafeCell::new(0)).collect()),
        });
        let run = move |shared: Arc<Shared>, me: usize| {
            let mut led = [false; 2];
            for (round, led) in led.iter_mut().enumerate() {
                // SAFETY: only thread `me` writes this cell, and nobody
                // reads it before this round's `wait`, which loom checks.
                shared.cells[round][me].with_mut(|p| unsafe { *p = me + 1 });
                *led = shared.barrier.wait().is_leader();
                for (other, cell) in shared.cells[round].iter().enumerate() {
                    // SAFETY: the write came before its writer's `wait`;
                    // loom reports the read as a race if the barrier does
                    // not order the two.
                    let value = cell.with(|p| unsafe { *p });
                    assert_eq!(value, other + 1, "a write before the barrier is missing");
                }
            }
            led
        };
        let handles: Vec<_> = (1..threads)
            .map(|me| {
                let shared = shared.clone();
                thread::spawn(move || run(shared, me))
            })
            .collect();
        let mut led = vec![run(shared, 0)];
        led.extend(handles.into_iter().map(|h| h.join().unwrap()));
        for round in 0..2 {
            let leaders = led.iter().filter(|l| l[round]).count();
            assert_eq!(leaders, 1, "round {round}: exactly one leader");
        }
    });
}

#[test]
fn two_threads_pass_two_rounds() {
    two_rounds(loom::model::Builder::new(), 2);
}

/// Three threads over two rounds, with at most two preemptions whatever
/// `LOOM_MAX_PREEMPTIONS` says: every waiter sleeps on the futex model
/// (loom disables spinning), and with three preemptions the model has
/// about ten times the ~56 000 schedules it has with two, which takes
/// minutes instead of seconds. Two preemptions already cover a late thread
/// of round 1 arriving while the round-2 arrival of another thread races
/// the sleepers' wake-up; `two_threads_two_rounds` runs at the full bound.
#[test]
fn three_threads_pass_two_rounds() {
    let mut builder = loom::model::Builder::new();
    builder.preemption_bound = Some(builder.preemption_bound.map_or(2, |bound| bound.min(2)));
    two_rounds(builder, 3);
}

/// Each thread drops its handle as soon as its `wait` returns, so the
/// barrier is freed by whichever thread leaves last, possibly while the
/// leader is between its swap and its wake.
#[test]
fn dropped_right_after_the_last_wait() {
    loom::model(|| {
        let barrier = Arc::new(Barrier::new(2));
        let other = {
            let barrier = barrier.clone();
            thread::spawn(move || {
                let leader = barrier.wait().is_leader();
                drop(barrier);
                leader
            })
        };
        let leader = barrier.wait().is_leader();
        drop(barrier);
        assert!(leader ^ other.join().unwrap(), "exactly one leader");
    });
}

/// A `wait_timeout` races a `wait`: the timed waiter may time out (the
/// model's futex may time out at any point) and withdraw, then arrives
/// again with `wait`; or the round completes with it. Either way the round
/// has exactly one leader, and a second round with plain waits completes
/// (the withdrawal left the count right).
#[test]
fn wait_timeout_races_wait() {
    loom::model(|| {
        let barrier = Arc::new(Barrier::new(2));
        let timed = {
            let barrier = barrier.clone();
            thread::spawn(move || {
                let first = match barrier.wait_timeout(Duration::from_secs(3600)) {
                    Some(result) => result,
                    None => barrier.wait(),
                };
                let second = barrier.wait();
                (first.is_leader(), second.is_leader())
            })
        };
        let first = barrier.wait().is_leader();
        let second = barrier.wait().is_leader();
        let (timed_first, timed_second) = timed.join().unwrap();
        assert!(first ^ timed_first, "round 1: exactly one leader");
        assert!(second ^ timed_second, "round 2: exactly one leader");
    });
}

/// Two `wait_timeout`s race each other; a thread that times out falls
/// back to `wait`. However the calls pair up (a withdrawn arrival's thread
/// may complete the round with the other's still-pending timed call), each
/// thread passes exactly one round-1 call and the round has one leader;
/// then a plain round completes, so the withdrawals left the count right.
#[test]
fn two_wait_timeouts_race() {
    loom::model(|| {
        let barrier = Arc::new(Barrier::new(2));
        let run = |barrier: &Barrier| {
            let first = barrier
                .wait_timeout(Duration::from_secs(3600))
                .unwrap_or_else(|| barrier.wait());
            (first.is_leader(), barrier.wait().is_leader())
        };
        let other = {
            let barrier = barrier.clone();
            thread::spawn(move || run(&barrier))
        };
        let (first, second) = run(&barrier);
        let (their_first, their_second) = other.join().unwrap();
        assert!(first ^ their_first, "round 1: exactly one leader");
        assert!(second ^ their_second, "round 2: exactly one leader");
    });
}

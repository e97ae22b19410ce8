//! The races of `loom_barrier.rs` in which a `wait_timeout`'s timeout races
//! the arrival that completes the round, run with real threads, round after
//! round (`weft_testkit::races` says how the rounds vary).
#![cfg(not(loom))]

use std::thread;
use std::time::Duration;

use weft_barrier::Barrier;
use weft_testkit::races::{SHORT, pause, rounds, timeout};

/// How one thread passed the two barrier rounds of a scenario.
#[derive(Debug)]
struct Passage {
    /// Whether its `wait_timeout` timed out and withdrew (it then arrived
    /// again with `wait`).
    withdrew: bool,
    /// Whether it led each round.
    led: [bool; 2],
}

/// A `wait_timeout` on a barrier for two races a `wait`: the timed thread
/// completes the round, or times out, withdraws, and arrives again with
/// `wait` (never, with a timeout that does not expire). Either way the
/// round has exactly one leader, and a second round of plain waits
/// completes with exactly one, so the withdrawal left the count right.
#[test]
fn wait_timeout_races_wait() {
    rounds("wait_timeout_races_wait", |round| {
        let barrier = Barrier::new(2);
        let timeout = timeout(round);
        let (timed, plain) = thread::scope(|t| {
            let timed = t.spawn(|| pass(&barrier, Some(timeout)));
            pause(round);
            let plain = pass(&barrier, None);
            (timed.join().unwrap(), plain)
        });
        assert!(
            !timed.withdrew || timeout == SHORT,
            "round {round}: timed out on {timeout:?}"
        );
        check_leaders(round, &timed, &plain);
    });
}

/// Two `wait_timeout`s race each other, one thread arriving late in some
/// rounds; a thread that times out falls back to `wait`. However the calls
/// pair up, each round has exactly one leader, and with timeouts that do
/// not expire neither thread withdraws.
#[test]
fn two_wait_timeouts_race() {
    rounds("two_wait_timeouts_race", |round| {
        let barrier = Barrier::new(2);
        let timeout = timeout(round);
        let (early, late) = thread::scope(|t| {
            let early = t.spawn(|| pass(&barrier, Some(timeout)));
            pause(round);
            let late = pass(&barrier, Some(timeout));
            (early.join().unwrap(), late)
        });
        for passage in [&early, &late] {
            assert!(
                !passage.withdrew || timeout == SHORT,
                "round {round}: timed out on {timeout:?}"
            );
        }
        check_leaders(round, &early, &late);
    });
}

/// Passes `barrier` twice: first with `wait_timeout(timeout)`, falling back
/// to `wait` if it times out, or with `wait` if `timeout` is `None`; then
/// with `wait`.
fn pass(barrier: &Barrier, timeout: Option<Duration>) -> Passage {
    let (first, withdrew) = match timeout {
        Some(timeout) => match barrier.wait_timeout(timeout) {
            Some(result) => (result, false),
            None => (barrier.wait(), true),
        },
        None => (barrier.wait(), false),
    };
    let second = barrier.wait();
    Passage {
        withdrew,
        led: [first.is_leader(), second.is_leader()],
    }
}

/// Exactly one of the two threads led each barrier round.
fn check_leaders(round: usize, a: &Passage, b: &Passage) {
    for i in 0..2 {
        assert!(
            a.led[i] ^ b.led[i],
            "round {round}, barrier round {}: not exactly one leader: {a:?}, {b:?}",
            i + 1
        );
    }
}

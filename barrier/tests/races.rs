//! The races of `loom_barrier.rs` in which a `wait_timeout`'s timeout races
//! the arrival that completes the round, run with real threads. Each
//! scenario runs for [`ROUNDS`] rounds: in some one thread pauses before it
//! arrives, so that the other is asleep by then, and in the others the two
//! start together; in some the timeout is short enough to race the arrival,
//! and in the others it never expires. Under Miri (run with many seeds) the
//! rounds also explore weak-memory outcomes that loom does not model.
#![cfg(not(loom))]

use std::panic::resume_unwind;
use std::sync::mpsc;
use std::thread;
use std::time::Duration;

use weft_barrier::Barrier;

/// Rounds per scenario.
const ROUNDS: usize = if cfg!(miri) { 4 } else { 200 };

/// How long the late thread pauses, in the rounds where it does, before it
/// arrives: long enough for the other to go to sleep.
const PAUSE: Duration = Duration::from_millis(1);

/// The short timeout of a `wait_timeout`: about the pause, so that the
/// timeout and the late arrival race.
const SHORT: Duration = Duration::from_millis(1);

/// A timeout that never expires within a test (it outlasts [`DEADLINE`]):
/// only the other thread's arrival can end the wait.
const NEVER: Duration = Duration::from_secs(24 * 3600);

/// How long a round may run before it counts as hung. Under Miri the clock
/// is virtual, ticking with each step interpreted, so there the deadline is
/// far longer: it catches a deadlock, where Miri skips ahead to the earliest
/// timeout, and nothing slow.
const DEADLINE: Duration = Duration::from_secs(if cfg!(miri) { 3600 } else { 60 });

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

/// Runs `scenario(round)` for every round, each on a thread of its own;
/// fails, naming the scenario and the round, if one has not finished by
/// [`DEADLINE`] (a waiter was never woken).
fn rounds(name: &str, scenario: fn(usize)) {
    for round in 0..ROUNDS {
        let (done, finished) = mpsc::channel::<()>();
        let runner = thread::spawn(move || {
            // `done` drops when the round ends, however it ends.
            let _done = done;
            scenario(round);
        });
        if let Err(mpsc::RecvTimeoutError::Timeout) = finished.recv_timeout(DEADLINE) {
            panic!("{name}, round {round}: not finished after {DEADLINE:?}; a thread is stuck");
        }
        if let Err(panic) = runner.join() {
            resume_unwind(panic);
        }
    }
}

/// In odd rounds the late thread pauses before it arrives, so that the
/// other is asleep by then; in even rounds the two race from the start.
fn pause(round: usize) {
    if round % 2 == 1 {
        thread::sleep(PAUSE);
    }
}

/// The timeout of a `wait_timeout`: [`SHORT`] in the first two rounds of
/// every four (with and without the pause), [`NEVER`] in the other two.
fn timeout(round: usize) -> Duration {
    if round % 4 < 2 { SHORT } else { NEVER }
}

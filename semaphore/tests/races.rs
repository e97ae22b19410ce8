//! The races of `loom_semaphore.rs` in which a timed acquirer's timeout
//! races a release, run with real threads. Each scenario runs for
//! [`ROUNDS`] rounds: in some the releasing side pauses first, so that the
//! acquirers are asleep when it acts, and in the others the two start
//! together; in some the timeout is short enough to race the release, and
//! in the others it never expires. Under Miri (run with many seeds) the
//! rounds also explore weak-memory outcomes that loom does not model.
#![cfg(not(loom))]

use std::panic::resume_unwind;
use std::sync::mpsc;
use std::thread;
use std::time::Duration;

use weft_semaphore::Semaphore;

/// Rounds per scenario.
const ROUNDS: usize = if cfg!(miri) { 4 } else { 200 };

/// How long the releasing side pauses, in the rounds where it does, before
/// it releases: long enough for the acquirers to go to sleep.
const PAUSE: Duration = Duration::from_millis(1);

/// The short timeout of a timed acquire: about the pause, so that the
/// timeout and the release race.
const SHORT: Duration = Duration::from_millis(1);

/// A timeout that never expires within a test (it outlasts [`DEADLINE`]):
/// only a release can end the wait.
const NEVER: Duration = Duration::from_secs(24 * 3600);

/// How long a round may run before it counts as hung. Under Miri the clock
/// is virtual, ticking with each step interpreted, so there the deadline is
/// far longer: it catches a deadlock, where Miri skips ahead to the earliest
/// timeout, and nothing slow.
const DEADLINE: Duration = Duration::from_secs(if cfg!(miri) { 3600 } else { 60 });

/// A timed acquirer against one release: it takes the permit or times out
/// (never, with a timeout that does not expire), and either way the permit
/// is accounted for exactly once: a waiter that timed out left it behind.
#[test]
fn try_acquire_for_races_release() {
    rounds("try_acquire_for_races_release", |round| {
        let s = Semaphore::new(0);
        let timeout = timeout(round);
        let took = thread::scope(|t| {
            let timed = t.spawn(|| s.try_acquire_for(timeout));
            pause(round);
            s.release();
            timed.join().unwrap()
        });
        assert!(
            took || timeout == SHORT,
            "round {round}: timed out on {timeout:?}"
        );
        assert_eq!(s.available_permits(), if took { 0 } else { 1 });
    });
}

/// A timed acquirer and a blocking acquirer share two releases: whichever
/// the first permit goes to (and whether or not the timed one gives up),
/// the blocking one ends, and every permit is accounted for once.
#[test]
fn try_acquire_for_and_acquire_share_releases() {
    rounds("try_acquire_for_and_acquire_share_releases", |round| {
        let s = Semaphore::new(0);
        let timeout = timeout(round);
        let took = thread::scope(|t| {
            let timed = t.spawn(|| s.try_acquire_for(timeout));
            let blocking = t.spawn(|| s.acquire());
            pause(round);
            s.release();
            s.release();
            blocking.join().unwrap();
            timed.join().unwrap()
        });
        assert!(
            took || timeout == SHORT,
            "round {round}: timed out on {timeout:?}"
        );
        assert_eq!(s.available_permits(), if took { 0 } else { 1 });
    });
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

/// In odd rounds the releasing side pauses before it acts, so that the
/// acquirers are asleep by then; in even rounds they race from the start.
fn pause(round: usize) {
    if round % 2 == 1 {
        thread::sleep(PAUSE);
    }
}

/// The timeout of a timed acquire: [`SHORT`] in the first two rounds of
/// every four (with and without the pause), [`NEVER`] in the other two.
fn timeout(round: usize) -> Duration {
    if round % 4 < 2 { SHORT } else { NEVER }
}

//! The scaffolding of the `tests/races.rs` files: one race run for many
//! rounds on real threads, with the timing varied from round to round.
//!
//! Each of those files takes races that a loom model checks (a timeout
//! against a wake, a close against a blocked thread) and runs them for
//! [`ROUNDS`] rounds: in odd rounds one side [`pause`]s first, so that the
//! other is asleep by the time it acts, in even rounds the two start
//! together; and a timed call gets the [`SHORT`] timeout, which races the
//! other side, in half the rounds, the [`NEVER`] one in the rest. Under
//! Miri (CI runs these files with many seeds) the rounds also explore
//! weak-memory outcomes that loom does not model.

use std::panic::resume_unwind;
use std::sync::mpsc::{self, RecvTimeoutError};
use std::thread;
use std::time::Duration;

/// Rounds per scenario.
pub const ROUNDS: usize = if cfg!(miri) { 4 } else { 200 };

/// How long one side pauses, in the rounds where it does, before it acts:
/// long enough for the other side to finish, or to go to sleep.
pub const PAUSE: Duration = Duration::from_millis(1);

/// The short timeout of a timed call: about [`PAUSE`], so that the timeout
/// and the other side's action race.
pub const SHORT: Duration = Duration::from_millis(1);

/// A timeout that never expires within a test (it outlasts [`DEADLINE`]):
/// only the other side can end the wait.
pub const NEVER: Duration = Duration::from_secs(24 * 3600);

/// How long a round may run before it counts as hung. Under Miri the clock
/// is virtual, ticking with each step interpreted, so there the deadline is
/// far longer: it catches a deadlock, where Miri skips ahead to the earliest
/// timeout, and nothing slow.
pub const DEADLINE: Duration = Duration::from_secs(if cfg!(miri) { 3600 } else { 60 });

/// Runs `scenario(round)` for every round, each on a thread of its own;
/// fails, naming the scenario and the round, if one has not finished by
/// [`DEADLINE`] (a waiter was never woken, or a thread never exited).
pub fn rounds(name: &str, scenario: fn(usize)) {
    for round in 0..ROUNDS {
        let (done, finished) = mpsc::channel::<()>();
        let runner = thread::spawn(move || {
            // `done` drops when the round ends, however it ends.
            let _done = done;
            scenario(round);
        });
        if finished.recv_timeout(DEADLINE) == Err(RecvTimeoutError::Timeout) {
            panic!("{name}, round {round}: not finished after {DEADLINE:?}; a thread is stuck");
        }
        if let Err(panic) = runner.join() {
            resume_unwind(panic);
        }
    }
}

/// In odd rounds, pauses for [`PAUSE`]; in even rounds returns at once.
pub fn pause(round: usize) {
    pause_if(round % 2 == 1);
}

/// Pauses for [`PAUSE`] if `yes`.
pub fn pause_if(yes: bool) {
    if yes {
        thread::sleep(PAUSE);
    }
}

/// The timeout of a timed call in `round`: [`SHORT`] in the first two
/// rounds of every four (with and without the pause), [`NEVER`] in the
/// other two.
#[must_use]
pub fn timeout(round: usize) -> Duration {
    if round % 4 < 2 { SHORT } else { NEVER }
}

//! The races of `loom_semaphore.rs` in which a timed acquirer's timeout
//! races a release, run with real threads, round after round
//! (`weft_testkit::races` says how the rounds vary).
#![cfg(not(loom))]

use std::thread;

use weft_semaphore::Semaphore;
use weft_testkit::races::{SHORT, pause, rounds, timeout};

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

//! Loom models of `weft_barrier::Latch`: writes before a count-down are
//! visible after the wait (loom checks every access to the cells); no lost
//! wake-up (a waiter that is never woken deadlocks the model); a timed
//! waiter racing the opener, with both outcomes explored; and
//! `count_down_by` racing `count_down`, so that the count's arithmetic
//! holds under every interleaving.
#![cfg(loom)]

use std::sync::atomic::AtomicBool;
use std::sync::atomic::Ordering::Relaxed;
use std::time::Duration;

use weft_barrier::Latch;
use weft_futex::UnsafeCell;
use weft_futex::loom::{self, sync::Arc, thread};

/// What the threads of a model share: the latch, and a cell per counting
/// thread, written before its count-down and read after the wait.
struct Shared {
    latch: Latch,
    cells: [UnsafeCell<usize>; 2],
}

impl Shared {
    fn new(count: usize) -> Arc<Self> {
        Arc::new(Self {
            latch: Latch::new(count),
            cells: [UnsafeCell::new(0), UnsafeCell::new(0)],
        })
    }

    /// Writes cell `i`, to be read once the latch is open.
    fn write(&self, i: usize) {
        // SAFETY: only one thread writes cell `i`, and nobody reads it
        // before the latch opens, which loom checks.
        self.cells[i].with_mut(|p| unsafe { *p = i + 1 });
    }

    /// Reads cell `i`, which must hold its writer's value.
    fn check(&self, i: usize) {
        // SAFETY: the write came before its writer's count-down; loom
        // reports the read as a race if the latch does not order the two.
        let value = self.cells[i].with(|p| unsafe { *p });
        assert_eq!(value, i + 1, "a write before the count-down is missing");
    }
}

/// Two threads each write a cell and count down; the model's main thread
/// waits and then reads both cells.
#[test]
fn a_waiter_sees_both_count_downs_writes() {
    loom::model(|| {
        let shared = Shared::new(2);
        let counters: Vec<_> = (0..2)
            .map(|i| {
                let shared = shared.clone();
                thread::spawn(move || {
                    shared.write(i);
                    shared.latch.count_down();
                })
            })
            .collect();
        shared.latch.wait();
        shared.check(0);
        shared.check(1);
        for counter in counters {
            counter.join().unwrap();
        }
    });
}

/// Two waiters, possibly both asleep, and one count-down: the opener's one
/// `wake_all` must reach both.
#[test]
fn one_opening_wakes_two_waiters() {
    loom::model(|| {
        let shared = Shared::new(1);
        let waiters: Vec<_> = (0..2)
            .map(|_| {
                let shared = shared.clone();
                thread::spawn(move || {
                    shared.latch.wait();
                    shared.check(0);
                })
            })
            .collect();
        shared.write(0);
        shared.latch.count_down();
        for waiter in waiters {
            waiter.join().unwrap();
        }
    });
}

/// A `wait_timeout` races the count-down that opens the latch. The model's
/// futex may time out at any point, so both outcomes happen: `true`, and
/// the opener's write is visible; or `false`, and a `wait` afterwards still
/// returns once the latch opens. Both are checked to have been explored.
#[test]
fn the_opener_races_a_timed_waiter() {
    static OPENED_IN_TIME: AtomicBool = AtomicBool::new(false);
    static TIMED_OUT: AtomicBool = AtomicBool::new(false);
    loom::model(|| {
        let shared = Shared::new(1);
        let opener = {
            let shared = shared.clone();
            thread::spawn(move || {
                shared.write(0);
                shared.latch.count_down();
            })
        };
        if shared.latch.wait_timeout(Duration::from_secs(3600)) {
            OPENED_IN_TIME.store(true, Relaxed);
        } else {
            TIMED_OUT.store(true, Relaxed);
            shared.latch.wait();
        }
        shared.check(0);
        opener.join().unwrap();
    });
    assert!(OPENED_IN_TIME.load(Relaxed), "no schedule opened in time");
    assert!(TIMED_OUT.load(Relaxed), "no schedule timed out");
}

/// `count_down_by(2)` and `count_down` race, and the model's main thread
/// counts down last with `arrive_and_wait`: whoever brings the count to
/// zero opens the latch, and the count is exact whatever the order (a lost
/// or double count would open it early, with a cell unwritten, or never).
#[test]
fn count_down_by_races_count_down() {
    loom::model(|| {
        let shared = Shared::new(4);
        let by_two = {
            let shared = shared.clone();
            thread::spawn(move || {
                shared.write(0);
                shared.latch.count_down_by(2);
            })
        };
        let by_one = {
            let shared = shared.clone();
            thread::spawn(move || {
                shared.write(1);
                shared.latch.count_down();
            })
        };
        shared.latch.arrive_and_wait();
        shared.check(0);
        shared.check(1);
        by_two.join().unwrap();
        by_one.join().unwrap();
        assert_eq!(format!("{:?}", shared.latch), "Latch { count: 0, .. }");
    });
}

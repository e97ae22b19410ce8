//! The futex layer against the real kernel (or Miri's model of it).
#![cfg(not(loom))]

use std::sync::atomic::Ordering::{Acquire, Release};
use std::thread;
use std::time::{Duration, Instant};

use weft_futex::atomic::AtomicU32;
use weft_futex::{Deadline, SpinWait};
use weft_testkit::Watchdog;

/// How long a test whose wake-up is lost may run before its [`Watchdog`]
/// fails it: far more than any of them needs, under Miri too.
const HANG: Duration = Duration::from_secs(120);

#[test]
fn wait_returns_at_once_when_value_differs() {
    let word = AtomicU32::new(1);
    weft_futex::wait(&word, 0);
    assert!(weft_futex::wait_timeout(
        &word,
        0,
        Duration::from_secs(3600)
    ));
}

#[test]
fn wake_one_wakes_a_sleeper() {
    let _watchdog = Watchdog::new("wake_one_wakes_a_sleeper", HANG);
    let word = AtomicU32::new(0);
    thread::scope(|s| {
        let waiter = s.spawn(|| {
            // Acquire: pairs with the Release store below.
            while word.load(Acquire) == 0 {
                weft_futex::wait(&word, 0);
            }
        });
        // Give the waiter time to fall asleep, so the wake is really needed.
        thread::sleep(Duration::from_millis(20));
        word.store(1, Release);
        weft_futex::wake_one(&word);
        waiter.join().unwrap();
    });
}

#[test]
fn wake_all_wakes_every_sleeper() {
    let _watchdog = Watchdog::new("wake_all_wakes_every_sleeper", HANG);
    let word = AtomicU32::new(0);
    thread::scope(|s| {
        for _ in 0..3 {
            s.spawn(|| {
                // Acquire: pairs with the Release store below.
                while word.load(Acquire) == 0 {
                    weft_futex::wait(&word, 0);
                }
            });
        }
        thread::sleep(Duration::from_millis(20));
        word.store(1, Release);
        weft_futex::wake_all(&word);
    });
}

#[test]
fn wake_without_sleepers_is_harmless() {
    let word = AtomicU32::new(0);
    weft_futex::wake_one(&word);
    weft_futex::wake_all(&word);
    assert!(!weft_futex::wait_timeout(&word, 0, Duration::ZERO));
}

#[test]
fn wait_timeout_times_out() {
    let word = AtomicU32::new(7);
    let start = Instant::now();
    let woken = weft_futex::wait_timeout(&word, 7, Duration::from_millis(30));
    assert!(!woken, "nobody woke the word, so the wait must time out");
    assert!(start.elapsed() >= Duration::from_millis(30));
}

/// Windows counts timeouts in milliseconds and macOS's older call in
/// microseconds: a timeout between two units must be rounded up, never down.
#[test]
fn a_timed_wait_nobody_wakes_never_ends_before_its_timeout() {
    let word = AtomicU32::new(7);
    for timeout in [
        Duration::from_nanos(1),
        Duration::from_nanos(1_500),
        Duration::from_micros(999),
        Duration::from_micros(1_500),
        Duration::from_millis(12),
    ] {
        let start = Instant::now();
        let woken = weft_futex::wait_timeout(&word, 7, timeout);
        let elapsed = start.elapsed();
        assert!(
            !woken,
            "nobody woke the word, yet a {timeout:?} wait said it was woken"
        );
        assert!(
            elapsed >= timeout,
            "a {timeout:?} wait timed out after {elapsed:?}"
        );
    }
}

#[test]
fn a_zero_timeout_only_compares() {
    let word = AtomicU32::new(7);
    assert!(!weft_futex::wait_timeout(&word, 7, Duration::ZERO));
    assert!(weft_futex::wait_timeout(&word, 8, Duration::ZERO));
}

#[test]
fn a_timed_wait_sleeps_instead_of_polling() {
    let word = AtomicU32::new(0);
    let timed_out = weft_testkit::assert_sleeps("a timed wait nobody wakes", || {
        !weft_futex::wait_timeout(&word, 0, weft_testkit::BLOCKED)
    });
    assert!(timed_out);
}

#[test]
fn wait_timeout_is_woken_before_deadline() {
    let _watchdog = Watchdog::new("wait_timeout_is_woken_before_deadline", HANG);
    let word = AtomicU32::new(0);
    thread::scope(|s| {
        let waiter = s.spawn(|| {
            // Acquire: pairs with the Release store below.
            while word.load(Acquire) == 0 {
                assert!(
                    weft_futex::wait_timeout(&word, 0, Duration::from_secs(3600)),
                    "the wait must end by the wake, not the hour-long deadline"
                );
            }
        });
        thread::sleep(Duration::from_millis(20));
        word.store(1, Release);
        weft_futex::wake_one(&word);
        waiter.join().unwrap();
    });
}

#[test]
fn huge_timeout_waits_without_deadline() {
    let _watchdog = Watchdog::new("huge_timeout_waits_without_deadline", HANG);
    let word = AtomicU32::new(0);
    thread::scope(|s| {
        s.spawn(|| {
            // Acquire: pairs with the Release store below.
            while word.load(Acquire) == 0 {
                assert!(weft_futex::wait_timeout(&word, 0, Duration::MAX));
            }
        });
        thread::sleep(Duration::from_millis(10));
        word.store(1, Release);
        weft_futex::wake_all(&word);
    });
}

/// Beyond what one kernel call can take (about 49 days on Windows, 71
/// minutes for macOS's older call) but within `Instant`'s range: the wait
/// is cut into several calls, and a wake still ends it.
#[test]
fn a_timeout_beyond_one_kernel_call_is_woken_like_any_other() {
    let _watchdog = Watchdog::new(
        "a_timeout_beyond_one_kernel_call_is_woken_like_any_other",
        HANG,
    );
    let word = AtomicU32::new(0);
    let timeout = Duration::from_secs(u64::from(u32::MAX));
    thread::scope(|s| {
        s.spawn(|| {
            // Acquire: pairs with the Release store below.
            while word.load(Acquire) == 0 {
                assert!(weft_futex::wait_timeout(&word, 0, timeout));
            }
        });
        thread::sleep(Duration::from_millis(10));
        word.store(1, Release);
        weft_futex::wake_one(&word);
    });
}

#[test]
fn spin_wait_has_a_bounded_budget() {
    let mut spin = SpinWait::new();
    let rounds = std::iter::from_fn(|| spin.spin().then_some(())).count();
    assert_eq!(rounds, 10, "4 pause rounds and 6 yields");
    assert!(!spin.spin(), "a spent budget stays spent");
    spin.reset();
    assert!(spin.spin());

    let mut spin = SpinWait::repeated(3);
    let rounds = std::iter::from_fn(|| spin.spin().then_some(())).count();
    assert_eq!(rounds, 30, "three schedules");
    spin.reset();
    let rounds = std::iter::from_fn(|| spin.spin().then_some(())).count();
    assert_eq!(
        rounds, 10,
        "a reset runs one schedule, not the used repeats"
    );
    let mut spin = SpinWait::repeated(0);
    assert_eq!(std::iter::from_fn(|| spin.spin().then_some(())).count(), 10);
}

#[test]
fn snooze_and_pause_never_give_up() {
    let mut spin = SpinWait::new();
    for _ in 0..100 {
        spin.snooze();
    }
    let mut spin = SpinWait::new();
    for _ in 0..100 {
        spin.pause();
    }
    spin.reset();
    spin.pause();
}

#[test]
fn a_deadline_counts_from_its_creation() {
    let deadline = Deadline::after(Duration::from_millis(20));
    assert!(!deadline.is_never());
    assert!(!deadline.has_passed());
    let left = deadline.remaining().unwrap();
    assert!(left <= Duration::from_millis(20) && left > Duration::ZERO);
    thread::sleep(Duration::from_millis(20));
    assert!(deadline.has_passed());
    assert_eq!(deadline.remaining(), Some(Duration::ZERO));
}

#[test]
fn an_unrepresentable_deadline_is_never() {
    let deadline = Deadline::after(Duration::MAX);
    assert_eq!(deadline, Deadline::NEVER);
    assert!(deadline.is_never() && !deadline.has_passed());
    assert_eq!(deadline.remaining(), None);
    assert_eq!(deadline.instant(), None);
    let at = Instant::now();
    assert_eq!(Deadline::at(at).instant(), Some(at));
}

#[test]
fn wait_until_a_passed_deadline_returns_false_without_sleeping() {
    let word = AtomicU32::new(7);
    let passed = Deadline::at(Instant::now());
    assert!(!weft_futex::wait_until(&word, 7, passed));
    // Even when the word differs: the deadline is checked first.
    assert!(!weft_futex::wait_until(&word, 8, passed));
}

#[test]
fn wait_until_times_out_no_earlier_than_its_deadline() {
    let word = AtomicU32::new(7);
    let deadline = Deadline::after(Duration::from_millis(15));
    while weft_futex::wait_until(&word, 7, deadline) {}
    assert!(Instant::now() >= deadline.instant().unwrap());
}

#[test]
fn wait_until_is_woken_before_its_deadline() {
    let _watchdog = Watchdog::new("wait_until_is_woken_before_its_deadline", HANG);
    let word = AtomicU32::new(0);
    thread::scope(|s| {
        s.spawn(|| {
            for deadline in [Deadline::NEVER, Deadline::after(Duration::from_secs(3600))] {
                // Acquire: pairs with the Release store below.
                while word.load(Acquire) == 0 {
                    assert!(weft_futex::wait_until(&word, 0, deadline));
                }
            }
        });
        thread::sleep(Duration::from_millis(10));
        word.store(1, Release);
        weft_futex::wake_one(&word);
    });
}

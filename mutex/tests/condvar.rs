//! Behaviour of `weft_mutex::Condvar`.
#![cfg(not(loom))]

use std::thread;
use std::time::{Duration, Instant};

use weft_mutex::{Condvar, Mutex};
use weft_testkit::iterations;

#[test]
fn notify_without_waiters_does_nothing() {
    let cv = Condvar::new();
    cv.notify_one();
    cv.notify_all();
    let m = Mutex::new(());
    let (_guard, timed_out) = cv.wait_timeout(m.lock(), Duration::from_millis(1));
    assert!(timed_out, "an earlier notification must not be remembered");
}

/// Two threads take turns for many rounds; a single lost notification
/// would hang the test.
#[test]
fn ping_pong_loses_no_notification() {
    let rounds = iterations(100_000, 200);
    // Whose turn it is: false = ping, true = pong.
    let turn = Mutex::new(false);
    let cv = Condvar::new();
    thread::scope(|s| {
        s.spawn(|| {
            for _ in 0..rounds {
                let mut guard = cv.wait_while(turn.lock(), |pong| !*pong);
                *guard = false;
                drop(guard);
                cv.notify_one();
            }
        });
        for _ in 0..rounds {
            let mut guard = cv.wait_while(turn.lock(), |pong| *pong);
            *guard = true;
            drop(guard);
            cv.notify_one();
        }
        drop(cv.wait_while(turn.lock(), |pong| *pong));
    });
}

#[test]
fn wait_timeout_times_out() {
    let m = Mutex::new(0);
    let cv = Condvar::new();
    let start = Instant::now();
    let (guard, timed_out) = cv.wait_timeout(m.lock(), Duration::from_millis(30));
    assert!(timed_out);
    assert!(start.elapsed() >= Duration::from_millis(30));
    assert_eq!(*guard, 0, "the guard comes back locked");
    assert!(m.is_locked());
}

#[test]
fn wait_timeout_is_notified() {
    let ready = Mutex::new(false);
    let cv = Condvar::new();
    thread::scope(|s| {
        let mut guard = ready.lock();
        s.spawn(|| {
            *ready.lock() = true;
            cv.notify_one();
        });
        while !*guard {
            let (g, timed_out) = cv.wait_timeout(guard, Duration::from_secs(3600));
            assert!(!timed_out, "the notification comes long before the hour");
            guard = g;
        }
    });
}

#[test]
fn wait_timeout_while_gives_up_with_condition_true() {
    let m = Mutex::new(0);
    let cv = Condvar::new();
    let (guard, timed_out) =
        cv.wait_timeout_while(m.lock(), Duration::from_millis(20), |n| *n == 0);
    assert!(timed_out);
    assert_eq!(*guard, 0);
    drop(guard);
    let (_, timed_out) = cv.wait_timeout_while(m.lock(), Duration::ZERO, |n| *n != 0);
    assert!(
        !timed_out,
        "a false condition returns at once, not as a timeout"
    );
}

#[test]
fn wait_while_checks_condition_first() {
    let m = Mutex::new(3);
    let cv = Condvar::new();
    let mut calls = 0;
    // Nobody ever notifies: this returns only because the check comes first.
    let guard = cv.wait_while(m.lock(), |n| {
        calls += 1;
        *n != 3
    });
    assert_eq!((*guard, calls), (3, 1));
}

#[test]
fn notify_all_wakes_every_waiter() {
    let threads = 4;
    let state = Mutex::new((false, 0));
    let cv = Condvar::new();
    thread::scope(|s| {
        for _ in 0..threads {
            s.spawn(|| {
                let mut guard = cv.wait_while(state.lock(), |(go, _)| !*go);
                guard.1 += 1;
            });
        }
        thread::sleep(Duration::from_millis(30));
        state.lock().0 = true;
        cv.notify_all();
    });
    assert_eq!(state.lock().1, threads);
}

/// Each notify_one releases at least one waiter: four notifications, with
/// the state changed before each, let four waiters through.
#[test]
fn notify_one_releases_waiters_one_by_one() {
    let threads = 4;
    let tickets = Mutex::new(0);
    let cv = Condvar::new();
    thread::scope(|s| {
        for _ in 0..threads {
            s.spawn(|| {
                let mut guard = cv.wait_while(tickets.lock(), |t| *t == 0);
                *guard -= 1;
            });
        }
        for _ in 0..threads {
            thread::sleep(Duration::from_millis(5));
            *tickets.lock() += 1;
            cv.notify_one();
        }
    });
    assert_eq!(*tickets.lock(), 0);
}

#[test]
#[cfg_attr(miri, ignore = "Miri cannot read a thread's CPU time")]
fn waiter_sleeps_instead_of_spinning() {
    let done = Mutex::new(false);
    let cv = Condvar::new();
    thread::scope(|s| {
        let waiter = s.spawn(|| {
            weft_testkit::assert_sleeps("a thread in Condvar::wait_while", || {
                drop(cv.wait_while(done.lock(), |d| !*d));
            });
        });
        thread::sleep(weft_testkit::BLOCKED);
        *done.lock() = true;
        cv.notify_one();
        waiter.join().unwrap();
    });
}

#[test]
fn works_with_several_mutexes() {
    let a = Mutex::new(());
    let b = Mutex::new(());
    let cv = Condvar::new();
    let (_ga, t) = cv.wait_timeout(a.lock(), Duration::from_millis(1));
    assert!(t);
    let (_gb, t) = cv.wait_timeout(b.lock(), Duration::from_millis(1));
    assert!(t);
}

//! Loom models of `weft_mutex::Condvar`: a notification that the waiter
//! needs is never lost, whether it is sent inside or after the critical
//! section.
#![cfg(loom)]

use std::time::Duration;

use weft_futex::loom::{self, sync::Arc, thread};
use weft_mutex::{Condvar, Mutex};

fn handoff(notify_inside_lock: bool) {
    loom::model(move || {
        let pair = Arc::new((Mutex::new(false), Condvar::new()));
        let notifier = {
            let pair = pair.clone();
            thread::spawn(move || {
                let (m, cv) = &*pair;
                let mut ready = m.lock();
                *ready = true;
                if notify_inside_lock {
                    cv.notify_one();
                    drop(ready);
                } else {
                    drop(ready);
                    cv.notify_one();
                }
            })
        };
        let (m, cv) = &*pair;
        let ready = cv.wait_while(m.lock(), |ready| !*ready);
        assert!(*ready);
        drop(ready);
        notifier.join().unwrap();
    });
}

#[test]
fn notify_one_inside_lock() {
    handoff(true);
}

#[test]
fn notify_one_after_unlock() {
    handoff(false);
}

/// Two waiters and one `notify_all`: both must wake.
#[test]
fn notify_all_two_waiters() {
    loom::model(|| {
        let pair = Arc::new((Mutex::new(false), Condvar::new()));
        let waiters: Vec<_> = (0..2)
            .map(|_| {
                let pair = pair.clone();
                thread::spawn(move || {
                    let (m, cv) = &*pair;
                    drop(cv.wait_while(m.lock(), |go| !*go));
                })
            })
            .collect();
        let (m, cv) = &*pair;
        *m.lock() = true;
        cv.notify_all();
        for w in waiters {
            w.join().unwrap();
        }
    });
}

/// Two waiters, two `notify_one`s, each after a state change that lets one
/// waiter through: both must wake.
#[test]
fn notify_one_twice_two_waiters() {
    loom::model(|| {
        let pair = Arc::new((Mutex::new(0u32), Condvar::new()));
        let waiters: Vec<_> = (0..2)
            .map(|_| {
                let pair = pair.clone();
                thread::spawn(move || {
                    let (m, cv) = &*pair;
                    let mut tickets = cv.wait_while(m.lock(), |t| *t == 0);
                    *tickets -= 1;
                })
            })
            .collect();
        let (m, cv) = &*pair;
        for _ in 0..2 {
            *m.lock() += 1;
            cv.notify_one();
        }
        for w in waiters {
            w.join().unwrap();
        }
        assert_eq!(*m.lock(), 0);
    });
}

/// A timed wait either sees the notification or times out, and returns the
/// guard locked either way.
#[test]
fn wait_timeout_or_notify() {
    loom::model(|| {
        let pair = Arc::new((Mutex::new(false), Condvar::new()));
        let notifier = {
            let pair = pair.clone();
            thread::spawn(move || {
                let (m, cv) = &*pair;
                *m.lock() = true;
                cv.notify_one();
            })
        };
        let (m, cv) = &*pair;
        let (guard, _timed_out) =
            cv.wait_timeout_while(m.lock(), Duration::from_secs(3600), |ready| !*ready);
        assert!(
            *guard,
            "an hour never passes inside a model, so only a spurious timeout may retry"
        );
        drop(guard);
        notifier.join().unwrap();
    });
}

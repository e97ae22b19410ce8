//! Loom models of `weft_mutex::Mutex`: mutual exclusion (checked by loom on
//! every access to the guarded cell) and no lost wake-up (a sleeper that
//! is never woken deadlocks the model).
#![cfg(loom)]

use std::time::Duration;

use weft_futex::loom::{self, sync::Arc, thread};
use weft_mutex::Mutex;

fn increment_from(threads: usize) {
    loom::model(move || {
        let counter = Arc::new(Mutex::new(0));
        let handles: Vec<_> = (0..threads)
            .map(|_| {
                let counter = counter.clone();
                thread::spawn(move || *counter.lock() += 1)
            })
            .collect();
        *counter.lock() += 1;
        for h in handles {
            h.join().unwrap();
        }
        assert_eq!(*counter.lock(), threads + 1);
    });
}

#[test]
fn two_threads_lose_no_increment() {
    increment_from(1);
}

#[test]
fn three_threads_lose_no_increment() {
    increment_from(2);
}

/// One thread holds the lock across two critical sections while others
/// block, so the CONTENDED state and the hand-off through a wake are
/// explored.
#[test]
fn a_held_lock_passes_to_a_sleeper_through_a_wake() {
    loom::model(|| {
        let m = Arc::new(Mutex::new(Vec::new()));
        let t = {
            let m = m.clone();
            thread::spawn(move || {
                m.lock().push(1);
                m.lock().push(2);
            })
        };
        m.lock().push(3);
        t.join().unwrap();
        let v = m.lock();
        assert_eq!(v.len(), 3);
        assert!(v.iter().position(|&x| x == 1) < v.iter().position(|&x| x == 2));
    });
}

/// `try_lock_for` may time out or win the lock, and must leave the mutex
/// usable (a timed-out waiter may leave it CONTENDED).
#[test]
fn try_lock_for_races_lock() {
    loom::model(|| {
        let m = Arc::new(Mutex::new(0));
        let t = {
            let m = m.clone();
            thread::spawn(move || {
                if let Some(mut g) = m.try_lock_for(Duration::from_secs(3600)) {
                    *g += 1;
                }
            })
        };
        *m.lock() += 1;
        t.join().unwrap();
        let n = *m.lock();
        assert!(n == 1 || n == 2);
    });
}

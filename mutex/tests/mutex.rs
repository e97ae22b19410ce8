//! Behaviour of `weft_mutex::Mutex`.
#![cfg(not(loom))]

use std::panic;
use std::thread;
use std::time::{Duration, Instant};

use weft_mutex::Mutex;

#[test]
fn lock_then_into_inner_sees_every_write() {
    let m = Mutex::new(1);
    *m.lock() += 1;
    assert_eq!(*m.lock(), 2);
    assert!(!m.is_locked());
    let g = m.lock();
    assert!(m.is_locked());
    drop(g);
    assert_eq!(m.into_inner(), 2);
}

#[test]
fn a_mutex_is_one_word_beside_its_value() {
    assert_eq!(size_of::<Mutex<()>>(), 4);
    assert_eq!(size_of::<Mutex<u32>>(), 8);
}

#[test]
fn a_mutex_of_send_data_is_sync() {
    fn check<T: ?Sized + Send + Sync>() {}
    check::<Mutex<u64>>();
    check::<Mutex<std::cell::Cell<u64>>>(); // Send is enough for Sync.
    check::<Mutex<[u8]>>();
}

/// No increment is lost with `threads` threads hammering one lock.
fn hammer(threads: usize) {
    let counter = Mutex::new(0u64);
    let made = weft_testkit::increment_under(threads, || counter.lock());
    assert_eq!(counter.into_inner(), made);
}

#[test]
fn two_threads_never_hold_it_at_once() {
    hammer(2);
}

#[test]
fn four_threads_never_hold_it_at_once() {
    hammer(4);
}

#[test]
fn eight_threads_never_hold_it_at_once() {
    hammer(8);
}

#[test]
fn try_lock_on_held_lock_fails() {
    let m = Mutex::new(());
    let held = m.lock();
    assert!(m.try_lock().is_none());
    thread::scope(|s| {
        s.spawn(|| assert!(m.try_lock().is_none()));
    });
    drop(held);
    assert!(m.try_lock().is_some());
}

#[test]
fn try_lock_for_zero_takes_a_free_lock() {
    let m = Mutex::new(5);
    assert_eq!(m.try_lock_for(Duration::ZERO).as_deref(), Some(&5));
}

#[test]
fn try_lock_for_times_out() {
    let m = Mutex::new(());
    let _held = m.lock();
    thread::scope(|s| {
        s.spawn(|| {
            let start = Instant::now();
            assert!(m.try_lock_for(Duration::from_millis(30)).is_none());
            assert!(start.elapsed() >= Duration::from_millis(30));
            assert!(m.try_lock_for(Duration::ZERO).is_none());
        });
    });
}

#[test]
fn try_lock_for_succeeds_when_released_in_time() {
    let m = Mutex::new(0);
    let held = m.lock();
    thread::scope(|s| {
        let waiter = s.spawn(|| {
            let mut guard = m
                .try_lock_for(Duration::from_secs(3600))
                .expect("the lock is released long before the hour is up");
            *guard += 1;
        });
        thread::sleep(Duration::from_millis(20));
        drop(held);
        waiter.join().unwrap();
    });
    assert_eq!(*m.lock(), 1);
}

/// Holds the lock while a second thread blocks on it, so the second thread
/// takes the futex sleep path (even under Miri), then releases it.
#[test]
fn sleeping_waiter_is_woken() {
    let m = Mutex::new(Vec::new());
    let mut held = m.lock();
    thread::scope(|s| {
        let waiter = s.spawn(|| m.lock().push("waiter"));
        // Long enough for the waiter to spin out and sleep.
        thread::sleep(Duration::from_millis(50));
        held.push("holder");
        drop(held);
        waiter.join().unwrap();
    });
    assert_eq!(*m.lock(), ["holder", "waiter"]);
}

#[test]
#[cfg_attr(miri, ignore = "Miri cannot read a thread's CPU time")]
fn waiter_sleeps_instead_of_spinning() {
    let m = Mutex::new(());
    let held = m.lock();
    thread::scope(|s| {
        let waiter = s.spawn(|| {
            weft_testkit::assert_sleeps("a thread in Mutex::lock", || {
                drop(m.lock());
            });
        });
        thread::sleep(weft_testkit::BLOCKED);
        drop(held);
        waiter.join().unwrap();
    });
}

#[test]
fn panic_while_locked_unlocks() {
    let m = Mutex::new(1);
    let result = thread::scope(|s| {
        s.spawn(|| {
            let mut guard = m.lock();
            *guard = 2;
            panic!("boom");
        })
        .join()
    });
    assert!(result.is_err());
    assert!(!m.is_locked(), "the unwinding guard must unlock");
    // No poisoning: the next lock succeeds and sees the write.
    assert_eq!(*m.lock(), 2);

    let caught = panic::catch_unwind(panic::AssertUnwindSafe(|| {
        let _guard = m.lock();
        panic!("again");
    }));
    assert!(caught.is_err());
    assert!(m.try_lock().is_some());
}

#[test]
fn debug_shows_value_or_placeholder_without_blocking() {
    let m = Mutex::new(7);
    assert_eq!(format!("{m:?}"), "Mutex { value: 7, .. }");
    let guard = m.lock();
    assert_eq!(format!("{m:?}"), "Mutex { value: <locked>, .. }");
    assert_eq!(format!("{guard:?}"), "7");
}

#[test]
fn default_from_get_mut_and_into_inner_agree() {
    let mut m: Mutex<Vec<u8>> = Mutex::default();
    m.get_mut().push(1);
    let from: Mutex<Vec<u8>> = Mutex::from(vec![1]);
    assert_eq!(m.into_inner(), from.into_inner());
}

#[test]
fn a_static_mutex_needs_no_initializer() {
    static COUNT: Mutex<u32> = Mutex::new(0);
    *COUNT.lock() += 1;
    assert_eq!(*COUNT.lock(), 1);
}

#[test]
fn a_mutex_may_hold_an_unsized_value() {
    let m: &Mutex<[u32]> = &Mutex::new([1, 2, 3]);
    m.lock()[1] = 5;
    assert_eq!(&*m.lock(), &[1, 5, 3]);
    let boxed: Box<Mutex<dyn std::fmt::Debug + Send>> = Box::new(Mutex::new(4));
    assert_eq!(format!("{:?}", &*boxed.lock()), "4");
}

//! Behaviour of `lock_api::Mutex<weft_mutex::RawMutex, T>`, the `lock_api`
//! feature.
#![cfg(all(feature = "lock_api", not(loom)))]

use std::any::TypeId;
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use lock_api::{RawMutex as _, RawMutexTimed as _};
use weft_mutex::RawMutex;

type Mutex<T> = lock_api::Mutex<RawMutex, T>;
type MutexGuard<'a, T> = lock_api::MutexGuard<'a, RawMutex, T>;

#[test]
fn a_raw_mutex_is_one_word() {
    assert_eq!(size_of::<RawMutex>(), 4);
    assert_eq!(size_of::<Mutex<()>>(), 4);
}

/// The read-modify-write of `tests/mutex.rs`, split by a yield now and
/// then: without exclusion, concurrent threads overwrite each other's
/// increments.
#[test]
fn four_threads_never_hold_it_at_once() {
    let counter: Mutex<u64> = Mutex::new(0);
    let made = weft_testkit::increment_under(4, || counter.lock());
    assert_eq!(counter.into_inner(), made);
}

#[test]
fn is_locked_tells_whether_the_lock_is_held() {
    let raw = RawMutex::INIT;
    assert!(!raw.is_locked());
    raw.lock();
    assert!(raw.is_locked());
    assert!(!raw.try_lock());
    // SAFETY: this thread took the lock just above.
    unsafe { raw.unlock() };
    assert!(!raw.is_locked());

    let m = Mutex::new(0);
    let guard = m.lock();
    assert!(m.is_locked());
    drop(guard);
    assert!(!m.is_locked());
}

#[test]
fn a_mapped_guard_reaches_one_field_and_unlocks_on_drop() {
    let m = Mutex::new((1, String::from("one")));
    let mut name = MutexGuard::map(m.lock(), |(_, name)| name);
    name.push_str(" and more");
    assert!(m.is_locked(), "the mapped guard holds the lock");
    drop(name);
    assert!(!m.is_locked());
    assert_eq!(m.lock().1, "one and more");
}

#[test]
fn an_arc_guard_outlives_the_handle_it_came_from() {
    let guard = {
        let m = Arc::new(Mutex::new(vec![1]));
        m.lock_arc()
    };
    let m = Arc::clone(lock_api::ArcMutexGuard::mutex(&guard));
    assert!(m.is_locked());
    assert!(m.try_lock().is_none());
    drop(guard);
    m.lock().push(2);
    assert_eq!(*m.lock(), [1, 2]);
}

#[test]
fn try_lock_for_zero_takes_a_free_lock() {
    let m = Mutex::new(5);
    assert_eq!(m.try_lock_for(Duration::ZERO).as_deref(), Some(&5));
    let raw = RawMutex::INIT;
    assert!(raw.try_lock_for(Duration::ZERO));
    assert!(raw.is_locked());
}

#[test]
fn try_lock_for_on_a_held_lock_times_out_no_earlier_than_the_timeout() {
    let m = Mutex::new(());
    let _held = m.lock();
    thread::scope(|s| {
        s.spawn(|| {
            let timeout = Duration::from_millis(30);
            let start = Instant::now();
            assert!(m.try_lock_for(timeout).is_none());
            assert!(start.elapsed() >= timeout);
        });
    });
}

#[test]
fn try_lock_until_a_past_instant_on_a_held_lock_fails_at_once() {
    let m = Mutex::new(());
    let _held = m.lock();
    thread::scope(|s| {
        s.spawn(|| {
            let past = Instant::now();
            thread::sleep(Duration::from_millis(1));
            let start = Instant::now();
            assert!(m.try_lock_until(past).is_none());
            assert!(m.try_lock_for(Duration::ZERO).is_none());
            // Neither waited: no sleep, and no spin with yields either.
            let took = start.elapsed();
            assert!(took < Duration::from_millis(50), "took {took:?}");
        });
    });
}

#[test]
fn try_lock_until_succeeds_when_released_in_time() {
    let m = Mutex::new(0);
    let held = m.lock();
    thread::scope(|s| {
        let waiter = s.spawn(|| {
            let deadline = Instant::now() + Duration::from_secs(3600);
            let mut guard = m
                .try_lock_until(deadline)
                .expect("the lock is released long before the hour is up");
            *guard += 1;
        });
        thread::sleep(Duration::from_millis(20));
        drop(held);
        waiter.join().unwrap();
    });
    assert_eq!(*m.lock(), 1);
}

#[test]
#[cfg_attr(miri, ignore = "Miri cannot read a thread's CPU time")]
fn a_blocked_lock_sleeps_instead_of_spinning() {
    let m = Mutex::new(());
    let held = m.lock();
    thread::scope(|s| {
        let waiter = s.spawn(|| {
            weft_testkit::assert_sleeps("a thread in lock_api::Mutex::lock", || {
                drop(m.lock());
            });
        });
        thread::sleep(weft_testkit::BLOCKED);
        drop(held);
        waiter.join().unwrap();
    });
}

#[test]
fn a_static_mutex_is_built_in_a_const() {
    static COUNT: Mutex<u32> = Mutex::const_new(RawMutex::INIT, 0);
    *COUNT.lock() += 1;
    assert_eq!(*COUNT.lock(), 1);
}

#[test]
fn a_mutex_of_send_data_is_sync_and_its_guards_are_not_send() {
    fn sync<T: ?Sized + Send + Sync>() {}
    sync::<Mutex<std::cell::Cell<u64>>>();
    // lock_api makes every guard `!Send` through this marker, as
    // `weft_mutex::MutexGuard` is.
    assert_eq!(
        TypeId::of::<<RawMutex as lock_api::RawMutex>::GuardMarker>(),
        TypeId::of::<lock_api::GuardNoSend>(),
    );
}

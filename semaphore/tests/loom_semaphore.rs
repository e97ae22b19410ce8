//! Loom models of `weft_semaphore::Semaphore`: no lost wake-up (a sleeper
//! left asleep beside permits it could take deadlocks the model), permits
//! neither created nor lost, and the release → acquire hand-off of data
//! (checked by loom on every access to a shared cell).
#![cfg(loom)]

use std::time::Duration;

use weft_futex::UnsafeCell;
use weft_futex::loom::{self, sync::Arc, thread};
use weft_semaphore::Semaphore;

/// One release racing two acquirers, then a second release: libc++'s
/// lost wake-up (its release woke only on a count going up from zero, so
/// the second release, finding one permit not yet taken, woke nobody).
/// Both acquirers must finish whatever the interleaving.
#[test]
fn release_races_two_acquirers() {
    loom::model(|| {
        let s = Arc::new(Semaphore::new(0));
        let acquirers: Vec<_> = (0..2)
            .map(|_| {
                let s = s.clone();
                thread::spawn(move || s.acquire())
            })
            .collect();
        s.release();
        s.release();
        for a in acquirers {
            a.join().unwrap();
        }
        assert_eq!(s.available_permits(), 0);
    });
}

/// Two sleepers and one `release_many(2)`: both must wake (one `wake_one`
/// would leave the second asleep beside its permit).
#[test]
fn release_many_wakes_two_acquirers() {
    loom::model(|| {
        let s = Arc::new(Semaphore::new(0));
        let acquirers: Vec<_> = (0..2)
            .map(|_| {
                let s = s.clone();
                thread::spawn(move || s.acquire())
            })
            .collect();
        s.release_many(2);
        for a in acquirers {
            a.join().unwrap();
        }
        assert_eq!(s.available_permits(), 0);
    });
}

/// A thread taking two permits at once and a thread taking one. The first
/// permit can only serve the one-permit thread, and must reach it *before*
/// any further release: a wake for it spent on the two-permit thread (which
/// finds too few and sleeps again) would leave it asleep, and the model
/// deadlocks in the join. Then two more permits finish the two-permit
/// take, which is all or nothing.
#[test]
fn acquire_many_against_acquire() {
    loom::model(|| {
        let s = Arc::new(Semaphore::new(0));
        let many = {
            let s = s.clone();
            thread::spawn(move || s.acquire_many(2))
        };
        let one = {
            let s = s.clone();
            thread::spawn(move || s.acquire())
        };
        s.release();
        one.join().unwrap();
        assert_eq!(s.available_permits(), 0);
        s.release_many(2);
        many.join().unwrap();
        assert_eq!(s.available_permits(), 0);
    });
}

/// A thread waiting for two permits, fed one at a time: the first release
/// leaves too few to wake it for, the second must wake it.
#[test]
fn acquire_many_fed_one_at_a_time() {
    loom::model(|| {
        let s = Arc::new(Semaphore::new(0));
        let many = {
            let s = s.clone();
            thread::spawn(move || s.acquire_many(2))
        };
        s.release();
        s.release();
        many.join().unwrap();
        assert_eq!(s.available_permits(), 0);
    });
}

/// A timed acquirer against a release: it may time out or take the permit,
/// and either way the permit is accounted for exactly once (a timed-out
/// waiter must not leave a wake, or a permit, behind unused).
#[test]
fn try_acquire_for_races_release() {
    loom::model(|| {
        let s = Arc::new(Semaphore::new(0));
        let timed = {
            let s = s.clone();
            thread::spawn(move || s.try_acquire_for(Duration::from_secs(3600)))
        };
        s.release();
        let took = timed.join().unwrap();
        assert_eq!(s.available_permits(), if took { 0 } else { 1 });
    });
}

/// A timed acquirer and a blocking acquirer share one release and then a
/// second: whichever the first permit goes to, the blocking one must end.
#[test]
fn try_acquire_for_and_acquire_share_releases() {
    loom::model(|| {
        let s = Arc::new(Semaphore::new(0));
        let timed = {
            let s = s.clone();
            thread::spawn(move || s.try_acquire_for(Duration::from_secs(3600)))
        };
        let blocking = {
            let s = s.clone();
            thread::spawn(move || s.acquire())
        };
        s.release();
        s.release();
        let took = timed.join().unwrap();
        blocking.join().unwrap();
        assert_eq!(s.available_permits(), if took { 0 } else { 1 });
    });
}

/// The producer–consumer hand-off: data written before `release` is seen
/// after `acquire`. Loom reports a data race on the cell if the release
/// does not happen before the acquire that takes its permit.
#[test]
fn release_publishes_data_to_acquirer() {
    loom::model(|| {
        let s = Arc::new(Semaphore::new(0));
        let slot = Arc::new(UnsafeCell::new(0));
        let producer = {
            let (s, slot) = (s.clone(), slot.clone());
            thread::spawn(move || {
                // SAFETY: the consumer reads the slot only after taking the
                // permit released below, which orders its read after this write.
                slot.with_mut(|p| unsafe { *p = 42 });
                s.release();
            })
        };
        s.acquire();
        // SAFETY: the permit came from the producer's release, after its write.
        assert_eq!(slot.with(|p| unsafe { *p }), 42);
        producer.join().unwrap();
    });
}

/// One permit as a lock: two threads increment a plain cell inside
/// `access`. Loom checks that the critical sections never overlap.
#[test]
fn one_permit_excludes() {
    loom::model(|| {
        let s = Arc::new(Semaphore::new(1));
        let count = Arc::new(UnsafeCell::new(0));
        let other = {
            let (s, count) = (s.clone(), count.clone());
            thread::spawn(move || {
                let _permit = s.access();
                // SAFETY: the one permit admits one thread at a time.
                count.with_mut(|p| unsafe { *p += 1 });
            })
        };
        {
            let _permit = s.access();
            // SAFETY: as above.
            count.with_mut(|p| unsafe { *p += 1 });
        }
        other.join().unwrap();
        // SAFETY: both writers have finished (joined).
        assert_eq!(count.with(|p| unsafe { *p }), 2);
        assert_eq!(s.available_permits(), 1);
    });
}

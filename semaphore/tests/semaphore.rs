//! Behaviour of `weft_semaphore::Semaphore`.
#![cfg(not(loom))]

use std::collections::VecDeque;
use std::panic::{self, AssertUnwindSafe};
use std::sync::atomic::AtomicU32;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::{Barrier, mpsc};
use std::thread;
use std::time::{Duration, Instant};

use weft_mutex::Mutex;
use weft_semaphore::{Semaphore, SemaphoreGuard};
use weft_testkit::iterations;

/// How long a test lets a thread run to be sure it has spun out and gone to
/// sleep on the futex (the spin phase lasts microseconds).
const SETTLE: Duration = Duration::from_millis(50);

/// Long enough that a thread not done by then is stuck, not slow.
const STUCK: Duration = Duration::from_secs(20);

#[test]
fn permits_are_taken_and_given_back() {
    let s = Semaphore::new(2);
    s.acquire();
    s.acquire();
    assert_eq!(s.available_permits(), 0);
    assert!(!s.try_acquire());
    s.release();
    assert_eq!(s.available_permits(), 1);
    assert!(s.try_acquire());
    s.release_many(2);
    assert_eq!(s.available_permits(), 2);
}

#[test]
fn a_semaphore_is_send_and_sync() {
    fn check<T: Send + Sync>() {}
    check::<Semaphore>();
    check::<SemaphoreGuard<'static>>();
}

#[test]
fn a_static_semaphore_needs_no_initializer() {
    static S: Semaphore = Semaphore::new(3);
    let guard = S.access();
    assert_eq!(S.available_permits(), 2);
    drop(guard);
    assert_eq!(S.available_permits(), 3);
}

#[test]
fn max_permits_is_i32_max() {
    assert_eq!(Semaphore::MAX_PERMITS, 2_147_483_647);
    assert_eq!(Semaphore::MAX_PERMITS, i32::MAX as u32);
    let full = Semaphore::new(Semaphore::MAX_PERMITS);
    assert_eq!(full.available_permits(), Semaphore::MAX_PERMITS);
    assert!(full.try_acquire_many(Semaphore::MAX_PERMITS));
    full.release_many(Semaphore::MAX_PERMITS);
    assert_eq!(full.available_permits(), Semaphore::MAX_PERMITS);
}

#[test]
fn release_without_acquire_is_allowed() {
    let s = Semaphore::new(0);
    s.release();
    assert_eq!(s.available_permits(), 1);
    s.release_many(5);
    assert_eq!(s.available_permits(), 6);
    s.release_many(0);
    assert_eq!(s.available_permits(), 6);
    assert!(s.try_acquire_many(6));
    assert!(!s.try_acquire());
}

#[test]
fn try_acquire_on_empty_takes_nothing() {
    let s = Semaphore::new(0);
    assert!(!s.try_acquire());
    assert!(!s.try_acquire_many(1));
    assert!(s.try_acquire_many(0), "zero permits are always available");
    assert_eq!(s.available_permits(), 0);

    let two = Semaphore::new(2);
    assert!(!two.try_acquire_many(3));
    assert_eq!(two.available_permits(), 2, "a failed try takes nothing");
    assert!(two.try_acquire_many(2));
    assert_eq!(two.available_permits(), 0);
}

#[test]
fn try_acquire_for_zero_takes_an_available_permit() {
    let s = Semaphore::new(1);
    assert!(s.try_acquire_for(Duration::ZERO));
    assert!(!s.try_acquire_for(Duration::ZERO));
}

#[test]
fn try_acquire_for_times_out() {
    let s = Semaphore::new(0);
    let start = Instant::now();
    assert!(!s.try_acquire_for(Duration::from_millis(30)));
    assert!(start.elapsed() >= Duration::from_millis(30));
    assert_eq!(s.available_permits(), 0);
    // The timed-out waiter unregistered: a release finds nobody to wake and
    // the permit stays.
    s.release();
    assert_eq!(s.available_permits(), 1);
}

#[test]
fn try_acquire_for_succeeds_when_released_in_time() {
    let s = Semaphore::new(0);
    thread::scope(|t| {
        let waiter = t.spawn(|| s.try_acquire_for(Duration::from_secs(3600)));
        thread::sleep(SETTLE);
        s.release();
        assert!(
            waiter.join().unwrap(),
            "released long before the hour is up"
        );
    });
    assert_eq!(s.available_permits(), 0);
}

#[test]
fn try_acquire_for_without_representable_deadline_waits() {
    let s = Semaphore::new(0);
    thread::scope(|t| {
        let waiter = t.spawn(|| s.try_acquire_for(Duration::MAX));
        thread::sleep(Duration::from_millis(10));
        s.release();
        assert!(waiter.join().unwrap());
    });
}

/// The semaphore's whole point: with N permits, never more than N threads
/// inside, checked with a high-water mark over 8 threads.
#[test]
fn never_more_than_n_holders() {
    const PERMITS: u32 = 3;
    let rounds = iterations(20_000, 40);
    let s = Semaphore::new(PERMITS);
    let inside = AtomicU32::new(0);
    let high_water = AtomicU32::new(0);
    thread::scope(|t| {
        for _ in 0..8 {
            t.spawn(|| {
                for i in 0..rounds {
                    let _permit = s.access();
                    let now = inside.fetch_add(1, Relaxed) + 1;
                    high_water.fetch_max(now, Relaxed);
                    if i % 16 == 0 {
                        thread::yield_now();
                    }
                    inside.fetch_sub(1, Relaxed);
                }
            });
        }
    });
    let high_water = high_water.into_inner();
    assert!(
        (1..=PERMITS).contains(&high_water),
        "{high_water} holders at once with {PERMITS} permits"
    );
    assert_eq!(s.available_permits(), PERMITS);
}

/// The other half of the contract: N permits do let N threads in at once
/// (they meet at a barrier while holding, which they could not all reach
/// if the semaphore admitted fewer).
#[test]
fn admits_n_holders_at_once() {
    const PERMITS: usize = 4;
    let s = Semaphore::new(PERMITS as u32);
    let all_inside = Barrier::new(PERMITS);
    thread::scope(|t| {
        for _ in 0..PERMITS {
            t.spawn(|| {
                let _permit = s.access();
                all_inside.wait();
            });
        }
    });
    assert_eq!(s.available_permits(), PERMITS as u32);
}

/// Threads taking 3 permits at once compete with threads taking 1, on a
/// semaphore of 4: the permits held never exceed 4, nobody deadlocks, and
/// every permit comes back.
#[test]
fn acquire_many_against_single_acquirers() {
    const PERMITS: u32 = 4;
    let rounds = iterations(5_000, 20);
    let s = Semaphore::new(PERMITS);
    let held = AtomicU32::new(0);
    let high_water = AtomicU32::new(0);
    let hold = |n: u32| {
        let now = held.fetch_add(n, Relaxed) + n;
        high_water.fetch_max(now, Relaxed);
        thread::yield_now();
        held.fetch_sub(n, Relaxed);
    };
    thread::scope(|t| {
        for _ in 0..2 {
            t.spawn(|| {
                for _ in 0..rounds {
                    s.acquire_many(3);
                    hold(3);
                    s.release_many(3);
                }
            });
        }
        for _ in 0..3 {
            t.spawn(|| {
                for _ in 0..rounds {
                    s.acquire();
                    hold(1);
                    s.release();
                }
            });
        }
    });
    assert!(high_water.into_inner() <= PERMITS);
    assert_eq!(s.available_permits(), PERMITS);
}

/// A thread waiting for 3 permits while only 2 exist holds none of them:
/// the 2 stay available to others the whole time.
#[test]
fn acquire_many_is_all_or_nothing() {
    let s = Semaphore::new(2);
    thread::scope(|t| {
        let waiter = t.spawn(|| s.acquire_many(3));
        thread::sleep(SETTLE);
        let while_waiting = s.available_permits();
        let others_can_take_them = s.try_acquire_many(2);
        if others_can_take_them {
            s.release_many(2);
        }
        s.release();
        waiter.join().unwrap();
        assert_eq!(while_waiting, 2, "the waiter took part of its permits");
        assert!(others_can_take_them);
    });
    assert_eq!(s.available_permits(), 0);
}

#[test]
fn acquire_many_zero_returns_at_once() {
    let s = Semaphore::new(0);
    s.acquire_many(0);
    let guard = s.access_many(0);
    assert_eq!(guard.permits(), 0);
    drop(guard);
    assert_eq!(s.available_permits(), 0);
}

/// A multi-permit waiter and a single-permit waiter both asleep; one permit
/// arrives. It must reach the single-permit waiter. (Were both asleep on
/// one futex word, a `wake_one` could go to the multi-permit waiter, which
/// queued first, finds too few and sleeps again: a lost wake-up.)
#[test]
fn one_permit_reaches_the_waiter_that_can_use_it() {
    let s = &Semaphore::new(0);
    let (done, finished) = mpsc::channel();
    thread::scope(|t| {
        let greedy = {
            let done = done.clone();
            t.spawn(move || {
                s.acquire_many(2);
                done.send("greedy").unwrap();
            })
        };
        thread::sleep(SETTLE);
        let single = t.spawn(move || {
            s.acquire();
            done.send("single").unwrap();
        });
        thread::sleep(SETTLE);

        s.release();
        let first = finished.recv_timeout(STUCK);
        if first.is_err() {
            // Unstick both threads so that the scope can end and report.
            s.release_many(3);
        }
        assert_eq!(
            first,
            Ok("single"),
            "the permit did not reach the thread waiting for one"
        );
        single.join().unwrap();

        s.release_many(2);
        assert_eq!(finished.recv_timeout(STUCK), Ok("greedy"));
        greedy.join().unwrap();
    });
    assert_eq!(s.available_permits(), 0);
}

/// libc++'s lost wake-up: two sleepers, then two single releases in a row.
/// Both sleepers must wake.
#[test]
fn two_releases_in_a_row_wake_two_sleepers() {
    let s = Semaphore::new(0);
    let (done, finished) = mpsc::channel();
    thread::scope(|t| {
        for _ in 0..2 {
            let done = done.clone();
            let s = &s;
            t.spawn(move || {
                s.acquire();
                done.send(()).unwrap();
            });
        }
        thread::sleep(SETTLE);
        s.release();
        s.release();
        for _ in 0..2 {
            if finished.recv_timeout(STUCK).is_err() {
                // Unstick the sleeper so that the scope can end and report.
                s.release_many(2);
                panic!("a sleeper was not woken");
            }
        }
    });
    assert_eq!(s.available_permits(), 0);
}

/// `release_many` wakes as many sleepers as it releases permits for.
#[test]
fn release_many_wakes_enough_sleepers() {
    let sleepers = iterations(4, 3);
    let s = &Semaphore::new(0);
    let (done, finished) = mpsc::channel();
    thread::scope(|t| {
        for _ in 0..sleepers {
            let done = done.clone();
            t.spawn(move || {
                s.acquire();
                done.send(()).unwrap();
            });
        }
        thread::sleep(SETTLE);
        s.release_many(sleepers as u32 - 1);
        let woken = (1..sleepers)
            .take_while(|_| finished.recv_timeout(STUCK).is_ok())
            .count();
        s.release();
        if woken < sleepers - 1 {
            // Unstick the rest so that the scope can end and report.
            s.release_many(sleepers as u32);
        }
        assert_eq!(woken, sleepers - 1, "release_many left sleepers asleep");
        finished
            .recv_timeout(STUCK)
            .expect("the last sleeper was not woken");
    });
    assert_eq!(s.available_permits(), 0);
}

/// The course chapter's producer–consumer, as its pseudo-code has it: the
/// producer pushes under a lock, then releases; a consumer acquires, then
/// pops under the lock. Every item arrives exactly once, in FIFO order.
#[test]
fn producer_consumer_moves_every_item_in_order() {
    const CONSUMERS: usize = 3;
    let items = iterations(100_000, 300);
    let queue = Mutex::new(VecDeque::new());
    let available = Semaphore::new(0);
    // The sequence of pops, recorded under the queue's lock.
    let popped = Mutex::new(Vec::with_capacity(items));

    thread::scope(|t| {
        let consumers: Vec<_> = (0..CONSUMERS)
            .map(|c| {
                let (queue, available, popped) = (&queue, &available, &popped);
                t.spawn(move || {
                    let share = items / CONSUMERS + usize::from(c < items % CONSUMERS);
                    let mut mine = Vec::with_capacity(share);
                    for _ in 0..share {
                        available.acquire();
                        let mut q = queue.lock();
                        let item = q.pop_front().expect("a permit without an item");
                        popped.lock().push(item);
                        drop(q);
                        mine.push(item);
                    }
                    mine
                })
            })
            .collect();

        for item in 0..items {
            queue.lock().push_back(item);
            available.release();
        }

        let mut seen = vec![false; items];
        for consumer in consumers {
            let mine = consumer.join().unwrap();
            assert!(
                mine.windows(2).all(|w| w[0] < w[1]),
                "a consumer received items out of order"
            );
            for item in mine {
                assert!(!seen[item], "item {item} consumed twice");
                seen[item] = true;
            }
        }
        assert!(seen.iter().all(|&s| s), "an item was lost");
    });

    assert!(queue.lock().is_empty());
    assert_eq!(available.available_permits(), 0);
    assert_eq!(
        popped.into_inner(),
        (0..items).collect::<Vec<_>>(),
        "items left the queue out of FIFO order"
    );
}

/// A waiter that finds no permit spins out and sleeps on the futex (this
/// runs the sleep path under Miri too), and the release wakes it.
#[test]
fn sleeping_waiter_is_woken() {
    let s = Semaphore::new(0);
    let log = Mutex::new(Vec::new());
    thread::scope(|t| {
        let waiter = t.spawn(|| {
            s.acquire();
            log.lock().push("waiter");
        });
        thread::sleep(SETTLE);
        log.lock().push("releaser");
        s.release();
        waiter.join().unwrap();
    });
    assert_eq!(*log.lock(), ["releaser", "waiter"]);
}

/// The same for the multi-permit sleep path, fed one permit at a time.
#[test]
fn sleeping_many_waiter_is_woken() {
    let s = Semaphore::new(0);
    thread::scope(|t| {
        let waiter = t.spawn(|| s.acquire_many(3));
        for _ in 0..3 {
            thread::sleep(SETTLE / 2);
            s.release();
        }
        waiter.join().unwrap();
    });
    assert_eq!(s.available_permits(), 0);
}

/// And for the timed sleep path.
#[test]
fn sleeping_timed_waiter_is_woken() {
    let s = Semaphore::new(0);
    thread::scope(|t| {
        let waiter = t.spawn(|| s.try_acquire_for(STUCK));
        thread::sleep(SETTLE);
        s.release();
        assert!(waiter.join().unwrap());
    });
    assert_eq!(s.available_permits(), 0);
}

#[test]
#[cfg_attr(miri, ignore = "Miri cannot read a thread's CPU time")]
fn waiter_sleeps_instead_of_spinning() {
    let s = Semaphore::new(0);
    thread::scope(|t| {
        let waiter = t.spawn(|| {
            weft_testkit::assert_sleeps("a thread in Semaphore::acquire", || {
                s.acquire();
            });
        });
        thread::sleep(weft_testkit::BLOCKED);
        s.release();
        waiter.join().unwrap();
    });
}

#[test]
#[cfg_attr(miri, ignore = "Miri cannot read a thread's CPU time")]
fn many_waiter_sleeps_instead_of_spinning() {
    let s = Semaphore::new(1);
    thread::scope(|t| {
        let waiter = t.spawn(|| {
            weft_testkit::assert_sleeps("a thread in Semaphore::acquire_many", || {
                s.acquire_many(2);
            });
        });
        thread::sleep(weft_testkit::BLOCKED);
        s.release();
        waiter.join().unwrap();
    });
}

#[test]
fn guard_releases_on_drop() {
    let s = Semaphore::new(2);
    let a = s.access();
    let b = s.access();
    assert_eq!((a.permits(), s.available_permits()), (1, 0));
    drop(a);
    assert_eq!(s.available_permits(), 1);
    drop(b);
    assert_eq!(s.available_permits(), 2);
    let many = s.access_many(2);
    assert!(!s.try_acquire());
    drop(many);
    assert_eq!(s.available_permits(), 2);
}

#[test]
fn guard_releases_during_a_panic() {
    let s = Semaphore::new(1);
    let caught = panic::catch_unwind(AssertUnwindSafe(|| {
        let _permit = s.access();
        assert_eq!(s.available_permits(), 0);
        panic!("boom");
    }));
    assert!(caught.is_err());
    assert_eq!(s.available_permits(), 1, "the unwinding guard must release");

    let result = thread::scope(|t| {
        t.spawn(|| {
            let _permits = s.access_many(1);
            panic!("boom in a thread");
        })
        .join()
    });
    assert!(result.is_err());
    assert!(s.try_acquire());
}

#[test]
fn guard_may_be_dropped_on_another_thread() {
    let s = Semaphore::new(1);
    let permit = s.access();
    thread::scope(|t| {
        t.spawn(move || drop(permit));
    });
    assert_eq!(s.available_permits(), 1);
}

#[test]
fn debug_shows_permits_and_waiters() {
    let s = Semaphore::new(2);
    assert_eq!(format!("{s:?}"), "Semaphore { permits: 2, waiters: 0 }");
    let guard = s.access();
    assert_eq!(format!("{guard:?}"), "SemaphoreGuard { permits: 1, .. }");
    assert_eq!(format!("{s:?}"), "Semaphore { permits: 1, waiters: 0 }");
    drop(guard);

    // A blocked thread shows up as a waiter (once it has spun out).
    let empty = Semaphore::new(0);
    let blocked = "Semaphore { permits: 0, waiters: 1 }";
    thread::scope(|t| {
        let waiter = t.spawn(|| empty.acquire());
        let start = Instant::now();
        let mut shown = format!("{empty:?}");
        while shown != blocked && start.elapsed() < STUCK {
            thread::sleep(Duration::from_millis(1));
            shown = format!("{empty:?}");
        }
        // Release before asserting, so that a failure cannot hang the scope.
        empty.release();
        waiter.join().unwrap();
        assert_eq!(shown, blocked);
    });
    assert_eq!(format!("{empty:?}"), "Semaphore { permits: 0, waiters: 0 }");
}

// Bad input: every limit panic names MAX_PERMITS and its value.

#[test]
#[should_panic(expected = "MAX_PERMITS (2147483647)")]
fn new_above_max_panics() {
    let too_many = std::hint::black_box(Semaphore::MAX_PERMITS + 1);
    let _ = Semaphore::new(too_many);
}

#[test]
#[should_panic(expected = "MAX_PERMITS (2147483647)")]
fn release_past_max_panics() {
    Semaphore::new(Semaphore::MAX_PERMITS).release();
}

#[test]
#[should_panic(expected = "MAX_PERMITS (2147483647)")]
fn release_many_past_max_panics() {
    Semaphore::new(10).release_many(Semaphore::MAX_PERMITS - 9);
}

#[test]
#[should_panic(expected = "MAX_PERMITS (2147483647)")]
fn release_many_of_u32_max_panics() {
    Semaphore::new(0).release_many(u32::MAX);
}

#[test]
#[should_panic(expected = "MAX_PERMITS (2147483647)")]
fn acquire_many_above_max_panics() {
    Semaphore::new(Semaphore::MAX_PERMITS).acquire_many(Semaphore::MAX_PERMITS + 1);
}

#[test]
#[should_panic(expected = "MAX_PERMITS (2147483647)")]
fn try_acquire_many_above_max_panics() {
    let _ = Semaphore::new(0).try_acquire_many(u32::MAX);
}

#[test]
#[should_panic(expected = "MAX_PERMITS (2147483647)")]
fn access_many_above_max_panics() {
    let _ = Semaphore::new(0).access_many(u32::MAX);
}

#[test]
fn limit_panics_leave_the_count_unchanged() {
    let s = Semaphore::new(Semaphore::MAX_PERMITS - 5);
    let message = |r: Result<(), Box<dyn std::any::Any + Send>>| {
        let payload = r.expect_err("should have panicked");
        payload
            .downcast_ref::<String>()
            .cloned()
            .expect("a formatted message")
    };

    let m = message(panic::catch_unwind(|| s.release_many(6)));
    assert!(m.contains("MAX_PERMITS (2147483647)"), "{m}");
    assert_eq!(s.available_permits(), Semaphore::MAX_PERMITS - 5);

    let m = message(panic::catch_unwind(|| s.acquire_many(u32::MAX)));
    assert!(m.contains("MAX_PERMITS"), "{m}");
    assert_eq!(s.available_permits(), Semaphore::MAX_PERMITS - 5);

    // Still fully usable: up to the limit exactly, and back down.
    s.release_many(5);
    assert_eq!(s.available_permits(), Semaphore::MAX_PERMITS);
    s.acquire_many(Semaphore::MAX_PERMITS);
    assert_eq!(s.available_permits(), 0);
}

/// `new` is `const`, and its panic message, a literal there, must agree
/// with the constant.
#[test]
fn new_panic_message_names_the_value() {
    let caught = panic::catch_unwind(|| Semaphore::new(std::hint::black_box(u32::MAX)));
    let payload = caught.expect_err("should have panicked");
    let m = payload
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
        .unwrap();
    assert!(
        m.contains(&format!("MAX_PERMITS ({})", Semaphore::MAX_PERMITS)),
        "{m}"
    );
}

//! Behaviour of `weft_barrier::Latch`: what libc++'s `std::latch` tests
//! and crossbeam-utils' `WaitGroup` tests check, written anew, and Weft's
//! own checks (sleeping waiters, plain data published, a latch freed by a
//! waiter while the opener is still inside `count_down`).
#![cfg(not(loom))]

use std::cell::UnsafeCell;
use std::panic::{self, AssertUnwindSafe};
use std::sync::atomic::Ordering::Relaxed;
use std::sync::atomic::{AtomicBool, AtomicUsize};
use std::thread;
use std::time::{Duration, Instant};

use weft_barrier::Latch;
use weft_testkit::{Watchdog, iterations};

/// Far longer than any of these tests takes, even under Miri.
const HANG: Duration = Duration::from_secs(if cfg!(miri) { 3600 } else { 60 });

/// Long enough for a waiter to spin out and sleep, even under Miri.
const LATE: Duration = Duration::from_millis(50);

/// The count `Debug` shows.
fn count(latch: &Latch) -> String {
    format!("{latch:?}")
}

/// The message of a panic caught by `catch_unwind`.
fn panic_message(payload: &(dyn std::any::Any + Send)) -> &str {
    payload
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| payload.downcast_ref::<&str>().copied())
        .unwrap_or("")
}

#[test]
fn a_latch_of_zero_is_open_at_once() {
    let latch = Latch::new(0);
    assert!(latch.try_wait());
    latch.wait();
    assert!(latch.wait_timeout(Duration::ZERO));
    assert!(latch.wait_timeout(Duration::from_secs(3600)));
    // Counting down by nothing is allowed, and changes nothing.
    latch.count_down_by(0);
    assert!(latch.try_wait());
    assert_eq!(count(&latch), "Latch { count: 0, .. }");
}

#[test]
fn count_down_to_zero_opens_the_latch() {
    let latch = Latch::new(2);
    assert!(!latch.try_wait());
    latch.count_down();
    assert!(!latch.try_wait());
    latch.count_down();
    assert!(latch.try_wait());
    // Open for good.
    latch.wait();
    assert!(latch.try_wait());
}

#[test]
fn a_count_down_on_another_thread_releases_wait() {
    let _watchdog = Watchdog::new("a_count_down_on_another_thread_releases_wait", HANG);
    let latch = Latch::new(2);
    latch.count_down();
    thread::scope(|s| {
        s.spawn(|| latch.count_down());
        latch.wait();
    });
}

/// Many threads count down once each, some of them late so that the
/// waiters sleep; every waiter returns only after all of them did.
#[test]
fn waiters_return_after_every_count_down() {
    let _watchdog = Watchdog::new("waiters_return_after_every_count_down", HANG);
    const THREADS: usize = 8;
    for round in 0..iterations(20, 2) {
        let latch = Latch::new(THREADS);
        let counted = AtomicUsize::new(0);
        thread::scope(|s| {
            for i in 0..THREADS {
                let (latch, counted) = (&latch, &counted);
                s.spawn(move || {
                    if i % 3 == round % 3 {
                        thread::sleep(Duration::from_millis(1));
                    }
                    // Relaxed: the latch must order it before the waiters'
                    // loads.
                    counted.fetch_add(1, Relaxed);
                    latch.count_down();
                });
            }
            for _ in 0..3 {
                s.spawn(|| {
                    latch.wait();
                    assert_eq!(counted.load(Relaxed), THREADS);
                });
            }
            latch.wait();
            assert_eq!(counted.load(Relaxed), THREADS);
        });
    }
}

#[test]
fn count_down_by_lowers_the_count_by_n() {
    let latch = Latch::new(10);
    latch.count_down_by(3);
    assert_eq!(count(&latch), "Latch { count: 7, .. }");
    latch.count_down_by(0);
    assert_eq!(count(&latch), "Latch { count: 7, .. }");
    assert!(!latch.try_wait());
    latch.count_down_by(7);
    assert!(latch.try_wait());
    assert_eq!(count(&latch), "Latch { count: 0, .. }");
}

/// Threads count down by different amounts at once; the latch opens
/// exactly when the last of them is in.
#[test]
fn count_down_by_and_count_down_from_many_threads() {
    let _watchdog = Watchdog::new("count_down_by_and_count_down_from_many_threads", HANG);
    for _ in 0..iterations(50, 3) {
        // Thread i counts down by i, in one step or one at a time.
        let total = (1..=6).sum();
        let latch = Latch::new(total);
        let counted = AtomicUsize::new(0);
        thread::scope(|s| {
            for i in 1..=6 {
                let (latch, counted) = (&latch, &counted);
                s.spawn(move || {
                    counted.fetch_add(i, Relaxed);
                    if i % 2 == 0 {
                        latch.count_down_by(i);
                    } else {
                        (0..i).for_each(|_| latch.count_down());
                    }
                });
            }
            latch.wait();
            assert_eq!(counted.load(Relaxed), total);
        });
    }
}

#[test]
#[should_panic(expected = "cannot count a latch down by 1: only 0 left")]
fn count_down_on_an_open_latch_panics() {
    let latch = Latch::new(1);
    latch.count_down();
    latch.count_down();
}

#[test]
#[should_panic(expected = "cannot count a latch down by 4: only 3 left")]
fn count_down_by_more_than_is_left_panics() {
    Latch::new(3).count_down_by(4);
}

#[test]
#[should_panic(expected = "cannot count a latch down by")]
fn count_down_by_usize_max_panics() {
    Latch::new(5).count_down_by(usize::MAX);
}

/// A count-down that panics changes nothing: the count stays, a closed
/// latch stays closed and an open one open, and the right count-downs
/// still open it.
#[test]
fn a_count_down_that_panics_leaves_the_count_unchanged() {
    let latch = Latch::new(3);
    for n in [4, usize::MAX] {
        let payload = panic::catch_unwind(AssertUnwindSafe(|| latch.count_down_by(n)))
            .expect_err("counting down past zero panics");
        assert_eq!(
            panic_message(&*payload),
            format!("cannot count a latch down by {n}: only 3 left")
        );
        assert_eq!(count(&latch), "Latch { count: 3, .. }");
        assert!(!latch.try_wait());
    }
    latch.count_down_by(3);
    assert!(latch.try_wait());
    for attempt in [
        &(|| latch.count_down()) as &dyn Fn(),
        &|| latch.arrive_and_wait(),
        &|| latch.count_down_by(usize::MAX),
    ] {
        assert!(panic::catch_unwind(AssertUnwindSafe(attempt)).is_err());
        assert_eq!(count(&latch), "Latch { count: 0, .. }");
        assert!(latch.try_wait());
    }
}

/// libc++'s `max` test asks for a positive `latch::max()`; here the
/// largest count is `usize::MAX`, and it counts down like any other.
#[test]
fn the_largest_count_is_usize_max() {
    let latch = Latch::new(usize::MAX);
    latch.count_down_by(usize::MAX - 1);
    assert!(!latch.try_wait());
    latch.count_down();
    assert!(latch.try_wait());

    let latch = Latch::new(usize::MAX);
    latch.count_down_by(usize::MAX);
    assert!(latch.try_wait());
}

#[test]
fn wait_timeout_times_out_no_earlier_than_the_timeout() {
    let latch = Latch::new(1);
    let timeout = Duration::from_millis(30);
    let start = Instant::now();
    assert!(!latch.wait_timeout(timeout));
    assert!(start.elapsed() >= timeout);
    // Giving up changed nothing.
    assert_eq!(count(&latch), "Latch { count: 1, .. }");
    latch.count_down();
    assert!(latch.wait_timeout(timeout));
}

#[test]
fn wait_timeout_zero_answers_at_once() {
    let closed = Latch::new(1);
    let start = Instant::now();
    for _ in 0..100 {
        assert!(!closed.wait_timeout(Duration::ZERO));
    }
    // A hundred sleeps of even one scheduler tick would take far longer.
    if !cfg!(miri) {
        assert!(start.elapsed() < Duration::from_millis(100));
    }
    closed.count_down();
    assert!(closed.wait_timeout(Duration::ZERO));
}

#[test]
fn wait_timeout_returns_true_when_opened_in_time() {
    let _watchdog = Watchdog::new("wait_timeout_returns_true_when_opened_in_time", HANG);
    let latch = Latch::new(1);
    thread::scope(|s| {
        let waiter = s.spawn(|| latch.wait_timeout(Duration::from_secs(3600)));
        thread::sleep(LATE);
        latch.count_down();
        assert!(waiter.join().unwrap(), "opened long before the hour is up");
    });
}

#[test]
fn wait_timeout_with_a_huge_timeout_waits_without_deadline() {
    let _watchdog = Watchdog::new(
        "wait_timeout_with_a_huge_timeout_waits_without_deadline",
        HANG,
    );
    let latch = Latch::new(1);
    thread::scope(|s| {
        s.spawn(|| {
            thread::sleep(Duration::from_millis(1));
            latch.count_down();
        });
        assert!(latch.wait_timeout(Duration::MAX));
    });
}

/// Every thread arrives, then waits: none passes before all have arrived
/// (libc++'s `arrive_and_wait` test, and crossbeam's `wait_and_drop`).
#[test]
fn arrive_and_wait_releases_all_threads_together() {
    let _watchdog = Watchdog::new("arrive_and_wait_releases_all_threads_together", HANG);
    const THREADS: usize = 5;
    for round in 0..iterations(20, 2) {
        let latch = Latch::new(THREADS);
        let arrived = AtomicUsize::new(0);
        thread::scope(|s| {
            for i in 0..THREADS {
                let (latch, arrived) = (&latch, &arrived);
                s.spawn(move || {
                    if i == round % THREADS {
                        thread::sleep(Duration::from_millis(1));
                    }
                    arrived.fetch_add(1, Relaxed);
                    latch.arrive_and_wait();
                    assert_eq!(arrived.load(Relaxed), THREADS);
                });
            }
        });
        assert!(latch.try_wait());
    }
}

/// Several threads asleep in every kind of wait, and the one count-down
/// that opens the latch wakes all of them.
#[test]
fn opening_wakes_every_sleeping_waiter() {
    let _watchdog = Watchdog::new("opening_wakes_every_sleeping_waiter", HANG);
    let latch = Latch::new(2);
    let passed = AtomicUsize::new(0);
    thread::scope(|s| {
        for kind in 0..3 {
            let (latch, passed) = (&latch, &passed);
            s.spawn(move || {
                match kind {
                    0 => latch.wait(),
                    1 => assert!(latch.wait_timeout(Duration::from_secs(3600))),
                    _ => latch.arrive_and_wait(),
                }
                passed.fetch_add(1, Relaxed);
            });
        }
        thread::sleep(LATE);
        assert_eq!(passed.load(Relaxed), 0, "nobody passes a closed latch");
        latch.count_down();
    });
    assert_eq!(passed.into_inner(), 3);
}

/// Plain (non-atomic) data written before `count_down` is visible after
/// `wait`, `wait_timeout` and a `try_wait` that returned `true`; Miri and
/// ThreadSanitizer report a data race if the latch fails to order them.
#[test]
fn publishes_plain_writes() {
    struct Cells(Vec<UnsafeCell<usize>>);
    // SAFETY: each cell is written by one thread before its count-down and
    // read by others only after the latch opened, which is what this test
    // checks.
    unsafe impl Sync for Cells {}

    const WRITERS: usize = 3;
    let _watchdog = Watchdog::new("publishes_plain_writes", HANG);
    for round in 0..iterations(100, 4) {
        let latch = Latch::new(WRITERS);
        let cells = Cells((0..WRITERS).map(|_| UnsafeCell::new(0)).collect());
        let read_all = |cells: &Cells| {
            for (i, cell) in cells.0.iter().enumerate() {
                // SAFETY: the write came before its writer's count-down,
                // and the latch is open.
                assert_eq!(unsafe { *cell.get() }, round * 10 + i + 1);
            }
        };
        thread::scope(|s| {
            for i in 0..WRITERS {
                let (latch, cells) = (&latch, &cells);
                s.spawn(move || {
                    // SAFETY: only this thread writes this cell, and nobody
                    // reads it before the latch opens.
                    unsafe { *cells.0[i].get() = round * 10 + i + 1 };
                    latch.count_down();
                });
            }
            s.spawn(|| {
                latch.wait();
                read_all(&cells);
            });
            s.spawn(|| {
                assert!(latch.wait_timeout(Duration::from_secs(3600)));
                read_all(&cells);
            });
            while !latch.try_wait() {
                thread::yield_now();
            }
            read_all(&cells);
        });
    }
}

#[test]
#[cfg_attr(miri, ignore = "Miri cannot read a thread's CPU time")]
fn a_blocked_waiter_sleeps_instead_of_spinning() {
    let latch = Latch::new(1);
    thread::scope(|s| {
        let waiters = [
            s.spawn(|| {
                weft_testkit::assert_sleeps("a thread in Latch::wait", || latch.wait());
            }),
            s.spawn(|| {
                weft_testkit::assert_sleeps("a thread in Latch::wait_timeout", || {
                    assert!(latch.wait_timeout(Duration::from_secs(3600)));
                });
            }),
        ];
        thread::sleep(weft_testkit::BLOCKED);
        latch.count_down();
        for waiter in waiters {
            waiter.join().unwrap();
        }
    });
}

/// The latch is freed by a waiter the moment its call sees it open, while
/// the opener may still be inside its count-down, between the swap that
/// opens the latch and its `wake_all`. Sound only because the opener
/// touches nothing of the latch after that swap (Miri checks that); every
/// way of opening is raced against every way of seeing it open, with the
/// opener sometimes late so that the waiter sleeps.
#[test]
fn freed_by_the_waiter_while_the_opener_wakes() {
    struct SendPtr(*mut Latch);
    // SAFETY: the pointer is used as `&Latch` (Latch is Sync) and freed
    // once, by the waiter.
    unsafe impl Send for SendPtr {}

    let _watchdog = Watchdog::new("freed_by_the_waiter_while_the_opener_wakes", HANG);
    for round in 0..iterations(60, 4) {
        for open_with in 0..3 {
            for see_with in 0..3 {
                let count = if open_with == 1 { 2 } else { 1 };
                let raw = Box::into_raw(Box::new(Latch::new(count)));
                let late = round % 2 == 1;
                let (for_opener, for_waiter) = (SendPtr(raw), SendPtr(raw));
                let opener = thread::spawn(move || {
                    let ptr = for_opener;
                    if late {
                        thread::sleep(Duration::from_millis(1));
                    }
                    // SAFETY: the waiter frees the latch only after its
                    // call saw it open, which this call does.
                    let latch = unsafe { &*ptr.0 };
                    match open_with {
                        0 => latch.count_down(),
                        1 => latch.count_down_by(2),
                        _ => latch.arrive_and_wait(),
                    }
                });
                let waiter = thread::spawn(move || {
                    let ptr = for_waiter;
                    {
                        // SAFETY: nobody else frees the latch.
                        let latch = unsafe { &*ptr.0 };
                        match see_with {
                            0 => latch.wait(),
                            1 => assert!(latch.wait_timeout(Duration::from_secs(3600))),
                            _ => {
                                while !latch.try_wait() {
                                    thread::yield_now();
                                }
                            }
                        }
                    }
                    // SAFETY: the latch is open, and the opener, possibly
                    // still inside its call, no longer touches it.
                    drop(unsafe { Box::from_raw(ptr.0) });
                });
                opener.join().unwrap();
                waiter.join().unwrap();
            }
        }
    }
}

#[test]
fn a_latch_is_two_words_send_and_sync() {
    fn check<T: Send + Sync>() {}
    check::<Latch>();
    assert_eq!(size_of::<Latch>(), 2 * size_of::<usize>());
}

#[test]
fn a_static_latch_needs_no_initializer() {
    let _watchdog = Watchdog::new("a_static_latch_needs_no_initializer", HANG);
    static READY: Latch = Latch::new(2);
    static SEEN: AtomicBool = AtomicBool::new(false);
    thread::scope(|s| {
        s.spawn(|| {
            SEEN.store(true, Relaxed);
            READY.count_down();
        });
        READY.arrive_and_wait();
        assert!(SEEN.load(Relaxed));
    });
}

#[test]
fn debug_shows_the_count_left() {
    let latch = Latch::new(3);
    assert_eq!(count(&latch), "Latch { count: 3, .. }");
    latch.count_down();
    assert_eq!(count(&latch), "Latch { count: 2, .. }");
    assert!(!latch.wait_timeout(Duration::from_millis(1)));
    assert_eq!(count(&latch), "Latch { count: 2, .. }");
}

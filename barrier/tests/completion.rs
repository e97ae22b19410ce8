//! `Barrier::with_completion` and `Barrier::arrive_and_drop`: the
//! behaviours of libc++'s `std::barrier` tests (completion once per phase,
//! `arrive_and_drop` from any position) and of Java `Phaser`'s
//! arrive-and-deregister cases, written for this barrier.
#![cfg(not(loom))]

use std::cell::Cell;
use std::panic::{self, AssertUnwindSafe};
use std::sync::Arc;
use std::sync::atomic::AtomicUsize;
use std::sync::atomic::Ordering::{Relaxed, SeqCst};
use std::thread;
use std::time::Duration;

use weft_barrier::Barrier;
use weft_testkit::{Watchdog, iterations};

/// A test that hangs has lost a wake-up or a round: fail it instead.
const HANG: Duration = Duration::from_secs(if cfg!(miri) { 3600 } else { 120 });

/// A barrier whose completion counts its runs, with the counter.
fn counting(n: usize) -> (Barrier, Arc<AtomicUsize>) {
    let runs = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&runs);
    let barrier = Barrier::with_completion(n, move || {
        counter.fetch_add(1, Relaxed);
    });
    (barrier, runs)
}

#[test]
fn the_completion_runs_once_per_round_before_anyone_is_released() {
    let _watchdog = Watchdog::new(
        "the_completion_runs_once_per_round_before_anyone_is_released",
        HANG,
    );
    for threads in [2, 3, 5] {
        let rounds = iterations(200, 4);
        let (barrier, runs) = counting(threads);
        thread::scope(|s| {
            for _ in 0..threads {
                s.spawn(|| {
                    for round in 1..=rounds {
                        barrier.wait();
                        // This round's completion has run, and the next
                        // one cannot run before this thread arrives again.
                        assert_eq!(runs.load(Relaxed), round);
                    }
                });
            }
        });
        assert_eq!(runs.load(Relaxed), rounds, "{threads} threads");
    }
}

/// The completion runs on the last thread to arrive, which is the leader.
#[test]
fn the_completion_runs_on_the_leader() {
    let ran_on = Arc::new(std::sync::Mutex::new(None));
    let record = Arc::clone(&ran_on);
    let barrier = Barrier::with_completion(3, move || {
        *record.lock().unwrap() = Some(thread::current().id());
    });
    thread::scope(|s| {
        let handles: Vec<_> = (0..3)
            .map(|_| s.spawn(|| (thread::current().id(), barrier.wait().is_leader())))
            .collect();
        let results: Vec<_> = handles.into_iter().map(|h| h.join().unwrap()).collect();
        let leaders: Vec<_> = results.iter().filter(|(_, leader)| *leader).collect();
        assert_eq!(leaders.len(), 1);
        assert_eq!(*ran_on.lock().unwrap(), Some(leaders[0].0));
    });
}

/// Every thread writes its slot before `wait`; the completion reads them
/// all and writes the total, which every thread reads after `wait`. Under
/// Miri, a missing happens-before edge is a stale read of a `Relaxed`
/// atomic and fails the assertions.
#[test]
fn the_completion_sees_every_arrival_and_everyone_sees_the_completion() {
    const THREADS: usize = 4;
    let rounds = iterations(100, 3);
    let slots: Arc<Vec<AtomicUsize>> =
        Arc::new((0..THREADS).map(|_| AtomicUsize::new(0)).collect());
    let total = Arc::new(AtomicUsize::new(0));
    let barrier = {
        let (slots, total) = (Arc::clone(&slots), Arc::clone(&total));
        Barrier::with_completion(THREADS, move || {
            let sum = slots.iter().map(|slot| slot.load(Relaxed)).sum();
            total.store(sum, Relaxed);
        })
    };
    thread::scope(|s| {
        for i in 0..THREADS {
            let (barrier, slots, total) = (&barrier, &slots, &total);
            s.spawn(move || {
                for round in 1..=rounds {
                    slots[i].store(round * (i + 1), Relaxed);
                    barrier.wait();
                    let expected = round * (1..=THREADS).sum::<usize>();
                    assert_eq!(total.load(Relaxed), expected, "round {round}");
                    // The next round's writes must wait until every thread
                    // has read this round's total.
                    barrier.wait();
                }
            });
        }
    });
}

/// With `n` 0 or 1 every `wait` is a whole round: it leads and runs the
/// completion.
#[test]
fn a_barrier_of_one_runs_the_completion_at_every_wait() {
    for n in [0, 1] {
        let (barrier, runs) = counting(n);
        for round in 1..=3 {
            assert!(barrier.wait().is_leader());
            assert_eq!(runs.load(Relaxed), round);
        }
        assert!(barrier.wait_timeout(Duration::ZERO).unwrap().is_leader());
        assert_eq!(runs.load(Relaxed), 4);
    }
}

#[test]
fn a_panicking_completion_releases_the_round_and_the_barrier_stays_usable() {
    let _watchdog = Watchdog::new(
        "a_panicking_completion_releases_the_round_and_the_barrier_stays_usable",
        HANG,
    );
    let calls = Arc::new(AtomicUsize::new(0));
    let barrier = {
        let calls = Arc::clone(&calls);
        Barrier::with_completion(3, move || {
            // The first and third rounds' completions panic.
            if calls.fetch_add(1, Relaxed) % 2 == 0 {
                panic!("completion failed");
            }
        })
    };
    let rounds = 4;
    let panics = AtomicUsize::new(0);
    thread::scope(|s| {
        for _ in 0..3 {
            s.spawn(|| {
                for _ in 0..rounds {
                    let result = panic::catch_unwind(AssertUnwindSafe(|| barrier.wait()));
                    if let Err(payload) = result {
                        // The completion's own payload, on the thread that
                        // ran it.
                        assert_eq!(payload.downcast_ref::<&str>(), Some(&"completion failed"));
                        panics.fetch_add(1, Relaxed);
                    }
                }
            });
        }
    });
    assert_eq!(calls.load(Relaxed), rounds, "later rounds still run it");
    assert_eq!(panics.load(Relaxed), 2, "one panic per failed round");
}

/// A completion needs `Send`, not `Sync`: a `Cell` inside is fine.
#[test]
fn a_completion_may_hold_a_cell() {
    let count = Cell::new(0u32);
    let barrier = Barrier::with_completion(1, move || count.set(count.get() + 1));
    barrier.wait();
    fn check<T: Send + Sync>(_: &T) {}
    check(&barrier);
}

#[test]
fn the_completion_is_dropped_once_with_the_barrier() {
    struct CountsDrops(Arc<AtomicUsize>);
    impl Drop for CountsDrops {
        fn drop(&mut self) {
            self.0.fetch_add(1, Relaxed);
        }
    }
    let drops = Arc::new(AtomicUsize::new(0));
    let guard = CountsDrops(Arc::clone(&drops));
    let barrier = Barrier::with_completion(1, move || {
        let _ = &guard;
    });
    barrier.wait();
    barrier.wait();
    assert_eq!(drops.load(SeqCst), 0);
    drop(barrier);
    assert_eq!(drops.load(SeqCst), 1);
}

// ---------------------------------------------------------------------
// arrive_and_drop
// ---------------------------------------------------------------------

/// `n` threads; in every round a different one leaves at a different
/// position (before, among and after the others' arrivals), until one is
/// left; the rounds never hang and the completion runs once per round.
#[test]
fn threads_leave_one_per_round_from_every_position() {
    let _watchdog = Watchdog::new("threads_leave_one_per_round_from_every_position", HANG);
    for n in [2, 3, 5] {
        let (barrier, runs) = counting(n);
        let rounds_done = AtomicUsize::new(0);
        thread::scope(|s| {
            for id in 0..n {
                let (barrier, rounds_done) = (&barrier, &rounds_done);
                s.spawn(move || {
                    // Thread `id` takes part in rounds 0..id and leaves in
                    // round `id`; thread n - 1 stays to the end.
                    for round in 0..n {
                        if round == id && id < n - 1 {
                            // Vary where the leave falls in the round.
                            if id % 2 == 1 {
                                thread::yield_now();
                            }
                            barrier.arrive_and_drop();
                            return;
                        }
                        barrier.wait();
                        if id == n - 1 {
                            rounds_done.fetch_add(1, Relaxed);
                        }
                    }
                });
            }
        });
        assert_eq!(rounds_done.load(Relaxed), n, "n = {n}");
        // Round k needs the threads left in it; one round per wait of the
        // last thread, each completed once.
        assert_eq!(runs.load(Relaxed), n, "n = {n}");
    }
}

/// Phaser's arrive-and-deregister: with two parties, one leaving lets the
/// other pass every later round alone.
#[test]
fn after_a_thread_leaves_the_others_need_one_fewer() {
    let _watchdog = Watchdog::new("after_a_thread_leaves_the_others_need_one_fewer", HANG);
    let (barrier, runs) = counting(3);
    thread::scope(|s| {
        s.spawn(|| barrier.arrive_and_drop());
        s.spawn(|| {
            for _ in 0..5 {
                barrier.wait();
            }
        });
        for _ in 0..5 {
            barrier.wait();
        }
    });
    assert_eq!(runs.load(Relaxed), 5);
}

/// The last missing thread leaving ends the round without blocking, runs
/// the completion on itself, and the round has no leader.
#[test]
fn the_last_missing_thread_leaving_ends_the_round() {
    let _watchdog = Watchdog::new("the_last_missing_thread_leaving_ends_the_round", HANG);
    let ran_on = Arc::new(std::sync::Mutex::new(None));
    let record = Arc::clone(&ran_on);
    let barrier = Barrier::with_completion(3, move || {
        *record.lock().unwrap() = Some(thread::current().id());
    });
    thread::scope(|s| {
        let waiters: Vec<_> = (0..2)
            .map(|_| s.spawn(|| barrier.wait().is_leader()))
            .collect();
        // Let both arrive (and most likely fall asleep) first.
        while format!("{barrier:?}") != "Barrier { n: 3, waiting: 2, .. }" {
            thread::yield_now();
        }
        barrier.arrive_and_drop();
        assert_eq!(*ran_on.lock().unwrap(), Some(thread::current().id()));
        let leaders = waiters
            .into_iter()
            .map(|w| w.join().unwrap())
            .filter(|&leader| leader)
            .count();
        assert_eq!(
            leaders, 0,
            "a round ended by a leaving thread has no leader"
        );
    });
    assert_eq!(format!("{barrier:?}"), "Barrier { n: 2, waiting: 0, .. }");
}

/// Once every thread has left, the barrier is `Barrier::new(0)`: `wait`
/// returns at once as leader (and runs the completion); leaving again does
/// nothing.
#[test]
fn once_everyone_has_left_a_wait_leads_at_once() {
    let (barrier, runs) = counting(2);
    barrier.arrive_and_drop();
    barrier.arrive_and_drop();
    barrier.arrive_and_drop();
    assert_eq!(format!("{barrier:?}"), "Barrier { n: 0, waiting: 0, .. }");
    assert!(barrier.wait().is_leader());
    assert!(barrier.wait().is_leader());
    assert_eq!(runs.load(Relaxed), 2);
}

/// Every thread of a round but one leaves, concurrently with that one's
/// arrival, round after round: the arrival and the leaving race on `n` and
/// the word, and the round must end exactly once.
#[test]
fn leaves_racing_the_last_arrival_end_each_round_once() {
    let _watchdog = Watchdog::new("leaves_racing_the_last_arrival_end_each_round_once", HANG);
    for _ in 0..iterations(300, 6) {
        let (barrier, runs) = counting(3);
        thread::scope(|s| {
            s.spawn(|| barrier.arrive_and_drop());
            s.spawn(|| barrier.arrive_and_drop());
            barrier.wait();
        });
        assert_eq!(runs.load(Relaxed), 1);
        // The survivor is alone from now on.
        barrier.wait();
        assert_eq!(runs.load(Relaxed), 2);
    }
}

/// Leaving mixed with timed waits that give up: a withdrawn arrival and a
/// departure must not make a round end early or never.
#[test]
fn leaving_and_withdrawing_keep_the_count_consistent() {
    let (barrier, runs) = counting(3);
    // A timed wait that gives up leaves the round empty again.
    assert!(barrier.wait_timeout(Duration::from_millis(5)).is_none());
    barrier.arrive_and_drop();
    // Two threads are needed now.
    assert!(barrier.wait_timeout(Duration::from_millis(5)).is_none());
    assert_eq!(runs.load(Relaxed), 0);
    thread::scope(|s| {
        s.spawn(|| barrier.wait());
        assert!(barrier.wait_timeout(Duration::from_secs(3600)).is_some());
    });
    assert_eq!(runs.load(Relaxed), 1);
}

/// Two of four threads leave before any round; the two that remain pass
/// round after round, each round released by the two of them.
#[test]
fn the_threads_that_remain_pass_rounds_of_their_own_size() {
    let _watchdog = Watchdog::new(
        "the_threads_that_remain_pass_rounds_of_their_own_size",
        HANG,
    );
    let (barrier, runs) = counting(4);
    thread::scope(|s| {
        for _ in 0..2 {
            s.spawn(|| barrier.arrive_and_drop());
        }
    });
    let passes = iterations(200, 4);
    let leaders = AtomicUsize::new(0);
    thread::scope(|s| {
        for _ in 0..2 {
            s.spawn(|| {
                for _ in 0..passes {
                    if barrier.wait().is_leader() {
                        leaders.fetch_add(1, Relaxed);
                    }
                }
            });
        }
    });
    assert_eq!(runs.load(Relaxed), passes);
    assert_eq!(leaders.load(Relaxed), passes);
}

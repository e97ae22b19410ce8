//! Behaviour of `weft_barrier::Barrier`.
#![cfg(not(loom))]

use std::cell::UnsafeCell;
use std::sync::Arc;
use std::sync::atomic::AtomicUsize;
use std::sync::atomic::Ordering::Relaxed;
use std::thread;
use std::time::{Duration, Instant};

use weft_barrier::Barrier;
use weft_testkit::iterations;

#[test]
fn new_0_and_new_1_return_at_once_as_leader() {
    for n in [0, 1] {
        let barrier = Barrier::new(n);
        for _ in 0..10 {
            assert!(barrier.wait().is_leader());
            let timed = barrier.wait_timeout(Duration::ZERO);
            assert!(
                timed
                    .expect("a round of one is complete at once")
                    .is_leader()
            );
        }
    }
}

#[test]
fn a_barrier_is_two_words_and_a_completion_pointer_send_and_sync() {
    fn check<T: Send + Sync>() {}
    check::<Barrier>();
    // The state and `n`, then the completion's (wide) box pointer.
    assert_eq!(size_of::<Barrier>(), 8 + 2 * size_of::<usize>());
}

#[test]
fn max_threads_is_accepted() {
    let barrier = Barrier::new(Barrier::MAX_THREADS);
    assert_eq!(
        format!("{barrier:?}"),
        format!("Barrier {{ n: {}, waiting: 0, .. }}", Barrier::MAX_THREADS)
    );
}

#[test]
#[should_panic(expected = "larger than Barrier::MAX_THREADS (32767)")]
fn new_above_max_threads_panics() {
    let _ = Barrier::new(Barrier::MAX_THREADS + 1);
}

#[test]
fn debug_shows_the_size_and_the_waiting_threads() {
    let barrier = Barrier::new(3);
    assert_eq!(format!("{barrier:?}"), "Barrier { n: 3, waiting: 0, .. }");
    assert_eq!(
        format!("{:?}", Barrier::new(1).wait()),
        "BarrierWaitResult { is_leader: true }"
    );
    // A thread that gave up is no longer counted.
    assert!(barrier.wait_timeout(Duration::from_millis(1)).is_none());
    assert_eq!(format!("{barrier:?}"), "Barrier { n: 3, waiting: 0, .. }");
}

/// `threads` threads run `rounds` rounds on a barrier for `threads`. Each
/// round every thread records its round number in its slot before `wait`,
/// and after `wait` checks that every other thread has reached the same
/// round (and is not beyond the next one); the leaders are counted per
/// round.
fn rounds(threads: usize, rounds: usize) {
    let barrier = Barrier::new(threads);
    let leaders: Vec<AtomicUsize> = (0..rounds).map(|_| AtomicUsize::new(0)).collect();
    // Round numbers start at 1, so 0 means "not started".
    let reached: Vec<AtomicUsize> = (0..threads).map(|_| AtomicUsize::new(0)).collect();
    thread::scope(|s| {
        for me in 0..threads {
            let (barrier, leaders, reached) = (&barrier, &leaders, &reached);
            s.spawn(move || {
                for round in 1..=rounds {
                    // Relaxed: the barrier itself must order these.
                    reached[me].store(round, Relaxed);
                    if barrier.wait().is_leader() {
                        leaders[round - 1].fetch_add(1, Relaxed);
                    }
                    for (other, slot) in reached.iter().enumerate() {
                        let theirs = slot.load(Relaxed);
                        assert!(
                            theirs == round || theirs == round + 1,
                            "thread {me} passed round {round} while thread {other} was at {theirs}"
                        );
                    }
                }
            });
        }
    });
    for (round, leaders) in leaders.iter().enumerate() {
        assert_eq!(
            leaders.load(Relaxed),
            1,
            "round {} had the wrong number of leaders",
            round + 1
        );
    }
}

#[test]
fn two_threads_pass_round_after_round() {
    rounds(2, iterations(1000, 20));
}

#[test]
fn four_threads_pass_round_after_round() {
    rounds(4, iterations(1000, 10));
}

/// More threads than this machine's two cores: waiters must yield or sleep
/// for the late threads to run at all.
#[test]
fn eight_threads_on_two_cores_pass_round_after_round() {
    rounds(8, iterations(300, 4));
}

/// Plain (non-atomic) data written before `wait` is visible after it; Miri
/// and ThreadSanitizer report a data race if the barrier fails to order
/// them. Two buffers alternate: a round reads the buffer written before
/// its `wait`, and that buffer is written again only two rounds later.
#[test]
fn publishes_plain_writes() {
    struct Buffers(Vec<[UnsafeCell<usize>; 2]>);
    // SAFETY: each cell is written by one thread and read by others only in
    // phases that the barrier separates, which is what this test checks.
    unsafe impl Sync for Buffers {}

    const THREADS: usize = 4;
    let phases = iterations(300, 6);
    let barrier = Barrier::new(THREADS);
    let cells = Buffers(
        (0..THREADS)
            .map(|_| [UnsafeCell::new(0), UnsafeCell::new(0)])
            .collect(),
    );
    thread::scope(|s| {
        for me in 0..THREADS {
            let (barrier, cells) = (&barrier, &cells);
            s.spawn(move || {
                for phase in 1..=phases {
                    let buffer = phase % 2;
                    // SAFETY: only this thread writes its own cell, and
                    // the last reads of this buffer were in phase - 2,
                    // before everybody's wait in phase - 1.
                    unsafe { *cells.0[me][buffer].get() = phase * 100 + me };
                    barrier.wait();
                    for (other, cell) in cells.0.iter().enumerate() {
                        // SAFETY: the write of this phase came before its
                        // writer's wait, and the next write to this buffer
                        // comes after our next wait.
                        let value = unsafe { *cell[buffer].get() };
                        assert_eq!(value, phase * 100 + other);
                    }
                }
            });
        }
    });
}

/// Every thread drops its handle as soon as its `wait` returns, so the
/// last one out frees the barrier; repeated to catch the leader still
/// inside `wait` when the others leave.
#[test]
fn drop_right_after_last_wait() {
    for _ in 0..iterations(200, 3) {
        let barrier = Arc::new(Barrier::new(3));
        let handles: Vec<_> = (0..3)
            .map(|_| {
                let barrier = Arc::clone(&barrier);
                thread::spawn(move || {
                    let leader = barrier.wait().is_leader();
                    drop(barrier);
                    leader
                })
            })
            .collect();
        drop(barrier);
        let leaders = handles
            .into_iter()
            .map(|h| h.join().unwrap())
            .filter(|&leader| leader)
            .count();
        assert_eq!(leaders, 1);
    }
}

/// Stronger than `drop_right_after_last_wait`: the barrier is freed by the
/// non-leader the moment its own `wait` returns, while the leader may still
/// be inside `wait`, between its swap and its `wake_all`. Sound only
/// because the leader touches nothing of the barrier after the swap (Miri
/// checks that).
#[test]
fn freed_by_the_waiter_while_the_leader_wakes() {
    struct SendPtr(*mut Barrier);
    // SAFETY: the pointer is used as `&Barrier` (Barrier is Sync) and freed
    // once, by the thread that this test designates.
    unsafe impl Send for SendPtr {}

    for _ in 0..iterations(200, 5) {
        let raw = Box::into_raw(Box::new(Barrier::new(2)));
        let handles: Vec<_> = (0..2)
            .map(|_| {
                let ptr = SendPtr(raw);
                thread::spawn(move || {
                    let ptr = ptr;
                    // SAFETY: nobody frees the barrier before the waiter's
                    // wait has returned, and the waiter's wait returns only
                    // after both threads have arrived.
                    let leader = unsafe { &*ptr.0 }.wait().is_leader();
                    if !leader {
                        // SAFETY: both threads arrived and this thread is
                        // out of `wait`; the leader, possibly still inside
                        // `wait`, no longer touches the barrier.
                        drop(unsafe { Box::from_raw(ptr.0) });
                    }
                    leader
                })
            })
            .collect();
        let leaders = handles
            .into_iter()
            .map(|h| h.join().unwrap())
            .filter(|&leader| leader)
            .count();
        assert_eq!(leaders, 1);
    }
}

/// One thread is late, so the others must take the futex sleep path (even
/// under Miri) and be woken by the last arrival.
#[test]
fn sleeping_waiters_are_woken() {
    let barrier = Barrier::new(3);
    let passed = AtomicUsize::new(0);
    thread::scope(|s| {
        for _ in 0..2 {
            s.spawn(|| {
                let leader = barrier.wait().is_leader();
                passed.fetch_add(1, Relaxed);
                assert!(!leader, "the late thread completes the round");
            });
        }
        // Long enough for both waiters to spin out and sleep.
        thread::sleep(Duration::from_millis(50));
        assert_eq!(
            passed.load(Relaxed),
            0,
            "nobody passes before the last arrival"
        );
        assert!(barrier.wait().is_leader());
    });
    assert_eq!(passed.into_inner(), 2);
    // The round after the sleepers' one starts clean.
    assert_eq!(format!("{barrier:?}"), "Barrier { n: 3, waiting: 0, .. }");
}

#[test]
#[cfg_attr(miri, ignore = "Miri cannot read a thread's CPU time")]
fn waiters_sleep_instead_of_spinning() {
    let barrier = Barrier::new(3);
    thread::scope(|s| {
        let waiters: Vec<_> = (0..2)
            .map(|_| {
                s.spawn(|| {
                    weft_testkit::assert_sleeps("a thread in Barrier::wait", || {
                        barrier.wait();
                    });
                })
            })
            .collect();
        thread::sleep(weft_testkit::BLOCKED);
        barrier.wait();
        for waiter in waiters {
            waiter.join().unwrap();
        }
    });
}

#[test]
fn wait_timeout_times_out_and_withdraws() {
    let barrier = Barrier::new(2);
    let start = Instant::now();
    assert!(barrier.wait_timeout(Duration::from_millis(30)).is_none());
    assert!(start.elapsed() >= Duration::from_millis(30));
    assert!(barrier.wait_timeout(Duration::ZERO).is_none());
    // Had either arrival stayed counted, this round would complete with one
    // thread and the spawned thread would be left alone.
    thread::scope(|s| {
        let other = s.spawn(|| barrier.wait().is_leader());
        let me = barrier.wait().is_leader();
        assert!(me ^ other.join().unwrap(), "exactly one leader");
    });
}

#[test]
fn wait_timeout_succeeds_when_the_round_completes_in_time() {
    let barrier = Barrier::new(2);
    thread::scope(|s| {
        let waiter = s.spawn(|| {
            barrier
                .wait_timeout(Duration::from_secs(3600))
                .expect("the round completes long before the hour is up")
                .is_leader()
        });
        // Long enough for the waiter to sleep, even under Miri.
        thread::sleep(Duration::from_millis(50));
        let leader = barrier.wait().is_leader();
        assert!(leader, "the late thread completes the round");
        assert!(!waiter.join().unwrap());
    });
}

#[test]
fn wait_timeout_huge_timeout_waits_without_deadline() {
    let barrier = Barrier::new(2);
    thread::scope(|s| {
        s.spawn(|| barrier.wait());
        assert!(barrier.wait_timeout(Duration::MAX).is_some());
    });
}

/// More threads than `n`, each giving up after a short timeout: rounds form
/// from whoever arrives, threads withdraw and arrive again, and through all
/// of it every completed round releases exactly `n` threads, one of them a
/// leader.
#[test]
fn more_threads_than_n_with_timeouts_release_n_per_round() {
    const N: usize = 3;
    const THREADS: usize = 5;
    let target = iterations(300, 5);
    let barrier = Barrier::new(N);
    let leaders = AtomicUsize::new(0);
    let released = AtomicUsize::new(0);
    let timeouts = AtomicUsize::new(0);
    thread::scope(|s| {
        for _ in 0..THREADS {
            s.spawn(|| {
                while leaders.load(Relaxed) < target {
                    match barrier.wait_timeout(Duration::from_millis(2)) {
                        Some(result) => {
                            released.fetch_add(1, Relaxed);
                            if result.is_leader() {
                                leaders.fetch_add(1, Relaxed);
                            }
                        }
                        None => {
                            timeouts.fetch_add(1, Relaxed);
                        }
                    }
                }
            });
        }
    });
    let leaders = leaders.into_inner();
    assert!(leaders >= target);
    assert_eq!(
        released.into_inner(),
        N * leaders,
        "every completed round releases exactly {N} threads ({} timeouts)",
        timeouts.into_inner()
    );
    assert_eq!(format!("{barrier:?}"), "Barrier { n: 3, waiting: 0, .. }");
}

/// `wait` and `wait_timeout` in the same rounds.
#[test]
fn wait_and_wait_timeout_share_rounds() {
    let rounds = iterations(500, 6);
    let barrier = Barrier::new(3);
    let leaders: Vec<AtomicUsize> = (0..rounds).map(|_| AtomicUsize::new(0)).collect();
    thread::scope(|s| {
        for me in 0..3 {
            let (barrier, leaders) = (&barrier, &leaders);
            s.spawn(move || {
                for leader_count in leaders {
                    let result = if me == 0 {
                        barrier.wait()
                    } else {
                        barrier.wait_timeout(Duration::from_secs(3600)).unwrap()
                    };
                    if result.is_leader() {
                        leader_count.fetch_add(1, Relaxed);
                    }
                }
            });
        }
    });
    assert!(leaders.iter().all(|l| l.load(Relaxed) == 1));
}

#[test]
fn a_static_barrier_needs_no_initializer() {
    static BARRIER: Barrier = Barrier::new(2);
    thread::scope(|s| {
        let other = s.spawn(|| BARRIER.wait().is_leader());
        let me = BARRIER.wait().is_leader();
        assert!(me ^ other.join().unwrap());
    });
}

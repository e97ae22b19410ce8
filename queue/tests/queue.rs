//! Behaviour of `weft_queue::Queue`.
#![cfg(not(loom))]

use std::sync::atomic::AtomicUsize;
use std::sync::atomic::Ordering::{Relaxed, SeqCst};
use std::thread;
use std::time::{Duration, Instant};

use weft_queue::{PopTimeoutError, PushTimeoutError, Queue, TryPopError, TryPushError};
use weft_testkit::{Watchdog, iterations};

/// How long a test that waits on a wake-up may run before its [`Watchdog`]
/// fails it: far more than any of them needs on a busy machine. Under Miri
/// the clock is virtual, ticking with each step interpreted, so there the
/// limit is longer still: it catches a deadlock, where Miri skips ahead to
/// the earliest timeout, and nothing slow.
const HANG: Duration = Duration::from_secs(if cfg!(miri) { 3600 } else { 120 });

type Make = fn() -> Queue<u64>;

/// Every flavor the tests run on.
fn flavors() -> Vec<(&'static str, Make)> {
    vec![
        ("bounded(1)", || Queue::bounded(1)),
        ("bounded(2)", || Queue::bounded(2)),
        ("bounded(64)", || Queue::bounded(64)),
        ("bounded(100)", || Queue::bounded(100)),
        ("unbounded", Queue::unbounded),
    ]
}

#[test]
fn a_pushed_value_pops_and_leaves_the_queue_empty() {
    for (name, make) in flavors() {
        let q = make();
        q.push(7).unwrap();
        assert_eq!(q.len(), 1, "{name}");
        assert_eq!(q.pop(), Some(7), "{name}");
        assert!(q.is_empty(), "{name}");
        assert_eq!(q.try_pop(), Err(TryPopError::Empty), "{name}");
    }
}

#[test]
fn a_queue_of_send_values_is_send_and_sync() {
    fn check<T: Send + Sync>() {}
    check::<Queue<u64>>();
    check::<Queue<std::cell::Cell<u64>>>();
}

/// FIFO over many laps of a small ring and across many blocks of the list.
#[test]
fn values_pop_in_push_order_over_many_laps_and_blocks() {
    let n = iterations(1000, 40) as u64;
    for (name, make) in flavors() {
        let q = make();
        let cap = q.capacity().unwrap_or(usize::MAX) as u64;
        let mut next_out = 0;
        for i in 0..n {
            if q.len() as u64 == cap {
                assert_eq!(q.pop(), Some(next_out), "{name}");
                next_out += 1;
            }
            q.push(i).unwrap();
        }
        while let Ok(v) = q.try_pop() {
            assert_eq!(v, next_out, "{name}");
            next_out += 1;
        }
        assert_eq!(next_out, n, "{name}");
    }
}

#[test]
fn try_push_reports_full_and_a_closed_queue_refuses_even_when_full() {
    let q = Queue::bounded(2);
    q.try_push(1).unwrap();
    q.try_push(2).unwrap();
    assert!(q.is_full());
    assert_eq!(q.try_push(3), Err(TryPushError::Full(3)));
    assert!(q.close());
    // Closed wins over full.
    assert_eq!(q.try_push(4), Err(TryPushError::Closed(4)));
    assert_eq!(
        q.push_timeout(5, Duration::from_secs(1)),
        Err(PushTimeoutError::Closed(5))
    );
    assert_eq!(q.push(6).unwrap_err().0, 6);
    assert_eq!(q.len(), 2);
}

#[test]
fn pops_drain_a_closed_queue_before_reporting_closed() {
    for (name, make) in flavors() {
        let q = make();
        let cap = q.capacity().unwrap_or(3).min(3) as u64;
        for i in 0..cap {
            q.push(i).unwrap();
        }
        assert!(q.close(), "{name}");
        assert!(!q.close(), "{name}: the second close reports false");
        assert!(q.is_closed());
        assert_eq!(q.try_pop(), Ok(0), "{name}");
        if cap > 1 {
            assert_eq!(q.pop_timeout(Duration::from_secs(1)), Ok(1), "{name}");
        }
        if cap > 2 {
            assert_eq!(q.pop(), Some(2), "{name}");
        }
        assert_eq!(q.pop(), None, "{name}");
        assert_eq!(q.try_pop(), Err(TryPopError::Closed), "{name}");
        assert_eq!(
            q.pop_timeout(Duration::from_secs(1)),
            Err(PopTimeoutError::Closed)
        );
    }
}

#[test]
fn an_unbounded_queue_is_never_full() {
    let q = Queue::unbounded();
    for i in 0..100 {
        q.try_push(i).unwrap();
        assert!(!q.is_full());
    }
    assert_eq!(q.capacity(), None);
    assert_eq!(q.len(), 100);
}

#[test]
fn timed_calls_wait_out_their_timeout_and_succeed_at_once_when_they_can() {
    let q = Queue::bounded(1);
    let start = Instant::now();
    assert_eq!(
        q.pop_timeout(Duration::from_millis(20)),
        Err(PopTimeoutError::Timeout)
    );
    assert!(start.elapsed() >= Duration::from_millis(20));
    q.push(1).unwrap();
    let start = Instant::now();
    assert_eq!(
        q.push_timeout(2, Duration::from_millis(20)),
        Err(PushTimeoutError::Timeout(2))
    );
    assert!(start.elapsed() >= Duration::from_millis(20));
    assert_eq!(q.pop_timeout(Duration::ZERO), Ok(1));
    assert_eq!(q.push_timeout(3, Duration::MAX), Ok(()));
}

/// A consumer that sleeps on an empty queue is woken by a push (the sleep
/// path, also under Miri).
#[test]
fn a_consumer_asleep_on_an_empty_queue_wakes_on_push() {
    let _watchdog = Watchdog::new("a_consumer_asleep_on_an_empty_queue_wakes_on_push", HANG);
    for (name, make) in flavors() {
        let q = make();
        thread::scope(|s| {
            let consumer = s.spawn(|| q.pop());
            thread::sleep(Duration::from_millis(30));
            q.push(42).unwrap();
            assert_eq!(consumer.join().unwrap(), Some(42), "{name}");
        });
    }
}

/// A producer that sleeps on a full queue is woken by a pop.
#[test]
fn a_producer_asleep_on_a_full_queue_wakes_on_pop() {
    let _watchdog = Watchdog::new("a_producer_asleep_on_a_full_queue_wakes_on_pop", HANG);
    let q = Queue::bounded(1);
    q.push(1).unwrap();
    thread::scope(|s| {
        let producer = s.spawn(|| q.push(2));
        thread::sleep(Duration::from_millis(30));
        assert_eq!(q.pop(), Some(1));
        producer.join().unwrap().unwrap();
    });
    assert_eq!(q.pop(), Some(2));
}

#[test]
fn close_wakes_every_blocked_producer_and_consumer() {
    let _watchdog = Watchdog::new("close_wakes_every_blocked_producer_and_consumer", HANG);
    let empty: Queue<u64> = Queue::unbounded();
    let full = Queue::bounded(1);
    full.push(0).unwrap();
    thread::scope(|s| {
        let poppers: Vec<_> = (0..3).map(|_| s.spawn(|| empty.pop())).collect();
        let full = &full;
        let pushers: Vec<_> = (0..3).map(|i| s.spawn(move || full.push(i))).collect();
        thread::sleep(Duration::from_millis(30));
        empty.close();
        full.close();
        for p in poppers {
            assert_eq!(p.join().unwrap(), None);
        }
        for (i, p) in pushers.into_iter().enumerate() {
            assert_eq!(
                p.join().unwrap().unwrap_err().0,
                i as u64,
                "the value comes back"
            );
        }
    });
}

#[test]
#[cfg_attr(miri, ignore = "Miri cannot read a thread's CPU time")]
fn a_blocked_consumer_sleeps_instead_of_spinning() {
    let _watchdog = Watchdog::new("a_blocked_consumer_sleeps_instead_of_spinning", HANG);
    let q: Queue<u64> = Queue::bounded(4);
    thread::scope(|s| {
        let consumer = s.spawn(|| {
            weft_testkit::assert_sleeps("a consumer in Queue::pop", || {
                assert_eq!(q.pop(), Some(1));
            });
        });
        thread::sleep(weft_testkit::BLOCKED);
        q.push(1).unwrap();
        consumer.join().unwrap();
    });
}

#[test]
#[should_panic(expected = "capacity must be non-zero")]
fn zero_capacity_panics() {
    let _ = Queue::<u8>::bounded(0);
}

#[test]
#[should_panic(expected = "too large")]
fn unindexable_capacity_panics() {
    let _ = Queue::<u8>::bounded(usize::MAX / 2);
}

#[test]
#[cfg_attr(miri, ignore = "asks the allocator for terabytes")]
#[should_panic(expected = "cannot allocate a bounded queue of capacity")]
fn unallocatable_capacity_panics_instead_of_aborting() {
    // Small enough to index on 32 and 64 bits, far too large to allocate.
    let _ = Queue::<[u8; 64]>::bounded(usize::MAX >> 4);
}

/// Counts drops of values, to show each is dropped exactly once.
#[derive(Debug)]
struct Counted<'a>(&'a AtomicUsize);

impl Drop for Counted<'_> {
    fn drop(&mut self) {
        self.0.fetch_add(1, Relaxed);
    }
}

#[test]
fn values_left_inside_are_dropped_once() {
    for capacity in [Some(1), Some(3), Some(64), None] {
        // Several lengths, after some laps or blocks have gone by.
        for (pushed, popped) in [(0, 0), (1, 0), (5, 2), (70, 40)] {
            let drops = AtomicUsize::new(0);
            let q = match capacity {
                Some(c) => Queue::bounded(c),
                None => Queue::unbounded(),
            };
            let mut expected = 0;
            let mut held = 0;
            for i in 0..pushed {
                if let Some(c) = capacity
                    && held == c
                {
                    drop(q.pop().unwrap());
                    held -= 1;
                }
                q.push(Counted(&drops)).unwrap();
                held += 1;
                if i < popped && held > 0 {
                    drop(q.pop().unwrap());
                    held -= 1;
                }
            }
            expected += pushed;
            // Values handed back in errors are the caller's to drop.
            q.close();
            let back = q.try_push(Counted(&drops)).unwrap_err().into_inner();
            drop(back);
            expected += 1;
            drop(q);
            assert_eq!(
                drops.load(Relaxed),
                expected,
                "capacity {capacity:?}, {pushed} pushed"
            );
        }
    }
}

#[test]
fn four_producers_and_four_consumers_move_every_value_once_in_order() {
    let _watchdog = Watchdog::new(
        "four_producers_and_four_consumers_move_every_value_once_in_order",
        HANG,
    );
    let per_producer = iterations(250_000, 20) as u64;
    for (_name, make) in flavors() {
        mpmc(&make(), per_producer);
    }
}

/// Four producers and four consumers; the last producer to finish closes
/// the queue. Every value is received exactly once, and each producer's
/// values arrive in order at every consumer.
fn mpmc(q: &Queue<u64>, per_producer: u64) {
    const PRODUCERS: u64 = 4;
    const CONSUMERS: usize = 4;
    let seen: Vec<AtomicUsize> = (0..PRODUCERS * per_producer)
        .map(|_| AtomicUsize::new(0))
        .collect();
    let producers_left = AtomicUsize::new(PRODUCERS as usize);
    let received = AtomicUsize::new(0);
    thread::scope(|s| {
        for p in 0..PRODUCERS {
            let producers_left = &producers_left;
            s.spawn(move || {
                for i in 0..per_producer {
                    q.push(p * per_producer + i).unwrap();
                }
                if producers_left.fetch_sub(1, SeqCst) == 1 {
                    q.close();
                }
            });
        }
        for _ in 0..CONSUMERS {
            s.spawn(|| {
                let mut last = [None::<u64>; PRODUCERS as usize];
                while let Some(v) = q.pop() {
                    let (p, i) = ((v / per_producer) as usize, v % per_producer);
                    assert!(
                        last[p].is_none_or(|l| l < i),
                        "producer {p}: {i} after {:?}",
                        last[p]
                    );
                    last[p] = Some(i);
                    seen[v as usize].fetch_add(1, Relaxed);
                    received.fetch_add(1, Relaxed);
                }
            });
        }
    });
    assert_eq!(received.load(Relaxed) as u64, PRODUCERS * per_producer);
    for (v, count) in seen.iter().enumerate() {
        assert_eq!(count.load(Relaxed), 1, "value {v}");
    }
}

#[test]
fn len_never_exceeds_capacity() {
    let _watchdog = Watchdog::new("len_never_exceeds_capacity", HANG);
    let q = Queue::bounded(3);
    let rounds = iterations(20_000, 30);
    thread::scope(|s| {
        s.spawn(|| {
            for i in 0..rounds {
                q.push(i).unwrap();
            }
            q.close();
        });
        s.spawn(|| while q.pop().is_some() {});
        s.spawn(|| {
            while !q.is_closed() {
                assert!(q.len() <= 3);
            }
        });
    });
}

/// Large values pass through a thread with a small stack: the unbounded
/// queue's blocks (63 values each) are made on the heap, never on the
/// stack first, and neither flavor copies more than a value or two onto
/// the stack. (crossbeam-channel's `list::stack_overflow` sends a 32 KiB
/// value on a test thread's 2 MiB stack.)
#[test]
fn large_values_need_no_large_stack() {
    // Miri has no stack limit to hit, only time to spend.
    const SIZE: usize = if cfg!(miri) { 256 } else { 8 * 1024 };
    let run = || {
        for q in [Queue::bounded(8), Queue::unbounded()] {
            for i in 0..3u8 {
                q.push([i; SIZE]).unwrap();
            }
            for i in 0..3u8 {
                assert!(q.pop().unwrap().iter().all(|&b| b == i));
            }
        }
    };
    // A block of 8 KiB values is about 500 KiB.
    thread::Builder::new()
        .stack_size(256 * 1024)
        .spawn(run)
        .unwrap()
        .join()
        .unwrap();
}

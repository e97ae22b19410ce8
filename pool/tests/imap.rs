//! Behaviour of `Pool::imap` and `Pool::imap_unordered`, much of it ported
//! from CPython's `_TestPool` (`test_imap`, `test_imap_unordered`, their
//! `handle_iterable_exception` forms, `test_empty_iterable`), and the
//! laziness, the window and the drop that Python's eager feeder thread
//! does not have.
#![cfg(not(loom))]

mod common;

use std::collections::HashSet;
use std::iter::FusedIterator;
use std::panic::{self, AssertUnwindSafe};
use std::sync::Arc;
use std::sync::atomic::Ordering::SeqCst;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize};
use std::thread;
use std::time::Duration;

use weft_pool::{Imap, ImapUnordered, Pool, TaskError};
use weft_testkit::{Watchdog, iterations};

use common::{CLOSED, EXPECTED, HANG, quiet_expected_panics};

/// The worker count for most tests: small under Miri.
fn workers() -> usize {
    iterations(4, 2)
}

/// An input length: `normal` natively, `miri` under Miri.
fn len(normal: u64, miri: u64) -> u64 {
    if cfg!(miri) { miri } else { normal }
}

/// How many chunks an imap keeps in flight at most, by its documentation.
fn window(workers: usize) -> usize {
    2 * workers + 2
}

fn sqr(x: u64) -> u64 {
    x * x
}

/// The values of `results`, which must all be `Ok`.
fn values<R>(results: impl Iterator<Item = Result<R, TaskError>>) -> Vec<R> {
    results
        .map(|r| r.unwrap_or_else(|e| panic!("unexpected {e}")))
        .collect()
}

/// An input of `len` items that panics when asked for item `fail_at`
/// (Python's `exception_throwing_generator`).
fn failing_input(len: u64, fail_at: u64) -> impl Iterator<Item = u64> {
    (0..len).inspect(move |&i| {
        if i == fail_at {
            panic!("{EXPECTED}: the input fails at {i}");
        }
    })
}

/// The text of a panic payload.
fn message(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| payload.downcast_ref::<&str>().map(|s| (*s).to_owned()))
        .unwrap_or_default()
}

/// An input that counts how many items were pulled from it, and checks
/// that they are pulled on the thread that made it.
fn counted<T>(items: impl Iterator<Item = T>, pulls: Arc<AtomicUsize>) -> impl Iterator<Item = T> {
    let me = thread::current().id();
    items.inspect(move |_| {
        assert_eq!(thread::current().id(), me, "pulled on the calling thread");
        pulls.fetch_add(1, SeqCst);
    })
}

/// A value that counts its drops.
struct Counted(Arc<AtomicUsize>);

impl Drop for Counted {
    fn drop(&mut self) {
        self.0.fetch_add(1, SeqCst);
    }
}

// ---------------------------------------------------------------------
// Results and their order (test_imap, test_imap_unordered,
// test_empty_iterable).
// ---------------------------------------------------------------------

#[test]
fn imap_yields_each_result_in_input_order_and_then_ends() {
    let _watchdog = Watchdog::new("imap_yields_each_result_in_input_order_and_then_ends", HANG);
    let pool = Pool::new(workers());
    assert_eq!(
        values(pool.imap(sqr, (0..10).collect::<Vec<_>>())),
        (0..10).map(sqr).collect::<Vec<_>>()
    );

    let mut it = pool.imap(sqr, 0..10);
    for i in 0..10 {
        assert_eq!(it.next().unwrap().unwrap(), i * i);
    }
    assert!(it.next().is_none());
    assert!(it.next().is_none(), "fused");

    let n = len(1000, 60);
    let mut it = pool.imap_chunked(sqr, 0..n, 100.min(n as usize / 3));
    for i in 0..n {
        assert_eq!(it.next().unwrap().unwrap(), i * i);
    }
    assert!(it.next().is_none());
}

#[test]
fn every_chunk_size_keeps_the_input_order() {
    let _watchdog = Watchdog::new("every_chunk_size_keeps_the_input_order", HANG);
    let pool = Pool::new(workers());
    let n = len(200, 23);
    let expected: Vec<u64> = (0..n).map(sqr).collect();
    for chunksize in [1, 3, 7, n as usize - 1, n as usize, 100 * n as usize] {
        let got = values(pool.imap_chunked(sqr, 0..n, chunksize));
        assert_eq!(got, expected, "chunksize {chunksize}");
    }
}

#[test]
fn imap_unordered_yields_every_result_exactly_once() {
    let _watchdog = Watchdog::new("imap_unordered_yields_every_result_exactly_once", HANG);
    let pool = Pool::new(workers());
    let n = len(1000, 40);
    let expected: Vec<u64> = (0..n).map(sqr).collect();
    for chunksize in [1, 3, 53, 2 * n as usize] {
        let mut got = values(pool.imap_unordered_chunked(sqr, 0..n, chunksize));
        got.sort_unstable();
        assert_eq!(got, expected, "chunksize {chunksize}");
    }
    let mut got = values(pool.imap_unordered(sqr, 0..n));
    got.sort_unstable();
    assert_eq!(got, expected);
}

#[test]
fn imap_unordered_keeps_the_input_order_within_a_chunk() {
    let _watchdog = Watchdog::new("imap_unordered_keeps_the_input_order_within_a_chunk", HANG);
    let pool = Pool::new(workers());
    let n = len(300, 40);
    let chunksize = 7;
    let got = values(pool.imap_unordered_chunked(|x: u64| x, 0..n, chunksize));
    // The results come chunk by chunk: each chunk's results are contiguous
    // and ascending (the short last chunk may come anywhere).
    let mut rest = &got[..];
    while let Some(&first) = rest.first() {
        assert_eq!(first % chunksize as u64, 0, "{got:?}");
        let end = (first + chunksize as u64).min(n);
        let run: Vec<u64> = (first..end).collect();
        assert_eq!(rest[..run.len()], run, "{got:?}");
        rest = &rest[run.len()..];
    }
}

/// A chunk that finishes first comes first: the first item cannot finish
/// until the consumer has received the second one's result.
#[test]
fn imap_unordered_yields_a_chunk_as_soon_as_it_finishes() {
    let _watchdog = Watchdog::new("imap_unordered_yields_a_chunk_as_soon_as_it_finishes", HANG);
    let pool = Pool::new(2);
    let second_seen = Arc::new(AtomicBool::new(false));
    let flag = second_seen.clone();
    let mut it = pool.imap_unordered(
        move |x: u32| {
            if x == 0 {
                while !flag.load(SeqCst) {
                    thread::sleep(Duration::from_millis(1));
                }
            }
            x
        },
        [0, 1],
    );
    assert_eq!(it.next().unwrap().unwrap(), 1);
    second_seen.store(true, SeqCst);
    assert_eq!(it.next().unwrap().unwrap(), 0);
    assert!(it.next().is_none());
}

#[test]
fn an_empty_input_yields_nothing_and_runs_nothing() {
    let _watchdog = Watchdog::new("an_empty_input_yields_nothing_and_runs_nothing", HANG);
    let pool = Pool::new(1);
    let calls = Arc::new(AtomicUsize::new(0));
    let f = {
        let calls = calls.clone();
        move |x: u64| {
            calls.fetch_add(1, SeqCst);
            x
        }
    };
    assert!(pool.imap(f.clone(), Vec::new()).next().is_none());
    assert!(pool.imap_chunked(f.clone(), 0..0, 5).next().is_none());
    assert!(pool.imap_unordered(f.clone(), []).next().is_none());
    assert!(pool.imap_unordered_chunked(f, 0..0, 2).next().is_none());
    assert_eq!(calls.load(SeqCst), 0);
}

// ---------------------------------------------------------------------
// Panics: of an item, of the input.
// ---------------------------------------------------------------------

#[test]
fn a_panic_fails_only_its_own_item_whatever_the_chunk_size() {
    let _watchdog = Watchdog::new(
        "a_panic_fails_only_its_own_item_whatever_the_chunk_size",
        HANG,
    );
    quiet_expected_panics();
    let pool = Pool::new(workers());
    let f = |x: u64| {
        if x % 5 == 2 {
            panic!("{EXPECTED}: item {x}");
        }
        sqr(x)
    };
    let n = len(40, 12);
    for chunksize in [1, 3, 100] {
        let results: Vec<_> = pool.imap_chunked(f, 0..n, chunksize).collect();
        assert_eq!(results.len(), n as usize);
        for (x, result) in (0..n).zip(results) {
            match result {
                Ok(value) => assert_eq!(value, sqr(x), "chunksize {chunksize}"),
                Err(error) => {
                    assert_eq!(x % 5, 2, "chunksize {chunksize}: item {x} failed");
                    assert_eq!(
                        error.to_string(),
                        format!("task panicked: {EXPECTED}: item {x}")
                    );
                }
            }
        }
        let mut failed = 0;
        let mut ok = HashSet::new();
        for result in pool.imap_unordered_chunked(f, 0..n, chunksize) {
            match result {
                Ok(value) => assert!(ok.insert(value)),
                Err(_) => failed += 1,
            }
        }
        let expected_ok: HashSet<u64> = (0..n).filter(|x| x % 5 != 2).map(sqr).collect();
        assert_eq!(ok, expected_ok, "chunksize {chunksize}");
        assert_eq!(failed, (0..n).filter(|x| x % 5 == 2).count());
    }
}

#[test]
fn the_inputs_panic_reaches_the_caller_after_the_items_before_it() {
    let _watchdog = Watchdog::new(
        "the_inputs_panic_reaches_the_caller_after_the_items_before_it",
        HANG,
    );
    quiet_expected_panics();
    let pool = Pool::new(workers());
    for (len, fail_at, chunksize) in [(1, 0, 1), (1, 0, 1), (10, 3, 1), (20, 7, 2), (20, 7, 4)] {
        let context = format!("fail at {fail_at} with chunks of {chunksize}");
        let mut it = pool.imap_chunked(sqr, failing_input(len, fail_at), chunksize);
        for i in 0..fail_at {
            assert_eq!(it.next().unwrap().unwrap(), sqr(i), "{context}");
        }
        let payload = panic::catch_unwind(AssertUnwindSafe(|| it.next())).unwrap_err();
        assert_eq!(
            message(&*payload),
            format!("{EXPECTED}: the input fails at {fail_at}"),
            "{context}"
        );
        assert!(it.next().is_none(), "{context}: over after the panic");
    }
}

#[test]
fn imap_unordered_yields_every_item_before_the_inputs_panic() {
    let _watchdog = Watchdog::new(
        "imap_unordered_yields_every_item_before_the_inputs_panic",
        HANG,
    );
    quiet_expected_panics();
    let pool = Pool::new(workers());
    for (len, fail_at, chunksize) in [(1, 0, 1), (10, 3, 1), (20, 7, 2)] {
        let mut it = pool.imap_unordered_chunked(sqr, failing_input(len, fail_at), chunksize);
        let mut seen = HashSet::new();
        let payload = panic::catch_unwind(AssertUnwindSafe(|| {
            for result in it.by_ref() {
                assert!(seen.insert(result.unwrap()), "a result twice");
            }
        }))
        .expect_err("the input's panic comes through");
        assert!(message(&*payload).contains("the input fails"));
        assert_eq!(seen, (0..fail_at).map(sqr).collect::<HashSet<_>>());
        assert!(it.next().is_none());
    }
}

// ---------------------------------------------------------------------
// Laziness and the window.
// ---------------------------------------------------------------------

#[test]
fn an_endless_input_with_take_ends() {
    let _watchdog = Watchdog::new("an_endless_input_with_take_ends", HANG);
    let pool = Pool::new(workers());
    let first: Vec<u64> = values(pool.imap(|x: u64| x + 1, 0..).take(10));
    assert_eq!(first, (1..=10).collect::<Vec<_>>());
    let first: Vec<u64> = values(pool.imap_chunked(|x: u64| x + 1, 0.., 64).take(10));
    assert_eq!(first, (1..=10).collect::<Vec<_>>());
    let some: HashSet<u64> = values(pool.imap_unordered(|x: u64| x, 0..).take(10))
        .into_iter()
        .collect();
    assert_eq!(some.len(), 10);
}

#[test]
fn nothing_is_pulled_before_the_first_result_is_asked_for() {
    let pool = Pool::new(1);
    let pulls = Arc::new(AtomicUsize::new(0));
    let it = pool.imap(sqr, counted(0..100, pulls.clone()));
    thread::sleep(Duration::from_millis(10));
    assert_eq!(pulls.load(SeqCst), 0);
    drop(it);
    assert_eq!(pulls.load(SeqCst), 0);
}

#[test]
fn the_input_is_pulled_only_a_window_ahead_of_the_consumer() {
    let _watchdog = Watchdog::new(
        "the_input_is_pulled_only_a_window_ahead_of_the_consumer",
        HANG,
    );
    for n in [1, 2] {
        let pool = Pool::new(n);
        for chunksize in [1, 4] {
            let pulls = Arc::new(AtomicUsize::new(0));
            // The consumer is slow: the workers are done long before.
            let mut it = pool.imap_chunked(|x: u64| x, counted(0.., pulls.clone()), chunksize);
            for consumed in 1..=iterations(200, 20) {
                assert_eq!(it.next().unwrap().unwrap(), consumed as u64 - 1);
                if consumed % 16 == 0 {
                    thread::sleep(Duration::from_millis(1));
                }
                let pulled = pulls.load(SeqCst);
                // The current chunk, and a window of chunks after it.
                let most = consumed + (window(n) + 1) * chunksize;
                assert!(
                    pulled <= most,
                    "{n} workers, chunks of {chunksize}: {pulled} pulled for {consumed} consumed"
                );
            }
            // No pulling between calls of `next`.
            let pulled = pulls.load(SeqCst);
            thread::sleep(Duration::from_millis(20));
            assert_eq!(pulls.load(SeqCst), pulled);
            drop(it);
            assert_eq!(pulls.load(SeqCst), pulled, "nothing pulled by the drop");
        }
    }
}

#[test]
fn imap_unordered_pulls_only_a_window_ahead_too() {
    let _watchdog = Watchdog::new("imap_unordered_pulls_only_a_window_ahead_too", HANG);
    let pool = Pool::new(2);
    let pulls = Arc::new(AtomicUsize::new(0));
    let mut it = pool.imap_unordered_chunked(|x: u64| x, counted(0.., pulls.clone()), 3);
    for consumed in 1..=iterations(100, 15) {
        it.next().unwrap().unwrap();
        assert!(pulls.load(SeqCst) <= consumed + (window(2) + 1) * 3);
    }
}

/// `size_hint` counts the results in flight and the input's hint.
#[test]
fn the_size_hint_counts_what_is_in_flight_and_what_the_input_promises() {
    let pool = Pool::new(2);
    let mut it = pool.imap_chunked(sqr, vec![1, 2, 3, 4, 5, 6, 7], 2);
    assert_eq!(it.size_hint(), (7, Some(7)));
    it.next();
    assert_eq!(it.size_hint(), (6, Some(6)));
    assert_eq!(it.by_ref().count(), 6);
    assert_eq!(it.size_hint(), (0, Some(0)));
    let endless = pool.imap(sqr, 0..);
    assert_eq!(endless.size_hint(), (usize::MAX, None));
}

// ---------------------------------------------------------------------
// Dropping the iterator.
// ---------------------------------------------------------------------

#[test]
fn dropping_the_iterator_midway_drops_the_late_results_and_the_function() {
    let _watchdog = Watchdog::new(
        "dropping_the_iterator_midway_drops_the_late_results_and_the_function",
        HANG,
    );
    for unordered in [false, true] {
        let pool = Pool::new(workers());
        let made = Arc::new(AtomicUsize::new(0));
        let dropped = Arc::new(AtomicUsize::new(0));
        let f_dropped = Arc::new(AtomicUsize::new(0));
        let pulls = Arc::new(AtomicUsize::new(0));
        let f = {
            let (made, dropped) = (made.clone(), dropped.clone());
            let guard = Counted(f_dropped.clone());
            move |_: u64| {
                let _ = &guard;
                // Slow enough that chunks are still running at the drop.
                thread::sleep(Duration::from_micros(200));
                made.fetch_add(1, SeqCst);
                Counted(dropped.clone())
            }
        };
        {
            let input = counted(0.., pulls.clone());
            let taken: Vec<_> = if unordered {
                pool.imap_unordered_chunked(f, input, 2).take(5).collect()
            } else {
                pool.imap_chunked(f, input, 2).take(5).collect()
            };
            assert_eq!(taken.len(), 5);
        }
        let pulled = pulls.load(SeqCst);
        // Let every chunk in flight finish.
        pool.join();
        assert_eq!(pulls.load(SeqCst), pulled, "no pulling after the drop");
        // Each pulled item ran, and each result was dropped, once: the five
        // taken, and those nobody took.
        assert_eq!(made.load(SeqCst), pulled, "unordered: {unordered}");
        assert_eq!(dropped.load(SeqCst), pulled, "unordered: {unordered}");
        assert_eq!(f_dropped.load(SeqCst), 1, "the function was dropped once");
    }
}

#[test]
fn the_pool_stays_usable_after_an_imap_is_dropped() {
    let _watchdog = Watchdog::new("the_pool_stays_usable_after_an_imap_is_dropped", HANG);
    let pool = Pool::new(workers());
    for _ in 0..iterations(20, 3) {
        let mut it = pool.imap(sqr, 0..);
        assert_eq!(it.next().unwrap().unwrap(), 0);
    }
    assert_eq!(pool.map(sqr, 0..4), [0, 1, 4, 9]);
    assert_eq!(values(pool.imap(sqr, 0..4)), [0, 1, 4, 9]);
}

// ---------------------------------------------------------------------
// Inside a task, on other threads.
// ---------------------------------------------------------------------

#[test]
fn imap_inside_a_task_completes_on_a_one_worker_pool() {
    let _watchdog = Watchdog::new("imap_inside_a_task_completes_on_a_one_worker_pool", HANG);
    let pool = Pool::new(1);
    let n = len(100, 12);
    let expected: u64 = (0..n).map(sqr).sum();
    let inside = pool.apply(
        || {
            let ordered: u64 = values(pool.imap(sqr, 0..n)).into_iter().sum();
            let chunked: u64 = values(pool.imap_chunked(sqr, 0..n, 3)).into_iter().sum();
            let unordered: u64 = values(pool.imap_unordered_chunked(sqr, 0..n, 2))
                .into_iter()
                .sum();
            (ordered, chunked, unordered)
        },
        (),
    );
    assert_eq!(inside, (expected, expected, expected));
}

/// The outer imap's chunks run an inner imap each, on workers that all
/// wait for their inner results.
#[test]
fn an_imap_nested_in_an_imaps_function_completes() {
    let _watchdog = Watchdog::new("an_imap_nested_in_an_imaps_function_completes", HANG);
    for n in [1, 2] {
        let pool = Arc::new(Pool::new(n));
        let inner = pool.clone();
        let sums = values(pool.imap(
            move |k: u64| values(inner.imap(sqr, 0..k)).into_iter().sum::<u64>(),
            0..len(8, 4),
        ));
        let expected: Vec<u64> = (0..len(8, 4)).map(|k| (0..k).map(sqr).sum()).collect();
        assert_eq!(sums, expected, "{n} workers");
    }
}

/// Imaps iterated by a scope's tasks, and `fork_join` inside an imap's
/// function, on a single worker.
#[test]
fn imap_works_inside_scope_tasks_and_around_fork_join() {
    let _watchdog = Watchdog::new("imap_works_inside_scope_tasks_and_around_fork_join", HANG);
    let pool = Arc::new(Pool::new(1));
    let n = len(20, 6);
    let expected: u64 = (0..n).map(sqr).sum();
    let total = AtomicU64::new(0);
    pool.scope(|s| {
        for _ in 0..3 {
            s.spawn(|_| {
                let sum: u64 = values(pool.imap_chunked(sqr, 0..n, 2)).into_iter().sum();
                total.fetch_add(sum, SeqCst);
            });
        }
    });
    assert_eq!(total.load(SeqCst), 3 * expected);
    let inner = pool.clone();
    let pairs = values(pool.imap(move |x: u64| inner.fork_join(|| sqr(x), || x + 1), 0..n));
    assert_eq!(pairs, (0..n).map(|x| (sqr(x), x + 1)).collect::<Vec<_>>());
}

#[test]
fn an_imap_can_be_iterated_on_another_thread() {
    let _watchdog = Watchdog::new("an_imap_can_be_iterated_on_another_thread", HANG);
    let pool = Pool::new(2);
    let mut it = pool.imap(sqr, 0..10);
    assert_eq!(it.next().unwrap().unwrap(), 0);
    let rest = thread::scope(|s| s.spawn(move || values(it)).join().unwrap());
    assert_eq!(rest, (1..10).map(sqr).collect::<Vec<_>>());
}

#[test]
#[cfg_attr(miri, ignore = "Miri cannot read a thread's CPU time")]
fn a_consumer_waiting_for_a_slow_item_sleeps() {
    let pool = Pool::new(1);
    let mut it = pool.imap(|()| thread::sleep(weft_testkit::BLOCKED), [()]);
    weft_testkit::assert_sleeps("a consumer in Imap::next", || it.next());
    let mut it = pool.imap_unordered(|()| thread::sleep(weft_testkit::BLOCKED), [()]);
    weft_testkit::assert_sleeps("a consumer in ImapUnordered::next", || it.next());
}

// ---------------------------------------------------------------------
// A closed pool, bad input, types.
// ---------------------------------------------------------------------

#[test]
fn imap_on_a_closed_pool_panics_having_dropped_its_function_and_input() {
    quiet_expected_panics();
    let pool = Pool::new(1);
    pool.close();
    let dropped = Arc::new(AtomicUsize::new(0));
    let f = {
        let guard = Counted(dropped.clone());
        move |x: u64| {
            let _ = &guard;
            x
        }
    };
    let items = vec![Counted(dropped.clone()), Counted(dropped.clone())];
    let refused = panic::catch_unwind(AssertUnwindSafe(|| {
        let _ = pool.imap(f, [1]);
    }))
    .unwrap_err();
    assert_eq!(message(&*refused), CLOSED);
    let refused = panic::catch_unwind(AssertUnwindSafe(|| {
        let _ = pool.imap_unordered(|c: Counted| c, items);
    }))
    .unwrap_err();
    assert_eq!(message(&*refused), CLOSED);
    assert_eq!(dropped.load(SeqCst), 3, "the function and both items");
}

#[test]
fn a_pool_closed_midway_refuses_more_input_and_hands_out_what_was_in_flight() {
    let _watchdog = Watchdog::new(
        "a_pool_closed_midway_refuses_more_input_and_hands_out_what_was_in_flight",
        HANG,
    );
    let pool = Pool::new(2);
    let mut it = pool.imap(sqr, 0..);
    assert_eq!(it.next().unwrap().unwrap(), 0);
    pool.close();
    let refused = panic::catch_unwind(AssertUnwindSafe(|| it.next())).unwrap_err();
    assert_eq!(message(&*refused), CLOSED);
    // The chunks submitted before the close still run, in order, and then
    // the input is over.
    let rest = values(it.by_ref());
    assert!(rest.len() < window(2), "{rest:?}");
    assert_eq!(rest, (1..=rest.len() as u64).map(sqr).collect::<Vec<_>>());
    assert!(it.next().is_none());
}

#[test]
#[should_panic(expected = "chunksize must be at least 1, got 0")]
fn imap_with_chunks_of_zero_panics() {
    let pool = Pool::new(1);
    let _ = pool.imap_chunked(sqr, 0..4, 0);
}

#[test]
#[should_panic(expected = "chunksize must be at least 1, got 0")]
fn imap_unordered_with_chunks_of_zero_panics() {
    let pool = Pool::new(1);
    let _ = pool.imap_unordered_chunked(sqr, 0..4, 0);
}

#[test]
fn the_iterators_are_send_sync_and_fused_when_their_parts_are() {
    fn send_sync<T: Send + Sync>() {}
    fn fused<T: FusedIterator>() {}
    send_sync::<Imap<'static, std::vec::IntoIter<u64>, String>>();
    send_sync::<ImapUnordered<'static, std::ops::RangeFrom<u64>, Vec<u8>>>();
    fused::<Imap<'static, std::vec::IntoIter<u64>, u64>>();
    fused::<ImapUnordered<'static, std::vec::IntoIter<u64>, u64>>();
}

#[test]
fn the_iterators_show_their_state_in_debug() {
    let pool = Pool::new(1);
    let mut it = pool.imap_chunked(sqr, 0..10, 3);
    assert!(format!("{it:?}").starts_with("Imap {"));
    it.next();
    let text = format!("{it:?}");
    assert!(text.contains("chunksize: 3"), "{text}");
    let it = pool.imap_unordered(sqr, 0..10);
    assert!(format!("{it:?}").starts_with("ImapUnordered {"));
}

//! Behaviour of `weft_pool::Pool`, much of it ported from CPython's
//! `_TestPool` (`Lib/test/_test_multiprocessing.py`).
#![cfg(not(loom))]

mod common;

use std::collections::HashSet;
use std::panic::{self, AssertUnwindSafe};
use std::sync::Arc;
use std::sync::atomic::AtomicUsize;
use std::sync::atomic::Ordering::SeqCst;
use std::thread::{self, ThreadId};
use std::time::{Duration, Instant};

use weft_pool::{AsyncResult, GetTimeoutError, Pool, StarFn, TaskError, default_chunksize};
use weft_testkit::{Watchdog, iterations};

use common::{Custom, EXPECTED, HANG, quiet_expected_panics};

/// The worker count for most tests: small under Miri.
fn workers() -> usize {
    iterations(4, 2)
}

fn sqr(x: u64) -> u64 {
    x * x
}

/// Blocks until `n` tasks have arrived here, all at the same time; panics
/// if they do not within a long while (fewer than `n` run at once).
fn rendezvous(arrived: &AtomicUsize, n: usize) {
    arrived.fetch_add(1, SeqCst);
    let start = Instant::now();
    while arrived.load(SeqCst) < n {
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "only {} of {n} tasks ran at the same time",
            arrived.load(SeqCst)
        );
        thread::yield_now();
    }
}

// ---------------------------------------------------------------------
// Results equal the sequential versions (test_apply, test_map,
// test_starmap, test_async).
// ---------------------------------------------------------------------

#[test]
fn apply_returns_what_calling_the_function_returns() {
    let pool = Pool::new(workers());
    assert_eq!(pool.apply(sqr, (5,)), sqr(5));
    assert_eq!(pool.apply(|| 3 * 3, ()), 9);
    let text = String::from("borrowed");
    assert_eq!(
        pool.apply(|s: &str, n: usize| s[..n].to_owned(), (text.as_str(), 3)),
        "bor"
    );
}

#[test]
fn map_returns_what_a_sequential_map_returns() {
    let pool = Pool::new(workers());
    let n = iterations(100, 12) as u64;
    let expected: Vec<u64> = (0..n).map(sqr).collect();
    assert_eq!(pool.map(sqr, 0..10), (0..10).map(sqr).collect::<Vec<_>>());
    assert_eq!(pool.map(sqr, 0..n), expected);
    assert_eq!(pool.map_chunked(sqr, 0..n, 20), expected);
    assert_eq!(pool.map_chunked(sqr, 0..n, 1), expected);
    assert_eq!(pool.map_chunked(sqr, 0..n, 1000), expected);
}

#[test]
fn map_over_a_borrowed_slice_hands_out_references() {
    let pool = Pool::new(workers());
    let data: Vec<u64> = (0..50).collect();
    let factor = 3;
    let plus_one: Vec<u64> = pool.map(|x| x + 1, &data);
    assert_eq!(plus_one, (1..51).collect::<Vec<_>>());
    let scaled = pool.map(|x: &u64| *x * factor, &data);
    assert_eq!(scaled, data.iter().map(|x| x * 3).collect::<Vec<_>>());
    // The borrows ended: the data is still ours.
    drop(data);
}

#[test]
fn starmap_returns_what_a_sequential_starmap_returns() {
    let pool = Pool::new(workers());
    let pairs: Vec<(u64, u64)> = (0..10).zip((0..10).rev()).collect();
    let products: Vec<u64> = pairs.iter().map(|&(a, b)| a * b).collect();
    assert_eq!(
        pool.starmap(|a: u64, b: u64| a * b, pairs.clone()),
        products
    );
    let len = iterations(100, 20) as u64;
    let many: Vec<(u64, u64)> = (0..len).zip((0..len).rev()).collect();
    let many_products: Vec<u64> = many.iter().map(|&(a, b)| a * b).collect();
    assert_eq!(
        pool.starmap_chunked(|a: u64, b: u64| a * b, many.clone(), 6),
        many_products
    );
    assert_eq!(
        pool.starmap_async(|a: u64, b: u64| a * b, pairs)
            .get()
            .unwrap(),
        products
    );
    assert_eq!(
        pool.starmap_async_chunked(|a: u64, b: u64| a * b, many, 6)
            .get()
            .unwrap(),
        many_products
    );
}

#[test]
fn starmap_splats_tuples_into_a_plain_function() {
    let pool = Pool::new(workers());
    let pairs: Vec<(u64, u32)> = (0..20).map(|i| (i, (i % 4) as u32)).collect();
    let expected: Vec<u64> = pairs.iter().map(|&(b, e)| b.pow(e)).collect();
    assert_eq!(pool.starmap(u64::pow, pairs), expected);
}

#[test]
fn async_forms_return_what_sequential_calls_return() {
    let pool = Pool::new(workers());
    assert_eq!(pool.apply_async(sqr, (7,)).get().unwrap(), 49);
    let n = iterations(100, 12) as u64;
    let expected: Vec<u64> = (0..n).map(sqr).collect();
    assert_eq!(pool.map_async(sqr, 0..n).get().unwrap(), expected);
    assert_eq!(
        pool.map_async_chunked(sqr, 0..n, 20).get().unwrap(),
        expected
    );
}

#[test]
fn star_fn_calls_functions_of_zero_to_twelve_arguments() {
    let pool = Pool::new(workers());
    assert_eq!(pool.apply(|| 0, ()), 0);
    assert_eq!(pool.apply(|a: i32| a, (1,)), 1);
    assert_eq!(pool.apply(|a: i32, b: i32| a + b, (1, 2)), 3);
    let twelve =
        |a: u8, b: u8, c: u8, d: u8, e: u8, f: u8, g: u8, h: u8, i: u8, j: u8, k: u8, l: u8| {
            [a, b, c, d, e, f, g, h, i, j, k, l]
                .iter()
                .map(|&x| u32::from(x))
                .sum::<u32>()
        };
    let args = (1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12);
    assert_eq!(StarFn::call(&twelve, args), 78);
    assert_eq!(pool.apply(twelve, args), 78);
    assert_eq!(pool.starmap(twelve, vec![args; 3]), [78, 78, 78]);
    assert_eq!(pool.starmap(|| "none", vec![(); 2]), ["none", "none"]);
    assert_eq!(pool.starmap(|a: i32| -a, [(1,), (2,)]), [-1, -2]);
}

// ---------------------------------------------------------------------
// Chunks.
// ---------------------------------------------------------------------

#[test]
fn default_chunksize_is_pythons() {
    let table = [(1, 1), (15, 1), (16, 1), (17, 2), (100, 7), (1000, 63)];
    for (len, chunksize) in table {
        assert_eq!(default_chunksize(len, 4), chunksize, "len {len}, 4 workers");
    }
    assert_eq!(default_chunksize(0, 4), 0, "an empty input makes no chunks");
    assert_eq!(default_chunksize(10, 1), 3);
    assert_eq!(default_chunksize(usize::MAX, usize::MAX), 1);
}

/// Each chunk is a contiguous run of the input, run in order on one
/// thread: chunk 20 on 100 items gives 5 runs of 20.
#[test]
fn a_chunk_runs_in_order_on_one_worker() {
    let pool = Pool::new(workers());
    let clock = AtomicUsize::new(0);
    let seen: Vec<(ThreadId, usize)> = pool.map_chunked(
        |_: usize| (thread::current().id(), clock.fetch_add(1, SeqCst)),
        0..iterations(100, 40),
        20,
    );
    for chunk in seen.chunks(20) {
        let thread = chunk[0].0;
        assert!(
            chunk.iter().all(|&(t, _)| t == thread),
            "a chunk moved between threads"
        );
        assert!(
            chunk.windows(2).all(|w| w[0].1 < w[1].1),
            "a chunk ran out of order"
        );
    }
}

#[test]
fn chunk_sizes_cover_the_input_exactly() {
    let pool = Pool::new(workers());
    let (lens, chunksizes): (&[usize], &[usize]) = if cfg!(miri) {
        (&[1, 7, 21], &[1, 3, 100])
    } else {
        (&[1, 2, 7, 19, 20, 21, 100], &[1, 3, 20, 99, 100, 1000])
    };
    for &len in lens {
        for &chunksize in chunksizes {
            let calls = AtomicUsize::new(0);
            let out = pool.map_chunked(
                |x: usize| {
                    calls.fetch_add(1, SeqCst);
                    x * 2
                },
                0..len,
                chunksize,
            );
            assert_eq!(out, (0..len).map(|x| x * 2).collect::<Vec<_>>());
            assert_eq!(calls.load(SeqCst), len, "each item is mapped exactly once");
        }
    }
}

#[test]
fn empty_inputs_call_nothing_and_return_nothing() {
    let pool = Pool::new(workers());
    let calls = AtomicUsize::new(0);
    let f = |x: u64| {
        calls.fetch_add(1, SeqCst);
        x
    };
    assert!(pool.map(f, Vec::<u64>::new()).is_empty());
    assert!(pool.map_chunked(f, std::iter::empty(), 5).is_empty());
    assert!(pool.starmap(|a: u8, b: u8| a + b, Vec::new()).is_empty());
    assert!(pool.starmap_chunked(|a: u8| a, Vec::new(), 1).is_empty());
    assert_eq!(calls.load(SeqCst), 0);
    let r = pool.map_async(sqr, Vec::new());
    assert!(r.ready(), "an empty map_async is done at once");
    assert_eq!(r.get().unwrap(), Vec::<u64>::new());
    assert!(
        pool.starmap_async(|a: u8| a, Vec::new())
            .get()
            .unwrap()
            .is_empty()
    );
}

#[test]
#[should_panic(expected = "chunksize must be at least 1")]
fn map_chunked_panics_on_a_zero_chunksize() {
    Pool::new(1).map_chunked(sqr, 0..10, 0);
}

#[test]
#[should_panic(expected = "chunksize must be at least 1")]
fn starmap_chunked_panics_on_a_zero_chunksize() {
    Pool::new(1).starmap_chunked(|a: u64| a, [(1,)], 0);
}

#[test]
#[should_panic(expected = "chunksize must be at least 1")]
fn map_async_chunked_panics_on_a_zero_chunksize() {
    let _ = Pool::new(1).map_async_chunked(sqr, 0..10, 0);
}

#[test]
#[should_panic(expected = "a pool needs at least one worker")]
fn a_pool_of_zero_workers_panics() {
    let _ = Pool::new(0);
}

// ---------------------------------------------------------------------
// Workers.
// ---------------------------------------------------------------------

#[test]
fn workers_is_the_count_given_and_default_has_one_per_cpu() {
    assert_eq!(Pool::new(3).workers(), 3);
    assert_eq!(Pool::default().workers(), num_cpus::get());
}

/// `Pool::new(n)` runs n chunks at once: n tasks that each wait for all n
/// to arrive complete only if they really run at the same time, on n
/// distinct threads, none of them the caller.
#[test]
fn n_workers_run_n_chunks_at_once() {
    for n in [1, 2, workers() + 1] {
        let pool = Pool::new(n);
        let arrived = AtomicUsize::new(0);
        let threads = pool.map_chunked(
            |_: usize| {
                rendezvous(&arrived, n);
                thread::current().id()
            },
            0..n,
            1,
        );
        let distinct: HashSet<ThreadId> = threads.iter().copied().collect();
        assert_eq!(distinct.len(), n);
        assert!(
            !distinct.contains(&thread::current().id()),
            "tasks run on workers"
        );

        let arrived = Arc::new(AtomicUsize::new(0));
        let arrived2 = arrived.clone();
        let r = pool.map_async_chunked(move |_: usize| rendezvous(&arrived2, n), 0..n, 1);
        r.get().unwrap();
    }
}

/// And never more than n.
#[test]
fn n_workers_never_run_more_than_n_chunks_at_once() {
    let n = workers();
    let pool = Pool::new(n);
    let running = AtomicUsize::new(0);
    let most = AtomicUsize::new(0);
    pool.map_chunked(
        |_: usize| {
            let now = running.fetch_add(1, SeqCst) + 1;
            most.fetch_max(now, SeqCst);
            thread::yield_now();
            running.fetch_sub(1, SeqCst);
        },
        0..iterations(200, 12),
        1,
    );
    let most = most.load(SeqCst);
    assert!(
        (1..=n).contains(&most),
        "{most} chunks ran at once on {n} workers"
    );
}

#[test]
fn apply_runs_on_a_worker() {
    let pool = Pool::new(2);
    let me = thread::current().id();
    let name = pool.apply(|| thread::current().name().map(str::to_owned), ());
    assert!(name.unwrap().starts_with("weft-pool-"));
    assert_ne!(pool.apply(|| thread::current().id(), ()), me);
    assert_ne!(
        pool.apply_async(|| thread::current().id(), ())
            .get()
            .unwrap(),
        me
    );
}

// ---------------------------------------------------------------------
// Panics.
// ---------------------------------------------------------------------

/// test_map_no_failfast: a panic is raised in the caller only after every
/// chunk has finished, and it is the task's own payload.
#[test]
fn map_does_not_fail_fast() {
    quiet_expected_panics();
    let pool = Pool::new(2);
    let finished = AtomicUsize::new(0);
    let items = iterations(8, 4);
    let caught = panic::catch_unwind(AssertUnwindSafe(|| {
        pool.map_chunked(
            |i: usize| {
                if i == 0 {
                    panic::panic_any(Custom(7));
                }
                thread::sleep(Duration::from_millis(20));
                finished.fetch_add(1, SeqCst);
            },
            0..items,
            1,
        )
    }));
    let payload = caught.expect_err("the panic reaches the caller");
    assert_eq!(payload.downcast_ref::<Custom>(), Some(&Custom(7)));
    assert_eq!(
        finished.load(SeqCst),
        items - 1,
        "every other chunk finished first"
    );
}

#[test]
fn apply_reraises_the_task_payload() {
    quiet_expected_panics();
    let pool = Pool::new(2);
    let caught = panic::catch_unwind(AssertUnwindSafe(|| {
        pool.apply(|| panic::panic_any(Custom(3)), ())
    }));
    assert_eq!(
        caught.unwrap_err().downcast_ref::<Custom>(),
        Some(&Custom(3))
    );
    let caught = panic::catch_unwind(AssertUnwindSafe(|| {
        pool.starmap(|a: u32| -> u32 { panic!("{EXPECTED} {a}") }, [(1,), (2,)])
    }));
    let message = caught.unwrap_err().downcast::<String>().unwrap();
    assert!(*message == format!("{EXPECTED} 1") || *message == format!("{EXPECTED} 2"));
}

#[test]
fn an_async_tasks_panic_comes_back_as_a_task_error() {
    quiet_expected_panics();
    let pool = Pool::new(2);
    let failed = pool.apply_async(|| -> u8 { panic!("{EXPECTED}: apply") }, ());
    failed.wait();
    assert_eq!(failed.successful(), Some(false));
    let error: TaskError = failed.get().unwrap_err();
    assert_eq!(
        error.to_string(),
        format!("task panicked: {EXPECTED}: apply")
    );
    assert_eq!(error.message(), Some(format!("{EXPECTED}: apply").as_str()));
    let boxed: Box<dyn std::error::Error + Send + Sync> = Box::new(error);
    let error = boxed.downcast::<TaskError>().unwrap();
    assert_eq!(
        *error.into_panic().downcast::<String>().unwrap(),
        format!("{EXPECTED}: apply")
    );

    let custom = pool
        .apply_async(|| panic::panic_any(Custom(9)), ())
        .get()
        .unwrap_err();
    assert_eq!(custom.to_string(), "task panicked");
    assert_eq!(
        custom.into_panic().downcast_ref::<Custom>(),
        Some(&Custom(9))
    );

    // map_async: ready only after every chunk, and the first panic.
    let finished = Arc::new(AtomicUsize::new(0));
    let finished2 = finished.clone();
    let items = iterations(6, 3);
    let r = pool.map_async_chunked(
        move |i: usize| {
            if i == 0 {
                panic!("{EXPECTED}: chunk 0");
            }
            thread::sleep(Duration::from_millis(10));
            finished2.fetch_add(1, SeqCst);
        },
        0..items,
        1,
    );
    let error = r.get().unwrap_err();
    assert_eq!(finished.load(SeqCst), items - 1);
    assert_eq!(
        error.message(),
        Some(format!("{EXPECTED}: chunk 0").as_str())
    );
}

/// 10 000 panicking tasks later the pool is whole: every worker still runs
/// tasks (the n-way rendezvous completes) and results are right.
#[test]
fn many_panics_leave_the_pool_working() {
    quiet_expected_panics();
    let n = workers();
    let pool = Pool::new(n);
    let count = iterations(10_000, 10);
    let handles: Vec<AsyncResult<()>> = (0..count)
        .map(|i| pool.apply_async(move || panic!("{EXPECTED} {i}"), ()))
        .collect();
    for h in handles {
        assert!(h.get().is_err());
    }
    let caught = panic::catch_unwind(AssertUnwindSafe(|| {
        pool.map_chunked(
            |i: usize| -> usize { panic!("{EXPECTED} {i}") },
            0..iterations(1000, 3),
            1,
        )
    }));
    assert!(caught.is_err());

    let arrived = AtomicUsize::new(0);
    pool.map_chunked(|_: usize| rendezvous(&arrived, n), 0..n, 1);
    assert_eq!(pool.map(sqr, 0..100), (0..100).map(sqr).collect::<Vec<_>>());
}

// ---------------------------------------------------------------------
// Nothing kept, nothing lost (test_release_task_refs and lifecycle).
// ---------------------------------------------------------------------

#[test]
fn blocking_calls_drop_arguments_and_closures() {
    let pool = Pool::new(workers());
    let token = Arc::new(());
    let captured = token.clone();
    let items: Vec<Arc<()>> = (0..20).map(|_| token.clone()).collect();
    let lens = pool.map(
        move |item: Arc<()>| Arc::strong_count(&item) + Arc::strong_count(&captured),
        items,
    );
    assert_eq!(lens.len(), 20);
    assert_eq!(
        Arc::strong_count(&token),
        1,
        "map kept an item or the closure"
    );

    let captured = token.clone();
    let pairs: Vec<(Arc<()>, u8)> = (0..9).map(|i| (token.clone(), i)).collect();
    pool.starmap(move |a: Arc<()>, _: u8| drop((a, &captured)), pairs);
    assert_eq!(
        Arc::strong_count(&token),
        1,
        "starmap kept an item or the closure"
    );

    let captured = token.clone();
    pool.apply(move |a: Arc<()>| drop((a, &captured)), (token.clone(),));
    assert_eq!(
        Arc::strong_count(&token),
        1,
        "apply kept its arguments or closure"
    );
}

/// Blocking calls share the pool's spare input buffer: calls of different
/// item types, nested calls from inside tasks (which run while the outer
/// call holds the buffer), an input iterator that panics half-way, and
/// owned items that need dropping all come out right, with nothing kept.
#[test]
fn the_spare_input_buffer_is_shared_safely() {
    quiet_expected_panics();
    let pool = Pool::new(2);
    let n = iterations(10_000, 40);
    let data: Vec<u64> = (0..n as u64).collect();
    let token = Arc::new(());
    for round in 0..iterations(20, 2) {
        // References, then owned values that must be dropped, then bytes.
        let doubled = pool.map(|x: &u64| x * 2, &data);
        assert_eq!(doubled[n - 1], 2 * (n as u64 - 1));
        let owned: Vec<(Arc<()>, String)> =
            (0..n).map(|i| (token.clone(), i.to_string())).collect();
        let lens = pool.starmap(|_: Arc<()>, s: String| s.len(), owned);
        assert_eq!(lens[n - 1], (n - 1).to_string().len());
        assert_eq!(Arc::strong_count(&token), 1, "an item was kept");
        let bytes = pool.map(|b: u8| b ^ 0xff, 0..=u8::MAX);
        assert_eq!(bytes[0], 0xff);

        // Nested calls: each task maps again while the outer call runs.
        let sums = pool.map_chunked(
            |k: usize| {
                pool.map(|x: &u64| x + k as u64, &data[..k * 4])
                    .iter()
                    .sum::<u64>()
            },
            1..5,
            1,
        );
        let expected: Vec<u64> = (1..5u64).map(|k| (0..k * 4).map(|x| x + k).sum()).collect();
        assert_eq!(sums, expected, "round {round}");

        // An input that panics half-way: the panic comes back, and the
        // next call still works.
        let broken = (0..n).inspect(|&i| assert!(i < n / 2, "{EXPECTED}: the input broke"));
        let outcome = panic::catch_unwind(AssertUnwindSafe(|| pool.map(|i| i + 1, broken)));
        assert!(outcome.is_err());
        assert_eq!(pool.map(|i: usize| i + 1, 0..n)[n - 1], n);
    }
}

/// An iterator that reports an exact length (`lower == upper`) which may
/// be false: safe code may lie in `size_hint`.
struct Hinted<I> {
    inner: I,
    hint: usize,
}

impl<I: Iterator> Iterator for Hinted<I> {
    type Item = I::Item;
    fn next(&mut self) -> Option<I::Item> {
        self.inner.next()
    }
    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.hint, Some(self.hint))
    }
}

/// A call over an iterator with an exact size hint is fed to the workers
/// while the caller is still collecting it, and the hint is only a
/// promise: an iterator that yields fewer or more items than it said still
/// has every item mapped once, in order, and nothing kept.
/// Inputs this long are fed (the pool feeds from 65 536 items, and from 2
/// under Miri).
fn fed_len() -> usize {
    iterations(70_000, 6)
}

#[test]
fn fed_calls_take_every_item_whatever_the_size_hint_said() {
    let pool = Pool::new(workers());
    let token = Arc::new(());
    let b = fed_len();
    let cases = [
        (0, b),
        (b / 2, b),
        (b - 1, b),
        (b, b),
        (b + 1, b),
        (2 * b + 5, b),
    ];
    for (actual, hint) in cases {
        for chunksize in [None, Some(1), Some(3), Some(4)] {
            let items = Hinted {
                inner: (0..actual).map(|i| (i, token.clone())),
                hint,
            };
            let double = |(i, t): (usize, Arc<()>)| (i * 2, t);
            let results = match chunksize {
                None => pool.map(double, items),
                Some(c) => pool.map_chunked(double, items, c),
            };
            let got: Vec<usize> = results.iter().map(|(i, _)| *i).collect();
            let want: Vec<usize> = (0..actual).map(|i| i * 2).collect();
            assert_eq!(
                got, want,
                "{actual} items, hint {hint}, chunks {chunksize:?}"
            );
            drop(results);
            assert_eq!(Arc::strong_count(&token), 1, "an item or result was kept");
        }
    }
}

/// The first chunk runs while the input is still being produced: the
/// iterator waits, before its second chunk, for `f` to have run on its
/// first item. (A call that collected everything first would never get
/// there; the deadline turns that into a failure, not a hang.)
#[test]
fn fed_chunks_run_before_the_input_is_exhausted() {
    let pool = Pool::new(2);
    let chunksize = fed_len().div_ceil(2);
    let started = std::sync::atomic::AtomicBool::new(false);
    let items = (0..chunksize * 3).inspect(|&i| {
        if i == chunksize {
            let deadline = Instant::now() + Duration::from_secs(60);
            while !started.load(SeqCst) {
                assert!(Instant::now() < deadline, "chunk 0 did not start");
                thread::yield_now();
            }
        }
    });
    let results = pool.map_chunked(
        |i: usize| {
            started.store(true, SeqCst);
            i + 1
        },
        items,
        chunksize,
    );
    assert_eq!(results, (1..=chunksize * 3).collect::<Vec<_>>());
}

/// A worker running a fed call's chunks waits for the caller to collect
/// them, and the caller's iterator may itself need the pool. Two callers
/// feeding at once, whose iterators both make a `map` of their own half-way
/// through, still finish: the fed calls never hold every worker. (Had each
/// feed held one of the two workers, both inner calls would wait forever;
/// the test then fails at its deadline instead of hanging.)
#[test]
fn concurrent_fed_calls_leave_a_worker_for_their_inputs() {
    let pool = Arc::new(Pool::new(2));
    let n = 2 * fed_len();
    let in_iterator = Arc::new(AtomicUsize::new(0));
    let done = Arc::new(AtomicUsize::new(0));
    // Detached threads: if they deadlock, the test fails at its deadline
    // and leaves them behind, rather than joining them forever.
    let mut callers = Vec::new();
    for caller in 0..2 {
        let (pool, in_iterator, done) = (pool.clone(), in_iterator.clone(), done.clone());
        callers.push(thread::spawn(move || {
            let items = (0..n).inspect(|&i| {
                if i == n / 2 {
                    // Both callers are feeding now.
                    in_iterator.fetch_add(1, SeqCst);
                    let deadline = Instant::now() + Duration::from_secs(60);
                    while in_iterator.load(SeqCst) < 2 && Instant::now() < deadline {
                        thread::yield_now();
                    }
                    let inner = pool.map(|x: usize| x + caller, 0..4);
                    assert_eq!(inner, [caller, 1 + caller, 2 + caller, 3 + caller]);
                }
            });
            let results = pool.map(|i: usize| i * 2, items);
            assert_eq!(results[n - 1], 2 * (n - 1));
            done.fetch_add(1, SeqCst);
        }));
    }
    let deadline = Instant::now() + Duration::from_secs(60);
    while done.load(SeqCst) < 2 {
        assert!(Instant::now() < deadline, "the fed calls deadlocked");
        thread::sleep(Duration::from_millis(1));
    }
    for caller in callers {
        caller.join().unwrap();
    }
}

/// A fed call was accepted when its first tickets went out: a `close`
/// while its input is still being collected (here, by the input itself)
/// lets it finish with every result, and refuses only later calls.
#[test]
fn a_fed_call_finishes_after_a_close_during_its_input() {
    quiet_expected_panics();
    let pool = Pool::new(2);
    let n = 2 * fed_len();
    let items = (0..n).inspect(|&i| {
        if i == n / 2 {
            pool.close();
        }
    });
    let results = pool.map(|i: usize| i + 1, items);
    assert_eq!(results, (1..=n).collect::<Vec<_>>());
    let refused = panic::catch_unwind(AssertUnwindSafe(|| pool.map(|i: usize| i, 0..n)))
        .expect_err("a closed pool took a new call");
    assert_eq!(refused.downcast_ref::<&str>(), Some(&"pool is closed"));
}

/// An input iterator that panics part-way through a fed call: the chunks
/// already handed out run to their end, the items not yet handed out and
/// every result are dropped, and the iterator's own payload comes back —
/// also when a task panicked too, and when the panic comes from items
/// beyond the size hint.
#[test]
fn a_fed_call_whose_input_panics_drops_everything_and_reraises() {
    quiet_expected_panics();
    let pool = Pool::new(workers());
    let token = Arc::new(());
    let n = 2 * fed_len();
    for (hint, breaks_at, task_panics) in [
        (n, n / 2, false),
        (n, n / 2, true),
        (n, 0, false),
        (n / 2, n - 1, false),
    ] {
        let calls = AtomicUsize::new(0);
        let items = Hinted {
            inner: (0..n).map(|i| {
                if i == breaks_at {
                    panic::panic_any(Custom(7));
                }
                (i, token.clone())
            }),
            hint,
        };
        let caught = panic::catch_unwind(AssertUnwindSafe(|| {
            pool.map_chunked(
                |(i, item): (usize, Arc<()>)| {
                    calls.fetch_add(1, SeqCst);
                    if task_panics && i == 1 {
                        panic!("{EXPECTED} in a task");
                    }
                    item
                },
                items,
                3,
            )
        }));
        let payload = caught.expect_err("the input's panic comes back");
        assert_eq!(payload.downcast_ref::<Custom>(), Some(&Custom(7)));
        assert!(calls.load(SeqCst) <= breaks_at, "an unproduced item ran");
        assert_eq!(
            Arc::strong_count(&token),
            1,
            "hint {hint}, break at {breaks_at}: an item or result was kept"
        );
        // The pool is unharmed.
        assert_eq!(pool.map(|i: usize| i * 3, 0..n)[n - 1], 3 * (n - 1));
    }
}

/// When a call panics, the results of the chunks that succeeded and the
/// items the failed chunk did not reach are dropped too.
#[test]
fn a_failed_map_drops_its_results_and_remaining_items() {
    quiet_expected_panics();
    let pool = Pool::new(workers());
    let token = Arc::new(());
    for chunksize in [1, 3, 10] {
        let items: Vec<(usize, Arc<()>)> = (0..iterations(30, 12))
            .map(|i| (i, token.clone()))
            .collect();
        let caught = panic::catch_unwind(AssertUnwindSafe(|| {
            pool.map_chunked(
                |(i, item): (usize, Arc<()>)| {
                    if i % 7 == 3 {
                        panic!("{EXPECTED} at {i}");
                    }
                    item
                },
                items,
                chunksize,
            )
        }));
        assert!(caught.is_err());
        assert_eq!(
            Arc::strong_count(&token),
            1,
            "chunksize {chunksize}: a result or item leaked"
        );
    }
}

#[test]
fn async_calls_drop_arguments_and_closures() {
    quiet_expected_panics();
    let pool = Pool::new(workers());
    let token = Arc::new(());

    let captured = token.clone();
    let items: Vec<Arc<()>> = (0..20).map(|_| token.clone()).collect();
    let r = pool.map_async(move |item: Arc<()>| drop((item, &captured)), items);
    r.get().unwrap();
    assert_eq!(
        Arc::strong_count(&token),
        1,
        "map_async kept an item or the closure"
    );

    let captured = token.clone();
    let r = pool.apply_async(move |a: Arc<()>| drop((a, &captured)), (token.clone(),));
    r.get().unwrap();
    assert_eq!(
        Arc::strong_count(&token),
        1,
        "apply_async kept its arguments or closure"
    );

    // A failing map_async drops the results of its good chunks.
    let items: Vec<(usize, Arc<()>)> = (0..12).map(|i| (i, token.clone())).collect();
    let r = pool.map_async_chunked(
        |(i, item): (usize, Arc<()>)| {
            if i == 5 {
                panic!("{EXPECTED}");
            }
            item
        },
        items,
        2,
    );
    assert!(r.get().is_err());
    assert_eq!(Arc::strong_count(&token), 1, "a failed map_async leaked");
}

/// Dropping a handle cancels nothing and leaks nothing: the task runs and
/// its result is dropped.
#[test]
fn dropped_handles_neither_cancel_nor_leak() {
    let _watchdog = Watchdog::new("dropped_handles_neither_cancel_nor_leak", HANG);
    let pool = Pool::new(workers());
    let token = Arc::new(());
    let ran = Arc::new(AtomicUsize::new(0));
    for _ in 0..iterations(50, 5) {
        let (token, ran) = (token.clone(), ran.clone());
        drop(pool.apply_async(
            move || {
                ran.fetch_add(1, SeqCst);
                token.clone()
            },
            (),
        ));
    }
    let (token2, ran2) = (token.clone(), ran.clone());
    drop(pool.map_async(
        move |_: u8| {
            ran2.fetch_add(1, SeqCst);
            token2.clone()
        },
        0..10,
    ));
    pool.join();
    assert_eq!(ran.load(SeqCst), iterations(50, 5) + 10);
    assert_eq!(Arc::strong_count(&token), 1, "a result nobody took leaked");
}

#[test]
fn async_results_outlive_close_and_join() {
    let _watchdog = Watchdog::new("async_results_outlive_close_and_join", HANG);
    let pool = Pool::new(workers());
    let a = pool.apply_async(|| thread::sleep(Duration::from_millis(20)), ());
    let b = pool.map_async(sqr, 0..10);
    pool.close();
    assert_eq!(b.get().unwrap(), (0..10).map(sqr).collect::<Vec<_>>());
    drop(pool);
    // Made before the pool was closed, used after it is gone.
    assert!(a.ready());
    assert!(a.get().is_ok());
}

/// `join` waits for every queued task, also those nobody waits for.
#[test]
fn join_waits_for_queued_async_work() {
    let _watchdog = Watchdog::new("join_waits_for_queued_async_work", HANG);
    let pool = Pool::new(1);
    let done = Arc::new(AtomicUsize::new(0));
    let tasks = iterations(20, 4);
    for _ in 0..tasks {
        let done = done.clone();
        drop(pool.apply_async(
            move || {
                thread::sleep(Duration::from_millis(2));
                done.fetch_add(1, SeqCst);
            },
            (),
        ));
    }
    pool.join();
    assert_eq!(done.load(SeqCst), tasks);
}

/// Dropping the pool while work is queued behind a blocked task: the work
/// all runs, and every handle gets its result.
#[test]
fn nothing_is_lost_when_the_pool_is_dropped_with_work_queued() {
    let _watchdog = Watchdog::new(
        "nothing_is_lost_when_the_pool_is_dropped_with_work_queued",
        HANG,
    );
    let pool = Pool::new(1);
    let gate = Arc::new(AtomicUsize::new(0));
    let gate2 = gate.clone();
    let blocker = pool.apply_async(
        move || {
            while gate2.load(SeqCst) == 0 {
                thread::sleep(Duration::from_millis(1));
            }
        },
        (),
    );
    let queued: Vec<AsyncResult<usize>> = (0..iterations(100, 6))
        .map(|i| pool.apply_async(move || i * 2, ()))
        .collect();
    let many = pool.map_async(sqr, 0..50);
    thread::scope(|s| {
        s.spawn(|| {
            thread::sleep(Duration::from_millis(50));
            gate.store(1, SeqCst);
        });
        drop(pool); // Blocks until the queue is drained.
    });
    assert!(blocker.ready());
    for (i, r) in queued.into_iter().enumerate() {
        assert!(r.ready(), "dropping the pool returned before task {i} ran");
        assert_eq!(r.get().unwrap(), i * 2);
    }
    assert_eq!(many.get().unwrap(), (0..50).map(sqr).collect::<Vec<_>>());
}

#[test]
fn a_closed_pool_refuses_work() {
    let pool = Pool::new(2);
    pool.close();
    pool.close(); // Idempotent.
    /// A call's name and the call.
    type Attempt<'a> = (&'static str, Box<dyn Fn() + 'a>);
    let attempts: Vec<Attempt<'_>> = vec![
        ("map", Box::new(|| drop(pool.map(sqr, 0..3)))),
        (
            "map of nothing",
            Box::new(|| drop(pool.map(sqr, Vec::new()))),
        ),
        (
            "map_chunked",
            Box::new(|| drop(pool.map_chunked(sqr, 0..3, 1))),
        ),
        (
            "starmap",
            Box::new(|| drop(pool.starmap(|a: u64| a, [(1,)]))),
        ),
        (
            "starmap_chunked",
            Box::new(|| drop(pool.starmap_chunked(|a: u64| a, [(1,)], 1))),
        ),
        ("apply", Box::new(|| pool.apply(|| (), ()))),
        ("map_async", Box::new(|| drop(pool.map_async(sqr, 0..3)))),
        (
            "map_async_chunked",
            Box::new(|| drop(pool.map_async_chunked(sqr, 0..3, 1))),
        ),
        (
            "starmap_async",
            Box::new(|| drop(pool.starmap_async(|a: u64| a, [(1,)]))),
        ),
        (
            "starmap_async_chunked",
            Box::new(|| drop(pool.starmap_async_chunked(|a: u64| a, [(1,)], 1))),
        ),
        (
            "apply_async",
            Box::new(|| drop(pool.apply_async(|| (), ()))),
        ),
    ];
    quiet_expected_panics();
    for (name, attempt) in attempts {
        let payload = panic::catch_unwind(AssertUnwindSafe(attempt)).expect_err(name);
        assert_eq!(
            payload.downcast_ref::<&str>(),
            Some(&"pool is closed"),
            "{name}"
        );
    }
}

#[test]
#[should_panic(expected = "pool is closed")]
fn apply_async_on_a_closed_pool_panics() {
    let pool = Pool::new(1);
    pool.close();
    let _ = pool.apply_async(|| 1, ());
}

#[test]
#[should_panic(expected = "pool is closed")]
fn map_on_a_closed_pool_panics() {
    let pool = Pool::new(1);
    pool.close();
    pool.map(sqr, 0..4);
}

/// The items a refused call was given are dropped, not leaked.
#[test]
fn a_refused_call_drops_its_arguments() {
    quiet_expected_panics();
    let pool = Pool::new(1);
    pool.close();
    let token = Arc::new(());
    let t = token.clone();
    let caught = panic::catch_unwind(AssertUnwindSafe(|| {
        drop(pool.apply_async(move || Arc::strong_count(&t), ()))
    }));
    assert!(caught.is_err());
    let t = token.clone();
    let caught = panic::catch_unwind(AssertUnwindSafe(|| {
        drop(pool.map(move |()| Arc::strong_count(&t), [(); 3]))
    }));
    assert!(caught.is_err());
    assert_eq!(Arc::strong_count(&token), 1);
}

// ---------------------------------------------------------------------
// Waiting on results (test_async_timeout, get/wait/ready/successful).
// ---------------------------------------------------------------------

#[test]
fn timed_waits_give_up_on_a_slow_task_and_hand_the_handle_back() {
    let pool = Pool::new(1);
    let gate = Arc::new(AtomicUsize::new(0));
    let gate2 = gate.clone();
    let slow = pool.apply_async(
        move || {
            while gate2.load(SeqCst) == 0 {
                thread::sleep(Duration::from_millis(1));
            }
            49
        },
        (),
    );
    assert!(!slow.ready());
    assert_eq!(slow.successful(), None);
    let start = Instant::now();
    assert!(!slow.wait_timeout(Duration::from_millis(30)));
    assert!(start.elapsed() >= Duration::from_millis(30));
    let slow = match slow.get_timeout(Duration::from_millis(10)) {
        Err(GetTimeoutError::Timeout(handle)) => handle,
        other => panic!("expected a timeout, got {other:?}"),
    };
    let timeout: GetTimeoutError<u8> = GetTimeoutError::Timeout(pool.apply_async(|| 1, ()));
    assert_eq!(
        timeout.to_string(),
        "timed out waiting for the task's result"
    );
    gate.store(1, SeqCst);
    assert_eq!(slow.get_timeout(Duration::from_secs(60)).unwrap(), 49);
}

#[test]
fn get_timeout_reports_a_tasks_panic_as_failed() {
    quiet_expected_panics();
    let pool = Pool::new(1);
    let failing = pool.apply_async(|| -> u8 { panic!("{EXPECTED}: timed get") }, ());
    match failing.get_timeout(Duration::from_secs(60)) {
        Err(GetTimeoutError::Failed(error)) => {
            assert_eq!(
                error.message(),
                Some(format!("{EXPECTED}: timed get").as_str())
            );
        }
        other => panic!("expected a failure, got {other:?}"),
    }
}

#[test]
fn ready_and_successful_report_a_finished_task() {
    let pool = Pool::new(1);
    let r = pool.apply_async(|| 5, ());
    r.wait();
    assert!(r.ready());
    assert!(r.wait_timeout(Duration::ZERO));
    assert_eq!(r.successful(), Some(true));
    assert_eq!(format!("{r:?}"), "AsyncResult { state: succeeded }");
    assert_eq!(r.get().unwrap(), 5);
}

/// Several threads may wait on one handle; one completion wakes them all.
#[test]
fn one_completion_wakes_every_waiter_on_a_result() {
    let _watchdog = Watchdog::new("one_completion_wakes_every_waiter_on_a_result", HANG);
    let pool = Pool::new(1);
    let r = pool.apply_async(|| thread::sleep(Duration::from_millis(50)), ());
    thread::scope(|s| {
        for _ in 0..3 {
            s.spawn(|| r.wait());
        }
    });
    assert_eq!(r.successful(), Some(true));
}

/// The caller of a slow `apply` takes the latch's futex sleep path (even
/// under Miri), and so does a getter of a slow async result, and an idle
/// worker is woken from its sleep by new work.
#[test]
fn sleeping_callers_and_workers_are_woken() {
    let _watchdog = Watchdog::new("sleeping_callers_and_workers_are_woken", HANG);
    let pool = Pool::new(1);
    assert_eq!(
        pool.apply(
            || {
                thread::sleep(Duration::from_millis(50));
                1
            },
            ()
        ),
        1
    );
    let r = pool.apply_async(
        || {
            thread::sleep(Duration::from_millis(50));
            2
        },
        (),
    );
    assert_eq!(r.get().unwrap(), 2);
    // Long enough for the worker to spin out and sleep.
    thread::sleep(Duration::from_millis(50));
    assert_eq!(pool.apply(|| 3, ()), 3);
    assert_eq!(pool.map(sqr, 0..4), [0, 1, 4, 9]);
}

#[test]
#[cfg_attr(miri, ignore = "Miri cannot read a thread's CPU time")]
fn blocked_callers_sleep_instead_of_spinning() {
    let pool = Pool::new(1);
    let block = || thread::sleep(weft_testkit::BLOCKED);
    weft_testkit::assert_sleeps("a caller in Pool::apply", || pool.apply(block, ()));

    let r = pool.apply_async(block, ());
    weft_testkit::assert_sleeps("a caller in AsyncResult::get", || r.get().unwrap());
}

// ---------------------------------------------------------------------
// Nesting.
// ---------------------------------------------------------------------

/// A blocking map inside a task completes, whatever the worker count, even
/// when every worker is inside such a task.
#[test]
fn map_inside_a_task_completes() {
    let _watchdog = Watchdog::new("map_inside_a_task_completes", HANG);
    for n in [1, 2, workers()] {
        let pool = Pool::new(n);
        let outer = iterations(8, 3);
        let sums = pool.map_chunked(
            |x: u64| pool.map(|y: u64| x * y, 0..10).iter().sum::<u64>(),
            0..outer as u64,
            1,
        );
        let expected: Vec<u64> = (0..outer as u64).map(|x| x * 45).collect();
        assert_eq!(sums, expected, "{n} workers");
    }
}

/// Two levels of nesting on a single worker: map → starmap → apply.
#[test]
fn calls_nested_two_levels_deep_complete_on_one_worker() {
    let _watchdog = Watchdog::new("calls_nested_two_levels_deep_complete_on_one_worker", HANG);
    let pool = Pool::new(1);
    let out = pool.map(
        |x: u64| {
            pool.starmap(
                |a: u64, b: u64| pool.apply(|c: u64| c + 1, (a * b,)),
                (0..3).map(|y| (x, y)).collect::<Vec<_>>(),
            )
        },
        0..3,
    );
    assert_eq!(out, [vec![1, 1, 1], vec![1, 2, 3], vec![1, 3, 5]]);
    // And nested maps with every chunk panicking still come back.
    quiet_expected_panics();
    let caught = panic::catch_unwind(AssertUnwindSafe(|| {
        pool.map(
            |_: u8| pool.map(|_: u8| -> u8 { panic!("{EXPECTED} nested") }, 0..4),
            0..2,
        )
    }));
    assert!(caught.is_err());
    assert_eq!(pool.map(sqr, 0..3), [0, 1, 4]);
}

/// Nested blocking calls inside async tasks, through an `Arc<Pool>`, also
/// while the pool is being closed: they belong to accepted work.
#[test]
fn nested_calls_in_async_tasks_survive_close() {
    let _watchdog = Watchdog::new("nested_calls_in_async_tasks_survive_close", HANG);
    let pool = Arc::new(Pool::new(2));
    let handles: Vec<AsyncResult<u64>> = (0..iterations(6, 2) as u64)
        .map(|x| {
            let inner = pool.clone();
            pool.apply_async(
                move || {
                    thread::sleep(Duration::from_millis(10));
                    inner.map(|y: u64| x + y, 0..5).iter().sum()
                },
                (),
            )
        })
        .collect();
    pool.close();
    for (x, h) in handles.into_iter().enumerate() {
        assert_eq!(h.get().unwrap(), 5 * x as u64 + 10);
    }
}

/// The last handle to a pool may be dropped inside one of its own tasks.
#[test]
fn the_last_handle_may_be_dropped_inside_a_task_of_the_pool() {
    let _watchdog = Watchdog::new(
        "the_last_handle_may_be_dropped_inside_a_task_of_the_pool",
        HANG,
    );
    let pool = Arc::new(Pool::new(2));
    let inner = std::sync::Mutex::new(Some(pool.clone()));
    let r = pool.apply_async(move || drop(inner.lock().unwrap().take()), ());
    drop(pool);
    r.get().unwrap();
}

// ---------------------------------------------------------------------
// Sharing.
// ---------------------------------------------------------------------

/// Several threads use one pool at once, with every kind of call.
#[test]
fn many_threads_may_use_one_pool_at_once() {
    let _watchdog = Watchdog::new("many_threads_may_use_one_pool_at_once", HANG);
    let pool = Pool::new(workers());
    let rounds = iterations(50, 2) as u64;
    thread::scope(|s| {
        for t in 0..iterations(4, 2) as u64 {
            let pool = &pool;
            s.spawn(move || {
                for i in 0..rounds {
                    let base = t * 1000 + i;
                    assert_eq!(
                        pool.map(|x: u64| x + base, 0..20),
                        (base..base + 20).collect::<Vec<_>>()
                    );
                    assert_eq!(pool.apply(|x: u64| x * 2, (base,)), base * 2);
                    let r = pool.map_async(move |x: u64| x * base, 0..5);
                    assert_eq!(
                        r.get().unwrap(),
                        (0..5).map(|x| x * base).collect::<Vec<_>>()
                    );
                }
            });
        }
    });
}

// ---------------------------------------------------------------------
// `map_slice`: `map` over a slice, read in place.
// ---------------------------------------------------------------------

#[test]
fn map_slice_returns_what_map_returns() {
    let pool = Pool::new(workers());
    for len in [0, 1, 2, 7, iterations(1000, 30)] {
        let data: Vec<u64> = (0..len as u64).map(|x| x * 7 % 13).collect();
        let expected: Vec<u64> = data.iter().map(|x| x * x).collect();
        assert_eq!(pool.map_slice(|x| x * x, &data), expected, "len {len}");
        assert_eq!(pool.map_slice(|x| x * x, &data), pool.map(|x| x * x, &data));
        for chunksize in [1, 3, 20, 1000] {
            assert_eq!(
                pool.map_slice_chunked(|x| x * x, &data, chunksize),
                expected,
                "len {len}, chunksize {chunksize}"
            );
        }
    }
}

/// The references handed to `f` point into the slice itself (nothing is
/// copied), and the results may borrow from it.
#[test]
fn map_slice_hands_out_references_into_the_slice() {
    let pool = Pool::new(workers());
    let words: Vec<String> = (0..iterations(100, 10))
        .map(|i| format!("word {i}"))
        .collect();
    let refs: Vec<&String> = pool.map_slice(|w| w, &words);
    for (r, w) in refs.iter().zip(&words) {
        assert!(std::ptr::eq(*r, w));
    }
    let firsts: Vec<&str> = pool.map_slice_chunked(|w| &w[..4], &words, 7);
    assert!(firsts.iter().all(|f| *f == "word"));
}

/// Chunks of `map_slice` are contiguous runs, run in order on one worker,
/// never on the caller; each element is mapped exactly once.
#[test]
fn map_slice_chunks_run_in_order_on_one_worker() {
    let pool = Pool::new(workers());
    let clock = AtomicUsize::new(0);
    let calls = AtomicUsize::new(0);
    let data: Vec<usize> = (0..iterations(100, 40)).collect();
    let seen: Vec<(ThreadId, usize, usize)> = pool.map_slice_chunked(
        |&x| {
            calls.fetch_add(1, SeqCst);
            (thread::current().id(), clock.fetch_add(1, SeqCst), x)
        },
        &data,
        20,
    );
    assert_eq!(calls.load(SeqCst), data.len());
    assert!(seen.iter().map(|s| s.2).eq(data.iter().copied()));
    let me = thread::current().id();
    for chunk in seen.chunks(20) {
        let thread = chunk[0].0;
        assert_ne!(thread, me, "tasks run on workers");
        assert!(chunk.iter().all(|&(t, ..)| t == thread));
        assert!(chunk.windows(2).all(|w| w[0].1 < w[1].1));
    }
}

/// A panic comes back only after every chunk has finished, and the results
/// of the chunks that succeeded are dropped; the pool keeps working.
#[test]
fn map_slice_does_not_fail_fast_and_drops_results() {
    quiet_expected_panics();
    let pool = Pool::new(2);
    let token = Arc::new(());
    let finished = AtomicUsize::new(0);
    let data: Vec<usize> = (0..iterations(8, 4)).collect();
    let caught = panic::catch_unwind(AssertUnwindSafe(|| {
        pool.map_slice_chunked(
            |&i| {
                if i == 0 {
                    panic::panic_any(Custom(9));
                }
                thread::sleep(Duration::from_millis(20));
                finished.fetch_add(1, SeqCst);
                token.clone()
            },
            &data,
            1,
        )
    }));
    let payload = caught.expect_err("the panic reaches the caller");
    assert_eq!(payload.downcast_ref::<Custom>(), Some(&Custom(9)));
    assert_eq!(finished.load(SeqCst), data.len() - 1);
    assert_eq!(Arc::strong_count(&token), 1, "a result leaked");
    assert_eq!(pool.map_slice(|x| x + 1, &data)[0], 1);
}

/// Inside a task, a worker takes part in its own `map_slice`, so nesting
/// completes even when every worker is inside such a task.
#[test]
fn map_slice_inside_a_task_completes() {
    let _watchdog = Watchdog::new("map_slice_inside_a_task_completes", HANG);
    let data: Vec<u64> = (0..10).collect();
    for n in [1, 2, workers()] {
        let pool = Pool::new(n);
        let outer: Vec<u64> = (0..iterations(8, 3) as u64).collect();
        let sums = pool.map_slice_chunked(
            |&x| pool.map_slice(|y| x * y, &data).iter().sum::<u64>(),
            &outer,
            1,
        );
        let expected: Vec<u64> = outer.iter().map(|x| x * 45).collect();
        assert_eq!(sums, expected, "{n} workers");
    }
}

#[test]
#[should_panic(expected = "pool is closed")]
fn map_slice_on_a_closed_pool_panics() {
    let pool = Pool::new(1);
    pool.close();
    pool.map_slice(|x: &u64| x + 1, &[1, 2]);
}

#[test]
#[should_panic(expected = "chunksize must be at least 1")]
fn map_slice_chunked_panics_on_a_zero_chunksize() {
    Pool::new(1).map_slice_chunked(|x: &u64| x + 1, &[1, 2], 0);
}

/// Zero-sized elements, and a slice far longer than the pool has workers.
#[test]
fn map_slice_maps_zero_sized_elements() {
    let pool = Pool::new(workers());
    let units = vec![(); iterations(100_000, 100)];
    let ones = pool.map_slice(|()| 1u8, &units);
    assert_eq!(ones.len(), units.len());
    assert!(ones.iter().all(|&x| x == 1));
}

#[test]
fn pools_results_and_errors_are_send_and_sync() {
    fn check<T: Send + Sync>() {}
    check::<Pool>();
    check::<AsyncResult<Vec<String>>>();
    check::<TaskError>();
    check::<GetTimeoutError<u8>>();
}

#[test]
fn debug_shows_the_workers_and_whether_the_pool_is_closed() {
    let pool = Pool::new(2);
    assert_eq!(
        format!("{pool:?}"),
        "Pool { workers: 2, closed: false, queued: 0 }"
    );
    pool.close();
    assert!(format!("{pool:?}").contains("closed: true"));
}

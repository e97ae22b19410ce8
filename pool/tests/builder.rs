//! Behaviour of `weft_pool::PoolBuilder`: thread names, stack size, the
//! per-worker initializer, and a start that fails cleanly.
#![cfg(not(loom))]

mod common;

use std::cell::{Cell, RefCell};
use std::collections::HashSet;
use std::io;
use std::panic::{self, AssertUnwindSafe};
use std::sync::atomic::AtomicUsize;
use std::sync::atomic::Ordering::SeqCst;
use std::sync::{Arc, Mutex};
use std::thread::{self, ThreadId};
use std::time::Duration;

use weft_pool::{Pool, PoolBuilder};
use weft_testkit::{Watchdog, iterations};

use common::{EXPECTED, HANG, quiet_expected_panics};

/// The worker count for most tests: small under Miri.
fn workers() -> usize {
    iterations(3, 2)
}

/// Counts, in its counter, the threads that set it up and then exited:
/// a worker's thread-local `Drop` runs when its thread ends.
struct ExitGuard(Arc<AtomicUsize>);

impl Drop for ExitGuard {
    fn drop(&mut self) {
        self.0.fetch_add(1, SeqCst);
    }
}

thread_local! {
    /// The index the initializer gave this worker.
    static INDEX: Cell<Option<usize>> = const { Cell::new(None) };
    /// Set by initializers that count their thread's exit.
    static EXIT: RefCell<Option<ExitGuard>> = const { RefCell::new(None) };
}

/// Each thread's name as its tasks see it, and its index as its
/// initializer set it, for `tasks` tasks of a few milliseconds (so that
/// every worker gets some).
fn names_seen_by_tasks(pool: &Pool, tasks: usize) -> HashSet<(String, Option<usize>)> {
    pool.map_chunked(
        |_| {
            thread::sleep(Duration::from_millis(2));
            let name = thread::current().name().unwrap_or("<unnamed>").to_owned();
            (name, INDEX.with(Cell::get))
        },
        0..tasks,
        1,
    )
    .into_iter()
    .collect()
}

#[test]
fn workers_are_named_weft_pool_i_by_default() {
    let _watchdog = Watchdog::new("workers_are_named_weft_pool_i_by_default", HANG);
    let n = workers();
    let expected: HashSet<String> = (0..n).map(|i| format!("weft-pool-{i}")).collect();
    for pool in [Pool::new(n), Pool::builder().workers(n).build().unwrap()] {
        let seen = names_seen_by_tasks(&pool, 8 * n);
        for (name, _) in &seen {
            assert!(expected.contains(name), "{name} among {expected:?}");
        }
    }
}

#[test]
fn the_worker_named_name_i_gets_i_from_its_initializer_on_its_own_thread() {
    let _watchdog = Watchdog::new(
        "the_worker_named_name_i_gets_i_from_its_initializer_on_its_own_thread",
        HANG,
    );
    let n = workers();
    let started: Arc<Mutex<Vec<(usize, String, ThreadId)>>> = Arc::default();
    let record = started.clone();
    let pool = Pool::builder()
        .workers(n)
        .thread_name(|i| format!("custom-{i}"))
        .initializer(move |i| {
            INDEX.with(|index| index.set(Some(i)));
            let me = thread::current();
            let name = me.name().unwrap().to_owned();
            record.lock().unwrap().push((i, name, me.id()));
        })
        .build()
        .unwrap();
    let mut started = started.lock().unwrap().clone();
    started.sort_by_key(|&(i, _, _)| i);
    assert_eq!(started.len(), n, "one initializer per worker");
    for (k, (i, name, _)) in started.iter().enumerate() {
        assert_eq!((*i, name.as_str()), (k, format!("custom-{k}").as_str()));
    }
    // Tasks run on the very threads the initializers ran on.
    let ids: HashSet<ThreadId> = started.iter().map(|&(_, _, id)| id).collect();
    let task_ids = pool.map_chunked(|_| thread::current().id(), 0..4 * n, 1);
    assert!(task_ids.iter().all(|id| ids.contains(id)));
    // And a task on the worker named `custom-i` sees the index `i`.
    for (name, index) in names_seen_by_tasks(&pool, 8 * n) {
        assert_eq!(name, format!("custom-{}", index.expect("initialized")));
    }
}

#[test]
fn every_initializer_has_finished_when_build_returns_and_before_any_task() {
    let _watchdog = Watchdog::new(
        "every_initializer_has_finished_when_build_returns_and_before_any_task",
        HANG,
    );
    let n = workers();
    let finished = Arc::new(AtomicUsize::new(0));
    let counter = finished.clone();
    let pool = Pool::builder()
        .workers(n)
        .initializer(move |i| {
            // Slow initializers: `build` must wait for them.
            thread::sleep(Duration::from_millis(20));
            INDEX.with(|index| index.set(Some(i)));
            counter.fetch_add(1, SeqCst);
        })
        .build()
        .unwrap();
    assert_eq!(finished.load(SeqCst), n);
    let indexes = pool.map_chunked(|_| INDEX.with(Cell::get), 0..4 * n, 1);
    assert!(indexes.iter().all(Option::is_some), "{indexes:?}");
    let async_index = pool
        .apply_async(|| INDEX.with(Cell::get), ())
        .get()
        .unwrap();
    assert!(async_index.is_some());
    assert_eq!(finished.load(SeqCst), n, "once per worker");
}

/// Recurses `depth` times with a 64 KiB frame that the optimizer cannot
/// remove, and returns a sum over all the frames.
fn deep(depth: usize) -> u64 {
    let mut frame = [0u8; 64 << 10];
    frame[depth % frame.len()] = 1;
    let frame = std::hint::black_box(&mut frame);
    let below = if depth == 0 { 0 } else { deep(depth - 1) };
    below + u64::from(frame.iter().fold(0u8, |a, &b| a.wrapping_add(b)))
}

// Miri has no native stack to overflow, and recursing through 16 MiB of
// frames takes it minutes.
#[cfg(not(miri))]
#[test]
fn the_stack_size_is_honoured() {
    let _watchdog = Watchdog::new("the_stack_size_is_honoured", HANG);
    // 256 frames of 64 KiB: 16 MiB, far past the default 2 MiB stack.
    let pool = Pool::builder()
        .workers(2)
        .stack_size(64 << 20)
        .build()
        .unwrap();
    assert_eq!(pool.apply(deep, (255,)), 256);
    assert_eq!(pool.map(deep, [255, 255]), [256, 256]);
}

#[test]
fn an_initializer_panic_is_an_error_and_no_worker_is_left_running() {
    let _watchdog = Watchdog::new(
        "an_initializer_panic_is_an_error_and_no_worker_is_left_running",
        HANG,
    );
    quiet_expected_panics();
    let n = workers();
    let exited = Arc::new(AtomicUsize::new(0));
    let counter = exited.clone();
    let error = Pool::builder()
        .workers(n)
        .initializer(move |i| {
            EXIT.with(|exit| *exit.borrow_mut() = Some(ExitGuard(counter.clone())));
            if i == 1 {
                panic!("{EXPECTED}: no device for worker {i}");
            }
        })
        .build()
        .unwrap_err();
    assert_eq!(error.kind(), io::ErrorKind::Other);
    let text = error.to_string();
    assert!(text.contains("initializer"), "{text}");
    assert!(text.contains("no device for worker 1"), "{text}");
    // Every worker's thread, the failed one's and the others', has ended.
    assert_eq!(exited.load(SeqCst), n);
}

#[test]
fn an_initializer_panic_without_a_message_is_still_named() {
    let _watchdog = Watchdog::new(
        "an_initializer_panic_without_a_message_is_still_named",
        HANG,
    );
    quiet_expected_panics();
    let error = Pool::builder()
        .workers(1)
        .initializer(|_| panic::panic_any(common::Custom(7)))
        .build()
        .unwrap_err();
    assert_eq!(error.kind(), io::ErrorKind::Other);
    assert!(error.to_string().contains("initializer"), "{error}");
}

#[test]
fn a_thread_name_that_panics_leaves_no_worker_running() {
    let _watchdog = Watchdog::new("a_thread_name_that_panics_leaves_no_worker_running", HANG);
    quiet_expected_panics();
    let exited = Arc::new(AtomicUsize::new(0));
    let counter = exited.clone();
    let built = panic::catch_unwind(AssertUnwindSafe(|| {
        Pool::builder()
            .workers(3)
            .thread_name(|i| {
                assert!(i < 2, "{EXPECTED}: no name for worker {i}");
                format!("named-{i}")
            })
            .initializer(move |_| {
                EXIT.with(|exit| *exit.borrow_mut() = Some(ExitGuard(counter.clone())));
            })
            .build()
    }));
    assert!(built.is_err());
    // The two workers started before the panic were joined.
    assert_eq!(exited.load(SeqCst), 2);
}

// glibc's `pthread_attr_setstacksize` refuses this stack size; other
// platforms may round it to something they can start, and Miri does not
// allocate thread stacks at all.
#[cfg(all(target_os = "linux", target_env = "gnu", not(miri)))]
#[test]
fn a_failed_spawn_is_an_error_not_a_panic() {
    let _watchdog = Watchdog::new("a_failed_spawn_is_an_error_not_a_panic", HANG);
    let built = panic::catch_unwind(|| Pool::builder().workers(2).stack_size(usize::MAX).build());
    let result = built.expect("build returns instead of panicking");
    assert!(result.is_err(), "an impossible stack size fails the spawn");
}

#[test]
#[should_panic(expected = "a pool needs at least one worker")]
fn zero_workers_panic_as_in_new() {
    let _ = Pool::builder().workers(0);
}

#[test]
fn the_default_builder_starts_a_worker_per_cpu_like_pool_default() {
    let _watchdog = Watchdog::new(
        "the_default_builder_starts_a_worker_per_cpu_like_pool_default",
        HANG,
    );
    let built = PoolBuilder::default().build().unwrap();
    assert_eq!(built.workers(), Pool::default().workers());
    assert!(built.workers() >= 1);
}

/// A builder may be set up on one thread and built on another: the
/// functions it holds are `Send + Sync`.
#[test]
fn the_builder_is_send_and_sync() {
    fn send_sync<T: Send + Sync>() {}
    send_sync::<PoolBuilder>();
}

#[test]
fn the_builder_shows_its_settings_in_debug() {
    let builder = Pool::builder()
        .workers(2)
        .stack_size(1 << 20)
        .thread_name(|i| i.to_string());
    let text = format!("{builder:?}");
    assert!(text.contains("PoolBuilder"), "{text}");
    assert!(text.contains("workers: Some(2)"), "{text}");
    assert!(text.contains("stack_size: Some(1048576)"), "{text}");
}

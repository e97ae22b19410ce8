//! Values whose `Drop` panics, in the hands of the pool: the results a
//! failed call throws away, the items a failed chunk never reached, a
//! refused call's function and items, a call's function, and the results
//! nobody took. The pool drops each of them once, never while a panic
//! unwinds, reports the task's own payload (or "pool is closed"), and
//! keeps the process alive.
//!
//! A panic in a `Drop` that runs while another panic unwinds aborts the
//! process, and so would take every other test down with it. So each case
//! runs in a child process of its own: the test runs this test binary
//! again, with only itself selected and [`SCENARIO`] naming it, and fails
//! if the child does not exit normally. (Under Miri, which cannot start
//! processes, the case runs in the test's own process.)
#![cfg(not(loom))]

mod common;

use std::io::Read;
use std::panic::{self, AssertUnwindSafe};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::AtomicUsize;
use std::sync::atomic::Ordering::SeqCst;
use std::thread;
use std::time::{Duration, Instant};

use weft_pool::Pool;

use common::{Custom, EXPECTED, quiet_expected_panics};

/// The environment variable that tells a child process which case to run.
const SCENARIO: &str = "WEFT_POOL_PANICS_SCENARIO";

/// Runs `case` in a child process (see the module docs) and fails if the
/// child fails, aborts, or takes longer than a minute. `name` is the
/// calling test's name.
fn in_child_process(name: &str, case: impl FnOnce()) {
    if cfg!(miri) || std::env::var_os(SCENARIO).is_some_and(|s| s == name) {
        quiet_expected_panics();
        case();
        return;
    }
    let mut child = Command::new(std::env::current_exe().expect("the test binary's path"))
        .args([name, "--exact", "--nocapture", "--test-threads=1"])
        .env(SCENARIO, name)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("failed to start the test binary again");
    // Read both pipes while the child runs, so that it never blocks on a
    // full one.
    let readers = [
        read_all(child.stdout.take().expect("piped")),
        read_all(child.stderr.take().expect("piped")),
    ];
    let deadline = Instant::now() + Duration::from_secs(60);
    let status = loop {
        if let Some(status) = child.try_wait().expect("waiting for the child") {
            break Some(status);
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        thread::sleep(Duration::from_millis(5));
    };
    let [stdout, stderr] = readers.map(|r| r.join().expect("a pipe reader panicked"));
    let report = format!("--- stdout\n{stdout}\n--- stderr\n{stderr}");
    match status {
        None => panic!("{name}: the child process did not finish in a minute\n{report}"),
        Some(status) => assert!(
            status.success(),
            "{name}: the child process failed ({status})\n{report}"
        ),
    }
    assert!(
        stdout.contains("test result: ok. 1 passed"),
        "{name}: the child process did not run this one test\n{report}"
    );
}

fn read_all(mut pipe: impl Read + Send + 'static) -> thread::JoinHandle<String> {
    thread::spawn(move || {
        let mut text = String::new();
        let _ = pipe.read_to_string(&mut text);
        text
    })
}

/// How many values of each id were made, and how many dropped.
#[derive(Debug)]
struct Ledger {
    made: Vec<AtomicUsize>,
    dropped: Vec<AtomicUsize>,
}

impl Ledger {
    fn new(ids: usize) -> Arc<Self> {
        Arc::new(Self {
            made: (0..ids).map(|_| AtomicUsize::new(0)).collect(),
            dropped: (0..ids).map(|_| AtomicUsize::new(0)).collect(),
        })
    }

    /// Panics unless every value made was dropped, once.
    fn assert_each_dropped_once(&self, what: &str) {
        for (id, (made, dropped)) in self.made.iter().zip(&self.dropped).enumerate() {
            let (made, dropped) = (made.load(SeqCst), dropped.load(SeqCst));
            assert!(made <= 1, "{what} {id} was made {made} times");
            assert_eq!(dropped, made, "{what} {id}: made {made}, dropped {dropped}");
        }
    }

    /// How many values were made.
    fn made(&self) -> usize {
        self.made.iter().map(|m| m.load(SeqCst)).sum()
    }
}

/// A value that counts its `Drop` in a ledger and then, if armed, panics.
#[derive(Debug)]
struct Bomb {
    id: usize,
    armed: bool,
    ledger: Arc<Ledger>,
}

impl Bomb {
    fn new(id: usize, armed: bool, ledger: &Arc<Ledger>) -> Self {
        ledger.made[id].fetch_add(1, SeqCst);
        Self {
            id,
            armed,
            ledger: ledger.clone(),
        }
    }
}

impl Drop for Bomb {
    fn drop(&mut self) {
        self.ledger.dropped[self.id].fetch_add(1, SeqCst);
        if self.armed {
            panic!("{EXPECTED}: the drop of {}", self.id);
        }
    }
}

/// The call fails on this item.
const FAILING: usize = 5;
/// The number of items of each call.
const ITEMS: usize = 8;

/// What every task does: disarms its item (dropping it on the way) and
/// returns an armed result, or panics with `Custom(FAILING)` on that item.
fn task(results: &Arc<Ledger>) -> impl Fn(Bomb) -> Bomb + Send + Sync + 'static {
    let results = results.clone();
    move |mut item: Bomb| {
        item.armed = false;
        let id = item.id;
        drop(item);
        if id == FAILING {
            panic::panic_any(Custom(FAILING));
        }
        Bomb::new(id, true, &results)
    }
}

/// Runs a failing call with armed items and results, in chunks of one (the
/// failed chunk leaves nothing behind, the others each leave a result) and
/// of four (the failed chunk also leaves a result written before the panic
/// and two items it never reached); `call` makes the call on `pool` with
/// `f`, the items and the chunk size, and returns what it raised or
/// reported. Checks that the payload is the task's own and that every item
/// and result was dropped once.
fn check_failed_call(
    call: impl Fn(&Pool, Box<dyn Fn(Bomb) -> Bomb + Send + Sync>, Vec<Bomb>, usize) -> Payload,
) {
    let pool = Pool::new(2);
    for chunksize in [1, 4] {
        let (items, results) = (Ledger::new(ITEMS), Ledger::new(ITEMS));
        let input = (0..ITEMS).map(|id| Bomb::new(id, true, &items)).collect();
        let payload = call(&pool, Box::new(task(&results)), input, chunksize);
        assert_eq!(
            payload.downcast_ref::<Custom>(),
            Some(&Custom(FAILING)),
            "chunksize {chunksize}: the call reported another panic than the task's"
        );
        items.assert_each_dropped_once("item");
        results.assert_each_dropped_once("result");
        assert!(results.made() > 0, "some results were made");
    }
    // The pool is whole.
    assert_eq!(pool.map(|x: usize| x + 1, 0..4), [1, 2, 3, 4]);
}

type Payload = Box<dyn std::any::Any + Send>;

/// The payload of a call that the pool refused.
fn refused(call: impl FnOnce()) -> Payload {
    panic::catch_unwind(AssertUnwindSafe(call)).expect_err("the pool refuses the call")
}

/// The payload a blocking call raised.
fn raised(call: impl FnOnce() -> Vec<Bomb>) -> Payload {
    match panic::catch_unwind(AssertUnwindSafe(call)) {
        Ok(_) => panic!("the call succeeded"),
        Err(payload) => payload,
    }
}

#[test]
fn a_failed_map_drops_what_it_threw_away_once_and_raises_the_tasks_payload() {
    in_child_process(
        "a_failed_map_drops_what_it_threw_away_once_and_raises_the_tasks_payload",
        || {
            check_failed_call(|pool, f, items, chunksize| {
                raised(|| pool.map_chunked(f, items, chunksize))
            })
        },
    );
}

#[test]
fn a_failed_starmap_drops_what_it_threw_away_once_and_raises_the_tasks_payload() {
    in_child_process(
        "a_failed_starmap_drops_what_it_threw_away_once_and_raises_the_tasks_payload",
        || {
            check_failed_call(|pool, f, items, chunksize| {
                let items: Vec<(Bomb,)> = items.into_iter().map(|item| (item,)).collect();
                raised(|| pool.starmap_chunked(f, items, chunksize))
            })
        },
    );
}

#[test]
fn a_failed_map_async_drops_what_it_threw_away_once_and_reports_the_tasks_payload() {
    in_child_process(
        "a_failed_map_async_drops_what_it_threw_away_once_and_reports_the_tasks_payload",
        || {
            check_failed_call(|pool, f, items, chunksize| {
                let result = pool.map_async_chunked(f, items, chunksize);
                result.get().expect_err("the call failed").into_panic()
            })
        },
    );
}

#[test]
fn a_failed_starmap_async_drops_what_it_threw_away_once_and_reports_the_tasks_payload() {
    in_child_process(
        "a_failed_starmap_async_drops_what_it_threw_away_once_and_reports_the_tasks_payload",
        || {
            check_failed_call(|pool, f, items, chunksize| {
                let items: Vec<(Bomb,)> = items.into_iter().map(|item| (item,)).collect();
                let result = pool.starmap_async_chunked(f, items, chunksize);
                result.get().expect_err("the call failed").into_panic()
            })
        },
    );
}

/// `map_slice` borrows its items, so only the results are the pool's to
/// drop.
#[test]
fn a_failed_map_slice_drops_its_results_once_and_raises_the_tasks_payload() {
    in_child_process(
        "a_failed_map_slice_drops_its_results_once_and_raises_the_tasks_payload",
        || {
            let pool = Pool::new(2);
            let ids: Vec<usize> = (0..ITEMS).collect();
            for chunksize in [1, 4] {
                let results = Ledger::new(ITEMS);
                let payload = raised(|| {
                    pool.map_slice_chunked(
                        |&id| {
                            if id == FAILING {
                                panic::panic_any(Custom(FAILING));
                            }
                            Bomb::new(id, true, &results)
                        },
                        &ids,
                        chunksize,
                    )
                });
                assert_eq!(payload.downcast_ref::<Custom>(), Some(&Custom(FAILING)));
                results.assert_each_dropped_once("result");
            }
        },
    );
}

/// A long input with an exact size hint is fed to the workers while the
/// caller collects it (from 65 536 items; from 2 under Miri), and a fed call
/// that fails throws its results away the same way.
#[test]
fn a_failed_fed_map_drops_its_results_once_and_raises_the_tasks_payload() {
    in_child_process(
        "a_failed_fed_map_drops_its_results_once_and_raises_the_tasks_payload",
        || {
            let len = if cfg!(miri) { 8 } else { 1 << 16 };
            let failing = len / 2 + 1;
            let pool = Pool::new(2);
            let results = Ledger::new(len);
            let payload = raised(|| {
                pool.map_chunked(
                    |id: usize| {
                        if id == failing {
                            panic::panic_any(Custom(failing));
                        }
                        // A few armed results, in several chunks.
                        Bomb::new(id, id % (len / 8) < 2, &results)
                    },
                    0..len,
                    len / 8,
                )
            });
            assert_eq!(payload.downcast_ref::<Custom>(), Some(&Custom(failing)));
            results.assert_each_dropped_once("result");
        },
    );
}

/// A call refused after its items were collected (here the input itself
/// closes the pool) drops them, each once, and raises "pool is closed".
#[test]
fn a_call_refused_after_collecting_drops_each_item_once_and_says_the_pool_is_closed() {
    in_child_process(
        "a_call_refused_after_collecting_drops_each_item_once_and_says_the_pool_is_closed",
        || {
            let pool = Pool::new(1);
            let items = Ledger::new(ITEMS);
            // `filter` makes the size hint inexact, so the call collects
            // its input before it submits (it is not fed).
            let input = (0..ITEMS).filter(|_| true).map(|id| {
                if id == ITEMS - 1 {
                    pool.close();
                }
                Bomb::new(id, true, &items)
            });
            let payload = raised(|| pool.map(|item: Bomb| item, input));
            assert_eq!(payload.downcast_ref::<&str>(), Some(&"pool is closed"));
            items.assert_each_dropped_once("item");

            let pool = Pool::new(1);
            let items = Ledger::new(ITEMS);
            let input = (0..ITEMS).map(|id| {
                if id == ITEMS - 1 {
                    pool.close();
                }
                Bomb::new(id, true, &items)
            });
            let payload = refused(|| drop(pool.map_async(|item: Bomb| item, input)));
            assert_eq!(payload.downcast_ref::<&str>(), Some(&"pool is closed"));
            items.assert_each_dropped_once("item");
        },
    );
}

/// Two armed values and their ledger.
fn two_armed() -> (Arc<Ledger>, Bomb, Bomb) {
    let ledger = Ledger::new(2);
    let (a, b) = (Bomb::new(0, true, &ledger), Bomb::new(1, true, &ledger));
    (ledger, a, b)
}

/// A call made on a closed pool drops its function and its input before
/// it raises "pool is closed", never while that panic unwinds: each of
/// them here holds a value whose `Drop` panics.
#[test]
fn a_call_refused_up_front_drops_its_function_and_input_once_and_says_the_pool_is_closed() {
    in_child_process(
        "a_call_refused_up_front_drops_its_function_and_input_once_and_says_the_pool_is_closed",
        || {
            let pool = Pool::new(1);
            pool.close();
            let check = |ledger: Arc<Ledger>, payload: Payload, form: &str| {
                assert_eq!(
                    payload.downcast_ref::<&str>(),
                    Some(&"pool is closed"),
                    "{form}"
                );
                ledger.assert_each_dropped_once(form);
            };
            // A function holding an armed value.
            let holding = |held: Bomb| {
                move |x: Bomb| {
                    let _held = &held;
                    x
                }
            };

            let (ledger, held, item) = two_armed();
            let (f, items) = (holding(held), vec![item]);
            check(ledger, refused(|| drop(pool.map(f, items))), "map");

            let (ledger, held, item) = two_armed();
            let (f, items) = (holding(held), vec![(item,)]);
            check(ledger, refused(|| drop(pool.starmap(f, items))), "starmap");

            let (ledger, held, item) = two_armed();
            let (f, items) = (holding(held), vec![item]);
            check(
                ledger,
                refused(|| drop(pool.map_async(f, items))),
                "map_async",
            );

            let (ledger, held, item) = two_armed();
            let (f, args) = (holding(held), (item,));
            check(ledger, refused(|| drop(pool.apply(f, args))), "apply");

            let (ledger, held, item) = two_armed();
            let (f, args) = (holding(held), (item,));
            check(
                ledger,
                refused(|| drop(pool.apply_async(f, args))),
                "apply_async",
            );
        },
    );
}

/// A function that holds `held`, and panics with `Custom(FAILING)` on that
/// item when `fail` is set; its results are armed values in `results`.
fn holding_and_failing(
    held: Bomb,
    fail: bool,
    results: &Arc<Ledger>,
) -> impl Fn(usize) -> Bomb + Send + Sync + 'static {
    let results = results.clone();
    move |id: usize| {
        let _held = &held;
        if fail && id == FAILING {
            panic::panic_any(Custom(FAILING));
        }
        Bomb::new(id, true, &results)
    }
}

/// A blocking call drops its function once it is over, never while a
/// panic unwinds, and the function's `Drop` panics here: after a task
/// panicked, that panic is passed over and the task's payload raised;
/// after the tasks succeeded, it is raised, and the results are dropped;
/// after a refusal, it is passed over and "pool is closed" raised.
#[test]
fn a_blocking_call_drops_its_function_once_and_never_during_a_panic() {
    in_child_process(
        "a_blocking_call_drops_its_function_once_and_never_during_a_panic",
        || {
            let pool = Pool::new(2);
            for fail in [true, false] {
                let (held, results) = (Ledger::new(1), Ledger::new(ITEMS));
                let f = holding_and_failing(Bomb::new(0, true, &held), fail, &results);
                let payload = raised(|| pool.map_chunked(f, 0..ITEMS, 1));
                if fail {
                    assert_eq!(payload.downcast_ref::<Custom>(), Some(&Custom(FAILING)));
                } else {
                    let message = payload.downcast_ref::<String>().map(String::as_str);
                    assert_eq!(message, Some(&*format!("{EXPECTED}: the drop of 0")));
                    assert_eq!(results.made(), ITEMS);
                }
                held.assert_each_dropped_once("function's value");
                results.assert_each_dropped_once("result");
            }

            let (held, results) = (Ledger::new(1), Ledger::new(ITEMS));
            let f = holding_and_failing(Bomb::new(0, true, &held), false, &results);
            let input = (0..ITEMS).filter(|_| true).inspect(|&id| {
                if id == ITEMS - 1 {
                    pool.close();
                }
            });
            let payload = raised(|| pool.map(f, input));
            assert_eq!(payload.downcast_ref::<&str>(), Some(&"pool is closed"));
            held.assert_each_dropped_once("function's value");
        },
    );
}

/// `apply` and `apply_async` drop their function on the worker once the
/// call is over, never while a panic unwinds, and the function's `Drop`
/// panics here: after the task panicked, that panic is passed over and the
/// task's payload reported; after the task returned, it is reported, and
/// the value returned is dropped.
#[test]
fn apply_drops_its_function_once_and_never_during_a_panic() {
    in_child_process(
        "apply_drops_its_function_once_and_never_during_a_panic",
        || {
            let pool = Pool::new(1);
            for (form, fail) in [("apply", true), ("apply", false)]
                .into_iter()
                .chain([("apply_async", true), ("apply_async", false)])
            {
                let (held, values) = (Ledger::new(1), Ledger::new(ITEMS));
                let f = holding_and_failing(Bomb::new(0, true, &held), fail, &values);
                let payload = if form == "apply" {
                    raised(|| vec![pool.apply(f, (FAILING,))])
                } else {
                    let result = pool.apply_async(f, (FAILING,));
                    result.get().expect_err("the call failed").into_panic()
                };
                if fail {
                    assert_eq!(
                        payload.downcast_ref::<Custom>(),
                        Some(&Custom(FAILING)),
                        "{form}"
                    );
                } else {
                    let message = payload.downcast_ref::<String>().map(String::as_str);
                    let expected = format!("{EXPECTED}: the drop of 0");
                    assert_eq!(message, Some(&*expected), "{form}");
                    assert_eq!(values.made(), 1, "{form}");
                }
                held.assert_each_dropped_once("function's value");
                values.assert_each_dropped_once("value");
            }
        },
    );
}

/// The results of a `map_async` whose handle is gone before they are ready
/// are dropped on the worker that finishes the call: each once, with the
/// panics of their `Drop` passed over, and the pool keeps working.
#[test]
fn results_nobody_takes_are_each_dropped_once_on_the_worker() {
    in_child_process(
        "results_nobody_takes_are_each_dropped_once_on_the_worker",
        || {
            let pool = Pool::new(2);
            let results = Ledger::new(ITEMS);
            let gate = Arc::new(AtomicUsize::new(0));
            let (ledger, open) = (results.clone(), gate.clone());
            let handle = pool.map_async_chunked(
                move |id: usize| {
                    while open.load(SeqCst) == 0 {
                        thread::sleep(Duration::from_millis(1));
                    }
                    Bomb::new(id, true, &ledger)
                },
                0..ITEMS,
                2,
            );
            drop(handle);
            gate.store(1, SeqCst);
            pool.join();
            assert_eq!(results.made(), ITEMS);
            results.assert_each_dropped_once("result");
        },
    );
}

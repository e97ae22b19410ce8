//! Behaviour of `Pool::scope` and `Scope::spawn`: tasks borrow from
//! outside the scope, spawn more tasks, and have all finished when the
//! scope returns; panics come back after every task has finished; scopes
//! nest with each other and with `fork_join`, inside any task; a waiting
//! caller sleeps. Several are ported from rayon-core's `scope` tests.
#![cfg(not(loom))]

mod common;

use std::panic::{self, AssertUnwindSafe};
use std::sync::atomic::Ordering::SeqCst;
use std::sync::atomic::{AtomicBool, AtomicUsize};
use std::sync::{Arc, Barrier, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use weft_pool::{Pool, Scope};
use weft_testkit::{Watchdog, iterations};

use common::{CLOSED, Custom, EXPECTED, HANG, quiet_expected_panics, quiet_refusals};

/// Blocks until `flag` is set, failing the test after a long while.
fn wait_for(flag: &AtomicBool, what: &str) {
    let start = Instant::now();
    while !flag.load(SeqCst) {
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "{what} never happened"
        );
        thread::yield_now();
    }
}

/// Runs `f` on one of the pool's workers if `inside`, else right here.
fn run_on<R: Send>(pool: &Pool, inside: bool, f: impl FnOnce() -> R + Send) -> R {
    if inside {
        let f = Mutex::new(Some(f));
        pool.apply(|| (f.lock().unwrap().take().unwrap())(), ())
    } else {
        f()
    }
}

/// rayon's `scope_empty` and `scope_result`.
#[test]
fn a_scope_returns_its_bodys_value() {
    let pool = Pool::new(2);
    pool.scope(|_| {});
    assert_eq!(pool.scope(|_| 22), 22);
}

/// rayon's `scope_two`, with borrowed counters.
#[test]
fn tasks_borrow_from_outside_the_scope() {
    let pool = Pool::new(2);
    let counter = AtomicUsize::new(0);
    let mut owned = String::from("weft");
    pool.scope(|s| {
        s.spawn(|_| {
            counter.fetch_add(1, SeqCst);
        });
        s.spawn(|_| {
            counter.fetch_add(10, SeqCst);
        });
        s.spawn(|_| owned.push_str("-pool"));
    });
    assert_eq!(counter.load(SeqCst), 11);
    assert_eq!(owned, "weft-pool");
}

/// Disjoint `&mut` parts of one vector, each written by its own task,
/// from outside the pool and from inside a task, on one and several
/// workers.
#[test]
fn tasks_write_disjoint_parts_of_a_borrowed_slice() {
    let _watchdog = Watchdog::new("tasks_write_disjoint_parts_of_a_borrowed_slice", HANG);
    let len = iterations(10_000, 64);
    for workers in [1, 3] {
        let pool = Pool::new(workers);
        for inside in [false, true] {
            let mut v = vec![0usize; len];
            run_on(&pool, inside, || {
                pool.scope(|s| {
                    for (i, chunk) in v.chunks_mut(7).enumerate() {
                        s.spawn(move |_| {
                            for (j, x) in chunk.iter_mut().enumerate() {
                                *x = 7 * i + j;
                            }
                        });
                    }
                });
            });
            assert!(
                v.iter().enumerate().all(|(i, &x)| x == i),
                "{workers} workers, inside: {inside}"
            );
        }
    }
}

fn divide_and_conquer<'s>(s: &'s Scope<'s, '_>, leaves: &'s AtomicUsize, size: usize) {
    if size > 1 {
        s.spawn(move |s| divide_and_conquer(s, leaves, size / 2));
        s.spawn(move |s| divide_and_conquer(s, leaves, size / 2));
    } else {
        leaves.fetch_add(1, SeqCst);
    }
}

/// rayon's `scope_divide_and_conquer`: tasks spawning tasks, all finished
/// when the scope returns.
#[test]
fn tasks_spawned_by_tasks_have_finished_when_the_scope_returns() {
    let _watchdog = Watchdog::new(
        "tasks_spawned_by_tasks_have_finished_when_the_scope_returns",
        HANG,
    );
    let size = iterations(1024, 16);
    for workers in [1, 2, 4] {
        let pool = Pool::new(workers);
        for inside in [false, true] {
            let leaves = AtomicUsize::new(0);
            run_on(&pool, inside, || {
                pool.scope(|s| s.spawn(|s| divide_and_conquer(s, &leaves, size)));
            });
            assert_eq!(
                leaves.load(SeqCst),
                size,
                "{workers} workers, inside: {inside}"
            );
        }
    }
}

/// A tree whose nodes hold values, updated in place by one task per node.
struct Tree {
    value: u32,
    children: Vec<Tree>,
}

impl Tree {
    /// A tree of the given depth with 0 to 3 children per node, from a
    /// fixed linear congruential generator.
    fn new(depth: u32, seed: &mut u64) -> Tree {
        let mut next = || {
            *seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
            (*seed >> 33) as u32
        };
        let value = next() % 1_000_000;
        let children = if depth == 0 { 0 } else { next() % 4 };
        Tree {
            value,
            children: (0..children).map(|_| Tree::new(depth - 1, seed)).collect(),
        }
    }

    fn values(&self) -> Vec<u32> {
        let mut all = vec![self.value];
        for child in &self.children {
            all.extend(child.values());
        }
        all
    }

    fn update_in<'s>(&'s mut self, s: &'s Scope<'s, '_>, op: &'s (dyn Fn(&mut u32) + Sync)) {
        let Tree { value, children } = self;
        s.spawn(move |s| {
            for child in children {
                s.spawn(move |s| child.update_in(s, op));
            }
        });
        op(value);
    }
}

/// rayon's `update_tree`: every node is updated once, through `&mut`
/// borrows handed down the tree to nested tasks.
#[test]
fn tasks_update_a_tree_through_mutable_borrows() {
    let _watchdog = Watchdog::new("tasks_update_a_tree_through_mutable_borrows", HANG);
    let pool = Pool::new(3);
    let mut tree = Tree::new(iterations(10, 3) as u32, &mut 7);
    let before = tree.values();
    pool.scope(|s| tree.update_in(s, &|v| *v += 1));
    let after = tree.values();
    assert_eq!(before.len(), after.len());
    assert!(before.iter().zip(&after).all(|(b, a)| b + 1 == *a));
}

/// rayon's `linear_stack_growth`: a chain of tasks, each spawning the
/// next, does not pile up on the stack of the thread that runs them; a
/// long chain on one worker completes.
#[test]
fn a_long_chain_of_tasks_does_not_grow_the_stack() {
    let _watchdog = Watchdog::new("a_long_chain_of_tasks_does_not_grow_the_stack", HANG);
    fn link<'s>(s: &'s Scope<'s, '_>, left: usize, done: &'s AtomicUsize) {
        done.fetch_add(1, SeqCst);
        if left > 0 {
            s.spawn(move |s| link(s, left - 1, done));
        }
    }
    let n = iterations(200_000, 50);
    let pool = Pool::new(1);
    for inside in [false, true] {
        let done = AtomicUsize::new(0);
        run_on(&pool, inside, || {
            pool.scope(|s| s.spawn(|s| link(s, n, &done)))
        });
        assert_eq!(done.load(SeqCst), n + 1);
    }
}

/// Scopes inside scopes, inside `fork_join`, and `fork_join` inside tasks,
/// in tasks of every kind, with every worker inside such a task.
#[test]
fn scopes_and_fork_joins_nest_inside_each_other_and_inside_tasks() {
    let _watchdog = Watchdog::new(
        "scopes_and_fork_joins_nest_inside_each_other_and_inside_tasks",
        HANG,
    );
    /// Counts 4^depth leaves through alternating scopes and fork_joins.
    fn nest(pool: &Pool, depth: u32, leaves: &AtomicUsize) {
        if depth == 0 {
            leaves.fetch_add(1, SeqCst);
            return;
        }
        pool.scope(|s| {
            for _ in 0..2 {
                s.spawn(|_| {
                    pool.fork_join(
                        || nest(pool, depth - 1, leaves),
                        || nest(pool, depth - 1, leaves),
                    );
                });
            }
        });
    }
    let depth = iterations(4, 2) as u32;
    let leaves_per_call = 4usize.pow(depth);
    for workers in [1, 2] {
        let pool = Arc::new(Pool::new(workers));
        let leaves = AtomicUsize::new(0);
        nest(&pool, depth, &leaves);
        pool.map(|_: u8| nest(&pool, depth, &leaves), 0..3);
        pool.fork_join(
            || nest(&pool, depth, &leaves),
            || nest(&pool, depth, &leaves),
        );
        assert_eq!(leaves.load(SeqCst), 6 * leaves_per_call);

        let leaves = Arc::new(AtomicUsize::new(0));
        let handles: Vec<_> = (0..workers + 2)
            .map(|_| {
                let (pool2, leaves) = (pool.clone(), leaves.clone());
                pool.apply_async(move || nest(&pool2, depth, &leaves), ())
            })
            .collect();
        for h in handles {
            h.get().unwrap();
        }
        assert_eq!(leaves.load(SeqCst), (workers + 2) * leaves_per_call);
    }
}

/// Tasks may spawn into an outer scope from inside an inner one; the outer
/// scope waits for them.
#[test]
fn a_task_may_spawn_into_an_outer_scope() {
    let _watchdog = Watchdog::new("a_task_may_spawn_into_an_outer_scope", HANG);
    let pool = Pool::new(2);
    let outer_tasks = AtomicUsize::new(0);
    pool.scope(|outer| {
        pool.scope(|inner| {
            for _ in 0..4 {
                inner.spawn(|_| {
                    outer.spawn(|_| {
                        thread::sleep(Duration::from_millis(1));
                        outer_tasks.fetch_add(1, SeqCst);
                    });
                });
            }
        });
    });
    assert_eq!(outer_tasks.load(SeqCst), 4);
}

/// rayon's `panic_propagate_*`: a panic of the body, of a task, of a task
/// spawned by a task, or of a task of a nested scope comes back out of the
/// scope with its payload.
#[test]
fn a_panic_anywhere_in_the_scope_comes_back_with_its_payload() {
    quiet_expected_panics();
    let pool = Pool::new(2);
    let payload = |f: &dyn Fn()| {
        *panic::catch_unwind(AssertUnwindSafe(f))
            .unwrap_err()
            .downcast::<Custom>()
            .unwrap()
    };
    let raise = |i| move |_: &Scope<'_, '_>| panic::panic_any(Custom(i));
    assert_eq!(
        payload(&|| pool.scope(|_| panic::panic_any(Custom(1)))),
        Custom(1)
    );
    assert_eq!(payload(&|| pool.scope(|s| s.spawn(raise(2)))), Custom(2));
    assert_eq!(
        payload(&|| pool.scope(|s| s.spawn(|s| s.spawn(|s| s.spawn(raise(3)))))),
        Custom(3)
    );
    assert_eq!(
        payload(&|| pool.scope(|s| s.spawn(|_| pool.scope(|s| s.spawn(raise(4)))))),
        Custom(4)
    );
    // The pool keeps its workers and stays usable.
    assert_eq!(pool.workers(), 2);
    assert_eq!(
        pool.scope(|s| {
            s.spawn(|_| ());
            5
        }),
        5
    );
}

/// rayon's `panic_propagate_still_execute_*`: the other tasks, and the rest
/// of the body, still run when a task panics; the body's panic leaves the
/// tasks it spawned to run too.
#[test]
fn tasks_still_run_when_another_task_or_the_body_panics() {
    quiet_expected_panics();
    let _watchdog = Watchdog::new("tasks_still_run_when_another_task_or_the_body_panics", HANG);
    let pool = Pool::new(2);
    for panic_first in [false, true] {
        let mut ran = false;
        let caught = panic::catch_unwind(AssertUnwindSafe(|| {
            pool.scope(|s| {
                if panic_first {
                    s.spawn(|_| panic!("{EXPECTED}: task"));
                    s.spawn(|_| ran = true);
                } else {
                    s.spawn(|_| ran = true);
                    s.spawn(|_| panic!("{EXPECTED}: task"));
                }
            });
        }));
        assert!(caught.is_err() && ran, "panic first: {panic_first}");
    }
    let mut ran = false;
    let caught = panic::catch_unwind(AssertUnwindSafe(|| {
        pool.scope(|s| {
            s.spawn(|_| ran = true);
            panic!("{EXPECTED}: body");
        });
    }));
    assert!(
        caught.is_err() && ran,
        "a task spawned before the body's panic"
    );
    let mut rest_of_body = false;
    let caught = panic::catch_unwind(AssertUnwindSafe(|| {
        pool.scope(|s| {
            s.spawn(|_| panic!("{EXPECTED}: task"));
            rest_of_body = true;
        });
    }));
    assert!(caught.is_err() && rest_of_body, "the rest of the body");
}

/// Of several panics, the first one comes back, and only once every task
/// has finished. On a one-worker pool, inside a task, one thread runs
/// everything, so "first" is exact: each task spawns the next before it
/// panics, and the body panics before any task runs.
#[test]
fn the_first_of_several_panics_comes_back_after_every_task() {
    quiet_expected_panics();
    let _watchdog = Watchdog::new(
        "the_first_of_several_panics_comes_back_after_every_task",
        HANG,
    );
    fn chain<'s>(s: &'s Scope<'s, '_>, i: usize, ran: &'s AtomicUsize) {
        ran.fetch_add(1, SeqCst);
        if i < 4 {
            s.spawn(move |s| chain(s, i + 1, ran));
        }
        panic::panic_any(Custom(i));
    }
    let one = Pool::new(1);
    let (payload, ran) = one.apply(
        || {
            let ran = AtomicUsize::new(0);
            let caught = panic::catch_unwind(AssertUnwindSafe(|| {
                one.scope(|s| s.spawn(|s| chain(s, 0, &ran)));
            }));
            (
                *caught.unwrap_err().downcast::<Custom>().unwrap(),
                ran.into_inner(),
            )
        },
        (),
    );
    assert_eq!((payload, ran), (Custom(0), 5));

    let payload = one.apply(
        || {
            let caught = panic::catch_unwind(AssertUnwindSafe(|| {
                one.scope(|s| {
                    s.spawn(|_| panic::panic_any(Custom(1)));
                    panic::panic_any(Custom(0));
                });
            }));
            *caught.unwrap_err().downcast::<Custom>().unwrap()
        },
        (),
    );
    assert_eq!(payload, Custom(0), "the body's panic came first");

    // On more workers the order is not fixed, but every task still runs
    // and the payload is one of theirs.
    let pool = Pool::new(3);
    let ran = AtomicUsize::new(0);
    let caught = panic::catch_unwind(AssertUnwindSafe(|| {
        pool.scope(|s| s.spawn(|s| chain(s, 0, &ran)));
    }));
    let Custom(i) = *caught.unwrap_err().downcast::<Custom>().unwrap();
    assert!(i < 5);
    assert_eq!(ran.load(SeqCst), 5);
}

/// Counts its drops.
struct Counted<'a>(&'a AtomicUsize);

impl Drop for Counted<'_> {
    fn drop(&mut self) {
        self.0.fetch_add(1, SeqCst);
    }
}

/// Each task's closure is dropped once, after it ran, and the body's value
/// is dropped when a task panicked.
#[test]
fn tasks_and_the_bodys_value_are_dropped_once() {
    quiet_expected_panics();
    let pool = Pool::new(2);
    let drops = AtomicUsize::new(0);
    pool.scope(|s| {
        for _ in 0..10 {
            let owned = Counted(&drops);
            s.spawn(move |_| drop(owned));
        }
        let unrun = Counted(&drops);
        s.spawn(move |_| {
            let _kept = unrun;
        });
    });
    assert_eq!(drops.load(SeqCst), 11);

    drops.store(0, SeqCst);
    let caught = panic::catch_unwind(AssertUnwindSafe(|| {
        pool.scope(|s| {
            s.spawn(|_| panic!("{EXPECTED}: task"));
            Counted(&drops)
        })
    }));
    assert!(caught.is_err());
    assert_eq!(drops.load(SeqCst), 1, "the body's value was dropped");
}

/// A closed pool refuses a scope from outside (dropping the body unrun);
/// inside a task it is accepted work; and a scope that has started keeps
/// accepting tasks after a close.
#[test]
fn a_started_scope_keeps_accepting_tasks_after_a_close() {
    quiet_refusals();
    let _watchdog = Watchdog::new("a_started_scope_keeps_accepting_tasks_after_a_close", HANG);
    for workers in [1, 2] {
        let pool = Pool::new(workers);
        let ran = AtomicUsize::new(0);
        pool.scope(|s| {
            s.spawn(|_| {
                ran.fetch_add(1, SeqCst);
            });
            pool.close();
            for _ in 0..3 {
                s.spawn(|s| {
                    ran.fetch_add(1, SeqCst);
                    s.spawn(|_| {
                        ran.fetch_add(1, SeqCst);
                    });
                });
            }
        });
        assert_eq!(ran.load(SeqCst), 7, "{workers} workers");

        let drops = AtomicUsize::new(0);
        let body = Counted(&drops);
        let refused = panic::catch_unwind(AssertUnwindSafe(|| {
            pool.scope(move |_| drop(body));
        }));
        assert_eq!(refused.unwrap_err().downcast_ref::<&str>(), Some(&CLOSED));
        assert_eq!(drops.load(SeqCst), 1, "the body was dropped, not run");
    }

    let pool = Arc::new(Pool::new(2));
    let (started, closed) = (
        Arc::new(AtomicBool::new(false)),
        Arc::new(AtomicBool::new(false)),
    );
    let (inner, started2, closed2) = (pool.clone(), started.clone(), closed.clone());
    let task = pool.apply_async(
        move || {
            started2.store(true, SeqCst);
            wait_for(&closed2, "the close");
            let n = AtomicUsize::new(0);
            inner.scope(|s| {
                s.spawn(|_| {
                    n.fetch_add(1, SeqCst);
                });
            });
            n.into_inner()
        },
        (),
    );
    wait_for(&started, "the task's start");
    pool.close();
    closed.store(true, SeqCst);
    assert_eq!(task.get().unwrap(), 1);
}

/// A task of a started scope is accepted work wherever it runs: here the
/// only worker is busy, so the caller from outside runs the task itself,
/// after a close, and the task's own `fork_join` and `scope` still run.
#[test]
fn a_task_run_by_the_caller_after_a_close_may_still_nest() {
    let _watchdog = Watchdog::new(
        "a_task_run_by_the_caller_after_a_close_may_still_nest",
        HANG,
    );
    let pool = Pool::new(1);
    let (busy, release) = (
        Arc::new(AtomicBool::new(false)),
        Arc::new(AtomicBool::new(false)),
    );
    let (busy2, release2) = (busy.clone(), release.clone());
    let blocker = pool.apply_async(
        move || {
            busy2.store(true, SeqCst);
            wait_for(&release2, "the release of the worker");
        },
        (),
    );
    wait_for(&busy, "the worker's blocking task");
    let caller = thread::current().id();
    let ran_on = Mutex::new(None);
    let nested = AtomicUsize::new(0);
    let outcome = panic::catch_unwind(AssertUnwindSafe(|| {
        pool.scope(|s| {
            s.spawn(|_| {
                *ran_on.lock().unwrap() = Some(thread::current().id());
                let (a, b) = pool.fork_join(|| 1, || 2);
                pool.scope(|s| {
                    s.spawn(|_| {
                        nested.fetch_add(a + b, SeqCst);
                    });
                });
            });
            pool.close();
        });
    }));
    release.store(true, SeqCst);
    blocker.get().unwrap();
    if let Err(payload) = outcome {
        panic::resume_unwind(payload);
    }
    assert_eq!(
        *ran_on.lock().unwrap(),
        Some(caller),
        "the caller ran the task"
    );
    assert_eq!(nested.into_inner(), 3);
}

/// Tasks run on the workers (and may run on the waiting caller), each
/// exactly once, from several callers at once.
#[test]
fn many_callers_may_use_scopes_on_one_pool_at_once() {
    let _watchdog = Watchdog::new("many_callers_may_use_scopes_on_one_pool_at_once", HANG);
    let pool = Pool::new(2);
    let (callers, tasks) = if cfg!(miri) { (2, 10) } else { (4, 1000) };
    let runs = Mutex::new(vec![0u8; callers * tasks]);
    thread::scope(|t| {
        for c in 0..callers {
            let (pool, runs) = (&pool, &runs);
            t.spawn(move || {
                pool.scope(|s| {
                    for i in 0..tasks {
                        s.spawn(move |_| runs.lock().unwrap()[c * tasks + i] += 1);
                    }
                });
            });
        }
    });
    assert!(runs.into_inner().unwrap().iter().all(|&r| r == 1));
}

/// A task gets the scope by reference on another thread, so `Scope` is
/// `Sync`; like `std::thread::Scope`, it is `Send` too.
#[test]
fn a_scope_is_send_and_sync() {
    fn send_sync<T: Send + Sync>() {}
    send_sync::<Scope<'static, 'static>>();
}

/// A caller waiting for a task that a worker runs sleeps instead of
/// spinning, from outside and on a worker.
#[test]
#[cfg_attr(miri, ignore = "Miri cannot read a thread's CPU time")]
fn a_caller_waiting_on_a_scope_sleeps() {
    let _watchdog = Watchdog::new("a_caller_waiting_on_a_scope_sleeps", HANG);
    let pool = Pool::new(2);
    for inside in [false, true] {
        let barrier = Barrier::new(2);
        run_on(&pool, inside, || {
            weft_testkit::assert_sleeps("a caller waiting in scope", || {
                pool.scope(|s| {
                    s.spawn(|_| {
                        barrier.wait();
                        thread::sleep(weft_testkit::BLOCKED);
                    });
                    // The body ends only once a worker runs the task.
                    barrier.wait();
                });
            });
        });
    }
}

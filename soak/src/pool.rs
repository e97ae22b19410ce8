//! The `pool` workload: `weft_pool::Pool`.
//!
//! Two threads share a pool of [`WORKERS`] workers and make calls of random
//! sizes (now and then one long enough for `map` to feed the workers while
//! it collects), each of which may have one item that panics:
//!
//! - **Blocking calls** (`map`, `map_chunked`, `starmap`, `apply`), some of
//!   whose items make nested calls on the same pool from inside their task.
//!   A call returns every result in order, or re-raises the panicking
//!   item's own payload; either way, by the time it returns, it has
//!   dropped every argument and every result it does not return, and has
//!   run the function once per item (all of them when it returns, at most
//!   all when it panics).
//! - **Async calls** (`map_async`, `starmap_async`, `apply_async`), whose
//!   handle is waited on with `get`, `get_timeout` (random timeout) or
//!   `wait`, or dropped. A value or a `TaskError` carrying the item's
//!   payload comes back as for blocking calls. Once the pool is joined at
//!   the end, every argument and result of every call, handles dropped
//!   included, must have been dropped exactly once, and every function run
//!   once per item.
//! - **Shutdown.** Now and then a caller makes a short-lived pool, fills its
//!   queue with small tasks, and drops it or closes and joins it; or it
//!   closes the pool while another thread keeps submitting until refused
//!   with "pool is closed". Every task accepted must have run exactly once,
//!   every refused one never.
//!
//! Values count themselves in their call's [`Tally`] when made and when
//! dropped, which is how "dropped exactly once" is checked.

use std::ops::Deref;
use std::sync::Arc;
use std::sync::atomic::AtomicU64;
use std::sync::atomic::Ordering::Relaxed;
use std::thread;
use std::time::Duration;

use rand::Rng;
use weft_pool::{AsyncResult, GetTimeoutError, Pool, TaskError};

use super::{Bits, Ctx, DELIBERATE, Op, catch, panic_message};

/// Workers of the shared pool.
const WORKERS: usize = 3;

/// Task ids of one shutdown round.
const SHUTDOWN_TASKS: u64 = 4096;

/// One call's counts: arguments and results made and dropped, and runs of
/// the function.
#[derive(Default)]
struct Tally {
    items_made: AtomicU64,
    items_dropped: AtomicU64,
    results_made: AtomicU64,
    results_dropped: AtomicU64,
    runs: AtomicU64,
}

/// An argument or a result of a call, counted in the call's [`Tally`].
/// Relaxed counts throughout: they are read after the call returned (or
/// the pool was joined).
struct Counted<T: Deref<Target = Tally>> {
    value: u64,
    result: bool,
    tally: T,
}

impl<T: Deref<Target = Tally>> Counted<T> {
    fn item(value: u64, tally: T) -> Self {
        tally.items_made.fetch_add(1, Relaxed);
        Counted {
            value,
            result: false,
            tally,
        }
    }

    fn result(value: u64, tally: T) -> Self {
        tally.results_made.fetch_add(1, Relaxed);
        Counted {
            value,
            result: true,
            tally,
        }
    }
}

impl<T: Deref<Target = Tally>> Drop for Counted<T> {
    fn drop(&mut self) {
        let dropped = if self.result {
            &self.tally.results_dropped
        } else {
            &self.tally.items_dropped
        };
        dropped.fetch_add(1, Relaxed);
    }
}

/// What one call does: how many items, which one panics (if any), and
/// whether some items make nested calls.
#[derive(Clone, Copy, Debug)]
struct Plan {
    id: u64,
    len: u64,
    panic_at: Option<u64>,
    nest: bool,
}

impl Plan {
    fn random(ctx: &mut Ctx<'_>, id: u64, may_nest: bool) -> Plan {
        let len = match ctx.rng.random_range(0..100) {
            0 => 70_000,
            1..10 => ctx.rng.random_range(0..1_000),
            _ => ctx.rng.random_range(0..64),
        };
        Plan {
            id,
            len,
            panic_at: (len > 0 && ctx.rng.random_ratio(1, 5)).then(|| ctx.rng.random_range(0..len)),
            nest: may_nest && len < 1_000 && ctx.rng.random_bool(0.3),
        }
    }

    /// The same plan for a call of one item, `apply`'s: the panic, if
    /// any, moves to that item.
    fn single(self) -> Plan {
        Plan {
            len: 1,
            panic_at: self.panic_at.map(|_| 0),
            ..self
        }
    }

    /// The payload of this call's deliberate panic.
    fn message(self) -> String {
        format!("{DELIBERATE} in call {}", self.id)
    }

    /// The function every call computes: `2v + 1`, plus a nested call's
    /// result for every eighth item when the plan nests (which needs the
    /// pool: async work, being `'static`, gets none).
    fn compute(self, pool: Option<&Pool>, value: u64) -> u64 {
        if self.panic_at == Some(value) {
            panic!("{}", self.message());
        }
        let Some(pool) = pool.filter(|_| self.nest && value % 8 == 0) else {
            return 2 * value + 1;
        };
        let nested = match value % 3 {
            0 => pool.map(|x: u64| x + value, 0..4).iter().sum(),
            1 => pool.apply(|a: u64, b: u64| a * b, (value, 3)),
            _ => pool
                .starmap(|a: u64, b: u64| a + b, [(value, 1), (value, 2)])
                .iter()
                .sum(),
        };
        2 * value + 1 + nested
    }

    /// What [`compute`](Self::compute) returns for `value`.
    fn expected(self, value: u64) -> u64 {
        let nested = match value % 3 {
            _ if !self.nest || value % 8 != 0 => 0,
            0 => 4 * value + 6,
            1 => 3 * value,
            _ => 2 * value + 3,
        };
        2 * value + 1 + nested
    }
}

/// The second argument of `starmap`'s items, added to the result: the
/// call's `apply` form passes 4, the others `v % 5`.
fn extra(v: u64) -> u64 {
    v % 5
}

pub(super) fn run(ctx: &mut Ctx<'_>) {
    let soak = ctx.soak;
    let pool = ctx.track(Op::NewPool, || Pool::new(WORKERS));
    let pending: Vec<(Plan, Arc<Tally>)> = thread::scope(|s| {
        let callers: Vec<_> = (0..2_u64)
            .map(|caller| {
                let pool = &pool;
                soak.spawn(s, format!("pool-caller-{caller}"), move |ctx| {
                    let mut pending = Vec::new();
                    let mut id = caller << 40;
                    while ctx.running() {
                        id += 1;
                        match ctx.rng.random_range(0..100) {
                            0 => shutdown(ctx, id),
                            1..50 => blocking(ctx, pool, id),
                            _ => pending.push(asynchronous(ctx, pool, id)),
                        }
                    }
                    pending
                })
            })
            .collect();
        callers
            .into_iter()
            .filter_map(|c| c.join().ok().flatten())
            .flatten()
            .collect()
    });
    ctx.track(Op::JoinPool, || pool.join());

    // Every task has run and every handle is gone: all counts are final.
    for (plan, tally) in pending {
        let what = format!("an async call ({plan:?})");
        check_drops(ctx, &what, &tally, false);
        check_runs(ctx, &what, plan, &tally, plan.panic_at.is_some());
    }
}

/// Makes one blocking call and checks it.
fn blocking(ctx: &mut Ctx<'_>, pool: &Pool, id: u64) {
    let form = ctx.rng.random_range(0..4);
    let plan = Plan::random(ctx, id, true);
    let plan = if form == 3 { plan.single() } else { plan };
    let tally = Tally::default();
    let t = &tally;
    let items = (0..plan.len).map(|v| Counted::item(v, t));
    let f = |item: Counted<&Tally>| {
        t.runs.fetch_add(1, Relaxed);
        Counted::result(plan.compute(Some(pool), item.value), t)
    };
    let g = |item: Counted<&Tally>, extra: u64| {
        t.runs.fetch_add(1, Relaxed);
        Counted::result(plan.compute(Some(pool), item.value) + extra, t)
    };
    let chunksize = ctx.rng.random_range(1..=16);
    let (what, result, extra): (_, _, fn(u64) -> u64) = match form {
        0 => {
            let result = ctx.track(Op::Map, || catch(|| pool.map(f, items)));
            ("map", result, |_| 0)
        }
        1 => {
            let result = ctx.track(Op::MapChunked, || {
                catch(|| pool.map_chunked(f, items, chunksize))
            });
            ("map_chunked", result, |_| 0)
        }
        2 => {
            let pairs = items.map(|item| {
                let extra = extra(item.value);
                (item, extra)
            });
            let result = ctx.track(Op::Starmap, || catch(|| pool.starmap(g, pairs)));
            ("starmap", result, extra)
        }
        _ => {
            let item = Counted::item(0, t);
            let result = ctx.track(Op::Apply, || catch(|| pool.apply(g, (item, 4))));
            ("apply", result.map(|r| vec![r]), |_| 4)
        }
    };
    let what = format!("{what} ({plan:?})");
    let (panicked, results) = match result {
        Ok(results) => {
            check_results(ctx, &what, plan, &results, extra);
            (false, Some(results))
        }
        Err(payload) => {
            check_payload(ctx, &what, plan, panic_message(&*payload));
            (true, None)
        }
    };
    // The results that came back are still alive; a failed call's must all
    // be dropped by now.
    check_drops(ctx, &what, t, !panicked);
    check_runs(ctx, &what, plan, t, panicked);
    drop(results);
}

/// Makes one async call and waits for it (or drops its handle); returns
/// the call, for the check after the pool is joined.
fn asynchronous(ctx: &mut Ctx<'_>, pool: &Pool, id: u64) -> (Plan, Arc<Tally>) {
    let form = ctx.rng.random_range(0..3);
    let plan = Plan::random(ctx, id, false);
    let plan = if form == 2 { plan.single() } else { plan };
    let tally = Arc::new(Tally::default());
    let items = (0..plan.len).map(|v| Counted::item(v, tally.clone()));
    let (t, u) = (tally.clone(), tally.clone());
    let f = move |item: Counted<Arc<Tally>>| {
        t.runs.fetch_add(1, Relaxed);
        Counted::result(plan.compute(None, item.value), t.clone())
    };
    let g = move |item: Counted<Arc<Tally>>, extra: u64| {
        u.runs.fetch_add(1, Relaxed);
        Counted::result(plan.compute(None, item.value) + extra, u.clone())
    };
    let (what, outcome, extra): (_, _, fn(u64) -> u64) = match form {
        0 => {
            let handle = ctx.track(Op::MapAsync, || pool.map_async(f, items));
            ("map_async", fetch(ctx, plan, handle), |_| 0)
        }
        1 => {
            let pairs = items.map(|item| {
                let extra = extra(item.value);
                (item, extra)
            });
            let handle = ctx.track(Op::StarmapAsync, || pool.starmap_async(g, pairs));
            ("starmap_async", fetch(ctx, plan, handle), extra)
        }
        _ => {
            let item = Counted::item(0, tally.clone());
            let handle = ctx.track(Op::ApplyAsync, || pool.apply_async(g, (item, 4)));
            let outcome = fetch(ctx, plan, handle).map(|r| r.map(|r| vec![r]));
            ("apply_async", outcome, |_| 4)
        }
    };
    let what = format!("{what} ({plan:?})");
    match outcome {
        Some(Ok(results)) => check_results(ctx, &what, plan, &results, extra),
        Some(Err(error)) => {
            let message = error.message().map(str::to_owned);
            let payload = error.into_panic();
            if message.as_deref() != Some(panic_message(&*payload)) {
                ctx.soak.broken(format!(
                    "{what}: the TaskError's message {message:?} is not its payload's"
                ));
            }
            check_payload(ctx, &what, plan, panic_message(&*payload));
        }
        None => {}
    }
    (plan, tally)
}

/// Waits for an async call in a random way and returns its outcome, or
/// drops the handle and returns `None`.
fn fetch<R>(ctx: &mut Ctx<'_>, plan: Plan, handle: AsyncResult<R>) -> Option<Result<R, TaskError>> {
    match ctx.rng.random_range(0..4) {
        0 => Some(ctx.track(Op::Get, || handle.get())),
        1 => {
            let timeout = ctx.timeout();
            let result = ctx.track_timeout(
                Op::GetTimeout,
                timeout,
                || handle.get_timeout(timeout),
                |r| matches!(r, Err(GetTimeoutError::Timeout(_))),
            );
            match result {
                Ok(value) => Some(Ok(value)),
                Err(GetTimeoutError::Failed(error)) => Some(Err(error)),
                Err(GetTimeoutError::Timeout(handle)) => Some(ctx.track(Op::Get, || handle.get())),
            }
        }
        2 => {
            ctx.track(Op::Wait, || handle.wait());
            let expected = Some(plan.panic_at.is_none());
            if !handle.ready() || handle.successful() != expected {
                ctx.soak.broken(format!(
                    "after AsyncResult::wait ({plan:?}): ready() is {}, successful() {:?}",
                    handle.ready(),
                    handle.successful()
                ));
            }
            Some(ctx.track(Op::Get, || handle.get()))
        }
        _ => None,
    }
}

/// Checks the results of a call that returned: one per item, in order;
/// `extra` is what the call added to each.
fn check_results<T: Deref<Target = Tally>>(
    ctx: &Ctx<'_>,
    what: &str,
    plan: Plan,
    results: &[Counted<T>],
    extra: fn(u64) -> u64,
) {
    if let Some(at) = plan.panic_at {
        ctx.soak
            .broken(format!("{what} returned results though item {at} panicked"));
    }
    if results.len() as u64 != plan.len {
        ctx.soak.broken(format!(
            "{what} returned {} results for {} items",
            results.len(),
            plan.len
        ));
        return;
    }
    for (v, result) in (0..).zip(results) {
        let expected = plan.expected(v) + extra(v);
        if result.value != expected {
            ctx.soak.broken(format!(
                "{what} returned {} for item {v}, not {expected}",
                result.value
            ));
            return;
        }
    }
}

/// Checks that a failed call re-raised (or reported) the planned panic.
fn check_payload(ctx: &Ctx<'_>, what: &str, plan: Plan, message: &str) {
    if plan.panic_at.is_none() || message != plan.message() {
        ctx.soak.broken(format!("{what} panicked with {message:?}"));
    }
}

/// Checks that a finished call dropped every argument exactly once, and
/// every result too unless `results_out` (the caller still holds them).
fn check_drops(ctx: &Ctx<'_>, what: &str, tally: &Tally, results_out: bool) {
    let made = tally.items_made.load(Relaxed);
    let dropped = tally.items_dropped.load(Relaxed);
    if dropped != made {
        ctx.soak
            .broken(format!("{what} dropped {dropped} of its {made} arguments"));
    }
    let made = tally.results_made.load(Relaxed);
    let dropped = tally.results_dropped.load(Relaxed);
    if dropped != if results_out { 0 } else { made } {
        ctx.soak.broken(format!(
            "{what} made {made} results and dropped {dropped} of them"
        ));
    }
}

/// Checks that a finished call ran its function once per item: all of
/// them if it succeeded, at most all (and at least the one that panicked)
/// if it failed.
fn check_runs(ctx: &Ctx<'_>, what: &str, plan: Plan, tally: &Tally, panicked: bool) {
    let runs = tally.runs.load(Relaxed);
    if runs > plan.len {
        ctx.soak.duplicated(
            runs - plan.len,
            format!(
                "{what} ran its function {runs} times for {} items",
                plan.len
            ),
        );
    } else if !panicked && runs < plan.len {
        ctx.soak.lost(
            plan.len - runs,
            format!(
                "{what} ran its function {runs} times for {} items",
                plan.len
            ),
        );
    } else if panicked && runs == 0 {
        ctx.soak
            .broken(format!("{what} panicked without running its function"));
    }
}

/// Which tasks of a shutdown round were accepted, and which ran.
struct Ledger {
    accepted: Bits,
    ran: Bits,
    twice: AtomicU64,
}

impl Ledger {
    /// The task every shutdown round submits: notes that it ran.
    fn task(&self, id: u64) -> u64 {
        if self.ran.set(id) {
            self.twice.fetch_add(1, Relaxed);
        }
        if id % 8 == 0 {
            thread::sleep(Duration::from_micros(20));
        }
        id
    }
}

/// Makes a short-lived pool, gives it work and shuts it down with work
/// still queued; checks every accepted task ran once, and no refused one.
fn shutdown(ctx: &mut Ctx<'_>, id: u64) {
    let soak = ctx.soak;
    let workers = ctx.rng.random_range(1..=3);
    let pool = ctx.track(Op::NewPool, || Pool::new(workers));
    let ledger = Arc::new(Ledger {
        accepted: Bits::new(SHUTDOWN_TASKS),
        ran: Bits::new(SHUTDOWN_TASKS),
        twice: AtomicU64::new(0),
    });
    let race = ctx.rng.random_bool(0.5);
    let mut kept = Vec::new();
    let submitted = if race {
        // Another thread submits until refused, while this one closes.
        let pause = Duration::from_micros(ctx.rng.random_range(0..3_000));
        let submitted = thread::scope(|s| {
            let submitter = soak.spawn(s, format!("pool-shutdown-{id}"), |ctx| {
                submit_until_refused(ctx, &pool, &ledger)
            });
            thread::sleep(pause);
            ctx.track(Op::ClosePool, || pool.close());
            submitter.join().ok().flatten().unwrap_or(0)
        });
        ctx.track(Op::JoinPool, || pool.join());
        submitted
    } else {
        // Queue work, keep some handles, then shut the pool down.
        let tasks = ctx.rng.random_range(1..=512);
        let mut next = 0;
        while next < tasks {
            let l = ledger.clone();
            if ctx.rng.random_bool(0.5) {
                let handle = ctx.track(Op::ApplyAsync, || {
                    pool.apply_async(move |id: u64| vec![l.task(id)], (next,))
                });
                if ctx.rng.random_bool(0.3) {
                    kept.push((vec![next], handle));
                }
                ledger.accepted.set(next);
                next += 1;
            } else {
                let ids = next..(next + ctx.rng.random_range(1..=16)).min(tasks);
                let handle = ctx.track(Op::MapAsync, || {
                    pool.map_async(move |id: u64| l.task(id), ids.clone())
                });
                if ctx.rng.random_bool(0.3) {
                    kept.push((ids.clone().collect(), handle));
                }
                ids.clone().for_each(|id| {
                    ledger.accepted.set(id);
                });
                next = ids.end;
            }
        }
        if ctx.rng.random_bool(0.5) {
            ctx.track(Op::DropPool, || drop(pool));
        } else {
            ctx.track(Op::ClosePool, || pool.close());
            let refused = ctx.track(Op::ApplyAsync, || catch(|| pool.apply_async(|| (), ())));
            match refused {
                Ok(_) => soak.broken("a closed pool accepted apply_async".to_owned()),
                Err(payload) if panic_message(&*payload) != "pool is closed" => {
                    soak.broken(format!(
                        "a closed pool refused apply_async with {:?}",
                        panic_message(&*payload)
                    ))
                }
                Err(_) => {}
            }
            ctx.track(Op::JoinPool, || pool.join());
        }
        next
    };

    let what = format!(
        "a Pool::new({workers}) {}",
        if race {
            "closed while another thread submitted"
        } else {
            "shut down with work queued"
        }
    );
    let twice = ledger.twice.load(Relaxed);
    if twice > 0 {
        soak.duplicated(twice, format!("tasks of {what} ran twice"));
    }
    let never = (0..submitted)
        .filter(|&i| ledger.accepted.get(i) && !ledger.ran.get(i))
        .count() as u64;
    if never > 0 {
        soak.lost(never, format!("tasks accepted by {what} never ran"));
    }
    if let Some(i) = (0..submitted).find(|&i| !ledger.accepted.get(i) && ledger.ran.get(i)) {
        soak.broken(format!("task {i} ran though {what} refused it"));
    }
    for (ids, handle) in kept {
        match ctx.track(Op::Get, || handle.get()) {
            Ok(got) if got == ids => {}
            other => soak.broken(format!(
                "{what}: a kept handle for tasks {ids:?} gave {other:?}"
            )),
        }
    }
}

/// The submitter of a shutdown race: submits small tasks in every form
/// until the pool refuses one; returns how many task ids it used.
fn submit_until_refused(ctx: &mut Ctx<'_>, pool: &Pool, ledger: &Arc<Ledger>) -> u64 {
    let mut next = 0;
    while next + 16 <= SHUTDOWN_TASKS {
        let ids = next..next + ctx.rng.random_range(1..=16);
        let l = ledger.clone();
        let result = match ctx.rng.random_range(0..3) {
            0 => ctx
                .track(Op::ApplyAsync, || {
                    catch(|| drop(pool.apply_async(move |id: u64| l.task(id), (ids.start,))))
                })
                .map(|()| ids.start..ids.start + 1),
            1 => ctx
                .track(Op::MapAsync, || {
                    catch(|| drop(pool.map_async(move |id: u64| l.task(id), ids.clone())))
                })
                .map(|()| ids.clone()),
            _ => ctx
                .track(Op::Map, || {
                    catch(|| pool.map(|id| ledger.task(id), ids.clone()))
                })
                .map(|got| {
                    if !got.iter().copied().eq(ids.clone()) {
                        ctx.soak
                            .broken(format!("map of tasks {ids:?} returned {got:?}"));
                    }
                    ids.clone()
                }),
        };
        match result {
            Ok(accepted) => {
                for id in accepted.clone() {
                    ledger.accepted.set(id);
                }
                next = accepted.end;
            }
            Err(payload) => {
                let message = panic_message(&*payload);
                if message != "pool is closed" {
                    ctx.soak
                        .broken(format!("a pool refused a task with {message:?}"));
                }
                return ids.end;
            }
        }
    }
    next
}

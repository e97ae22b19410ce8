//! The soak's machinery, shared by every workload: the catalogue of
//! operations a thread can be in, the record each thread keeps of its
//! current one, the watchdog that reads those records, the failure log and
//! report, and the helpers the workloads use (`Ctx`, `Bits`, `catch`).

use std::any::Any;
use std::cell::Cell;
use std::collections::BTreeMap;
use std::panic::{self, AssertUnwindSafe};
use std::process;
use std::sync::atomic::Ordering::{Acquire, Relaxed, Release};
use std::sync::atomic::{AtomicBool, AtomicU64};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::{self, Scope, ScopedJoinHandle};
use std::time::{Duration, Instant};

use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};

use crate::{Config, DELIBERATE};

/// An operation running longer than this is a hang: far above any timeout
/// the soak draws, and any pause the scheduler makes on a loaded machine.
pub(crate) const HANG_LIMIT: Duration = Duration::from_secs(20);

/// How often the watchdog prints the elapsed time and the operations so far.
pub(crate) const PROGRESS_EVERY: Duration = Duration::from_secs(5);

/// Failures printed in full; the rest are only counted.
pub(crate) const FAILURES_SHOWN: usize = 20;

/// Declares [`Op`], the operations the watchdog can find a thread in, with
/// the name it prints for each.
macro_rules! ops {
    ($($op:ident => $name:literal,)*) => {
        /// An operation a soak thread can be in.
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        pub(crate) enum Op {
            $($op,)*
        }

        impl Op {
            /// Every operation, in declaration order: `ALL[op as usize] == op`.
            const ALL: &[Op] = &[$(Op::$op,)*];

            fn name(self) -> &'static str {
                match self {
                    $(Op::$op => $name,)*
                }
            }
        }
    };
}

ops! {
    MutexLock => "Mutex::lock",
    MutexTryLock => "Mutex::try_lock",
    MutexTryLockFor => "Mutex::try_lock_for",
    CondvarWaitWhile => "Condvar::wait_while",
    CondvarWaitTimeout => "Condvar::wait_timeout",
    CondvarNotify => "Condvar::notify_one/notify_all",
    Acquire => "Semaphore::acquire",
    TryAcquire => "Semaphore::try_acquire",
    TryAcquireFor => "Semaphore::try_acquire_for",
    AcquireMany => "Semaphore::acquire_many",
    TryAcquireMany => "Semaphore::try_acquire_many",
    Access => "Semaphore::access",
    Release => "Semaphore::release/release_many",
    BarrierWait => "Barrier::wait",
    BarrierWaitTimeout => "Barrier::wait_timeout",
    Push => "Queue::push",
    TryPush => "Queue::try_push",
    PushTimeout => "Queue::push_timeout",
    Pop => "Queue::pop",
    TryPop => "Queue::try_pop",
    PopTimeout => "Queue::pop_timeout",
    Close => "Queue::close",
    Send => "Sender::send",
    TrySend => "Sender::try_send",
    SendTimeout => "Sender::send_timeout",
    Recv => "Receiver::recv",
    TryRecv => "Receiver::try_recv",
    RecvTimeout => "Receiver::recv_timeout",
    DropReceiver => "drop(Receiver)",
    DropSender => "drop(Sender)",
    Map => "Pool::map",
    MapChunked => "Pool::map_chunked",
    Starmap => "Pool::starmap",
    Apply => "Pool::apply",
    MapAsync => "Pool::map_async",
    StarmapAsync => "Pool::starmap_async",
    ApplyAsync => "Pool::apply_async",
    Get => "AsyncResult::get",
    GetTimeout => "AsyncResult::get_timeout",
    Wait => "AsyncResult::wait",
    NewPool => "Pool::new",
    ClosePool => "Pool::close",
    JoinPool => "Pool::join",
    DropPool => "drop(Pool)",
}

/// One soak thread's record, read by the watchdog.
struct Activity {
    name: String,
    /// `0` while between operations; otherwise the operation's index in
    /// [`Op::ALL`] in the top 16 bits, and below them one more than the
    /// millisecond of the run it started in. One word, so the watchdog never
    /// pairs one operation's name with another's start.
    state: AtomicU64,
    /// Operations done so far; written only by the thread itself.
    ops: AtomicU64,
    /// Set once the thread has finished.
    done: AtomicBool,
}

/// The live threads' records, and the operations of those that finished.
#[derive(Default)]
struct Registry {
    live: Vec<Arc<Activity>>,
    /// Operations of the finished threads, by workload.
    retired: BTreeMap<String, u64>,
}

impl Registry {
    /// Folds the finished threads' operations into `retired`.
    fn prune(&mut self) {
        let Registry { live, retired } = self;
        live.retain(|a| {
            // Acquire: pairs with the Release that set `done` after the
            // thread's last count.
            let done = a.done.load(Acquire);
            if done {
                *retired.entry(workload(&a.name).to_owned()).or_default() += a.ops.load(Relaxed);
            }
            !done
        });
    }

    /// Operations so far, by workload, and in all.
    fn ops(&self) -> (BTreeMap<&str, u64>, u64) {
        let mut by_workload: BTreeMap<&str, u64> =
            self.retired.iter().map(|(w, &n)| (w.as_str(), n)).collect();
        for a in &self.live {
            *by_workload.entry(workload(&a.name)).or_default() += a.ops.load(Relaxed);
        }
        let total = by_workload.values().sum();
        (by_workload, total)
    }
}

/// The workload a thread belongs to: the first word of its name.
fn workload(thread: &str) -> &str {
    thread.split('-').next().unwrap_or(thread)
}

/// What every soak thread shares: the clock, the stop flag, the threads'
/// records and the failures.
pub(crate) struct Soak {
    seed: u64,
    start: Instant,
    pub(crate) deadline: Instant,
    /// Set at the deadline, or at the first failure: every loop ends.
    pub(crate) stop: AtomicBool,
    /// Set once every workload has returned: the watchdog ends.
    pub(crate) finished: AtomicBool,
    registry: Mutex<Registry>,
    lost: AtomicU64,
    duplicated: AtomicU64,
    /// Broken invariants so far (lost and duplicated ones included).
    broken: AtomicU64,
    /// The first [`FAILURES_SHOWN`] of them.
    failures: Mutex<Vec<String>>,
}

impl Soak {
    pub(crate) fn new(config: &Config) -> Soak {
        let start = Instant::now();
        Soak {
            seed: config.seed,
            start,
            deadline: start + Duration::from_secs(config.secs),
            stop: AtomicBool::new(false),
            finished: AtomicBool::new(false),
            registry: Mutex::default(),
            lost: AtomicU64::new(0),
            duplicated: AtomicU64::new(0),
            broken: AtomicU64::new(0),
            failures: Mutex::default(),
        }
    }

    /// Starts a soak thread named `name` that runs `body`. A panic in it is
    /// reported as a failure, and joining the thread then gives `None`.
    pub(crate) fn spawn<'scope, 'env, T: Send + 'scope>(
        &'env self,
        scope: &'scope Scope<'scope, 'env>,
        name: String,
        body: impl FnOnce(&mut Ctx<'env>) -> T + Send + 'scope,
    ) -> ScopedJoinHandle<'scope, Option<T>> {
        let activity = Arc::new(Activity {
            name: name.clone(),
            state: AtomicU64::new(0),
            ops: AtomicU64::new(0),
            done: AtomicBool::new(false),
        });
        lock(&self.registry).live.push(activity.clone());
        // FNV-1a of the name: the same seed gives each thread the same
        // choices on every run.
        let seed = name
            .bytes()
            .fold(0xcbf2_9ce4_8422_2325_u64 ^ self.seed, |h, b| {
                (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
            });
        thread::Builder::new()
            .name(name.clone())
            .spawn_scoped(scope, move || {
                let mut ctx = Ctx {
                    soak: self,
                    activity,
                    rng: SmallRng::seed_from_u64(seed),
                    ops: 0,
                };
                match panic::catch_unwind(AssertUnwindSafe(|| body(&mut ctx))) {
                    Ok(value) => Some(value),
                    Err(payload) => {
                        self.broken(format!(
                            "thread `{name}` panicked: {}",
                            panic_message(&*payload)
                        ));
                        None
                    }
                }
            })
            .expect("cannot start a soak thread")
    }

    /// Milliseconds since the start of the run.
    fn millis(&self) -> u64 {
        self.start.elapsed().as_millis() as u64
    }

    /// Records `n` values or events that went missing.
    pub(crate) fn lost(&self, n: u64, what: String) {
        self.lost.fetch_add(n, Relaxed);
        self.broken(format!("{n} lost: {what}"));
    }

    /// Records `n` values or events that happened twice.
    pub(crate) fn duplicated(&self, n: u64, what: String) {
        self.duplicated.fetch_add(n, Relaxed);
        self.broken(format!("{n} duplicated: {what}"));
    }

    /// Records a broken invariant, and stops the run.
    pub(crate) fn broken(&self, what: String) {
        self.stop.store(true, Relaxed);
        if self.broken.fetch_add(1, Relaxed) < FAILURES_SHOWN as u64 {
            eprintln!(
                "soak: FAILED at {:.1} s: {what}",
                self.start.elapsed().as_secs_f64()
            );
            lock(&self.failures).push(what);
        }
    }

    /// The watchdog's loop: looks for hung operations every 100 ms and
    /// prints the progress.
    pub(crate) fn watch(&self) {
        let mut next_progress = PROGRESS_EVERY;
        while !self.finished.load(Acquire) {
            thread::sleep(Duration::from_millis(100));
            let now = self.millis();
            let mut registry = lock(&self.registry);
            registry.prune();
            let hung: Vec<String> = registry
                .live
                .iter()
                .filter_map(|a| {
                    let state = a.state.load(Relaxed);
                    let since = (state & 0xffff_ffff_ffff).checked_sub(1)?;
                    let stuck = Duration::from_millis(now.saturating_sub(since));
                    (stuck > HANG_LIMIT).then(|| {
                        let op = Op::ALL[(state >> 48) as usize];
                        format!(
                            "thread `{}` has been in {} for {:.1} s",
                            a.name,
                            op.name(),
                            stuck.as_secs_f64()
                        )
                    })
                })
                .collect();
            let (_, ops) = registry.ops();
            drop(registry);
            if !hung.is_empty() {
                for what in &hung {
                    eprintln!("soak: HUNG: {what}");
                }
                self.summary(ops, hung.len());
                eprintln!(
                    "soak: FAILED: {} operation(s) hung; repeat with --seed {}",
                    hung.len(),
                    self.seed
                );
                // A hung thread cannot be joined: end the process here.
                process::exit(1);
            }
            if self.start.elapsed() >= next_progress {
                println!("soak: {:>4} s, {ops} operations", next_progress.as_secs());
                next_progress += PROGRESS_EVERY;
            }
        }
    }

    /// Prints the closing line.
    fn summary(&self, ops: u64, hung: usize) {
        println!(
            "soak: {ops} operations, {} lost, {} duplicated, {hung} hung",
            self.lost.load(Relaxed),
            self.duplicated.load(Relaxed)
        );
    }

    /// Prints the operations of each workload and the closing line once
    /// every thread has finished, and turns any failure into the task's
    /// error.
    pub(crate) fn report(&self) -> Result<(), String> {
        let registry = lock(&self.registry);
        let (by_workload, ops) = registry.ops();
        let by_workload: Vec<String> = by_workload
            .iter()
            .map(|(w, n)| format!("{w} {n}"))
            .collect();
        println!("soak: operations by workload: {}", by_workload.join(", "));
        self.summary(ops, 0);
        match lock(&self.failures).first() {
            None => Ok(()),
            Some(first) => Err(format!(
                "soak failed: {} invariant(s) broken, the first: {first}; repeat with --seed {}",
                self.broken.load(Relaxed),
                self.seed
            )),
        }
    }
}

/// A soak thread's handle on the run: its random generator, its record for
/// the watchdog, and the shared [`Soak`].
pub(crate) struct Ctx<'a> {
    pub(crate) soak: &'a Soak,
    pub(crate) rng: SmallRng,
    activity: Arc<Activity>,
    ops: u64,
}

impl Ctx<'_> {
    /// Whether the run goes on: false after the deadline or a failure.
    pub(crate) fn running(&self) -> bool {
        !self.soak.stop.load(Relaxed)
    }

    /// Sleeps until the run stops.
    pub(crate) fn wait_for_stop(&self) {
        while self.running() {
            thread::sleep(Duration::from_millis(10));
        }
    }

    /// Runs `f` as operation `op`: the watchdog sees it until it returns,
    /// and it counts as one operation.
    pub(crate) fn track<R>(&mut self, op: Op, f: impl FnOnce() -> R) -> R {
        let since = self.soak.millis() + 1;
        self.activity
            .state
            .store((op as u64) << 48 | since, Relaxed);
        let result = f();
        self.activity.state.store(0, Relaxed);
        self.ops += 1;
        self.activity.ops.store(self.ops, Relaxed);
        result
    }

    /// Like [`track`](Self::track), for an operation with a `timeout`:
    /// when `gave_up` says it timed out, it must have waited that long.
    pub(crate) fn track_timeout<R>(
        &mut self,
        op: Op,
        timeout: Duration,
        f: impl FnOnce() -> R,
        gave_up: impl FnOnce(&R) -> bool,
    ) -> R {
        let start = Instant::now();
        let result = self.track(op, f);
        if gave_up(&result) {
            let waited = start.elapsed();
            if waited < timeout {
                self.soak.broken(format!(
                    "{} timed out after {waited:?}, before its timeout of {timeout:?}",
                    op.name()
                ));
            }
        }
        result
    }

    /// A random timeout: zero one time in sixteen, up to 20 ms another
    /// time in sixteen, otherwise up to 2 ms.
    pub(crate) fn timeout(&mut self) -> Duration {
        match self.rng.random_range(0..16) {
            0 => Duration::ZERO,
            1 => Duration::from_micros(self.rng.random_range(0..20_000)),
            _ => Duration::from_micros(self.rng.random_range(0..2_000)),
        }
    }

    /// Now and then lets another thread run, or sleeps up to 100 µs: so
    /// that the others catch this thread in the middle of things.
    pub(crate) fn pause(&mut self) {
        match self.rng.random_range(0..32) {
            0..4 => thread::yield_now(),
            4 => thread::sleep(Duration::from_micros(self.rng.random_range(0..100))),
            _ => {}
        }
    }
}

impl Drop for Ctx<'_> {
    fn drop(&mut self) {
        self.activity.state.store(0, Relaxed);
        self.activity.ops.store(self.ops, Relaxed);
        // Release: the watchdog that sees `done` sees the final count.
        self.activity.done.store(true, Release);
    }
}

/// A fixed set of bits, each set at most once by any thread: which values
/// or tasks have been seen.
pub(crate) struct Bits(Vec<AtomicU64>);

impl Bits {
    pub(crate) fn new(len: u64) -> Bits {
        Bits((0..len.div_ceil(64)).map(|_| AtomicU64::new(0)).collect())
    }

    /// Sets bit `i`; returns whether it was already set.
    pub(crate) fn set(&self, i: u64) -> bool {
        let bit = 1 << (i % 64);
        // Relaxed: the bits are read after the threads that set them were
        // joined.
        self.0[(i / 64) as usize].fetch_or(bit, Relaxed) & bit != 0
    }

    pub(crate) fn get(&self, i: u64) -> bool {
        self.0[(i / 64) as usize].load(Relaxed) & 1 << (i % 64) != 0
    }
}

thread_local! {
    /// Set while this thread runs code that should panic (see [`catch`]).
    static EXPECTING_PANIC: Cell<bool> = const { Cell::new(false) };
}

/// Runs `f`, catching the panic it is expected to raise (a re-raised task
/// panic, or "pool is closed") without the panic hook printing it.
pub(crate) fn catch<R>(f: impl FnOnce() -> R) -> thread::Result<R> {
    EXPECTING_PANIC.set(true);
    let result = panic::catch_unwind(AssertUnwindSafe(f));
    EXPECTING_PANIC.set(false);
    result
}

/// Keeps the soak's deliberate panics quiet (messages starting with
/// [`DELIBERATE`], raised in pool tasks, and panics inside [`catch`]) and
/// prints every other one as usual.
pub(crate) fn install_panic_hook() {
    let default = panic::take_hook();
    panic::set_hook(Box::new(move |info| {
        if EXPECTING_PANIC.get() || panic_message(info.payload()).starts_with(DELIBERATE) {
            return;
        }
        default(info);
    }));
}

/// A panic payload's message, if it is a string as `panic!` makes.
pub(crate) fn panic_message(payload: &(dyn Any + Send)) -> &str {
    if let Some(message) = payload.downcast_ref::<&str>() {
        message
    } else if let Some(message) = payload.downcast_ref::<String>() {
        message
    } else {
        "(a payload that is not a string)"
    }
}

/// Locks one of the soak's own bookkeeping mutexes (std's: the soak must
/// not depend on the locks it tests). A panic while one is held is already
/// a failure, so poisoning is ignored.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_operation_decodes_to_itself() {
        for (i, &op) in Op::ALL.iter().enumerate() {
            assert_eq!(op as usize, i, "{}", op.name());
        }
    }
}

#![allow(missing_docs)] // criterion's macros generate undocumented functions.

//! `weft_queue` channels against crossbeam-channel, flume and
//! `std::sync::mpsc`, in the scenarios of crossbeam-channel's own benchmark
//! suite (see BENCHMARKS.md). Each iteration is one message; the time per
//! iteration is the time per message over all threads.
//!
//! - `seq`: one thread sends every message, then receives them all.
//! - `spsc`: one sender thread, one receiver thread.
//! - `mpsc`: four senders, one receiver.
//! - `mpmc`: four senders, four receivers.
//! - `mpmc_bounded1_sweep/N` for N = 1, 2, 4, 8: N senders and N receivers
//!   on a `bounded1` channel, up to far more threads than this machine's
//!   cores. Its points 1 and 4 are `spsc` and `mpmc` on `bounded1`, and its
//!   point 8 was `mpmc_oversubscribed`.
//!
//! Each runs on `bounded1` (capacity 1), `boundedN` (capacity = the number
//! of messages, so never full) and `unbounded`; the sweep takes the place
//! of the `bounded1` runs of `spsc` and `mpmc`. std's receiver cannot be
//! shared, so std takes part only with one receiver.
//!
//! Two more compare `select!` with crossbeam-channel's (flume's and std's
//! have none):
//!
//! - `select_2_recv`: two senders, each on its own `bounded(64)` channel,
//!   and one receiver selecting over both; one iteration is one message.
//! - `select_ping_pong`: two threads trade a message back and forth, the
//!   ping on a rendezvous channel, the pong on a `bounded(1)` one, each
//!   step a two-armed select (the other arm, on an idle channel, is never
//!   ready); one iteration is one round trip.
//!
//! `cargo xtask bench` runs each of these benchmarks in a process of its
//! own (criterion's `--exact`), so that no channel inherits the allocator
//! state the one before it left (see `ISOLATED_TARGETS` in
//! `xtask/src/bench.rs`).

use std::time::Duration;

use criterion::measurement::WallTime;
use criterion::{Bencher, BenchmarkGroup, BenchmarkId, Criterion, criterion_group, criterion_main};
use weft_benches::{SWEEP_THREADS, share, timed_threads};

/// A channel implementation under test: a way to make a pair, and to send
/// and receive on it.
trait Chan: 'static {
    type Tx: Clone + Send + Sync;
    type Rx: Send + Sync;
    /// Whether receivers can be shared between threads.
    const MPMC: bool;
    fn make(capacity: Option<usize>) -> (Self::Tx, Self::Rx);
    fn send(tx: &Self::Tx, value: u64);
    fn recv(rx: &Self::Rx) -> u64;
}

struct Weft;
impl Chan for Weft {
    type Tx = weft_queue::Sender<u64>;
    type Rx = weft_queue::Receiver<u64>;
    const MPMC: bool = true;
    fn make(capacity: Option<usize>) -> (Self::Tx, Self::Rx) {
        match capacity {
            Some(c) => weft_queue::bounded(c),
            None => weft_queue::unbounded(),
        }
    }
    #[inline]
    fn send(tx: &Self::Tx, value: u64) {
        tx.send(value).unwrap();
    }
    #[inline]
    fn recv(rx: &Self::Rx) -> u64 {
        rx.recv().unwrap()
    }
}

struct Crossbeam;
impl Chan for Crossbeam {
    type Tx = crossbeam_channel::Sender<u64>;
    type Rx = crossbeam_channel::Receiver<u64>;
    const MPMC: bool = true;
    fn make(capacity: Option<usize>) -> (Self::Tx, Self::Rx) {
        match capacity {
            Some(c) => crossbeam_channel::bounded(c),
            None => crossbeam_channel::unbounded(),
        }
    }
    #[inline]
    fn send(tx: &Self::Tx, value: u64) {
        tx.send(value).unwrap();
    }
    #[inline]
    fn recv(rx: &Self::Rx) -> u64 {
        rx.recv().unwrap()
    }
}

struct Flume;
impl Chan for Flume {
    type Tx = flume::Sender<u64>;
    type Rx = flume::Receiver<u64>;
    const MPMC: bool = true;
    fn make(capacity: Option<usize>) -> (Self::Tx, Self::Rx) {
        match capacity {
            Some(c) => flume::bounded(c),
            None => flume::unbounded(),
        }
    }
    #[inline]
    fn send(tx: &Self::Tx, value: u64) {
        tx.send(value).unwrap();
    }
    #[inline]
    fn recv(rx: &Self::Rx) -> u64 {
        rx.recv().unwrap()
    }
}

/// std's channels: `sync_channel(c)` when bounded, `channel()` when not.
struct Std;

/// std's receiver, which is `Send` but not `Sync`, made shareable so the
/// common scenario code can hand it to its thread by reference.
struct StdRx(std::sync::mpsc::Receiver<u64>);

// SAFETY: `Std::MPMC` is false, so the scenarios give std exactly one
// receiving thread: the receiver is only ever used from that one thread, as
// if it had been moved there.
unsafe impl Sync for StdRx {}

#[derive(Clone)]
enum StdTx {
    Bounded(std::sync::mpsc::SyncSender<u64>),
    Unbounded(std::sync::mpsc::Sender<u64>),
}

impl Chan for Std {
    type Tx = StdTx;
    type Rx = StdRx;
    const MPMC: bool = false;
    fn make(capacity: Option<usize>) -> (Self::Tx, Self::Rx) {
        match capacity {
            Some(c) => {
                let (tx, rx) = std::sync::mpsc::sync_channel(c);
                (StdTx::Bounded(tx), StdRx(rx))
            }
            None => {
                let (tx, rx) = std::sync::mpsc::channel();
                (StdTx::Unbounded(tx), StdRx(rx))
            }
        }
    }
    #[inline]
    fn send(tx: &Self::Tx, value: u64) {
        match tx {
            StdTx::Bounded(tx) => tx.send(value).unwrap(),
            StdTx::Unbounded(tx) => tx.send(value).unwrap(),
        }
    }
    #[inline]
    fn recv(rx: &Self::Rx) -> u64 {
        rx.0.recv().unwrap()
    }
}

#[derive(Clone, Copy)]
enum Flavor {
    Bounded1,
    BoundedN,
    Unbounded,
}

impl Flavor {
    fn name(self) -> &'static str {
        match self {
            Self::Bounded1 => "bounded1",
            Self::BoundedN => "boundedN",
            Self::Unbounded => "unbounded",
        }
    }

    fn capacity(self, messages: u64) -> Option<usize> {
        match self {
            Self::Bounded1 => Some(1),
            Self::BoundedN => Some(messages.max(1) as usize),
            Self::Unbounded => None,
        }
    }
}

/// One thread sends everything, then receives everything.
fn seq<C: Chan>(g: &mut BenchmarkGroup<'_, WallTime>, name: &str, flavor: Flavor) {
    g.bench_function(name, |b| {
        b.iter_custom(|iters| {
            let (tx, rx) = C::make(flavor.capacity(iters));
            timed_threads(1, |_| {
                for i in 0..iters {
                    C::send(&tx, i);
                }
                for _ in 0..iters {
                    std::hint::black_box(C::recv(&rx));
                }
            })
        })
    });
}

/// The routine of a threaded scenario: `senders` threads send,
/// `receivers` threads receive; every message is received exactly once.
fn threaded<C: Chan>(
    flavor: Flavor,
    senders: usize,
    receivers: usize,
) -> impl FnMut(&mut Bencher<'_, WallTime>) {
    move |b| {
        b.iter_custom(|iters| {
            let (tx, rx) = C::make(flavor.capacity(iters));
            timed_threads(senders + receivers, |i| {
                if i < senders {
                    for m in 0..share(iters, senders, i) {
                        C::send(&tx, m);
                    }
                } else {
                    for _ in 0..share(iters, receivers, i - senders) {
                        std::hint::black_box(C::recv(&rx));
                    }
                }
            })
        })
    }
}

fn bench_seq(c: &mut Criterion) {
    for flavor in [Flavor::BoundedN, Flavor::Unbounded] {
        let mut g = c.benchmark_group(format!("queue/seq_{}", flavor.name()));
        seq::<Weft>(&mut g, "weft", flavor);
        seq::<Crossbeam>(&mut g, "crossbeam", flavor);
        seq::<Flume>(&mut g, "flume", flavor);
        seq::<Std>(&mut g, "std", flavor);
        g.finish();
    }
}

fn bench_threaded(c: &mut Criterion) {
    let scenarios: [(&str, usize, usize); 3] = [("spsc", 1, 1), ("mpsc", 4, 1), ("mpmc", 4, 4)];
    for (scenario, senders, receivers) in scenarios {
        for flavor in [Flavor::Bounded1, Flavor::BoundedN, Flavor::Unbounded] {
            // `spsc` and `mpmc` on `bounded1` are points of the sweep below.
            if senders == receivers && matches!(flavor, Flavor::Bounded1) {
                continue;
            }
            let mut g = c.benchmark_group(format!("queue/{scenario}_{}", flavor.name()));
            g.sample_size(20);
            g.bench_function("weft", threaded::<Weft>(flavor, senders, receivers));
            g.bench_function(
                "crossbeam",
                threaded::<Crossbeam>(flavor, senders, receivers),
            );
            g.bench_function("flume", threaded::<Flume>(flavor, senders, receivers));
            if receivers == 1 || Std::MPMC {
                g.bench_function("std", threaded::<Std>(flavor, senders, receivers));
            }
            g.finish();
        }
    }
}

/// The thread-count sweep: N senders and N receivers on the hardest
/// flavor, where every message is a hand-off; at each N the channels run
/// back to back.
fn bench_sweep(c: &mut Criterion) {
    let flavor = Flavor::Bounded1;
    let mut g = c.benchmark_group(format!("queue/mpmc_{}_sweep", flavor.name()));
    g.sample_size(20);
    for n in SWEEP_THREADS {
        let id = |name| BenchmarkId::new(name, n);
        g.bench_function(id("weft"), threaded::<Weft>(flavor, n, n));
        g.bench_function(id("crossbeam"), threaded::<Crossbeam>(flavor, n, n));
        g.bench_function(id("flume"), threaded::<Flume>(flavor, n, n));
        if n == 1 || Std::MPMC {
            g.bench_function(id("std"), threaded::<Std>(flavor, n, n));
        }
    }
    g.finish();
}

/// The capacity of each channel of `select_2_recv`.
const SELECT_CAPACITY: usize = 64;

/// `select_2_recv` for the crate `$chan` (`weft_queue` or
/// `crossbeam_channel`, whose APIs and macros match): a routine for
/// `iter_custom`.
macro_rules! select_2_recv {
    ($chan:ident) => {
        |iters: u64| {
            let (tx1, rx1) = $chan::bounded::<u64>(SELECT_CAPACITY);
            let (tx2, rx2) = $chan::bounded::<u64>(SELECT_CAPACITY);
            let senders = [&tx1, &tx2];
            // The senders stay alive until the end, so that a channel whose
            // sender is done is empty rather than disconnected.
            timed_threads(3, |i| {
                if i < 2 {
                    for m in 0..share(iters, 2, i) {
                        senders[i].send(m).unwrap();
                    }
                } else {
                    for _ in 0..iters {
                        $chan::select! {
                            recv(rx1) -> msg => std::hint::black_box(msg.unwrap()),
                            recv(rx2) -> msg => std::hint::black_box(msg.unwrap()),
                        };
                    }
                }
            })
        }
    };
}

/// `select_ping_pong` for the crate `$chan`, as [`select_2_recv!`].
macro_rules! select_ping_pong {
    ($chan:ident) => {
        |iters: u64| {
            let (ping_tx, ping_rx) = $chan::bounded::<u64>(0);
            let (pong_tx, pong_rx) = $chan::bounded::<u64>(1);
            let (_idle_tx, idle_rx) = $chan::unbounded::<u64>();
            timed_threads(2, |i| {
                for m in 0..iters {
                    if i == 0 {
                        $chan::select! {
                            send(ping_tx, m) -> res => res.unwrap(),
                            recv(idle_rx) -> _ => unreachable!(),
                        }
                        $chan::select! {
                            recv(pong_rx) -> msg => assert_eq!(msg, Ok(m)),
                            recv(idle_rx) -> _ => unreachable!(),
                        }
                    } else {
                        let msg = $chan::select! {
                            recv(ping_rx) -> msg => msg.unwrap(),
                            recv(idle_rx) -> _ => unreachable!(),
                        };
                        $chan::select! {
                            send(pong_tx, msg) -> res => res.unwrap(),
                            recv(idle_rx) -> _ => unreachable!(),
                        }
                    }
                }
            })
        }
    };
}

fn bench_select(c: &mut Criterion) {
    let mut g = c.benchmark_group("queue/select_2_recv");
    g.sample_size(20);
    g.bench_function("weft", |b| b.iter_custom(select_2_recv!(weft_queue)));
    g.bench_function("crossbeam", |b| {
        b.iter_custom(select_2_recv!(crossbeam_channel))
    });
    g.finish();

    let mut g = c.benchmark_group("queue/select_ping_pong");
    g.sample_size(20);
    g.bench_function("weft", |b| b.iter_custom(select_ping_pong!(weft_queue)));
    g.bench_function("crossbeam", |b| {
        b.iter_custom(select_ping_pong!(crossbeam_channel))
    });
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().warm_up_time(Duration::from_secs(1)).measurement_time(Duration::from_secs(2));
    targets = bench_seq, bench_threaded, bench_sweep, bench_select
}
criterion_main!(benches);

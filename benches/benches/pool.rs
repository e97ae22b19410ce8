#![allow(missing_docs)] // criterion's macros generate undocumented functions.

//! `weft_pool::Pool` against rayon, plain scoped threads and sequential
//! code.
//!
//! Scenarios (see BENCHMARKS.md):
//! - `map_1k_trivial`, `map_100k_trivial`: `x + 1` over a borrowed slice of
//!   1 000 / 100 000 `u64`s, results collected in order; measures the
//!   per-call and per-item overhead. Peers: `rayon`
//!   (`par_iter().map().collect()`) and `scoped_threads` (the course's
//!   approach: one fresh thread per block with `std::thread::scope`).
//! - `map_slice_1k_trivial`, `map_slice_100k_trivial`: the same, with
//!   `Pool::map_slice`, which reads the slice in place instead of taking
//!   the items from an iterator on the calling thread. Same peers.
//! - `apply_async_round_trip`: submit one tiny task and wait for its
//!   result; measures the latency of a hand-off to an idle pool and back.
//!   Peer: `rayon` (`spawn` + a std `mpsc` channel).
//! - `map_cpu_heavy`: 64 items of about 1 ms of work each; measures the
//!   speed-up. Peers: `sequential` and `rayon`.
//! - `imap_100k`: `x + 1` over 100 000 `u64`s, streamed in chunks of 256
//!   and summed in input order; measures a lazy pipeline's per-chunk cost.
//!   `weft` is `imap_chunked`; peers: `weft_map_async` (the whole input
//!   at once with `map_async_chunked` and `get`) and `crossbeam_pipeline`
//!   (one scoped thread per worker, input chunks sent through a bounded
//!   crossbeam channel, results sent back with their index and put back in
//!   order by the consumer).
//! - `join_fib`: `fib(30)` split with `fork_join` down to a sequential
//!   cutoff at `n <= 20` (about 180 splits); measures recursive
//!   divide-and-conquer. Peer: `rayon` (`rayon::join`).
//! - `join_quicksort`: the same quicksort of 4 194 304 random `u64`s on
//!   both sides, halves sorted in parallel with `fork_join` /
//!   `rayon::join`, sequential (`sort_unstable`) below 4 096 elements; the
//!   input is copied from a prepared vector before each iteration,
//!   untimed.
//! - `scope_spawn_1k`: 1 000 tasks spawned in one scope, each writing its
//!   own slot of a borrowed slice; measures the cost of a spawned task.
//!   Peer: `rayon` (`rayon::scope`).
//!
//! In the last three, both sides run the whole call on one of their
//! workers (`Pool::apply`, `ThreadPool::install`), so each uses exactly
//! its pool's threads.
//!
//! Every pool has one worker per CPU and is created once, outside the
//! timed loop.

use std::hint::black_box;
use std::sync::mpsc;
use std::time::Duration;

use criterion::{
    BatchSize, BenchmarkGroup, Criterion, SamplingMode, criterion_group, criterion_main,
    measurement::WallTime,
};
use crossbeam_channel::bounded;
use rayon::prelude::*;
use weft_benches::{busy_work, workers};
use weft_pool::Pool;

fn rayon_pool() -> rayon::ThreadPool {
    rayon::ThreadPoolBuilder::new()
        .num_threads(workers())
        .build()
        .expect("rayon pool")
}

/// The course's data-parallel map: split the input in one block per
/// thread, start a thread per block, and concatenate the results.
fn scoped_map(data: &[u64], threads: usize, f: impl Fn(&u64) -> u64 + Sync) -> Vec<u64> {
    let block = data.len().div_ceil(threads).max(1);
    let f = &f;
    std::thread::scope(|s| {
        let handles: Vec<_> = data
            .chunks(block)
            .map(|chunk| s.spawn(move || chunk.iter().map(f).collect::<Vec<u64>>()))
            .collect();
        let mut out = Vec::with_capacity(data.len());
        for h in handles {
            out.extend(h.join().unwrap());
        }
        out
    })
}

/// How a scenario calls Weft: `map`, or `map_slice`.
#[derive(Clone, Copy)]
enum Call {
    Map,
    MapSlice,
}

fn map_trivial(
    g: &mut BenchmarkGroup<'_, WallTime>,
    len: u64,
    call: Call,
    weft: &Pool,
    rayon: &rayon::ThreadPool,
) {
    let data: Vec<u64> = (0..len).collect();
    g.bench_function("weft", |b| match call {
        Call::Map => b.iter(|| weft.map(|x| x + 1, black_box(&data))),
        Call::MapSlice => b.iter(|| weft.map_slice(|x| x + 1, black_box(&data))),
    });
    g.bench_function("rayon", |b| {
        b.iter(|| {
            rayon.install(|| {
                black_box(&data)
                    .par_iter()
                    .map(|x| x + 1)
                    .collect::<Vec<u64>>()
            })
        })
    });
    let threads = workers();
    g.bench_function("scoped_threads", |b| {
        b.iter(|| scoped_map(black_box(&data), threads, |x| x + 1))
    });
}

fn bench_map_trivial(c: &mut Criterion) {
    let weft = Pool::new(workers());
    let rayon = rayon_pool();
    for (scenario, len, call) in [
        ("pool/map_1k_trivial", 1_000, Call::Map),
        ("pool/map_100k_trivial", 100_000, Call::Map),
        ("pool/map_slice_1k_trivial", 1_000, Call::MapSlice),
        ("pool/map_slice_100k_trivial", 100_000, Call::MapSlice),
    ] {
        let mut g = c.benchmark_group(scenario);
        g.sample_size(30);
        map_trivial(&mut g, len, call, &weft, &rayon);
        g.finish();
    }
}

fn bench_round_trip(c: &mut Criterion) {
    let weft = Pool::new(workers());
    let rayon = rayon_pool();
    let mut g = c.benchmark_group("pool/apply_async_round_trip");
    g.sample_size(30);
    let mut i = 0u64;
    g.bench_function("weft", |b| {
        b.iter(|| {
            i += 1;
            weft.apply_async(|x: u64| x + 1, (black_box(i),))
                .get()
                .unwrap()
        })
    });
    let (tx, rx) = mpsc::channel();
    g.bench_function("rayon", |b| {
        b.iter(|| {
            i += 1;
            let (tx, x) = (tx.clone(), black_box(i));
            rayon.spawn(move || tx.send(x + 1).unwrap());
            rx.recv().unwrap()
        })
    });
    g.finish();
}

/// About 1 ms of work: 10 000 rounds of `busy_work` (~100 ns each).
fn heavy(seed: &u64) -> u64 {
    (0..10_000).fold(*seed, |x, _| busy_work(x))
}

fn bench_cpu_heavy(c: &mut Criterion) {
    let weft = Pool::new(workers());
    let rayon = rayon_pool();
    let items: Vec<u64> = (0..64).collect();
    let mut g = c.benchmark_group("pool/map_cpu_heavy");
    // An iteration takes tens of milliseconds: flat sampling (the same
    // iteration count in every sample) fits ten samples into the short
    // measurement time `cargo xtask bench` gives each benchmark, where
    // linear sampling would need 55 iterations.
    g.sample_size(10);
    g.sampling_mode(SamplingMode::Flat);
    g.bench_function("weft", |b| b.iter(|| weft.map(heavy, black_box(&items))));
    g.bench_function("sequential", |b| {
        b.iter(|| black_box(&items).iter().map(heavy).collect::<Vec<u64>>())
    });
    g.bench_function("rayon", |b| {
        b.iter(|| {
            rayon.install(|| {
                black_box(&items)
                    .par_iter()
                    .map(heavy)
                    .collect::<Vec<u64>>()
            })
        })
    });
    g.finish();
}

/// The input length and chunk size of `imap_100k`.
const IMAP_LEN: u64 = 100_000;
const IMAP_CHUNK: usize = 256;

/// The crossbeam peer of `imap`: `threads` scoped workers take chunks of
/// `data` from a bounded channel and send back their results with the
/// chunk's index; the consumer keeps `2 * threads + 2` chunks in flight, as
/// `imap` does, and sums the results in input order.
fn crossbeam_pipeline(data: &[u64], threads: usize, chunk: usize) -> u64 {
    let window = 2 * threads + 2;
    let (to_workers, inputs) = bounded::<(usize, Vec<u64>)>(window);
    let (to_consumer, outputs) = bounded::<(usize, Vec<u64>)>(window);
    std::thread::scope(|s| {
        for _ in 0..threads {
            let (inputs, to_consumer) = (inputs.clone(), to_consumer.clone());
            s.spawn(move || {
                for (index, items) in inputs {
                    let results = items.into_iter().map(|x| x + 1).collect();
                    to_consumer.send((index, results)).unwrap();
                }
            });
        }
        drop(to_consumer);
        let mut chunks = data.chunks(chunk).map(<[u64]>::to_vec).enumerate();
        let mut in_flight = 0;
        let mut next = 0;
        let mut early: std::collections::BTreeMap<usize, Vec<u64>> = Default::default();
        let mut sum = 0u64;
        loop {
            while in_flight < window {
                let Some(chunk) = chunks.next() else { break };
                to_workers.send(chunk).unwrap();
                in_flight += 1;
            }
            if in_flight == 0 {
                break;
            }
            let (index, results) = outputs.recv().unwrap();
            early.insert(index, results);
            while let Some(results) = early.remove(&next) {
                sum += results.iter().sum::<u64>();
                next += 1;
                in_flight -= 1;
            }
        }
        drop(to_workers);
        sum
    })
}

fn bench_imap(c: &mut Criterion) {
    let weft = Pool::new(workers());
    let data: Vec<u64> = (0..IMAP_LEN).collect();
    let expected: u64 = data.iter().map(|x| x + 1).sum();
    let mut g = c.benchmark_group("pool/imap_100k");
    g.sample_size(30);
    g.bench_function("weft", |b| {
        b.iter(|| {
            let sum: u64 = weft
                .imap_chunked(|x| x + 1, black_box(&data).iter().copied(), IMAP_CHUNK)
                .map(Result::unwrap)
                .sum();
            assert_eq!(sum, expected);
        })
    });
    g.bench_function("weft_map_async", |b| {
        b.iter(|| {
            let results = weft
                .map_async_chunked(|x| x + 1, black_box(&data).iter().copied(), IMAP_CHUNK)
                .get()
                .unwrap();
            assert_eq!(results.iter().sum::<u64>(), expected);
        })
    });
    let threads = workers();
    g.bench_function("crossbeam_pipeline", |b| {
        b.iter(|| {
            assert_eq!(
                crossbeam_pipeline(black_box(&data), threads, IMAP_CHUNK),
                expected
            )
        })
    });
    g.finish();
}

/// `fork_join` or `rayon::join`: the one thing the divide-and-conquer
/// scenarios do differently on each side.
trait Join: Sync {
    fn join<A, B, RA, RB>(&self, a: A, b: B) -> (RA, RB)
    where
        A: FnOnce() -> RA + Send,
        B: FnOnce() -> RB + Send,
        RA: Send,
        RB: Send;
}

impl Join for Pool {
    fn join<A, B, RA, RB>(&self, a: A, b: B) -> (RA, RB)
    where
        A: FnOnce() -> RA + Send,
        B: FnOnce() -> RB + Send,
        RA: Send,
        RB: Send,
    {
        self.fork_join(a, b)
    }
}

/// `rayon::join`, for code running inside a rayon pool.
struct Rayon;

impl Join for Rayon {
    fn join<A, B, RA, RB>(&self, a: A, b: B) -> (RA, RB)
    where
        A: FnOnce() -> RA + Send,
        B: FnOnce() -> RB + Send,
        RA: Send,
        RB: Send,
    {
        rayon::join(a, b)
    }
}

/// `fib(n)` split in two at every level down to `FIB_CUTOFF`.
fn fib(join: &impl Join, n: u64) -> u64 {
    if n <= FIB_CUTOFF {
        return fib_sequential(n);
    }
    let (a, b) = join.join(|| fib(join, n - 1), || fib(join, n - 2));
    a + b
}

fn fib_sequential(n: u64) -> u64 {
    if n < 2 {
        n
    } else {
        fib_sequential(n - 1) + fib_sequential(n - 2)
    }
}

const FIB_N: u64 = 30;
const FIB_CUTOFF: u64 = 20;

fn bench_join_fib(c: &mut Criterion) {
    let weft = Pool::new(workers());
    let rayon = rayon_pool();
    let expected = fib_sequential(FIB_N);
    let mut g = c.benchmark_group("pool/join_fib");
    g.sample_size(20);
    g.bench_function("weft", |b| {
        b.iter(|| assert_eq!(weft.apply(|n| fib(&weft, n), (black_box(FIB_N),)), expected))
    });
    g.bench_function("rayon", |b| {
        b.iter(|| assert_eq!(rayon.install(|| fib(&Rayon, black_box(FIB_N))), expected))
    });
    g.finish();
}

const SORT_LEN: usize = 1 << 22;
const SORT_CUTOFF: usize = 4096;

/// Quicksort: partition, then sort the two sides with `join`, down to
/// `SORT_CUTOFF` elements.
fn quicksort(join: &impl Join, v: &mut [u64]) {
    if v.len() <= SORT_CUTOFF {
        v.sort_unstable();
        return;
    }
    let mid = partition(v);
    let (low, high) = v.split_at_mut(mid);
    join.join(|| quicksort(join, low), || quicksort(join, &mut high[1..]));
}

/// Lomuto's partition around the middle element; returns its final index.
fn partition(v: &mut [u64]) -> usize {
    let last = v.len() - 1;
    v.swap(v.len() / 2, last);
    let pivot = v[last];
    let mut store = 0;
    for i in 0..last {
        if v[i] <= pivot {
            v.swap(i, store);
            store += 1;
        }
    }
    v.swap(store, last);
    store
}

fn bench_join_quicksort(c: &mut Criterion) {
    let weft = Pool::new(workers());
    let rayon = rayon_pool();
    let mut x = 0x2545_f491_4f6c_dd1d_u64;
    let input: Vec<u64> = (0..SORT_LEN)
        .map(|_| {
            x = busy_work(x);
            x
        })
        .collect();
    let mut g = c.benchmark_group("pool/join_quicksort");
    // An iteration takes tens of milliseconds: see `bench_cpu_heavy`.
    g.sample_size(10);
    g.sampling_mode(SamplingMode::Flat);
    g.bench_function("weft", |b| {
        b.iter_batched_ref(
            || input.clone(),
            |v| weft.apply(|v: &mut Vec<u64>| quicksort(&weft, v), (v,)),
            BatchSize::LargeInput,
        )
    });
    g.bench_function("rayon", |b| {
        b.iter_batched_ref(
            || input.clone(),
            |v| rayon.install(|| quicksort(&Rayon, v)),
            BatchSize::LargeInput,
        )
    });
    g.finish();
    let mut check = input.clone();
    weft.apply(|v: &mut Vec<u64>| quicksort(&weft, v), (&mut check,));
    assert!(check.is_sorted(), "the benchmark's quicksort sorts");
}

const SCOPE_TASKS: usize = 1000;

fn bench_scope_spawn(c: &mut Criterion) {
    let weft = Pool::new(workers());
    let rayon = rayon_pool();
    let mut slots = vec![0u64; SCOPE_TASKS];
    let mut g = c.benchmark_group("pool/scope_spawn_1k");
    g.sample_size(30);
    g.bench_function("weft", |b| {
        b.iter(|| {
            weft.apply(
                |slots: &mut Vec<u64>| {
                    weft.scope(|s| {
                        for (i, slot) in slots.iter_mut().enumerate() {
                            s.spawn(move |_| *slot = black_box(i as u64) + 1);
                        }
                    })
                },
                (&mut slots,),
            )
        })
    });
    g.bench_function("rayon", |b| {
        b.iter(|| {
            rayon.install(|| {
                rayon::scope(|s| {
                    for (i, slot) in slots.iter_mut().enumerate() {
                        s.spawn(move |_| *slot = black_box(i as u64) + 1);
                    }
                })
            })
        })
    });
    g.finish();
    // A run of its own: `--list` and filters run no iteration above.
    slots.fill(0);
    weft.scope(|s| {
        for (i, slot) in slots.iter_mut().enumerate() {
            s.spawn(move |_| *slot = i as u64 + 1);
        }
    });
    assert!(
        slots
            .iter()
            .enumerate()
            .all(|(i, &slot)| slot == i as u64 + 1),
        "every task of the benchmark's scope ran"
    );
}

criterion_group! {
    name = benches;
    config = Criterion::default().warm_up_time(Duration::from_secs(1)).measurement_time(Duration::from_secs(2));
    targets = bench_map_trivial, bench_round_trip, bench_cpu_heavy, bench_imap,
        bench_join_fib, bench_join_quicksort, bench_scope_spawn
}
criterion_main!(benches);

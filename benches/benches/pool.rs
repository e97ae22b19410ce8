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
//!
//! Every pool has one worker per CPU and is created once, outside the
//! timed loop.

use std::hint::black_box;
use std::sync::mpsc;
use std::time::Duration;

use criterion::{
    BenchmarkGroup, Criterion, SamplingMode, criterion_group, criterion_main, measurement::WallTime,
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

criterion_group! {
    name = benches;
    config = Criterion::default().warm_up_time(Duration::from_secs(1)).measurement_time(Duration::from_secs(2));
    targets = bench_map_trivial, bench_round_trip, bench_cpu_heavy, bench_imap
}
criterion_main!(benches);

#![allow(missing_docs)] // criterion's macros generate undocumented functions.

//! `weft-algorithms` against sequential code and rayon.
//!
//! Scenarios (see BENCHMARKS.md):
//! - `sort_10M_u64`: sort 10 million random `u64`s. Peers: `sequential`
//!   (`slice::sort_unstable`) and `rayon` (`par_sort_unstable`). Each
//!   iteration sorts a fresh copy of the same input, made outside the
//!   timing.
//! - `sum_100M_u64`, `sum_100M_f64`: sum 100 million numbers (800 MB).
//!   Peers: `sequential` (`iter().sum()`) and `rayon`
//!   (`par_iter().sum()`). For `u64` the compiler vectorizes the
//!   sequential sum, so `sequential` is a single-thread streaming read:
//!   the memory-bandwidth reference for one core. For `f64` it cannot (the
//!   additions may not be reordered), so `sequential` and `rayon`, which
//!   folds each split the same way, wait on one addition after another;
//!   weft keeps eight partial sums per block, which is part of its lead
//!   there and not only parallelism. A fourth column, `stream_all_cores`,
//!   is the machine's read bandwidth: every core folds its share of the
//!   same bytes with wrapping integer adds, as fast as memory delivers
//!   them. Where `weft` is close to it, the sum is memory-bound and no
//!   number of threads makes it faster.
//! - `matvec_4096`: `y = A x` for a 4096 × 4096 `f64` matrix (128 MB).
//!   Peers: `sequential` (one `iter().zip().map().sum()` dot product per
//!   row) and `rayon` (the same per row, rows with `par_chunks`). The same
//!   remark on partial sums applies.
//! - `merge_sorted_64x100k`: merge 64 sorted lists of 100 000 random
//!   `u64`s. Peer: `sequential`, a k-way merge with a `BinaryHeap` of list
//!   heads (Python's `heapq.merge`). Each iteration merges fresh copies.
//!
//! Every pool has one worker per CPU and is created once. Each input is
//! built once per group, outside the timed loop, and only when the group
//! first runs a benchmark (not when criterion merely lists them, or filters
//! the group out). The large inputs make iterations long, so the groups
//! take ten samples of flat sampling.

use std::cell::OnceCell;
use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::hint::black_box;
use std::time::Duration;

use criterion::{
    BatchSize, BenchmarkGroup, Criterion, SamplingMode, criterion_group, criterion_main,
    measurement::WallTime,
};
use rayon::prelude::*;
use weft_benches::workers;
use weft_pool::Pool;

fn rayon_pool() -> rayon::ThreadPool {
    rayon::ThreadPoolBuilder::new()
        .num_threads(workers())
        .build()
        .expect("rayon pool")
}

/// A group for long iterations: ten samples, flat sampling.
fn group<'a>(c: &'a mut Criterion, name: &str) -> BenchmarkGroup<'a, WallTime> {
    let mut g = c.benchmark_group(name);
    g.sample_size(10);
    g.sampling_mode(SamplingMode::Flat);
    g
}

/// `len` pseudo-random `u64`s (SplitMix64 from `seed`), so that every run
/// measures the same input.
fn random_u64s(len: usize, seed: u64) -> Vec<u64> {
    let mut state = seed;
    (0..len)
        .map(|_| {
            state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
            let mut z = state;
            z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
            z ^ (z >> 31)
        })
        .collect()
}

fn bench_sort(c: &mut Criterion) {
    let (weft, rayon) = (Pool::new(workers()), rayon_pool());
    let input = OnceCell::new();
    let input = || input.get_or_init(|| random_u64s(10_000_000, 1));
    let mut g = group(c, "algorithms/sort_10M_u64");
    g.bench_function("weft", |b| {
        b.iter_batched(
            || input().clone(),
            |mut data| {
                weft_algorithms::sort(&weft, &mut data);
                data
            },
            BatchSize::LargeInput,
        )
    });
    g.bench_function("sequential", |b| {
        b.iter_batched(
            || input().clone(),
            |mut data| {
                data.sort_unstable();
                data
            },
            BatchSize::LargeInput,
        )
    });
    g.bench_function("rayon", |b| {
        b.iter_batched(
            || input().clone(),
            |mut data| {
                rayon.install(|| data.par_sort_unstable());
                data
            },
            BatchSize::LargeInput,
        )
    });
    g.finish();
}

/// One sum group over the input `make` builds: weft, sequential and rayon.
/// The input is dropped when the group ends.
fn sum_group<T>(
    c: &mut Criterion,
    name: &str,
    make: fn() -> Vec<T>,
    weft: &Pool,
    rayon: &rayon::ThreadPool,
) where
    T: Copy + Send + Sync + std::iter::Sum<T> + std::ops::Add<Output = T> + RawBits,
{
    let data = OnceCell::new();
    let data = || data.get_or_init(make).as_slice();
    let mut g = group(c, name);
    g.bench_function("weft", |b| {
        let data = data();
        b.iter(|| weft_algorithms::sum(weft, black_box(data)))
    });
    g.bench_function("sequential", |b| {
        let data = data();
        b.iter(|| black_box(data).iter().copied().sum::<T>())
    });
    g.bench_function("rayon", |b| {
        let data = data();
        b.iter(|| rayon.install(|| black_box(data).par_iter().copied().sum::<T>()))
    });
    g.bench_function("stream_all_cores", |b| {
        let data = data();
        b.iter(|| stream_all_cores(black_box(data)))
    });
    g.finish();
}

/// The machine's memory-bandwidth ceiling for a sum: one thread per core,
/// each folding its contiguous share of `data` with wrapping integer adds
/// of the raw bits, which the compiler vectorizes and which do no more work
/// than reading. No sum over the same bytes can beat it by much, so `weft`
/// close to it means the sum runs at the memory's speed, whatever its ratio
/// to `sequential`.
fn stream_all_cores<T: RawBits + Sync>(data: &[T]) -> u64 {
    let share = data.len().div_ceil(workers()).max(1);
    std::thread::scope(|s| {
        let mut parts = data.chunks(share);
        let mine = parts.next().unwrap_or_default();
        let others: Vec<_> = parts.map(|part| s.spawn(move || fold_bits(part))).collect();
        others.into_iter().fold(fold_bits(mine), |acc, h| {
            acc.wrapping_add(h.join().expect("stream thread"))
        })
    })
}

fn fold_bits<T: RawBits>(part: &[T]) -> u64 {
    part.iter().map(|x| x.raw_bits()).fold(0, u64::wrapping_add)
}

/// A number's bits as a `u64`, for [`stream_all_cores`].
trait RawBits: Copy {
    fn raw_bits(self) -> u64;
}

impl RawBits for u64 {
    fn raw_bits(self) -> u64 {
        self
    }
}

impl RawBits for f64 {
    fn raw_bits(self) -> u64 {
        self.to_bits()
    }
}

fn bench_sum(c: &mut Criterion) {
    let (weft, rayon) = (Pool::new(workers()), rayon_pool());
    // One 800 MB input at a time: each group drops its own when it ends.
    sum_group(
        c,
        "algorithms/sum_100M_u64",
        || (0..100_000_000u64).collect(),
        &weft,
        &rayon,
    );
    sum_group(
        c,
        "algorithms/sum_100M_f64",
        || {
            (0..100_000_000u64)
                .map(|i| (i % 1000) as f64 * 0.5)
                .collect()
        },
        &weft,
        &rayon,
    );
}

/// A row times a vector, the way it is usually written.
fn dot(row: &[f64], x: &[f64]) -> f64 {
    row.iter().zip(x).map(|(a, b)| a * b).sum()
}

fn bench_matvec(c: &mut Criterion) {
    let (weft, rayon) = (Pool::new(workers()), rayon_pool());
    let n = 4096;
    let inputs = OnceCell::new();
    let inputs = || {
        inputs.get_or_init(|| {
            let a: Vec<f64> = random_u64s(n * n, 2)
                .into_iter()
                .map(|r| (r >> 11) as f64 / (1u64 << 53) as f64)
                .collect();
            let x: Vec<f64> = (0..n).map(|j| (j % 7) as f64 - 3.0).collect();
            (a, x)
        })
    };
    let mut g = group(c, "algorithms/matvec_4096");
    g.bench_function("weft", |b| {
        let (a, x) = inputs();
        b.iter(|| weft_algorithms::matvec(&weft, black_box(a), n, n, black_box(x)))
    });
    g.bench_function("sequential", |b| {
        let (a, x) = inputs();
        b.iter(|| {
            black_box(a)
                .chunks_exact(n)
                .map(|row| dot(row, black_box(x)))
                .collect::<Vec<f64>>()
        })
    });
    g.bench_function("rayon", |b| {
        let (a, x) = inputs();
        b.iter(|| {
            rayon.install(|| {
                black_box(a)
                    .par_chunks_exact(n)
                    .map(|row| dot(row, black_box(x)))
                    .collect::<Vec<f64>>()
            })
        })
    });
    g.finish();
}

/// Python's `heapq.merge`: a heap of the lists' heads, popped and refilled
/// from the same list, one element at a time.
fn kway_merge(lists: Vec<Vec<u64>>) -> Vec<u64> {
    let total = lists.iter().map(Vec::len).sum();
    let mut iters: Vec<std::vec::IntoIter<u64>> = lists.into_iter().map(Vec::into_iter).collect();
    let mut heads: BinaryHeap<Reverse<(u64, usize)>> = iters
        .iter_mut()
        .enumerate()
        .filter_map(|(i, it)| it.next().map(|x| Reverse((x, i))))
        .collect();
    let mut out = Vec::with_capacity(total);
    while let Some(Reverse((x, i))) = heads.pop() {
        out.push(x);
        if let Some(next) = iters[i].next() {
            heads.push(Reverse((next, i)));
        }
    }
    out
}

fn bench_merge_sorted(c: &mut Criterion) {
    let weft = Pool::new(workers());
    let lists = OnceCell::new();
    let lists = || {
        lists.get_or_init(|| {
            (0..64)
                .map(|seed| {
                    let mut list = random_u64s(100_000, 100 + seed);
                    list.sort_unstable();
                    list
                })
                .collect::<Vec<Vec<u64>>>()
        })
    };
    let mut g = group(c, "algorithms/merge_sorted_64x100k");
    g.bench_function("weft", |b| {
        b.iter_batched(
            || lists().clone(),
            |lists| weft_algorithms::merge_sorted(&weft, lists),
            BatchSize::LargeInput,
        )
    });
    g.bench_function("sequential", |b| {
        b.iter_batched(|| lists().clone(), kway_merge, BatchSize::LargeInput)
    });
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().warm_up_time(Duration::from_secs(1)).measurement_time(Duration::from_secs(2));
    targets = bench_sort, bench_sum, bench_matvec, bench_merge_sorted
}
criterion_main!(benches);

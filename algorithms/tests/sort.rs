//! `sort`, `sort_in_blocks` and `merge_sorted` against `sort_unstable`.
#![cfg(not(loom))]

mod common;

use std::cmp::Ordering;
use std::panic::{self, AssertUnwindSafe};
use std::sync::Arc;
use std::sync::atomic::{AtomicIsize, AtomicUsize, Ordering::Relaxed};

use common::{Rng, SHAPES, Shape, cases, generate, iterations, pools};
use weft_algorithms::{merge_sorted, sort, sort_in_blocks};
use weft_pool::Pool;

/// Lengths to try: the edges, lengths around the block counts, and random
/// ones up to `max` (large enough, outside Miri, to cut merges into
/// pieces and to pass `sort`'s sequential cutoff).
fn lengths(rng: &mut Rng, max: usize) -> Vec<usize> {
    let mut lens = cases(&[0, 1, 2, 3, 5, 7, 8, 9, 16, 17], &[0, 1, max]);
    lens.extend((0..iterations(12, 0)).map(|_| rng.len(max)));
    lens
}

/// The input shapes to try (two under Miri).
fn shapes() -> Vec<Shape> {
    cases(&SHAPES, &[Shape::FewValues, Shape::Reversed])
}

#[test]
fn sort_matches_sort_unstable() {
    let mut rng = Rng::new(1);
    let max = iterations(60_000, 80);
    for pool in pools() {
        for len in lengths(&mut rng, max) {
            for shape in shapes() {
                let mut data = generate(&mut rng, len, shape);
                let mut expected = data.clone();
                expected.sort_unstable();
                sort(&pool, &mut data);
                assert_eq!(
                    data,
                    expected,
                    "{len} {shape:?} elements, {} workers",
                    pool.workers()
                );
            }
        }
    }
}

/// A wide element: a key and 248 bytes that repeat it, so that a piece
/// of the merge holds few of them, and an element torn or mixed up in a
/// move shows.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Wide {
    key: u64,
    copies: [u64; 31],
}

impl Wide {
    fn new(key: u64) -> Self {
        Wide {
            key,
            copies: [key; 31],
        }
    }
}

#[test]
fn long_inputs_cut_their_merges() {
    // A merge is cut in two until its pieces are at most 4 MiB (64 bytes
    // under Miri, where the other tests already cut). 131 072 elements of
    // 256 bytes are 32 MiB: the caller cuts the last merge twice and each
    // task once more. Odd lengths and three or five blocks make merges of
    // unequal runs, which rotate rather than exchange.
    let mut rng = Rng::new(6);
    let len = iterations(1 << 17, 0);
    if len == 0 {
        return;
    }
    let pool = Pool::new(2);
    for (len, blocks) in [(len, 2), (len + 1, 2), (len - 7, 3), (len, 5)] {
        for shape in SHAPES {
            let keys = generate(&mut rng, len, shape);
            let mut data: Vec<Wide> = keys.iter().map(|&key| Wide::new(key)).collect();
            let mut expected = keys;
            expected.sort_unstable();
            sort_in_blocks(&pool, &mut data, blocks);
            assert!(
                data.iter()
                    .map(|wide| wide.key)
                    .eq(expected.iter().copied()),
                "{len} {shape:?} elements in {blocks} blocks"
            );
            assert!(
                data.iter().all(|wide| wide.copies == [wide.key; 31]),
                "an element was torn"
            );
        }
    }
}

#[test]
fn any_number_of_blocks() {
    let mut rng = Rng::new(2);
    let max = iterations(20_000, 40);
    let pool = Pool::new(2);
    // 1 is sequential; 2, 4, 8 make an odd or even number of power-of-two
    // rounds; 3, 5, 6, 7 leave a run without a partner in some round; 9
    // and 64 exceed the pool, and 64 exceeds some of the lengths.
    for blocks in cases(&[1, 2, 3, 4, 5, 6, 7, 8, 9, 64], &[2, 3, 5]) {
        let lens = if cfg!(miri) {
            vec![max]
        } else {
            lengths(&mut rng, max)
        };
        for len in lens {
            let shape = SHAPES[rng.below(SHAPES.len() as u64) as usize];
            let mut data = generate(&mut rng, len, shape);
            let mut expected = data.clone();
            expected.sort_unstable();
            sort_in_blocks(&pool, &mut data, blocks);
            assert_eq!(
                data, expected,
                "{len} {shape:?} elements in {blocks} blocks"
            );
        }
    }
}

#[test]
fn block_counts_that_do_not_divide_the_length() {
    // 10 elements in 3 blocks of 4: runs of 4, 4 and 2.
    let pool = Pool::new(3);
    let mut data = [9, 1, 8, 2, 7, 3, 6, 4, 5, 0];
    sort_in_blocks(&pool, &mut data, 3);
    assert_eq!(data, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    // More blocks than elements: one element per block.
    let mut data = [3, 2, 1];
    sort_in_blocks(&pool, &mut data, 10);
    assert_eq!(data, [1, 2, 3]);
}

#[test]
fn sorts_inside_a_task_of_its_own_pool() {
    // The sort runs as one task of the pool. Called from a task of the
    // same pool it runs right there, and its pool calls nest: with one
    // worker, that worker does everything.
    let mut rng = Rng::new(5);
    let len = iterations(50_000, 300);
    for workers in [1, 2, 3] {
        let pool = Pool::new(workers);
        let data = generate(&mut rng, len, Shape::Random);
        let mut expected = data.clone();
        expected.sort_unstable();
        let (in_blocks, whole) = pool.apply(
            |mut data: Vec<u64>| {
                let mut copy = data.clone();
                sort_in_blocks(&pool, &mut data, 4);
                sort(&pool, &mut copy);
                (data, copy)
            },
            (data,),
        );
        assert_eq!(in_blocks, expected, "sort_in_blocks, {workers} workers");
        assert_eq!(whole, expected, "sort, {workers} workers");
    }
}

#[test]
#[should_panic(expected = "at least one block")]
fn zero_blocks_panics() {
    sort_in_blocks(&Pool::new(1), &mut [2, 1], 0);
}

#[test]
fn sorts_owning_types() {
    // Strings own heap memory: an element copied twice or lost would be a
    // double free or a leak, which Miri reports.
    let mut rng = Rng::new(3);
    let pool = Pool::new(2);
    let len = iterations(100_000, 40);
    let mut data: Vec<String> = (0..len).map(|_| rng.below(1000).to_string()).collect();
    let mut expected = data.clone();
    expected.sort_unstable();
    sort_in_blocks(&pool, &mut data, 5);
    assert_eq!(data, expected);
    if !cfg!(miri) {
        data.reverse();
        sort(&pool, &mut data);
        assert_eq!(data, expected);
    }
}

/// An element that counts its drops and compares by `key` only.
struct Tracked {
    key: u64,
    drops: Arc<AtomicUsize>,
}

impl Drop for Tracked {
    fn drop(&mut self) {
        self.drops.fetch_add(1, Relaxed);
    }
}

impl PartialEq for Tracked {
    fn eq(&self, other: &Self) -> bool {
        self.key == other.key
    }
}
impl Eq for Tracked {}
impl PartialOrd for Tracked {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Tracked {
    fn cmp(&self, other: &Self) -> Ordering {
        self.key.cmp(&other.key)
    }
}

#[test]
fn every_element_is_dropped_exactly_once() {
    let mut rng = Rng::new(4);
    let pool = Pool::new(3);
    let len = iterations(150_000, 40);
    for blocks in cases(&[2, 3, 4], &[3]) {
        let drops = Arc::new(AtomicUsize::new(0));
        let mut data: Vec<Tracked> = (0..len)
            .map(|_| Tracked {
                key: rng.below(50),
                drops: drops.clone(),
            })
            .collect();
        sort_in_blocks(&pool, &mut data, blocks);
        assert!(data.is_sorted());
        assert_eq!(drops.load(Relaxed), 0, "sorting drops nothing");
        drop(data);
        assert_eq!(drops.load(Relaxed), len, "dropped once each");

        let lists: Vec<Vec<Tracked>> = (0..5)
            .map(|_| {
                let mut list: Vec<Tracked> = (0..len / 5)
                    .map(|_| Tracked {
                        key: rng.below(50),
                        drops: drops.clone(),
                    })
                    .collect();
                list.sort();
                list
            })
            .collect();
        let merged = merge_sorted(&pool, lists);
        assert!(merged.is_sorted());
        assert_eq!(drops.load(Relaxed), len, "merging drops nothing");
        drop(merged);
        assert_eq!(drops.load(Relaxed), len + 5 * (len / 5));
    }
}

/// An element whose comparison panics once a shared fuse burns down. It
/// carries a `String` derived from its key, so that a corrupted or doubly
/// owned element shows up (as a wrong label, or as a double free under
/// Miri).
struct Bomb {
    key: u64,
    label: String,
    fuse: Arc<AtomicIsize>,
}

impl PartialEq for Bomb {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}
impl Eq for Bomb {}
impl PartialOrd for Bomb {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Bomb {
    fn cmp(&self, other: &Self) -> Ordering {
        if self.fuse.fetch_sub(1, Relaxed) == 1 {
            panic!("the comparison's fuse burnt down");
        }
        self.key.cmp(&other.key)
    }
}

#[test]
fn a_panicking_comparison_leaves_every_element_in_place() {
    let mut rng = Rng::new(5);
    let pool = Pool::new(2);
    let len = iterations(60_000, 32);
    let mut panics = 0;
    for trial in 0..iterations(16, 2) {
        let blocks = [2, 3, 4][trial % 3];
        let fuse = Arc::new(AtomicIsize::new(isize::MAX));
        let keys: Vec<u64> = (0..len).map(|_| rng.below(1000)).collect();
        let bombs = |keys: &[u64]| -> Vec<Bomb> {
            keys.iter()
                .map(|&key| Bomb {
                    key,
                    label: key.to_string(),
                    fuse: fuse.clone(),
                })
                .collect()
        };
        // A dry run counts the comparisons; the count does not depend on
        // the schedule, since every block and merge piece is fixed.
        sort_in_blocks(&pool, &mut bombs(&keys), blocks);
        let comparisons = (isize::MAX - fuse.load(Relaxed)) as u64;
        // Burn down anywhere (odd trials), or near the end (even trials),
        // in the last merges of pieces, while the piece buffers hold
        // copies of elements that the data also holds.
        let burn_at = if trial % 2 == 1 {
            rng.below(comparisons) + 1
        } else {
            comparisons - rng.below(len as u64 / 2)
        };
        fuse.store(burn_at as isize, Relaxed);
        let mut data = bombs(&keys);
        let blocks = [2, 3, 4][trial % 3];
        let result = panic::catch_unwind(AssertUnwindSafe(|| {
            sort_in_blocks(&pool, &mut data, blocks);
        }));
        fuse.store(isize::MAX, Relaxed);
        match result {
            Err(payload) => {
                panics += 1;
                assert_eq!(
                    payload.downcast_ref::<&str>(),
                    Some(&"the comparison's fuse burnt down"),
                    "the comparison's own panic comes back"
                );
            }
            Ok(()) => assert!(data.is_sorted()),
        }
        for bomb in &data {
            assert_eq!(bomb.label, bomb.key.to_string(), "an element was corrupted");
        }
        let mut after: Vec<u64> = data.iter().map(|b| b.key).collect();
        let mut before = keys;
        after.sort_unstable();
        before.sort_unstable();
        assert_eq!(after, before, "the data still holds every element once");
    }
    assert!(panics > 0, "some trials must actually panic");
}

#[test]
fn merge_sorted_matches_sorting_everything() {
    let mut rng = Rng::new(6);
    let max_len = iterations(5_000, 20);
    for pool in pools().into_iter().skip(usize::from(cfg!(miri))) {
        for k in cases(&[0, 1, 2, 3, 4, 5, 7, 8, 9, 16, 17], &[0, 1, 3, 5]) {
            for shape in cases(
                &[Shape::Random, Shape::FewValues, Shape::AllEqual],
                &[Shape::FewValues],
            ) {
                let lists: Vec<Vec<u64>> = (0..k)
                    .map(|_| {
                        let len = rng.len(max_len);
                        let mut list = generate(&mut rng, len, shape);
                        list.sort_unstable();
                        list
                    })
                    .collect();
                let mut expected = lists.concat();
                expected.sort_unstable();
                assert_eq!(
                    merge_sorted(&pool, lists),
                    expected,
                    "{k} {shape:?} lists, {} workers",
                    pool.workers()
                );
            }
        }
    }
}

#[test]
fn merge_sorted_edge_cases() {
    let pool = Pool::new(2);
    assert_eq!(merge_sorted::<u8>(&pool, vec![]), Vec::<u8>::new());
    assert_eq!(merge_sorted::<u8>(&pool, vec![vec![]]), Vec::<u8>::new());
    assert_eq!(merge_sorted::<u8>(&pool, vec![vec![], vec![], vec![]]), []);
    assert_eq!(merge_sorted(&pool, vec![vec![1, 2, 3]]), [1, 2, 3]);
    assert_eq!(merge_sorted(&pool, vec![vec![5], vec![], vec![1]]), [1, 5]);
    // Equal keys from different lists all survive.
    assert_eq!(
        merge_sorted(&pool, vec![vec![2, 2], vec![2], vec![1, 2]]),
        [1, 2, 2, 2, 2]
    );
}

#[test]
#[cfg(debug_assertions)]
#[should_panic(expected = "every input list must be sorted")]
fn merge_sorted_checks_its_input_in_debug_builds() {
    merge_sorted(&Pool::new(1), vec![vec![1, 2], vec![3, 1]]);
}

#[test]
fn merge_sorted_moves_without_clone() {
    /// Neither `Clone` nor `Copy`.
    #[derive(Debug, PartialEq, Eq, PartialOrd, Ord)]
    struct Unique(u32);
    let pool = Pool::new(2);
    let lists = vec![
        vec![Unique(1), Unique(4)],
        vec![Unique(2)],
        vec![Unique(0), Unique(3)],
    ];
    let merged = merge_sorted(&pool, lists);
    assert_eq!(merged, (0..5).map(Unique).collect::<Vec<_>>());
}

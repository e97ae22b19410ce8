//! `populate_random`: reproducible, in range, uniform.
#![cfg(not(loom))]

mod common;

use common::{cases, iterations, pools};
use weft_algorithms::{RANDOM_BLOCK, populate_random};
use weft_pool::Pool;

#[test]
fn same_seed_same_numbers_whatever_the_workers() {
    // Lengths below one block, of whole blocks, and with a partial last
    // block.
    let lens = cases(
        &[0, 1, RANDOM_BLOCK - 1, RANDOM_BLOCK, 5 * RANDOM_BLOCK + 123],
        &[RANDOM_BLOCK + 7],
    );
    let ranges = if cfg!(miri) {
        vec![i32::MIN..=i32::MAX]
    } else {
        vec![0..=1000, -5..=5, i32::MIN..=i32::MAX]
    };
    for len in lens {
        for range in ranges.clone() {
            let outputs: Vec<Vec<i32>> = pools()
                .iter()
                .map(|pool| populate_random(pool, len, range.clone(), 2024))
                .collect();
            assert_eq!(outputs[0].len(), len);
            for (pool, output) in pools().iter().zip(&outputs).skip(1) {
                assert_eq!(
                    outputs[0],
                    *output,
                    "1 vs {} workers, {len} in {range:?}",
                    pool.workers()
                );
            }
        }
    }
}

#[test]
fn different_seeds_and_blocks_differ() {
    let pool = Pool::new(2);
    let len = iterations(2 * RANDOM_BLOCK, RANDOM_BLOCK + 8);
    let a = populate_random(&pool, len, i32::MIN..=i32::MAX, 1);
    let b = populate_random(&pool, len, i32::MIN..=i32::MAX, 2);
    assert_ne!(a, b);
    // Each block has its own stream: the second block does not repeat the
    // first.
    assert_ne!(a[..8], a[RANDOM_BLOCK..RANDOM_BLOCK + 8]);
    // A longer array starts with the shorter one (blocks do not depend on
    // the length).
    let longer = populate_random(&pool, len + 10, i32::MIN..=i32::MAX, 1);
    assert_eq!(longer[..len], a[..]);
}

#[test]
fn stays_in_range_and_reaches_both_ends() {
    let pool = Pool::new(3);
    let len = iterations(50_000, 40);
    for (lo, hi) in [
        (0, 1000),
        (-3, 3),
        (7, 7),
        (i32::MAX - 2, i32::MAX),
        (i32::MIN, i32::MIN + 2),
    ] {
        let values = populate_random(&pool, len, lo..=hi, 9);
        assert!(values.iter().all(|v| (lo..=hi).contains(v)), "{lo}..={hi}");
        if hi - lo <= 6 {
            for v in lo..=hi {
                assert!(values.contains(&v), "{v} never drawn from {lo}..={hi}");
            }
        }
    }
}

#[test]
fn full_range_is_uniform() {
    // Split i32 into 16 equal buckets by the top four bits; each should
    // get 1/16 of the values. With n values a bucket's count has standard
    // deviation about sqrt(n / 16); allow six of them.
    let pool = Pool::new(2);
    let n = iterations(1 << 18, RANDOM_BLOCK);
    let values = populate_random(&pool, n, i32::MIN..=i32::MAX, 77);
    let mut buckets = [0usize; 16];
    for v in &values {
        buckets[((*v as u32) >> 28) as usize] += 1;
    }
    let expected = n as f64 / 16.0;
    let slack = 6.0 * expected.sqrt();
    for (bucket, &count) in buckets.iter().enumerate() {
        assert!(
            (count as f64 - expected).abs() < slack,
            "bucket {bucket} got {count}, expected about {expected}"
        );
    }
    // Both signs, and the low bits vary too.
    assert!(values.iter().any(|&v| v < 0) && values.iter().any(|&v| v > 0));
    assert!(values.iter().any(|&v| v & 1 == 1) && values.iter().any(|&v| v & 1 == 0));
}

#[test]
#[should_panic(expected = "the range 5..=4 is empty")]
fn empty_range_panics() {
    #[allow(clippy::reversed_empty_ranges)]
    populate_random(&Pool::new(1), 10, 5..=4, 0);
}

//! `prefix_sum` against the sequential scan.
#![cfg(not(loom))]

mod common;

use common::{Rng, cases, close, iterations};
use weft_algorithms::prefix_sum;

#[test]
fn prefix_sum_matches_the_sequential_scan() {
    let mut rng = Rng::new(14);
    let max = iterations(50_000, 20);
    for threads in cases(&[1, 2, 3, 4, 7], &[3]) {
        let random_lens: Vec<usize> = (0..iterations(6, 0)).map(|_| rng.len(max)).collect();
        for len in cases(&[0, 1, 2, 3, 6, 7, 8], &[0, 2, max])
            .into_iter()
            .chain(random_lens)
        {
            let data: Vec<i64> = (0..len).map(|_| rng.below(1000) as i64 - 500).collect();
            let expected: Vec<i64> = data
                .iter()
                .scan(0, |acc, &x| {
                    *acc += x;
                    Some(*acc)
                })
                .collect();
            let mut got = data.clone();
            prefix_sum(threads, &mut got);
            assert_eq!(got, expected, "{len} elements, {threads} threads");
        }
    }
}

#[test]
fn prefix_sum_of_floats_agrees_within_rounding() {
    let mut rng = Rng::new(15);
    let len = iterations(10_000, 20);
    let data: Vec<f64> = (0..len).map(|_| rng.unit()).collect();
    let mut got = data.clone();
    prefix_sum(3, &mut got);
    let mut acc = 0.0;
    let mut scale = 0.0;
    for (x, g) in data.iter().zip(&got) {
        acc += x;
        scale += x.abs();
        assert!(close(*g, acc, scale), "{g} vs {acc}");
    }
}

#[test]
#[should_panic(expected = "at least one thread")]
fn prefix_sum_needs_a_thread() {
    prefix_sum(0, &mut [1, 2, 3]);
}

/// An overflow in one thread's first phase must not leave the other
/// threads waiting at the barrier forever: the call panics instead of
/// hanging.
#[test]
#[cfg(debug_assertions)]
#[should_panic(expected = "overflow")]
fn prefix_sum_overflow_panics_instead_of_hanging() {
    let mut data = [100u8; 8];
    prefix_sum(4, &mut data);
}

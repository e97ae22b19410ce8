//! `sum` and `matrix_sum` against sequential references.
#![cfg(not(loom))]

mod common;

use common::{Rng, cases, close, iterations, pools};
use weft_algorithms::{matrix_sum, sum};
use weft_pool::Pool;

#[test]
fn integer_sums_are_exact() {
    let mut rng = Rng::new(10);
    let max = iterations(200_000, 50);
    for pool in pools() {
        let random_lens: Vec<usize> = (0..iterations(10, 0)).map(|_| rng.len(max)).collect();
        for len in cases(
            &[0, 1, 2, 7, 8, 9, 1000, max, max + 1, max - 1],
            &[0, 17, max],
        )
        .into_iter()
        .chain(random_lens)
        {
            let data: Vec<u64> = (0..len).map(|_| rng.below(1 << 40)).collect();
            assert_eq!(
                sum(&pool, &data),
                data.iter().sum::<u64>(),
                "{len} elements, {} workers",
                pool.workers()
            );
            let signed: Vec<i64> = data.iter().map(|&x| x as i64 - (1 << 39)).collect();
            assert_eq!(sum(&pool, &signed), signed.iter().sum::<i64>());
        }
    }
}

#[test]
fn float_sums_agree_within_rounding() {
    let mut rng = Rng::new(11);
    let max = iterations(100_000, 60);
    for pool in pools() {
        for _ in 0..iterations(12, 2) {
            let len = rng.len(max);
            let data: Vec<f64> = (0..len).map(|_| rng.unit() * 1e3).collect();
            let expected: f64 = data.iter().sum();
            let scale: f64 = data.iter().map(|x| x.abs()).sum();
            let got = sum(&pool, &data);
            assert!(
                close(got, expected, scale),
                "{got} vs {expected}, {len} elements"
            );
        }
    }
}

#[test]
fn empty_sums_are_zero() {
    let pool = Pool::new(2);
    assert_eq!(sum::<u64>(&pool, &[]), 0);
    assert_eq!(sum::<f64>(&pool, &[]), 0.0);
    assert_eq!(matrix_sum::<i32>(&pool, &[]), 0);
    assert_eq!(matrix_sum::<i32>(&pool, &[vec![], vec![]]), 0);
    assert_eq!(matrix_sum::<f32>(&pool, &[]), 0.0);
}

#[test]
fn matrix_sum_matches_and_accepts_ragged_rows() {
    let mut rng = Rng::new(12);
    let max_rows = iterations(300, 12);
    let max_cols = iterations(300, 12);
    for pool in pools() {
        for _ in 0..iterations(12, 1) {
            let rows = rng.len(max_rows);
            let ragged = rng.below(2) == 1;
            let width = rng.len(max_cols);
            let matrix: Vec<Vec<i64>> = (0..rows)
                .map(|_| {
                    let cols = if ragged { rng.len(max_cols) } else { width };
                    (0..cols).map(|_| rng.below(2000) as i64 - 1000).collect()
                })
                .collect();
            let expected: i64 = matrix.iter().flatten().sum();
            assert_eq!(
                matrix_sum(&pool, &matrix),
                expected,
                "{rows} rows, ragged: {ragged}"
            );
        }
    }
}

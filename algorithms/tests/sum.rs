//! `sum`, `matrix_sum`, `matvec` and `prefix_sum` against sequential
//! references.
#![cfg(not(loom))]

mod common;

use common::{Rng, cases, iterations, pools};
use weft_algorithms::{matrix_sum, matvec, prefix_sum, sum};
use weft_pool::Pool;

/// Whether two float results agree within a tolerance scaled by the
/// magnitude of what was summed (`scale`: the sum of absolute values).
fn close(a: f64, b: f64, scale: f64) -> bool {
    (a - b).abs() <= 1e-12 * scale.max(1.0)
}

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

/// The textbook loop, one accumulator per row.
fn matvec_reference(a: &[f64], rows: usize, cols: usize, x: &[f64]) -> Vec<f64> {
    (0..rows)
        .map(|i| (0..cols).map(|j| a[i * cols + j] * x[j]).sum())
        .collect()
}

#[test]
fn matvec_agrees_within_rounding() {
    let mut rng = Rng::new(13);
    let max = iterations(400, 12);
    for pool in pools() {
        for _ in 0..iterations(20, 1) {
            let (rows, cols) = (rng.len(max), rng.len(max));
            let a: Vec<f64> = (0..rows * cols).map(|_| rng.unit()).collect();
            let x: Vec<f64> = (0..cols).map(|_| rng.unit() * 10.0).collect();
            let got = matvec(&pool, &a, rows, cols, &x);
            let expected = matvec_reference(&a, rows, cols, &x);
            assert_eq!(got.len(), rows);
            for (i, (g, e)) in got.iter().zip(&expected).enumerate() {
                let scale: f64 = (0..cols).map(|j| (a[i * cols + j] * x[j]).abs()).sum();
                assert!(close(*g, *e, scale), "row {i} of {rows}×{cols}: {g} vs {e}");
            }
        }
    }
}

#[test]
fn matvec_exact_on_small_integers() {
    // Small integers are exact in floating point, whatever the order of
    // the additions.
    let pool = Pool::new(3);
    let (rows, cols) = (iterations(257, 9), iterations(131, 11));
    let a: Vec<f64> = (0..rows * cols).map(|k| (k % 17) as f64 - 8.0).collect();
    let x: Vec<f64> = (0..cols).map(|j| (j % 5) as f64).collect();
    assert_eq!(
        matvec(&pool, &a, rows, cols, &x),
        matvec_reference(&a, rows, cols, &x)
    );
}

#[test]
fn matvec_without_columns_is_zeros() {
    let pool = Pool::new(2);
    assert_eq!(matvec(&pool, &[], 4, 0, &[]), [0.0; 4]);
    assert_eq!(
        matvec(&pool, &[], 0, 3, &[1.0, 2.0, 3.0]),
        Vec::<f64>::new()
    );
    assert_eq!(matvec(&pool, &[], 0, 0, &[]), Vec::<f64>::new());
}

#[test]
#[should_panic(expected = "the matrix has 5 entries, but rows × cols = 2 × 3 = 6")]
fn matvec_rejects_a_wrong_matrix() {
    matvec(&Pool::new(1), &[1.0; 5], 2, 3, &[1.0; 3]);
}

#[test]
#[should_panic(expected = "x has 2 entries, but the matrix has 3 columns")]
fn matvec_rejects_a_wrong_vector() {
    matvec(&Pool::new(1), &[1.0; 6], 2, 3, &[1.0; 2]);
}

#[test]
#[should_panic(expected = "rows × cols overflows")]
fn matvec_rejects_an_overflowing_shape() {
    matvec(&Pool::new(1), &[], usize::MAX, 2, &[1.0; 2]);
}

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

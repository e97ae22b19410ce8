//! `matvec` against the textbook loop.
#![cfg(not(loom))]

mod common;

use common::{Rng, close, iterations, pools};
use weft_algorithms::matvec;
use weft_pool::Pool;

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

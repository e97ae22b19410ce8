//! Helpers shared by the test files: a small seeded random number generator
//! and Miri scaling.
#![allow(dead_code)] // Each test file uses a different subset.

use weft_pool::Pool;

pub(crate) use weft_testkit::iterations;

/// Whether two float results agree within a tolerance scaled by the
/// magnitude of what was summed (`scale`: the sum of absolute values).
pub(crate) fn close(a: f64, b: f64, scale: f64) -> bool {
    (a - b).abs() <= 1e-12 * scale.max(1.0)
}

/// The pool sizes every algorithm is checked with: one worker (the
/// sequential path), two, and three (which divides few sizes evenly);
/// under Miri, where every pool call is slow, one and three.
pub(crate) fn pools() -> Vec<Pool> {
    if cfg!(miri) {
        vec![Pool::new(1), Pool::new(3)]
    } else {
        vec![Pool::new(1), Pool::new(2), Pool::new(3)]
    }
}

/// `all` normally, `miri` under Miri: the cases a test tries.
pub(crate) fn cases<T: Clone>(all: &[T], miri: &[T]) -> Vec<T> {
    if cfg!(miri) {
        miri.to_vec()
    } else {
        all.to_vec()
    }
}

/// SplitMix64 (Steele, Lea and Flood, "Fast Splittable Pseudorandom Number
/// Generators", 2014): tiny, seedable, and good enough to generate test
/// inputs reproducibly.
pub(crate) struct Rng(u64);

impl Rng {
    pub(crate) fn new(seed: u64) -> Self {
        Rng(seed)
    }

    pub(crate) fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (`n > 0`), with a negligible bias.
    pub(crate) fn below(&mut self, n: u64) -> u64 {
        ((u128::from(self.next_u64()) * u128::from(n)) >> 64) as u64
    }

    /// A length in `0..=max`, with the edge cases 0, 1 and `max` more
    /// likely than uniform.
    pub(crate) fn len(&mut self, max: usize) -> usize {
        match self.below(8) {
            0 => 0,
            1 => 1,
            2 => max,
            _ => self.below(max as u64 + 1) as usize,
        }
    }

    /// A float in `[-1, 1)`.
    pub(crate) fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 52) as f64 - 1.0
    }
}

/// The shapes of input a sort or merge must handle.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Shape {
    /// Uniform over a wide range: few duplicates.
    Random,
    /// Drawn from a handful of values: many duplicates.
    FewValues,
    Sorted,
    Reversed,
    AllEqual,
    /// Sorted, with a few elements swapped.
    NearlySorted,
}

pub(crate) const SHAPES: [Shape; 6] = [
    Shape::Random,
    Shape::FewValues,
    Shape::Sorted,
    Shape::Reversed,
    Shape::AllEqual,
    Shape::NearlySorted,
];

/// `len` numbers of the given shape.
pub(crate) fn generate(rng: &mut Rng, len: usize, shape: Shape) -> Vec<u64> {
    let mut v: Vec<u64> = match shape {
        Shape::Random => (0..len).map(|_| rng.next_u64()).collect(),
        Shape::FewValues => (0..len).map(|_| rng.below(5)).collect(),
        Shape::Sorted | Shape::NearlySorted => (0..len as u64).map(|i| i * 3).collect(),
        Shape::Reversed => (0..len as u64).rev().collect(),
        Shape::AllEqual => vec![7; len],
    };
    if let Shape::NearlySorted = shape {
        for _ in 0..len / 50 + 1 {
            if len > 1 {
                let (i, j) = (rng.below(len as u64), rng.below(len as u64));
                v.swap(i as usize, j as usize);
            }
        }
    }
    v
}

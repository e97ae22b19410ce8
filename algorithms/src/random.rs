//! Filling an array with random numbers in parallel, reproducibly.
//!
//! # Implementation
//!
//! The chapter gives each process one block of a shared array to fill with
//! `np.random.randint`. Its output depends on how many processes there are
//! and on how the operating system seeds each one. Here the array is cut
//! into blocks of a *fixed* size, [`RANDOM_BLOCK`] elements, independent of
//! the number of workers, and block `b` is filled by its own random number
//! generator, seeded from the pair `(seed, b)`. Whichever worker fills a
//! block, and however many workers share the blocks, block `b` gets the
//! same numbers, so the whole array depends on the seed alone.
//!
//! The generator is rand's [`SmallRng`] (Xoshiro256++ on 64-bit targets):
//! fast, statistically strong, and cheap to seed, which matters with one
//! generator per block. Block `b`'s generator is seeded with
//! `SplitMix64(seed) ^ b`, which rand's `seed_from_u64` expands into the
//! generator's 256-bit state with SplitMix64 again; distinct blocks of one
//! seed thus get distinct, thoroughly mixed states, and hashing the seed
//! first keeps block 1 of seed 0 from being block 0 of seed 1. (A
//! cryptographic generator such as ChaCha, keyed by `(seed, b)`, would
//! make the streams provably independent, at several times the cost.) The
//! numbers for a seed are fixed for a given version of `rand`; rand
//! reserves the right to change `SmallRng`'s algorithm in a future major
//! version.
//!
//! The blocks are disjoint `&mut` slices of the output, handed to the
//! workers by [`Pool::map`]; nothing else is shared.
//!
//! Values are drawn with [`rand::distr::Uniform`], which is unbiased
//! (Lemire's method) and covers the full `i32` range when asked to.

use std::ops::RangeInclusive;

use rand::SeedableRng;
use rand::distr::{Distribution, Uniform};
use rand::rngs::SmallRng;
use weft_pool::Pool;

/// Elements per independently seeded block of [`populate_random`]. Part of
/// the output's definition: changing it changes the numbers a seed gives.
pub const RANDOM_BLOCK: usize = 256;

/// Returns `len` random integers drawn uniformly from `range`, filled in
/// parallel; the same `seed` gives the same numbers whatever the pool's
/// size.
///
/// The array is cut into blocks of [`RANDOM_BLOCK`] elements, and block `b`
/// is drawn from its own generator seeded from `(seed, b)` (see the module
/// documentation). The full range `i32::MIN..=i32::MAX` is
/// supported and uniform.
///
/// # Panics
///
/// If `range` is empty (`start > end`).
///
/// # Examples
///
/// ```
/// use weft_pool::Pool;
///
/// let one = weft_algorithms::populate_random(&Pool::new(1), 10_000, 0..=1000, 42);
/// let two = weft_algorithms::populate_random(&Pool::new(2), 10_000, 0..=1000, 42);
/// assert_eq!(one, two);
/// assert!(one.iter().all(|x| (0..=1000).contains(x)));
/// ```
pub fn populate_random(pool: &Pool, len: usize, range: RangeInclusive<i32>, seed: u64) -> Vec<i32> {
    let (low, high) = (*range.start(), *range.end());
    let uniform = Uniform::new_inclusive(low, high)
        .unwrap_or_else(|_| panic!("populate_random: the range {low}..={high} is empty"));
    let mut out = vec![0; len];
    pool.map(
        |(index, block): (usize, &mut [i32])| {
            let mut rng = block_rng(seed, index);
            for slot in block {
                *slot = uniform.sample(&mut rng);
            }
        },
        out.chunks_mut(RANDOM_BLOCK).enumerate(),
    );
    out
}

/// The generator of block `index`: see the module documentation.
fn block_rng(seed: u64, index: usize) -> SmallRng {
    SmallRng::seed_from_u64(splitmix64(seed) ^ index as u64)
}

/// One step of SplitMix64 (Steele, Lea and Flood, 2014): a bijective
/// scramble of a 64-bit value.
fn splitmix64(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

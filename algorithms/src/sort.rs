//! Parallel sort: the chapter's block sort, with the merge done in parallel
//! too.
//!
//! # Implementation
//!
//! The chapter's algorithm cuts the array into `T` blocks of `ceil(n / T)`
//! elements, sorts each block in its own thread, and merges the `T` sorted
//! blocks in `O(n log T)`. Here:
//!
//! 1. **Sort the blocks.** Each block is one item of [`Pool::map`] and is
//!    sorted in place with [`slice::sort_unstable`]. Blocks are disjoint
//!    `&mut` slices, so there is nothing to synchronize.
//! 2. **Merge in rounds, in parallel.** Round after round, neighbouring runs
//!    are merged in pairs (an odd run out is copied as it is), until one run
//!    is left: `ceil(log₂ T)` rounds of `n` element moves each, `O(n log
//!    T)` in total. A round reads one buffer and writes the other: the data
//!    and a scratch buffer of the same length take turns ("ping-pong"), so
//!    no element is moved twice per round. Every merge of a round is cut
//!    into pieces of about `n / (4 × workers)` outputs at merge-path split
//!    points (see the `merge` module), and all the pieces of the round go
//!    to the pool at once. So even the last round, a single merge of two
//!    halves, keeps every worker busy; in the chapter's version the parent
//!    merges alone, and on two cores that sequential `O(n)` merge would eat
//!    much of the speed-up.
//! 3. **End in the data.** The rounds alternate buffers, so with an odd
//!    number of rounds the last one would write the scratch buffer. In that
//!    case each block is first copied into the scratch buffer and sorted
//!    there (the copy is fused into the block's task), so that the last
//!    round writes the data.
//!
//! With two workers (`T = 2`) that is: copy and sort two halves in
//! parallel, then one merge cut into eight pieces, four per worker.
//!
//! # Moving, not cloning, and panics
//!
//! Elements move between the buffers as bitwise copies, so `T` need not be
//! `Copy` and nothing is cloned. At every moment exactly one buffer *owns*
//! the elements: the data before the first round writes anything, the
//! scratch buffer after a round that wrote it, the data again after a round
//! that wrote the data. A stage only reads the buffer that owns the
//! elements, so if a comparison panics, the owning buffer is still a
//! complete permutation: if that is the scratch buffer, its contents are
//! copied back into the data before the panic goes on. The data is thus
//! always left holding every element exactly once, as std's sorts promise.
//! The scratch buffer is an uninitialized `Box<[MaybeUninit<T>]>`, which
//! never drops what it holds; its pages are first touched by the workers
//! that fill them, in parallel.

use std::mem::{self, MaybeUninit};
use std::ops::Range;
use std::panic::{self, AssertUnwindSafe};
use std::ptr;

use weft_pool::Pool;

use crate::merge::{merge_into, split_point};

/// Below this length, [`sort`] calls `sort_unstable` on the calling thread
/// (small under Miri, so that its small tests still take the parallel
/// path).
const SEQUENTIAL_CUTOFF: usize = if cfg!(miri) { 64 } else { 1 << 14 };

/// Merge pieces per worker and round: a few, so that a worker slowed down
/// by another process does not hold the round back.
const PIECES_PER_WORKER: usize = 4;

/// The smallest merge piece worth a task (small under Miri, so that small
/// tests still cut merges into pieces).
const MIN_PIECE: usize = if cfg!(miri) { 8 } else { 1 << 12 };

/// Sorts `data` in parallel: one block per worker sorted in parallel with
/// `sort_unstable`, then a parallel merge of the sorted blocks. Not stable
/// (equal elements may be reordered).
///
/// Short slices (and one-worker pools) are sorted with
/// [`slice::sort_unstable`] on the calling thread. See [`sort_in_blocks`]
/// to choose the number of blocks.
///
/// If `T::cmp` panics, the panic is passed on to the caller and `data` is
/// left holding all its elements, in some order. Elements are moved, never
/// cloned: the `Clone` bound is part of the published signature, not
/// something the algorithm needs ([`sort_in_blocks`] does without it).
///
/// # Examples
///
/// ```
/// let pool = weft_pool::Pool::new(2);
/// let mut data: Vec<u64> = (0..100_000).map(|i| (i * 7919) % 100_003).collect();
/// weft_algorithms::sort(&pool, &mut data);
/// assert!(data.is_sorted());
/// ```
pub fn sort<T: Ord + Send + Clone>(pool: &Pool, data: &mut [T]) {
    if data.len() < SEQUENTIAL_CUTOFF || pool.workers() == 1 {
        data.sort_unstable();
    } else {
        sort_in_blocks(pool, data, pool.workers());
    }
}

/// The chapter's `sort_parallel(A, T)`: cuts `data` into `blocks` blocks of
/// `ceil(len / blocks)` elements, sorts them in parallel, and merges them
/// in `ceil(log₂ blocks)` parallel rounds. Not stable.
///
/// Any number of blocks works, whatever the pool's size: more blocks than
/// workers balance better when the workers are unevenly loaded, at the cost
/// of more merge rounds. With one block (or at most one element), this is
/// `sort_unstable`. As for [`sort`], a panicking `T::cmp` leaves `data`
/// holding all its elements.
///
/// # Panics
///
/// If `blocks` is zero, and if `T::cmp` panics.
///
/// # Examples
///
/// ```
/// let pool = weft_pool::Pool::new(2);
/// let mut words = vec!["pear", "fig", "apple", "kiwi", "date", "lime", "plum"];
/// weft_algorithms::sort_in_blocks(&pool, &mut words, 3);
/// assert_eq!(words, ["apple", "date", "fig", "kiwi", "lime", "pear", "plum"]);
/// ```
pub fn sort_in_blocks<T: Ord + Send>(pool: &Pool, data: &mut [T], blocks: usize) {
    assert!(blocks > 0, "sort_in_blocks needs at least one block, got 0");
    let len = data.len();
    let block = len.div_ceil(blocks).max(1);
    let mut runs: Vec<Range<usize>> = (0..len)
        .step_by(block)
        .map(|start| start..start.saturating_add(block).min(len))
        .collect();
    if runs.len() <= 1 {
        data.sort_unstable();
        return;
    }
    let rounds = runs.len().next_power_of_two().trailing_zeros();
    let mut scratch: Box<[MaybeUninit<T>]> = Box::new_uninit_slice(len);

    // Stage 1: sort the blocks, in the buffer the first round reads.
    let mut in_scratch = rounds % 2 == 1;
    if in_scratch {
        pool.map(
            |(from, to): (&mut [T], &mut [MaybeUninit<T>])| {
                copy_into(from, to);
                // SAFETY: `copy_into` initialized every element of `to`.
                unsafe { assume_init_mut(to) }.sort_unstable();
            },
            data.chunks_mut(block).zip(scratch.chunks_mut(block)),
        );
        // From here the scratch buffer owns the elements; `data` holds
        // stale copies. (Had a block's sort panicked, the panic would have
        // left `map` before this point, with `data` still owning
        // everything.)
    } else {
        pool.map(|run: &mut [T]| run.sort_unstable(), data.chunks_mut(block));
    }

    // Stage 2: merge rounds, alternating between the buffers.
    let piece = len
        .div_ceil(PIECES_PER_WORKER * pool.workers())
        .max(MIN_PIECE);
    while runs.len() > 1 {
        let round = if in_scratch {
            // The scratch buffer owns the elements: stage 1 or the previous
            // round wrote all of it. `data` only ever receives whole values
            // (bitwise copies of elements), never uninitialized bytes.
            // SAFETY: so the scratch is initialized, and viewing `data` as
            // uninitialized is sound.
            let (from, to) = unsafe { (assume_init_mut(&mut scratch), as_uninit_mut(data)) };
            panic::catch_unwind(AssertUnwindSafe(|| {
                merge_round(pool, from, to, &runs, piece);
            }))
        } else {
            panic::catch_unwind(AssertUnwindSafe(|| {
                merge_round(pool, data, &mut scratch, &runs, piece);
            }))
        };
        if let Err(payload) = round {
            if in_scratch {
                // The round was overwriting `data`: give the elements back
                // to it from the scratch buffer, which still owns them all.
                // SAFETY: both buffers are `len` long and distinct; the
                // overwritten values in `data` are stale copies, which must
                // not be dropped, and `copy_nonoverlapping` drops nothing.
                unsafe {
                    ptr::copy_nonoverlapping(scratch.as_ptr().cast::<T>(), data.as_mut_ptr(), len);
                }
            }
            panic::resume_unwind(payload);
        }
        runs = runs
            .chunks(2)
            .map(|pair| pair[0].start..pair[pair.len() - 1].end)
            .collect();
        in_scratch = !in_scratch;
    }
    debug_assert!(!in_scratch, "the last round writes the data");
}

/// One merge round: merges each pair of neighbouring runs of `from` (a
/// lone last run merges with nothing, which copies it) into the same
/// positions of `to`, in pieces of about `piece` outputs, all in
/// parallel. On return, `to` holds every element of `from`, the runs of
/// each pair merged.
fn merge_round<T: Ord + Send>(
    pool: &Pool,
    from: &mut [T],
    to: &mut [MaybeUninit<T>],
    runs: &[Range<usize>],
    piece: usize,
) {
    let mut pieces = Vec::new();
    let (mut from, mut to) = (from, to);
    for pair in runs.chunks(2) {
        let a_len = pair[0].len();
        let b_len = pair.get(1).map_or(0, |run| run.len());
        let (a, rest) = mem::take(&mut from).split_at_mut(a_len);
        let (b, rest) = rest.split_at_mut(b_len);
        from = rest;
        let (out, rest) = mem::take(&mut to).split_at_mut(a_len + b_len);
        to = rest;
        cut_merge(a, b, out, piece, &mut pieces);
    }
    pool.map(|(a, b, out)| merge_into(a, b, out), pieces);
}

/// One piece of a merge: two input runs and the output they fill.
type Piece<'a, T> = (&'a mut [T], &'a mut [T], &'a mut [MaybeUninit<T>]);

/// Cuts the merge of `a` and `b` into `out` into pieces of `piece` outputs
/// (the last one shorter) at merge-path split points, and appends them to
/// `pieces`. The pieces' inputs and outputs are disjoint slices, so they
/// can run in parallel.
fn cut_merge<'a, T: Ord>(
    a: &'a mut [T],
    b: &'a mut [T],
    out: &'a mut [MaybeUninit<T>],
    piece: usize,
    pieces: &mut Vec<Piece<'a, T>>,
) {
    let len = out.len();
    // Where each piece ends in `a`; it ends at `k - i` in `b` and at `k` in
    // `out`.
    let ends: Vec<(usize, usize)> = (1..len.div_ceil(piece))
        .map(|p| p * piece)
        .map(|k| (split_point(a, b, k), k))
        .chain([(a.len(), len)])
        .collect();
    let (mut a, mut b, mut out) = (a, b, out);
    let (mut i0, mut k0) = (0, 0);
    for (i, k) in ends {
        let (a_piece, a_rest) = mem::take(&mut a).split_at_mut(i - i0);
        let (b_piece, b_rest) = mem::take(&mut b).split_at_mut((k - i) - (k0 - i0));
        let (out_piece, out_rest) = mem::take(&mut out).split_at_mut(k - k0);
        (a, b, out) = (a_rest, b_rest, out_rest);
        pieces.push((a_piece, b_piece, out_piece));
        (i0, k0) = (i, k);
    }
}

/// Copies the bits of `from` into `to` (equally long), leaving `from` as it
/// is: the caller decides which copy owns the values.
fn copy_into<T>(from: &[T], to: &mut [MaybeUninit<T>]) {
    assert_eq!(from.len(), to.len());
    // SAFETY: both slices are `from.len()` long, and `to` is an exclusive
    // borrow, so they do not overlap; writing `MaybeUninit`s drops nothing.
    unsafe { ptr::copy_nonoverlapping(from.as_ptr(), to.as_mut_ptr().cast::<T>(), from.len()) };
}

/// Views an initialized slice of `MaybeUninit<T>` as a slice of `T`.
///
/// # Safety
///
/// Every element of `slice` must be initialized.
unsafe fn assume_init_mut<T>(slice: &mut [MaybeUninit<T>]) -> &mut [T] {
    // SAFETY: `MaybeUninit<T>` has the layout of `T`, and the caller
    // promises every element is initialized.
    unsafe { &mut *(ptr::from_mut(slice) as *mut [T]) }
}

/// Views a slice of `T` as a slice of `MaybeUninit<T>`, to be overwritten.
///
/// # Safety
///
/// The caller must write only initialized values of `T` through the
/// result (never `MaybeUninit::uninit()`), since `slice` is still a `&mut
/// [T]` once the result is gone. Writing through it drops nothing: values
/// it overwrites are forgotten.
unsafe fn as_uninit_mut<T>(slice: &mut [T]) -> &mut [MaybeUninit<T>] {
    // SAFETY: `MaybeUninit<T>` has the layout of `T`; the caller keeps the
    // elements initialized.
    unsafe { &mut *(ptr::from_mut(slice) as *mut [MaybeUninit<T>]) }
}

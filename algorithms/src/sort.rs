//! Parallel sort: the chapter's block sort, with the merge done in parallel
//! and in place.
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
//! 2. **Merge in rounds.** Round after round, neighbouring runs are merged
//!    in pairs (an odd run out waits for the next round), until one run is
//!    left: `ceil(log₂ T)` rounds.
//! 3. **Merge in place, by cutting each merge in two.** A merge of the
//!    neighbouring runs `A | B` is cut where its output is half full: by
//!    the merge-path split (see the `merge` module), the first `k = n / 2`
//!    outputs are the merge of `A[..i]` and `B[..k - i]` for one `i` found
//!    by binary search. Everything in `A[i..]` and `B[..k - i]` is in the
//!    wrong half, and swapping those two neighbouring pieces (a rotation;
//!    when `A` and `B` are equally long, an exchange of two equal blocks)
//!    leaves two independent merges, `A[..i] | B[..k - i]` in the first half
//!    and `A[i..] | B[k - i..]` in the second:
//!
//!    ```text
//!      A1  A2 | B1  B2      →      A1  B1 | A2  B2
//!      ╰ i ╯    ╰k-i╯              ╰── k ─╯
//!    ```
//!
//!    The sort's own task (see "On a worker") cuts level by level, each
//!    level's rotations all at once on the pool, until there are two
//!    merges per worker. Each of those is then one task, which goes on
//!    cutting on its own until its pieces are at most [`LEAF_BYTES`] long,
//!    and merges each piece through a buffer of that size: merge into the
//!    buffer, copy back.
//!
//! With two workers (`T = 2`) that is: sort the two halves in parallel;
//! exchange, in parallel pieces, the part of the first half that belongs in
//! the second with the part of the second that belongs in the first (on
//! random keys, a quarter of the data each); cut the two merges that leaves
//! once more; then run the four merges of about `n / 4` elements as tasks,
//! each cut further on its own.
//!
//! # On a worker
//!
//! [`sort_in_blocks`] hands its whole body to the pool as one task
//! ([`Pool::apply`]), and the calling thread only waits for it. The pool
//! calls of the sort (one for the blocks, then one per level of cuts) are
//! then made from one of the workers, which takes part in each of them
//! (see the pool's docs on nesting). Made from outside the pool, every one
//! of those calls would end with the caller being woken and the workers
//! going idle, and start with the workers being woken again; from a worker,
//! the thread that makes a call is already running on its core, and only
//! the other workers are woken. (The figures are in BENCHMARKS.md, "Design
//! measurements", algorithms.)
//!
//! # Why in place
//!
//! A merge into a second array of `n` elements is the textbook way. But a
//! fresh buffer of `n` elements is memory the kernel must map and zero
//! page by page on first touch, which costs a large share of the merge
//! itself. Cutting the merge into cache-size pieces replaces that with a
//! buffer of a few megabytes per task, reused, and a few extra rotations.
//!
//! **Cost.** A level of cuts rotates at most every element of the merge
//! once, and a merge is cut at most [`MAX_LEVELS`] times (its pieces are
//! allowed to grow beyond [`LEAF_BYTES`] rather than be cut further), so a
//! round is `O(n)` element moves and the whole merge stays `O(n log T)`. On
//! random keys a level rotates about half the elements.
//!
//! # Moving, not cloning, and panics
//!
//! Elements only move by swaps and rotations, which compare nothing, and
//! through the piece buffers, which hold bitwise copies: the merge writes
//! copies of the piece into the buffer, and only once the merge is complete
//! are they copied back over the piece. If `T::cmp` panics (in a binary
//! search or a merge), every element is still in `data` exactly once, and
//! the half-written buffer is forgotten without dropping anything. So
//! `data` is always left holding every element exactly once, as std's
//! sorts promise, and `T` need not be `Copy` or `Clone`.

use std::mem::{self, MaybeUninit};
use std::ptr;

use weft_pool::Pool;

use crate::merge::{merge_into, split_point};

/// Below this length, [`sort`] calls `sort_unstable` on the calling thread
/// (small under Miri, so that its small tests still take the parallel
/// path).
const SEQUENTIAL_CUTOFF: usize = if cfg!(miri) { 64 } else { 1 << 14 };

/// Merges per worker before the cutting goes on inside tasks: more than
/// one, so that a worker slowed down by another process does not hold the
/// round back, and few, since each level the sort's task cuts is one more
/// pool call.
const PIECES_PER_WORKER: usize = 2;

/// The size of the pieces a merge is cut into, and of each task's buffer.
/// Each level of cuts moves about half of the data, so fewer, larger
/// pieces pay off as long as a piece and its buffer stay in the shared
/// cache. Tiny under Miri, so that its small tests cut merges several
/// times.
const LEAF_BYTES: usize = if cfg!(miri) { 64 } else { 4 << 20 };

/// The most times a merge is cut in two: enough for the pieces of many
/// gigabytes, and a bound that keeps every round `O(n)`.
const MAX_LEVELS: u32 = 12;

/// The smallest exchange worth cutting into parallel tasks (small under
/// Miri, so that small tests cut them).
const MIN_EXCHANGE: usize = if cfg!(miri) { 4 } else { 1 << 13 };

/// Sorts `data` in parallel: one block per worker sorted in parallel with
/// `sort_unstable`, then a parallel, in-place merge of the sorted blocks.
/// Not stable (equal elements may be reordered).
///
/// Short slices (and one-worker pools) are sorted with
/// [`slice::sort_unstable`] on the calling thread. See [`sort_in_blocks`]
/// to choose the number of blocks. Besides `data`, the sort uses one buffer
/// of a few megabytes per worker.
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
    if block >= len {
        data.sort_unstable();
        return;
    }
    // The whole sort is one task, so that its pool calls are made from a
    // worker (see "On a worker" in the module docs). From a task of this
    // pool, `apply` runs it right here.
    pool.apply(|data: &mut [T]| sort_on_worker(pool, data, block), (data,));
}

/// The body of [`sort_in_blocks`]: sorts `data` in blocks of `block`
/// elements (fewer than `data.len()`) and merges them.
fn sort_on_worker<T: Ord + Send>(pool: &Pool, data: &mut [T], block: usize) {
    // Stage 1: sort the blocks.
    pool.map(|run: &mut [T]| run.sort_unstable(), data.chunks_mut(block));

    // Stage 2: merge neighbouring runs, round after round, in place.
    let mut runs: Vec<usize> = data.chunks(block).map(<[T]>::len).collect();
    while runs.len() > 1 {
        let mut merges = Vec::with_capacity(runs.len() / 2);
        let mut rest = &mut *data;
        for pair in runs.chunks(2) {
            let (span, tail) = mem::take(&mut rest).split_at_mut(pair.iter().sum());
            rest = tail;
            if let [first, _] = *pair {
                merges.push(Merge {
                    v: span,
                    mid: first,
                    depth: 0,
                });
            }
        }
        merge_in_place(pool, merges);
        runs = runs.chunks(2).map(|pair| pair.iter().sum()).collect();
    }
}

/// One merge still to do, in place: `v[..mid]` and `v[mid..]` are sorted
/// runs, to become one. `depth` counts the cuts that made it.
struct Merge<'a, T> {
    v: &'a mut [T],
    mid: usize,
    depth: u32,
}

impl<'a, T: Ord> Merge<'a, T> {
    /// Whether the two runs are already one: one is empty, or the first
    /// ends no higher than the second starts.
    fn is_done(&self) -> bool {
        self.mid == 0 || self.mid == self.v.len() || self.v[self.mid - 1] <= self.v[self.mid]
    }

    /// Whether this merge is cut in two rather than merged through a buffer
    /// of `leaf` elements.
    fn is_cut(&self, leaf: usize) -> bool {
        self.v.len() > leaf && self.depth < MAX_LEVELS
    }

    /// Where to cut: the length `k` of the first half, and the split point
    /// `i`, such that the first `k` outputs are `v[..i]` merged with
    /// `v[mid..mid + k - i]`.
    ///
    /// `k` is the middle, or the end of the first run when that is close to
    /// the middle: then the two pieces to swap are equally long
    /// (`mid - i` both), an exchange that cuts into parallel tasks.
    fn cut_point(&self) -> (usize, usize) {
        let half = self.v.len() / 2;
        let k = if self.mid.abs_diff(half) <= self.v.len() / 16 {
            self.mid
        } else {
            half
        };
        let (a, b) = self.v.split_at(self.mid);
        (k, split_point(a, b, k))
    }

    /// The part of `v` to rotate for the cut `(k, i)`, `A[i..]` then
    /// `B[..k - i]`, and the length of the first of the two.
    fn middle(&mut self, (k, i): (usize, usize)) -> (&mut [T], usize) {
        (&mut self.v[i..self.mid + (k - i)], self.mid - i)
    }

    /// The two merges that are left once the middle has been rotated.
    fn halves(self, (k, i): (usize, usize)) -> [Self; 2] {
        let (first, second) = self.v.split_at_mut(k);
        let depth = self.depth + 1;
        [
            Merge {
                v: first,
                mid: i,
                depth,
            },
            Merge {
                v: second,
                mid: self.mid - i,
                depth,
            },
        ]
    }

    /// Does the merge on this thread: cuts it until its pieces are at most
    /// `leaf` long (or were cut [`MAX_LEVELS`] times), and merges each piece
    /// through `buffer`, which should be `leaf` long or as long as `v`.
    fn run(mut self, buffer: &mut [MaybeUninit<T>], leaf: usize) {
        if self.is_done() {
            return;
        }
        if self.is_cut(leaf) {
            let cut = self.cut_point();
            let (middle, by) = self.middle(cut);
            middle.rotate_left(by);
            for half in self.halves(cut) {
                half.run(buffer, leaf);
            }
            return;
        }
        let len = self.v.len();
        if len > buffer.len() {
            // Cut MAX_LEVELS times and still longer than a piece (only in
            // merges of gigabytes): a buffer of its own.
            self.run(&mut Box::new_uninit_slice(len), leaf);
            return;
        }
        let out = &mut buffer[..len];
        let (a, b) = self.v.split_at(self.mid);
        merge_into(a, b, out);
        // The merge is complete: `out` holds a bitwise copy of every
        // element of `v`, in order. Copying it over `v` makes `v` the sorted
        // owner again, and the buffer is forgotten.
        // SAFETY: `out` and `v` are both `len` long and do not overlap (one
        // is the buffer); `copy_nonoverlapping` drops nothing, so each
        // element overwritten in `v` is one of the copies now in `out`.
        unsafe { ptr::copy_nonoverlapping(out.as_ptr().cast::<T>(), self.v.as_mut_ptr(), len) };
    }
}

/// One move of a cut, run as a task: the middle of a merge rotated, or a
/// part of it when the middle is an exchange of two equal pieces.
enum Move<'a, T> {
    Exchange(&'a mut [T], &'a mut [T]),
    Rotate(&'a mut [T], usize),
}

impl<T> Move<'_, T> {
    fn run(self) {
        match self {
            Move::Exchange(x, y) => x.swap_with_slice(y),
            Move::Rotate(v, by) => v.rotate_left(by),
        }
    }
}

/// Does every merge of a round: cuts them level by level, each level's
/// moves in parallel, until there are [`PIECES_PER_WORKER`] merges per
/// worker, then runs each as a task with its own buffer.
fn merge_in_place<T: Ord + Send>(pool: &Pool, mut merges: Vec<Merge<'_, T>>) {
    let leaf = (LEAF_BYTES / mem::size_of::<T>().max(1)).max(2);
    let wanted = PIECES_PER_WORKER * pool.workers();
    loop {
        merges.retain(|merge| !merge.is_done());
        if merges.len() >= wanted || !merges.iter().any(|merge| merge.is_cut(leaf)) {
            break;
        }
        let cuts: Vec<Option<(usize, usize)>> = merges
            .iter()
            .map(|merge| merge.is_cut(leaf).then(|| merge.cut_point()))
            .collect();
        let mut moves = Vec::new();
        for (merge, cut) in merges.iter_mut().zip(&cuts) {
            let Some(cut) = *cut else { continue };
            let (middle, by) = merge.middle(cut);
            if 2 * by == middle.len() {
                let (x, y) = middle.split_at_mut(by);
                let piece = by.div_ceil(wanted).max(MIN_EXCHANGE);
                moves.extend(
                    x.chunks_mut(piece)
                        .zip(y.chunks_mut(piece))
                        .map(|(x, y)| Move::Exchange(x, y)),
                );
            } else {
                moves.push(Move::Rotate(middle, by));
            }
        }
        pool.map(Move::run, moves);
        let mut halves = Vec::with_capacity(2 * merges.len());
        for (merge, cut) in merges.into_iter().zip(cuts) {
            match cut {
                Some(cut) => halves.extend(merge.halves(cut)),
                None => halves.push(merge),
            }
        }
        merges = halves;
    }
    pool.map_chunked(
        |merge: Merge<'_, T>| {
            let mut buffer = Box::new_uninit_slice(leaf.min(merge.v.len()));
            merge.run(&mut buffer, leaf);
        },
        merges,
        1,
    );
}

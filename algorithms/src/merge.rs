//! Merging sorted runs: the two-way merge kernel that [`sort`](crate::sort)
//! and [`merge_sorted`] share, the "merge path" split that lets several
//! workers share one merge, and the chapter's pairwise-rounds merge of `K`
//! sorted lists.
//!
//! # The kernel
//!
//! [`merge_into`] walks two sorted runs `a` and `b` and writes the smaller
//! head into the output, taking from `a` on ties (it runs two such walks at
//! once, on the two halves of the output, for instruction-level
//! parallelism). It moves elements by
//! copying their bits, not by `clone`: the output is a buffer of
//! `MaybeUninit<T>` and the inputs keep their bits, so after a merge every
//! value exists twice, once in the input and once in the output. Which copy
//! *owns* the value (may be used and dropped) is decided by the caller:
//! after a complete merge it is the output, and the input is forgotten
//! (its `Vec`'s length set to zero, or, in the sort, overwritten by the
//! output copied back into place). If
//! a comparison panics halfway, nothing has been given up yet: the inputs
//! still own everything, and the half-written output is forgotten. This is
//! how std's merge sort stays panic-safe without cloning. The choice of
//! which head to copy is written as a select, not a branch, so that the
//! compiler can avoid mispredicted jumps on random keys.
//!
//! # Splitting one merge among workers
//!
//! The first `k` outputs of merging `a` and `b` are `merge(a[..i], b[..k -
//! i])` for exactly one `i`, found by binary search ([`split_point`]): the
//! smallest `i` with `a[i] > b[k - i - 1]`. Cutting the output at `k₁ <
//! k₂ < ...` therefore cuts the merge into independent pieces, each of
//! which reads its own part of `a` and `b` and writes its own part of the
//! output (Odeh, Green, Mwassi, Shmueli and Birk, "Merge Path — Parallel
//! Merging Made Simple", IPDPSW 2012). The sort cuts its merges at these
//! points, in place, so that even its last merge, of two halves, keeps
//! every worker busy (see the `sort` module).
//!
//! # `merge_sorted`: pairwise rounds
//!
//! The chapter merges `K` sorted lists in rounds: pad the list of lists to
//! an even length with an empty list, pair list `K/2 + i` with list `i`,
//! merge every pair in parallel with `starmap`, and repeat on the `K/2`
//! results until one list is left. Each round moves all `N` elements once
//! and halves the number of lists, so the whole merge is `O(N log K)`. A
//! heap-based `K`-way merge (Python's `heapq.merge`) has the same bound, but
//! each of its steps is a sift through the heap with hard-to-predict
//! branches, where a two-way merge step is one comparison and one copy.
//! The last rounds have fewer pairs than workers; the chapter accepts
//! that, and so does [`merge_sorted`], which is its faithful version (the
//! sort above shows how to split a merge when it matters).

use std::mem::MaybeUninit;
use std::ptr;

use weft_pool::Pool;

/// Merges the sorted lists in `lists` into one sorted list, in the
/// chapter's pairwise rounds: pad to an even number of lists, merge list
/// `K/2 + i` with list `i` for every `i` in parallel with
/// [`Pool::starmap`], and repeat until one list is left.
///
/// An empty `lists` gives an empty list. Elements are moved, never cloned.
/// If a list is not sorted the result is still a permutation of all the
/// elements, just not sorted (debug builds check the lists and panic).
///
/// # Examples
///
/// ```
/// let pool = weft_pool::Pool::new(2);
/// let lists = vec![vec![1, 4, 9], vec![2, 3], vec![], vec![0, 5, 6, 7, 8]];
/// let merged = weft_algorithms::merge_sorted(&pool, lists);
/// assert_eq!(merged, (0..10).collect::<Vec<_>>());
/// ```
pub fn merge_sorted<T: Ord + Send>(pool: &Pool, mut lists: Vec<Vec<T>>) -> Vec<T> {
    debug_assert!(
        lists.iter().all(|list| list.is_sorted()),
        "merge_sorted: every input list must be sorted"
    );
    loop {
        match lists.len() {
            0 => return Vec::new(),
            1 => return lists.pop().expect("one list is left"),
            _ => {}
        }
        if lists.len() % 2 == 1 {
            lists.push(Vec::new());
        }
        // The chapter's `zip(Ls[k // 2:], Ls[:k // 2])`.
        let second_half = lists.split_off(lists.len() / 2);
        lists = pool.starmap(merge_two, second_half.into_iter().zip(lists));
    }
}

/// Merges two sorted vectors into a new one, moving their elements.
pub(crate) fn merge_two<T: Ord>(mut a: Vec<T>, mut b: Vec<T>) -> Vec<T> {
    let len = a.len() + b.len();
    let mut out = Vec::with_capacity(len);
    merge_into(&a, &b, &mut out.spare_capacity_mut()[..len]);
    // Had a comparison panicked we would not be here: `a` and `b` would
    // still own all their elements and `out`, at length zero, none.
    // `merge_into` returned, so it wrote all `len` outputs, bitwise copies
    // of every element of `a` and `b`.
    // SAFETY: `out` takes ownership of those values and the inputs give
    // them up (length zero), so each value is dropped once, by `out`.
    unsafe {
        a.set_len(0);
        b.set_len(0);
        out.set_len(len);
    }
    out
}

/// Writes the merge of the sorted runs `a` and `b` into `out`, taking from
/// `a` on ties, as bitwise copies (see the module documentation: the caller
/// decides which copy owns each value).
///
/// The output is cut into four quarters at merge-path split points, and
/// the four quarters are merged in one loop, a step of each per iteration:
/// each step's loads depend on the previous step's comparison, so one
/// merge waits on that chain, while independent ones overlap it (figures
/// in BENCHMARKS.md, "Design measurements", algorithms).
///
/// # Panics
///
/// If `out.len() != a.len() + b.len()`, and if `T::cmp` panics (then `out`
/// is partly written).
pub(crate) fn merge_into<T: Ord>(a: &[T], b: &[T], out: &mut [MaybeUninit<T>]) {
    assert_eq!(
        out.len(),
        a.len() + b.len(),
        "a merge's output must hold both inputs"
    );
    let len = out.len();
    let k1 = len / 4;
    let k2 = len / 2;
    let k3 = len - len / 4;
    let i1 = split_point(a, b, k1);
    let i2 = split_point(a, b, k2);
    let i3 = split_point(a, b, k3);
    let (o0, rest) = out.split_at_mut(k1);
    let (o1, rest) = rest.split_at_mut(k2 - k1);
    let (o2, o3) = rest.split_at_mut(k3 - k2);
    let mut c0 = Cursor::new(&a[..i1], &b[..k1 - i1], o0);
    let mut c1 = Cursor::new(&a[i1..i2], &b[k1 - i1..k2 - i2], o1);
    let mut c2 = Cursor::new(&a[i2..i3], &b[k2 - i2..k3 - i3], o2);
    let mut c3 = Cursor::new(&a[i3..], &b[k3 - i3..], o3);
    while c0.can_step() && c1.can_step() && c2.can_step() && c3.can_step() {
        c0.step();
        c1.step();
        c2.step();
        c3.step();
    }
    c0.finish();
    c1.finish();
    c2.finish();
    c3.finish();
}

/// A two-way merge in progress: `a[..i]` and `b[..j]` have been written to
/// `out[..i + j]`.
struct Cursor<'a, T> {
    a: &'a [T],
    b: &'a [T],
    /// The start of an exclusively borrowed `[MaybeUninit<T>]` of
    /// `a.len() + b.len()` slots.
    out: *mut T,
    i: usize,
    j: usize,
}

impl<'a, T: Ord> Cursor<'a, T> {
    fn new(a: &'a [T], b: &'a [T], out: &'a mut [MaybeUninit<T>]) -> Self {
        debug_assert_eq!(out.len(), a.len() + b.len());
        Cursor {
            a,
            b,
            out: out.as_mut_ptr().cast(),
            i: 0,
            j: 0,
        }
    }

    /// Whether both runs still have elements, so that [`step`](Self::step)
    /// may be called.
    #[inline(always)]
    fn can_step(&self) -> bool {
        self.i < self.a.len() && self.j < self.b.len()
    }

    /// Copies the smaller head (`a`'s on ties) to the output. Must only be
    /// called when [`can_step`](Self::can_step) is true.
    #[inline(always)]
    fn step(&mut self) {
        debug_assert!(self.can_step());
        // SAFETY: `can_step` holds, so `i` and `j` index `a` and `b`.
        let (x, y) = unsafe { (self.a.get_unchecked(self.i), self.b.get_unchecked(self.j)) };
        // Take from `b` only when strictly smaller, so ties keep `a` first;
        // a select rather than a branch, for unpredictable keys.
        let take_b = y < x;
        let next: *const T = if take_b { y } else { x };
        // SAFETY: `i + j < a.len() + b.len()`, the length of the output, so
        // the slot is in it; the output is exclusively borrowed, so it
        // overlaps neither input.
        unsafe { ptr::copy_nonoverlapping(next, self.out.add(self.i + self.j), 1) };
        self.i += usize::from(!take_b);
        self.j += usize::from(take_b);
    }

    /// Merges to the end: steps while both runs have elements, then copies
    /// the rest of the one that has not run out.
    fn finish(mut self) {
        while self.can_step() {
            self.step();
        }
        let (a_rest, b_rest) = (self.a.len() - self.i, self.b.len() - self.j);
        // `a[i..]` lands at `i + j .. a.len() + j` and `b[j..]` at
        // `a.len() + j .. a.len() + b.len()`.
        // SAFETY: both ranges are inside the output and disjoint (one is
        // empty), with no overlap with the inputs, as in `step`.
        unsafe {
            ptr::copy_nonoverlapping(
                self.a.as_ptr().add(self.i),
                self.out.add(self.i + self.j),
                a_rest,
            );
            ptr::copy_nonoverlapping(
                self.b.as_ptr().add(self.j),
                self.out.add(self.a.len() + self.j),
                b_rest,
            );
        }
    }
}

/// The merge path split: the `i` such that the first `k` outputs of
/// [`merge_into`]`(a, b, ..)` are exactly the merge of `a[..i]` and
/// `b[..k - i]`.
///
/// It is the smallest `i` in `k - b.len() ..= k.min(a.len())` with
/// `a[i] > b[k - i - 1]` (or the upper end if there is none): every element
/// of `a[..i]` and `b[..k - i]` then comes before every element of `a[i..]`
/// and `b[k - i..]`, with ties broken in favour of `a` as the kernel does.
///
/// `k` must be at most `a.len() + b.len()`.
pub(crate) fn split_point<T: Ord>(a: &[T], b: &[T], k: usize) -> usize {
    debug_assert!(k <= a.len() + b.len());
    let mut lo = k.saturating_sub(b.len());
    let mut hi = k.min(a.len());
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        // `lo <= mid < hi <= k` and `mid >= k - b.len()`, so
        // `k - mid - 1` is an index of `b` and `mid` one of `a`.
        if a[mid] <= b[k - mid - 1] {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    lo
}

#[cfg(test)]
mod tests {
    use std::cmp::Ordering;
    use std::mem::MaybeUninit;

    use super::merge_into;

    /// A key with a tag that the ordering ignores, to tell which run, and
    /// which place in it, each of several equal keys came from.
    #[derive(Clone, Copy, Debug)]
    struct Tagged {
        key: u8,
        tag: (char, usize),
    }

    impl PartialEq for Tagged {
        fn eq(&self, other: &Self) -> bool {
            self.key == other.key
        }
    }

    impl Eq for Tagged {}

    impl PartialOrd for Tagged {
        fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
            Some(self.cmp(other))
        }
    }

    impl Ord for Tagged {
        fn cmp(&self, other: &Self) -> Ordering {
            self.key.cmp(&other.key)
        }
    }

    /// Every pair of run lengths up to 9, on keys from a range of three, so
    /// that runs of equal keys straddle the split points between the four
    /// quarters: the output is always the stable merge, every equal key of
    /// `a` (in its order) before those of `b`.
    #[test]
    fn merge_into_is_the_stable_merge_at_every_length() {
        for a_len in 0..10 {
            for b_len in 0..10 {
                for seed in 0..4 {
                    let run = |side: char, len: usize| {
                        let mut run: Vec<Tagged> = (0..len)
                            .map(|i| Tagged {
                                key: ((i * 7 + seed * 5 + usize::from(side == 'b')) % 11 % 3) as u8,
                                tag: (side, i),
                            })
                            .collect();
                        // Stable: equal keys keep their tags in order.
                        run.sort();
                        run
                    };
                    let (a, b) = (run('a', a_len), run('b', b_len));
                    let mut expected = [a.clone(), b.clone()].concat();
                    expected.sort();

                    let mut out = vec![MaybeUninit::uninit(); a_len + b_len];
                    merge_into(&a, &b, &mut out);
                    let merged: Vec<Tagged> = out
                        .iter()
                        // SAFETY: `merge_into` returned, so it wrote every
                        // slot of `out`; `Tagged` is `Copy`.
                        .map(|slot| unsafe { slot.assume_init() })
                        .collect();
                    let tags = |v: &[Tagged]| v.iter().map(|t| (t.key, t.tag)).collect::<Vec<_>>();
                    assert_eq!(
                        tags(&merged),
                        tags(&expected),
                        "a: {a_len}, b: {b_len}, seed {seed}"
                    );
                }
            }
        }
    }
}

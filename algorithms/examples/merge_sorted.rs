//! Merging K sorted lists in parallel, in pairwise rounds with `starmap`.
//!
//! The chapter's divide and conquer: pair the lists up, merge every pair
//! at the same time on a pool, and repeat on the merged lists until one is
//! left. Each round halves the number of lists, so there are about
//! `log₂ K` rounds, each moving all `N` elements once: `O(N log K)` work.
//! To pair them, the chapter zips the second half of the lists with the
//! first half, after appending an empty list if their number is odd (an
//! empty list changes nothing in a merge). Since the merge function takes
//! two arguments and each pair is one tuple, the pool's `starmap` unpacks
//! the tuple into the arguments, where `map` would pass the tuple whole.
//!
//! The example prints the number of lists before each round, then checks
//! the result against the library's `merge_sorted`, which runs the same
//! rounds.
//!
//! Run with `cargo run -p weft-algorithms --example merge_sorted [-- K LEN]`.

use std::thread;

use rand::Rng;
use weft_pool::Pool;

/// Merges two sorted lists (Python's `list(heapq.merge(a, b))`).
fn single_merge(list_a: Vec<u32>, list_b: Vec<u32>) -> Vec<u32> {
    let mut out = Vec::with_capacity(list_a.len() + list_b.len());
    let (mut a, mut b) = (list_a.into_iter().peekable(), list_b.into_iter().peekable());
    while let (Some(x), Some(y)) = (a.peek(), b.peek()) {
        out.push(if y < x { b.next() } else { a.next() }.expect("peeked"));
    }
    out.extend(a);
    out.extend(b);
    out
}

fn merge(pool: &Pool, mut ls: Vec<Vec<u32>>) -> Vec<u32> {
    loop {
        let mut k = ls.len();
        println!("  {k} lists");
        if k == 1 {
            // Eventually, we end up in this case.
            return ls.pop().expect("one list");
        }
        if k % 2 == 1 {
            ls.push(Vec::new()); // make the number of lists even
            k += 1;
        }
        // Parallelize the merging step: zip(Ls[k // 2:], Ls[:k // 2]).
        let second_half = ls.split_off(k / 2);
        ls = pool.starmap(single_merge, second_half.into_iter().zip(ls));
    }
}

fn main() {
    let mut args = std::env::args()
        .skip(1)
        .map(|arg| arg.parse().expect("sizes must be numbers"));
    let k: usize = args.next().unwrap_or(11);
    let len: usize = args.next().unwrap_or(1000);
    let mut rng = rand::rng();
    let lists: Vec<Vec<u32>> = (0..k.max(1))
        .map(|_| {
            let mut list: Vec<u32> = (0..rng.random_range(0..=len))
                .map(|_| rng.random_range(0..10_000))
                .collect();
            list.sort_unstable();
            list
        })
        .collect();

    let pool = Pool::new(thread::available_parallelism().map_or(2, |p| p.get()));
    println!("merging {} sorted lists:", lists.len());
    let merged = merge(&pool, lists.clone());
    let library = weft_algorithms::merge_sorted(&pool, lists);
    println!(
        "{} elements, sorted: {}, same as weft_algorithms::merge_sorted: {}",
        merged.len(),
        merged.is_sorted(),
        merged == library
    );
    println!("first ten: {:?}", &merged[..merged.len().min(10)]);
}

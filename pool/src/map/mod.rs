//! `map` and its kin: splitting the input into chunks, running the chunks
//! on the workers, and putting the results back in order.
//!
//! # Implementation
//!
//! A call moves its items into a `Vec<T>` (a blocking call reuses the
//! pool's spare buffer for it, see `spare.rs`) and allocates a `Vec<R>` for
//! the results; chunk `i` takes the items `i * chunksize .. (i + 1) *
//! chunksize` (the last one shorter) out of the input buffer, calls `f` on
//! each and writes the result at the same index of the output buffer, so
//! the results come out in input order with no sorting and no per-item
//! allocation. `map_slice` maps over the caller's slice in place instead.
//! All of this is the chunk model, [`MapWork`](work::MapWork) (`work.rs`).
//!
//! **Claiming instead of queueing chunks.** A call does not push one job
//! per chunk. It pushes *tickets*, at most one per worker, all pointing to
//! the same descriptor; a worker that pops a ticket claims chunk after
//! chunk with a `fetch_add` on the descriptor's `next` counter until none
//! is left, then retires the ticket. So a call costs one lock acquisition
//! whatever its size, chunks are handed out in order (each is still a
//! contiguous run, run in order on one worker), and a call never has more
//! workers on it than it has tickets: `Pool::new(n)` runs up to `n` chunks
//! at once.
//!
//! The descriptor is what the two forms differ in:
//!
//! - `blocking.rs`: a blocking call's [`MapCall`] lives on the caller's
//!   stack and is waited for with a latch; a caller that is itself a worker
//!   runs chunks of its own call (nesting).
//! - `nonblocking.rs`: an async call's [`MapAsync`] lives in an `Arc`, and
//!   whoever finishes the last chunk completes the [`AsyncResult`].
//! - `feed.rs`: a blocking call over a long input of exact length starts
//!   its chunks while the caller is still collecting the items (*feeding*).
//!
//! # Memory ordering
//!
//! Items (or, for a borrowed slice, its elements) are written by the
//! caller before it pushes the tickets, and the queue's mutex publishes
//! them to the worker that pops a ticket; in a fed call, the feed's
//! Release/Acquire pair publishes each chunk's items (and a shortened
//! `len`) to the worker that waited for it. A chunk's results (and its
//! failure record, behind its own mutex) reach the thread that collects
//! them through the latch's Release/Acquire pair, or, for `MapAsync`,
//! through the `AcqRel` decrement of `remaining`: each chunk's decrement
//! releases its writes, and the one that reaches zero acquires all of
//! them. The claim counter `next` is `Relaxed`: it only decides who runs
//! which chunk, and the chunk's data is ordered by the edges above.
//!
//! [`AsyncResult`]: crate::AsyncResult

mod blocking;
mod feed;
mod nonblocking;
mod work;

pub(crate) use blocking::{MapCall, map_blocking};
pub(crate) use nonblocking::MapAsync;
pub(crate) use work::check_chunksize;
pub use work::default_chunksize;

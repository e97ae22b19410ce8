//! What the pool takes from `std` or, under `--cfg loom`, from loom: the
//! reference count, the threads and the thread-local that marks a worker.
//!
//! Atomics, cells and futex calls come from `weft_futex` like everywhere in
//! Weft; these three live here because only the pool needs them.

#[cfg(not(loom))]
pub(crate) use std::sync::Arc;
#[cfg(not(loom))]
pub(crate) use std::thread;

#[cfg(loom)]
pub(crate) use weft_futex::loom::sync::Arc;
#[cfg(loom)]
pub(crate) use weft_futex::loom::thread;

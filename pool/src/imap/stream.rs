//! The consumer's side of an imap: pulling the input, keeping a window of
//! chunks in flight, putting finished chunks in order, and waiting.
//!
//! # Implementation
//!
//! A [`Stream`] is driven by `next` alone, on whatever thread iterates:
//!
//! 1. Hand out the next result of the current chunk, if one is left.
//! 2. *Top up*: while fewer than [`window`] chunks are in flight (submitted
//!    and not yet taken as the current chunk), pull a chunk of items from
//!    the input and submit it (see `shared.rs`). The input is pulled here
//!    only, so it needs to be neither `Send` nor `'static`, and it is
//!    pulled only as fast as results are consumed.
//! 3. If nothing is in flight, the input is over: end, or raise the
//!    input's panic if it panicked.
//! 4. Otherwise wait for the next chunk (the oldest one for `imap`, any
//!    finished one for `imap_unordered`), make it the current chunk, and
//!    go back to 1.
//!
//! **Waiting inside a task.** A consumer running on one of the pool's own
//! workers must not simply sleep: on a one-worker pool nobody else would
//! run its chunks. So before it sleeps it takes one of its tickets back
//! out of the pool's queue and executes it itself (which runs the oldest
//! queued chunk of this imap); it sleeps only when none of its tickets is
//! queued any more, that is, when every chunk it waits for is running on
//! another worker. As with a nested `map`, it thus waits only for work it
//! started itself and that is already running, so it cannot deadlock (the
//! crate's design note says why).
//!
//! **Dropping** the stream stops the pulling; the chunks in flight keep
//! their tickets, which still run them, and the last reference to the
//! shared state (a ticket's, on a worker) drops their results, quietly.

use std::collections::VecDeque;
use std::mem;
use std::panic::{self, AssertUnwindSafe};

use weft_futex::sync::Arc;

use super::shared::{ChunkOutput, Finished, Shared};
use crate::error::TaskError;
use crate::panics::{drop_quietly, refuse};
use crate::registry::Registry;

/// How many chunks an imap on a pool of `workers` keeps in flight: enough
/// that every worker has a chunk running and another queued while the
/// consumer is busy with a third, and so that memory stays bounded however
/// long the input. Small under loom, so that its models reach a full
/// window.
pub(super) fn window(workers: usize) -> usize {
    if cfg!(loom) {
        2
    } else {
        workers.saturating_mul(2).saturating_add(2)
    }
}

/// The most items a chunk's buffer is allocated for up front; a chunk of
/// a very large `chunksize` grows as its items come.
const PREALLOCATE: usize = 1024;

/// The order in which a stream hands out its chunks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Order {
    /// Input order: `imap`.
    Input,
    /// The order the chunks finish in: `imap_unordered`.
    Finish,
}

/// An imap's consumer: the input, the window, and the chunks finished but
/// not yet handed out.
pub(super) struct Stream<'p, I: Iterator, R> {
    registry: &'p Registry,
    input: Input<I>,
    chunksize: usize,
    window: usize,
    shared: Arc<Shared<I::Item, R>>,
    /// The sequence number of the next chunk to submit.
    submitted: usize,
    /// Chunks submitted and not yet made current, and their items.
    in_flight: usize,
    in_flight_items: usize,
    /// The chunk whose results `next` hands out.
    current: Option<ChunkOutput<R>>,
    /// Finished chunks collected from the shared state, not yet current.
    ready: Ready<R>,
}

/// Where the input stands.
enum Input<I> {
    /// More items may come.
    Open(I),
    /// The iterator panicked; its panic is raised once the chunks before it
    /// are handed out.
    Panicked(TaskError),
    /// No more items.
    Ended,
}

/// Finished chunks waiting to become current: in `Order::Input`, slot `k`
/// holds chunk `front + k` once it has finished; in `Order::Finish`, the
/// chunks in the order they finished.
struct Ready<R> {
    order: Order,
    front: usize,
    chunks: VecDeque<Option<ChunkOutput<R>>>,
}

impl<'p, I, T, R> Stream<'p, I, R>
where
    I: Iterator<Item = T>,
{
    /// A stream of `f` over `input` in chunks of `chunksize`, on the pool
    /// of `registry`; nothing is pulled yet. Refuses the call ("pool is
    /// closed"), having dropped `f` and `input`, if the pool is closed.
    #[track_caller]
    pub(super) fn new<F>(
        registry: &'p Registry,
        f: F,
        input: I,
        chunksize: usize,
        order: Order,
    ) -> Self
    where
        T: Send + 'static,
        R: Send + 'static,
        F: Fn(T) -> R + Send + Sync + 'static,
    {
        if registry.injector.is_closed() {
            refuse(f, input);
        }
        Self {
            registry,
            input: Input::Open(input),
            chunksize,
            window: window(registry.workers()),
            shared: Arc::new(Shared::new(f)),
            submitted: 0,
            in_flight: 0,
            in_flight_items: 0,
            current: None,
            ready: Ready {
                order,
                front: 0,
                chunks: VecDeque::new(),
            },
        }
    }

    /// The next result; see the module docs.
    #[track_caller]
    pub(super) fn next(&mut self) -> Option<Result<R, TaskError>> {
        loop {
            if let Some(current) = &mut self.current {
                if let Some(result) = current.next() {
                    return Some(result);
                }
                self.current = None;
            }
            self.top_up();
            if self.in_flight == 0 {
                return match mem::replace(&mut self.input, Input::Ended) {
                    Input::Panicked(error) => panic::resume_unwind(error.into_panic()),
                    _ => None,
                };
            }
            let chunk = self.wait_for_chunk();
            self.in_flight -= 1;
            self.in_flight_items -= chunk.remaining();
            self.current = Some(chunk);
        }
    }

    /// Bounds on the number of results still to come.
    pub(super) fn size_hint(&self) -> (usize, Option<usize>) {
        let known = self.in_flight_items + self.current.as_ref().map_or(0, ChunkOutput::remaining);
        match &self.input {
            Input::Open(iter) => {
                let (lower, upper) = iter.size_hint();
                (
                    known.saturating_add(lower),
                    upper.and_then(|u| u.checked_add(known)),
                )
            }
            Input::Panicked(_) | Input::Ended => (known, Some(known)),
        }
    }

    /// Pulls and submits chunks until the window is full or the input is
    /// over.
    #[track_caller]
    fn top_up(&mut self) {
        while self.in_flight < self.window {
            let Some(items) = self.pull_chunk() else {
                return;
            };
            self.submit(items);
        }
    }

    /// Pulls up to `chunksize` items from the input; `None` if there are
    /// none. An iterator that ends or panics is dropped at once; its panic
    /// is kept for `next` to raise after the items pulled before it.
    fn pull_chunk(&mut self) -> Option<Vec<T>> {
        let Input::Open(iter) = &mut self.input else {
            return None;
        };
        let mut items = Vec::with_capacity(self.chunksize.min(PREALLOCATE));
        let chunksize = self.chunksize;
        let pulled = panic::catch_unwind(AssertUnwindSafe(|| {
            while items.len() < chunksize {
                match iter.next() {
                    Some(item) => items.push(item),
                    None => return false,
                }
            }
            true
        }));
        match pulled {
            Ok(true) => {}
            Ok(false) => drop(mem::replace(&mut self.input, Input::Ended)),
            Err(payload) => {
                let iter = mem::replace(&mut self.input, Input::Panicked(TaskError::new(payload)));
                // The iterator's own panic is the one reported.
                drop_quietly(iter);
            }
        }
        (!items.is_empty()).then_some(items)
    }

    /// Submits a chunk: queues it, then pushes its ticket. On a closed pool
    /// the chunk is taken back, and dropped with the input, quietly, before
    /// the panic "pool is closed"; the chunks in flight can still be
    /// collected.
    #[track_caller]
    fn submit(&mut self, items: Vec<T>) {
        let len = items.len();
        self.shared.queue(self.submitted, items);
        let ticket = Shared::ticket(&self.shared);
        if !self.registry.injector.push(ticket, 1) {
            // SAFETY: the pool refused the ticket, so it was never queued.
            unsafe { Shared::discard_ticket(&self.shared) };
            let items = self.shared.unqueue_last();
            let input = mem::replace(&mut self.input, Input::Ended);
            refuse(items, input);
        }
        self.submitted += 1;
        self.in_flight += 1;
        self.in_flight_items += len;
    }

    /// Waits until the next chunk to hand out has finished, and returns it.
    /// There is at least one chunk in flight.
    fn wait_for_chunk(&mut self) -> ChunkOutput<R> {
        loop {
            // Read before looking, so that a chunk finished after the look
            // changes the word from this value (see `shared.rs`).
            let seen = self.shared.reports();
            let ready = &mut self.ready;
            self.shared.collect_finished(|chunk| ready.put(chunk));
            if let Some(chunk) = self.ready.take() {
                return chunk;
            }
            if self.registry.is_current_worker() && self.run_a_chunk_here() {
                continue;
            }
            self.shared.wait_for_report(seen);
        }
    }

    /// Takes one of this stream's tickets back out of the pool's queue and
    /// runs it on this thread (which runs the oldest queued chunk);
    /// returns `false` if none was queued. See "Waiting inside a task".
    fn run_a_chunk_here(&mut self) -> bool {
        let owner = Shared::owner(&self.shared);
        let ticket = self
            .registry
            .injector
            .take(|queued| queued.iter().position(|job| job.owner() == owner));
        let Some(ticket) = ticket else {
            return false;
        };
        // SAFETY: the ticket was taken out of the queue, so this is its one
        // run.
        unsafe { ticket.run() };
        true
    }

    /// The chunk size.
    pub(super) fn chunksize(&self) -> usize {
        self.chunksize
    }

    /// The number of chunks in flight.
    pub(super) fn in_flight(&self) -> usize {
        self.in_flight
    }

    /// Whether the input may still yield items.
    pub(super) fn input_state(&self) -> &'static str {
        match self.input {
            Input::Open(_) => "open",
            Input::Panicked(_) => "panicked",
            Input::Ended => "ended",
        }
    }
}

impl<R> Ready<R> {
    /// Files a finished chunk.
    fn put(&mut self, chunk: Finished<R>) {
        let slot = match self.order {
            Order::Input => chunk.seq - self.front,
            Order::Finish => self.chunks.len(),
        };
        if slot >= self.chunks.len() {
            self.chunks.resize_with(slot + 1, || None);
        }
        self.chunks[slot] = Some(chunk.output);
    }

    /// The next chunk to hand out, if it has finished.
    fn take(&mut self) -> Option<ChunkOutput<R>> {
        let chunk = self.chunks.front_mut()?.take()?;
        self.chunks.pop_front();
        self.front += 1;
        Some(chunk)
    }
}

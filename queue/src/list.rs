//! The unbounded flavor: a linked list of blocks of slots.
//!
//! # Implementation
//!
//! The queue is a singly linked list of fixed-size blocks, each an array of
//! [`BLOCK_CAP`] slots; producers fill the tail block, consumers drain the
//! head block. This is the design of crossbeam-channel's list flavor (after
//! Vyukov's unbounded queue and Michael & Scott's linked queue). Memory is
//! reclaimed without a garbage collector: the consumers of a block free it
//! once every slot in it has been read, and a freed block is kept for the
//! next one a producer needs ([`block`] says how).
//!
//! **Positions.** `head` and `tail` each hold an index and a block pointer.
//! An index counts slots, shifted left by one to keep bit 0 for a flag:
//!
//! ```text
//!   index = (block_number * LAP + offset) << 1 | flag     offset < LAP
//!   offset in 0..BLOCK_CAP is a slot; offset == BLOCK_CAP (the one extra
//!   step of a lap) means "the next block is being installed, wait"
//!   flag in tail: CLOSED, the queue is closed
//!   flag in head: HAS_NEXT, the head block has a successor (is not the last)
//! ```
//!
//! **Push.** Claim the tail position with a compare-and-swap on the tail
//! index. The producer that claims the *last* slot of a block also installs
//! the next block (allocated beforehand, so nobody waits on an allocation
//! inside the critical window): it points `tail` at the new block and links
//! it from the old one. Producers that arrive meanwhile see offset
//! `BLOCK_CAP` and wait for the installation. Then the producer writes the
//! value and sets the slot's `written` flag.
//!
//! **Pop.** Claim the head position with a compare-and-swap on the head
//! index, unless the queue is empty (`head == tail`, checked only while the
//! head block has no successor). The consumer that claims the last slot of
//! a block moves `head` to the next block. Then it waits for the slot's
//! `written` flag (a producer may have claimed it and still be writing),
//! reads the value and does its part in freeing the block.
//!
//! As in the bounded flavor, the first attempt of each (not at a block's
//! last slot, compare-and-swap won) is inlined into the caller and the
//! loop is not; see "The fast path" in the `array` module.
//!
//! **Backing off.** A thread that must wait for another one to finish a
//! step (a slot claimed but not yet written, a block being installed)
//! pauses a little and then yields ([`SpinWait::snooze`]): the thread it
//! waits for may be the one that needs the core. A producer that loses the
//! tail's compare-and-swap does the same. A consumer that loses the head's
//! does not yield: it pauses, 1, 2, 4 and up to 64 times between tries
//! ([`SpinWait::pause`]). Whoever beat it is running and already done with
//! the head, so a yield would only give the core away (what the yield cost
//! there, and why producers keep theirs: BENCHMARKS.md, Design
//! measurements, queue).
//!
//! # Memory ordering
//!
//! A value is published by its slot's `written` flag (`Release` by the
//! producer, `Acquire` by the consumer). Blocks are published by `Release`
//! stores of the block pointers and the `next` link, read with `Acquire`;
//! freeing and recycling a block have orderings of their own ([`block`]).
//! As in the bounded flavor, the indices move with `SeqCst`
//! compare-and-swaps and the empty check reads `tail` after a `SeqCst`
//! fence: the Dekker pair with the sleep protocol in
//! [`crate::event_count`].

mod block;

use std::sync::atomic::Ordering::{AcqRel, Acquire, Relaxed, Release, SeqCst};

use crossbeam_utils::CachePadded;
use weft_futex::SpinWait;
use weft_futex::atomic::{AtomicPtr, AtomicUsize, fence};

use self::block::{BLOCK_CAP, Block, DESTROY, READ, Spares};
use crate::array::PopFail;

/// Steps in one lap of the index: one per slot, plus one that means "the
/// next block is being installed".
const LAP: usize = BLOCK_CAP + 1;

/// Indices are shifted by one to make room for a flag bit.
const SHIFT: usize = 1;
/// The flag bit of `tail`: the queue is closed.
const CLOSED: usize = 1;
/// The flag bit of `head`: the head block has a successor, so a pop need
/// not compare with `tail`.
const HAS_NEXT: usize = 1;

/// One end of the list.
struct Position<T> {
    /// Shifted slot index and flag; see the module documentation.
    index: AtomicUsize,
    block: AtomicPtr<Block<T>>,
}

impl<T> Position<T> {
    fn new(block: *mut Block<T>) -> Self {
        Self {
            index: AtomicUsize::new(0),
            block: AtomicPtr::new(block),
        }
    }

    /// The index, and the block it is in (or a newer one).
    #[inline(always)]
    fn load(&self) -> (usize, *mut Block<T>) {
        // Acquire (both): pair with the Release stores that install a block
        // (at the tail) or move to the next one (at the head), which store
        // the block before the index; so a fresh index comes with its block.
        (self.index.load(Acquire), self.block.load(Acquire))
    }
}

/// An unbounded MPMC queue without locks; like the bounded one, a pop on a
/// claimed slot not yet written waits for its producer.
pub(crate) struct List<T> {
    head: CachePadded<Position<T>>,
    tail: CachePadded<Position<T>>,
    /// Freed blocks kept for reuse.
    spares: CachePadded<Spares<T>>,
}

// SAFETY: each value is written by one producer and read by one consumer,
// handed over through its slot's `written` flag; blocks are freed by
// exactly one thread after every read. `T: Send` lets values change
// threads.
unsafe impl<T: Send> Sync for List<T> {}
// SAFETY: as above.
unsafe impl<T: Send> Send for List<T> {}

impl<T> List<T> {
    pub(crate) fn new() -> Self {
        // The first block is allocated up front, so no push has to race to
        // install it.
        let first = Box::into_raw(Block::new());
        Self {
            head: CachePadded::new(Position::new(first)),
            tail: CachePadded::new(Position::new(first)),
            spares: CachePadded::new(Spares::new()),
        }
    }

    /// Pushes `value`, or hands it back if the queue is closed.
    ///
    /// The first attempt is inlined into the caller: when the tail is in
    /// the middle of a block and no other producer moves it first, a push
    /// is two loads, the compare-and-swap, the write and the `written` flag.
    /// Everything else (contention, the last slot of a block, a closed
    /// queue) goes round the loop of [`push_slow`](Self::push_slow).
    #[inline]
    pub(crate) fn push(&self, value: T) -> Result<(), T> {
        // Acquire (both): as in `Position::load`. SeqCst: as in `push_slow`.
        let tail = self.tail.index.load(Acquire);
        let block = self.tail.block.load(Acquire);
        let offset = (tail >> SHIFT) % LAP;
        // Not closed, and not the last slot, whose producer installs the
        // next block (nor the installing step after it).
        if tail & CLOSED == 0
            && offset + 1 < BLOCK_CAP
            && self
                .tail
                .index
                .compare_exchange_weak(tail, tail + (1 << SHIFT), SeqCst, Acquire)
                .is_ok()
        {
            // SAFETY: the compare-and-swap gave us slot `offset` of the
            // tail block, which was `block`: it changes only when the index
            // crosses a block boundary, and the index was still `tail`.
            unsafe { Self::write(block, offset, value) };
            return Ok(());
        }
        self.push_slow(value)
    }

    /// Writes `value` into a claimed slot and publishes it.
    ///
    /// # Safety
    ///
    /// The caller claimed slot `offset` of the live block `block` with the
    /// compare-and-swap on the tail index.
    #[inline(always)]
    unsafe fn write(block: *mut Block<T>, offset: usize, value: T) {
        // SAFETY: the claim gave us this slot alone; the block stays live
        // until it is read.
        let slot = unsafe { &(*block).slots[offset] };
        // SAFETY: nobody reads the slot before `written` is set.
        slot.value.with_mut(|v| unsafe { (*v).write(value) });
        // Release: publishes the value to the consumer.
        slot.written.store(true, Release);
    }

    /// The loop behind [`push`](Self::push).
    #[inline(never)]
    fn push_slow(&self, value: T) -> Result<(), T> {
        let mut spin = SpinWait::new();
        let (mut tail, mut block) = self.tail.load();
        let mut next_block: Option<Box<Block<T>>> = None;

        loop {
            if tail & CLOSED != 0 {
                return Err(value);
            }
            let offset = (tail >> SHIFT) % LAP;

            // Another producer is installing the next block.
            if offset == BLOCK_CAP {
                spin.snooze();
                (tail, block) = self.tail.load();
                continue;
            }

            // Allocate before claiming the last slot, so that the window in
            // which others wait for the new block holds no allocation.
            if offset + 1 == BLOCK_CAP && next_block.is_none() {
                next_block = Some(self.spares.block());
            }

            let new_tail = tail + (1 << SHIFT);
            // SeqCst: the producer's half of the Dekker pair with sleeping
            // consumers. Acquire on failure: the fresh index comes with its
            // block below.
            match self
                .tail
                .index
                .compare_exchange_weak(tail, new_tail, SeqCst, Acquire)
            {
                Ok(_) => {
                    if offset + 1 == BLOCK_CAP {
                        // We claimed the last slot: install the next block.
                        // Skipping one index step leaves offset BLOCK_CAP
                        // behind, so the next lap starts at offset 0.
                        let next = Box::into_raw(next_block.take().expect("allocated above"));
                        // Release (all three): publish the new block. The
                        // index moves with an add, not a store, so that a
                        // concurrent `close` keeps its flag.
                        self.tail.block.store(next, Release);
                        self.tail.index.fetch_add(1 << SHIFT, Release);
                        // SAFETY: `block` is the tail block we claimed a slot
                        // of; it cannot be freed before that slot is read.
                        unsafe { (*block).next.store(next, Release) };
                    }
                    // SAFETY: the compare-and-swap gave us this slot of
                    // `block` alone.
                    unsafe { Self::write(block, offset, value) };
                    // A block allocated for a boundary that another producer
                    // crossed is freed here, by its own thread, which keeps
                    // it in a thread cache of the allocator; the spare slots
                    // are left to the blocks that consumers free.
                    drop(next_block);
                    return Ok(());
                }
                Err(current) => {
                    tail = current;
                    // Acquire: as in `Position::load`.
                    block = self.tail.block.load(Acquire);
                    spin.snooze();
                }
            }
        }
    }

    /// Pops without blocking. A closed queue still yields what it holds.
    ///
    /// As in [`push`](Self::push), the first attempt is inlined: a head in
    /// the middle of a block, not lost to another consumer. The rest is
    /// [`try_pop_slow`](Self::try_pop_slow).
    #[inline]
    pub(crate) fn try_pop(&self) -> Result<T, PopFail> {
        // Acquire (both): as in `Position::load`. SeqCst: as in
        // `try_pop_slow`.
        let head = self.head.index.load(Acquire);
        let block = self.head.block.load(Acquire);
        let offset = (head >> SHIFT) % LAP;
        // Not the last slot, whose consumer moves head to the next block
        // (nor the step in which that happens).
        if offset + 1 < BLOCK_CAP {
            let new_head = self.next_head(head)?;
            if self
                .head
                .index
                .compare_exchange_weak(head, new_head, SeqCst, Acquire)
                .is_ok()
            {
                // SAFETY: the compare-and-swap gave us slot `offset` of the
                // head block, which was `block` (it changes only when the
                // index crosses a block boundary); not its last slot.
                return Ok(unsafe { self.read(block, offset) });
            }
        }
        self.try_pop_slow()
    }

    /// The head index after a pop from `head`, or why there is nothing to
    /// pop: without `HAS_NEXT`, head may be at the tail.
    #[inline(always)]
    fn next_head(&self, head: usize) -> Result<usize, PopFail> {
        let mut new_head = head + (1 << SHIFT);
        if new_head & HAS_NEXT == 0 {
            // SeqCst fence: the consumer's half of the Dekker pair.
            fence(SeqCst);
            let tail = self.tail.index.load(Relaxed);
            if head >> SHIFT == tail >> SHIFT {
                return Err(if tail & CLOSED != 0 {
                    PopFail::Closed
                } else {
                    PopFail::Empty
                });
            }
            // Head and tail in different blocks: the head block has a
            // successor, remember it so later pops skip this check.
            if (head >> SHIFT) / LAP != (tail >> SHIFT) / LAP {
                new_head |= HAS_NEXT;
            }
        }
        Ok(new_head)
    }

    /// Reads a claimed slot and does this consumer's part in freeing the
    /// block.
    ///
    /// # Safety
    ///
    /// The caller claimed slot `offset` of the live block `block` with the
    /// compare-and-swap on the head index, and, if it is the last slot,
    /// has moved head to the next block.
    #[inline(always)]
    unsafe fn read(&self, block: *mut Block<T>, offset: usize) -> T {
        // SAFETY: the claim gave us this slot alone; the block is freed
        // only after we mark it read.
        let slot = unsafe { &(*block).slots[offset] };
        slot.wait_write();
        // SAFETY: `written` is set (Acquire), so the value is initialized, and
        // no other consumer owns this slot.
        let value = slot.value.with(|v| unsafe { (*v).assume_init_read() });

        // AcqRel, setting `READ`: Release puts our read of the value before
        // the free, for a destroyer that sees the bit; Acquire takes over
        // the walk of a destroyer that stopped here.
        if offset + 1 == BLOCK_CAP {
            // SAFETY: we read the last slot; we start the destruction.
            unsafe { Block::destroy(&self.spares, block, 0) };
        } else if slot.state.fetch_or(READ, AcqRel) & DESTROY != 0 {
            // SAFETY: the destroyer stopped at our slot and handed the walk
            // to us.
            unsafe { Block::destroy(&self.spares, block, offset + 1) };
        }
        value
    }

    /// The loop behind [`try_pop`](Self::try_pop).
    #[inline(never)]
    fn try_pop_slow(&self) -> Result<T, PopFail> {
        let mut spin = SpinWait::new();
        let mut lost = SpinWait::new();
        let (mut head, mut block) = self.head.load();

        loop {
            let offset = (head >> SHIFT) % LAP;

            // Another consumer is moving head to the next block.
            if offset == BLOCK_CAP {
                spin.snooze();
                (head, block) = self.head.load();
                continue;
            }

            let new_head = self.next_head(head)?;

            // SeqCst: as in `push`.
            match self
                .head
                .index
                .compare_exchange_weak(head, new_head, SeqCst, Acquire)
            {
                Ok(_) => {
                    if offset + 1 == BLOCK_CAP {
                        // We claimed the last slot: move head to the next
                        // block.
                        // SAFETY: `block` is live: its last slot is ours and
                        // unread.
                        let next = unsafe { (*block).wait_next() };
                        let mut next_index = (new_head & !HAS_NEXT).wrapping_add(1 << SHIFT);
                        // SAFETY: `next` was linked by the producer that
                        // installed it and is not freed before its slots
                        // are read, which needs head to reach it first.
                        if !unsafe { (*next).next.load(Relaxed) }.is_null() {
                            next_index |= HAS_NEXT;
                        }
                        // Release: publish the new head block.
                        self.head.block.store(next, Release);
                        self.head.index.store(next_index, Release);
                    }

                    // SAFETY: the compare-and-swap gave us this slot of
                    // `block`; if it is the last, head has moved on above.
                    return Ok(unsafe { self.read(block, offset) });
                }
                Err(current) => {
                    head = current;
                    // Acquire: as in `Position::load`.
                    block = self.head.block.load(Acquire);
                    // Lost to another consumer: pause, never yield (see
                    // "Backing off").
                    lost.pause();
                }
            }
        }
    }

    /// Sets the closed flag; returns `true` if this call set it.
    pub(crate) fn close(&self) -> bool {
        // SeqCst: sleepers must see it, like a push.
        self.tail.index.fetch_or(CLOSED, SeqCst) & CLOSED == 0
    }

    pub(crate) fn is_closed(&self) -> bool {
        self.tail.index.load(SeqCst) & CLOSED != 0
    }

    /// The number of values in the queue at one instant.
    pub(crate) fn len(&self) -> usize {
        loop {
            // tail, head, tail again: an unchanged tail means head was read
            // while tail held that value, a consistent pair.
            let tail = self.tail.index.load(SeqCst);
            let head = self.head.index.load(SeqCst);
            if self.tail.index.load(SeqCst) == tail {
                let tail = slots_before((tail & !CLOSED) >> SHIFT);
                let head = slots_before((head & !HAS_NEXT) >> SHIFT);
                return tail.wrapping_sub(head);
            }
        }
    }
}

/// How many slots come before the index `steps` (each lap is BLOCK_CAP
/// slots plus the one "installing" step), so that the difference of two
/// is a number of values.
fn slots_before(steps: usize) -> usize {
    let (laps, offset) = (steps / LAP, steps % LAP);
    laps * BLOCK_CAP + offset.min(BLOCK_CAP)
}

impl<T> Drop for List<T> {
    fn drop(&mut self) {
        // `&mut self`: no other thread is inside; Relaxed is enough.
        let mut head = self.head.index.load(Relaxed) & !HAS_NEXT;
        let tail = self.tail.index.load(Relaxed) & !CLOSED;
        let mut block = self.head.block.load(Relaxed);

        while head >> SHIFT != tail >> SHIFT {
            let offset = (head >> SHIFT) % LAP;
            if offset < BLOCK_CAP {
                // SAFETY: positions from head to tail were written (no
                // thread is mid-push under `&mut self`) and never read.
                unsafe {
                    let slot = &mut (*block).slots[offset];
                    slot.value.get_mut().assume_init_drop();
                }
            } else {
                // SAFETY: a fully consumed block, reached from `head`, owned
                // by the queue; its successor was linked when installed.
                unsafe {
                    let next = (*block).next.load(Relaxed);
                    drop(Box::from_raw(block));
                    block = next;
                }
            }
            head = head.wrapping_add(1 << SHIFT);
        }
        if !block.is_null() {
            // SAFETY: the tail block, owned by the queue.
            drop(unsafe { Box::from_raw(block) });
        }
        // The spare blocks go with `spares`.
    }
}

/// Models of the list alone, without the blocking layer: a consumer that
/// finds nothing yields and tries again. Under loom a block has two slots,
/// so a handful of values crosses block boundaries.
#[cfg(all(test, loom))]
mod tests {
    use weft_futex::loom::{self, thread};
    use weft_futex::sync::Arc;

    use super::{BLOCK_CAP, List};

    /// A producer pushes `n` values while a consumer pops them: each comes
    /// out once, in order, and then the list is empty.
    fn stream(n: u32) {
        loom::model(move || {
            let list = Arc::new(List::new());
            let producer = {
                let list = list.clone();
                thread::spawn(move || {
                    for i in 0..n {
                        assert!(list.push(i).is_ok(), "nobody closes the list");
                    }
                })
            };
            for i in 0..n {
                let value = loop {
                    match list.try_pop() {
                        Ok(value) => break value,
                        Err(_) => thread::yield_now(),
                    }
                };
                assert_eq!(value, i);
            }
            producer.join().unwrap();
            assert!(list.try_pop().is_err(), "every value was popped");
        });
    }

    /// Three values cross a block boundary: the producer installs the
    /// second block while the consumer may be moving the head onto it and
    /// freeing the first.
    #[test]
    fn values_cross_a_block_boundary_once_each_and_in_order() {
        assert_eq!(BLOCK_CAP, 2, "the models count on two slots a block");
        stream(3);
    }

    /// With four values the producer takes a third block as it claims the
    /// last slot of the second, when the consumer may have freed the first:
    /// the model installs a recycled block in some orders and a fresh one
    /// in others.
    #[test]
    fn a_recycled_block_serves_like_a_fresh_one() {
        stream(4);
    }
}

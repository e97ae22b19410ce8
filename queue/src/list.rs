//! The unbounded flavor: a linked list of blocks of slots.
//!
//! # Implementation
//!
//! The queue is a singly linked list of fixed-size blocks, each an array of
//! [`BLOCK_CAP`] slots; producers fill the tail block, consumers drain the
//! head block. This is the design of crossbeam-channel's list flavor (after
//! Vyukov's unbounded queue and Michael & Scott's linked queue). Memory is
//! reclaimed without a garbage collector: the consumers of a block free it
//! once every slot in it has been read.
//!
//! **Positions.** `head` and `tail` each hold an index and a block pointer.
//! An index counts slots, shifted left by one to keep bit 0 for a flag:
//!
//! ```text
//!   index = (block_number * LAP + offset) << 1 | flag     offset < LAP
//!   offset in 0..BLOCK_CAP is a slot; offset == BLOCK_CAP (the one extra
//!   step of a lap) means "the next block is being installed, wait"
//!   flag in tail: the queue is closed
//!   flag in head: the head block has a successor (so it is not the last)
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
//! reads the value and sets the `READ` bit of the slot's `state`.
//!
//! As in the bounded flavor, the first attempt of each (not at a block's
//! last slot, compare-and-swap won) is inlined into the caller and the
//! loop is not; see "The fast path" in the `array` module.
//!
//! **Freeing a block.** A block can go once every one of its slots has been
//! read, but the consumers of its slots finish in any order. The consumer of
//! the last slot starts the destruction: it walks the other slots, and for
//! each one not yet `READ` it sets `DESTROY` and stops, handing the job to
//! that slot's consumer. A consumer that sets `READ` and finds `DESTROY`
//! already set resumes the walk from the next slot. Whoever reaches the end
//! frees the block: exactly one thread, after every read.
//!
//! **Recycling a block.** Freeing a block and allocating the next one goes
//! through the allocator once per [`BLOCK_CAP`] values, and whether that
//! memory comes back warm or as fresh pages depends on which allocator
//! arena each thread got: a producer and a consumer streaming through the
//! queue ran anywhere between 16 and 38 ns per value for that reason alone.
//! So the thread that frees a block first offers it to one of the queue's
//! few `spare` slots (a compare-and-swap from null), and a producer that
//! needs a block first takes a spare one (a swap to null), resets its slot
//! states and link, and only allocates when there is none. With several
//! producers and consumers the spares also keep the threads out of the
//! allocator's arena lock, on which freeing threads were found sleeping. A
//! spare slot is a plain handoff of dead memory: nobody may touch a block
//! once it is freed, recycled or not, so reuse adds no case that the
//! freeing rule above does not already cover.
//!
//! **Backing off.** A thread that must wait for another one to finish a
//! step (a slot claimed but not yet written, a block being installed)
//! pauses a little and then yields ([`snooze`]): the thread it waits for
//! may be the one that needs the core. A producer that loses the tail's
//! compare-and-swap does the same. A consumer that loses the head's does
//! not yield: it pauses, 1, 2, 4 and up to 64 times between tries
//! ([`lost_head`]). Whoever beat it is running and already done with the
//! head, so a yield would only give the core away, and with more threads
//! than cores it went to a producer: the backlog grew and every value was
//! read from colder memory (BENCHMARKS.md has the measurements).
//! Producers that only paused measured no better, so they keep the yield.
//!
//! # Memory ordering
//!
//! A value is published by its slot's `written` flag (`Release` by the
//! producer, `Acquire` by the consumer). Blocks are published by `Release`
//! stores of the block pointers and the `next` link, read with `Acquire`.
//! The `READ` and `DESTROY` bits use `AcqRel` read-modify-writes, so the
//! thread that frees a block happens after every read of its slots. As in
//! the bounded flavor, the indices move with `SeqCst` compare-and-swaps and
//! the empty check reads `tail` after a `SeqCst` fence: the Dekker pair with
//! the sleep protocol in [`crate::signal`]. A recycled block is handed over
//! by a `Release` compare-and-swap into its spare slot and an `Acquire`
//! swap out of it, so every read of its old values happens before the
//! producer that takes it writes anything.

use core::mem::MaybeUninit;
use core::ptr;
use std::sync::atomic::Ordering::{AcqRel, Acquire, Relaxed, Release, SeqCst};

use crossbeam_utils::CachePadded;
use weft_futex::atomic::{AtomicBool, AtomicPtr, AtomicU32, AtomicUsize, fence};
use weft_futex::{SpinWait, UnsafeCell};

use crate::array::{PopFail, snooze};

/// The bits of a slot's `state`.
const READ: u32 = 1;
const DESTROY: u32 = 2;

/// Steps in one lap of the index: one per slot, plus one that means "the
/// next block is being installed". Small under loom, so that a model with a
/// handful of values crosses a block boundary.
///
/// 63 slots a block: what a block costs (its allocation or a spare, the
/// walk that frees it, the head's move to the next block) is paid once per
/// 63 values. Against 31 slots, one producer and one consumer went from
/// 21.4 to 13.5 ns per value, four producers and one consumer from 16.0 to
/// 13.2 ns (medians of four alternated criterion runs); a block of `u64`s,
/// 1 KiB, still fits the allocator's per-thread cache. With 127 slots
/// (2 KiB blocks) those two measured 11.4 and 11.8 ns, but a single thread
/// that pushes millions of values before popping them went from 13.7 to
/// 21.5 ns: the allocator handed the freed blocks back to the kernel and
/// faulted them in again, four times as many page faults.
#[cfg(not(loom))]
const LAP: usize = 64;
#[cfg(loom)]
const LAP: usize = 3;

/// Slots in a block.
pub(crate) const BLOCK_CAP: usize = LAP - 1;

/// How many freed blocks a queue keeps for reuse: enough for a few
/// consumers freeing blocks while producers install new ones. One under
/// loom, where each slot multiplies the states to explore.
const SPARE_BLOCKS: usize = if cfg!(loom) { 1 } else { 4 };

/// The longest back-off of a consumer that lost the head, as a power of
/// two: 64 pauses.
const MAX_LOST_PAUSE: u32 = 6;

/// Indices are shifted by one to make room for the flag bit.
const SHIFT: usize = 1;
/// In `tail`: closed. In `head`: the head block has a successor.
const FLAG: usize = 1;

/// A slot: the value, and two words for the three parties that touch it.
///
/// Only the producer writes `written`, so it sets it with a plain store;
/// `READ` (by the consumer) and `DESTROY` (by the thread freeing the block)
/// can race, so they share `state` and are set with read-modify-writes. A
/// single word for all three, as crossbeam-channel has, would make the
/// producer's flag a read-modify-write as well: `DESTROY` may already be
/// set when a slow producer finishes its write, and a store would erase
/// it. The two words fit where one `usize` was, so a slot of a `u64` stays
/// 16 bytes. That is one locked instruction less per push: one thread
/// pushing millions of values and then popping them went from 12.2 to
/// 11.1 ns per value (medians of eight alternated criterion runs), while
/// four producers and four consumers went from 10.8 to 11.5 ns, their
/// faster producers contending harder for the tail.
struct Slot<T> {
    value: UnsafeCell<MaybeUninit<T>>,
    /// Set once the value is written.
    written: AtomicBool,
    /// `READ` and `DESTROY` bits.
    state: AtomicU32,
}

impl<T> Slot<T> {
    /// Waits until the producer that claimed this slot has written it.
    fn wait_write(&self) {
        let mut spin = SpinWait::new();
        // Acquire: pairs with the producer's Release store of `written`.
        while !self.written.load(Acquire) {
            snooze(&mut spin);
        }
    }
}

struct Block<T> {
    /// The next block, once installed.
    next: AtomicPtr<Block<T>>,
    slots: [Slot<T>; BLOCK_CAP],
}

impl<T> Block<T> {
    fn new() -> Box<Self> {
        Box::new(Self {
            next: AtomicPtr::new(ptr::null_mut()),
            slots: core::array::from_fn(|_| Slot {
                value: UnsafeCell::new(MaybeUninit::uninit()),
                written: AtomicBool::new(false),
                state: AtomicU32::new(0),
            }),
        })
    }

    /// Waits until the next block is linked.
    fn wait_next(&self) -> *mut Self {
        let mut spin = SpinWait::new();
        loop {
            // Acquire: pairs with the Release store of the link in `push`.
            let next = self.next.load(Acquire);
            if !next.is_null() {
                return next;
            }
            snooze(&mut spin);
        }
    }

    /// Continues freeing `block` from slot `start` on; see "Freeing a
    /// block".
    ///
    /// # Safety
    ///
    /// `block` must be a live block whose slots before `start` (and its last
    /// slot) have all been read, and the caller must be the one thread
    /// entitled to continue its destruction.
    unsafe fn destroy(list: &List<T>, block: *mut Self, start: usize) {
        // The last slot's consumer started the destruction, so that slot
        // needs no mark.
        for i in start..BLOCK_CAP - 1 {
            // SAFETY: the block is live until this function frees it; the
            // caller's entitlement means nobody else frees it meanwhile.
            let slot = unsafe { &(*block).slots[i] };
            // AcqRel: if the slot was read, Acquire makes its read happen
            // before the free; if not, Release hands our walk to its reader.
            if slot.state.load(Acquire) & READ == 0
                && slot.state.fetch_or(DESTROY, AcqRel) & READ == 0
            {
                // The slot's consumer is still reading; it will resume.
                return;
            }
        }
        // SAFETY: every slot has been read and nobody else holds the block;
        // it was created by `Box::into_raw`.
        unsafe { list.recycle(block) };
    }
}

/// One end of the list.
struct Position<T> {
    /// Shifted slot index and flag; see the module documentation.
    index: AtomicUsize,
    block: AtomicPtr<Block<T>>,
}

/// An unbounded MPMC queue without locks; like the bounded one, a pop on a
/// claimed slot not yet written waits for its producer.
pub(crate) struct List<T> {
    head: CachePadded<Position<T>>,
    tail: CachePadded<Position<T>>,
    /// Freed blocks kept for the next ones producers need, each slot a
    /// block or null; see "Recycling a block".
    spare: CachePadded<[AtomicPtr<Block<T>>; SPARE_BLOCKS]>,
}

// SAFETY: each value is written by one producer and read by one consumer,
// handed over through its slot's `written` flag; blocks are freed by exactly one
// thread after every read. `T: Send` lets values change threads.
unsafe impl<T: Send> Sync for List<T> {}
// SAFETY: as above.
unsafe impl<T: Send> Send for List<T> {}

impl<T> List<T> {
    pub(crate) fn new() -> Self {
        // The first block is allocated up front, so no push has to race to
        // install it.
        let first = Box::into_raw(Block::new());
        Self {
            head: CachePadded::new(Position {
                index: AtomicUsize::new(0),
                block: AtomicPtr::new(first),
            }),
            tail: CachePadded::new(Position {
                index: AtomicUsize::new(0),
                block: AtomicPtr::new(first),
            }),
            spare: CachePadded::new(core::array::from_fn(|_| AtomicPtr::new(ptr::null_mut()))),
        }
    }

    /// A block ready to install: a spare one, reset, or a new one.
    fn new_block(&self) -> Box<Block<T>> {
        let spare = self.spare.iter().find_map(|slot| {
            // A Relaxed look first, so an empty slot costs no write.
            if slot.load(Relaxed).is_null() {
                return None;
            }
            // Acquire: pairs with the Release in `recycle`, so every read of
            // the block's old values happens before we reuse its memory.
            let block = slot.swap(ptr::null_mut(), Acquire);
            (!block.is_null()).then_some(block)
        });
        let Some(spare) = spare else {
            return Block::new();
        };
        // SAFETY: a spare block is dead (every slot read, nobody holds it)
        // and was made by `Box::into_raw`; the swap made it ours alone.
        let block = unsafe { Box::from_raw(spare) };
        // Relaxed: the block is not shared again until it is installed with
        // the Release stores in `push`.
        block.next.store(ptr::null_mut(), Relaxed);
        for slot in &block.slots {
            slot.written.store(false, Relaxed);
            slot.state.store(0, Relaxed);
        }
        block
    }

    /// Keeps a dead block in a free spare slot, or frees it if there is
    /// none.
    ///
    /// # Safety
    ///
    /// `block` came from `Box::into_raw`, every slot of it holding a value
    /// has been read, and no thread will touch it again.
    unsafe fn recycle(&self, block: *mut Block<T>) {
        let kept = self.spare.iter().any(|slot| {
            // Release: pairs with the Acquire swap in `new_block`.
            slot.load(Relaxed).is_null()
                && slot
                    .compare_exchange(ptr::null_mut(), block, Release, Relaxed)
                    .is_ok()
        });
        if !kept {
            // SAFETY: guaranteed by the caller; every spare slot is taken.
            drop(unsafe { Box::from_raw(block) });
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
        // Acquire (both) and SeqCst: as in `push_slow`.
        let tail = self.tail.index.load(Acquire);
        let block = self.tail.block.load(Acquire);
        let offset = (tail >> SHIFT) % LAP;
        // Not closed, and not the last slot, whose producer installs the
        // next block (nor the installing step after it).
        if tail & FLAG == 0
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
        let mut tail = self.tail.index.load(Acquire);
        // Acquire: pairs with the Release store that installed the block.
        let mut block = self.tail.block.load(Acquire);
        let mut next_block: Option<Box<Block<T>>> = None;

        loop {
            if tail & FLAG != 0 {
                return Err(value);
            }
            let offset = (tail >> SHIFT) % LAP;

            // Another producer is installing the next block.
            if offset == BLOCK_CAP {
                snooze(&mut spin);
                tail = self.tail.index.load(Acquire);
                block = self.tail.block.load(Acquire);
                continue;
            }

            // Allocate before claiming the last slot, so that the window in
            // which others wait for the new block holds no allocation.
            if offset + 1 == BLOCK_CAP && next_block.is_none() {
                next_block = Some(self.new_block());
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
                Err(now) => {
                    tail = now;
                    block = self.tail.block.load(Acquire);
                    snooze(&mut spin);
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
        // Acquire (both) and SeqCst: as in `try_pop_slow`.
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
    /// pop: without the successor flag, head may be at the tail.
    #[inline(always)]
    fn next_head(&self, head: usize) -> Result<usize, PopFail> {
        let mut new_head = head + (1 << SHIFT);
        if new_head & FLAG == 0 {
            // SeqCst fence: the consumer's half of the Dekker pair.
            fence(SeqCst);
            let tail = self.tail.index.load(Relaxed);
            if head >> SHIFT == tail >> SHIFT {
                return Err(if tail & FLAG != 0 {
                    PopFail::Closed
                } else {
                    PopFail::Empty
                });
            }
            // Head and tail in different blocks: the head block has a
            // successor, remember it so later pops skip this check.
            if (head >> SHIFT) / LAP != (tail >> SHIFT) / LAP {
                new_head |= FLAG;
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

        if offset + 1 == BLOCK_CAP {
            // SAFETY: we read the last slot; we start the destruction.
            unsafe { Block::destroy(self, block, 0) };
        } else if slot.state.fetch_or(READ, AcqRel) & DESTROY != 0 {
            // SAFETY: the destroyer stopped at our slot and handed the walk
            // to us.
            unsafe { Block::destroy(self, block, offset + 1) };
        }
        value
    }

    /// The loop behind [`try_pop`](Self::try_pop).
    #[inline(never)]
    fn try_pop_slow(&self) -> Result<T, PopFail> {
        let mut spin = SpinWait::new();
        let mut lost = 0;
        let mut head = self.head.index.load(Acquire);
        let mut block = self.head.block.load(Acquire);

        loop {
            let offset = (head >> SHIFT) % LAP;

            // Another consumer is moving head to the next block.
            if offset == BLOCK_CAP {
                snooze(&mut spin);
                head = self.head.index.load(Acquire);
                block = self.head.block.load(Acquire);
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
                        let mut next_index = (new_head & !FLAG).wrapping_add(1 << SHIFT);
                        // SAFETY: `next` was linked by the producer that
                        // installed it and is not freed before its slots
                        // are read, which needs head to reach it first.
                        if !unsafe { (*next).next.load(Relaxed) }.is_null() {
                            next_index |= FLAG;
                        }
                        // Release: publish the new head block.
                        self.head.block.store(next, Release);
                        self.head.index.store(next_index, Release);
                    }

                    // SAFETY: the compare-and-swap gave us this slot of
                    // `block`; if it is the last, head has moved on above.
                    return Ok(unsafe { self.read(block, offset) });
                }
                Err(now) => {
                    head = now;
                    block = self.head.block.load(Acquire);
                    lost_head(&mut lost);
                }
            }
        }
    }

    /// Sets the closed flag; returns `true` if this call set it.
    pub(crate) fn close(&self) -> bool {
        // SeqCst: sleepers must see it, like a push.
        self.tail.index.fetch_or(FLAG, SeqCst) & FLAG == 0
    }

    pub(crate) fn is_closed(&self) -> bool {
        self.tail.index.load(SeqCst) & FLAG != 0
    }

    /// The number of values in the queue at one instant.
    pub(crate) fn len(&self) -> usize {
        loop {
            // tail, head, tail again: an unchanged tail means head was read
            // while tail held that value, a consistent pair.
            let tail = self.tail.index.load(SeqCst);
            let head = self.head.index.load(SeqCst);
            if self.tail.index.load(SeqCst) == tail {
                let tail = slots_before((tail & !FLAG) >> SHIFT);
                let head = slots_before((head & !FLAG) >> SHIFT);
                return tail.wrapping_sub(head);
            }
        }
    }
}

/// Backs off after losing the head's compare-and-swap to another
/// consumer: `1 << lost` pauses (at most [`MAX_LOST_PAUSE`] doublings),
/// never a yield. See "Backing off" in the module documentation.
#[inline]
fn lost_head(lost: &mut u32) {
    if cfg!(loom) {
        // A lost compare-and-swap means another thread moved on; the model
        // only needs to be allowed to run it.
        weft_futex::yield_now();
        return;
    }
    for _ in 0..1u32 << *lost {
        weft_futex::spin_loop();
    }
    *lost = (*lost + 1).min(MAX_LOST_PAUSE);
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
        let mut head = self.head.index.load(Relaxed) & !FLAG;
        let tail = self.tail.index.load(Relaxed) & !FLAG;
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
        for slot in self.spare.iter() {
            let spare = slot.load(Relaxed);
            if !spare.is_null() {
                // SAFETY: a dead block the queue kept, made by
                // `Box::into_raw`.
                drop(unsafe { Box::from_raw(spare) });
            }
        }
    }
}

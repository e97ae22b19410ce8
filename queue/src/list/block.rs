//! The blocks of the unbounded list: their slots, how the consumers of a
//! block free it between them, and the spare blocks kept for reuse.
//!
//! **Freeing a block.** A block can go once every one of its slots has been
//! read, but the consumers of its slots finish in any order. The consumer of
//! the last slot starts the destruction: it walks the other slots, and for
//! each one not yet `READ` it sets `DESTROY` and stops, handing the job to
//! that slot's consumer. A consumer that sets `READ` and finds `DESTROY`
//! already set resumes the walk from the next slot. Whoever reaches the end
//! frees the block: exactly one thread, after every read.
//!
//! **Recycling a block.** Freeing a block and allocating the next one would
//! go through the allocator once per [`BLOCK_CAP`] values, and whether that
//! memory comes back warm or as fresh pages depends on which allocator
//! arena each thread got; with several producers and consumers, the threads
//! would also meet on the arena's lock (BENCHMARKS.md, Design measurements,
//! queue). So the thread that frees a block first offers it to one of the
//! queue's few [`Spares`] (a compare-and-swap from null), and a producer
//! that needs a block first takes a spare one (a swap to null), resets its
//! slot states and link, and only allocates when there is none. A spare is
//! a plain handoff of dead memory: nobody may touch a block once it is
//! freed, recycled or not, so reuse adds no case that the freeing rule
//! above does not already cover.
//!
//! # Memory ordering
//!
//! The `READ` and `DESTROY` bits use `AcqRel` read-modify-writes, so the
//! thread that frees a block happens after every read of its slots. A
//! recycled block is handed over by a `Release` compare-and-swap into its
//! spare slot and an `Acquire` swap out of it, so every read of its old
//! values happens before the producer that takes it writes anything.

use core::mem::MaybeUninit;
use core::ptr;
#[cfg(not(loom))]
use std::alloc::{self, Layout};
use std::sync::atomic::Ordering::{AcqRel, Acquire, Relaxed, Release};

use weft_futex::atomic::{AtomicBool, AtomicPtr, AtomicU32};
use weft_futex::{SpinWait, UnsafeCell};

/// A bit of a slot's `state`: its consumer has read it.
pub(super) const READ: u32 = 1;
/// A bit of a slot's `state`: the thread freeing the block stopped here,
/// and the slot's consumer is to go on with the walk.
pub(super) const DESTROY: u32 = 2;

/// Slots in a block: what a block costs (its allocation or a spare, the
/// walk that frees it, the head's move to the next block) is paid once per
/// 63 values, and a block of `u64`s, 1 KiB, still fits the allocator's
/// per-thread cache (why not 31 or 127: BENCHMARKS.md, Design measurements,
/// queue). Two under loom, so that a model with a handful of values crosses
/// a block boundary.
#[cfg(not(loom))]
pub(super) const BLOCK_CAP: usize = 63;
#[cfg(loom)]
pub(super) const BLOCK_CAP: usize = 2;

/// How many freed blocks a queue keeps for reuse: enough for a few
/// consumers freeing blocks while producers install new ones. One under
/// loom, where each spare multiplies the states to explore.
const SPARE_BLOCKS: usize = if cfg!(loom) { 1 } else { 4 };

/// A slot: the value, and two words for the three parties that touch it.
///
/// Only the producer writes `written`, so it sets it with a plain store;
/// `READ` (by the consumer) and `DESTROY` (by the thread freeing the block)
/// can race, so they share `state` and are set with read-modify-writes. A
/// single word for all three, as crossbeam-channel has, would make the
/// producer's flag a read-modify-write as well: `DESTROY` may already be
/// set when a slow producer finishes its write, and a store would erase
/// it. The two words together take the room of one `usize`, so a slot of a
/// `u64` is 16 bytes, and a push saves a locked instruction (the figures
/// are in BENCHMARKS.md, Design measurements, queue).
pub(super) struct Slot<T> {
    pub(super) value: UnsafeCell<MaybeUninit<T>>,
    /// Set once the value is written.
    pub(super) written: AtomicBool,
    /// `READ` and `DESTROY` bits.
    pub(super) state: AtomicU32,
}

impl<T> Slot<T> {
    /// Waits until the producer that claimed this slot has written it.
    pub(super) fn wait_write(&self) {
        let mut spin = SpinWait::new();
        // Acquire: pairs with the producer's Release store of `written`.
        while !self.written.load(Acquire) {
            spin.snooze();
        }
    }
}

/// [`BLOCK_CAP`] slots and the link to the next block.
pub(super) struct Block<T> {
    /// The next block, once installed.
    pub(super) next: AtomicPtr<Block<T>>,
    pub(super) slots: [Slot<T>; BLOCK_CAP],
}

impl<T> Block<T> {
    /// An empty block, made on the heap.
    ///
    /// A block is [`BLOCK_CAP`] values large, so building it on the stack
    /// and moving it into a `Box`, as `Box::new` does without
    /// optimizations, would overflow a thread's stack for values of a few
    /// tens of KiB. All-zero memory is an empty block (a null link, slot
    /// flags clear, values uninitialized), so it comes zeroed from the
    /// allocator.
    #[cfg(not(loom))]
    pub(super) fn new() -> Box<Self> {
        let layout = Layout::new::<Self>();
        // SAFETY: the layout's size is not zero: a block holds atomics.
        let block = unsafe { alloc::alloc_zeroed(layout) }.cast::<Self>();
        if block.is_null() {
            alloc::handle_alloc_error(layout);
        }
        // SAFETY: the global allocator gave this memory for a `Self`, as a
        // `Box` of it asks for, and all-zero bytes are a valid `Self`: a
        // null pointer, `false` and `0` in the atomics (plain integers in
        // memory), and `MaybeUninit` values, which need no initialization.
        unsafe { Box::from_raw(block) }
    }

    /// An empty block. Under loom the atomics and cells are the model's
    /// own objects, which must be made by their constructors.
    #[cfg(loom)]
    pub(super) fn new() -> Box<Self> {
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
    pub(super) fn wait_next(&self) -> *mut Self {
        let mut spin = SpinWait::new();
        loop {
            // Acquire: pairs with the Release store of the link in `push`.
            let next = self.next.load(Acquire);
            if !next.is_null() {
                return next;
            }
            spin.snooze();
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
    pub(super) unsafe fn destroy(spares: &Spares<T>, block: *mut Self, start: usize) {
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
        unsafe { spares.recycle(block) };
    }
}

/// Freed blocks kept for the next ones producers need, each entry a block
/// or null; see "Recycling a block".
pub(super) struct Spares<T>([AtomicPtr<Block<T>>; SPARE_BLOCKS]);

impl<T> Spares<T> {
    pub(super) fn new() -> Self {
        Self(core::array::from_fn(|_| AtomicPtr::new(ptr::null_mut())))
    }

    /// A block ready to install: a spare one, reset, or a new one.
    pub(super) fn block(&self) -> Box<Block<T>> {
        let spare = self.0.iter().find_map(|slot| {
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
        let kept = self.0.iter().any(|slot| {
            // Release: pairs with the Acquire swap in `block`.
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
}

impl<T> Drop for Spares<T> {
    fn drop(&mut self) {
        for slot in &self.0 {
            // Relaxed: `&mut self`, no other thread is inside.
            let spare = slot.load(Relaxed);
            if !spare.is_null() {
                // SAFETY: a dead block the queue kept, made by
                // `Box::into_raw`.
                drop(unsafe { Box::from_raw(spare) });
            }
        }
    }
}

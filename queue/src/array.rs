//! The bounded flavor: a ring of slots with sequence stamps.
//!
//! # Implementation
//!
//! This is Dmitry Vyukov's bounded MPMC queue ("Bounded MPMC queue",
//! 1024cores.net, 2010), in the form crossbeam-channel's array flavor gave
//! it: any capacity, not only powers of two, and a "closed" bit in the tail.
//!
//! **Positions.** `head` (next slot to read) and `tail` (next slot to
//! write) only grow. Each is a *lap* and an *index* packed in one word:
//!
//! ```text
//!   position = lap * one_lap + index      index < capacity
//!   one_lap  = 2 * closed_bit             closed_bit = (capacity + 1).next_power_of_two()
//!   tail also carries closed_bit: set once the queue is closed
//! ```
//!
//! Moving past the last index goes to index 0 of the next lap. Counting laps
//! is what lets a slot tell a full ring from an empty one.
//!
//! **Slots.** Every slot has a `stamp` that says whose turn it is:
//!
//! - `stamp == position`: the slot is free for the producer at `position`
//!   (initially slot `i` has stamp `i`, lap 0);
//! - `stamp == position + 1`: it holds the value for the consumer at
//!   `position`;
//! - after reading, the consumer sets `stamp = position + one_lap`: free for
//!   the producer one lap later.
//!
//! **Push.** Read `tail` and its slot's stamp. If `stamp == tail`, the slot
//! is free: claim it by moving `tail` forward with a compare-and-swap, write
//! the value, then publish it with `stamp = tail + 1`. If the stamp is one
//! lap behind (`stamp + one_lap == tail + 1`), the consumer of the previous
//! lap has not read the slot yet: the queue is full if `head` confirms it
//! (`head + one_lap == tail`). Any other stamp means another producer got
//! there first; reload and retry.
//!
//! **Pop** is the mirror image: `stamp == head + 1` means a value waits;
//! claim it by moving `head`, read, and free the slot for the next lap.
//! `stamp == head` means the slot is not written yet: the queue is empty if
//! `tail` equals `head`; otherwise a producer has claimed the slot and is
//! writing it right now, and the consumer waits a moment for it. That short
//! wait is what makes "a `push` that returned is visible to every later
//! `pop`" true.
//!
//! **The fast path.** The first attempt of a push or pop (slot ready,
//! compare-and-swap won) is a few instructions, and it is `#[inline]`d into
//! the caller, down through [`Queue`](crate::Queue) and the channel
//! handles; the retry loop and the waiting machinery are separate functions
//! that are not, so that their size does not keep the attempt out of line
//! (what that saves: BENCHMARKS.md, Design measurements, queue).
//!
//! # Memory ordering
//!
//! The value itself is published by the stamp: the producer writes the value
//! and then stores the stamp with `Release`; a consumer loads the stamp with
//! `Acquire` before it reads the value. The same pair in the other direction
//! (consumer's `Release` store of the next-lap stamp, producer's `Acquire`
//! load) makes sure a producer never overwrites a value still being read.
//!
//! `head` and `tail` move with `SeqCst` compare-and-swaps, and the full and
//! empty checks read the other index after a `SeqCst` fence: this flavor's
//! half of the Dekker pair that keeps a sleeper from missing its wake-up
//! (see [`crate::event_count`]).

use core::mem::MaybeUninit;
use std::sync::atomic::Ordering::{Acquire, Relaxed, Release, SeqCst};

use crossbeam_utils::CachePadded;
use weft_futex::atomic::{AtomicUsize, fence};
use weft_futex::{SpinWait, UnsafeCell};

/// One cell of the ring.
struct Slot<T> {
    /// Whose turn it is; see the module documentation.
    stamp: AtomicUsize,
    /// Initialized exactly when `stamp == position + 1` for some position.
    value: UnsafeCell<MaybeUninit<T>>,
}

/// Why a push did not happen.
pub(crate) enum PushFail<T> {
    Full(T),
    Closed(T),
}

/// Why a pop did not happen.
pub(crate) enum PopFail {
    Empty,
    Closed,
}

/// A bounded MPMC queue without locks (see the module documentation for
/// the one wait it has: a pop on a claimed slot not yet written).
pub(crate) struct Array<T> {
    /// Next position to read.
    head: CachePadded<AtomicUsize>,
    /// Next position to write; `closed_bit` set once closed.
    tail: CachePadded<AtomicUsize>,
    buffer: Box<[Slot<T>]>,
    capacity: usize,
    /// Set in `tail` once the queue is closed: the bit just above the
    /// largest index, so `closed_bit - 1` masks a position's index.
    closed_bit: usize,
    /// Adding `one_lap` to a position moves it to the same index one lap on.
    one_lap: usize,
}

/// Values cross threads through the queue, so it is shareable when they may
/// be sent.
// SAFETY: every value is written by one producer and read by one consumer,
// handed over through the stamps (Release/Acquire), so no value is ever
// accessed by two threads at once; `T: Send` lets it change threads.
unsafe impl<T: Send> Sync for Array<T> {}
// SAFETY: as above; owning the queue owns its values.
unsafe impl<T: Send> Send for Array<T> {}

impl<T> Array<T> {
    /// A queue holding at most `capacity` values.
    ///
    /// Panics if `capacity` is zero, or too large to index or to allocate;
    /// the allocation is tried fallibly so a huge capacity panics with a
    /// message instead of aborting the process.
    pub(crate) fn new(capacity: usize) -> Self {
        assert!(capacity > 0, "capacity must be non-zero");
        let closed_bit = capacity
            .checked_add(1)
            .and_then(usize::checked_next_power_of_two)
            .filter(|m| m.checked_mul(4).is_some())
            .unwrap_or_else(|| panic!("capacity {capacity} is too large for a bounded queue"));
        let mut slots = Vec::new();
        if slots.try_reserve_exact(capacity).is_err() {
            panic!(
                "cannot allocate a bounded queue of capacity {capacity} ({} bytes)",
                capacity.saturating_mul(size_of::<Slot<T>>())
            );
        }
        slots.extend((0..capacity).map(|i| Slot {
            stamp: AtomicUsize::new(i),
            value: UnsafeCell::new(MaybeUninit::uninit()),
        }));
        Self {
            head: CachePadded::new(AtomicUsize::new(0)),
            tail: CachePadded::new(AtomicUsize::new(0)),
            buffer: slots.into_boxed_slice(),
            capacity,
            closed_bit,
            one_lap: closed_bit * 2,
        }
    }

    pub(crate) fn capacity(&self) -> usize {
        self.capacity
    }

    /// The position one step after `position` (which carries no closed
    /// bit).
    #[inline]
    fn next(&self, position: usize) -> usize {
        let index = position & (self.closed_bit - 1);
        if index + 1 < self.capacity {
            position + 1
        } else {
            // Index 0 of the next lap.
            (position & !(self.one_lap - 1)).wrapping_add(self.one_lap)
        }
    }

    /// Pushes without blocking.
    ///
    /// The first attempt is inlined into the caller: when the slot at
    /// `tail` is free and no other producer moves `tail` first, a push is
    /// two loads, the compare-and-swap and two stores. Everything else
    /// (contention, a full or closed queue) goes round the loop of
    /// [`try_push_slow`](Self::try_push_slow).
    #[inline]
    pub(crate) fn try_push(&self, value: T) -> Result<(), PushFail<T>> {
        let tail = self.tail.load(Relaxed);
        // A closed queue's `tail` carries the closed bit, which no stamp
        // does, so the comparison below fails and the slow path says so.
        let slot = &self.buffer[tail & (self.closed_bit - 1)];
        // Acquire, SeqCst and Release: as in `claim` and `write`.
        if slot.stamp.load(Acquire) == tail
            && self
                .tail
                .compare_exchange_weak(tail, self.next(tail), SeqCst, Relaxed)
                .is_ok()
        {
            // SAFETY: as in `write`: the compare-and-swap made this thread
            // the only producer for this position, and the stamp says the
            // slot's previous value was consumed.
            slot.value.with_mut(|v| unsafe { (*v).write(value) });
            slot.stamp.store(tail + 1, Release);
            return Ok(());
        }
        self.try_push_slow(value)
    }

    /// The loop behind [`try_push`](Self::try_push): claim, then write.
    #[inline(never)]
    fn try_push_slow(&self, value: T) -> Result<(), PushFail<T>> {
        match self.claim() {
            Ok(tail) => {
                // SAFETY: `claim` gave this thread the position `tail`.
                unsafe { self.write(tail, value) };
                Ok(())
            }
            Err(PushFail::Full(())) => Err(PushFail::Full(value)),
            Err(PushFail::Closed(())) => Err(PushFail::Closed(value)),
        }
    }

    /// Claims the slot at the tail and returns its position, for a value
    /// that [`write`](Self::write) stores there later. A push does both at
    /// once; a select's send claims when it is chosen and writes when the
    /// caller completes it, and a consumer that reaches the slot meanwhile
    /// waits for the write, as for any push.
    #[inline(always)]
    pub(crate) fn claim(&self) -> Result<usize, PushFail<()>> {
        let mut spin = SpinWait::new();
        let mut tail = self.tail.load(Relaxed);
        loop {
            if tail & self.closed_bit != 0 {
                return Err(PushFail::Closed(()));
            }
            let slot = &self.buffer[tail & (self.closed_bit - 1)];
            // Acquire: pairs with the consumer's Release store of this
            // stamp, so its read of the old value is finished.
            let stamp = slot.stamp.load(Acquire);

            if stamp == tail {
                // SeqCst: one half of the Dekker pair with sleeping
                // consumers (see the module documentation).
                match self
                    .tail
                    .compare_exchange_weak(tail, self.next(tail), SeqCst, Relaxed)
                {
                    Ok(_) => return Ok(tail),
                    Err(current) => {
                        tail = current;
                        spin.snooze();
                    }
                }
            } else if stamp.wrapping_add(self.one_lap) == tail + 1 {
                // The slot still holds last lap's value: full, unless a
                // consumer has moved `head` in the meantime.
                // SeqCst fence: a sleeping producer's half of the Dekker pair.
                fence(SeqCst);
                let head = self.head.load(Relaxed);
                if head.wrapping_add(self.one_lap) == tail {
                    // Read the closed bit again after the fence: the `tail`
                    // above may predate a `close`, and a producer about to
                    // sleep must see a close that came before its
                    // registration (the Dekker pair with `close`).
                    if self.tail.load(Relaxed) & self.closed_bit != 0 {
                        return Err(PushFail::Closed(()));
                    }
                    return Err(PushFail::Full(()));
                }
                spin.snooze();
                tail = self.tail.load(Relaxed);
            } else {
                // Another producer claimed this position; catch up.
                spin.snooze();
                tail = self.tail.load(Relaxed);
            }
        }
    }

    /// Writes `value` into the slot at `position` and publishes it.
    ///
    /// # Safety
    ///
    /// The calling thread claimed `position` with [`claim`](Self::claim)
    /// and has not written it yet.
    #[inline(always)]
    pub(crate) unsafe fn write(&self, position: usize, value: T) {
        let slot = &self.buffer[position & (self.closed_bit - 1)];
        // SAFETY: the claim made this thread the only producer for this
        // position, and the stamp it read says the slot's previous value
        // was consumed.
        slot.value.with_mut(|v| unsafe { (*v).write(value) });
        // Release: publishes the value to the consumer's Acquire load of
        // the stamp.
        slot.stamp.store(position + 1, Release);
    }

    /// Pops without blocking. A queue that is closed still yields what it
    /// holds; `Closed` comes only once it is empty.
    ///
    /// As for [`try_push`](Self::try_push), the first attempt is inlined
    /// and everything else is left to [`try_pop_slow`](Self::try_pop_slow).
    #[inline]
    pub(crate) fn try_pop(&self) -> Result<T, PopFail> {
        let head = self.head.load(Relaxed);
        let slot = &self.buffer[head & (self.closed_bit - 1)];
        // Acquire, SeqCst and Release: as in `try_pop_slow`.
        if slot.stamp.load(Acquire) == head + 1
            && self
                .head
                .compare_exchange_weak(head, self.next(head), SeqCst, Relaxed)
                .is_ok()
        {
            // SAFETY: as in `try_pop_slow`: the compare-and-swap made this
            // thread the only consumer for this position, and the stamp
            // says the value was written.
            let value = slot.value.with(|v| unsafe { (*v).assume_init_read() });
            slot.stamp.store(head.wrapping_add(self.one_lap), Release);
            return Ok(value);
        }
        self.try_pop_slow()
    }

    /// The loop behind [`try_pop`](Self::try_pop).
    #[inline(never)]
    fn try_pop_slow(&self) -> Result<T, PopFail> {
        let mut spin = SpinWait::new();
        let mut head = self.head.load(Relaxed);
        loop {
            let slot = &self.buffer[head & (self.closed_bit - 1)];
            // Acquire: pairs with the producer's Release store of this
            // stamp, making its value visible.
            let stamp = slot.stamp.load(Acquire);

            if stamp == head + 1 {
                // SeqCst: one half of the Dekker pair with sleeping
                // producers.
                match self
                    .head
                    .compare_exchange_weak(head, self.next(head), SeqCst, Relaxed)
                {
                    Ok(_) => {
                        // SAFETY: the compare-and-swap made this thread the
                        // only consumer for this position, and the stamp
                        // says the value was written.
                        let value = slot.value.with(|v| unsafe { (*v).assume_init_read() });
                        // Release: tells the producer one lap on that the
                        // value has been moved out.
                        slot.stamp.store(head.wrapping_add(self.one_lap), Release);
                        return Ok(value);
                    }
                    Err(current) => {
                        head = current;
                        spin.snooze();
                    }
                }
            } else if stamp == head {
                // Not written yet: empty, unless a producer already claimed
                // the position and is writing it.
                // SeqCst fence: a sleeping consumer's half of the Dekker pair.
                fence(SeqCst);
                let tail = self.tail.load(Relaxed);
                if tail & !self.closed_bit == head {
                    return Err(if tail & self.closed_bit != 0 {
                        PopFail::Closed
                    } else {
                        PopFail::Empty
                    });
                }
                spin.snooze();
                head = self.head.load(Relaxed);
            } else {
                // Another consumer took this position; catch up.
                spin.snooze();
                head = self.head.load(Relaxed);
            }
        }
    }

    /// Sets the closed bit; returns `true` if this call set it.
    pub(crate) fn close(&self) -> bool {
        // SeqCst: a Dekker partner like a push (sleepers must see it).
        let tail = self.tail.fetch_or(self.closed_bit, SeqCst);
        tail & self.closed_bit == 0
    }

    pub(crate) fn is_closed(&self) -> bool {
        self.tail.load(SeqCst) & self.closed_bit != 0
    }

    /// The number of values in the queue at one instant.
    pub(crate) fn len(&self) -> usize {
        loop {
            // Read tail, then head, then tail again: if tail did not move,
            // the pair is a consistent snapshot.
            let tail = self.tail.load(SeqCst);
            let head = self.head.load(SeqCst);
            if self.tail.load(SeqCst) == tail {
                let tail = tail & !self.closed_bit;
                let head_index = head & (self.closed_bit - 1);
                let tail_index = tail & (self.closed_bit - 1);
                return if head_index < tail_index {
                    tail_index - head_index
                } else if head_index > tail_index {
                    self.capacity - head_index + tail_index
                } else if tail == head {
                    0
                } else {
                    self.capacity
                };
            }
        }
    }
}

impl<T> Drop for Array<T> {
    fn drop(&mut self) {
        if !core::mem::needs_drop::<T>() {
            return;
        }
        // Relaxed: `&mut self` means no other thread is inside.
        let mut position = self.head.load(Relaxed);
        for _ in 0..self.len() {
            let slot = &mut self.buffer[position & (self.closed_bit - 1)];
            // Relaxed: as above. A slot claimed and never written (a select's
            // send dropped without being completed) holds no value, and its
            // stamp says so.
            if slot.stamp.load(Relaxed) == position + 1 {
                // SAFETY: the stamp says the value at `position` was written,
                // and it lies between `head` and `tail`, so it was never
                // read.
                unsafe { slot.value.get_mut().assume_init_drop() };
            }
            position = self.next(position);
        }
    }
}

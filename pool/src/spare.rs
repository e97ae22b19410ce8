//! The pool's spare input buffer: one allocation kept between blocking
//! calls, so that a `map` does not allocate (and fault in) a fresh buffer
//! for its items every time.
//!
//! # Why
//!
//! A blocking `map` first collects its items into a buffer, so that the
//! chunks can be handed out by index. For a large input that buffer is a
//! large allocation, made and freed on every call, beside the results'
//! `Vec` that the call returns. Two large blocks freed in turn are what
//! makes glibc's allocator give the memory back to the kernel at the end
//! of a call (its top of heap grows past the trim threshold), and the next
//! call then pays a page fault for every 4 KiB it writes (BENCHMARKS.md,
//! "Design measurements", pool, has what that cost). Kept here, the
//! buffer's pages stay mapped, and a call allocates only the `Vec` it
//! returns, as a sequential `collect` would.
//!
//! # How
//!
//! The spare is a raw allocation with its layout, behind a Weft [`Mutex`].
//! A call takes it if its layout fits the call's item type exactly (same
//! alignment, a size that is a whole number of items), turns it into an
//! empty `Vec<T>` of that capacity and collects into it; the `Vec` grows as
//! usual if the input is longer. When the call has moved every item out,
//! the empty `Vec` comes back and its allocation becomes the spare, unless
//! the spare kept is larger, or the buffer is over [`MAX_SPARE_BYTES`] (a
//! one-off huge call should not pin its memory for the pool's lifetime).
//! The spare is freed with the pool.

use std::alloc::{self, Layout};
use std::mem::{self, ManuallyDrop};
use std::ptr::NonNull;

use weft_mutex::Mutex;

/// The largest buffer kept between calls: 16 MiB, two million pointers.
pub(crate) const MAX_SPARE_BYTES: usize = 16 << 20;

/// A raw allocation no `Vec` owns.
struct Raw {
    ptr: NonNull<u8>,
    layout: Layout,
}

// SAFETY: `Raw` is plain memory holding no values; whoever holds it may
// use or free it from any thread.
unsafe impl Send for Raw {}

impl Drop for Raw {
    fn drop(&mut self) {
        // SAFETY: `ptr` was allocated by the global allocator with `layout`
        // (it came from a `Vec`), and nothing else owns it.
        unsafe { alloc::dealloc(self.ptr.as_ptr(), self.layout) };
    }
}

/// At most one spare buffer; see the module documentation.
#[derive(Default)]
pub(crate) struct Spare {
    buffer: Mutex<Option<Raw>>,
}

impl std::fmt::Debug for Spare {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Spare").finish_non_exhaustive()
    }
}

impl Spare {
    /// Collects `items` into a `Vec`, in the spare buffer if it fits `T`.
    pub(crate) fn collect<T, I: Iterator<Item = T>>(&self, items: I) -> Vec<T> {
        let mut vec = self.take::<T>().unwrap_or_default();
        vec.extend(items);
        vec
    }

    /// An empty `Vec<T>` with room for `len` items: the spare buffer if it
    /// suits `T` and is large enough, a new one otherwise.
    pub(crate) fn buffer<T>(&self, len: usize) -> Vec<T> {
        match self.take::<T>() {
            Some(vec) if vec.capacity() >= len => vec,
            // Too small: a new allocation, rather than a `reserve` that
            // would copy the old buffer's stale bytes.
            _ => Vec::with_capacity(len),
        }
    }

    /// The spare as an empty `Vec<T>`, if its layout suits `T`.
    fn take<T>(&self) -> Option<Vec<T>> {
        if mem::size_of::<T>() == 0 {
            return None;
        }
        let mut slot = self.buffer.lock();
        let raw = slot.as_ref()?;
        let fits = raw.layout.align() == mem::align_of::<T>()
            && raw.layout.size() % mem::size_of::<T>() == 0;
        if !fits {
            return None;
        }
        let raw = ManuallyDrop::new(slot.take()?);
        drop(slot);
        let capacity = raw.layout.size() / mem::size_of::<T>();
        // SAFETY: allocated globally with `raw.layout`: `T`'s alignment and
        // exactly `capacity` items of `T`. It holds no values (length 0), and
        // `ManuallyDrop` keeps `Raw` from freeing it.
        Some(unsafe { Vec::from_raw_parts(raw.ptr.as_ptr().cast::<T>(), 0, capacity) })
    }

    /// Keeps the allocation of `vec` (emptied of values) as the spare, if
    /// it is the most useful buffer to keep; frees it otherwise.
    pub(crate) fn give_back<T>(&self, vec: Vec<T>) {
        debug_assert!(vec.is_empty());
        let Ok(layout) = Layout::array::<T>(vec.capacity()) else {
            return;
        };
        if layout.size() == 0 || layout.size() > MAX_SPARE_BYTES {
            return;
        }
        let mut vec = ManuallyDrop::new(vec);
        // A `Vec` with a non-zero-sized allocation has a non-null pointer.
        let ptr = NonNull::new(vec.as_mut_ptr().cast::<u8>()).expect("a Vec's buffer");
        let raw = Raw { ptr, layout };
        let mut slot = self.buffer.lock();
        let keep_new = slot
            .as_ref()
            .is_none_or(|old| old.layout.size() <= layout.size());
        // The loser is freed after the lock is released.
        let loser = if keep_new {
            slot.replace(raw)
        } else {
            Some(raw)
        };
        drop(slot);
        drop(loser);
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    /// What a call does with the spare: collects `items` into it, moves
    /// them out, and gives the emptied buffer back. Returns the buffer's
    /// address.
    fn collect_and_give_back<T>(spare: &Spare, items: impl Iterator<Item = T>) -> *const T {
        let mut buffer = spare.collect(items);
        let ptr = buffer.as_ptr();
        buffer.clear();
        spare.give_back(buffer);
        ptr
    }

    #[test]
    fn a_buffer_is_reused_for_the_same_layout() {
        let spare = Spare::default();
        let ptr = collect_and_give_back(&spare, 0..1000u64);
        let second = spare.collect(5..10u64);
        assert_eq!(second, [5, 6, 7, 8, 9]);
        assert_eq!(second.as_ptr(), ptr, "the spare was reused");
        assert!(second.capacity() >= 1000);
    }

    #[test]
    fn a_buffer_of_another_layout_is_left_alone() {
        let spare = Spare::default();
        collect_and_give_back(&spare, 0..100u8);
        // u64 needs a different alignment: a fresh buffer.
        let words = spare.collect(0..3u64);
        assert_eq!(words, [0, 1, 2]);
        // The byte buffer is still there for the next byte call.
        let again = spare.collect(0..2u8);
        assert!(again.capacity() >= 100);
    }

    #[test]
    fn a_longer_input_grows_the_buffer_and_huge_ones_are_not_kept() {
        let spare = Spare::default();
        collect_and_give_back(&spare, 0..4u32);
        let long = spare.collect(0..10_000u32);
        assert_eq!(long.len(), 10_000);
        assert_eq!(long[9_999], 9_999);

        let huge: Vec<u8> = Vec::with_capacity(MAX_SPARE_BYTES + 1);
        spare.give_back(huge);
        let next = spare.collect(0..1u8);
        assert!(
            next.capacity() <= MAX_SPARE_BYTES,
            "the huge buffer was freed"
        );
    }

    #[test]
    fn zero_sized_items_need_no_buffer() {
        let spare = Spare::default();
        let units = spare.collect(std::iter::repeat_n((), 10));
        assert_eq!(units.len(), 10);
        spare.give_back(Vec::<()>::new());
    }
}

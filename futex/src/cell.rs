//! An `UnsafeCell` with loom's closure-based API.
//!
//! Loom checks every access to shared data: a read is `cell.with(|ptr| ..)`,
//! a write is `cell.with_mut(|ptr| ..)`, and loom reports two accesses that
//! are not ordered by happens-before. Weft writes its cells that way
//! everywhere, and this type makes the same code compile to a plain
//! [`core::cell::UnsafeCell`] outside loom.

/// A cell whose contents may be accessed through raw pointers from shared
/// references, written so that loom can check every access.
///
/// Outside `--cfg loom` it is exactly a [`core::cell::UnsafeCell`], with the
/// same size, and `with`/`with_mut` compile to the bare pointer.
#[derive(Debug, Default)]
#[repr(transparent)]
pub struct UnsafeCell<T: ?Sized> {
    #[cfg(not(loom))]
    inner: core::cell::UnsafeCell<T>,
    #[cfg(loom)]
    inner: loom::cell::UnsafeCell<T>,
}

impl<T> UnsafeCell<T> {
    /// Wraps `value`.
    #[cfg(not(loom))]
    #[inline]
    pub const fn new(value: T) -> Self {
        Self {
            inner: core::cell::UnsafeCell::new(value),
        }
    }

    /// Wraps `value` (not `const` under loom, whose cells register with the
    /// model when created).
    #[cfg(loom)]
    pub fn new(value: T) -> Self {
        Self {
            inner: loom::cell::UnsafeCell::new(value),
        }
    }

    /// Unwraps the value.
    #[inline]
    pub fn into_inner(self) -> T {
        self.inner.into_inner()
    }
}

impl<T: ?Sized> UnsafeCell<T> {
    /// Runs `f` with a pointer for reading the contents; loom records a
    /// shared access.
    #[inline]
    pub fn with<R>(&self, f: impl FnOnce(*const T) -> R) -> R {
        #[cfg(not(loom))]
        return f(self.inner.get());
        #[cfg(loom)]
        return self.inner.with(f);
    }

    /// Runs `f` with a pointer for writing the contents; loom records an
    /// exclusive access.
    #[inline]
    pub fn with_mut<R>(&self, f: impl FnOnce(*mut T) -> R) -> R {
        #[cfg(not(loom))]
        return f(self.inner.get());
        #[cfg(loom)]
        return self.inner.with_mut(f);
    }

    /// Returns a mutable reference: `&mut self` proves nobody else holds one.
    #[inline]
    pub fn get_mut(&mut self) -> &mut T {
        #[cfg(not(loom))]
        return self.inner.get_mut();
        // SAFETY: `&mut self` guarantees no other access to the contents for
        // the lifetime of the returned reference.
        #[cfg(loom)]
        return self.inner.with_mut(|ptr| unsafe { &mut *ptr });
    }
}

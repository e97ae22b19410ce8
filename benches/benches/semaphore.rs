#![allow(missing_docs)] // criterion's macros generate undocumented functions.

//! `weft_semaphore` against glibc's POSIX semaphore (`sem_t`) and the
//! textbook semaphore built from `std::sync::Mutex<u32>` and `Condvar`.
//!
//! Scenarios (see BENCHMARKS.md):
//! - `uncontended`: one thread, acquire + release of one permit.
//! - `contended_sweep/N` for N = 1, 2, 4, 8 threads: N threads repeatedly
//!   acquire and release the one permit of a semaphore holding 1, with
//!   nothing in between, so the time is the semaphore's own; time per
//!   acquire+release over all threads (lower = more throughput). The
//!   parameter is the thread count.
//! - `contended_{2,4}_threads_2_permits`: the same with 2 permits. With 2
//!   threads no thread ever has to wait: only the count's cache line moves.
//! - `ping_pong`: two threads hand a turn back and forth through two
//!   semaphores that start empty; time per round trip.
//!
//! Peers: `glibc` is `sem_t` through `libc` (`sem_init` / `sem_wait` /
//! `sem_post`), the tightest C implementation on this machine;
//! `mutex_condvar` is a `u32` count under `std::sync::Mutex` with a
//! `std::sync::Condvar` to sleep on, as textbooks write a semaphore.

use std::cell::UnsafeCell;
use std::hint::black_box;
use std::mem::MaybeUninit;
use std::time::Duration;

use criterion::measurement::WallTime;
use criterion::{Bencher, BenchmarkGroup, BenchmarkId, Criterion, criterion_group, criterion_main};
use weft_benches::{SWEEP_THREADS, share, timed_threads};

/// The operations every semaphore under test offers.
trait Sem: Sync {
    fn new(permits: u32) -> Self;
    fn acquire(&self);
    fn release(&self);
}

impl Sem for weft_semaphore::Semaphore {
    fn new(permits: u32) -> Self {
        weft_semaphore::Semaphore::new(permits)
    }
    #[inline]
    fn acquire(&self) {
        weft_semaphore::Semaphore::acquire(self);
    }
    #[inline]
    fn release(&self) {
        weft_semaphore::Semaphore::release(self);
    }
}

/// glibc's `sem_t`. Waiters sleep on the semaphore's own address, so it
/// must not move between `sem_init` and `sem_destroy`: it lives in a `Box`
/// and is only ever reached through a raw pointer to that allocation.
struct GlibcSem {
    sem: Box<UnsafeCell<MaybeUninit<libc::sem_t>>>,
}

/// A `sem_t` is made to be shared between threads: every operation on it
/// goes through the `sem_*` functions, which synchronize internally, and
/// the wrapper hands out nothing but the pointer they take.
// SAFETY: see the doc comment above.
unsafe impl Sync for GlibcSem {}
/// Moving the wrapper moves only the `Box` pointer, never the `sem_t`.
// SAFETY: see the doc comment above; a `sem_t` is not tied to the thread
// that created it.
unsafe impl Send for GlibcSem {}

impl GlibcSem {
    fn as_ptr(&self) -> *mut libc::sem_t {
        self.sem.get().cast()
    }
}

impl Sem for GlibcSem {
    fn new(permits: u32) -> Self {
        let sem = Box::new(UnsafeCell::new(MaybeUninit::uninit()));
        // SAFETY: the pointer is to writable heap storage of `sem_t`'s size
        // and alignment, which stays put until `drop` destroys it;
        // `pshared = 0` keeps the semaphore private to this process.
        let r = unsafe { libc::sem_init(sem.get().cast(), 0, permits) };
        assert_eq!(r, 0, "sem_init failed: {}", std::io::Error::last_os_error());
        Self { sem }
    }

    #[inline]
    fn acquire(&self) {
        // SAFETY: `new` initialized the semaphore, and only `drop`, which
        // needs `&mut self`, destroys it.
        while unsafe { libc::sem_wait(self.as_ptr()) } != 0 {
            // The only error a valid semaphore can report: a signal
            // interrupted the wait, which then simply resumes.
            let error = std::io::Error::last_os_error();
            assert_eq!(error.raw_os_error(), Some(libc::EINTR), "sem_wait: {error}");
        }
    }

    #[inline]
    fn release(&self) {
        // SAFETY: as in `acquire`.
        let r = unsafe { libc::sem_post(self.as_ptr()) };
        debug_assert_eq!(r, 0, "sem_post failed");
    }
}

impl Drop for GlibcSem {
    fn drop(&mut self) {
        // SAFETY: initialized in `new`; `&mut self` proves that no thread
        // is inside `sem_wait` or `sem_post`, and it is destroyed once.
        unsafe { libc::sem_destroy(self.as_ptr()) };
    }
}

/// The textbook semaphore: a count under a mutex, and a condition variable
/// that waiters sleep on until the count is positive.
struct MutexCondvarSem {
    count: std::sync::Mutex<u32>,
    positive: std::sync::Condvar,
}

impl Sem for MutexCondvarSem {
    fn new(permits: u32) -> Self {
        Self {
            count: std::sync::Mutex::new(permits),
            positive: std::sync::Condvar::new(),
        }
    }

    #[inline]
    fn acquire(&self) {
        let mut count = self
            .positive
            .wait_while(self.count.lock().unwrap(), |count| *count == 0)
            .unwrap();
        *count -= 1;
    }

    #[inline]
    fn release(&self) {
        *self.count.lock().unwrap() += 1;
        self.positive.notify_one();
    }
}

fn uncontended<S: Sem>(g: &mut BenchmarkGroup<'_, WallTime>, name: &str) {
    let s = S::new(1);
    g.bench_function(name, |b| {
        b.iter(|| {
            s.acquire();
            s.release();
        })
    });
}

/// The routine of a contended scenario: `threads` threads share the
/// iterations, each one acquire + release of a semaphore with `permits`.
fn contended<S: Sem>(threads: usize, permits: u32) -> impl FnMut(&mut Bencher<'_, WallTime>) {
    move |b| {
        b.iter_custom(|iters| {
            let s = S::new(permits);
            timed_threads(threads, |i| {
                for _ in 0..share(iters, threads, i) {
                    s.acquire();
                    black_box(&s);
                    s.release();
                }
            })
        })
    }
}

/// One round trip: side 0 releases `ping` and waits on `pong`; side 1 waits
/// on `ping` and releases `pong`.
fn ping_pong<S: Sem>(g: &mut BenchmarkGroup<'_, WallTime>, name: &str) {
    g.bench_function(name, |b| {
        b.iter_custom(|rounds| {
            let (ping, pong) = (S::new(0), S::new(0));
            timed_threads(2, |side| {
                for _ in 0..rounds {
                    if side == 0 {
                        ping.release();
                        pong.acquire();
                    } else {
                        ping.acquire();
                        pong.release();
                    }
                }
            })
        })
    });
}

fn bench_uncontended(c: &mut Criterion) {
    let mut g = c.benchmark_group("semaphore/uncontended");
    uncontended::<weft_semaphore::Semaphore>(&mut g, "weft");
    uncontended::<GlibcSem>(&mut g, "glibc");
    uncontended::<MutexCondvarSem>(&mut g, "mutex_condvar");
    g.finish();
}

/// The thread-count sweep over one permit; at each count the three
/// semaphores run back to back.
fn bench_contended(c: &mut Criterion) {
    let mut g = c.benchmark_group("semaphore/contended_sweep");
    g.sample_size(30);
    for threads in SWEEP_THREADS {
        let id = |name| BenchmarkId::new(name, threads);
        g.bench_function(
            id("weft"),
            contended::<weft_semaphore::Semaphore>(threads, 1),
        );
        g.bench_function(id("glibc"), contended::<GlibcSem>(threads, 1));
        g.bench_function(
            id("mutex_condvar"),
            contended::<MutexCondvarSem>(threads, 1),
        );
    }
    g.finish();

    for (scenario, threads) in [
        ("semaphore/contended_2_threads_2_permits", 2),
        ("semaphore/contended_4_threads_2_permits", 4),
    ] {
        let mut g = c.benchmark_group(scenario);
        g.sample_size(30);
        g.bench_function("weft", contended::<weft_semaphore::Semaphore>(threads, 2));
        g.bench_function("glibc", contended::<GlibcSem>(threads, 2));
        g.bench_function("mutex_condvar", contended::<MutexCondvarSem>(threads, 2));
        g.finish();
    }
}

fn bench_ping_pong(c: &mut Criterion) {
    let mut g = c.benchmark_group("semaphore/ping_pong");
    g.sample_size(30);
    ping_pong::<weft_semaphore::Semaphore>(&mut g, "weft");
    ping_pong::<GlibcSem>(&mut g, "glibc");
    ping_pong::<MutexCondvarSem>(&mut g, "mutex_condvar");
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().warm_up_time(Duration::from_secs(1)).measurement_time(Duration::from_secs(2));
    targets = bench_uncontended, bench_contended, bench_ping_pong
}
criterion_main!(benches);

//! The library's global allocator: `std::alloc::System`, plus one counter of the bytes allocated
//! and not freed yet. It is here, in the cdylib, so that the `native-allocated-bytes` metric
//! (docs/metrics.md) can show the library's own heap: RSS mixes it with the JVM's heap, metaspace
//! and JIT code, so a slow leak in the Rust core would drown in their noise, while this counter
//! comes back to the same value whenever the same sinks are open (tests/integration/test_lifecycle.py).
//!
//! It counts what Rust code in this library asks for (the core, tokio, reqwest, rustls, ...), by
//! the size requested, not the allocator's own overhead. It is one relaxed atomic add or
//! subtract per allocation and free, no lock and nothing else; the core crate does not know
//! about it (the JNI `metrics` export feeds the value into the snapshot).

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};

pub struct CountingAlloc;

static ALLOCATED: AtomicUsize = AtomicUsize::new(0);

/// Bytes allocated by this library and not freed yet (process-wide: every sink, every thread).
pub fn allocated_bytes() -> u64 {
    ALLOCATED.load(Relaxed) as u64
}

// SAFETY: every call is forwarded to `System` unchanged; the counter only observes sizes.
unsafe impl GlobalAlloc for CountingAlloc {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = System.alloc(layout);
        if !p.is_null() {
            ALLOCATED.fetch_add(layout.size(), Relaxed);
        }
        p
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        let p = System.alloc_zeroed(layout);
        if !p.is_null() {
            ALLOCATED.fetch_add(layout.size(), Relaxed);
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        System.dealloc(ptr, layout);
        ALLOCATED.fetch_sub(layout.size(), Relaxed);
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let p = System.realloc(ptr, layout, new_size);
        if !p.is_null() {
            if new_size >= layout.size() {
                ALLOCATED.fetch_add(new_size - layout.size(), Relaxed);
            } else {
                ALLOCATED.fetch_sub(layout.size() - new_size, Relaxed);
            }
        }
        p
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The test binary runs with this allocator too (lib.rs declares it for the whole crate).
    #[test]
    fn counts_what_is_held_and_gives_it_back() {
        // Other tests of this binary allocate and free on their threads meanwhile: each step is
        // judged by the change it makes, within a slack far below the sizes moved.
        let big: i64 = 64 << 20;
        let slack = big / 4;
        let at = || allocated_bytes() as i64;
        let step = |before: i64, expected: i64| {
            let moved = at() - before;
            assert!((moved - expected).abs() < slack, "moved {} bytes, expected about {}", moved, expected);
        };
        let b = at();
        let mut v: Vec<u8> = Vec::with_capacity(big as usize);
        v.push(1);
        step(b, big);
        let b = at();
        v.reserve_exact(2 * big as usize); // realloc upwards: capacity 1 + 2 * big
        step(b, big);
        let b = at();
        v.shrink_to_fit(); // realloc downwards: capacity 1
        step(b, -2 * big);
        let b = at();
        let z = vec![0u8; big as usize]; // alloc_zeroed
        step(b, big);
        let b = at();
        drop(z);
        drop(v);
        step(b, -big);
    }
}

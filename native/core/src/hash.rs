//! The one hash of the crate: labels and buffer fingerprints are built with it, and they must
//! come out the same on every Rust release and machine (a replayed load is recognised by its
//! label), which std's hasher does not promise.

/// FNV-1a (64 bit), written out because it is five lines.
#[derive(Debug, Clone, Copy)]
pub struct Fnv(pub u64);

impl Fnv {
    pub fn new() -> Fnv {
        Fnv(0xcbf2_9ce4_8422_2325)
    }
    pub fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 ^= *b as u64;
            self.0 = self.0.wrapping_mul(0x0100_0000_01b3);
        }
    }
}


//! Bounds-checked little-endian cursor over the batch buffer. Every read checks the remaining
//! length first, so a truncated or lying buffer yields an error, never an out-of-bounds read.

use crate::error::{Error, Result};

pub(crate) struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    pub fn new(buf: &'a [u8]) -> Self {
        Reader { buf, pos: 0 }
    }

    pub fn remaining(&self) -> usize {
        self.buf.len() - self.pos
    }

    #[inline]
    pub fn take(&mut self, n: usize) -> Result<&'a [u8]> {
        if n > self.remaining() {
            return Err(truncated(self.pos, n, self.remaining()));
        }
        let s = &self.buf[self.pos..self.pos + n];
        self.pos += n;
        Ok(s)
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N]> {
        let mut a = [0u8; N];
        a.copy_from_slice(self.take(N)?);
        Ok(a)
    }

    pub fn u8(&mut self) -> Result<u8> {
        Ok(self.take(1)?[0])
    }
    pub fn i16(&mut self) -> Result<i16> {
        Ok(i16::from_le_bytes(self.array()?))
    }
    pub fn i32(&mut self) -> Result<i32> {
        Ok(i32::from_le_bytes(self.array()?))
    }
    pub fn u32(&mut self) -> Result<u32> {
        Ok(u32::from_le_bytes(self.array()?))
    }
    pub fn i64(&mut self) -> Result<i64> {
        Ok(i64::from_le_bytes(self.array()?))
    }

    /// `u32 len` + bytes.
    pub fn bytes(&mut self) -> Result<&'a [u8]> {
        let n = self.u32()? as usize;
        self.take(n)
    }

    /// `u32 len` + UTF-8.
    pub fn string(&mut self) -> Result<&'a str> {
        let at = self.pos;
        utf8(self.bytes()?, at)
    }

    /// `u32 len+1` + UTF-8; 0 = null.
    pub fn nstring(&mut self) -> Result<Option<&'a str>> {
        let at = self.pos;
        match self.u32()? {
            0 => Ok(None),
            n => Ok(Some(utf8(self.take(n as usize - 1)?, at)?)),
        }
    }
}

/// Kept out of line: building the message would otherwise be inlined into every read.
#[cold]
#[inline(never)]
fn truncated(pos: usize, need: usize, left: usize) -> Error {
    Error::data(format!("malformed batch: truncated at byte {} (need {} more bytes, {} left)", pos, need, left))
}

fn utf8(b: &[u8], at: usize) -> Result<&str> {
    // Most strings of a batch (field names, ids, emails) are ASCII. Checking that with an OR over
    // the bytes compiles to a few vector instructions, where `from_utf8` walks them one by one
    // with branches; only strings with a byte >= 0x80 need its full check.
    if b.iter().fold(0u8, |acc, &c| acc | c) < 0x80 {
        // SAFETY: every byte is below 0x80, and ASCII is valid UTF-8.
        return Ok(unsafe { std::str::from_utf8_unchecked(b) });
    }
    std::str::from_utf8(b).map_err(|_| not_utf8(at))
}

#[cold]
#[inline(never)]
fn not_utf8(at: usize) -> Error {
    Error::data(format!("malformed batch: invalid UTF-8 in string at byte {}", at))
}

//! A byte buffer with fast integer formatting, flushed to a writer in large chunks.
//!
//! Dumps print millions of small fields; `write!` through `fmt` costs several times more than
//! appending digits to a `Vec<u8>`, and a raw vmlinux dump is 12 MB of them.

use std::io::{self, Write};

/// Flush threshold: big enough to amortise syscalls, small enough to stay in cache.
const CHUNK: usize = 1 << 16;

pub(crate) struct Out<W: Write> {
    pub(crate) buf: Vec<u8>,
    w: W,
}

impl<W: Write> Out<W> {
    pub(crate) fn new(w: W) -> Self {
        Out {
            buf: Vec::with_capacity(CHUNK + 4096),
            w,
        }
    }

    /// Flushes when the buffer is past the threshold.
    #[inline]
    pub(crate) fn maybe_flush(&mut self) -> io::Result<()> {
        if self.buf.len() >= CHUNK {
            self.w.write_all(&self.buf)?;
            self.buf.clear();
        }
        Ok(())
    }

    pub(crate) fn finish(mut self) -> io::Result<()> {
        self.w.write_all(&self.buf)?;
        self.buf.clear();
        self.w.flush()
    }

    #[inline]
    pub(crate) fn s(&mut self, s: &[u8]) {
        self.buf.extend_from_slice(s);
    }

    #[inline]
    pub(crate) fn u64(&mut self, v: u64) {
        push_u64(&mut self.buf, v);
    }

    #[inline]
    pub(crate) fn i64(&mut self, v: i64) {
        push_i64(&mut self.buf, v);
    }
}

/// Appends `v` in decimal.
#[inline]
pub(crate) fn push_u64(buf: &mut Vec<u8>, mut v: u64) {
    let mut tmp = [0u8; 20];
    let mut i = tmp.len();
    loop {
        i -= 1;
        tmp[i] = b'0' + (v % 10) as u8;
        v /= 10;
        if v == 0 {
            break;
        }
    }
    buf.extend_from_slice(&tmp[i..]);
}

/// Appends `v` in decimal with a leading `-` when negative.
#[inline]
pub(crate) fn push_i64(buf: &mut Vec<u8>, v: i64) {
    if v < 0 {
        buf.push(b'-');
    }
    push_u64(buf, v.unsigned_abs());
}

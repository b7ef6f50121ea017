//! Byte order and the little reader every parser in the crate goes through.
//!
//! BTF is written in the byte order of the target; the magic tells which. The order is a runtime
//! value rather than a type parameter: one branch per read costs nothing measurable next to the
//! memory traffic, and it keeps `Btf<'data>` a single type for callers.

use crate::BtfError;

/// The byte order of a BTF blob, told by its magic.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum Endian {
    /// Little-endian (x86, arm64, `bpfel`).
    #[default]
    Little,
    /// Big-endian (s390x, `bpfeb`).
    Big,
}

impl Endian {
    /// Decodes a `u16` in this byte order.
    #[inline]
    pub fn u16(self, b: [u8; 2]) -> u16 {
        match self {
            Endian::Little => u16::from_le_bytes(b),
            Endian::Big => u16::from_be_bytes(b),
        }
    }

    /// Decodes a `u32` in this byte order.
    #[inline]
    pub fn u32(self, b: [u8; 4]) -> u32 {
        match self {
            Endian::Little => u32::from_le_bytes(b),
            Endian::Big => u32::from_be_bytes(b),
        }
    }

    /// Encodes a `u16` in this byte order.
    #[inline]
    pub fn u16_bytes(self, v: u16) -> [u8; 2] {
        match self {
            Endian::Little => v.to_le_bytes(),
            Endian::Big => v.to_be_bytes(),
        }
    }

    /// Encodes a `u32` in this byte order.
    #[inline]
    pub fn u32_bytes(self, v: u32) -> [u8; 4] {
        match self {
            Endian::Little => v.to_le_bytes(),
            Endian::Big => v.to_be_bytes(),
        }
    }

    /// Reads the `u32` at `off` of `data`, or 0 past the end.
    ///
    /// Views built by the parser only read inside records it has bounds-checked, so the
    /// fallback is never taken; it exists so that a bug could not turn into a panic.
    #[inline]
    pub(crate) fn u32_at(self, data: &[u8], off: usize) -> u32 {
        match data.get(off..off.wrapping_add(4)) {
            Some(&[a, b, c, d]) => self.u32([a, b, c, d]),
            _ => 0,
        }
    }
}

/// A forward reader over a byte slice that reports failures at absolute offsets.
#[derive(Clone, Debug)]
pub(crate) struct Cursor<'data> {
    data: &'data [u8],
    pos: usize,
    /// Absolute offset of `data[0]` within the blob, for errors.
    base: usize,
    endian: Endian,
}

impl<'data> Cursor<'data> {
    pub(crate) fn new(data: &'data [u8], base: usize, endian: Endian) -> Self {
        Cursor {
            data,
            pos: 0,
            base,
            endian,
        }
    }

    /// Absolute offset of the next byte.
    pub(crate) fn offset(&self) -> usize {
        self.base + self.pos
    }

    pub(crate) fn remaining(&self) -> usize {
        self.data.len() - self.pos
    }

    /// Fails unless `need` more bytes are there, naming `what` is being read.
    pub(crate) fn need(&self, need: usize, what: &'static str) -> Result<(), BtfError> {
        if self.remaining() < need {
            return Err(BtfError::Truncated {
                offset: self.offset(),
                what,
                need: need as u64,
                have: self.remaining() as u64,
            });
        }
        Ok(())
    }

    pub(crate) fn u8(&mut self, what: &'static str) -> Result<u8, BtfError> {
        self.need(1, what)?;
        let v = self.data[self.pos];
        self.pos += 1;
        Ok(v)
    }

    pub(crate) fn u16(&mut self, what: &'static str) -> Result<u16, BtfError> {
        self.need(2, what)?;
        let v = self
            .endian
            .u16([self.data[self.pos], self.data[self.pos + 1]]);
        self.pos += 2;
        Ok(v)
    }

    pub(crate) fn u32(&mut self, what: &'static str) -> Result<u32, BtfError> {
        self.need(4, what)?;
        let v = self.endian.u32_at(self.data, self.pos);
        self.pos += 4;
        Ok(v)
    }

    /// Takes the next `len` bytes.
    pub(crate) fn bytes(
        &mut self,
        len: usize,
        what: &'static str,
    ) -> Result<&'data [u8], BtfError> {
        self.need(len, what)?;
        let v = &self.data[self.pos..self.pos + len];
        self.pos += len;
        Ok(v)
    }
}

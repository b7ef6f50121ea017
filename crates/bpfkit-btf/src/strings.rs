//! The string section: a borrowed view for reading and an owned, deduplicating table for writing.
//!
//! Strings are NUL-terminated and named by their byte offset. In split BTF the offsets continue
//! after the base's string section: offsets below the base's length name base strings.

use std::collections::HashMap;

use crate::BtfError;

/// A borrowed string section, chained to the base's for split BTF.
#[derive(Clone, Copy, Debug)]
pub struct Strings<'data> {
    own: &'data [u8],
    /// The first offset that names a byte of `own` (the base's total length, or 0).
    start: u32,
    /// Absolute offset of `own[0]` in its blob, for errors.
    abs: usize,
    base: Option<&'data Strings<'data>>,
}

impl<'data> Strings<'data> {
    pub(crate) fn new(
        own: &'data [u8],
        abs: usize,
        base: Option<&'data Strings<'data>>,
    ) -> Strings<'data> {
        Strings {
            own,
            start: base.map_or(0, |b| b.end()),
            abs,
            base,
        }
    }

    /// One past the last valid offset, base included.
    pub fn end(&self) -> u32 {
        // The parser caps section lengths so that this sum fits (checked in `Btf::parse`).
        self.start.saturating_add(self.own.len() as u32)
    }

    /// The bytes of this blob's own section (without the base's).
    pub fn own_bytes(&self) -> &'data [u8] {
        self.own
    }

    /// The first offset that names a byte of this blob's own section.
    pub fn own_start(&self) -> u32 {
        self.start
    }

    /// The string at `off`, without its NUL, or `None` past the end.
    #[inline]
    pub fn get(&self, off: u32) -> Option<&'data [u8]> {
        if off < self.start {
            return self.base?.get(off);
        }
        let s = self.own.get((off - self.start) as usize..)?;
        // A section always ends with NUL (checked when parsed), so the search succeeds.
        find_nul(s).map(|end| &s[..end])
    }

    /// The string at `off` as text.
    pub fn text(&self, off: u32) -> Result<&'data str, BtfError> {
        if off < self.start {
            if let Some(base) = self.base {
                return base.text(off);
            }
        }
        let bytes = self.get(off).ok_or(BtfError::StringOutOfRange {
            offset: self.abs,
            str_off: off,
            str_len: self.end(),
        })?;
        std::str::from_utf8(bytes).map_err(|e| BtfError::InvalidUtf8 {
            offset: self.abs + (off - self.start) as usize + e.valid_up_to(),
        })
    }
}

/// Index of the first NUL in `s`, eight bytes at a time.
#[inline]
pub(crate) fn find_nul(s: &[u8]) -> Option<usize> {
    const LO: u64 = 0x0101_0101_0101_0101;
    const HI: u64 = 0x8080_8080_8080_8080;
    let mut chunks = s.chunks_exact(8);
    let mut base = 0;
    for c in &mut chunks {
        let w = u64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]);
        // The classic "has a zero byte" test: exact for the lowest zero byte in little-endian.
        let z = w.wrapping_sub(LO) & !w & HI;
        if z != 0 {
            return Some(base + (z.trailing_zeros() / 8) as usize);
        }
        base += 8;
    }
    chunks
        .remainder()
        .iter()
        .position(|&b| b == 0)
        .map(|i| base + i)
}

/// An owned string section that hands out offsets and reuses equal strings.
///
/// Built from scratch it starts with the empty string at offset 0, as the format requires.
/// Built from parsed bytes it keeps them verbatim, so re-encoding is byte-identical; the index
/// used for deduplication is only built when a string is first added.
#[derive(Clone, Debug)]
pub struct StringTable {
    bytes: Vec<u8>,
    /// Offset of `bytes[0]`: 0, or the base's string length for split BTF.
    start: u32,
    index: Option<HashMap<Box<[u8]>, u32>>,
}

impl PartialEq for StringTable {
    fn eq(&self, other: &Self) -> bool {
        self.start == other.start && self.bytes == other.bytes
    }
}

impl Eq for StringTable {}

impl Default for StringTable {
    fn default() -> Self {
        StringTable::new()
    }
}

impl StringTable {
    /// A table holding only the empty string.
    pub fn new() -> StringTable {
        StringTable {
            bytes: vec![0],
            start: 0,
            index: None,
        }
    }

    /// An empty table for split BTF whose offsets start after a base of `start` bytes.
    pub fn new_split(start: u32) -> StringTable {
        StringTable {
            bytes: Vec::new(),
            start,
            index: None,
        }
    }

    /// A table holding `bytes` as they are (a parsed section), its first offset at `start`.
    pub fn from_bytes(bytes: Vec<u8>, start: u32) -> StringTable {
        StringTable {
            bytes,
            start,
            index: None,
        }
    }

    /// The section's bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// The first offset this table hands out (0 unless split).
    pub fn start(&self) -> u32 {
        self.start
    }

    /// One past the last offset.
    pub fn end(&self) -> u32 {
        self.start + self.bytes.len() as u32
    }

    /// The string at `off`, if it is inside this table.
    pub fn get(&self, off: u32) -> Option<&[u8]> {
        let s = self.bytes.get(off.checked_sub(self.start)? as usize..)?;
        find_nul(s).map(|end| &s[..end])
    }

    /// The offset of `s`, appending it if it is not there yet. A NUL inside `s` ends it.
    pub fn add(&mut self, s: &str) -> u32 {
        self.add_bytes(s.as_bytes())
    }

    /// [`StringTable::add`] for bytes that need not be UTF-8.
    pub fn add_bytes(&mut self, s: &[u8]) -> u32 {
        let s = &s[..find_nul(s).unwrap_or(s.len())];
        if s.is_empty() {
            // Offset 0 is the empty string in every table (in the base's for split BTF).
            return 0;
        }
        let start = self.start;
        let bytes = &self.bytes;
        let index = self.index.get_or_insert_with(|| {
            let mut index = HashMap::new();
            let mut pos = 0;
            while pos < bytes.len() {
                let len = find_nul(&bytes[pos..]).unwrap_or(bytes.len() - pos);
                index
                    .entry(bytes[pos..pos + len].into())
                    .or_insert(start + pos as u32);
                pos += len + 1;
            }
            index
        });
        if let Some(&off) = index.get(s) {
            return off;
        }
        let off = self.start + self.bytes.len() as u32;
        self.bytes.extend_from_slice(s);
        self.bytes.push(0);
        index.insert(s.into(), off);
        off
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn find_nul_agrees_with_position() {
        let data: Vec<u8> = (0..64u8)
            .map(|i| if i % 13 == 5 { 0 } else { i | 1 })
            .collect();
        for start in 0..data.len() {
            for end in start..data.len() {
                let s = &data[start..end];
                assert_eq!(
                    find_nul(s),
                    s.iter().position(|&b| b == 0),
                    "{start}..{end}"
                );
            }
        }
        assert_eq!(find_nul(&[0x80, 0x01, 0, 0x80, 0, 0, 0, 0, 1]), Some(2));
        assert_eq!(find_nul(&[1, 0x81, 0xff, 0x80, 1, 1, 1, 0x01, 0]), Some(8));
    }

    #[test]
    fn table_dedups_and_keeps_parsed_bytes() {
        let mut t = StringTable::from_bytes(b"\0int\0char\0int\0".to_vec(), 0);
        assert_eq!(t.add("int"), 1);
        assert_eq!(t.add("char"), 5);
        assert_eq!(t.add(""), 0);
        assert_eq!(t.add("long"), 14);
        assert_eq!(t.add("long"), 14);
        assert_eq!(t.as_bytes(), b"\0int\0char\0int\0long\0");
        assert_eq!(t.get(14), Some(&b"long"[..]));
    }

    #[test]
    fn split_table_offsets_continue_after_base() {
        let mut t = StringTable::new_split(100);
        assert_eq!(t.add("mod"), 100);
        assert_eq!(t.add("x"), 104);
        assert_eq!(t.get(104), Some(&b"x"[..]));
        assert_eq!(t.get(99), None);
    }
}

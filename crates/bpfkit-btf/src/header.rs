//! `struct btf_header`: magic, version, flags, `hdr_len` and the section table.
//!
//! The header grows over time: a producer writes a longer `hdr_len` and appends fields (newer
//! kernels add a layout section after the string fields). So the header is read field by field up
//! to what `hdr_len` covers, sections are located relative to the end of the header whatever its
//! length, and header bytes past the fields we know are kept verbatim but not interpreted.
//!
//! `.BTF.ext` starts with the same magic, version, flags and `hdr_len` and lays out its sections
//! the same way: [`ext`](crate::ext) reads that preamble and checks section overlap with the
//! crate-private helpers at the end of this module.

use std::ops::Range;

use crate::endian::Cursor;
use crate::{BtfError, Endian};

/// The BTF magic, `0xeB9F`, as read in the data's own byte order.
pub const MAGIC: u16 = 0xeb9f;
/// The only defined format version.
pub const VERSION: u8 = 1;
/// Length of the header every version has (up to `str_len`).
pub const MIN_HEADER_LEN: u32 = 24;
/// Length of the header with the optional layout section fields.
pub const LAYOUT_HEADER_LEN: u32 = 32;

/// A parsed `struct btf_header`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Header {
    /// Byte order, told by how the magic reads.
    pub endian: Endian,
    /// Format version (always 1).
    pub version: u8,
    /// Flags (always 0).
    pub flags: u8,
    /// Length of the header; sections are located relative to its end.
    pub hdr_len: u32,
    /// Offset of the type section after the header.
    pub type_off: u32,
    /// Length of the type section.
    pub type_len: u32,
    /// Offset of the string section after the header.
    pub str_off: u32,
    /// Length of the string section.
    pub str_len: u32,
    /// Offset of the kind layout section (0 when `hdr_len` does not cover it).
    pub layout_off: u32,
    /// Length of the kind layout section (0 when absent).
    pub layout_len: u32,
}

impl Header {
    /// Reads and checks the header at the start of `data`.
    ///
    /// Checks: magic (either byte order), version 1, flags 0, `hdr_len` at least 24 and within
    /// the data, every section inside the data and no two sections overlapping.
    pub fn parse(data: &[u8]) -> Result<Header, BtfError> {
        let Preamble {
            endian,
            version,
            flags,
            hdr_len,
            mut cur,
        } = Preamble::parse(
            data,
            PreambleNames {
                magic: "header magic",
                version: "header version",
                flags: "header flags",
                hdr_len: "header length",
            },
            MIN_HEADER_LEN,
        )?;
        let mut h = Header {
            endian,
            version,
            flags,
            hdr_len,
            type_off: cur.u32("type_off")?,
            type_len: cur.u32("type_len")?,
            str_off: cur.u32("str_off")?,
            str_len: cur.u32("str_len")?,
            layout_off: 0,
            layout_len: 0,
        };
        if hdr_len >= LAYOUT_HEADER_LEN {
            h.layout_off = cur.u32("layout_off")?;
            h.layout_len = cur.u32("layout_len")?;
        }
        h.check_sections(data.len())?;
        Ok(h)
    }

    /// The sections with the header offset of the field that locates each.
    fn sections(&self) -> [SectionField; 3] {
        [
            ("type", 8, self.type_off, self.type_len),
            ("string", 16, self.str_off, self.str_len),
            ("layout", 24, self.layout_off, self.layout_len),
        ]
    }

    fn check_sections(&self, len: usize) -> Result<(), BtfError> {
        let sections = self.sections();
        for &(section, field, off, sec_len) in &sections {
            let start = u64::from(self.hdr_len) + u64::from(off);
            let end = start + u64::from(sec_len);
            if end > len as u64 {
                return Err(BtfError::SectionOutOfBounds {
                    offset: field,
                    section,
                    start,
                    end,
                    len,
                });
            }
        }
        if self.layout_len % 4 != 0 {
            return Err(BtfError::Misaligned {
                offset: 28,
                section: "layout",
                what: "length",
                value: self.layout_len,
            });
        }
        check_overlap(&sections)
    }

    /// Absolute byte range of the type section.
    pub fn type_range(&self) -> Range<usize> {
        let start = self.hdr_len as usize + self.type_off as usize;
        start..start + self.type_len as usize
    }

    /// Absolute byte range of the string section.
    pub fn str_range(&self) -> Range<usize> {
        let start = self.hdr_len as usize + self.str_off as usize;
        start..start + self.str_len as usize
    }

    /// Absolute byte range of the layout section (empty when absent).
    pub fn layout_range(&self) -> Range<usize> {
        let start = self.hdr_len as usize + self.layout_off as usize;
        start..start + self.layout_len as usize
    }

    /// Appends the fields this crate knows: 24 bytes, or 32 when `hdr_len` covers the layout
    /// fields. The caller appends whatever else `hdr_len` covers.
    pub fn write(&self, out: &mut Vec<u8>) {
        let e = self.endian;
        out.extend_from_slice(&e.u16_bytes(MAGIC));
        out.push(self.version);
        out.push(self.flags);
        for v in [
            self.hdr_len,
            self.type_off,
            self.type_len,
            self.str_off,
            self.str_len,
        ] {
            out.extend_from_slice(&e.u32_bytes(v));
        }
        if self.hdr_len >= LAYOUT_HEADER_LEN {
            out.extend_from_slice(&e.u32_bytes(self.layout_off));
            out.extend_from_slice(&e.u32_bytes(self.layout_len));
        }
    }

    /// Bytes [`Header::write`] produces.
    pub fn known_len(&self) -> u32 {
        if self.hdr_len >= LAYOUT_HEADER_LEN {
            LAYOUT_HEADER_LEN
        } else {
            MIN_HEADER_LEN
        }
    }
}

/// What the four preamble fields are called in [`BtfError::Truncated`]: `.BTF` and `.BTF.ext`
/// name them differently.
pub(crate) struct PreambleNames {
    pub magic: &'static str,
    pub version: &'static str,
    pub flags: &'static str,
    pub hdr_len: &'static str,
}

/// The start `.BTF` and `.BTF.ext` headers share: magic, version, flags and `hdr_len`.
pub(crate) struct Preamble<'data> {
    pub endian: Endian,
    pub version: u8,
    pub flags: u8,
    pub hdr_len: u32,
    /// A reader at the first field after `hdr_len` (offset 8).
    pub cur: Cursor<'data>,
}

impl<'data> Preamble<'data> {
    /// Reads and checks the preamble at the start of `data`: the magic in either byte order,
    /// version 1, flags 0, and `hdr_len` between `min_hdr_len` and the length of the data.
    pub(crate) fn parse(
        data: &'data [u8],
        names: PreambleNames,
        min_hdr_len: u32,
    ) -> Result<Preamble<'data>, BtfError> {
        let endian = match data {
            [0x9f, 0xeb, ..] => Endian::Little,
            [0xeb, 0x9f, ..] => Endian::Big,
            [a, b, ..] => {
                return Err(BtfError::BadMagic {
                    offset: 0,
                    magic: u16::from_le_bytes([*a, *b]),
                });
            }
            _ => {
                return Err(BtfError::Truncated {
                    offset: 0,
                    what: names.magic,
                    need: 2,
                    have: data.len() as u64,
                });
            }
        };
        let mut cur = Cursor::new(data, 0, endian);
        cur.u16(names.magic)?;
        let version = cur.u8(names.version)?;
        if version != VERSION {
            return Err(BtfError::UnsupportedVersion { offset: 2, version });
        }
        let flags = cur.u8(names.flags)?;
        if flags != 0 {
            return Err(BtfError::UnsupportedFlags { offset: 3, flags });
        }
        let hdr_len = cur.u32(names.hdr_len)?;
        if hdr_len < min_hdr_len || hdr_len as usize > data.len() {
            return Err(BtfError::BadHeaderLen {
                offset: 4,
                hdr_len,
                min: min_hdr_len,
                max: data.len() as u64,
            });
        }
        Ok(Preamble {
            endian,
            version,
            flags,
            hdr_len,
            cur,
        })
    }
}

/// A section as a header describes it: its name, the header offset of the field giving its
/// offset (where errors point), its offset after the header and its length.
pub(crate) type SectionField = (&'static str, usize, u32, u32);

/// Fails when two non-empty sections share bytes, pointing at the later one's offset field.
pub(crate) fn check_overlap(sections: &[SectionField]) -> Result<(), BtfError> {
    for (i, &(first, _, off_a, len_a)) in sections.iter().enumerate() {
        for &(second, field, off_b, len_b) in &sections[i + 1..] {
            let (a, b) = (u64::from(off_a), u64::from(off_b));
            let overlap =
                len_a != 0 && len_b != 0 && a < b + u64::from(len_b) && b < a + u64::from(len_a);
            if overlap {
                return Err(BtfError::SectionsOverlap {
                    offset: field,
                    first,
                    second,
                });
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(fields: [u32; 5]) -> Vec<u8> {
        let mut v = vec![0x9f, 0xeb, 1, 0];
        for f in fields {
            v.extend_from_slice(&f.to_le_bytes());
        }
        v
    }

    #[test]
    fn minimal_header_parses() {
        let mut data = header([24, 0, 0, 0, 1]);
        data.push(0);
        let h = Header::parse(&data).unwrap();
        assert_eq!(h.endian, Endian::Little);
        assert_eq!(h.str_range(), 24..25);
        let mut out = Vec::new();
        h.write(&mut out);
        assert_eq!(out, data[..24]);
    }

    #[test]
    fn every_header_field_is_checked() {
        let good = {
            let mut d = header([24, 0, 0, 0, 1]);
            d.push(0);
            d
        };
        // Truncated before the magic, and inside each field.
        for cut in 0..24 {
            let err = Header::parse(&good[..cut]).unwrap_err();
            let offset = err.offset().unwrap();
            assert!(offset <= cut, "cut {cut}: {err}");
        }
        let mut d = good.clone();
        d[0] = 0x12;
        assert!(matches!(
            Header::parse(&d),
            Err(BtfError::BadMagic { offset: 0, .. })
        ));
        let mut d = good.clone();
        d[2] = 2;
        assert!(matches!(
            Header::parse(&d),
            Err(BtfError::UnsupportedVersion { offset: 2, .. })
        ));
        let mut d = good.clone();
        d[3] = 1;
        assert!(matches!(
            Header::parse(&d),
            Err(BtfError::UnsupportedFlags { offset: 3, .. })
        ));
        for bad_len in [0u32, 23, 26, u32::MAX] {
            let mut d = good.clone();
            d[4..8].copy_from_slice(&bad_len.to_le_bytes());
            assert!(
                matches!(
                    Header::parse(&d),
                    Err(BtfError::BadHeaderLen { offset: 4, .. })
                ),
                "{bad_len}"
            );
        }
        // Each section field pushed out of bounds.
        for (field, offset) in [(8, 8), (12, 8), (16, 16), (20, 16)] {
            let mut d = good.clone();
            d[field..field + 4].copy_from_slice(&100u32.to_le_bytes());
            let err = Header::parse(&d).unwrap_err();
            assert!(
                matches!(err, BtfError::SectionOutOfBounds { offset: o, .. } if o == offset),
                "field {field}: {err}"
            );
        }
        // Offsets that overflow 32 bits are out of bounds, not wrapped.
        let mut d = good.clone();
        d[16..20].copy_from_slice(&u32::MAX.to_le_bytes());
        assert!(matches!(
            Header::parse(&d),
            Err(BtfError::SectionOutOfBounds { offset: 16, .. })
        ));
    }

    #[test]
    fn overlapping_sections_are_rejected() {
        let mut d = header([24, 0, 8, 4, 5]);
        d.extend_from_slice(&[0; 12]);
        assert!(matches!(
            Header::parse(&d),
            Err(BtfError::SectionsOverlap { offset: 16, .. })
        ));
    }

    #[test]
    fn longer_header_with_layout_section() {
        let mut d = header([32, 0, 0, 4, 1]);
        d.extend_from_slice(&0u32.to_le_bytes()); // layout_off
        d.extend_from_slice(&4u32.to_le_bytes()); // layout_len
        d.extend_from_slice(&[4, 0, 0, 0, 0]);
        let h = Header::parse(&d).unwrap();
        assert_eq!(h.layout_range(), 32..36);
        assert_eq!(h.str_range(), 36..37);
        let mut d2 = d.clone();
        d2[28..32].copy_from_slice(&3u32.to_le_bytes());
        assert!(matches!(
            Header::parse(&d2),
            Err(BtfError::Misaligned { offset: 28, .. })
        ));
    }

    #[test]
    fn big_endian_header() {
        let mut d = vec![0xeb, 0x9f, 1, 0];
        for f in [24u32, 0, 0, 0, 1] {
            d.extend_from_slice(&f.to_be_bytes());
        }
        d.push(0);
        let h = Header::parse(&d).unwrap();
        assert_eq!(h.endian, Endian::Big);
        assert_eq!(h.str_len, 1);
    }
}

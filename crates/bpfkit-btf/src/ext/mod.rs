//! `.BTF.ext`: per-instruction records that point into `.BTF`.
//!
//! Layout (libbpf's `btf_ext_header` and `btf_ext_setup_info`): a header with `hdr_len` and the
//! offset and length of each info section relative to the end of the header (func_info and
//! line_info always, core_relo when `hdr_len` covers it); each info section is a `u32` record
//! size followed by groups, each a section name offset, a record count and the records. The
//! record size comes from the data and may be larger than the fields known here: records are
//! stepped by it and the extra bytes ignored, as libbpf does.

mod records;

/// The kind of a [`CoreRelo`] record: the kernel's constant set from `bpfkit-uapi`, re-exported.
pub use bpfkit_uapi::CoreReloKind;
pub use records::{CoreRelo, FuncInfo, InfoGroup, InfoSection, LineInfo};

use crate::endian::Cursor;
use crate::header::{Preamble, PreambleNames, SectionField, check_overlap};
use crate::{Btf, BtfError, Endian, TypeId};

/// Length of the header up to `line_info_len`, which every version has.
pub const EXT_MIN_HEADER_LEN: u32 = 24;
/// Length of the header with the core_relo fields.
pub const EXT_CORE_RELO_HEADER_LEN: u32 = 32;

/// The `.BTF.ext` header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ExtHeader {
    /// Byte order, told by the magic.
    pub endian: Endian,
    /// Format version (1).
    pub version: u8,
    /// Flags (0).
    pub flags: u8,
    /// Header length.
    pub hdr_len: u32,
    /// Offset of func_info after the header.
    pub func_info_off: u32,
    /// Length of func_info.
    pub func_info_len: u32,
    /// Offset of line_info after the header.
    pub line_info_off: u32,
    /// Length of line_info.
    pub line_info_len: u32,
    /// Offset of core_relo after the header (0 when the header has no such field).
    pub core_relo_off: u32,
    /// Length of core_relo (0 when absent).
    pub core_relo_len: u32,
}

/// Parsed `.BTF.ext`, its strings resolved through the matching `.BTF`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BtfExt<'data> {
    /// The header.
    pub header: ExtHeader,
    /// Function starts.
    pub func_info: InfoSection<'data, FuncInfo>,
    /// Source lines.
    pub line_info: InfoSection<'data, LineInfo<'data>>,
    /// CO-RE relocations.
    pub core_relos: InfoSection<'data, CoreRelo<'data>>,
}

/// Smallest record sizes: the fields every version has.
const FUNC_INFO_MIN: u32 = 8;
const LINE_INFO_MIN: u32 = 16;
const CORE_RELO_MIN: u32 = 16;

impl<'data> BtfExt<'data> {
    /// Parses `.BTF.ext` data; names and type ids are checked against `btf`, the object's
    /// `.BTF`. Error offsets are within `data`.
    pub fn parse(data: &'data [u8], btf: &Btf<'data>) -> Result<BtfExt<'data>, BtfError> {
        let header = parse_header(data)?;
        let ctx = Ctx { data, header, btf };
        let sections = [
            ("func_info", 8, header.func_info_off, header.func_info_len),
            ("line_info", 16, header.line_info_off, header.line_info_len),
            ("core_relo", 24, header.core_relo_off, header.core_relo_len),
        ];
        check_overlap(&sections)?;
        let func_info = ctx.section(sections[0], FUNC_INFO_MIN, |c, rec| {
            Ok(FuncInfo {
                insn_off: c.u32("func_info insn_off")?,
                type_id: ctx.type_id(c, rec + 4)?,
            })
        })?;
        let line_info = ctx.section(sections[1], LINE_INFO_MIN, |c, rec| {
            let insn_off = c.u32("line_info insn_off")?;
            let file_name_off = c.u32("line_info file_name_off")?;
            let line_off = c.u32("line_info line_off")?;
            let line_col = c.u32("line_info line_col")?;
            Ok(LineInfo {
                insn_off,
                file_name_off,
                file_name: ctx.text(file_name_off, rec + 4)?,
                line_off,
                line: ctx.text(line_off, rec + 8)?,
                line_num: line_col >> 10,
                column: line_col & 0x3ff,
            })
        })?;
        let core_relos = ctx.section(sections[2], CORE_RELO_MIN, |c, rec| {
            let insn_off = c.u32("core_relo insn_off")?;
            let type_id = ctx.type_id(c, rec + 4)?;
            let access_str_off = c.u32("core_relo access_str_off")?;
            let kind = CoreReloKind(c.u32("core_relo kind")?);
            if !kind.is_known() {
                return Err(BtfError::UnknownCoreReloKind {
                    offset: rec + 12,
                    kind: kind.0,
                });
            }
            Ok(CoreRelo {
                insn_off,
                type_id,
                access_str_off,
                access_str: ctx.text(access_str_off, rec + 8)?,
                kind,
            })
        })?;
        Ok(BtfExt {
            header,
            func_info,
            line_info,
            core_relos,
        })
    }
}

fn parse_header(data: &[u8]) -> Result<ExtHeader, BtfError> {
    let Preamble {
        endian,
        version,
        flags,
        hdr_len,
        mut cur,
    } = Preamble::parse(
        data,
        PreambleNames {
            magic: ".BTF.ext magic",
            version: ".BTF.ext version",
            flags: ".BTF.ext flags",
            hdr_len: ".BTF.ext header length",
        },
        EXT_MIN_HEADER_LEN,
    )?;
    let mut h = ExtHeader {
        endian,
        version,
        flags,
        hdr_len,
        func_info_off: cur.u32("func_info_off")?,
        func_info_len: cur.u32("func_info_len")?,
        line_info_off: cur.u32("line_info_off")?,
        line_info_len: cur.u32("line_info_len")?,
        core_relo_off: 0,
        core_relo_len: 0,
    };
    if hdr_len >= EXT_CORE_RELO_HEADER_LEN {
        h.core_relo_off = cur.u32("core_relo_off")?;
        h.core_relo_len = cur.u32("core_relo_len")?;
    }
    Ok(h)
}

struct Ctx<'a, 'data> {
    data: &'data [u8],
    header: ExtHeader,
    btf: &'a Btf<'data>,
}

impl<'data> Ctx<'_, 'data> {
    /// A string of `.BTF` named by the field at `at`: its text up to the first non-UTF-8 byte.
    fn text(&self, str_off: u32, at: usize) -> Result<&'data str, BtfError> {
        let bytes = self
            .btf
            .str_bytes(str_off)
            .ok_or(BtfError::StringOutOfRange {
                offset: at,
                str_off,
                str_len: self.btf.strings().end(),
            })?;
        Ok(match std::str::from_utf8(bytes) {
            Ok(s) => s,
            Err(e) => std::str::from_utf8(&bytes[..e.valid_up_to()]).unwrap_or_default(),
        })
    }

    /// Reads a type id at `at` and checks it names a type of `.BTF`.
    fn type_id(&self, c: &mut Cursor<'data>, at: usize) -> Result<TypeId, BtfError> {
        let id = c.u32("type id")?;
        if id >= self.btf.type_cnt() {
            return Err(BtfError::TypeIdOutOfRange {
                offset: at,
                type_id: id,
                last_id: self.btf.type_cnt() - 1,
            });
        }
        Ok(TypeId(id))
    }

    /// Parses one info section with `decode` reading the known fields of each record.
    fn section<R>(
        &self,
        (name, field, off, len): SectionField,
        min: u32,
        decode: impl Fn(&mut Cursor<'data>, usize) -> Result<R, BtfError>,
    ) -> Result<InfoSection<'data, R>, BtfError> {
        if len == 0 {
            return Ok(InfoSection::default());
        }
        if off % 4 != 0 {
            return Err(BtfError::Misaligned {
                offset: field,
                section: name,
                what: "offset",
                value: off,
            });
        }
        let start = u64::from(self.header.hdr_len) + u64::from(off);
        let end = start + u64::from(len);
        if end > self.data.len() as u64 {
            return Err(BtfError::SectionOutOfBounds {
                offset: field,
                section: name,
                start,
                end,
                len: self.data.len(),
            });
        }
        let (start, end) = (start as usize, end as usize);
        let mut c = Cursor::new(&self.data[start..end], start, self.header.endian);
        let size_at = c.offset();
        let record_size = c.u32("record size")?;
        if record_size < min || record_size % 4 != 0 {
            return Err(BtfError::BadRecordSize {
                offset: size_at,
                section: name,
                record_size,
                min,
            });
        }
        let mut groups = Vec::new();
        while c.remaining() > 0 {
            let group_at = c.offset();
            let section_name_off = c.u32("info group header")?;
            let num = c.u32("info group header")?;
            if num == 0 {
                return Err(BtfError::EmptyGroup {
                    offset: group_at,
                    section: name,
                });
            }
            let need = u64::from(num) * u64::from(record_size);
            if need > c.remaining() as u64 {
                return Err(BtfError::Truncated {
                    offset: c.offset(),
                    what: "info records",
                    need,
                    have: c.remaining() as u64,
                });
            }
            let mut records = Vec::with_capacity(num as usize);
            for _ in 0..num {
                let rec_at = c.offset();
                let rec = c.bytes(record_size as usize, "info record")?;
                let mut rc = Cursor::new(rec, rec_at, self.header.endian);
                records.push(decode(&mut rc, rec_at)?);
            }
            groups.push(InfoGroup {
                section_name_off,
                section: self.text(section_name_off, group_at)?,
                offset: group_at,
                records,
            });
        }
        Ok(InfoSection {
            record_size,
            groups,
        })
    }
}

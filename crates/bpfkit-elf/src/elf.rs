//! The low level: a typed, validated view of an ELF64 relocatable file — header, sections,
//! symbols and relocation tables — borrowing the file's bytes (object's `read/elf` structures).
//!
//! Everything later stages rely on is checked here once: every section's bytes are inside the
//! file, names are valid strings, symbol and relocation tables are whole entries, every section
//! and symbol index points at something, and every relocation offset is inside its target. Each
//! failure is an [`ElfError`] with the absolute offset of the field at fault.

use object::elf::{FileHeader64, Rel64, Rela64, SectionHeader64, Sym64};
use object::read::ReadRef;
use object::{Endianness, elf};

use crate::error::{ElfError, ErrorKind, Result};
use crate::reloc::RelocType;
use crate::{SectionIndex, SymbolIndex};

const EHDR_SIZE: u64 = 64;
const SHDR_SIZE: u64 = 64;
const SYM_SIZE: u64 = 24;
const REL_SIZE: u64 = 16;
const RELA_SIZE: u64 = 24;

/// A section header with its name and bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Section<'data> {
    /// Its index.
    pub index: SectionIndex,
    /// Its name.
    pub name: &'data str,
    /// `sh_type` (`SHT_PROGBITS` = 1, `SHT_SYMTAB` = 2, `SHT_NOBITS` = 8, `SHT_REL` = 9, ...).
    pub sh_type: u32,
    /// `sh_flags` (`SHF_WRITE` = 1, `SHF_ALLOC` = 2, `SHF_EXECINSTR` = 4, ...).
    pub flags: u64,
    /// `sh_offset`: where the bytes start in the file.
    pub offset: u64,
    /// `sh_size`.
    pub size: u64,
    /// `sh_link`.
    pub link: u32,
    /// `sh_info`.
    pub info: u32,
    /// `sh_addralign`.
    pub addralign: u64,
    /// `sh_entsize`.
    pub entsize: u64,
    /// The bytes (empty for `SHT_NOBITS`, whose `size` is still meaningful).
    pub data: &'data [u8],
    /// Absolute offset of this section's header in the file.
    pub header_offset: u64,
}

impl Section<'_> {
    /// `SHT_PROGBITS` with `SHF_EXECINSTR`: BPF code.
    pub fn is_code(&self) -> bool {
        self.is_progbits() && self.flags & elf::SHF_EXECINSTR.0 != 0
    }

    /// `SHT_PROGBITS`: bytes the program defines (code, data, map definitions).
    pub fn is_progbits(&self) -> bool {
        self.sh_type == elf::SHT_PROGBITS.0
    }

    /// `SHT_NOBITS` (`.bss`): a size but no bytes in the file.
    pub fn is_nobits(&self) -> bool {
        self.sh_type == elf::SHT_NOBITS.0
    }

    /// `SHF_WRITE`.
    pub fn is_writable(&self) -> bool {
        self.flags & elf::SHF_WRITE.0 != 0
    }

    /// `SHF_ALLOC`.
    pub fn is_alloc(&self) -> bool {
        self.flags & elf::SHF_ALLOC.0 != 0
    }

    /// The name of `sh_type` (`PROGBITS`, `NOBITS`, `REL`, ...), as llvm-readelf prints it.
    pub fn type_name(&self) -> &'static str {
        match self.sh_type {
            0 => "NULL",
            1 => "PROGBITS",
            2 => "SYMTAB",
            3 => "STRTAB",
            4 => "RELA",
            5 => "HASH",
            6 => "DYNAMIC",
            7 => "NOTE",
            8 => "NOBITS",
            9 => "REL",
            11 => "DYNSYM",
            14 => "INIT_ARRAY",
            15 => "FINI_ARRAY",
            16 => "PREINIT_ARRAY",
            17 => "GROUP",
            18 => "SYMTAB_SHNDX",
            0x6fff4c03 => "LLVM_ADDRSIG",
            _ => "UNKNOWN",
        }
    }
}

/// A symbol's type (`STT_*`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SymbolKind {
    /// `STT_NOTYPE`.
    NoType,
    /// `STT_OBJECT`: a variable or a map.
    Object,
    /// `STT_FUNC`: a program or subprogram.
    Func,
    /// `STT_SECTION`: stands for its section.
    Section,
    /// `STT_FILE`: the source file name.
    File,
    /// Any other value.
    Other(u8),
}

/// A symbol's binding (`STB_*`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SymbolBinding {
    /// `STB_LOCAL` (`static`).
    Local,
    /// `STB_GLOBAL`.
    Global,
    /// `STB_WEAK` (`__weak`).
    Weak,
    /// Any other value.
    Other(u8),
}

/// Where a symbol is defined (`st_shndx`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SymbolSection {
    /// `SHN_UNDEF`: an extern.
    Undefined,
    /// `SHN_ABS`: an absolute value (the `STT_FILE` symbol).
    Absolute,
    /// `SHN_COMMON`.
    Common,
    /// A section of this file.
    Section(SectionIndex),
    /// Another reserved value.
    Other(u16),
}

/// One `.symtab` entry.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Symbol<'data> {
    /// Its index.
    pub index: SymbolIndex,
    /// Its name (for `STT_SECTION` symbols, which have none, the section's name).
    pub name: &'data str,
    /// `st_value`: the offset in its section.
    pub value: u64,
    /// `st_size`.
    pub size: u64,
    /// `STT_*`.
    pub kind: SymbolKind,
    /// `STB_*`.
    pub binding: SymbolBinding,
    /// `STV_*` (`st_other & 3`).
    pub visibility: u8,
    /// `st_shndx`.
    pub section: SymbolSection,
    /// Absolute offset of the entry in the file.
    pub entry_offset: u64,
}

impl Symbol<'_> {
    /// The defining section, if the symbol is defined in one.
    pub fn section_index(&self) -> Option<SectionIndex> {
        match self.section {
            SymbolSection::Section(i) => Some(i),
            _ => None,
        }
    }

    /// `SHN_UNDEF` (and not the null symbol).
    pub fn is_undefined(&self) -> bool {
        self.section == SymbolSection::Undefined && self.index.0 != 0
    }

    /// Global or weak binding.
    pub fn is_global(&self) -> bool {
        matches!(self.binding, SymbolBinding::Global | SymbolBinding::Weak)
    }
}

/// One `Elf64_Rel` or `Elf64_Rela` entry.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Relocation {
    /// `r_offset`: byte offset in the target section.
    pub offset: u64,
    /// The relocation type.
    pub r_type: RelocType,
    /// The symbol it refers to.
    pub symbol: SymbolIndex,
    /// `r_addend` of an `Elf64_Rela` entry; `None` for `Elf64_Rel`, whose addend is the field
    /// being relocated (an instruction's `imm`).
    pub addend: Option<i64>,
    /// Absolute offset of the entry in the file.
    pub entry_offset: u64,
}

/// A `SHT_REL` or `SHT_RELA` section and the section its entries apply to.
///
/// clang writes `SHT_REL` for BPF; some old toolchains wrote `SHT_RELA` (Open vSwitch's
/// datapath objects), which libbpf does not read at all.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RelocationSection {
    /// The relocation section.
    pub section: SectionIndex,
    /// The section the relocations apply to (`sh_info`).
    pub target: SectionIndex,
    /// Whether it is `SHT_RELA` (entries with explicit addends).
    pub rela: bool,
    /// The entries, in file order.
    pub relocations: Vec<Relocation>,
}

/// A validated ELF64 relocatable file.
#[derive(Clone, Debug)]
pub struct ElfFile<'data> {
    data: &'data [u8],
    endian: Endianness,
    machine: u16,
    file_type: u16,
    sections: Vec<Section<'data>>,
    symtab: Option<SectionIndex>,
    symbols: Vec<Symbol<'data>>,
    relocations: Vec<RelocationSection>,
}

impl<'data> ElfFile<'data> {
    /// Parses and validates the header, section table, symbol table and relocation tables.
    pub fn parse(data: &'data [u8]) -> Result<ElfFile<'data>> {
        let mut file = ElfFile::read(data, true)?;
        file.read_symbols()?;
        file.read_relocations()?;
        Ok(file)
    }

    /// Reads only the header and the section table of any ELF64 file — of any type and machine,
    /// such as a kernel module or `vmlinux` — for a caller that wants a section's bytes (the
    /// `.BTF` that `bpfkit btf dump` prints). Symbols and relocations are left unread (empty).
    pub fn parse_sections(data: &'data [u8]) -> Result<ElfFile<'data>> {
        ElfFile::read(data, false)
    }

    /// An error unless the file is little-endian: instructions are read as `bpfel` slots.
    pub fn require_little_endian(&self) -> Result<()> {
        if self.is_little_endian() {
            Ok(())
        } else {
            Err(ElfError::new(
                5,
                ErrorKind::Unsupported("big-endian (bpfeb) objects"),
            ))
        }
    }

    /// The header and section table; with `bpf`, only a relocatable object for `EM_BPF`.
    fn read(data: &'data [u8], bpf: bool) -> Result<ElfFile<'data>> {
        let file_len = data.len() as u64;
        if data.len() < 4 || data[..4] != elf::ELFMAG {
            return Err(ElfError::new(0, ErrorKind::BadMagic));
        }
        let header: &FileHeader64<Endianness> = data
            .read_at(0)
            .map_err(|()| truncated(0, "ELF header", EHDR_SIZE, file_len))?;
        let ident = &header.e_ident;
        if ident.class != elf::ELFCLASS64 {
            return Err(bad_field(
                4,
                "EI_CLASS",
                ident.class.0.into(),
                "only ELFCLASS64 (2)",
            ));
        }
        let endian = match ident.data {
            elf::ELFDATA2LSB => Endianness::Little,
            elf::ELFDATA2MSB => Endianness::Big,
            other => {
                return Err(bad_field(
                    5,
                    "EI_DATA",
                    other.0.into(),
                    "1 (LSB) or 2 (MSB)",
                ));
            }
        };
        if ident.version != elf::EV_CURRENT {
            return Err(bad_field(6, "EI_VERSION", ident.version.0.into(), "1"));
        }
        let file_type = header.e_type.get(endian).0;
        if bpf && file_type != elf::ET_REL.0 {
            return Err(bad_field(
                16,
                "e_type",
                file_type.into(),
                "ET_REL (1): a relocatable object",
            ));
        }
        let machine = header.e_machine.get(endian).0;
        // Old LLVM wrote EM_NONE; libbpf accepts both.
        if bpf && machine != elf::EM_BPF.0 && machine != elf::EM_NONE.0 {
            return Err(bad_field(18, "e_machine", machine.into(), "EM_BPF (247)"));
        }

        let raw = read_section_headers(data, header, endian)?;
        let shstrndx = section_names_index(header, raw, endian)?;
        let shstrtab = raw.get(shstrndx).ok_or_else(|| {
            ElfError::new(
                62,
                ErrorKind::BadSectionIndex {
                    index: shstrndx as u64,
                    count: raw.len(),
                },
            )
        })?;
        let shstrtab_header = header.e_shoff.get(endian) + shstrndx as u64 * SHDR_SIZE;
        let shstrtab_data = section_bytes(data, shstrtab, endian, shstrndx, "", shstrtab_header)?;

        let mut sections = Vec::with_capacity(raw.len());
        for (i, sh) in raw.iter().enumerate() {
            let header_offset = header.e_shoff.get(endian) + i as u64 * SHDR_SIZE;
            let name_off = u64::from(sh.sh_name.get(endian));
            let name = string_at(shstrtab_data, name_off, header_offset, "section name")?;
            let data_slice = section_bytes(data, sh, endian, i, name, header_offset)?;
            sections.push(Section {
                index: SectionIndex(i),
                name,
                sh_type: sh.sh_type.get(endian).0,
                flags: sh.sh_flags.get(endian).0,
                offset: sh.sh_offset.get(endian),
                size: sh.sh_size.get(endian),
                link: sh.sh_link.get(endian),
                info: sh.sh_info.get(endian),
                addralign: sh.sh_addralign.get(endian),
                entsize: sh.sh_entsize.get(endian),
                data: data_slice,
                header_offset,
            });
        }

        let file = ElfFile {
            data,
            endian,
            machine,
            file_type,
            sections,
            symtab: None,
            symbols: Vec::new(),
            relocations: Vec::new(),
        };
        Ok(file)
    }

    /// The whole file.
    pub fn data(&self) -> &'data [u8] {
        self.data
    }

    /// The byte order.
    pub fn endian(&self) -> Endianness {
        self.endian
    }

    /// Whether the file is little-endian (`bpfel`).
    pub fn is_little_endian(&self) -> bool {
        self.endian == Endianness::Little
    }

    /// A `u32` read from `bytes` in the file's byte order.
    pub fn endian_u32(&self, bytes: [u8; 4]) -> u32 {
        match self.endian {
            Endianness::Little => u32::from_le_bytes(bytes),
            Endianness::Big => u32::from_be_bytes(bytes),
        }
    }

    /// `e_machine` (`EM_BPF` = 247, or 0 from old LLVM).
    pub fn machine(&self) -> u16 {
        self.machine
    }

    /// `e_type` (always `ET_REL` = 1 from [`ElfFile::parse`], which rejects other types).
    pub fn file_type(&self) -> u16 {
        self.file_type
    }

    /// Every section, the null section at index 0 included.
    pub fn sections(&self) -> &[Section<'data>] {
        &self.sections
    }

    /// The section at `index`.
    pub fn section(&self, index: SectionIndex) -> Option<&Section<'data>> {
        self.sections.get(index.0)
    }

    /// The first section named `name`.
    pub fn section_by_name(&self, name: &str) -> Option<&Section<'data>> {
        self.sections.iter().find(|s| s.name == name)
    }

    /// The `.symtab` section, if any.
    pub fn symbol_table(&self) -> Option<SectionIndex> {
        self.symtab
    }

    /// Every symbol, the null symbol at index 0 included.
    pub fn symbols(&self) -> &[Symbol<'data>] {
        &self.symbols
    }

    /// The symbol at `index`.
    pub fn symbol(&self, index: SymbolIndex) -> Option<&Symbol<'data>> {
        self.symbols.get(index.0)
    }

    /// Every relocation section, in section order.
    pub fn relocation_sections(&self) -> &[RelocationSection] {
        &self.relocations
    }

    /// The relocations that apply to `target`, in file order (empty if none).
    pub fn relocations_for(&self, target: SectionIndex) -> impl Iterator<Item = &Relocation> {
        self.relocations
            .iter()
            .filter(move |r| r.target == target)
            .flat_map(|r| r.relocations.iter())
    }

    fn error_in(&self, offset: u64, index: SectionIndex, kind: ErrorKind) -> ElfError {
        let name = self.section(index).map_or("", |s| s.name);
        ElfError::in_section(offset, index, name, kind)
    }

    fn read_symbols(&mut self) -> Result<()> {
        let mut symtabs = self
            .sections
            .iter()
            .filter(|s| s.sh_type == elf::SHT_SYMTAB.0);
        let Some(symtab) = symtabs.next().copied() else {
            return Ok(());
        };
        if let Some(second) = symtabs.next() {
            return Err(self.error_in(
                second.header_offset,
                second.index,
                ErrorKind::MultipleSymbolTables,
            ));
        }
        self.symtab = Some(symtab.index);
        let table = self.table(&symtab, SYM_SIZE, "24 (Elf64_Sym)")?;
        let strtab_index = symtab.link as usize;
        let strtab = self.sections.get(strtab_index).ok_or_else(|| {
            self.error_in(
                symtab.header_offset + 40,
                symtab.index,
                ErrorKind::BadSectionIndex {
                    index: strtab_index as u64,
                    count: self.sections.len(),
                },
            )
        })?;
        let strings = strtab.data;
        let count = table.len() / SYM_SIZE as usize;
        let syms: &[Sym64<Endianness>] = table.read_slice_at(0, count).unwrap_or_default();
        let e = self.endian;
        let mut symbols = Vec::with_capacity(count);
        for (i, sym) in syms.iter().enumerate() {
            let entry_offset = symtab.offset + i as u64 * SYM_SIZE;
            let shndx = sym.st_shndx.get(e).0;
            let section = match shndx {
                0 => SymbolSection::Undefined,
                0xfff1 => SymbolSection::Absolute,
                0xfff2 => SymbolSection::Common,
                n if n >= 0xff00 => SymbolSection::Other(n),
                n if usize::from(n) < self.sections.len() => {
                    SymbolSection::Section(SectionIndex(n.into()))
                }
                n => {
                    return Err(self.error_in(
                        entry_offset + 6,
                        symtab.index,
                        ErrorKind::BadSectionIndex {
                            index: n.into(),
                            count: self.sections.len(),
                        },
                    ));
                }
            };
            let info = sym.st_info;
            let kind = match info.st_type().0 {
                0 => SymbolKind::NoType,
                1 => SymbolKind::Object,
                2 => SymbolKind::Func,
                3 => SymbolKind::Section,
                4 => SymbolKind::File,
                n => SymbolKind::Other(n),
            };
            let binding = match info.st_bind().0 {
                0 => SymbolBinding::Local,
                1 => SymbolBinding::Global,
                2 => SymbolBinding::Weak,
                n => SymbolBinding::Other(n),
            };
            let name_off = u64::from(sym.st_name.get(e));
            let mut name = string_at(strings, name_off, entry_offset, "symbol name")
                .map_err(|err| with_section(err, symtab.index, symtab.name))?;
            if name.is_empty() && kind == SymbolKind::Section {
                if let SymbolSection::Section(s) = section {
                    name = self.sections[s.0].name;
                }
            }
            symbols.push(Symbol {
                index: SymbolIndex(i),
                name,
                value: sym.st_value.get(e),
                size: sym.st_size.get(e),
                kind,
                binding,
                visibility: sym.st_other.0 & 3,
                section,
                entry_offset,
            });
        }
        self.symbols = symbols;
        Ok(())
    }

    fn read_relocations(&mut self) -> Result<()> {
        let e = self.endian;
        let mut all = Vec::new();
        for sec in &self.sections {
            let rela = sec.sh_type == elf::SHT_RELA.0;
            if !rela && sec.sh_type != elf::SHT_REL.0 {
                continue;
            }
            let (entsize, expected) = if rela {
                (RELA_SIZE, "24 (Elf64_Rela)")
            } else {
                (REL_SIZE, "16 (Elf64_Rel)")
            };
            let table = self.table(sec, entsize, expected)?;
            let target_index = sec.info as usize;
            let Some(target) = self.sections.get(target_index) else {
                return Err(self.error_in(
                    sec.header_offset + 44,
                    sec.index,
                    ErrorKind::BadSectionIndex {
                        index: target_index as u64,
                        count: self.sections.len(),
                    },
                ));
            };
            let count = table.len() / entsize as usize;
            let entries: Vec<(u64, u64, Option<i64>)> = if rela {
                let rels: &[Rela64<Endianness>] = table.read_slice_at(0, count).unwrap_or_default();
                rels.iter()
                    .map(|r| {
                        let addend = r.r_addend.get(e);
                        (r.r_offset.get(e), r.r_info.get(e), Some(addend))
                    })
                    .collect()
            } else {
                let rels: &[Rel64<Endianness>] = table.read_slice_at(0, count).unwrap_or_default();
                rels.iter()
                    .map(|r| (r.r_offset.get(e), r.r_info.get(e), None))
                    .collect()
            };
            let mut relocations = Vec::with_capacity(count);
            for (i, (r_offset, info, addend)) in entries.into_iter().enumerate() {
                let entry_offset = sec.offset + i as u64 * entsize;
                let sym = info >> 32;
                if sym as usize >= self.symbols.len() || self.symtab.is_none() {
                    return Err(self.error_in(
                        entry_offset + 8,
                        sec.index,
                        ErrorKind::BadSymbolIndex {
                            index: sym,
                            count: self.symbols.len(),
                        },
                    ));
                }
                if r_offset >= target.size {
                    return Err(self.error_in(
                        entry_offset,
                        sec.index,
                        ErrorKind::RelocationOutOfBounds {
                            r_offset,
                            size: target.size,
                        },
                    ));
                }
                relocations.push(Relocation {
                    offset: r_offset,
                    r_type: RelocType::from((info & 0xffff_ffff) as u32),
                    symbol: SymbolIndex(sym as usize),
                    addend,
                    entry_offset,
                });
            }
            all.push(RelocationSection {
                section: sec.index,
                target: target.index,
                rela,
                relocations,
            });
        }
        self.relocations = all;
        Ok(())
    }

    /// A table section's bytes, checked to be whole entries of `entsize` bytes; `expected` says
    /// which (`"24 (Elf64_Sym)"`).
    fn table(
        &self,
        sec: &Section<'data>,
        entsize: u64,
        expected: &'static str,
    ) -> Result<&'data [u8]> {
        if sec.entsize != entsize {
            return Err(self.error_in(
                sec.header_offset + 56,
                sec.index,
                ErrorKind::BadField {
                    field: "sh_entsize",
                    value: sec.entsize,
                    expected,
                },
            ));
        }
        if sec.size % entsize != 0 || sec.is_nobits() {
            return Err(self.error_in(
                sec.header_offset + 32,
                sec.index,
                ErrorKind::OddSize {
                    size: sec.size,
                    entsize,
                },
            ));
        }
        Ok(sec.data)
    }
}

fn truncated(offset: u64, what: &'static str, need: u64, file_len: u64) -> ElfError {
    ElfError::new(
        offset,
        ErrorKind::Truncated {
            what,
            need,
            have: file_len.saturating_sub(offset),
        },
    )
}

fn bad_field(offset: u64, field: &'static str, value: u64, expected: &'static str) -> ElfError {
    ElfError::new(
        offset,
        ErrorKind::BadField {
            field,
            value,
            expected,
        },
    )
}

fn with_section(mut err: ElfError, index: SectionIndex, name: &str) -> ElfError {
    err.section = Some((index, name.to_string()));
    err
}

/// The section header table, with ELF's extended numbering (`e_shnum` = 0) handled.
fn read_section_headers<'data>(
    data: &'data [u8],
    header: &FileHeader64<Endianness>,
    e: Endianness,
) -> Result<&'data [SectionHeader64<Endianness>]> {
    let shoff = header.e_shoff.get(e);
    let mut shnum = u64::from(header.e_shnum.get(e));
    if shoff == 0 {
        if shnum != 0 {
            return Err(bad_field(60, "e_shnum", shnum, "0 when e_shoff is 0"));
        }
        return Ok(&[]);
    }
    let shentsize = header.e_shentsize.get(e);
    if u64::from(shentsize) != SHDR_SIZE {
        return Err(bad_field(
            58,
            "e_shentsize",
            shentsize.into(),
            "64 (Elf64_Shdr)",
        ));
    }
    let file_len = data.len() as u64;
    if shnum == 0 {
        // Extended numbering: the count is in section 0's sh_size.
        let first: &SectionHeader64<Endianness> = data
            .read_at(shoff)
            .map_err(|()| truncated(shoff, "section header 0", SHDR_SIZE, file_len))?;
        shnum = first.sh_size.get(e);
    }
    let need = shnum.saturating_mul(SHDR_SIZE);
    if shoff.checked_add(need).is_none_or(|end| end > file_len) {
        return Err(truncated(shoff, "section header table", need, file_len));
    }
    Ok(data
        .read_slice_at(shoff, shnum as usize)
        .unwrap_or_default())
}

/// `e_shstrndx`, with `SHN_XINDEX` (the index is in section 0's `sh_link`) handled.
fn section_names_index(
    header: &FileHeader64<Endianness>,
    raw: &[SectionHeader64<Endianness>],
    e: Endianness,
) -> Result<usize> {
    let index = header.e_shstrndx.get(e).0;
    if index == elf::SHN_XINDEX.0 {
        return match raw.first() {
            Some(first) => Ok(first.sh_link.get(e) as usize),
            None => Err(bad_field(62, "e_shstrndx", index.into(), "a section index")),
        };
    }
    Ok(usize::from(index))
}

/// A section's bytes, checked to be inside the file (empty for `SHT_NOBITS`); the error is at
/// the header's `sh_offset` field (`header_offset` is where the header starts).
fn section_bytes<'data>(
    data: &'data [u8],
    sh: &SectionHeader64<Endianness>,
    e: Endianness,
    index: usize,
    name: &str,
    header_offset: u64,
) -> Result<&'data [u8]> {
    let sh_type = sh.sh_type.get(e);
    if sh_type == elf::SHT_NOBITS || sh_type == elf::SHT_NULL {
        return Ok(&[]);
    }
    let start = sh.sh_offset.get(e);
    let size = sh.sh_size.get(e);
    data.read_bytes_at(start, size).map_err(|()| {
        ElfError::in_section(
            header_offset + 24,
            SectionIndex(index),
            name,
            ErrorKind::SectionOutOfBounds {
                start,
                size,
                file_len: data.len() as u64,
            },
        )
    })
}

/// The NUL-terminated UTF-8 string at `offset` of a string table; `at` is the absolute offset
/// of the field holding `offset`, for the error.
fn string_at<'data>(
    table: &'data [u8],
    offset: u64,
    at: u64,
    what: &'static str,
) -> Result<&'data str> {
    if table.is_empty() && offset == 0 {
        // No string table (e_shstrndx = SHN_UNDEF, or an empty .strtab): every name is empty.
        return Ok("");
    }
    let bytes = usize::try_from(offset)
        .ok()
        .and_then(|o| table.get(o..))
        .and_then(|rest| rest.iter().position(|&b| b == 0).map(|end| &rest[..end]))
        .ok_or_else(|| {
            ElfError::new(
                at,
                ErrorKind::BadStringOffset {
                    offset,
                    size: table.len() as u64,
                },
            )
        })?;
    core::str::from_utf8(bytes).map_err(|_| ElfError::new(at, ErrorKind::NotUtf8 { what }))
}

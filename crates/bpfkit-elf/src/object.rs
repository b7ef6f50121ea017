//! [`Object`]: the eBPF model of an ELF object — programs, subprograms, maps, global data,
//! externs, license, kernel version, BTF — built over the validated [`ElfFile`].

use bpfkit_btf::Btf;
use bpfkit_btf::ext::BtfExt;
use bpfkit_isa::Decoder;
use bpfkit_uapi::ProgramSection;

use crate::btf_ext;
use crate::data::{DataSection, Extern, collect_data_sections, collect_externs, data_index};
use crate::elf::{ElfFile, SymbolBinding, SymbolKind};
use crate::error::{ElfError, ErrorKind, Result};
use crate::maps::{
    Map, MapKind, is_legacy_section, parse_btf_maps, parse_legacy_maps, resolve_initial_values,
};
use crate::program::{Function, Program, collect_functions, find_calls};
use crate::reloc::{CodeRelocation, Resolver, resolve};
use crate::warning::{Warning, WarningKind};
use crate::{DataIndex, ExternIndex, MapIndex, ProgIndex, SectionIndex, SymbolIndex};

/// A BPF ELF object.
#[derive(Debug)]
pub struct Object<'data> {
    elf: ElfFile<'data>,
    license: Option<&'data str>,
    kernel_version: Option<u32>,
    btf: Option<Btf<'data>>,
    btf_ext: Option<BtfExt<'data>>,
    programs: Vec<Program<'data>>,
    subprograms: Vec<Function<'data>>,
    maps: Vec<Map<'data>>,
    data_sections: Vec<DataSection<'data>>,
    externs: Vec<Extern<'data>>,
    warnings: Vec<Warning>,
}

impl<'data> Object<'data> {
    /// Parses an object: the ELF structure, then programs, maps, data, externs, BTF and the
    /// relocations that tie them together. Any inconsistency is an [`ElfError`].
    pub fn parse(data: &'data [u8]) -> Result<Object<'data>> {
        let elf = ElfFile::parse(data)?;
        elf.require_little_endian()?;
        if elf.symbol_table().is_none() {
            return Err(ElfError::new(0, ErrorKind::MissingSymbolTable));
        }

        let license = match elf.section_by_name("license") {
            Some(sec) => {
                let end = sec
                    .data
                    .iter()
                    .position(|&b| b == 0)
                    .unwrap_or(sec.data.len());
                let text = core::str::from_utf8(&sec.data[..end]).map_err(|_| {
                    ElfError::in_section(
                        sec.offset,
                        sec.index,
                        sec.name,
                        ErrorKind::NotUtf8 { what: "license" },
                    )
                })?;
                Some(text)
            }
            None => None,
        };
        let kernel_version = match elf.section_by_name("version") {
            Some(sec) => match <[u8; 4]>::try_from(sec.data) {
                Ok(bytes) => Some(elf.endian_u32(bytes)),
                Err(_) => {
                    return Err(ElfError::in_section(
                        sec.offset,
                        sec.index,
                        sec.name,
                        ErrorKind::BadVersion { size: sec.size },
                    ));
                }
            },
            None => None,
        };

        let btf = match elf.section_by_name(".BTF") {
            Some(sec) => Some(Btf::parse(sec.data).map_err(|e| btf_error(sec, ".BTF", e))?),
            None => None,
        };
        if let Some(btf) = &btf {
            // BPF pointers are 8 bytes whatever BTF's `long` says.
            btf.set_ptr_size(8);
        }
        let btf_ext = match (elf.section_by_name(".BTF.ext"), &btf) {
            (Some(sec), Some(btf)) => {
                Some(BtfExt::parse(sec.data, btf).map_err(|e| btf_error(sec, ".BTF.ext", e))?)
            }
            _ => None,
        };

        let mut warnings = Vec::new();

        // Functions: `.text` ones are subprograms, the others entry points.
        let mut programs = Vec::new();
        let mut subprograms = Vec::new();
        for func in collect_functions(&elf, &mut warnings)? {
            if func.section_name == ".text" {
                subprograms.push(func);
            } else {
                // libbpf refuses static FUNC symbols in program sections (untyped functions
                // have their own warning: libbpf does not see them at all).
                let symbol = elf.symbol(func.symbol);
                if let Some(symbol) = symbol
                    .filter(|s| s.kind == SymbolKind::Func && s.binding == SymbolBinding::Local)
                {
                    warnings.push(Warning::new(
                        symbol.entry_offset,
                        Some((func.section, func.section_name)),
                        WarningKind::StaticProgram {
                            name: func.name.to_string(),
                        },
                    ));
                }
                let section = ProgramSection::parse(func.section_name).ok();
                programs.push(Program {
                    function: func,
                    section,
                });
            }
        }

        // Instructions the kernel would refuse; the model keeps the bytes as they are.
        for func in programs.iter().map(|p| &p.function).chain(&subprograms) {
            if let Some(Err(error)) = Decoder::new(func.code).find(|r| r.is_err()) {
                warnings.push(Warning::new(
                    func.file_offset + error.slot as u64 * 8,
                    Some((func.section, func.section_name)),
                    WarningKind::BadInstruction {
                        function: func.name.to_string(),
                        error,
                    },
                ));
            }
        }

        // Maps: legacy first, then BTF-defined, as libbpf (before 1.0) ordered them.
        let mut maps = Vec::new();
        for sec in elf.sections().iter().filter(|s| is_legacy_section(s.name)) {
            maps.extend(parse_legacy_maps(&elf, btf.as_ref(), sec, &mut warnings)?);
        }
        let mut values_offsets = vec![None; maps.len()];
        let btf_maps_section = elf.section_by_name(".maps").copied();
        if let Some(sec) = &btf_maps_section {
            for parsed in parse_btf_maps(&elf, btf.as_ref(), sec, &mut warnings)? {
                maps.push(parsed.map);
                values_offsets.push(parsed.values_offset);
            }
        }

        let data_sections = collect_data_sections(&elf);
        let externs = collect_externs(&elf, btf.as_ref(), &mut warnings)?;

        let mut object = Object {
            elf,
            license,
            kernel_version,
            btf,
            btf_ext,
            programs,
            subprograms,
            maps,
            data_sections,
            externs,
            warnings,
        };
        object.resolve_code_relocations()?;
        if let Some(sec) = &btf_maps_section {
            resolve_initial_values(
                &object.elf,
                sec,
                &mut object.maps,
                &values_offsets,
                &object.programs,
                &mut object.warnings,
            )?;
        }
        if let Some(ext) = &object.btf_ext {
            let mut all: Vec<&mut Function<'data>> = object
                .programs
                .iter_mut()
                .map(|p| &mut p.function)
                .chain(object.subprograms.iter_mut())
                .collect();
            btf_ext::attach(&mut all, ext);
        }
        // In file order, as a reader of the file meets them.
        object.warnings.sort_by_key(|w| w.offset);
        Ok(object)
    }

    /// Resolves every relocation against a code section and gives it to its function; finds
    /// every bpf-to-bpf call.
    fn resolve_code_relocations(&mut self) -> Result<()> {
        let elf = &self.elf;
        let maps = &self.maps;
        let data_sections = &self.data_sections;
        let externs = &self.externs;
        let map_at = |section: SectionIndex, offset: u64| {
            maps.iter()
                .position(|m| m.section == section && m.offset == offset)
                .map(MapIndex)
        };
        let data_at = |section: SectionIndex| data_index(data_sections, section);
        let is_maps = |section: SectionIndex| {
            elf.section(section)
                .is_some_and(|s| s.name == ".maps" || is_legacy_section(s.name))
        };
        let extern_of = |symbol: SymbolIndex| {
            externs
                .iter()
                .position(|e| e.symbol == symbol)
                .map(ExternIndex)
        };
        let resolver = Resolver {
            elf,
            map_at: &map_at,
            data_at: &data_at,
            is_maps: &is_maps,
            extern_of: &extern_of,
        };
        let mut functions: Vec<&mut Function<'data>> = self
            .programs
            .iter_mut()
            .map(|p| &mut p.function)
            .chain(self.subprograms.iter_mut())
            .collect();
        for rel_section in elf.relocation_sections() {
            let Some(target) = elf.section(rel_section.target) else {
                continue;
            };
            if !target.is_code() {
                continue;
            }
            if rel_section.rela && !rel_section.relocations.is_empty() {
                let section = elf.section(rel_section.section);
                self.warnings.push(Warning::new(
                    section.map_or(0, |s| s.header_offset),
                    section.map(|s| (s.index, s.name)),
                    WarningKind::RelaRelocations {
                        count: rel_section.relocations.len(),
                    },
                ));
            }
            for rel in &rel_section.relocations {
                let (resolved, symbol_name) = resolve(&resolver, target.index, target.data, rel)?;
                let insn = rel.offset / 8;
                // A relocation outside every function (libbpf: "probably overridden weak
                // function") stays visible only at the ELF level.
                let Some(func) = functions
                    .iter_mut()
                    .find(|f| f.contains(target.index, insn))
                else {
                    continue;
                };
                func.relocations.push(CodeRelocation {
                    insn: (insn - func.first_insn()) as usize,
                    section_offset: rel.offset,
                    r_type: rel.r_type,
                    symbol: rel.symbol,
                    symbol_name,
                    target: resolved,
                    entry_offset: rel.entry_offset,
                });
            }
        }
        for func in functions.iter_mut() {
            func.relocations.sort_by_key(|r| r.insn);
            if let Some(section) = elf.section(func.section) {
                find_calls(func, section);
            }
        }
        Ok(())
    }

    /// The low-level ELF view.
    pub fn elf(&self) -> &ElfFile<'data> {
        &self.elf
    }

    /// The `license` section's text (up to its NUL), if present.
    pub fn license(&self) -> Option<&'data str> {
        self.license
    }

    /// The `version` section's value (`LINUX_VERSION_CODE`), if present.
    pub fn kernel_version(&self) -> Option<u32> {
        self.kernel_version
    }

    /// The parsed `.BTF`, if present.
    pub fn btf(&self) -> Option<&Btf<'data>> {
        self.btf.as_ref()
    }

    /// The parsed `.BTF.ext`, if present.
    pub fn btf_ext(&self) -> Option<&BtfExt<'data>> {
        self.btf_ext.as_ref()
    }

    /// The entry points: functions in code sections other than `.text`, by section then offset.
    pub fn programs(&self) -> &[Program<'data>] {
        &self.programs
    }

    /// The program named `name`.
    pub fn program(&self, name: &str) -> Option<&Program<'data>> {
        self.programs.iter().find(|p| p.name() == name)
    }

    /// The program at `index`.
    pub fn program_at(&self, index: ProgIndex) -> Option<&Program<'data>> {
        self.programs.get(index.0)
    }

    /// The subprograms: functions in `.text`, by offset.
    pub fn subprograms(&self) -> &[Function<'data>] {
        &self.subprograms
    }

    /// Every function, programs first.
    pub fn functions(&self) -> impl Iterator<Item = &Function<'data>> {
        self.programs
            .iter()
            .map(|p| &p.function)
            .chain(self.subprograms.iter())
    }

    /// The function whose first instruction is instruction `insn` of `section` (a call target).
    pub fn function_at(&self, section: SectionIndex, insn: u64) -> Option<&Function<'data>> {
        self.functions()
            .find(|f| f.section == section && f.first_insn() == insn)
    }

    /// The maps: legacy ones first, then BTF-defined ones in `.maps` order.
    pub fn maps(&self) -> &[Map<'data>] {
        &self.maps
    }

    /// The map named `name`.
    pub fn map(&self, name: &str) -> Option<&Map<'data>> {
        self.maps.iter().find(|m| m.name == name)
    }

    /// The map at `index`.
    pub fn map_at(&self, index: MapIndex) -> Option<&Map<'data>> {
        self.maps.get(index.0)
    }

    /// Whether any map is BTF-defined.
    pub fn has_btf_maps(&self) -> bool {
        self.maps.iter().any(|m| m.kind == MapKind::Btf)
    }

    /// The global data sections, in section order.
    pub fn data_sections(&self) -> &[DataSection<'data>] {
        &self.data_sections
    }

    /// The data section at `index`.
    pub fn data_section_at(&self, index: DataIndex) -> Option<&DataSection<'data>> {
        self.data_sections.get(index.0)
    }

    /// The externs (`__kconfig`, `__ksym`, kfuncs), in symbol order.
    pub fn externs(&self) -> &[Extern<'data>] {
        &self.externs
    }

    /// The extern at `index`.
    pub fn extern_at(&self, index: ExternIndex) -> Option<&Extern<'data>> {
        self.externs.get(index.0)
    }

    /// What the object holds that a loader refuses or ignores (legacy maps, static programs,
    /// externs outside `.kconfig`/`.ksyms`, ...), in the order found. The model holds all of
    /// it; whether to load is the consumer's decision.
    pub fn warnings(&self) -> &[Warning] {
        &self.warnings
    }
}

fn btf_error(
    sec: &crate::elf::Section<'_>,
    which: &'static str,
    e: bpfkit_btf::BtfError,
) -> ElfError {
    let offset = e.offset().map_or(sec.offset, |o| sec.offset + o as u64);
    ElfError::in_section(
        offset,
        sec.index,
        sec.name,
        ErrorKind::Btf {
            section: which,
            source: e,
        },
    )
}

/// `object.maps()[i]` and the like with the typed indices of relocations.
macro_rules! typed_index {
    ($index:ty => $item:ident) => {
        impl<'data> core::ops::Index<$index> for [$item<'data>] {
            type Output = $item<'data>;

            fn index(&self, index: $index) -> &$item<'data> {
                &self[index.0]
            }
        }
    };
}

typed_index!(MapIndex => Map);
typed_index!(DataIndex => DataSection);
typed_index!(ExternIndex => Extern);
typed_index!(ProgIndex => Program);

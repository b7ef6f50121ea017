//! Global data sections (`.data`, `.rodata`, `.bss` and their `.data.*`/`.rodata.*`/`.bss.*`
//! variants, which libbpf turns into array maps) and externs (`__kconfig` and `__ksym`
//! variables, kfuncs), which the loader fills in.

use bpfkit_btf::{Btf, Kind, Linkage, TypeId};

use crate::elf::{ElfFile, SymbolKind};
use crate::error::{ElfError, ErrorKind, Result};
use crate::{DataIndex, SectionIndex, SymbolIndex};

/// Which kind of global data a section holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DataKind {
    /// `.data`, `.data.*`: initialised, writable.
    Data,
    /// `.rodata`, `.rodata.*`: initialised, read-only (frozen after load).
    Rodata,
    /// `.bss`, `.bss.*`: zero-initialised.
    Bss,
}

impl DataKind {
    /// The kind of the section named `name` with type `nobits`, as libbpf classifies it.
    pub fn of(name: &str, nobits: bool) -> Option<DataKind> {
        let is = |base: &str| {
            name == base || name.strip_prefix(base).is_some_and(|r| r.starts_with('.'))
        };
        if nobits {
            is(".bss").then_some(DataKind::Bss)
        } else if is(".data") {
            Some(DataKind::Data)
        } else if is(".rodata") {
            Some(DataKind::Rodata)
        } else {
            None
        }
    }
}

/// A global variable: a symbol in a data section.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Variable<'data> {
    /// Its name.
    pub name: &'data str,
    /// Its symbol.
    pub symbol: SymbolIndex,
    /// Byte offset in the section.
    pub offset: u64,
    /// Size in bytes.
    pub size: u64,
    /// Whether the symbol is global (not `static`).
    pub global: bool,
}

/// A global data section.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DataSection<'data> {
    /// The section's name.
    pub name: &'data str,
    /// The section.
    pub section: SectionIndex,
    /// What it holds.
    pub kind: DataKind,
    /// Size in bytes.
    pub size: u64,
    /// The initial bytes (empty for `.bss`).
    pub data: &'data [u8],
    /// The variables (OBJECT symbols) in it, by offset.
    pub variables: Vec<Variable<'data>>,
}

/// The global data sections of `elf`: non-empty `.data*`/`.rodata*` PROGBITS and `.bss*` NOBITS.
pub(crate) fn collect_data_sections<'data>(elf: &ElfFile<'data>) -> Vec<DataSection<'data>> {
    let mut out = Vec::new();
    for sec in elf.sections() {
        let progbits = sec.sh_type == 1 && !sec.is_code() && sec.size > 0;
        if !progbits && !sec.is_nobits() {
            continue;
        }
        let Some(kind) = DataKind::of(sec.name, sec.is_nobits()) else {
            continue;
        };
        let mut variables: Vec<Variable<'data>> = elf
            .symbols()
            .iter()
            .filter(|s| {
                s.section_index() == Some(sec.index)
                    && matches!(s.kind, SymbolKind::Object | SymbolKind::NoType)
            })
            .map(|s| Variable {
                name: s.name,
                symbol: s.index,
                offset: s.value,
                size: s.size,
                global: s.is_global(),
            })
            .collect();
        variables.sort_by_key(|v| (v.offset, v.symbol));
        out.push(DataSection {
            name: sec.name,
            section: sec.index,
            kind,
            size: sec.size,
            data: sec.data,
            variables,
        });
    }
    out
}

/// What an extern is, from the BTF DATASEC that declares it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ExternKind {
    /// A `__kconfig` variable (`CONFIG_*`, `LINUX_KERNEL_VERSION`, ...) in `.kconfig`.
    Kconfig,
    /// A `__ksym` kernel variable in `.ksyms`; `typed` when its BTF type is not void (the
    /// loader then needs the kernel's BTF id, else its address).
    Ksym {
        /// Whether the variable has a type.
        typed: bool,
    },
    /// A `__ksym` kernel function (kfunc) in `.ksyms`.
    Kfunc,
}

/// An extern: an undefined global symbol the loader resolves.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Extern<'data> {
    /// Its name.
    pub name: &'data str,
    /// Its (undefined) symbol.
    pub symbol: SymbolIndex,
    /// What it is.
    pub kind: ExternKind,
    /// Declared `__weak`: may be missing at load time.
    pub weak: bool,
    /// Its VAR or FUNC in the object's BTF.
    pub btf_type: TypeId,
}

/// The externs of `elf` (libbpf's `bpf_object__collect_externs`): undefined global or weak
/// NOTYPE symbols, each described by an extern VAR or FUNC in a `.kconfig` or `.ksyms` DATASEC.
pub(crate) fn collect_externs<'data>(
    elf: &ElfFile<'data>,
    btf: Option<&Btf<'data>>,
) -> Result<Vec<Extern<'data>>> {
    let mut out = Vec::new();
    for sym in elf.symbols() {
        if !sym.is_undefined()
            || !sym.is_global()
            || sym.kind != SymbolKind::NoType
            || sym.name.is_empty()
        {
            continue;
        }
        let fail = |reason| {
            ElfError::new(
                sym.entry_offset,
                ErrorKind::BadExtern {
                    name: sym.name.to_string(),
                    reason,
                },
            )
        };
        let btf = btf.ok_or_else(|| fail("the object has no BTF to describe it"))?;
        let decl = btf
            .all_types()
            .find(|t| {
                matches!(t.kind(), Kind::Var | Kind::Func)
                    && t.linkage() == Some(Linkage::Extern)
                    && t.name_bytes() == sym.name.as_bytes()
            })
            .ok_or_else(|| fail("no extern VAR or FUNC of that name in BTF"))?;
        let section = btf
            .all_types()
            .filter(|t| t.kind() == Kind::Datasec)
            .find(|d| d.var_secinfos().any(|v| v.type_id == decl.id()))
            .ok_or_else(|| fail("not in any DATASEC"))?;
        let kind = match (section.name_bytes(), decl.kind()) {
            (b".kconfig", Kind::Var) => ExternKind::Kconfig,
            (b".ksyms", Kind::Func) => ExternKind::Kfunc,
            (b".ksyms", _) => {
                let ty = btf
                    .resolve(decl.ref_type().unwrap_or_default())
                    .map_err(|_| fail("its BTF type cannot be resolved"))?;
                ExternKind::Ksym {
                    typed: !ty.is_void(),
                }
            }
            _ => return Err(fail("declared outside .kconfig and .ksyms")),
        };
        out.push(Extern {
            name: sym.name,
            symbol: sym.index,
            kind,
            weak: sym.binding == crate::elf::SymbolBinding::Weak,
            btf_type: decl.id(),
        });
    }
    Ok(out)
}

/// The data section index for `section`, if it holds global data.
pub(crate) fn data_index(sections: &[DataSection<'_>], section: SectionIndex) -> Option<DataIndex> {
    sections
        .iter()
        .position(|d| d.section == section)
        .map(DataIndex)
}

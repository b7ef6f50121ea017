//! Global data sections (`.data`, `.rodata`, `.bss` and their `.data.*`/`.rodata.*`/`.bss.*`
//! variants, which libbpf turns into array maps) and externs (`__kconfig` and `__ksym`
//! variables, kfuncs), which the loader fills in.

use bpfkit_btf::{Btf, Kind, Linkage, Type, TypeId};

use crate::elf::{ElfFile, SymbolKind};
use crate::error::{ElfError, ErrorKind, Result};
use crate::warning::{Warning, WarningKind};
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
        let progbits = sec.is_progbits() && !sec.is_code() && sec.size > 0;
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
    /// A function declared (a BTF FUNC with extern linkage) but outside `.ksyms`: defined by
    /// another object, for a static linker (`bpftool gen object`) to resolve.
    Function,
    /// A variable declared (a BTF VAR with extern linkage) outside `.kconfig` and `.ksyms`.
    Variable,
    /// An undefined symbol no BTF declaration describes: a symbol of inline assembly
    /// (`r1 = MY_CONST ll`), a builtin clang left as a call (`memcpy`), or any extern of an
    /// object without BTF.
    Undescribed,
}

impl ExternKind {
    /// Whether a loader resolves it against the kernel (`.kconfig` and `.ksyms` externs), rather
    /// than needing another object or something the object does not say.
    pub fn is_kernel(self) -> bool {
        matches!(
            self,
            ExternKind::Kconfig | ExternKind::Ksym { .. } | ExternKind::Kfunc
        )
    }
}

impl core::fmt::Display for ExternKind {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.pad(match self {
            ExternKind::Kconfig => "kconfig",
            ExternKind::Ksym { typed: true } => "ksym",
            ExternKind::Ksym { typed: false } => "ksym-typeless",
            ExternKind::Kfunc => "kfunc",
            ExternKind::Function => "function",
            ExternKind::Variable => "variable",
            ExternKind::Undescribed => "undescribed",
        })
    }
}

/// An extern: an undefined global symbol the loader (or a static linker) resolves.
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
    /// Its VAR or FUNC in the object's BTF; [`TypeId::VOID`] (0) for
    /// [`ExternKind::Undescribed`], which no BTF declaration describes.
    pub btf_type: TypeId,
}

/// The externs of `elf` (libbpf's `bpf_object__collect_externs`): undefined global or weak
/// symbols, each described by an extern VAR or FUNC of the object's BTF when there is one. Those
/// a loader cannot resolve against the kernel get a warning.
pub(crate) fn collect_externs<'data>(
    elf: &ElfFile<'data>,
    btf: Option<&Btf<'data>>,
    warnings: &mut Vec<Warning>,
) -> Result<Vec<Extern<'data>>> {
    let mut out = Vec::new();
    for sym in elf.symbols() {
        if !sym.is_undefined() || !sym.is_global() || sym.name.is_empty() {
            continue;
        }
        let decl = btf.and_then(|btf| {
            btf.all_types().find(|t| {
                matches!(t.kind(), Kind::Var | Kind::Func)
                    && t.linkage() == Some(Linkage::Extern)
                    && t.name_bytes() == sym.name.as_bytes()
            })
        });
        let kind = match (btf, decl) {
            (Some(btf), Some(decl)) => extern_kind(btf, &decl).map_err(|reason| {
                ElfError::new(
                    sym.entry_offset,
                    ErrorKind::BadExtern {
                        name: sym.name.to_string(),
                        reason,
                    },
                )
            })?,
            _ => ExternKind::Undescribed,
        };
        if !kind.is_kernel() {
            warnings.push(Warning::new(
                sym.entry_offset,
                elf.symbol_table()
                    .and_then(|i| elf.section(i))
                    .map(|s| (s.index, s.name)),
                WarningKind::UnresolvedExtern {
                    name: sym.name.to_string(),
                    kind,
                },
            ));
        }
        out.push(Extern {
            name: sym.name,
            symbol: sym.index,
            kind,
            weak: sym.binding == crate::elf::SymbolBinding::Weak,
            btf_type: decl.map_or(TypeId::VOID, |d| d.id()),
        });
    }
    Ok(out)
}

/// What an extern declared by BTF VAR or FUNC `decl` is, from the DATASEC holding it.
fn extern_kind(btf: &Btf<'_>, decl: &Type<'_>) -> Result<ExternKind, &'static str> {
    let datasec = btf
        .all_types()
        .filter(|t| t.kind() == Kind::Datasec)
        .find(|d| d.var_secinfos().any(|v| v.type_id == decl.id()));
    Ok(
        match (datasec.as_ref().map(|d| d.name_bytes()), decl.kind()) {
            (Some(b".kconfig"), Kind::Var) => ExternKind::Kconfig,
            (Some(b".ksyms"), Kind::Func) => ExternKind::Kfunc,
            (Some(b".ksyms"), _) => {
                let ty = btf
                    .resolve(decl.ref_type().unwrap_or_default())
                    .map_err(|_| "its BTF type cannot be resolved")?;
                ExternKind::Ksym {
                    typed: !ty.is_void(),
                }
            }
            (_, Kind::Func) => ExternKind::Function,
            _ => ExternKind::Variable,
        },
    )
}

/// The data section index for `section`, if it holds global data.
pub(crate) fn data_index(sections: &[DataSection<'_>], section: SectionIndex) -> Option<DataIndex> {
    sections
        .iter()
        .position(|d| d.section == section)
        .map(DataIndex)
}

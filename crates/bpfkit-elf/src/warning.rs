//! Warnings: what an object holds that the reader models, but that a loader refuses or ignores.
//!
//! The reader's job is to say what is in the file; whether to load it is the consumer's. So a
//! legacy `maps` section, a static program or an extern no BTF describes is read into the model
//! like everything else, and [`Object::warnings`](crate::Object::warnings) lists it with where it
//! is and who refuses it (libbpf 1.x, whose rules the kernel-facing loaders follow, or cilium/ebpf
//! and iproute2 where they differ). A loader built on this crate decides what to do with each.

use core::fmt;

use bpfkit_isa::DecodeError;

use crate::SectionIndex;
use crate::data::ExternKind;

/// One warning: what, at which absolute byte offset of the file, and in which section.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Warning {
    /// Absolute byte offset in the file of the entry or record concerned.
    pub offset: u64,
    /// The section involved (index and name), if any.
    pub section: Option<(SectionIndex, String)>,
    /// What it is.
    pub kind: WarningKind,
}

impl Warning {
    pub(crate) fn new(
        offset: u64,
        section: Option<(SectionIndex, &str)>,
        kind: WarningKind,
    ) -> Warning {
        Warning {
            offset,
            section: section.map(|(index, name)| (index, name.to_string())),
            kind,
        }
    }
}

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "at offset {:#x}", self.offset)?;
        if let Some((index, name)) = &self.section {
            write!(f, " (section {index} '{name}')")?;
        }
        write!(f, ": {}", self.kind)
    }
}

/// What a [`Warning`] is about.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum WarningKind {
    /// A legacy map section (`SEC("maps")`, or PREVAIL's `maps/NAME`): libbpf 1.0 and later
    /// refuse the object; iproute2, cilium/ebpf and libbpf before 1.0 read it.
    #[error(
        "legacy map definitions ({count} map{}): libbpf 1.0+ refuses them",
        if *count == 1 { "" } else { "s" }
    )]
    LegacyMaps {
        /// Number of maps defined in the section.
        count: usize,
    },
    /// A legacy map definition with non-zero bytes past `struct bpf_map_def` that neither the
    /// object's BTF nor the definition's size identifies: libbpf before 1.0 and cilium/ebpf
    /// refuse to create such a map.
    #[error("map '{map}': {size}-byte definition with unknown non-zero fields past map_flags")]
    UnknownMapFields {
        /// The map.
        map: String,
        /// The definition's size in bytes.
        size: u64,
    },
    /// A BTF-defined map's `pinning` that libbpf does not know (it knows 0, none, and 1, by
    /// name); cilium's own loader uses 16 (`CILIUM_PIN_REPLACE`). libbpf refuses the object.
    #[error("map '{map}': pinning {value} is neither LIBBPF_PIN_NONE nor LIBBPF_PIN_BY_NAME")]
    UnknownPinning {
        /// The map.
        map: String,
        /// The value.
        value: u32,
    },
    /// A map with static linkage (a `static` BTF map variable, or a legacy map referenced through
    /// a local symbol): libbpf refuses static BTF maps, cilium/ebpf refuses references to static
    /// legacy maps.
    #[error("map '{map}' is static")]
    StaticMap {
        /// The map.
        map: String,
    },
    /// A function without a FUNC symbol (clang before 8 wrote NOTYPE symbols, or none): libbpf
    /// finds programs by FUNC symbols only, so it does not see this one.
    #[error("function '{name}' has no FUNC symbol (clang before 8): libbpf does not see it")]
    UntypedFunction {
        /// The function's name.
        name: String,
    },
    /// A `static` function in a program section: libbpf refuses the object ("program is static
    /// and not supported"); cilium/ebpf loads it.
    #[error("program '{name}' is static: libbpf refuses static programs")]
    StaticProgram {
        /// The program.
        name: String,
    },
    /// An extern that no `.kconfig` or `.ksyms` DATASEC declares: a function defined in another
    /// object (the static linker's job), a symbol of inline assembly, a builtin clang left as a
    /// call. libbpf refuses the object ("failed to find BTF for extern").
    #[error("extern '{name}' ({kind}) is not declared in .kconfig or .ksyms")]
    UnresolvedExtern {
        /// The symbol.
        name: String,
        /// What the reader made of it.
        kind: ExternKind,
    },
    /// A slot of a program array's `.values` initialiser that names a function that is not an
    /// entry point (a `.text` subprogram): libbpf refuses the object ("isn't a valid program
    /// reference"). The slot is not among the map's initial values; this warning keeps it.
    #[error("map '{map}': .values[{slot}] = '{function}' is not an entry-point program")]
    NotAProgram {
        /// The program array.
        map: String,
        /// The slot.
        slot: u32,
        /// The function named.
        function: String,
    },
    /// An instruction that does not decode (an unknown opcode, a bad `lddw` second slot, a
    /// non-zero reserved field): libbpf opens the object, the kernel refuses the program.
    #[error("function '{function}': {error}")]
    BadInstruction {
        /// The function holding it.
        function: String,
        /// Why it does not decode (the slot is relative to the function).
        error: DecodeError,
    },
    /// A `SHT_RELA` relocation section against code: libbpf reads only `SHT_REL` and would load
    /// the instructions unrelocated.
    #[error("{count} RELA relocations against code: libbpf ignores RELA sections")]
    RelaRelocations {
        /// Number of entries.
        count: usize,
    },
}

impl WarningKind {
    /// A short stable name of the kind (`legacy-maps`, `static-program`, ...), for tallies and
    /// filters.
    pub fn name(&self) -> &'static str {
        match self {
            WarningKind::LegacyMaps { .. } => "legacy-maps",
            WarningKind::UnknownMapFields { .. } => "unknown-map-fields",
            WarningKind::UnknownPinning { .. } => "unknown-pinning",
            WarningKind::StaticMap { .. } => "static-map",
            WarningKind::UntypedFunction { .. } => "untyped-function",
            WarningKind::StaticProgram { .. } => "static-program",
            WarningKind::UnresolvedExtern { .. } => "unresolved-extern",
            WarningKind::NotAProgram { .. } => "not-a-program",
            WarningKind::BadInstruction { .. } => "bad-instruction",
            WarningKind::RelaRelocations { .. } => "rela-relocations",
        }
    }

    /// Whether libbpf 1.x refuses to open an object with this (the kernel-facing loaders follow
    /// it); otherwise libbpf opens it and ignores what is warned about.
    pub fn refused_by_libbpf(&self) -> bool {
        !matches!(
            self,
            WarningKind::RelaRelocations { .. }
                | WarningKind::BadInstruction { .. }
                | WarningKind::UntypedFunction { .. }
        )
    }
}

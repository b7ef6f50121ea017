//! Writing assembled code as a relocatable BPF ELF object, the kind clang produces, that
//! llvm-objdump, bpftool and loaders read.

use bpfkit_isa::Insn;
use object::write::{Object, StandardSection, Symbol, SymbolSection};
use object::{
    Architecture, BinaryFormat, Endianness, SectionKind, SymbolFlags, SymbolKind, SymbolScope,
};

/// What to name things in the object.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ElfOptions {
    /// The program's section; its name tells loaders the program type (`xdp`, `tc`,
    /// `socket`, `kprobe/do_unlinkat`, ...), as in libbpf's `SEC()`.
    pub section: String,
    /// The name of the program's function symbol.
    pub function: String,
    /// The license string for the `license` section, or `None` to leave the section out.
    pub license: Option<String>,
}

impl Default for ElfOptions {
    fn default() -> Self {
        ElfOptions {
            section: ".text".into(),
            function: "prog".into(),
            license: Some("GPL".into()),
        }
    }
}

/// Writing the object failed (a limit of the ELF writer; in practice unreachable).
#[derive(Debug, thiserror::Error)]
#[error("cannot write ELF object: {0}")]
pub struct ElfWriteError(#[from] object::write::Error);

/// Writes `insns` as a relocatable little-endian BPF ELF object with one global function.
pub fn write_object(insns: &[Insn], options: &ElfOptions) -> Result<Vec<u8>, ElfWriteError> {
    let mut obj = Object::new(BinaryFormat::Elf, Architecture::Bpf, Endianness::Little);
    let code = bpfkit_isa::encode(insns);
    let section = if options.section == ".text" {
        obj.section_id(StandardSection::Text)
    } else {
        obj.add_section(
            Vec::new(),
            options.section.as_bytes().to_vec(),
            SectionKind::Text,
        )
    };
    let offset = obj.append_section_data(section, &code, 8);
    obj.add_symbol(Symbol {
        name: options.function.as_bytes().to_vec(),
        value: offset,
        size: code.len() as u64,
        kind: SymbolKind::Text,
        scope: SymbolScope::Dynamic,
        weak: false,
        section: SymbolSection::Section(section),
        flags: SymbolFlags::None,
    });
    if let Some(license) = &options.license {
        let section = obj.add_section(Vec::new(), b"license".to_vec(), SectionKind::Data);
        let mut bytes = license.as_bytes().to_vec();
        bytes.push(0);
        let offset = obj.append_section_data(section, &bytes, 1);
        obj.add_symbol(Symbol {
            name: b"_license".to_vec(),
            value: offset,
            size: bytes.len() as u64,
            kind: SymbolKind::Data,
            scope: SymbolScope::Dynamic,
            weak: false,
            section: SymbolSection::Section(section),
            flags: SymbolFlags::None,
        });
    }
    Ok(obj.write()?)
}

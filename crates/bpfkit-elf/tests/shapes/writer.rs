//! A small writer of ELF64 little-endian relocatable files, for objects of shapes clang no longer
//! writes (iproute2 map definitions, RELA tables, NOTYPE functions, ...) or that no C source
//! asks for. Everything is laid out as given: the caller decides every byte a reader looks at.
//!
//! Layout: the file header, each section's bytes (8-byte aligned), `.symtab`, `.strtab`,
//! `.shstrtab`, then the section header table. Section indices: 0 is the null section, the
//! caller's sections follow in order, then `.symtab`, `.strtab` and `.shstrtab`.

pub const SHT_PROGBITS: u32 = 1;
pub const SHT_RELA: u32 = 4;
pub const SHT_NOBITS: u32 = 8;
pub const SHT_REL: u32 = 9;
pub const SHF_WRITE: u64 = 1;
pub const SHF_ALLOC: u64 = 2;
pub const SHF_EXECINSTR: u64 = 4;
pub const STB_LOCAL: u8 = 0;
pub const STB_GLOBAL: u8 = 1;
pub const STT_NOTYPE: u8 = 0;
pub const STT_OBJECT: u8 = 1;
pub const STT_FUNC: u8 = 2;
pub const STT_SECTION: u8 = 3;
/// `R_BPF_64_64`: the immediate of an `lddw`.
pub const R_BPF_64_64: u32 = 1;
/// `R_BPF_64_ABS64`: a 64-bit address in data.
pub const R_BPF_64_ABS64: u32 = 2;
/// `R_BPF_64_32`: the immediate of a call.
pub const R_BPF_64_32: u32 = 10;

struct Section {
    name: String,
    sh_type: u32,
    flags: u64,
    data: Vec<u8>,
    /// `sh_info` for relocation sections: the target's index.
    info: u32,
    entsize: u64,
}

struct Symbol {
    name: String,
    section: u16,
    value: u64,
    size: u64,
    kind: u8,
    bind: u8,
}

/// An object being built.
#[derive(Default)]
pub struct Elf {
    sections: Vec<Section>,
    symbols: Vec<Symbol>,
}

impl Elf {
    pub fn new() -> Elf {
        Elf::default()
    }

    /// Adds a section; returns its index (the first is 1).
    pub fn section(&mut self, name: &str, sh_type: u32, flags: u64, data: &[u8]) -> u16 {
        self.sections.push(Section {
            name: name.to_string(),
            sh_type,
            flags,
            data: data.to_vec(),
            info: 0,
            entsize: 0,
        });
        self.sections.len() as u16
    }

    /// A code section (`PROGBITS`, `AX`) holding instruction slots `code`.
    pub fn code(&mut self, name: &str, code: &[u8]) -> u16 {
        self.section(name, SHT_PROGBITS, SHF_ALLOC | SHF_EXECINSTR, code)
    }

    /// A writable data section (`PROGBITS`, `WA`).
    pub fn data(&mut self, name: &str, bytes: &[u8]) -> u16 {
        self.section(name, SHT_PROGBITS, SHF_ALLOC | SHF_WRITE, bytes)
    }

    /// Adds a symbol; returns its index (the null symbol is 0). Local symbols must come first.
    pub fn symbol(
        &mut self,
        name: &str,
        section: u16,
        value: u64,
        size: u64,
        kind: u8,
        bind: u8,
    ) -> u32 {
        assert!(
            bind != STB_LOCAL || self.symbols.iter().all(|s| s.bind == STB_LOCAL),
            "local symbols come first"
        );
        self.symbols.push(Symbol {
            name: name.to_string(),
            section,
            value,
            size,
            kind,
            bind,
        });
        self.symbols.len() as u32
    }

    /// A relocation section for `target`: entries `(r_offset, symbol, r_type, addend)`; RELA
    /// when `rela`, else REL (the addend must then be 0).
    pub fn relocations(
        &mut self,
        target: u16,
        rela: bool,
        entries: &[(u64, u32, u32, i64)],
    ) -> u16 {
        let target_name = self.sections[usize::from(target) - 1].name.clone();
        let mut bytes = Vec::new();
        for &(offset, sym, r_type, addend) in entries {
            bytes.extend(offset.to_le_bytes());
            bytes.extend(((u64::from(sym) << 32) | u64::from(r_type)).to_le_bytes());
            if rela {
                bytes.extend(addend.to_le_bytes());
            } else {
                assert_eq!(addend, 0, "REL entries have no addend");
            }
        }
        let (name, sh_type, entsize) = if rela {
            (format!(".rela{target_name}"), SHT_RELA, 24)
        } else {
            (format!(".rel{target_name}"), SHT_REL, 16)
        };
        let index = self.section(&name, sh_type, 0, &bytes);
        let section = self.sections.last_mut().unwrap();
        section.info = u32::from(target);
        section.entsize = entsize;
        index
    }

    /// The file's bytes.
    pub fn build(&self) -> Vec<u8> {
        let symtab_index = self.sections.len() as u32 + 1;
        let mut strtab = vec![0u8];
        let mut symtab = vec![0u8; 24];
        for s in &self.symbols {
            let name = strtab.len() as u32;
            strtab.extend(s.name.as_bytes());
            strtab.push(0);
            symtab.extend(name.to_le_bytes());
            symtab.push((s.bind << 4) | s.kind);
            symtab.push(0);
            symtab.extend(s.section.to_le_bytes());
            symtab.extend(s.value.to_le_bytes());
            symtab.extend(s.size.to_le_bytes());
        }
        let first_global = 1 + self
            .symbols
            .iter()
            .take_while(|s| s.bind == STB_LOCAL)
            .count();

        // (name, type, flags, data, link, info, entsize)
        type Header<'a> = (&'a str, u32, u64, &'a [u8], u32, u32, u64);
        let mut all: Vec<Header<'_>> = self
            .sections
            .iter()
            .map(|s| {
                let link = if matches!(s.sh_type, SHT_REL | SHT_RELA) {
                    symtab_index
                } else {
                    0
                };
                (
                    s.name.as_str(),
                    s.sh_type,
                    s.flags,
                    &s.data[..],
                    link,
                    s.info,
                    s.entsize,
                )
            })
            .collect();
        all.push((
            ".symtab",
            2,
            0,
            &symtab,
            symtab_index + 1,
            first_global as u32,
            24,
        ));
        all.push((".strtab", 3, 0, &strtab, 0, 0, 0));
        let mut shstrtab = vec![0u8];
        let mut names = Vec::new();
        for h in &all {
            names.push(shstrtab.len() as u32);
            shstrtab.extend(h.0.as_bytes());
            shstrtab.push(0);
        }
        names.push(shstrtab.len() as u32);
        shstrtab.extend(b".shstrtab\0");
        all.push((".shstrtab", 3, 0, &shstrtab, 0, 0, 0));

        let mut out = vec![0u8; 64];
        let mut offsets = Vec::new();
        for h in &all {
            while out.len() % 8 != 0 {
                out.push(0);
            }
            offsets.push(out.len() as u64);
            if h.1 != SHT_NOBITS {
                out.extend(h.3);
            }
        }
        while out.len() % 8 != 0 {
            out.push(0);
        }
        let shoff = out.len() as u64;
        out.extend([0u8; 64]); // the null section header
        for (i, h) in all.iter().enumerate() {
            out.extend(names[i].to_le_bytes());
            out.extend(h.1.to_le_bytes());
            out.extend(h.2.to_le_bytes());
            out.extend(0u64.to_le_bytes()); // sh_addr
            out.extend(offsets[i].to_le_bytes());
            out.extend((h.3.len() as u64).to_le_bytes());
            out.extend(h.4.to_le_bytes());
            out.extend(h.5.to_le_bytes());
            out.extend(8u64.to_le_bytes()); // sh_addralign
            out.extend(h.6.to_le_bytes());
        }
        let shnum = all.len() as u16 + 1;
        // e_ident: ELF64, little-endian, version 1.
        out[..16].copy_from_slice(&[0x7f, b'E', b'L', b'F', 2, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
        out[16..18].copy_from_slice(&1u16.to_le_bytes()); // ET_REL
        out[18..20].copy_from_slice(&247u16.to_le_bytes()); // EM_BPF
        out[20..24].copy_from_slice(&1u32.to_le_bytes());
        out[40..48].copy_from_slice(&shoff.to_le_bytes());
        out[52..54].copy_from_slice(&64u16.to_le_bytes()); // e_ehsize
        out[58..60].copy_from_slice(&64u16.to_le_bytes()); // e_shentsize
        out[60..62].copy_from_slice(&shnum.to_le_bytes());
        out[62..64].copy_from_slice(&(shnum - 1).to_le_bytes()); // .shstrtab is last
        out
    }
}

/// Little-endian `u32`s.
pub fn words(values: &[u32]) -> Vec<u8> {
    values.iter().flat_map(|v| v.to_le_bytes()).collect()
}

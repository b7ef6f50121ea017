//! Bad input never panics, and each kind of damage is reported as what it is, at the absolute
//! offset of the damaged field. Field offsets are computed here from the ELF64 layout and
//! located with the `object` crate, not with this crate's own reader.

use bpfkit_elf::{ElfError, ErrorKind, MapError, Object, RelocError};
use object::{Object as _, ObjectSection as _};

fn testdata(name: &str) -> Vec<u8> {
    let path = format!("{}/../../testdata/obj/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(path).unwrap()
}

/// Parses and touches everything, as a consumer would: decode every function, format every
/// item. Returns the parse error, if any.
fn walk(data: &[u8]) -> Result<(), ElfError> {
    let object = Object::parse(data)?;
    for f in object.functions() {
        let _ = f.decode();
        let _ = format!("{f:?}");
        for c in &f.calls {
            let _ = object.function_at(c.target_section, c.target_insn);
        }
    }
    let _ = format!(
        "{:?} {:?} {:?}",
        object.maps(),
        object.data_sections(),
        object.externs()
    );
    for s in object.elf().sections() {
        let _ = (s.type_name(), s.is_code());
    }
    Ok(())
}

fn u16_at(d: &[u8], o: usize) -> u64 {
    u16::from_le_bytes(d[o..o + 2].try_into().unwrap()).into()
}
fn u32_at(d: &[u8], o: usize) -> u64 {
    u32::from_le_bytes(d[o..o + 4].try_into().unwrap()).into()
}
fn u64_at(d: &[u8], o: usize) -> u64 {
    u64::from_le_bytes(d[o..o + 8].try_into().unwrap())
}
fn put_u16(d: &mut [u8], o: usize, v: u16) {
    d[o..o + 2].copy_from_slice(&v.to_le_bytes());
}
fn put_u32(d: &mut [u8], o: usize, v: u32) {
    d[o..o + 4].copy_from_slice(&v.to_le_bytes());
}
fn put_u64(d: &mut [u8], o: usize, v: u64) {
    d[o..o + 8].copy_from_slice(&v.to_le_bytes());
}

/// Offset of the section header of the section named `name` (found by `object`).
fn shdr(data: &[u8], name: &str) -> usize {
    let file = object::File::parse(data).unwrap();
    let index = file.section_by_name(name).unwrap().index().0;
    u64_at(data, 0x28) as usize + 64 * index
}

/// File range of the section named `name` (found by `object`).
fn range(data: &[u8], name: &str) -> (usize, usize) {
    let file = object::File::parse(data).unwrap();
    let (start, size) = file.section_by_name(name).unwrap().file_range().unwrap();
    (start as usize, size as usize)
}

fn expect_err(data: &[u8], what: &str) -> ElfError {
    match walk(data) {
        Ok(()) => panic!("{what}: parsed"),
        Err(e) => {
            // Every error renders, with its offset first.
            assert!(e.to_string().starts_with("at offset 0x"), "{what}: {e}");
            e
        }
    }
}

#[test]
fn every_committed_object_walks() {
    let dir = format!("{}/../../testdata/obj", env!("CARGO_MANIFEST_DIR"));
    let mut count = 0;
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        walk(&std::fs::read(&path).unwrap()).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        count += 1;
    }
    assert!(count >= 60);
}

#[test]
fn every_truncation_is_an_error() {
    for name in ["xdp_pass.v1.o", "legacy_maps.v2.o", "subprogs.v2.o"] {
        let data = testdata(name);
        for len in 0..data.len() {
            // The section header table is at the end: any prefix loses part of it.
            expect_err(&data[..len], &format!("{name} cut at {len}"));
        }
    }
    let data = testdata("xdp_parse.v3.g.o");
    for len in (0..data.len()).step_by(7) {
        expect_err(&data[..len], &format!("xdp_parse cut at {len}"));
    }
}

#[test]
fn header_fields() {
    let good = testdata("xdp_pass.v1.o");
    let cases: &[(usize, &[u8], &str)] = &[
        (0, b"\x7fELG", "BadMagic"),
        (4, &[1], "EI_CLASS"),
        (5, &[3], "EI_DATA"),
        (6, &[2], "EI_VERSION"),
        (16, &[2, 0], "e_type"),
        (18, &[62, 0], "e_machine"),
        (58, &[40, 0], "e_shentsize"),
    ];
    for &(offset, bytes, what) in cases {
        let mut data = good.clone();
        data[offset..offset + bytes.len()].copy_from_slice(bytes);
        let e = expect_err(&data, what);
        assert_eq!(e.offset, offset as u64, "{what}: {e}");
        match (&e.kind, what) {
            (ErrorKind::BadMagic, "BadMagic") => {}
            (ErrorKind::BadField { field, .. }, _) => assert_eq!(*field, what),
            _ => panic!("{what}: {e}"),
        }
    }

    // e_shoff past the end, e_shnum too large: the table does not fit.
    let shoff = u64_at(&good, 0x28);
    for (offset, value) in [(0x28, good.len() as u64), (0x28, u64::MAX - 10)] {
        let mut data = good.clone();
        put_u64(&mut data, offset, value);
        let e = expect_err(&data, "e_shoff");
        assert!(
            matches!(
                e.kind,
                ErrorKind::Truncated {
                    what: "section header table",
                    ..
                }
            ),
            "{e}"
        );
    }
    let mut data = good.clone();
    put_u16(&mut data, 0x3c, 0xfff0);
    let e = expect_err(&data, "e_shnum");
    assert_eq!(e.offset, shoff, "{e}");

    // e_shstrndx out of range.
    let mut data = good.clone();
    put_u16(&mut data, 0x3e, u16_at(&good, 0x3c) as u16 + 3);
    let e = expect_err(&data, "e_shstrndx");
    assert!(matches!(e.kind, ErrorKind::BadSectionIndex { .. }), "{e}");

    // Every byte of the header, every value class: never a panic.
    for offset in 0..64 {
        for value in [0u8, 1, 0x7f, 0x80, 0xff] {
            let mut data = good.clone();
            data[offset] = value;
            let _ = walk(&data);
        }
    }
}

#[test]
fn section_headers() {
    let good = testdata("xdp_parse.v3.g.o");
    let len = good.len() as u64;
    let xdp = shdr(&good, "xdp");

    // sh_offset and sh_size past the end of the file.
    for (field, value) in [(24, len), (32, len), (24, u64::MAX - 4)] {
        let mut data = good.clone();
        put_u64(&mut data, xdp + field, value);
        let e = expect_err(&data, "section bytes outside the file");
        assert!(
            matches!(e.kind, ErrorKind::SectionOutOfBounds { .. }),
            "{e}"
        );
        assert_eq!(e.section.as_ref().map(|s| s.1.as_str()), Some("xdp"), "{e}");
    }

    // sh_name past the section name table.
    let mut data = good.clone();
    put_u32(&mut data, xdp, 0xffff_0000);
    let e = expect_err(&data, "sh_name");
    assert!(matches!(e.kind, ErrorKind::BadStringOffset { .. }), "{e}");
    assert_eq!(e.offset, xdp as u64, "{e}");

    // The symbol table: wrong entry size, odd size, bad string table link.
    let symtab = shdr(&good, ".symtab");
    let mut data = good.clone();
    put_u64(&mut data, symtab + 56, 16);
    let e = expect_err(&data, "symtab sh_entsize");
    assert!(
        matches!(
            e.kind,
            ErrorKind::BadField {
                field: "sh_entsize",
                ..
            }
        ),
        "{e}"
    );
    assert_eq!(e.offset, symtab as u64 + 56);
    let mut data = good.clone();
    put_u64(&mut data, symtab + 32, u64_at(&good, symtab + 32) - 5);
    let e = expect_err(&data, "symtab odd size");
    assert!(
        matches!(e.kind, ErrorKind::OddSize { entsize: 24, .. }),
        "{e}"
    );
    let mut data = good.clone();
    put_u32(&mut data, symtab + 40, 999);
    let e = expect_err(&data, "symtab sh_link");
    assert!(
        matches!(e.kind, ErrorKind::BadSectionIndex { index: 999, .. }),
        "{e}"
    );

    // A relocation table: target (sh_info) out of range, odd size.
    let rel = shdr(&good, ".relxdp");
    let mut data = good.clone();
    put_u32(&mut data, rel + 44, 999);
    let e = expect_err(&data, "rel sh_info");
    assert!(
        matches!(e.kind, ErrorKind::BadSectionIndex { index: 999, .. }),
        "{e}"
    );
    assert_eq!(e.offset, rel as u64 + 44);
    let mut data = good.clone();
    put_u64(&mut data, rel + 32, u64_at(&good, rel + 32) - 8);
    let e = expect_err(&data, "rel odd size");
    assert!(
        matches!(e.kind, ErrorKind::OddSize { entsize: 16, .. }),
        "{e}"
    );

    // A second symbol table.
    let mut data = good.clone();
    let strtab = shdr(&good, ".strtab");
    put_u32(&mut data, strtab + 4, 2);
    let e = expect_err(&data, "two symbol tables");
    assert!(
        matches!(
            e.kind,
            ErrorKind::MultipleSymbolTables | ErrorKind::BadField { .. }
        ),
        "{e}"
    );

    // Every byte of every section header: never a panic.
    let shoff = u64_at(&good, 0x28) as usize;
    for offset in shoff..good.len() {
        for value in [0u8, 0x41, 0xff] {
            let mut data = good.clone();
            data[offset] = value;
            let _ = walk(&data);
        }
    }
}

/// Offset of the symbol table entry named `name`.
fn sym(data: &[u8], name: &str) -> usize {
    let (start, size) = range(data, ".symtab");
    let (strings, _) = range(data, ".strtab");
    (start..start + size)
        .step_by(24)
        .find(|&e| {
            let off = strings + u32_at(data, e) as usize;
            data[off..].starts_with(name.as_bytes()) && data[off + name.len()] == 0
        })
        .unwrap()
}

#[test]
fn symbols() {
    let good = testdata("subprogs.v2.o");
    let clamp = sym(&good, "clamp");

    let mut data = good.clone();
    put_u16(&mut data, clamp + 6, 200);
    let e = expect_err(&data, "st_shndx");
    assert!(
        matches!(e.kind, ErrorKind::BadSectionIndex { index: 200, .. }),
        "{e}"
    );
    assert_eq!(e.offset, clamp as u64 + 6);

    let mut data = good.clone();
    put_u32(&mut data, clamp, 0x7fff_ffff);
    let e = expect_err(&data, "st_name");
    assert!(matches!(e.kind, ErrorKind::BadStringOffset { .. }), "{e}");

    // A function running past its section, and one not on an instruction boundary.
    let mut data = good.clone();
    put_u64(&mut data, clamp + 16, 0x10_0000);
    let e = expect_err(&data, "st_size");
    assert!(
        matches!(e.kind, ErrorKind::FunctionOutOfBounds { .. }),
        "{e}"
    );
    assert_eq!(e.offset, clamp as u64);
    let mut data = good.clone();
    put_u64(&mut data, clamp + 8, 4);
    let e = expect_err(&data, "st_value");
    assert!(
        matches!(
            e.kind,
            ErrorKind::MisalignedFunction { .. } | ErrorKind::FunctionOutOfBounds { .. }
        ),
        "{e}"
    );
    let mut data = good.clone();
    put_u64(&mut data, clamp + 8, u64::MAX - 8);
    let e = expect_err(&data, "st_value overflow");
    assert!(
        matches!(e.kind, ErrorKind::FunctionOutOfBounds { .. }),
        "{e}"
    );
}

#[test]
fn relocations() {
    let good = testdata("subprogs.v2.o");
    let (rel, _) = range(&good, ".relxdp");
    let (xdp, xdp_size) = range(&good, "xdp");

    // r_offset past the end of the target section.
    let mut data = good.clone();
    put_u64(&mut data, rel, xdp_size as u64);
    let e = expect_err(&data, "r_offset");
    assert!(
        matches!(e.kind, ErrorKind::RelocationOutOfBounds { .. }),
        "{e}"
    );
    assert_eq!(e.offset, rel as u64);

    // r_sym out of range.
    let mut data = good.clone();
    put_u64(&mut data, rel + 8, (5000 << 32) | 10);
    let e = expect_err(&data, "r_sym");
    assert!(
        matches!(e.kind, ErrorKind::BadSymbolIndex { index: 5000, .. }),
        "{e}"
    );
    assert_eq!(e.offset, rel as u64 + 8);

    // Misaligned, and on an instruction that is neither a call nor lddw.
    let first = u64_at(&good, rel);
    let mut data = good.clone();
    put_u64(&mut data, rel, first + 4);
    let e = expect_err(&data, "misaligned r_offset");
    assert!(
        matches!(
            &e.kind,
            ErrorKind::BadRelocation {
                reason: RelocError::Misaligned,
                ..
            }
        ),
        "{e}"
    );
    let mut data = good.clone();
    put_u64(&mut data, rel, 0);
    let code = data[xdp];
    let e = expect_err(&data, "relocated mov");
    assert!(
        matches!(&e.kind, ErrorKind::BadRelocation { reason: RelocError::WrongInstruction { code: c }, .. } if *c == code),
        "{e}"
    );

    // A call whose target is past the end of .text.
    let call = xdp + first as usize;
    let mut data = good.clone();
    put_u32(&mut data, call + 4, 0x100_0000);
    let e = expect_err(&data, "call target");
    assert!(
        matches!(
            &e.kind,
            ErrorKind::BadRelocation {
                reason: RelocError::TargetOutOfRange { .. },
                ..
            }
        ),
        "{e}"
    );

    // Every byte of every relocation table and code section: never a panic.
    for (start, size) in [
        range(&good, ".relxdp"),
        range(&good, ".reltc"),
        range(&good, "xdp"),
        range(&good, ".text"),
    ] {
        for offset in start..start + size {
            for value in [0u8, 0x18, 0x85, 0xff] {
                let mut data = good.clone();
                data[offset] = value;
                let _ = walk(&data);
            }
        }
    }
}

#[test]
fn legacy_maps() {
    let good = testdata("legacy_maps.v2.o");
    let maps = shdr(&good, "maps");
    // 60 bytes for 3 maps of 20 bytes (their symbols' st_size); cut to 58, the last one
    // crosses the end.
    let mut data = good.clone();
    put_u64(&mut data, maps + 32, 58);
    let e = expect_err(&data, "legacy size");
    assert!(
        matches!(
            &e.kind,
            ErrorKind::BadMap {
                reason: MapError::OutOfBounds { .. },
                ..
            }
        ),
        "{e}"
    );
    // Without st_size (old clang), a definition is the section's size over the number of
    // maps: 58 bytes is not a whole number of definitions.
    for name in ["packet_count", "flow_bytes", "percpu_stats"] {
        let at = sym(&good, name);
        put_u64(&mut data, at + 16, 0);
    }
    let e = expect_err(&data, "legacy size without st_size");
    assert!(
        matches!(
            &e.kind,
            ErrorKind::BadMap {
                reason: MapError::BadLegacySize(19),
                ..
            }
        ),
        "{e}"
    );
    // A map symbol past the end of the section.
    let mut data = good.clone();
    let flow = sym(&good, "flow_bytes");
    put_u64(&mut data, flow + 8, 1000);
    let e = expect_err(&data, "legacy map symbol");
    assert!(
        matches!(
            &e.kind,
            ErrorKind::BadMap {
                reason: MapError::OutOfBounds { .. },
                ..
            }
        ),
        "{e}"
    );
    // An ld_imm64 relocated against `_version`, which is neither code, a map nor data.
    let (symtab, _) = range(&good, ".symtab");
    let version = (sym(&good, "_version") - symtab) / 24;
    let (rel, _) = range(&good, ".relsocket");
    let mut data = good.clone();
    put_u64(&mut data, rel + 8, ((version as u64) << 32) | 1);
    let e = expect_err(&data, "relocation against version");
    assert!(
        matches!(&e.kind, ErrorKind::BadRelocation { reason: RelocError::UnknownTargetSection(s), .. } if s == "version"),
        "{e}"
    );
    // A relocation against the null symbol (undefined, local): nothing to point at.
    let mut data = good.clone();
    put_u64(&mut data, rel + 8, 1);
    let e = expect_err(&data, "relocation against the null symbol");
    assert!(matches!(&e.kind, ErrorKind::BadRelocation { .. }), "{e}");
}

/// A small deterministic generator (xorshift), so failures reproduce.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

#[test]
fn btf_maps_with_garbage_btf() {
    let good = testdata("xdp_parse.v3.g.o");
    let (btf, size) = range(&good, ".BTF");

    // Whole .BTF replaced by garbage: an error about .BTF, not a panic.
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    for round in 0..200 {
        let mut data = good.clone();
        for b in &mut data[btf..btf + size] {
            *b = rng.next() as u8;
        }
        if round % 2 == 0 {
            // Keep a valid magic so the parser goes further.
            data[btf..btf + 2].copy_from_slice(&[0x9f, 0xeb]);
            data[btf + 2] = 1;
        }
        let e = expect_err(&data, "garbage .BTF");
        assert!(
            matches!(
                e.kind,
                ErrorKind::Btf {
                    section: ".BTF",
                    ..
                }
            ),
            "{e}"
        );
    }

    // Single bytes of the type section changed: errors or a different but consistent model.
    let type_off = btf + 24;
    for i in 0..(size - 24).min(1200) {
        for value in [0u8, 0x01, 0x7f, 0xff] {
            let mut data = good.clone();
            data[type_off + i] = value;
            let _ = walk(&data);
        }
    }

    // The map's `type` member retargeted to an INT: __uint() no longer holds.
    let data = good.clone();
    let object = Object::parse(&data).unwrap();
    let b = object.btf().unwrap();
    let int = b
        .all_types()
        .find(|t| t.kind() == bpfkit_btf::Kind::Int)
        .unwrap()
        .id();
    let def = b
        .all_types()
        .find(|t| {
            t.kind() == bpfkit_btf::Kind::Struct
                && t.members().any(|m| m.name() == Ok("max_entries"))
        })
        .unwrap();
    let member_at = def.offset() + 12; // the first member: `type`
    drop(object);
    let mut data = good.clone();
    put_u32(&mut data, btf + member_at + 4, int.0);
    let e = expect_err(&data, "type member");
    assert!(
        matches!(
            &e.kind,
            ErrorKind::BadMap {
                reason: MapError::NotUint("type"),
                ..
            }
        ),
        "{e}"
    );
}

#[test]
fn random_mutations_never_panic() {
    for name in [
        "maps.v3.g.o",
        "core.v4.g.o",
        "externs.v2.g.o",
        "legacy_maps.v1.o",
    ] {
        let good = testdata(name);
        let mut rng = Rng(0x2545_f491_4f6c_dd1d ^ good.len() as u64);
        for _ in 0..3000 {
            let mut data = good.clone();
            for _ in 0..1 + rng.next() % 4 {
                let at = (rng.next() % data.len() as u64) as usize;
                data[at] = rng.next() as u8;
            }
            let _ = walk(&data);
        }
    }
}

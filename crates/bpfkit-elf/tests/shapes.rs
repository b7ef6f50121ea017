//! Objects of the shapes real toolchains wrote and our clang-built testdata does not: iproute2's
//! `struct bpf_elf_map` and its relatives, RELA tables, functions without FUNC symbols (clang
//! before 8), static programs, externs outside `.kconfig`/`.ksyms`, static maps, PREVAIL's
//! `maps/NAME` sections, a program array naming a subprogram, a BTF map pinned by cilium's
//! convention, an instruction that does not decode. Each is built byte by byte
//! (`shapes/writer.rs`), so every value a test expects is one the test put in the file.
//!
//! `llvm-readelf-19` (under the skip rule) checks that each built file is well-formed ELF, and
//! `fuzz/seed.sh` runs the ignored `write_fuzz_seeds` to seed the `elf_parse` fuzz target with
//! them.

#[path = "shapes/writer.rs"]
mod writer;

use bpfkit_btf::{BtfBuilder, IntEncoding, Linkage, TypeId, VarSecinfo};
use bpfkit_elf::{
    DataKind, ExternKind, InnerMap, LegacyLayout, MapIndex, Object, Pinning, RelocTarget,
    SymbolBinding, WarningKind,
};
use bpfkit_isa::{Insn, Opcode, Reg, encode};
use bpfkit_uapi::{MapDef, MapType};
use writer::*;

fn lddw(dst: Reg, imm: i32) -> Insn {
    Insn::new(Opcode::LdImm64)
        .with_dst(dst)
        .with_imm64(imm as u32 as u64)
}

fn mov0() -> Insn {
    Insn::new(Opcode::Mov64Imm).with_dst(Reg::R0)
}

fn exit() -> Insn {
    Insn::new(Opcode::Exit)
}

/// `r0 = 0; exit`.
fn ret0() -> Vec<u8> {
    encode(&[mov0(), exit()])
}

fn kinds(object: &Object<'_>) -> Vec<&'static str> {
    object.warnings().iter().map(|w| w.kind.name()).collect()
}

/// iproute2's 36-byte `struct bpf_elf_map`, as old clang wrote it: NOTYPE symbols without a
/// size, so a definition is the section's size over the number of maps.
fn iproute2_maps() -> Vec<u8> {
    let mut elf = Elf::new();
    let def = |t, k, v, max, id, pin, inner_id, inner_idx| {
        words(&[t, k, v, max, 0, id, pin, inner_id, inner_idx])
    };
    let maps = [
        def(12, 4, 4, 2, 0, 2, 7, 0), // outer: array of maps, inner template id 7, global ns
        def(1, 4, 8, 16, 7, 0, 0, 1), // id 7: the template, slot 1 of outer maps
        def(2, 4, 8, 1, 0, 1, 0, 0),  // pinned per object
        def(2, 4, 8, 1, 0, 5, 0, 0),  // custom pinning 5
    ]
    .concat();
    let maps = elf.data("maps", &maps);
    let code = elf.code("classifier", &encode(&[lddw(Reg::R1, 0), mov0(), exit()]));
    let outer = elf.symbol("outer", maps, 0, 0, STT_NOTYPE, STB_GLOBAL);
    for (i, name) in ["template", "per_object", "custom"].iter().enumerate() {
        elf.symbol(name, maps, 36 * (i as u64 + 1), 0, STT_NOTYPE, STB_GLOBAL);
    }
    elf.symbol("cls", code, 0, 32, STT_FUNC, STB_GLOBAL);
    elf.relocations(code, false, &[(0, outer, R_BPF_64_64, 0)]);
    elf.build()
}

#[test]
fn iproute2_maps_follow_iproutes_rules() {
    let bytes = iproute2_maps();
    let object = Object::parse(&bytes).unwrap();
    let maps = object.maps();
    assert_eq!(maps.len(), 4);
    assert!(maps.iter().all(|m| m.size == 36));
    let layout = |i: usize| maps[i].legacy.unwrap().layout;
    assert_eq!(
        layout(0),
        LegacyLayout::Iproute2 {
            id: 0,
            pinning: 2,
            inner_id: 7,
            inner_idx: 0
        }
    );
    assert_eq!(
        layout(1),
        LegacyLayout::Iproute2 {
            id: 7,
            pinning: 0,
            inner_id: 0,
            inner_idx: 1
        }
    );
    let pinning: Vec<Pinning> = maps.iter().map(|m| m.pinning).collect();
    assert_eq!(
        pinning,
        [
            Pinning::GlobalNs,
            Pinning::None,
            Pinning::ObjectNs,
            Pinning::Custom(5)
        ]
    );
    assert_eq!(pinning[2].value(), 1);
    // The outer map's inner map is the one whose id is its inner_id.
    assert_eq!(
        maps[0].inner,
        Some(InnerMap {
            def: MapDef::new(MapType::HASH, 4, 8, 16),
            types: Default::default()
        })
    );
    assert_eq!(maps[0].def, MapDef::new(MapType::ARRAY_OF_MAPS, 4, 4, 2));
    assert_eq!(
        object.program("cls").unwrap().function.relocations[0].target,
        RelocTarget::Map(MapIndex(0))
    );
    assert_eq!(kinds(&object), ["legacy-maps"]);
}

/// 28-byte definitions: iproute2's older `bpf_elf_map` (id, pinning) or `samples/bpf`'s
/// (inner_map_idx, numa_node). `names` gives the BTF struct's member names, if any.
fn twenty_eight_bytes(names: Option<[&str; 7]>) -> Vec<u8> {
    let mut elf = Elf::new();
    let defs = [
        words(&[13, 4, 4, 8, 0, 1, 2]),
        words(&[1, 4, 8, 64, 0, 0, 0]),
    ]
    .concat();
    let maps = elf.data("maps", &defs);
    elf.code("socket", &ret0());
    elf.symbol("outer", maps, 0, 28, STT_OBJECT, STB_GLOBAL);
    elf.symbol("inner", maps, 28, 28, STT_OBJECT, STB_GLOBAL);
    elf.symbol("prog", 2, 0, 16, STT_FUNC, STB_GLOBAL);
    if let Some(names) = names {
        let mut b = BtfBuilder::new();
        let uint = b.add_int("unsigned int", 4, IntEncoding::NONE);
        let members: Vec<(&str, TypeId, u32)> = names
            .iter()
            .enumerate()
            .map(|(i, n)| (*n, uint, 32 * i as u32))
            .collect();
        let def = b.add_struct("def", 28, &members);
        let outer = b.add_var("outer", def, Linkage::Global);
        let inner = b.add_var("inner", def, Linkage::Global);
        let info = |type_id, offset| VarSecinfo {
            type_id,
            offset,
            size: 28,
        };
        b.add_datasec("maps", 56, &[info(outer, 0), info(inner, 28)]);
        elf.section(".BTF", SHT_PROGBITS, 0, &b.encode());
    }
    elf.build()
}

const IPROUTE2_28: [&str; 7] = [
    "type",
    "size_key",
    "size_value",
    "max_elem",
    "flags",
    "id",
    "pinning",
];
const SAMPLES_28: [&str; 7] = [
    "type",
    "key_size",
    "value_size",
    "max_entries",
    "map_flags",
    "inner_map_idx",
    "numa_node",
];

#[test]
fn twenty_eight_byte_definitions_are_named_by_btf() {
    // No BTF: the extra fields stay unnamed, and the non-zero ones are a warning.
    let bytes = twenty_eight_bytes(None);
    let object = Object::parse(&bytes).unwrap();
    let outer = &object.maps()[0];
    assert_eq!(outer.legacy.unwrap().layout, LegacyLayout::Unknown);
    assert_eq!(outer.legacy.unwrap().extra, &words(&[1, 2])[..]);
    assert_eq!(outer.pinning, Pinning::None);
    assert_eq!(kinds(&object), ["legacy-maps", "unknown-map-fields"]);

    // iproute2's member names: id 1, pinning 2 (PIN_GLOBAL_NS).
    let bytes = twenty_eight_bytes(Some(IPROUTE2_28));
    let object = Object::parse(&bytes).unwrap();
    let outer = &object.maps()[0];
    assert_eq!(
        outer.legacy.unwrap().layout,
        LegacyLayout::Iproute2 {
            id: 1,
            pinning: 2,
            inner_id: 0,
            inner_idx: 0
        }
    );
    assert_eq!(outer.pinning, Pinning::GlobalNs);
    assert_eq!(kinds(&object), ["legacy-maps"]);

    // samples/bpf's: the hash of maps takes map 1 of the section as its inner map.
    let bytes = twenty_eight_bytes(Some(SAMPLES_28));
    let object = Object::parse(&bytes).unwrap();
    let outer = &object.maps()[0];
    assert_eq!(
        outer.legacy.unwrap().layout,
        LegacyLayout::KernelSamples {
            inner_map_idx: 1,
            numa_node: 2
        }
    );
    assert_eq!(
        outer.inner.map(|i| i.def),
        Some(MapDef::new(MapType::HASH, 4, 8, 64))
    );
    assert_eq!(kinds(&object), ["legacy-maps"]);
}

/// RELA relocations (old toolchains; Open vSwitch's datapath objects): the addend is in the
/// entry, the instruction's `imm` is 0.
fn rela() -> Vec<u8> {
    let mut elf = Elf::new();
    let data = elf.data(".data", &[0; 16]);
    let maps = elf.data("maps", &words(&[2, 4, 8, 1, 0]));
    let code = elf.code(
        "socket",
        &encode(&[lddw(Reg::R1, 0), lddw(Reg::R2, 0), mov0(), exit()]),
    );
    let data_sym = elf.symbol(".data", data, 0, 0, STT_SECTION, STB_LOCAL);
    let map = elf.symbol("counters", maps, 0, 20, STT_OBJECT, STB_GLOBAL);
    elf.symbol("prog", code, 0, 48, STT_FUNC, STB_GLOBAL);
    elf.relocations(
        code,
        true,
        &[(0, data_sym, R_BPF_64_64, 8), (16, map, R_BPF_64_64, 0)],
    );
    elf.build()
}

#[test]
fn rela_entries_carry_their_addends() {
    let bytes = rela();
    let object = Object::parse(&bytes).unwrap();
    let table = &object.elf().relocation_sections()[0];
    assert!(table.rela);
    assert_eq!(table.relocations[0].addend, Some(8));
    let relocs = &object.program("prog").unwrap().function.relocations;
    let data = object
        .data_sections()
        .iter()
        .position(|d| d.kind == DataKind::Data)
        .unwrap();
    assert_eq!(
        relocs[0].target,
        RelocTarget::Data {
            data: bpfkit_elf::DataIndex(data),
            offset: 8
        }
    );
    assert_eq!(relocs[1].target, RelocTarget::Map(MapIndex(0)));
    assert_eq!(kinds(&object), ["legacy-maps", "rela-relocations"]);
}

/// Functions as clang before 8 wrote them: NOTYPE symbols, or none at all.
fn untyped_functions() -> Vec<u8> {
    let mut elf = Elf::new();
    let two = [ret0(), ret0()].concat();
    let socket = elf.code("socket/1", &two);
    let xdp = elf.code("xdp", &ret0());
    let tail = elf.code("tail-0", &ret0());
    elf.symbol("LBB0_1", socket, 8, 0, STT_NOTYPE, STB_LOCAL); // a jump label
    elf.symbol("xdp", xdp, 0, 0, STT_SECTION, STB_LOCAL);
    elf.symbol("tail_action", tail, 0, 0, STT_NOTYPE, STB_LOCAL);
    elf.symbol("first", socket, 0, 0, STT_NOTYPE, STB_GLOBAL);
    elf.symbol("second", socket, 16, 0, STT_NOTYPE, STB_GLOBAL);
    elf.build()
}

#[test]
fn functions_without_func_symbols_are_found() {
    let bytes = untyped_functions();
    let object = Object::parse(&bytes).unwrap();
    let programs: Vec<(&str, &str, usize)> = object
        .programs()
        .iter()
        .map(|p| (p.name(), p.section_name(), p.function.insn_count()))
        .collect();
    assert_eq!(
        programs,
        [
            ("first", "socket/1", 2),
            ("second", "socket/1", 2),
            ("xdp", "xdp", 2),
            ("tail_action", "tail-0", 2)
        ]
    );
    assert_eq!(kinds(&object), ["untyped-function"; 4]);
}

fn static_program() -> Vec<u8> {
    let mut elf = Elf::new();
    let xdp = elf.code("xdp", &[ret0(), ret0()].concat());
    elf.symbol("helper_prog", xdp, 16, 16, STT_FUNC, STB_LOCAL);
    elf.symbol("main_prog", xdp, 0, 16, STT_FUNC, STB_GLOBAL);
    elf.build()
}

#[test]
fn static_programs_are_read_and_flagged() {
    let bytes = static_program();
    let object = Object::parse(&bytes).unwrap();
    let helper = object.program("helper_prog").unwrap();
    assert_eq!(helper.function.binding, SymbolBinding::Local);
    assert!(object.program("main_prog").is_some());
    assert_eq!(
        object.warnings()[0].kind,
        WarningKind::StaticProgram {
            name: "helper_prog".into()
        }
    );
    assert_eq!(object.warnings().len(), 1);
}

/// `r1 = MY_CONST ll` (inline assembly: no BTF) and a call of `fwd`, declared but defined
/// elsewhere (a BTF FUNC with extern linkage in no DATASEC).
fn externs() -> Vec<u8> {
    let mut elf = Elf::new();
    let call = Insn::new(Opcode::CallLocal).with_imm(-1);
    let code = elf.code("socket", &encode(&[lddw(Reg::R1, 0), call, mov0(), exit()]));
    let mut b = BtfBuilder::new();
    let int = b.add_int("int", 4, IntEncoding::SIGNED);
    let proto = b.add_func_proto(int, &[]);
    b.add_func("fwd", proto, Linkage::Extern);
    elf.section(".BTF", SHT_PROGBITS, 0, &b.encode());
    elf.symbol("prog", code, 0, 40, STT_FUNC, STB_GLOBAL);
    let my_const = elf.symbol("MY_CONST", 0, 0, 0, STT_NOTYPE, STB_GLOBAL);
    let fwd = elf.symbol("fwd", 0, 0, 0, STT_NOTYPE, STB_GLOBAL);
    elf.relocations(
        code,
        false,
        &[(0, my_const, R_BPF_64_64, 0), (16, fwd, R_BPF_64_32, 0)],
    );
    elf.build()
}

#[test]
fn externs_outside_kconfig_and_ksyms_are_kept() {
    let bytes = externs();
    let object = Object::parse(&bytes).unwrap();
    let externs: Vec<(&str, ExternKind, bool)> = object
        .externs()
        .iter()
        .map(|e| (e.name, e.kind, e.btf_type != TypeId::VOID))
        .collect();
    assert_eq!(
        externs,
        [
            ("MY_CONST", ExternKind::Undescribed, false),
            ("fwd", ExternKind::Function, true)
        ]
    );
    let prog = object.program("prog").unwrap();
    let targets: Vec<RelocTarget> = prog.function.relocations.iter().map(|r| r.target).collect();
    assert_eq!(
        targets,
        [
            RelocTarget::ExternVar(bpfkit_elf::ExternIndex(0)),
            RelocTarget::ExternCall(bpfkit_elf::ExternIndex(1))
        ]
    );
    // A call of an extern is not a bpf-to-bpf call.
    assert!(prog.function.calls.is_empty());
    assert_eq!(kinds(&object), ["unresolved-extern"; 2]);
}

/// A `static` legacy map: clang relocates against the section symbol, the map's offset in the
/// instruction (cilium/ebpf's testdata/invalid_map_static.c).
fn static_legacy_map() -> Vec<u8> {
    let mut elf = Elf::new();
    let defs = [words(&[1, 4, 8, 1, 0]), words(&[1, 4, 8, 2, 0])].concat();
    let maps = elf.data("maps", &defs);
    let code = elf.code("xdp", &encode(&[lddw(Reg::R1, 20), mov0(), exit()]));
    let section = elf.symbol("maps", maps, 0, 0, STT_SECTION, STB_LOCAL);
    elf.symbol("hidden", maps, 20, 20, STT_OBJECT, STB_LOCAL);
    elf.symbol("dummy", maps, 0, 20, STT_OBJECT, STB_GLOBAL);
    elf.symbol("prog", code, 0, 32, STT_FUNC, STB_GLOBAL);
    elf.relocations(code, false, &[(0, section, R_BPF_64_64, 0)]);
    elf.build()
}

#[test]
fn a_static_map_is_found_through_its_section_symbol() {
    let bytes = static_legacy_map();
    let object = Object::parse(&bytes).unwrap();
    let prog = object.program("prog").unwrap();
    let RelocTarget::Map(index) = prog.function.relocations[0].target else {
        panic!("not a map: {:?}", prog.function.relocations[0]);
    };
    assert_eq!(object.maps()[index].name, "hidden");
    assert_eq!(object.maps()[index].def.max_entries, 2);
    assert_eq!(kinds(&object), ["legacy-maps", "static-map"]);
}

/// PREVAIL's corpus keeps each legacy map in a section of its own, `maps/NAME`.
fn prevail_map_sections() -> Vec<u8> {
    let mut elf = Elf::new();
    let inner = elf.data("maps/inner", &words(&[1, 4, 4, 1, 0]));
    let outer = elf.data("maps/outer", &words(&[12, 4, 4, 1, 0]));
    let code = elf.code("xdp", &encode(&[lddw(Reg::R1, 0), mov0(), exit()]));
    elf.symbol("inner_map", inner, 0, 20, STT_OBJECT, STB_GLOBAL);
    let outer_sym = elf.symbol("outer_map", outer, 0, 20, STT_OBJECT, STB_GLOBAL);
    elf.symbol("prog", code, 0, 32, STT_FUNC, STB_GLOBAL);
    elf.relocations(code, false, &[(0, outer_sym, R_BPF_64_64, 0)]);
    elf.build()
}

#[test]
fn maps_slash_name_sections_are_legacy_maps() {
    let bytes = prevail_map_sections();
    let object = Object::parse(&bytes).unwrap();
    let names: Vec<&str> = object.maps().iter().map(|m| m.name).collect();
    assert_eq!(names, ["inner_map", "outer_map"]);
    assert_eq!(
        object.program("prog").unwrap().function.relocations[0].target,
        RelocTarget::Map(MapIndex(1))
    );
    assert_eq!(kinds(&object), ["legacy-maps"; 2]);
}

/// A BTF-defined program array pinned with cilium's `CILIUM_PIN_REPLACE` (16), whose `.values`
/// names a `.text` subprogram rather than an entry point.
fn btf_prog_array() -> Vec<u8> {
    let mut b = BtfBuilder::new();
    let int = b.add_int("int", 4, IntEncoding::SIGNED);
    let uint = |b: &mut BtfBuilder, n: u32| {
        let array = b.add_array(int, int, n);
        b.add_ptr(array)
    };
    let (t, k, max, pin) = (
        uint(&mut b, 3),
        uint(&mut b, 4),
        uint(&mut b, 2),
        uint(&mut b, 16),
    );
    let proto = b.add_func_proto(int, &[]);
    let ptr = b.add_ptr(proto);
    let values = b.add_array(ptr, int, 0);
    let def = b.add_struct(
        "",
        32,
        &[
            ("type", t, 0),
            ("key_size", k, 64),
            ("max_entries", max, 128),
            ("pinning", pin, 192),
            ("values", values, 256),
        ],
    );
    let var = b.add_var("jumps", def, Linkage::Global);
    b.add_datasec(
        ".maps",
        40,
        &[VarSecinfo {
            type_id: var,
            offset: 0,
            size: 40,
        }],
    );
    let mut elf = Elf::new();
    let text = elf.code(".text", &ret0());
    elf.code("xdp", &ret0());
    let maps = elf.data(".maps", &[0; 40]);
    elf.section(".BTF", SHT_PROGBITS, 0, &b.encode());
    let sub = elf.symbol("sub", text, 0, 16, STT_FUNC, STB_GLOBAL);
    elf.symbol("entry", 2, 0, 16, STT_FUNC, STB_GLOBAL);
    elf.symbol("jumps", maps, 0, 40, STT_OBJECT, STB_GLOBAL);
    elf.relocations(maps, false, &[(32, sub, R_BPF_64_ABS64, 0)]);
    elf.build()
}

#[test]
fn btf_map_pinning_and_values_libbpf_refuses_are_kept() {
    let bytes = btf_prog_array();
    let object = Object::parse(&bytes).unwrap();
    let map = object.map("jumps").unwrap();
    assert_eq!(map.def, MapDef::new(MapType::PROG_ARRAY, 4, 4, 2));
    assert_eq!(map.pinning, Pinning::Unknown(16));
    // No program for slot 0: the warning keeps it.
    assert!(map.initial_values.is_empty());
    assert_eq!(kinds(&object), ["unknown-pinning", "not-a-program"]);
    assert_eq!(
        object.warnings()[1].kind,
        WarningKind::NotAProgram {
            map: "jumps".into(),
            slot: 0,
            function: "sub".into()
        }
    );
}

/// `lddw` with `src` 15, which names no pseudo form (ebpf-samples' invalid-lddw.o).
fn bad_instruction() -> Vec<u8> {
    let mut elf = Elf::new();
    let mut code = vec![0x18, 0xf1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
    code.extend(encode(&[exit()]));
    let socket = elf.code("socket", &code);
    elf.symbol("prog", socket, 0, 24, STT_FUNC, STB_GLOBAL);
    elf.build()
}

#[test]
fn an_undecodable_instruction_is_a_warning() {
    let bytes = bad_instruction();
    let object = Object::parse(&bytes).unwrap();
    let prog = object.program("prog").unwrap();
    assert!(prog.function.decode().is_err());
    let w = &object.warnings()[0];
    assert_eq!(w.kind.name(), "bad-instruction");
    assert_eq!(w.offset, prog.function.file_offset);
    assert!(!w.kind.refused_by_libbpf());
}

/// Builds one object.
type Build = fn() -> Vec<u8>;

/// Every shape, by name.
const SHAPES: [(&str, Build); 12] = [
    ("iproute2_maps", iproute2_maps),
    ("maps_28_unnamed", || twenty_eight_bytes(None)),
    ("maps_28_iproute2", || twenty_eight_bytes(Some(IPROUTE2_28))),
    ("rela", rela),
    ("untyped_functions", untyped_functions),
    ("static_program", static_program),
    ("externs", externs),
    ("static_legacy_map", static_legacy_map),
    ("prevail_map_sections", prevail_map_sections),
    ("btf_prog_array", btf_prog_array),
    ("maps_28_samples", || twenty_eight_bytes(Some(SAMPLES_28))),
    ("bad_instruction", bad_instruction),
];

/// LLVM reads every built file without a complaint: the writer makes well-formed ELF.
#[test]
fn llvm_reads_every_shape() {
    let Some(readelf) = bpfkit_test_support::tool("llvm-readelf-19") else {
        return;
    };
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("shapes");
    std::fs::create_dir_all(&dir).unwrap();
    for (name, build) in SHAPES {
        let path = dir.join(format!("{name}.o"));
        std::fs::write(&path, build()).unwrap();
        let out = std::process::Command::new(&readelf)
            .args(["-S", "-s", "-r"])
            .arg(&path)
            .output()
            .unwrap();
        assert!(out.status.success(), "{name}");
        assert!(
            out.stderr.is_empty(),
            "{name}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

/// Writes every shape to `BPFKIT_WRITE_SEEDS` (a directory), for the `elf_parse` fuzz target.
#[test]
#[ignore = "writes fuzz seeds to BPFKIT_WRITE_SEEDS=<dir>; fuzz/seed.sh runs it"]
fn write_fuzz_seeds() {
    let dir = bpfkit_test_support::corpus_dir("BPFKIT_WRITE_SEEDS");
    for (name, build) in SHAPES {
        std::fs::write(dir.join(format!("shape_{name}.o")), build()).unwrap();
    }
}

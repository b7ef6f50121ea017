//! CO-RE engine cases the libbpf comparisons cannot reach (clang never emits them, or the
//! target is not a file libbpf takes): malformed records, instruction forms, poisoning of
//! `lddw`, module BTFs searched after the main BTF, split BTF targets, the candidate cache.
//! Expected values follow libbpf's rules (relo_core.c), worked out by hand in each comment.

use bpfkit_btf::{Btf, BtfBuilder, IntEncoding, TypeId};
use bpfkit_isa::{Insn, Opcode, Reg};
use bpfkit_relo::core::{
    CoreErrorKind, CoreMatch, CoreRecord, CoreRelocator, CoreTarget, POISON_IMM, Poison,
    essential_name, relocate,
};
use bpfkit_test_support::{Need, VMLINUX, require};
use bpfkit_uapi::CoreReloKind as K;

fn rec(type_id: TypeId, access: &str, kind: K) -> CoreRecord<'_> {
    CoreRecord {
        index: 3,
        type_id,
        access_str: access,
        kind,
    }
}

fn ldx_w(off: i16) -> Insn {
    Insn::new(Opcode::LdxW)
        .with_dst(Reg::R1)
        .with_src(Reg::R2)
        .with_off(off)
}

fn add_imm(imm: i32) -> Insn {
    Insn::new(Opcode::Add64Imm).with_dst(Reg::R1).with_imm(imm)
}

/// Local: `struct s { int a; int b; }`, `struct s___v2 { int b; }`, an anonymous struct and
/// `enum e { X = 1 }`.
fn local() -> (Vec<u8>, TypeId, TypeId, TypeId, TypeId) {
    let mut b = BtfBuilder::new();
    let int = b.add_int("int", 4, IntEncoding::SIGNED);
    let s = b.add_struct("s", 8, &[("a", int, 0), ("b", int, 32)]);
    let v2 = b.add_struct("s___v2", 4, &[("b", int, 0)]);
    let anon = b.add_struct("", 4, &[("a", int, 0)]);
    let e = b.add_enum("e", 4, false, &[("X", 1)]);
    let _ = e;
    (b.encode(), s, v2, anon, e)
}

/// Target: `struct s { long pad; int b; int a; }` and `enum e { X = 7 }`.
fn target() -> Vec<u8> {
    let mut b = BtfBuilder::new();
    let int = b.add_int("int", 4, IntEncoding::SIGNED);
    let long = b.add_int("long", 8, IntEncoding::SIGNED);
    b.add_struct("s", 16, &[("pad", long, 0), ("b", int, 64), ("a", int, 96)]);
    b.add_enum("e", 4, false, &[("X", 7)]);
    b.encode()
}

#[test]
fn field_offset_through_flavor() {
    let (l, _, v2, _, _) = local();
    let t = target();
    let (local, target) = (Btf::parse(&l).unwrap(), Btf::parse(&t).unwrap());
    let target = CoreTarget::new(&target);
    // s___v2.b: local offset 0; the target `s` has b at bit 64 = byte 8.
    let out = relocate(
        &local,
        &rec(v2, "0:0", K::FIELD_BYTE_OFFSET),
        &ldx_w(0),
        &target,
    )
    .unwrap();
    assert_eq!(out.insns, vec![ldx_w(8)]);
    assert_eq!((out.old, out.new, out.expected), (0, Some(8), 0));
    let CoreMatch::Found { spec, matched, .. } = &out.target else {
        panic!("{:?}", out.target)
    };
    assert_eq!((spec.type_name.as_str(), *matched), ("s", 1));
}

#[test]
fn missing_field_poisons_both_lddw_halves() {
    let (l, s, _, _, _) = local();
    let mut tb = BtfBuilder::new();
    let int = tb.add_int("int", 4, IntEncoding::SIGNED);
    tb.add_struct("s", 4, &[("a", int, 0)]);
    let t = tb.encode();
    let (local, target) = (Btf::parse(&l).unwrap(), Btf::parse(&t).unwrap());
    let target = CoreTarget::new(&target);
    let lddw = Insn::new(Opcode::LdImm64).with_dst(Reg::R1).with_imm64(4);
    let out = relocate(&local, &rec(s, "0:1", K::FIELD_BYTE_OFFSET), &lddw, &target).unwrap();
    assert!(out.poisoned);
    assert_eq!(out.poison, Some(Poison::NotFound));
    assert_eq!(out.new, None);
    let call = Insn::new(Opcode::Call).with_imm(POISON_IMM);
    assert_eq!(out.insns, vec![call, call]);
    // The existence check of the same field gives 0 instead of poisoning.
    let out = relocate(
        &local,
        &rec(s, "0:1", K::FIELD_EXISTS),
        &add_imm(1),
        &target,
    )
    .unwrap();
    assert_eq!(out.insns, vec![add_imm(0)]);
}

#[test]
fn unexpected_instruction_value_is_an_error() {
    let (l, s, _, _, _) = local();
    let t = target();
    let (local, target) = (Btf::parse(&l).unwrap(), Btf::parse(&t).unwrap());
    let target = CoreTarget::new(&target);
    // s.b is at byte 4 locally; an instruction holding 5 was not compiled for this record.
    let err = relocate(
        &local,
        &rec(s, "0:1", K::FIELD_BYTE_OFFSET),
        &add_imm(5),
        &target,
    )
    .unwrap_err();
    assert!(matches!(
        err.reason,
        CoreErrorKind::UnexpectedValue {
            got: 5,
            expected: 4,
            new: 8,
            ..
        }
    ));
    assert_eq!(
        err.to_string(),
        "CO-RE relocation #3 (field_byte_offset of struct s.b): the instruction (ALU/ALU64) \
         holds 5, but the local type gives 4 (target: 8)"
    );
}

#[test]
fn malformed_records() {
    let (l, s, _, anon, e) = local();
    let t = target();
    let (local, target) = (Btf::parse(&l).unwrap(), Btf::parse(&t).unwrap());
    let target = CoreTarget::new(&target);
    let insn = add_imm(0);
    let reason = |r: CoreRecord<'_>| relocate(&local, &r, &insn, &target).unwrap_err().reason;
    for access in [
        "",
        ":0",
        "0:",
        "0::1",
        "0:x",
        "0:-1",
        "0:2",
        "0:99999999999",
    ] {
        assert!(
            matches!(
                reason(rec(s, access, K::FIELD_BYTE_OFFSET)),
                CoreErrorKind::BadAccess { .. }
            ),
            "{access:?}"
        );
    }
    // 65 steps: longer than libbpf's 64.
    let long = vec!["0"; 65].join(":");
    assert_eq!(
        reason(rec(s, &long, K::FIELD_BYTE_OFFSET)),
        CoreErrorKind::TooLong
    );
    // Type-based kinds take exactly "0"; enumerator kinds one index into an enum.
    assert!(matches!(
        reason(rec(s, "0:0", K::TYPE_SIZE)),
        CoreErrorKind::BadAccess { .. }
    ));
    assert!(matches!(
        reason(rec(s, "0", K::ENUMVAL_VALUE)),
        CoreErrorKind::BadAccess { .. }
    ));
    assert!(matches!(
        reason(rec(e, "1", K::ENUMVAL_VALUE)),
        CoreErrorKind::BadAccess { .. }
    ));
    // Anonymous roots have no candidates; type ids past the end are refused.
    assert_eq!(
        reason(rec(anon, "0:0", K::FIELD_BYTE_OFFSET)),
        CoreErrorKind::AnonymousType
    );
    assert_eq!(
        reason(rec(TypeId(999), "0", K::TYPE_SIZE)),
        CoreErrorKind::NoSuchType(999)
    );
    assert_eq!(reason(rec(s, "0", K(13))), CoreErrorKind::UnknownKind(13));
    // "0 1" parses as "0:1" (libbpf's sscanf skips the blank), as do "+0:+1".
    let ok = relocate(
        &local,
        &rec(s, "0 1", K::FIELD_BYTE_OFFSET),
        &add_imm(4),
        &target,
    )
    .unwrap();
    assert_eq!(ok.new, Some(8));
    let ok = relocate(
        &local,
        &rec(s, "+0:+1", K::FIELD_BYTE_OFFSET),
        &add_imm(4),
        &target,
    )
    .unwrap();
    assert_eq!(ok.new, Some(8));
}

#[test]
fn instruction_forms() {
    let (l, s, _, _, e) = local();
    let t = target();
    let (local, target) = (Btf::parse(&l).unwrap(), Btf::parse(&t).unwrap());
    let target = CoreTarget::new(&target);
    let r = rec(s, "0:1", K::FIELD_BYTE_OFFSET);
    // Loads and stores get the offset; lddw the 64-bit value; ALU-immediate the immediate.
    let st = Insn::new(Opcode::StW)
        .with_dst(Reg::R1)
        .with_off(4)
        .with_imm(9);
    assert_eq!(
        relocate(&local, &r, &st, &target).unwrap().insns[0],
        st.with_off(8)
    );
    let lddw = Insn::new(Opcode::LdImm64).with_dst(Reg::R3).with_imm64(1);
    let out = relocate(&local, &rec(e, "0", K::ENUMVAL_VALUE), &lddw, &target).unwrap();
    assert_eq!(out.insns, vec![lddw.with_imm64(7)]);
    // Register-source ALU, jumps and map lddw forms are not relocatable.
    for insn in [
        Insn::new(Opcode::Add64Reg)
            .with_dst(Reg::R1)
            .with_src(Reg::R2),
        Insn::new(Opcode::Ja).with_off(4),
        Insn::new(Opcode::LdMapFd).with_dst(Reg::R1).with_imm(4),
    ] {
        assert!(
            matches!(
                relocate(&local, &r, &insn, &target).unwrap_err().reason,
                CoreErrorKind::Insn(_)
            ),
            "{insn:?}"
        );
    }
}

#[test]
fn load_size_follows_unsigned_fields_only() {
    // Local: struct w { unsigned int u; int s; }; target: the same with 8-byte fields.
    let mut lb = BtfBuilder::new();
    let u32_ = lb.add_int("unsigned int", 4, IntEncoding::NONE);
    let s32 = lb.add_int("int", 4, IntEncoding::SIGNED);
    let w = lb.add_struct("w", 8, &[("u", u32_, 0), ("s", s32, 32)]);
    let l = lb.encode();
    let mut tb = BtfBuilder::new();
    let u64_ = tb.add_int("unsigned long", 8, IntEncoding::NONE);
    let s64 = tb.add_int("long", 8, IntEncoding::SIGNED);
    tb.add_struct("w", 16, &[("s", s64, 0), ("u", u64_, 64)]);
    let t = tb.encode();
    let (local, target) = (Btf::parse(&l).unwrap(), Btf::parse(&t).unwrap());
    let target = CoreTarget::new(&target);
    let out = relocate(
        &local,
        &rec(w, "0:0", K::FIELD_BYTE_OFFSET),
        &ldx_w(0),
        &target,
    )
    .unwrap();
    let dw = Insn::new(Opcode::LdxDW)
        .with_dst(Reg::R1)
        .with_src(Reg::R2)
        .with_off(8);
    assert_eq!(out.insns, vec![dw]);
    assert_eq!(out.mem_size, Some((4, 8)));
    // A signed field cannot change size without changing its value: poisoned.
    let out = relocate(
        &local,
        &rec(w, "0:1", K::FIELD_BYTE_OFFSET),
        &ldx_w(4),
        &target,
    )
    .unwrap();
    assert_eq!(out.poison, Some(Poison::MemSize));
}

#[test]
fn ambiguity_names_the_candidates() {
    let (l, s, _, _, _) = local();
    let mut tb = BtfBuilder::new();
    let int = tb.add_int("int", 4, IntEncoding::SIGNED);
    tb.add_struct("s", 8, &[("a", int, 0), ("b", int, 32)]);
    tb.add_struct("s___x", 8, &[("b", int, 0), ("a", int, 32)]);
    let t = tb.encode();
    let (local, target) = (Btf::parse(&l).unwrap(), Btf::parse(&t).unwrap());
    let target = CoreTarget::new(&target);
    let err = relocate(
        &local,
        &rec(s, "0:1", K::FIELD_BYTE_OFFSET),
        &add_imm(4),
        &target,
    )
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        "CO-RE relocation #3 (field_byte_offset of struct s.b): 2 candidates match: s, s___x \
         (field offset ambiguity: 0 != 32)"
    );
}

#[test]
fn candidate_cache_prunes_like_libbpf() {
    // Two flavors; the first record matches only s___one, so later records of the same root
    // see only it (libbpf's per-object cache), where a fresh lookup would see both.
    let (l, s, _, _, _) = local();
    let mut tb = BtfBuilder::new();
    let int = tb.add_int("int", 4, IntEncoding::SIGNED);
    tb.add_struct("s___one", 4, &[("a", int, 0)]);
    tb.add_struct("s___two", 4, &[("b", int, 0)]);
    let t = tb.encode();
    let (local, target) = (Btf::parse(&l).unwrap(), Btf::parse(&t).unwrap());
    let target = CoreTarget::new(&target);
    let mut relocator = CoreRelocator::new(&target);
    let a = relocator
        .relocate(&local, &rec(s, "0:0", K::FIELD_BYTE_OFFSET), &add_imm(0))
        .unwrap();
    assert_eq!(a.new, Some(0));
    let b = relocator
        .relocate(&local, &rec(s, "0:1", K::FIELD_BYTE_OFFSET), &add_imm(4))
        .unwrap();
    assert!(b.poisoned, "pruned to s___one, which has no b");
    let fresh = relocate(
        &local,
        &rec(s, "0:1", K::FIELD_BYTE_OFFSET),
        &add_imm(4),
        &target,
    )
    .unwrap();
    assert_eq!(fresh.new, Some(0), "a fresh lookup finds s___two.b");
}

#[test]
fn modules_are_searched_after_the_main_btf() {
    // Base: struct in_base { int x; }. Module (split): struct in_mod { int pad; int y; } and
    // another struct in_base, which is not searched because the base has one.
    let mut bb = BtfBuilder::new();
    let int = bb.add_int("int", 4, IntEncoding::SIGNED);
    bb.add_struct("in_base", 4, &[("x", int, 0)]);
    let base_bytes = bb.encode();
    let base = Btf::parse(&base_bytes).unwrap();
    let mut mb = BtfBuilder::new_split(&base);
    let in_mod = mb.add_struct("in_mod", 8, &[("pad", int, 0), ("y", int, 32)]);
    mb.add_struct("in_base", 8, &[("pad", int, 0), ("x", int, 32)]);
    let mod_bytes = mb.encode();
    let module = Btf::parse_split(&mod_bytes, &base).unwrap();

    let mut lb = BtfBuilder::new();
    let lint = lb.add_int("int", 4, IntEncoding::SIGNED);
    let l_base = lb.add_struct("in_base", 4, &[("x", lint, 0)]);
    let l_mod = lb.add_struct("in_mod", 4, &[("y", lint, 0)]);
    let l = lb.encode();
    let local = Btf::parse(&l).unwrap();

    let mut target = CoreTarget::new(&base);
    target.add_module("testmod", &module);
    let out = relocate(
        &local,
        &rec(l_mod, "0:0", K::FIELD_BYTE_OFFSET),
        &add_imm(0),
        &target,
    )
    .unwrap();
    assert_eq!(out.new, Some(4));
    let CoreMatch::Found {
        btf,
        btf_name,
        spec,
        ..
    } = &out.target
    else {
        panic!()
    };
    assert_eq!(
        (*btf, btf_name.as_str(), spec.type_id),
        (1, "testmod", in_mod)
    );
    assert!(out.target.to_string().ends_with(" in testmod"));
    let out = relocate(
        &local,
        &rec(l_base, "0:0", K::FIELD_BYTE_OFFSET),
        &add_imm(0),
        &target,
    )
    .unwrap();
    assert_eq!(
        out.new,
        Some(0),
        "the base's in_base, the module's is not a candidate"
    );

    // Given as one split BTF, base and split types are all candidates: in_base twice, with
    // different offsets: ambiguous.
    let split_target = CoreTarget::new(&module);
    let err = relocate(
        &local,
        &rec(l_base, "0:0", K::FIELD_BYTE_OFFSET),
        &add_imm(0),
        &split_target,
    )
    .unwrap_err();
    assert!(
        matches!(err.reason, CoreErrorKind::Ambiguous { .. }),
        "{err}"
    );
}

#[test]
fn split_btf_on_the_running_kernel() {
    require!(Need::File(VMLINUX));
    let vmlinux_bytes = bpfkit_btf::vmlinux::read_vmlinux().unwrap();
    let vmlinux = Btf::parse(&vmlinux_bytes).unwrap();
    let int = vmlinux
        .find_by_name_kind("int", bpfkit_btf::Kind::Int)
        .expect("vmlinux has int");
    let mut mb = BtfBuilder::new_split(&vmlinux);
    let m = mb.add_struct("bpfkit_testmod_data", 12, &[("a", int, 0), ("b", int, 64)]);
    let mod_bytes = mb.encode();
    let module = Btf::parse_split(&mod_bytes, &vmlinux).unwrap();

    let mut lb = BtfBuilder::new();
    let lint = lb.add_int("int", 4, IntEncoding::SIGNED);
    let l = lb.add_struct("bpfkit_testmod_data___mine", 4, &[("b", lint, 0)]);
    let ts = lb.add_struct("task_struct", 4, &[("pid", lint, 0)]);
    let lbytes = lb.encode();
    let local = Btf::parse(&lbytes).unwrap();

    let mut target = CoreTarget::new(&vmlinux);
    target.add_module("bpfkit_testmod", &module);
    let out = relocate(
        &local,
        &rec(l, "0:0", K::FIELD_BYTE_OFFSET),
        &add_imm(0),
        &target,
    )
    .unwrap();
    assert_eq!(out.new, Some(8));
    let out = relocate(
        &local,
        &rec(l, "0", K::TYPE_ID_TARGET),
        &add_imm(0),
        &target,
    )
    .unwrap();
    assert_eq!(out.new, Some(u64::from(m.0)));
    assert!(m.0 >= vmlinux.type_cnt());
    // task_struct.pid comes from vmlinux, as btf__find_by_name_kind finds it.
    let pid = vmlinux
        .find_member(
            vmlinux
                .find_by_name_kind("task_struct", bpfkit_btf::Kind::Struct)
                .unwrap(),
            "pid",
        )
        .unwrap()
        .unwrap()
        .1;
    let out = relocate(
        &local,
        &rec(ts, "0:0", K::FIELD_BYTE_OFFSET),
        &add_imm(0),
        &target,
    )
    .unwrap();
    assert_eq!(out.new, Some(pid / 8));
}

#[test]
fn essential_names() {
    assert_eq!(essential_name(b"sk_buff___old"), b"sk_buff");
    assert_eq!(essential_name(b"sk_buff"), b"sk_buff");
}

//! Encodings checked against LLVM: every instruction form of [`Asm`], emitted with boundary
//! operands, is disassembled by `llvm-objdump-19 --triple=aarch64 -d`, and the text must be the
//! instruction the method is meant to emit (written here by hand, in LLVM's syntax: its
//! preferred aliases such as `mov`, `cmp`, `lsl`, hex immediates). Then whole programs (every
//! conformance program, in every mode) are compiled with this backend on the host, and LLVM
//! must decode every word, with no mnemonic outside the ones the table above checked.
//!
//! These tests run on any host: emission only writes bytes.

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;

use bpfkit_asm::conformance::TestFile;
use bpfkit_vm::Vm;
use object::write::{Object, StandardSection};
use object::{Architecture, BinaryFormat, Endianness};

use super::asm::{Addr, Asm, Cc, Logic, Lse, MemOp, SP, Shift, ZR};
use super::emit::Aarch64;
use crate::lower::Options;
use crate::{Atomics, Mode};

/// LLVM's disassembly of `code`, one normalised line per instruction: single spaces, no
/// address, no symbol after a branch target.
fn llvm(code: &[u8]) -> Option<Vec<String>> {
    let objdump = bpfkit_test_support::tool("llvm-objdump-19")?;
    let mut obj = Object::new(BinaryFormat::Elf, Architecture::Aarch64, Endianness::Little);
    let text = obj.section_id(StandardSection::Text);
    obj.append_section_data(text, code, 4);
    let path = std::env::temp_dir().join(format!(
        "bpfkit-aarch64-{}-{:?}.o",
        std::process::id(),
        std::thread::current().id()
    ));
    std::fs::write(&path, obj.write().unwrap()).unwrap();
    let out = Command::new(objdump)
        .args(["--triple=aarch64", "-d", "--no-show-raw-insn"])
        .arg(&path)
        .output()
        .unwrap();
    let _ = std::fs::remove_file(&path);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let lines = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .filter_map(|line| {
            let (addr, insn) = line.split_once(':')?;
            u64::from_str_radix(addr.trim(), 16).ok()?;
            // Drop the symbol after a branch target and LLVM's `// =4097` value comments.
            let insn = insn.split(" <").next().unwrap_or(insn);
            let insn = insn.split("//").next().unwrap_or(insn);
            let insn = insn.split_whitespace().collect::<Vec<_>>().join(" ");
            Some(insn.replace(" ,", ","))
        })
        .collect();
    Some(lines)
}

/// One case: what the method is meant to emit, and the call.
type Case = (&'static str, Box<dyn Fn(&mut Asm)>);

fn case(expected: &'static str, emit: impl Fn(&mut Asm) + 'static) -> Case {
    (expected, Box::new(emit))
}

/// Every form, with operands at the edges of their fields.
fn cases() -> Vec<Case> {
    let mut c: Vec<Case> = vec![
        // Moves and constants.
        case("mov x9, x19", |a| a.mov(true, 9, 19)),
        case("mov w7, w7", |a| a.mov(false, 7, 7)),
        case("mov x29, sp", |a| a.mov_sp(29, SP)),
        case("mov sp, x9", |a| a.mov_sp(SP, 9)),
        case("mov x9, #0x1234", |a| a.movz(true, 9, 0x1234, 0)),
        case("mov x9, #0x12340000", |a| a.movz(true, 9, 0x1234, 16)),
        case("mov x9, #0x123400000000", |a| a.movz(true, 9, 0x1234, 32)),
        case("mov x9, #0x1234000000000000", |a| {
            a.movz(true, 9, 0x1234, 48)
        }),
        case("mov w9, #0xffff", |a| a.movz(false, 9, 0xffff, 0)),
        // LLVM shows a W register's constant as a signed 32-bit value.
        case("mov w9, #-0x10000", |a| a.movz(false, 9, 0xffff, 16)),
        case("mov x9, #-0x2", |a| a.movn(true, 9, 1, 0)),
        case("mov x9, #-0x10001", |a| a.movn(true, 9, 1, 16)),
        case("mov x9, #-0x100000001", |a| a.movn(true, 9, 1, 32)),
        case("mov x9, #-0x1000000000001", |a| a.movn(true, 9, 1, 48)),
        case("mov w9, #-0x2", |a| a.movn(false, 9, 1, 0)),
        case("mov w9, #-0x10001", |a| a.movn(false, 9, 1, 16)),
        case("movk x9, #0xffff", |a| a.movk(true, 9, 0xffff, 0)),
        case("movk x9, #0x1, lsl #16", |a| a.movk(true, 9, 1, 16)),
        case("movk x9, #0x1, lsl #32", |a| a.movk(true, 9, 1, 32)),
        case("movk x9, #0x1, lsl #48", |a| a.movk(true, 9, 1, 48)),
        case("movk w9, #0x1", |a| a.movk(false, 9, 1, 0)),
        case("movk w9, #0x8000, lsl #16", |a| {
            a.movk(false, 9, 0x8000, 16)
        }),
        // The constant builder's choices.
        case("mov x9, #0x0", |a| a.mov_const(true, 9, 0)),
        case("mov x9, #-0x1", |a| a.mov_const(true, 9, u64::MAX)),
        case("mov x9, #-0x80000000", |a| {
            a.mov_const(true, 9, 0xffff_ffff_8000_0000)
        }),
        case("mov x9, #0x5678\nmovk x9, #0x1234, lsl #16", |a| {
            a.mov_const(true, 9, 0x1234_5678)
        }),
        case(
            "mov x9, #0x7788\nmovk x9, #0x5566, lsl #16\nmovk x9, #0x3344, lsl #32\nmovk x9, #0x1122, lsl #48",
            |a| a.mov_const(true, 9, 0x1122_3344_5566_7788),
        ),
        case("mov x9, #-0x10000\nmovk x9, #0x1234, lsl #32", |a| {
            a.mov_const(true, 9, 0xffff_1234_ffff_0000)
        }),
        case("mov x9, #0x5555555555555555", |a| {
            a.mov_const(true, 9, 0x5555_5555_5555_5555)
        }),
        case("mov w9, #-0x2", |a| a.mov_const(false, 9, 0xffff_fffe)),
        case("mov w9, #0x1234\nmovk w9, #0x8000, lsl #16", |a| {
            a.mov_const(false, 9, 0x8000_1234)
        }),
        // 0x80000001 is a bitmask (two ones, rotated): one `orr`.
        case("mov w9, #-0x7fffffff", |a| {
            a.mov_const(false, 9, 0x8000_0001)
        }),
        case("mov w9, #0xf0f0f0f", |a| a.mov_const(false, 9, 0x0f0f_0f0f)),
        // Arithmetic.
        case("add x9, x19, #0xfff", |a| a.add_imm(true, 9, 19, 0xfff)),
        case("add x9, x9, #0x1, lsl #12", |a| {
            a.add_imm(true, 9, 9, 0x1000)
        }),
        case("add x9, x9, #0xfff, lsl #12", |a| {
            a.add_imm(true, 9, 9, 0xfff000)
        }),
        case("add w7, w7, #0x1", |a| a.add_imm(false, 7, 7, 1)),
        case("add w7, w7, #0x2, lsl #12", |a| {
            a.add_imm(false, 7, 7, 0x2000)
        }),
        case("add sp, sp, #0x10", |a| a.add_imm(true, SP, SP, 16)),
        case("sub x25, x25, #0x200", |a| a.sub_imm(true, 25, 25, 512)),
        case("sub x9, x9, #0x1, lsl #12", |a| {
            a.sub_imm(true, 9, 9, 0x1000)
        }),
        case("sub w7, w7, #0xfff", |a| a.sub_imm(false, 7, 7, 0xfff)),
        case("sub w7, w7, #0x3, lsl #12", |a| {
            a.sub_imm(false, 7, 7, 0x3000)
        }),
        case("subs x9, x9, #0x1", |a| a.subs_imm(true, 9, 9, 1)),
        case("cmp x9, #0x1, lsl #12", |a| a.subs_imm(true, ZR, 9, 0x1000)),
        case("cmp w0, #0xfff", |a| a.subs_imm(false, ZR, 0, 0xfff)),
        case("cmp w0, #0x1, lsl #12", |a| {
            a.subs_imm(false, ZR, 0, 0x1000)
        }),
        case("cmn x7, #0x1", |a| a.adds_imm(true, ZR, 7, 1)),
        case("cmn x7, #0x1, lsl #12", |a| a.adds_imm(true, ZR, 7, 0x1000)),
        case("cmn w7, #0x5", |a| a.adds_imm(false, ZR, 7, 5)),
        case("adds w7, w7, #0x5, lsl #12", |a| {
            a.adds_imm(false, 7, 7, 0x5000)
        }),
        case("add x10, x26, x10, lsl #5", |a| {
            a.add_reg(true, 10, 26, 10, 5)
        }),
        case("add w7, w7, w0", |a| a.add_reg(false, 7, 7, 0, 0)),
        case("sub x9, x25, x9", |a| a.sub_reg(true, 9, 25, 9)),
        case("sub w1, w1, w2", |a| a.sub_reg(false, 1, 1, 2)),
        case("cmp x25, x9", |a| a.subs_reg(true, ZR, 25, 9)),
        case("cmp w10, w15", |a| a.subs_reg(false, ZR, 10, 15)),
        case("subs x1, x2, x3", |a| a.subs_reg(true, 1, 2, 3)),
        case("neg x7, x7", |a| a.neg(true, 7, 7)),
        case("neg w22, w22", |a| a.neg(false, 22, 22)),
        case("mul x7, x7, x0", |a| a.mul(true, 7, 7, 0)),
        case("mul w7, w7, w17", |a| a.mul(false, 7, 7, 17)),
        case("udiv x7, x7, xzr", |a| a.div(false, true, 7, 7, ZR)),
        case("udiv w7, w7, w0", |a| a.div(false, false, 7, 7, 0)),
        case("sdiv x15, x7, x0", |a| a.div(true, true, 15, 7, 0)),
        case("sdiv w15, w7, w0", |a| a.div(true, false, 15, 7, 0)),
        case("msub x7, x15, x0, x7", |a| a.msub(true, 7, 15, 0, 7)),
        case("msub w7, w15, wzr, w7", |a| a.msub(false, 7, 15, ZR, 7)),
        // Logic.
        case("and x7, x7, x0", |a| a.logic_reg(Logic::And, true, 7, 7, 0)),
        case("and w7, w7, w0", |a| {
            a.logic_reg(Logic::And, false, 7, 7, 0)
        }),
        case("orr x7, x7, x14", |a| {
            a.logic_reg(Logic::Orr, true, 7, 7, 14)
        }),
        case("orr w7, w7, w14", |a| {
            a.logic_reg(Logic::Orr, false, 7, 7, 14)
        }),
        case("eor x7, x7, x22", |a| {
            a.logic_reg(Logic::Eor, true, 7, 7, 22)
        }),
        case("eor w7, w7, w22", |a| {
            a.logic_reg(Logic::Eor, false, 7, 7, 22)
        }),
        case("and x7, x7, #0xff", |a| {
            a.logic_imm(Logic::And, true, 7, 7, 0xff)
        }),
        case("and w7, w7, #0xfffffffe", |a| {
            a.logic_imm(Logic::And, false, 7, 7, 0xffff_fffe)
        }),
        case("orr x0, x0, #0x8000000000000000", |a| {
            a.logic_imm(Logic::Orr, true, 0, 0, 1 << 63)
        }),
        case("orr w0, w0, #0x80000000", |a| {
            a.logic_imm(Logic::Orr, false, 0, 0, 0x8000_0000)
        }),
        case("eor x1, x1, #0xffff0000ffff0000", |a| {
            a.logic_imm(Logic::Eor, true, 1, 1, 0xffff_0000_ffff_0000)
        }),
        case("eor w1, w1, #0x3", |a| {
            a.logic_imm(Logic::Eor, false, 1, 1, 3)
        }),
        case("tst x7, x0", |a| a.tst_reg(true, 7, 0)),
        case("tst w7, w0", |a| a.tst_reg(false, 7, 0)),
        case("tst x13, #0x7", |a| a.tst_imm(true, 13, 7)),
        case("tst w7, #0x80000000", |a| a.tst_imm(false, 7, 0x8000_0000)),
        case("mvn x15, x0", |a| a.mvn(true, 15, 0)),
        case("mvn w15, w0", |a| a.mvn(false, 15, 0)),
        // Shifts, extensions, byte order.
        case("lsl x7, x7, x0", |a| a.shift_reg(Shift::Lsl, true, 7, 7, 0)),
        case("lsl w7, w7, w0", |a| {
            a.shift_reg(Shift::Lsl, false, 7, 7, 0)
        }),
        case("lsr x7, x7, x14", |a| {
            a.shift_reg(Shift::Lsr, true, 7, 7, 14)
        }),
        case("lsr w7, w7, w14", |a| {
            a.shift_reg(Shift::Lsr, false, 7, 7, 14)
        }),
        case("asr x7, x7, x1", |a| a.shift_reg(Shift::Asr, true, 7, 7, 1)),
        case("asr w7, w7, w1", |a| {
            a.shift_reg(Shift::Asr, false, 7, 7, 1)
        }),
        case("lsl x9, x9, #23", |a| {
            a.shift_imm(Shift::Lsl, true, 9, 9, 23)
        }),
        case("lsl x9, x9, #63", |a| {
            a.shift_imm(Shift::Lsl, true, 9, 9, 63)
        }),
        case("lsl w9, w9, #1", |a| {
            a.shift_imm(Shift::Lsl, false, 9, 9, 1)
        }),
        case("lsl w9, w9, #31", |a| {
            a.shift_imm(Shift::Lsl, false, 9, 9, 31)
        }),
        case("lsr x10, x9, #32", |a| {
            a.shift_imm(Shift::Lsr, true, 10, 9, 32)
        }),
        case("lsr w10, w9, #31", |a| {
            a.shift_imm(Shift::Lsr, false, 10, 9, 31)
        }),
        case("asr x7, x7, #1", |a| a.shift_imm(Shift::Asr, true, 7, 7, 1)),
        case("asr x7, x7, #63", |a| {
            a.shift_imm(Shift::Asr, true, 7, 7, 63)
        }),
        case("asr w7, w7, #31", |a| {
            a.shift_imm(Shift::Asr, false, 7, 7, 31)
        }),
        case("sxtb x7, w0", |a| a.sxt(true, 8, 7, 0)),
        case("sxth x7, w0", |a| a.sxt(true, 16, 7, 0)),
        case("sxtw x7, w0", |a| a.sxt(true, 32, 7, 0)),
        case("sxtb w7, w0", |a| a.sxt(false, 8, 7, 0)),
        case("sxth w7, w0", |a| a.sxt(false, 16, 7, 0)),
        case("uxth w7, w7", |a| a.uxth(7, 7)),
        case("rev16 w7, w7", |a| a.rev16(7, 7)),
        case("rev w7, w7", |a| a.rev(false, 7, 7)),
        case("rev x7, x7", |a| a.rev(true, 7, 7)),
        // Memory: pushes, pairs, exclusives, LSE.
        case("str x30, [sp, #-0x10]!", |a| a.push(30)),
        case("ldr x30, [sp], #0x10", |a| a.pop(30)),
        case("stp x29, x30, [sp, #-0x60]!", |a| a.push_pair(29, 30, 96)),
        case("ldp x29, x30, [sp], #0x60", |a| a.pop_pair(29, 30, 96)),
        case("stp x21, x22, [sp, #0x10]", |a| a.stp(21, 22, SP, 16)),
        case("stp x7, x0, [x26]", |a| a.stp(7, 0, 26, 0)),
        case("ldp x21, x22, [sp, #0x10]", |a| a.ldp(21, 22, SP, 16)),
        case("ldp x3, x4, [x26, #0x20]", |a| a.ldp(3, 4, 26, 32)),
        case("ldxr x10, [x13]", |a| a.ldxr(true, 10, 13)),
        case("ldxr w10, [x13]", |a| a.ldxr(false, 10, 13)),
        case("stlxr w12, x11, [x13]", |a| a.stlxr(true, 12, 11, 13)),
        case("stlxr w12, w7, [x13]", |a| a.stlxr(false, 12, 7, 13)),
        case("dmb ish", |a| a.dmb_ish()),
        case("casal x7, x0, [x13]", |a| a.casal(true, 7, 0, 13)),
        case("casal w7, w14, [x13]", |a| a.casal(false, 7, 14, 13)),
        case("stadd x0, [x13]", |a| a.lse_store(Lse::Add, true, 0, 13)),
        case("stadd w0, [x13]", |a| a.lse_store(Lse::Add, false, 0, 13)),
        case("stclr x15, [x13]", |a| a.lse_store(Lse::Clr, true, 15, 13)),
        case("stclr w15, [x13]", |a| a.lse_store(Lse::Clr, false, 15, 13)),
        case("stset x0, [x13]", |a| a.lse_store(Lse::Set, true, 0, 13)),
        case("stset w0, [x13]", |a| a.lse_store(Lse::Set, false, 0, 13)),
        case("steor x0, [x13]", |a| a.lse_store(Lse::Eor, true, 0, 13)),
        case("steor w0, [x13]", |a| a.lse_store(Lse::Eor, false, 0, 13)),
        case("swpal x0, xzr, [x13]", |a| {
            a.lse_store(Lse::Swp, true, 0, 13)
        }),
    ];
    for (op, x, w) in [
        (Lse::Add, "ldaddal", "ldaddal"),
        (Lse::Clr, "ldclral", "ldclral"),
        (Lse::Set, "ldsetal", "ldsetal"),
        (Lse::Eor, "ldeoral", "ldeoral"),
        (Lse::Swp, "swpal", "swpal"),
    ] {
        c.push((
            Box::leak(format!("{x} x0, x0, [x13]").into_boxed_str()),
            Box::new(move |a: &mut Asm| a.lse(op, true, 0, 0, 13)),
        ));
        c.push((
            Box::leak(format!("{w} w15, w22, [x13]").into_boxed_str()),
            Box::new(move |a: &mut Asm| a.lse(op, false, 15, 22, 13)),
        ));
    }
    // Loads and stores, in each addressing form: unscaled signed, unsigned scaled (the
    // largest offset), a register index, and an offset no form encodes (through x16).
    for (op, mnemonic, scaled, unscaled, reg) in [
        (MemOp::LdrB, "ldrb", "ldrb", "ldurb", "w"),
        (MemOp::LdrH, "ldrh", "ldrh", "ldurh", "w"),
        (MemOp::LdrW, "ldr", "ldr", "ldur", "w"),
        (MemOp::LdrX, "ldr", "ldr", "ldur", "x"),
        (MemOp::LdrsbX, "ldrsb", "ldrsb", "ldursb", "x"),
        (MemOp::LdrshX, "ldrsh", "ldrsh", "ldursh", "x"),
        (MemOp::LdrswX, "ldrsw", "ldrsw", "ldursw", "x"),
        (MemOp::StrB, "strb", "strb", "sturb", "w"),
        (MemOp::StrH, "strh", "strh", "sturh", "w"),
        (MemOp::StrW, "str", "str", "stur", "w"),
        (MemOp::StrX, "str", "str", "stur", "x"),
    ] {
        let n = op.bytes();
        let largest = 4095 * n;
        let odd = if n == 1 { 4096 } else { 4097 };
        let texts = [
            format!("{unscaled} {reg}7, [x25, #-0x100]"),
            format!("{unscaled} {reg}7, [x0, #0xff]"),
            format!("{scaled} {reg}7, [x0, #{largest:#x}]"),
            format!("{mnemonic} {reg}7, [x10, x11]"),
            format!("mov x16, #{odd:#x}\n{mnemonic} {reg}7, [x0, x16]"),
            format!("mov x16, #-0x8000\n{mnemonic} {reg}7, [x25, x16]"),
        ];
        let addrs = [
            Addr::Imm(25, -256),
            Addr::Imm(0, 255),
            Addr::Imm(0, largest),
            Addr::Index(10, 11),
            Addr::Imm(0, odd),
            Addr::Imm(25, -0x8000),
        ];
        for (text, addr) in texts.into_iter().zip(addrs) {
            c.push((
                Box::leak(text.into_boxed_str()),
                Box::new(move |a: &mut Asm| a.ldst(op, 7, addr, 16)),
            ));
        }
    }
    c.extend([
        case("br x9", |a| a.br(9)),
        case("blr x16", |a| a.blr(16)),
        case("ret", |a| a.ret()),
    ]);
    c
}

/// Emits every case into one buffer; returns the bytes and, per case, where its code starts.
fn assemble(cases: &[Case]) -> (Vec<u8>, Vec<usize>) {
    let mut a = Asm::with_capacity(4096, 16);
    let starts = cases
        .iter()
        .map(|(_, emit)| {
            let start = a.offset();
            emit(&mut a);
            start
        })
        .collect();
    (a.finish().unwrap().to_vec(), starts)
}

#[test]
fn every_instruction_form_encodes_as_llvm_reads_it() {
    let cases = cases();
    let (code, starts) = assemble(&cases);
    let Some(lines) = llvm(&code) else { return };
    assert_eq!(lines.len() * 4, code.len(), "{lines:#?}");
    let mut wrong = Vec::new();
    for (i, (expected, _)) in cases.iter().enumerate() {
        let end = starts.get(i + 1).copied().unwrap_or(code.len());
        let got = lines[starts[i] / 4..end / 4].join("\n");
        if got != *expected {
            wrong.push(format!("expected `{expected}`, LLVM reads `{got}`"));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn branches_reach_their_labels() {
    let mut a = Asm::with_capacity(256, 8);
    let (back, ahead) = (a.new_label(), a.new_label());
    a.bind(back);
    a.b(ahead);
    a.bl(back);
    let conds = [
        Cc::Eq,
        Cc::Ne,
        Cc::Hs,
        Cc::Lo,
        Cc::Hi,
        Cc::Ls,
        Cc::Ge,
        Cc::Lt,
        Cc::Gt,
        Cc::Le,
    ];
    for cc in conds {
        a.b_cond(cc, ahead);
    }
    a.cbnz_w(12, back);
    a.bind(ahead);
    let code = a.finish().unwrap();
    let Some(lines) = llvm(&code) else { return };
    let end = code.len();
    let mut expected = vec![format!("b {end:#x}"), "bl 0x0".to_string()];
    for name in ["eq", "ne", "hs", "lo", "hi", "ls", "ge", "lt", "gt", "le"] {
        expected.push(format!("b.{name} {end:#x}"));
    }
    expected.push("cbnz w12, 0x0".to_string());
    assert_eq!(lines, expected);
    // The inverse of each condition is its complement.
    for cc in conds {
        assert_eq!(cc.invert().invert(), cc);
        assert_ne!(cc.invert(), cc);
    }
}

/// Compiles `vm` with this backend on the host (the code is never run here).
fn compile(vm: &Vm, options: Options) -> Vec<u8> {
    let code = crate::compile::compile::<Aarch64>(vm, options, vm.program_count())
        .unwrap_or_else(|e| panic!("{e}"));
    code.bytes().to_vec()
}

/// Every mode and option the code depends on.
fn all_options() -> Vec<Options> {
    let mut all = Vec::new();
    for mode in [Mode::Checked, Mode::Trusted] {
        for metered in [false, true] {
            for strict_alignment in [false, true] {
                for atomics in [Atomics::Lse, Atomics::LlSc] {
                    all.push(Options {
                        mode,
                        metered,
                        strict_alignment,
                        atomics,
                    });
                }
            }
        }
    }
    all
}

/// The mnemonics the table checks.
fn checked_mnemonics() -> BTreeSet<String> {
    let mut mnemonics: BTreeSet<String> = cases()
        .iter()
        .flat_map(|(text, _)| text.lines())
        .map(|line| line.split(' ').next().unwrap().to_string())
        .collect();
    mnemonics.extend(
        [
            "b", "bl", "b.eq", "b.ne", "b.hs", "b.lo", "b.hi", "b.ls", "b.ge", "b.lt", "b.gt",
            "b.le", "cbnz",
        ]
        .map(String::from),
    );
    mnemonics
}

#[test]
fn whole_programs_decode_with_no_unchecked_form() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../testdata/conformance/tests");
    let mut paths: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    paths.sort();
    let mut code = Vec::new();
    for options in all_options() {
        for path in &paths {
            let file = TestFile::parse(&std::fs::read_to_string(path).unwrap()).unwrap();
            let Ok(vm) = Vm::from_bytes(&file.program().unwrap()) else {
                continue;
            };
            code.extend(compile(&vm, options));
        }
    }
    let Some(lines) = llvm(&code) else { return };
    assert_eq!(lines.len() * 4, code.len());
    let checked = checked_mnemonics();
    let mut seen = BTreeSet::new();
    for line in &lines {
        assert!(!line.contains("unknown"), "LLVM cannot decode `{line}`");
        let mnemonic = line.split(' ').next().unwrap().to_string();
        assert!(
            checked.contains(&mnemonic),
            "`{line}` is emitted but its form is not in the encoding table"
        );
        seen.insert(mnemonic);
    }
    println!(
        "{} instructions, {} mnemonics: {seen:?}",
        lines.len(),
        seen.len()
    );
}

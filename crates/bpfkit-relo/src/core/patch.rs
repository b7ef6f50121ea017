//! Writing a relocation's value into its instruction, or poisoning it
//! (libbpf's `bpf_core_patch_insn` and `bpf_core_poison_insn`).
//!
//! Three shapes of instruction carry CO-RE values: an ALU instruction with an immediate
//! (`r1 += 8`, `r1 = 4`), a load or store (`r1 = *(u32 *)(r2 + 8)`, the offset), and a 64-bit
//! immediate load (`r1 = 0x... ll`). Before patching, the instruction's current value must be
//! the one the local spec gives, unless the kind is one whose compiler value is unreliable.

use bpfkit_isa::{AluOp, Insn, Kind, Opcode, Pseudo, Size};

use super::calc::Res;

/// The immediate of a poisoned instruction: `call 0xbad2310` ("bad relo"). Reachable, the
/// kernel's verifier rejects it with `invalid func unknown#195896080`.
pub const POISON_IMM: i32 = 0x0bad_2310;

/// What patching did.
pub(crate) struct Patched {
    pub insns: Vec<Insn>,
    /// The instruction's value before (immediate, offset or 64-bit immediate), as libbpf
    /// prints it: widened with its sign to 64 bits, then unsigned.
    pub old: u64,
    /// Poisoned because the load/store size cannot be adjusted safely.
    pub memsz_poison: bool,
    /// Load/store size change, bytes from and to.
    pub mem_size: Option<(u32, u32)>,
}

/// Why an instruction cannot be patched.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum PatchError {
    Unexpected {
        class: &'static str,
        got: u64,
        expected: u64,
        new: u64,
    },
    TooBig(u64),
    MemSize {
        got: u32,
        expected: u32,
    },
    NewMemSize(u32),
    Form(&'static str),
}

/// Both slots of an `lddw` are poisoned, so that the verifier does not trip over a lone
/// second half first.
pub(crate) fn poison(insn: &Insn) -> Vec<Insn> {
    let call = Insn::new(Opcode::Call).with_imm(POISON_IMM);
    vec![call; insn.slots()]
}

/// `bpf_core_patch_insn`.
pub(crate) fn patch(insn: &Insn, res: &Res) -> Result<Patched, PatchError> {
    let poisoned = |memsz_poison| Patched {
        insns: poison(insn),
        old: 0,
        memsz_poison,
        mem_size: None,
    };
    if res.poison {
        return Ok(poisoned(false));
    }
    let (orig, new) = (res.orig_val, res.new_val);
    let mut out = *insn;
    match insn.kind() {
        Kind::Alu {
            src: bpfkit_isa::Source::Imm,
            op,
            ..
        } if op != AluOp::Neg => {
            let got = insn.imm as i64 as u64;
            if res.validate && got != orig {
                return Err(PatchError::Unexpected {
                    class: "ALU/ALU64",
                    got,
                    expected: orig,
                    new,
                });
            }
            out.imm = new as i32;
            Ok(Patched {
                insns: vec![out],
                old: got,
                memsz_poison: false,
                mem_size: None,
            })
        }
        Kind::Load { size, .. } | Kind::Store { size, .. } | Kind::Atomic { size, .. } => {
            let got = insn.off as i64 as u64;
            if res.validate && got != orig {
                return Err(PatchError::Unexpected {
                    class: "LDX/ST/STX",
                    got,
                    expected: orig,
                    new,
                });
            }
            if new > i16::MAX as u64 {
                return Err(PatchError::TooBig(new));
            }
            if res.fail_memsz_adjust {
                return Ok(poisoned(true));
            }
            out.off = new as i16;
            let mut mem_size = None;
            if res.new_sz != res.orig_sz {
                let got = size.bytes() as u32;
                if got != res.orig_sz {
                    return Err(PatchError::MemSize {
                        got,
                        expected: res.orig_sz,
                    });
                }
                let new_size = match res.new_sz {
                    1 => Size::B,
                    2 => Size::H,
                    4 => Size::W,
                    8 => Size::DW,
                    n => return Err(PatchError::NewMemSize(n)),
                };
                out.opcode =
                    resized(insn.opcode, new_size).ok_or(PatchError::NewMemSize(res.new_sz))?;
                mem_size = Some((res.orig_sz, res.new_sz));
            }
            Ok(Patched {
                insns: vec![out],
                old: got,
                memsz_poison: false,
                mem_size,
            })
        }
        Kind::LoadImm64 {
            pseudo: Pseudo::Imm64,
        } => {
            let got = insn.imm64();
            if res.validate && got != orig {
                return Err(PatchError::Unexpected {
                    class: "LDIMM64",
                    got,
                    expected: orig,
                    new,
                });
            }
            out = out.with_imm64(new);
            Ok(Patched {
                insns: vec![out],
                old: got,
                memsz_poison: false,
                mem_size: None,
            })
        }
        Kind::LoadImm64 { .. } | Kind::LoadPacket { .. } => {
            Err(PatchError::Form("(LDIMM64) has unexpected form"))
        }
        Kind::Alu { .. } => Err(PatchError::Form(
            "is an ALU instruction without an immediate operand",
        )),
        _ => Err(PatchError::Form("is not an instruction CO-RE can relocate")),
    }
}

/// The same load, store or atomic instruction with another access size. libbpf rewrites the
/// size bits of the opcode; combinations the ISA does not have (a 1-byte atomic, a
/// sign-extending 8-byte load) have no opcode and are refused.
fn resized(opcode: Opcode, size: Size) -> Option<Opcode> {
    let want = match opcode.spec().kind {
        Kind::Load { sign_extend, .. } => Kind::Load { size, sign_extend },
        Kind::Store { src, .. } => Kind::Store { size, src },
        Kind::Atomic { op, .. } => Kind::Atomic { op, size },
        _ => return None,
    };
    Opcode::all().find(|o| o.spec().kind == want)
}

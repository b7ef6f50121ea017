//! The semantic view of an instruction: what it does, apart from how it is encoded.
//!
//! Each row of the instruction table carries a [`Kind`]. Consumers that treat whole families alike
//! (the verifier handles every ALU operation through one transfer function, the JIT lowers every
//! conditional jump through one compare) match on the kind instead of on each [`Opcode`].
//!
//! [`Opcode`]: crate::Opcode

/// Operand width of ALU and jump instructions.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Width {
    /// 32-bit: operands are the low halves and ALU results are zero-extended.
    W32,
    /// 64-bit.
    W64,
}

/// Where the second operand comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Source {
    /// The 32-bit immediate (`BPF_K`).
    Imm,
    /// The source register (`BPF_X`).
    Reg,
}

/// Memory access size.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Size {
    /// 1 byte (`BPF_B`).
    B,
    /// 2 bytes (`BPF_H`).
    H,
    /// 4 bytes (`BPF_W`).
    W,
    /// 8 bytes (`BPF_DW`).
    DW,
}

impl Size {
    /// The access size in bytes.
    pub const fn bytes(self) -> usize {
        match self {
            Size::B => 1,
            Size::H => 2,
            Size::W => 4,
            Size::DW => 8,
        }
    }

    /// The C type name LLVM prints for an unsigned access (`u8` .. `u64`).
    pub const fn unsigned_name(self) -> &'static str {
        match self {
            Size::B => "u8",
            Size::H => "u16",
            Size::W => "u32",
            Size::DW => "u64",
        }
    }
}

/// ALU operations (the `code` field of the ALU and ALU64 classes, refined by `offset`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum AluOp {
    /// `dst += src`
    Add,
    /// `dst -= src`
    Sub,
    /// `dst *= src`
    Mul,
    /// Unsigned `dst /= src`; division by zero gives 0.
    Div,
    /// Signed `dst s/= src` (cpu v4); division by zero gives 0.
    SDiv,
    /// `dst |= src`
    Or,
    /// `dst &= src`
    And,
    /// `dst <<= src`, the shift amount masked to the width.
    Lsh,
    /// Logical `dst >>= src`, the shift amount masked to the width.
    Rsh,
    /// `dst = -dst`
    Neg,
    /// Unsigned `dst %= src`; modulo by zero leaves `dst` unchanged.
    Mod,
    /// Signed `dst s%= src` (cpu v4); modulo by zero leaves `dst` unchanged.
    SMod,
    /// `dst ^= src`
    Xor,
    /// `dst = src`
    Mov,
    /// `dst = (sN)src`: move with sign extension from the low 8, 16 or 32 bits (cpu v4).
    MovSx(u8),
    /// Arithmetic `dst s>>= src`, the shift amount masked to the width.
    Arsh,
}

/// Byte-order operations.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ByteOrder {
    /// Convert to little endian (`le16/32/64`): truncation only on a little-endian host.
    Le,
    /// Convert to big endian (`be16/32/64`).
    Be,
    /// Unconditional byte swap (`bswap16/32/64`, cpu v4).
    Swap,
}

/// Comparisons of conditional jumps.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Cond {
    /// `==`
    Eq,
    /// Unsigned `>`
    Gt,
    /// Unsigned `>=`
    Ge,
    /// `dst & src != 0`
    Set,
    /// `!=`
    Ne,
    /// Signed `>`
    SGt,
    /// Signed `>=`
    SGe,
    /// Unsigned `<` (cpu v2)
    Lt,
    /// Unsigned `<=` (cpu v2)
    Le,
    /// Signed `<` (cpu v2)
    SLt,
    /// Signed `<=` (cpu v2)
    SLe,
}

/// Atomic read-modify-write operations (`imm` of the `STX | ATOMIC` instructions).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum AtomicOp {
    /// `lock *p += src`
    Add,
    /// `lock *p |= src`
    Or,
    /// `lock *p &= src`
    And,
    /// `lock *p ^= src`
    Xor,
    /// `src = atomic_fetch_add(p, src)`
    FetchAdd,
    /// `src = atomic_fetch_or(p, src)`
    FetchOr,
    /// `src = atomic_fetch_and(p, src)`
    FetchAnd,
    /// `src = atomic_fetch_xor(p, src)`
    FetchXor,
    /// `src = xchg(p, src)`
    Xchg,
    /// `r0 = cmpxchg(p, r0, src)`: stores `src` if `*p == r0`; `r0` gets the old value.
    CmpXchg,
}

impl AtomicOp {
    /// Whether the old memory value is written back to a register.
    pub const fn fetches(self) -> bool {
        !matches!(
            self,
            AtomicOp::Add | AtomicOp::Or | AtomicOp::And | AtomicOp::Xor
        )
    }
}

/// The meaning of a 64-bit immediate load, from its `src` field (`BPF_PSEUDO_*`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Pseudo {
    /// 0: a plain 64-bit constant.
    Imm64,
    /// 1 (`BPF_PSEUDO_MAP_FD`): `imm` is a map file descriptor; loads the map pointer.
    MapFd,
    /// 2 (`BPF_PSEUDO_MAP_VALUE`): map fd in `imm`, offset into its value in the second `imm`.
    MapValue,
    /// 3 (`BPF_PSEUDO_BTF_ID`): a kernel variable by BTF id, module BTF fd in the second `imm`.
    BtfId,
    /// 4 (`BPF_PSEUDO_FUNC`): the address of a subprogram, `imm` relative to the next slot.
    Func,
    /// 5 (`BPF_PSEUDO_MAP_IDX`): like `MapFd`, but an index into the program's fd array.
    MapIdx,
    /// 6 (`BPF_PSEUDO_MAP_IDX_VALUE`): like `MapValue`, but an index into the fd array.
    MapIdxValue,
}

/// What a call instruction calls, from its `src` field.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CallTarget {
    /// 0: a helper function by id in `imm`.
    Helper,
    /// 1 (`BPF_PSEUDO_CALL`): a bpf-to-bpf call, `imm` relative to the next instruction.
    Local,
    /// 2 (`BPF_PSEUDO_KFUNC_CALL`): a kernel function by BTF id in `imm`; `offset` selects the
    /// module BTF in the program's fd array (0 for vmlinux).
    Kfunc,
}

/// The legacy packet access modes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum PacketMode {
    /// `BPF_ABS`: `r0 = ntoh(*(skb->data + imm))`.
    Abs,
    /// `BPF_IND`: `r0 = ntoh(*(skb->data + src + imm))`.
    Ind,
}

/// What an instruction does.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Kind {
    /// Arithmetic or logic on `dst` with an immediate or register operand.
    Alu {
        /// The operation.
        op: AluOp,
        /// 32 or 64 bits.
        width: Width,
        /// Immediate or register operand.
        src: Source,
    },
    /// Byte-order conversion of the low `bits` of `dst`.
    Endian {
        /// Conversion kind.
        order: ByteOrder,
        /// 16, 32 or 64.
        bits: u8,
    },
    /// `dst = imm64` in two slots, with a pseudo source.
    LoadImm64 {
        /// How the kernel interprets the immediate.
        pseudo: Pseudo,
    },
    /// Legacy packet load into `r0`.
    LoadPacket {
        /// Absolute or indirect.
        mode: PacketMode,
        /// Access size (B, H or W).
        size: Size,
    },
    /// `dst = *(size *)(src + off)`, zero- or sign-extended.
    Load {
        /// Access size.
        size: Size,
        /// Sign-extending load (`BPF_MEMSX`, cpu v4).
        sign_extend: bool,
    },
    /// `*(size *)(dst + off) = imm` or `= src`.
    Store {
        /// Access size.
        size: Size,
        /// Immediate (`BPF_ST`) or register (`BPF_STX`).
        src: Source,
    },
    /// Atomic read-modify-write on `*(size *)(dst + off)` with `src`.
    Atomic {
        /// The operation.
        op: AtomicOp,
        /// W or DW.
        size: Size,
    },
    /// Conditional jump by `off` when `dst cond src` holds.
    Jump {
        /// The comparison.
        cond: Cond,
        /// 32 (JMP32) or 64 bits.
        width: Width,
        /// Immediate or register operand.
        src: Source,
    },
    /// Unconditional jump by the 16-bit `off`.
    Ja,
    /// Unconditional jump by the 32-bit `imm` (`gotol`, cpu v4).
    Ja32,
    /// Call a helper, a subprogram or a kfunc.
    Call {
        /// What is called.
        target: CallTarget,
    },
    /// Call the helper whose number is in register `dst`.
    CallX,
    /// Return from the program or subprogram.
    Exit,
}

/// Which fields of the encoding an instruction reads as operands. The others must be zero.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Operands {
    /// The `dst` register field.
    pub dst: bool,
    /// The `src` register field.
    pub src: bool,
    /// The 16-bit `offset` field.
    pub off: bool,
    /// The 32-bit `imm` field.
    pub imm: bool,
    /// The `imm` of the second slot of a 64-bit load.
    pub next_imm: bool,
}

impl Kind {
    /// The operand fields of this kind of instruction.
    pub const fn operands(self) -> Operands {
        const fn o(dst: bool, src: bool, off: bool, imm: bool, next_imm: bool) -> Operands {
            Operands {
                dst,
                src,
                off,
                imm,
                next_imm,
            }
        }
        match self {
            Kind::Alu { op: AluOp::Neg, .. } => o(true, false, false, false, false),
            Kind::Alu {
                src: Source::Imm, ..
            } => o(true, false, false, true, false),
            Kind::Alu {
                src: Source::Reg, ..
            } => o(true, true, false, false, false),
            Kind::Endian { .. } => o(true, false, false, false, false),
            Kind::LoadImm64 {
                pseudo: Pseudo::MapFd | Pseudo::MapIdx | Pseudo::Func,
            } => o(true, false, false, true, false),
            Kind::LoadImm64 { .. } => o(true, false, false, true, true),
            Kind::LoadPacket {
                mode: PacketMode::Abs,
                ..
            } => o(false, false, false, true, false),
            Kind::LoadPacket {
                mode: PacketMode::Ind,
                ..
            } => o(false, true, false, true, false),
            Kind::Load { .. } => o(true, true, true, false, false),
            Kind::Store {
                src: Source::Imm, ..
            } => o(true, false, true, true, false),
            Kind::Store {
                src: Source::Reg, ..
            }
            | Kind::Atomic { .. } => o(true, true, true, false, false),
            Kind::Jump {
                src: Source::Imm, ..
            } => o(true, false, true, true, false),
            Kind::Jump {
                src: Source::Reg, ..
            } => o(true, true, true, false, false),
            Kind::Ja => o(false, false, true, false, false),
            Kind::Ja32 => o(false, false, false, true, false),
            Kind::Call {
                target: CallTarget::Kfunc,
            } => o(false, false, true, true, false),
            Kind::Call { .. } => o(false, false, false, true, false),
            Kind::CallX => o(true, false, false, false, false),
            Kind::Exit => o(false, false, false, false, false),
        }
    }
}

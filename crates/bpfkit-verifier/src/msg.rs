//! The kernel verifier's rejection messages as data: each [`Message`] displays as the exact text
//! Linux 6.18's `kernel/bpf/verifier.c` prints as its last line before giving up, so people can
//! search for it. Our explanation lives elsewhere ([`crate::Diagnostic`]).

use core::fmt;

/// A rejection, worded as the kernel words it.
///
/// Variant fields are the format arguments of the kernel's text, named as in verifier.c.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
#[allow(missing_docs)]
pub enum Message {
    /// A register read before any write.
    RegNotInit(u8),
    /// A write to `r10`.
    FramePointerReadOnly,
    /// Division or modulo by an immediate 0.
    DivByZero,
    /// A shift by an immediate at or past the width.
    InvalidShift(i32),
    /// A conditional or unconditional jump leaves the program.
    JumpOutOfRange { from: usize, to: usize },
    /// An instruction no path reaches.
    UnreachableInsn(usize),
    /// The last instruction of a function can fall through.
    LastInsnNotExit,
    /// A jump lands on the second slot of an `lddw`.
    JumpIntoLdImm64(usize),
    /// The processed-instruction limit.
    TooLarge(usize),
    /// Too many pending branches.
    JumpSequenceTooComplex(usize),
    /// A state repeats exactly on a path.
    InfiniteLoop(usize),
    /// Stack access outside the frame with a constant offset.
    InvalidStack {
        access: &'static str,
        reg: u8,
        off: i64,
        size: i64,
    },
    /// Stack access outside the frame with a bounded variable offset.
    InvalidVarStack {
        access: &'static str,
        reg: u8,
        var_off: String,
        off: i64,
        size: i64,
    },
    /// Stack access with an unbounded variable offset.
    UnboundedVarStack { access: &'static str, reg: u8 },
    /// Misaligned access where alignment is enforced.
    Misaligned {
        desc: &'static str,
        var_off: String,
        reg_off: i32,
        off: i32,
        size: u32,
    },
    /// A memory access through something that is not a pointer to memory.
    InvalidMemAccess { reg: u8, type_str: String },
    /// A context access the program type does not allow.
    InvalidCtxAccess { off: i64, size: u32 },
    /// A context access through a moved context pointer.
    ModifiedCtx { type_str: String, reg: u8, off: i32 },
    /// A context (or other) pointer with a variable offset.
    VariableCtxAccess { type_str: String, var_off: String },
    /// Negative fixed offset of a pointer that must not move.
    NegativeOffset { type_str: String, reg: u8, off: i32 },
    /// Access past the end of a map value.
    MapValueOutOfBounds {
        value_size: u32,
        off: i64,
        size: i64,
    },
    /// Access past the end of a map key.
    MapKeyOutOfBounds { key_size: u32, off: i64, size: i64 },
    /// Access past the end of sized memory.
    MemOutOfBounds { mem_size: u32, off: i64, size: i64 },
    /// Packet access past the checked range.
    PacketOutOfRange(u8),
    /// A variable offset that may be negative.
    MinValueNegative(u8),
    /// The smallest offset of a variable access is outside the region.
    MinOutsideMem(u8),
    /// The largest offset of a variable access is outside the region.
    MaxOutsideMem(u8),
    /// A variable offset with no useful upper bound.
    UnboundedMemAccess(u8),
    /// A write to a read-only pointer.
    CannotWriteInto { reg: u8, type_str: String },
    /// A write into a packet where the program type cannot write.
    CannotWritePacket,
    /// A map key written.
    WriteToKey(u8),
    /// A pointer partly filled from the stack.
    InvalidRegFill,
    /// A pointer spilled with fewer than 8 bytes.
    InvalidRegSpill,
    /// A read of a stack byte that holds no number (a dynptr).
    InvalidStackRead { off: i32, i: usize, size: usize },
    /// Pointer arithmetic on a pointer type that allows none.
    PtrArithProhibited { reg: u8, type_str: String },
    /// Pointer arithmetic before a null check.
    PtrArithNullCheck { reg: u8, type_str: String },
    /// 32-bit arithmetic on a pointer.
    PtrArith32(u8),
    /// Bitwise operator on a pointer.
    PtrBitwise { reg: u8, op: &'static str },
    /// Other operator on a pointer.
    PtrArithOp { reg: u8, op: &'static str },
    /// Two pointers combined.
    PtrPtr { reg: u8, op: &'static str },
    /// `scalar -= pointer`.
    SubPtrFromScalar(u8),
    /// `fp -= x`.
    SubFromStack(u8),
    /// Pointer moved by a too large constant.
    PtrMathConst { type_str: String, val: i64 },
    /// Pointer moved by an unbounded value.
    PtrMathUnboundedMin(String),
    /// Pointer moved out of any object.
    PtrOutOfBounds { val: i64, type_str: String },
    /// Pointer fixed offset too large.
    PtrOffsetNotAllowed { type_str: String, off: i32 },
    /// A helper this program type may not call.
    HelperNotAllowed { name: String, id: i32 },
    /// A helper id past the last.
    InvalidFunc(i32),
    /// A GPL-only helper from a non-GPL program.
    GplOnly,
    /// A helper argument of the wrong type.
    ArgType {
        reg: u8,
        type_str: String,
        expected: String,
    },
    /// A pointer where a number is expected.
    LeaksAddrIntoHelper(u8),
    /// A size argument that may be zero.
    ZeroSizedRead { reg: u8, umin: u64, umax: u64 },
    /// A size argument that may be negative.
    SizeMinNegative(u8),
    /// A size argument with no upper bound.
    SizeUnbounded(u8),
    /// A non-constant allocation size.
    NotKnownConstant(u8),
    /// A released pointer that holds no reference.
    MustBeReferenced(u8),
    /// Releasing a reference not held.
    RefNotAcquired { name: String, id: i32 },
    /// References still held at exit.
    RefLeak(&'static str),
    /// The unreleased reference (logged before [`Message::RefLeak`]).
    UnreleasedRef { id: u32, insn: usize },
    /// A map helper given a map of the wrong type.
    MapFuncIncompatible {
        map_type: u32,
        name: String,
        id: i32,
    },
    /// `lddw` names no map.
    BadMapFd(i32),
    /// Direct value access to a map type without it.
    NoDirectValueAccess,
    /// Direct value pointer past the value.
    MapValuePointerOff { value_size: u32, off: u32 },
    /// The program's exit value is out of its allowed range.
    ExitValue { what: String, range: (i64, i64) },
    /// The program's exit value is a pointer where a number is required.
    ExitNotScalar { reg: String, type_str: String },
    /// A global function returns a pointer.
    SubprogExitNotScalar(String),
    /// Too many nested calls.
    CallStackTooDeep(usize),
    /// The frames' stacks together are too large.
    CombinedStackTooLarge { calls: usize, size: usize },
    /// `ld_abs`/`ld_ind` in a program type without an skb.
    LdAbsNotAllowed,
    /// `ld_abs`/`ld_ind` and bpf-to-bpf calls together.
    LdAbsWithCalls,
    /// `ld_abs` without the skb in `r6`.
    LdAbsR6,
    /// An atomic operation on memory that does not allow it.
    AtomicNotAllowed { reg: u8, type_str: String },
    /// A global function called with a `bpf_spin_lock` held (the first of two lines).
    GlobalCallLocked,
    /// The second line after [`Message::GlobalCallLocked`].
    UseStaticFunction,
    /// `callx`, kfuncs, or another feature this verifier does not model.
    Unsupported(String),
    /// Any other kernel message, verbatim.
    Other(String),
}

impl fmt::Display for Message {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use Message::*;
        match self {
            RegNotInit(r) => write!(f, "R{r} !read_ok"),
            FramePointerReadOnly => f.write_str("frame pointer is read only"),
            DivByZero => f.write_str("div by zero"),
            InvalidShift(s) => write!(f, "invalid shift {s}"),
            JumpOutOfRange { from, to } => write!(f, "jump out of range from insn {from} to {to}"),
            UnreachableInsn(i) => write!(f, "unreachable insn {i}"),
            LastInsnNotExit => f.write_str("last insn is not an exit or jmp"),
            JumpIntoLdImm64(i) => write!(f, "jump into the middle of ldimm64 insn {i}"),
            TooLarge(n) => write!(f, "BPF program is too large. Processed {n} insn"),
            JumpSequenceTooComplex(n) => write!(f, "The sequence of {n} jumps is too complex."),
            InfiniteLoop(i) => write!(f, "infinite loop detected at insn {i}"),
            InvalidStack {
                access,
                reg,
                off,
                size,
            } => {
                write!(f, "invalid{access} stack R{reg} off={off} size={size}")
            }
            InvalidVarStack {
                access,
                reg,
                var_off,
                off,
                size,
            } => write!(
                f,
                "invalid variable-offset{access} stack R{reg} var_off={var_off} off={off} size={size}"
            ),
            UnboundedVarStack { access, reg } => {
                write!(f, "invalid unbounded variable-offset{access} stack R{reg}")
            }
            Misaligned {
                desc,
                var_off,
                reg_off,
                off,
                size,
            } => {
                write!(
                    f,
                    "misaligned {desc}access off {var_off}+{reg_off}+{off} size {size}"
                )
            }
            InvalidMemAccess { reg, type_str } => {
                write!(f, "R{reg} invalid mem access '{type_str}'")
            }
            InvalidCtxAccess { off, size } => {
                write!(f, "invalid bpf_context access off={off} size={size}")
            }
            ModifiedCtx { type_str, reg, off } => {
                write!(
                    f,
                    "dereference of modified {type_str} ptr R{reg} off={off} disallowed"
                )
            }
            VariableCtxAccess { type_str, var_off } => {
                write!(f, "variable {type_str} access var_off={var_off} disallowed")
            }
            NegativeOffset { type_str, reg, off } => {
                write!(
                    f,
                    "negative offset {type_str} ptr R{reg} off={off} disallowed"
                )
            }
            MapValueOutOfBounds {
                value_size,
                off,
                size,
            } => write!(
                f,
                "invalid access to map value, value_size={value_size} off={off} size={size}"
            ),
            MapKeyOutOfBounds {
                key_size,
                off,
                size,
            } => write!(
                f,
                "invalid access to map key, key_size={key_size} off={off} size={size}"
            ),
            MemOutOfBounds {
                mem_size,
                off,
                size,
            } => write!(
                f,
                "invalid access to memory, mem_size={mem_size} off={off} size={size}"
            ),
            PacketOutOfRange(r) => write!(f, "R{r} offset is outside of the packet"),
            MinValueNegative(r) => write!(
                f,
                "R{r} min value is negative, either use unsigned index or do a if (index >=0) check."
            ),
            MinOutsideMem(r) => write!(f, "R{r} min value is outside of the allowed memory range"),
            MaxOutsideMem(r) => write!(f, "R{r} max value is outside of the allowed memory range"),
            UnboundedMemAccess(r) => write!(
                f,
                "R{r} unbounded memory access, make sure to bounds check any such access"
            ),
            CannotWriteInto { reg, type_str } => write!(f, "R{reg} cannot write into {type_str}"),
            CannotWritePacket => f.write_str("cannot write into packet"),
            WriteToKey(r) => write!(f, "write to change key R{r} not allowed"),
            InvalidRegFill => f.write_str("invalid size of register fill"),
            InvalidRegSpill => f.write_str("invalid size of register spill"),
            InvalidStackRead { off, i, size } => {
                write!(f, "invalid read from stack off {off}+{i} size {size}")
            }
            PtrArithProhibited { reg, type_str } => {
                write!(f, "R{reg} pointer arithmetic on {type_str} prohibited")
            }
            PtrArithNullCheck { reg, type_str } => write!(
                f,
                "R{reg} pointer arithmetic on {type_str} prohibited, null-check it first"
            ),
            PtrArith32(r) => write!(f, "R{r} 32-bit pointer arithmetic prohibited"),
            PtrBitwise { reg, op } => {
                write!(f, "R{reg} bitwise operator {op} on pointer prohibited")
            }
            PtrArithOp { reg, op } => {
                write!(f, "R{reg} pointer arithmetic with {op} operator prohibited")
            }
            PtrPtr { reg, op } => write!(f, "R{reg} pointer {op} pointer prohibited"),
            SubPtrFromScalar(r) => write!(f, "R{r} tried to subtract pointer from scalar"),
            SubFromStack(r) => write!(f, "R{r} subtraction from stack pointer prohibited"),
            PtrMathConst { type_str, val } => {
                write!(
                    f,
                    "math between {type_str} pointer and {val} is not allowed"
                )
            }
            PtrMathUnboundedMin(t) => write!(
                f,
                "math between {t} pointer and register with unbounded min value is not allowed"
            ),
            PtrOutOfBounds { val, type_str } => {
                write!(f, "value {val} makes {type_str} pointer be out of bounds")
            }
            PtrOffsetNotAllowed { type_str, off } => {
                write!(f, "{type_str} pointer offset {off} is not allowed")
            }
            HelperNotAllowed { name, id } => {
                write!(f, "program of this type cannot use helper {name}#{id}")
            }
            InvalidFunc(id) => write!(f, "invalid func unknown#{id}"),
            GplOnly => {
                f.write_str("cannot call GPL-restricted function from non-GPL compatible program")
            }
            ArgType {
                reg,
                type_str,
                expected,
            } => {
                write!(f, "R{reg} type={type_str} expected={expected}")
            }
            LeaksAddrIntoHelper(r) => write!(f, "R{r} leaks addr into helper function"),
            ZeroSizedRead { reg, umin, umax } => {
                write!(f, "R{reg} invalid zero-sized read: u64=[{umin},{umax}]")
            }
            SizeMinNegative(r) => write!(
                f,
                "R{r} min value is negative, either use unsigned or 'var &= const'"
            ),
            SizeUnbounded(r) => write!(
                f,
                "R{r} unbounded memory access, use 'var &= const' or 'if (var < const)'"
            ),
            NotKnownConstant(r) => write!(f, "R{r} is not a known constant'"),
            MustBeReferenced(r) => {
                write!(f, "R{r} must be referenced when passed to release function")
            }
            RefNotAcquired { name, id } => {
                write!(f, "func {name}#{id} reference has not been acquired before")
            }
            RefLeak(what) => write!(f, "{what} would lead to reference leak"),
            GlobalCallLocked => {
                f.write_str("global function calls are not allowed while holding a lock,")
            }
            UseStaticFunction => f.write_str("use static function instead"),
            UnreleasedRef { id, insn } => {
                write!(f, "Unreleased reference id={id} alloc_insn={insn}")
            }
            MapFuncIncompatible { map_type, name, id } => {
                write!(f, "cannot pass map_type {map_type} into func {name}#{id}")
            }
            BadMapFd(fd) => write!(f, "fd {fd} is not pointing to valid bpf_map"),
            NoDirectValueAccess => f.write_str("no direct value access support for this map type"),
            MapValuePointerOff { value_size, off } => write!(
                f,
                "invalid access to map value pointer, value_size={value_size} off={off}"
            ),
            ExitValue { what, range } => write!(
                f,
                "At program exit the register R0 has {what} should have been in [{}, {}]",
                range.0, range.1
            ),
            ExitNotScalar { reg, type_str } => {
                write!(
                    f,
                    "At program exit the register {reg} is not a known value ({type_str})"
                )
            }
            SubprogExitNotScalar(t) => {
                write!(
                    f,
                    "At subprogram exit the register R0 is not a scalar value ({t})"
                )
            }
            CallStackTooDeep(n) => write!(f, "the call stack of {n} frames is too deep !"),
            CombinedStackTooLarge { calls, size } => {
                write!(
                    f,
                    "combined stack size of {calls} calls is {size}. Too large"
                )
            }
            LdAbsNotAllowed => {
                f.write_str("BPF_LD_[ABS|IND] instructions not allowed for this program type")
            }
            LdAbsWithCalls => f.write_str("BPF_LD_[ABS|IND] cannot be mixed with bpf-to-bpf calls"),
            LdAbsR6 => f.write_str("at the time of BPF_LD_ABS|IND R6 != pointing to skb"),
            AtomicNotAllowed { reg, type_str } => {
                write!(f, "BPF_ATOMIC stores into R{reg} {type_str} is not allowed")
            }
            Unsupported(what) | Other(what) => f.write_str(what),
        }
    }
}

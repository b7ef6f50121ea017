//! The verifier's state at one instruction of one path: call frames (registers and stack) and
//! the references the program holds (`struct bpf_verifier_state`).

use crate::reg::{Reg, RegKind};

/// Bytes of stack per frame (`MAX_BPF_STACK`).
pub const MAX_STACK: i32 = 512;
/// Bytes in a stack slot (`BPF_REG_SIZE`).
pub const SLOT: usize = 8;

/// What one stack byte holds (`enum bpf_stack_slot_type`).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum StackByte {
    /// `STACK_INVALID`: never written (readable as an unknown number by privileged loaders).
    Invalid,
    /// `STACK_SPILL`: part of a spilled register.
    Spill,
    /// `STACK_MISC`: some number.
    Misc,
    /// `STACK_ZERO`: zero.
    Zero,
    /// `STACK_DYNPTR`: part of a dynptr.
    Dynptr,
}

impl StackByte {
    /// The kernel log's letter (`?`, `r`, `m`, `0`, `d`).
    pub fn letter(self) -> char {
        match self {
            StackByte::Invalid => '?',
            StackByte::Spill => 'r',
            StackByte::Misc => 'm',
            StackByte::Zero => '0',
            StackByte::Dynptr => 'd',
        }
    }
}

/// One 8-byte stack slot (`struct bpf_stack_state`). `bytes[7]` is the slot's lowest address
/// (`fp-8` for slot 0), `bytes[0]` its highest, as the kernel indexes `slot_type`.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct StackSlot {
    /// The register spilled here, when `bytes[7]` is [`StackByte::Spill`].
    pub spilled: Reg,
    /// The type of each byte.
    pub bytes: [StackByte; SLOT],
}

impl StackSlot {
    /// A slot never written.
    pub const INVALID: StackSlot = StackSlot {
        spilled: Reg::NOT_INIT,
        bytes: [StackByte::Invalid; SLOT],
    };

    /// Whether a register was spilled here (`is_spilled_reg`).
    pub fn is_spill(&self) -> bool {
        self.bytes[SLOT - 1] == StackByte::Spill
    }

    /// Whether a whole 8-byte scalar was spilled here.
    pub fn is_spilled_scalar(&self) -> bool {
        self.is_spill() && self.spilled.kind == RegKind::Scalar
    }

    /// The number of bytes of the spill (the run of `Spill` bytes from the lowest address).
    pub fn spill_size(&self) -> usize {
        self.bytes
            .iter()
            .rev()
            .take_while(|b| **b == StackByte::Spill)
            .count()
    }
}

/// One call frame (`struct bpf_func_state`).
#[derive(Clone, PartialEq, Eq, Hash, Debug)]
pub struct Frame {
    /// `r0`..`r10`.
    pub regs: [Reg; 11],
    /// Slot `i` holds bytes `fp-8(i+1)` .. `fp-8i-1`; grows as the program touches deeper bytes.
    pub stack: Vec<StackSlot>,
    /// The instruction (slot index) of the call that made this frame; the entry frame: 0.
    pub callsite: usize,
    /// Which subprogram runs in it (0 is the program's entry).
    pub subprog: usize,
    /// This frame is a callback (`bpf_loop`, `bpf_for_each_map_elem`) called by a helper.
    pub in_callback: bool,
    /// The frame number (0 for the outermost).
    pub frameno: u32,
}

impl Frame {
    /// A frame whose registers are all uninitialised, except `r10`.
    pub fn new(frameno: u32, subprog: usize, callsite: usize) -> Frame {
        let mut regs = [Reg::NOT_INIT; 11];
        regs[10] = Reg::frame_pointer(frameno);
        Frame {
            regs,
            stack: Vec::new(),
            callsite,
            subprog,
            in_callback: false,
            frameno,
        }
    }

    /// Bytes of stack in use (`allocated_stack`).
    pub fn allocated(&self) -> usize {
        self.stack.len() * SLOT
    }

    /// Makes room for `bytes` bytes below the frame pointer (`grow_stack_state`).
    pub fn grow(&mut self, bytes: usize) {
        let slots = bytes.div_ceil(SLOT);
        if slots > self.stack.len() {
            self.stack.resize(slots, StackSlot::INVALID);
        }
    }

    /// The slot and byte index of stack offset `off` (negative).
    pub fn locate(off: i32) -> (usize, usize) {
        let slot = (-off - 1) as usize;
        (slot / SLOT, slot % SLOT)
    }

    /// The byte type at stack offset `off`, `Invalid` where never grown.
    pub fn byte_at(&self, off: i32) -> StackByte {
        let (spi, idx) = Frame::locate(off);
        self.stack
            .get(spi)
            .map_or(StackByte::Invalid, |s| s.bytes[idx])
    }
}

/// An acquired reference (`struct bpf_reference_state`).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct RefState {
    /// The id registers holding it carry in `ref_obj_id`.
    pub id: u32,
    /// The instruction that acquired it.
    pub insn: usize,
}

/// The whole state of one path at one instruction.
#[derive(Clone, PartialEq, Eq, Hash, Debug)]
pub struct State {
    /// Call frames, outermost first.
    pub frames: Vec<Frame>,
    /// References held.
    pub refs: Vec<RefState>,
    /// A `bpf_spin_lock` is held (the id of the map value pointer that took it).
    pub active_lock: u32,
    /// How many callback iterations led here (`callback_unroll_depth`): two iterations of a
    /// callback in the same state are not an infinite loop.
    pub callback_unroll: u32,
}

impl State {
    /// The innermost frame.
    pub fn cur(&self) -> &Frame {
        self.frames.last().expect("a state has a frame")
    }

    /// The innermost frame, to change.
    pub fn cur_mut(&mut self) -> &mut Frame {
        self.frames.last_mut().expect("a state has a frame")
    }

    /// Register `r` of the innermost frame.
    pub fn reg(&self, r: usize) -> &Reg {
        &self.cur().regs[r]
    }

    /// Register `r` of the innermost frame, to change.
    pub fn reg_mut(&mut self, r: usize) -> &mut Reg {
        &mut self.cur_mut().regs[r]
    }

    /// Every register and spilled register of every frame, to change (`bpf_for_each_reg_in_vstate`).
    pub fn for_each_reg(&mut self, mut f: impl FnMut(&mut Reg)) {
        for frame in &mut self.frames {
            for r in frame.regs.iter_mut() {
                f(r);
            }
            for slot in frame.stack.iter_mut() {
                if slot.is_spill() {
                    f(&mut slot.spilled);
                }
            }
        }
    }
}

/// Whether `old`'s registers and stack cover every value `cur` may have, so that a path
/// reaching `cur` needs no more checking once `old`'s continuation was accepted
/// (`states_equal` with `regsafe`, `stacksafe`, `refsafe`). `live` says which registers of
/// each frame the continuation may read; the others are ignored.
pub fn subsumes(old: &State, cur: &State, live: &[u16]) -> bool {
    if old.frames.len() != cur.frames.len() || old.active_lock != cur.active_lock {
        return false;
    }
    if old.refs.len() != cur.refs.len() {
        return false;
    }
    let mut ids = IdMap::default();
    for (a, b) in old.refs.iter().zip(&cur.refs) {
        if !ids.check(a.id, b.id) {
            return false;
        }
    }
    for (i, (fo, fc)) in old.frames.iter().zip(&cur.frames).enumerate() {
        if fo.callsite != fc.callsite
            || fo.subprog != fc.subprog
            || fo.in_callback != fc.in_callback
        {
            return false;
        }
        let mask = live.get(i).copied().unwrap_or(u16::MAX);
        for r in 0..11 {
            if mask & (1 << r) == 0 {
                continue;
            }
            if !reg_safe(&fo.regs[r], &fc.regs[r], &mut ids) {
                return false;
            }
        }
        if !stack_safe(fo, fc, &mut ids) {
            return false;
        }
    }
    true
}

/// A consistent mapping of ids between two states (`check_ids`).
#[derive(Default)]
struct IdMap {
    pairs: Vec<(u32, u32)>,
}

impl IdMap {
    fn check(&mut self, old: u32, cur: u32) -> bool {
        if old == 0 && cur == 0 {
            return true;
        }
        if old == 0 || cur == 0 {
            return false;
        }
        for &(o, c) in &self.pairs {
            if o == old {
                return c == cur;
            }
            if c == cur {
                return false;
            }
        }
        self.pairs.push((old, cur));
        true
    }
}

/// `regsafe`: does `old` cover `cur`?
fn reg_safe(old: &Reg, cur: &Reg, ids: &mut IdMap) -> bool {
    if old.kind == RegKind::NotInit {
        return true;
    }
    if cur.kind == RegKind::NotInit {
        return false;
    }
    match old.kind {
        RegKind::Scalar => {
            if cur.kind != RegKind::Scalar {
                return false;
            }
            if !old.precise {
                return true;
            }
            // Linked scalars: the links of old must hold in cur too.
            if old.id != 0 && !ids.check(old.id, cur.id) {
                return false;
            }
            old.s.subsumes(&cur.s)
        }
        RegKind::Packet | RegKind::PacketMeta => {
            cur.kind == old.kind
                && cur.flags == old.flags
                && cur.range >= old.range
                && old.off == cur.off
                && old.s.subsumes(&cur.s)
                && ids.check(old.id, cur.id)
        }
        _ => {
            cur.kind == old.kind
                && cur.flags == old.flags
                && old.off == cur.off
                && old.aux == cur.aux
                && old.range == cur.range
                && old.s.subsumes(&cur.s)
                && ids.check(old.id, cur.id)
                && ids.check(old.ref_obj_id, cur.ref_obj_id)
        }
    }
}

/// `stacksafe`: does `old`'s stack cover `cur`'s?
fn stack_safe(old: &Frame, cur: &Frame, ids: &mut IdMap) -> bool {
    for (spi, so) in old.stack.iter().enumerate() {
        let sc = cur.stack.get(spi).copied().unwrap_or(StackSlot::INVALID);
        for i in 0..SLOT {
            let (bo, bc) = (so.bytes[i], sc.bytes[i]);
            if bo == StackByte::Invalid {
                continue;
            }
            // Misc covers any number (zero, a spilled scalar's bytes).
            if bo == StackByte::Misc
                && (bc == StackByte::Misc
                    || bc == StackByte::Zero
                    || (bc == StackByte::Spill && sc.spilled.kind == RegKind::Scalar))
            {
                continue;
            }
            if bo != bc {
                return false;
            }
        }
        if so.is_spill() && !reg_safe(&so.spilled, &sc.spilled, ids) {
            return false;
        }
    }
    true
}

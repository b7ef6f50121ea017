//! Loads, stores and atomics, and the memory checks helpers share (`check_mem_access`,
//! `check_stack_read/write`, `check_packet_access`, `check_ctx_access`,
//! `check_mem_region_access`, `check_helper_mem_access`).

use bpfkit_isa::{AtomicOp, Insn, Size, Source};
use bpfkit_uapi::{CtxReg, MapFlags, ctx_access, sock_access};

use super::alu::MAX_VAR_OFF;
use super::{Checker, R};
use crate::msg::Message;
use crate::reg::{Reg, RegFlags, RegKind};
use crate::scalar::Scalar;
use crate::state::{Frame, MAX_STACK, SLOT, StackByte, StackSlot, State};

/// Largest packet offset (`MAX_PACKET_OFF`).
const MAX_PACKET_OFF: u64 = 0xffff;

/// What a store writes.
#[derive(Clone, Copy)]
pub(crate) enum Val {
    /// A register's value.
    Reg(u8),
    /// An immediate (`BPF_ST`).
    Imm(i32),
    /// Unknown bytes (helpers, atomics).
    Unknown,
}

/// Who accesses memory: an instruction, or a helper through an argument.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Access {
    Read,
    Write,
}

/// The var_off text of messages: a constant prints as a number.
fn var_off_text(reg: &Reg) -> String {
    if reg.s.var_off.is_const() {
        format!("{}", reg.s.var_off.value as i64)
    } else {
        reg.s.var_off.to_string()
    }
}

impl Checker<'_> {
    /// `dst = *(size *)(src + off)`.
    pub(crate) fn check_load(
        &mut self,
        state: &mut State,
        insn: &Insn,
        size: Size,
        sx: bool,
    ) -> R<()> {
        let (d, s) = (insn.dst.index(), insn.src.index());
        self.check_reg_read(state, s)?;
        self.check_reg_write(d)?;
        self.mem_access(
            state,
            s,
            insn.off as i32,
            size.bytes() as u32,
            Access::Read,
            Val::Unknown,
            Some(d),
            sx,
            false,
        )
    }

    /// `*(size *)(dst + off) = src or imm`.
    pub(crate) fn check_store(
        &mut self,
        state: &mut State,
        insn: &Insn,
        size: Size,
        src: Source,
    ) -> R<()> {
        let (d, s) = (insn.dst.index(), insn.src.index());
        let val = match src {
            Source::Reg => {
                self.check_reg_read(state, s)?;
                Val::Reg(s)
            }
            Source::Imm => Val::Imm(insn.imm),
        };
        self.check_reg_read(state, d)?;
        self.mem_access(
            state,
            d,
            insn.off as i32,
            size.bytes() as u32,
            Access::Write,
            val,
            None,
            false,
            false,
        )
    }

    /// Atomic read-modify-write (`check_atomic`).
    pub(crate) fn check_atomic(
        &mut self,
        state: &mut State,
        insn: &Insn,
        op: AtomicOp,
        size: Size,
    ) -> R<()> {
        let (d, s) = (insn.dst.index(), insn.src.index());
        self.check_reg_read(state, s)?;
        self.check_reg_read(state, d)?;
        if op == AtomicOp::CmpXchg {
            self.check_reg_read(state, 0)?;
        }
        let dst = *state.reg(d as usize);
        if matches!(
            dst.kind,
            RegKind::Ctx | RegKind::Packet | RegKind::PacketMeta | RegKind::FlowKeys
        ) || dst.kind.is_sock()
        {
            return Err(Message::AtomicNotAllowed {
                reg: d,
                type_str: dst.type_str(),
            }
            .into());
        }
        let load = if op == AtomicOp::CmpXchg {
            Some(0)
        } else if op.fetches() {
            Some(s)
        } else {
            None
        };
        if let Some(l) = load {
            self.check_reg_write(l)?;
        }
        let n = size.bytes() as u32;
        self.mem_access(
            state,
            d,
            insn.off as i32,
            n,
            Access::Read,
            Val::Unknown,
            None,
            false,
            true,
        )?;
        if let Some(l) = load {
            self.mem_access(
                state,
                d,
                insn.off as i32,
                n,
                Access::Read,
                Val::Unknown,
                Some(l),
                false,
                true,
            )?;
        }
        self.mem_access(
            state,
            d,
            insn.off as i32,
            n,
            Access::Write,
            Val::Unknown,
            None,
            false,
            true,
        )
    }

    /// `check_mem_access`: one load or store of `size` bytes at `reg + off`; a load's result
    /// goes to `into`.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn mem_access(
        &mut self,
        state: &mut State,
        regno: u8,
        insn_off: i32,
        size: u32,
        access: Access,
        val: Val,
        into: Option<u8>,
        sx: bool,
        strict: bool,
    ) -> R<()> {
        let reg = *state.reg(regno as usize);
        self.check_alignment(&reg, insn_off, size, strict)?;
        let off = insn_off as i64 + reg.off as i64;
        let write = access == Access::Write;
        let mut loaded = Reg::unknown();
        match reg.kind {
            RegKind::MapKey => {
                if write {
                    return Err(Message::WriteToKey(regno).into());
                }
                let key_size = self.map_of(reg.aux).key_size;
                self.mem_region(&reg, regno, off, size as i64, key_size, false)?;
            }
            RegKind::MapValue if !reg.maybe_null() => {
                let map = self.map_of(reg.aux);
                self.map_access_type(map.flags, map.value_size, off, size as i64, access)?;
                self.mem_region(&reg, regno, off, size as i64, map.value_size, false)?;
                self.spin_lock_overlap(reg.aux, &reg, off, size)?;
                // A frozen read-only value: the load is a known number.
                if let (false, Some(data)) = (write, &map.rodata) {
                    if reg.s.is_const() && map.flags.contains(MapFlags::RDONLY_PROG) {
                        let at = (off + reg.s.var_off.value as i64) as usize;
                        if let Some(bytes) = data.get(at..at + size as usize) {
                            let mut v = [0u8; 8];
                            v[..bytes.len()].copy_from_slice(bytes);
                            loaded = Reg::known(u64::from_le_bytes(v));
                        }
                    }
                }
            }
            RegKind::Mem if !reg.maybe_null() => {
                if write && reg.flags.has(RegFlags::RDONLY) {
                    return Err(Message::CannotWriteInto {
                        reg: regno,
                        type_str: reg.type_str(),
                    }
                    .into());
                }
                self.mem_region(&reg, regno, off, size as i64, reg.range, false)?;
            }
            RegKind::Ctx
                if matches!(
                    self.prog.prog_type,
                    bpfkit_uapi::ProgType::TRACING | bpfkit_uapi::ProgType::LSM
                ) =>
            {
                check_ptr_off(&reg, regno, false)?;
                // btf_ctx_access: u64 arguments of the attach target.
                let Some(n) = self.prog.tracing_args else {
                    return Err(Message::Unsupported(
                        "the context of this tracing program is typed by its attach target's BTF, which is unknown here".into(),
                    )
                    .into());
                };
                if write || off < 0 || off % 8 != 0 || size != 8 || off / 8 >= n as i64 {
                    return Err(Message::InvalidCtxAccess { off, size }.into());
                }
                // A pointer to a kernel struct is PTR_TO_BTF_ID, trusted for tp_btf and
                // iterators (`prog_args_trusted`).
                if let Some(&(_, id)) = self
                    .prog
                    .tracing_ptr_args
                    .iter()
                    .find(|(slot, _)| i64::from(*slot) == off / 8)
                {
                    loaded = Reg {
                        aux: id,
                        ..Reg::pointer(RegKind::BtfId)
                    };
                    if matches!(
                        self.prog.attach_type,
                        bpfkit_uapi::AttachType::TRACE_RAW_TP | bpfkit_uapi::AttachType::TRACE_ITER
                    ) {
                        loaded.flags = RegFlags::TRUSTED;
                    }
                }
            }
            RegKind::Ctx => {
                check_ptr_off(&reg, regno, false)?;
                let Some(info) =
                    ctx_access(self.prog.prog_type, self.prog.attach_type, off, size, write)
                else {
                    return Err(Message::InvalidCtxAccess { off, size }.into());
                };
                loaded = match info.reg {
                    CtxReg::Scalar => Reg::unknown(),
                    CtxReg::Packet => Reg::pointer(RegKind::Packet),
                    CtxReg::PacketEnd => Reg::pointer(RegKind::PacketEnd),
                    CtxReg::PacketMeta => Reg::pointer(RegKind::PacketMeta),
                    CtxReg::Socket => Reg::pointer(RegKind::Socket),
                    CtxReg::FlowKeys => Reg::pointer(RegKind::FlowKeys),
                    CtxReg::SockCommonOrNull => {
                        let mut r = Reg::pointer(RegKind::SockCommon);
                        r.flags = RegFlags::MAYBE_NULL;
                        r.id = self.new_id();
                        r
                    }
                };
            }
            RegKind::Stack => {
                let frame = reg.aux as usize;
                self.stack_bounds(state, &reg, regno, off, size as i64, access)?;
                if write {
                    self.stack_write(state, frame, &reg, off, size, val)?;
                } else {
                    loaded = self.stack_read(state, frame, &reg, off, size, into.is_some())?;
                }
            }
            RegKind::Packet | RegKind::PacketMeta => {
                if write && !self.may_access_packet(true) {
                    return Err(Message::CannotWritePacket.into());
                }
                check_packet_access(&reg, regno, off, size as i64, false)?;
            }
            RegKind::Socket | RegKind::SockCommon | RegKind::TcpSock if !reg.maybe_null() => {
                if write {
                    return Err(Message::CannotWriteInto {
                        reg: regno,
                        type_str: reg.type_str(),
                    }
                    .into());
                }
                if reg.s.smin < 0 {
                    return Err(Message::MinValueNegative(regno).into());
                }
                let ok = match reg.kind {
                    RegKind::TcpSock => {
                        off >= 0 && off % size as i64 == 0 && off + (size as i64) <= 112
                    }
                    RegKind::SockCommon if (8..24).contains(&off) => false,
                    _ => sock_access(off, size).is_some(),
                };
                if !ok {
                    return Err(Message::Other(format!(
                        "R{regno} invalid {} access off={off} size={size}",
                        reg.type_str()
                    ))
                    .into());
                }
            }
            RegKind::FlowKeys => {
                if off < 0 || off + size as i64 > 56 {
                    return Err(Message::Other(format!(
                        "invalid access to flow keys off={off} size={size}"
                    ))
                    .into());
                }
            }
            RegKind::BtfId if !reg.maybe_null() => {
                return Err(Message::Unsupported(format!(
                    "R{regno} access through a BTF-typed kernel pointer needs the kernel's BTF, which this verifier does not read yet"
                ))
                .into());
            }
            _ => {
                return Err(Message::InvalidMemAccess {
                    reg: regno,
                    type_str: reg.type_str(),
                }
                .into());
            }
        }
        if let Some(d) = into {
            if loaded.is_scalar() && size < 8 {
                if sx {
                    loaded.s.sign_extend(size * 8);
                } else {
                    loaded.s.coerce_to_size(size);
                }
            }
            *state.reg_mut(d as usize) = loaded;
        }
        Ok(())
    }

    /// Alignment: the stack always, everything for atomics (`check_ptr_alignment` on x86_64,
    /// which has efficient unaligned access).
    fn check_alignment(&self, reg: &Reg, off: i32, size: u32, strict_once: bool) -> R<()> {
        let (desc, strict) = match reg.kind {
            RegKind::Stack => ("stack ", true),
            RegKind::Ctx => ("context ", false),
            RegKind::MapValue => ("value ", false),
            RegKind::MapKey => ("key ", false),
            RegKind::Packet | RegKind::PacketMeta => ("packet ", false),
            RegKind::FlowKeys => ("flow keys ", false),
            k if k.is_sock() => ("sock ", false),
            _ => ("", false),
        };
        if !(strict || strict_once) || size == 1 {
            return Ok(());
        }
        let t = reg.s.var_off.add(crate::tnum::Tnum::constant(
            (reg.off as i64 + off as i64) as u64,
        ));
        if !t.is_aligned(size as u64) {
            return Err(Message::Misaligned {
                desc,
                var_off: var_off_text(reg),
                reg_off: reg.off,
                off,
                size,
            }
            .into());
        }
        Ok(())
    }

    /// Whether the program type may read (or write) packet data directly.
    pub(crate) fn may_access_packet(&self, write: bool) -> bool {
        use bpfkit_uapi::ProgType as P;
        match self.prog.prog_type {
            P::LWT_IN
            | P::LWT_OUT
            | P::LWT_SEG6LOCAL
            | P::SK_REUSEPORT
            | P::FLOW_DISSECTOR
            | P::CGROUP_SKB => !write,
            P::SCHED_CLS
            | P::SCHED_ACT
            | P::XDP
            | P::LWT_XMIT
            | P::SK_SKB
            | P::SK_MSG
            | P::CGROUP_SOCKOPT => true,
            _ => false,
        }
    }

    /// `check_map_access_type`: `BPF_F_RDONLY_PROG` / `BPF_F_WRONLY_PROG`.
    fn map_access_type(
        &self,
        flags: MapFlags,
        value_size: u32,
        off: i64,
        size: i64,
        access: Access,
    ) -> R<()> {
        if access == Access::Write && flags.contains(MapFlags::RDONLY_PROG) {
            return Err(Message::Other(format!(
                "write into map forbidden, value_size={value_size} off={off} size={size}"
            ))
            .into());
        }
        if access == Access::Read && flags.contains(MapFlags::WRONLY_PROG) {
            return Err(Message::Other(format!(
                "read from map forbidden, value_size={value_size} off={off} size={size}"
            ))
            .into());
        }
        Ok(())
    }

    /// A direct access overlapping the value's `bpf_spin_lock`.
    fn spin_lock_overlap(&self, map: u32, reg: &Reg, off: i64, size: u32) -> R<()> {
        let Some(lock) = self.map_of(map).spin_lock_off else {
            return Ok(());
        };
        let lo = reg.s.smin.saturating_add(off);
        let hi = (reg.s.umax as i64)
            .saturating_add(off)
            .saturating_add(size as i64);
        if lo < lock as i64 + 4 && hi > lock as i64 {
            return Err(Message::Other(
                "bpf_spin_lock cannot be accessed directly by load/store".into(),
            )
            .into());
        }
        Ok(())
    }

    /// `check_mem_region_access`: `[reg + off, reg + off + size)` within `mem_size`, for every
    /// value of the variable offset.
    pub(crate) fn mem_region(
        &self,
        reg: &Reg,
        regno: u8,
        off: i64,
        size: i64,
        mem_size: u32,
        zero_ok: bool,
    ) -> R<()> {
        let smin = reg.s.smin;
        if smin < 0
            && (smin == i64::MIN || (off + smin) != (off + smin) as i32 as i64 || smin + off < 0)
        {
            return Err(Message::MinValueNegative(regno).into());
        }
        if let Err(e) = check_mem(reg, regno, smin + off, size, mem_size, zero_ok, self) {
            return Err(Fail2::with_note(Message::MinOutsideMem(regno), e));
        }
        if reg.s.umax >= MAX_VAR_OFF as u64 {
            return Err(Message::UnboundedMemAccess(regno).into());
        }
        if let Err(e) = check_mem(
            reg,
            regno,
            reg.s.umax as i64 + off,
            size,
            mem_size,
            zero_ok,
            self,
        ) {
            return Err(Fail2::with_note(Message::MaxOutsideMem(regno), e));
        }
        Ok(())
    }

    /// `check_stack_access_within_bounds`, then grows the frame's stack.
    pub(crate) fn stack_bounds(
        &mut self,
        state: &mut State,
        reg: &Reg,
        regno: u8,
        off: i64,
        size: i64,
        access: Access,
    ) -> R<()> {
        let extra = if access == Access::Read {
            " read from"
        } else {
            " write to"
        };
        let (min_off, max_off) = if reg.s.is_const() {
            let m = reg.s.var_off.value as i64 + off;
            (m, m + size)
        } else {
            if reg.s.smax >= MAX_VAR_OFF || reg.s.smin <= -MAX_VAR_OFF {
                return Err(Message::UnboundedVarStack {
                    access: extra,
                    reg: regno,
                }
                .into());
            }
            (reg.s.smin + off, reg.s.smax + off + size)
        };
        if min_off < -(MAX_STACK as i64) || min_off > -1 || max_off > 0 || size < 0 {
            return Err(if reg.s.is_const() {
                Message::InvalidStack {
                    access: extra,
                    reg: regno,
                    off,
                    size,
                }
            } else {
                Message::InvalidVarStack {
                    access: extra,
                    reg: regno,
                    var_off: reg.s.var_off.to_string(),
                    off,
                    size,
                }
            }
            .into());
        }
        let frame = reg.aux as usize;
        state.frames[frame].grow((-min_off) as usize);
        let sub = state.frames[frame].subprog;
        let depth = state.frames[frame].allocated();
        if depth > self.stack_depth[sub] {
            self.stack_depth[sub] = depth;
        }
        Ok(())
    }

    /// A store to the stack (`check_stack_write_fixed_off` / `_var_off`).
    fn stack_write(
        &mut self,
        state: &mut State,
        frame: usize,
        reg: &Reg,
        off: i64,
        size: u32,
        val: Val,
    ) -> R<()> {
        let value = match val {
            Val::Reg(r) => Some(*state.reg(r as usize)),
            Val::Imm(i) => Some(Reg::known(i as i64 as u64)),
            Val::Unknown => None,
        };
        let cur_frame = state.frames.len() - 1;
        let f = &mut state.frames[frame];
        if !reg.s.is_const() {
            // Variable offset: every slot it may hit becomes a plain number (or zero).
            let zero = value.is_some_and(|v| v.is_scalar() && v.s.is_zero());
            if value.is_some_and(|v| v.is_pointer()) {
                return Err(Message::Other(
                    "spilled ptr in range of var-offset stack write".into(),
                )
                .into());
            }
            let lo = reg.s.smin + off;
            let hi = reg.s.smax + off + size as i64;
            for o in lo..hi {
                let (spi, idx) = Frame::locate(o as i32);
                let slot = &mut f.stack[spi];
                if slot.is_spill() {
                    slot.spilled = Reg::NOT_INIT;
                    for b in slot.bytes.iter_mut() {
                        if *b == StackByte::Spill {
                            *b = StackByte::Misc;
                        }
                    }
                }
                let b = &mut slot.bytes[idx];
                if !(zero && *b == StackByte::Zero) {
                    *b = StackByte::Misc;
                }
            }
            return Ok(());
        }
        let off = (reg.s.var_off.value as i64 + off) as i32;
        let (spi, idx) = Frame::locate(off);
        let slot_aligned = off % SLOT as i32 == 0;
        let slot = &mut f.stack[spi];
        match value {
            Some(v) if slot_aligned && v.is_scalar() => {
                // A scalar spill of any size at a slot start keeps the value.
                let mut spilled = v;
                if (size as usize) < SLOT && !fits(&v, size) {
                    spilled.id = 0;
                }
                save_spill(slot, spilled, size as usize);
            }
            Some(v) if v.is_pointer() => {
                if size as usize != SLOT {
                    return Err(Message::InvalidRegSpill.into());
                }
                if frame != cur_frame && v.kind == RegKind::Stack {
                    return Err(Message::Other(
                        "cannot spill pointers to stack into stack frame of the caller".into(),
                    )
                    .into());
                }
                save_spill(slot, v, SLOT);
            }
            _ => {
                let zero = value.is_some_and(|v| v.is_scalar() && v.s.is_zero());
                slot.spilled = Reg::NOT_INIT;
                if slot
                    .bytes
                    .iter()
                    .any(|b| matches!(b, StackByte::Spill | StackByte::Dynptr))
                {
                    for b in slot.bytes.iter_mut() {
                        if matches!(b, StackByte::Spill | StackByte::Dynptr) {
                            *b = StackByte::Misc;
                        }
                    }
                }
                let t = if zero {
                    StackByte::Zero
                } else {
                    StackByte::Misc
                };
                for i in 0..size as usize {
                    slot.bytes[idx - i] = t;
                }
            }
        }
        Ok(())
    }

    /// A load from the stack (`check_stack_read_fixed_off` / `_var_off`).
    fn stack_read(
        &mut self,
        state: &mut State,
        frame: usize,
        reg: &Reg,
        off: i64,
        size: u32,
        _to_reg: bool,
    ) -> R<Reg> {
        let f = &state.frames[frame];
        if !reg.s.is_const() {
            let lo = reg.s.smin + off;
            let hi = reg.s.smax + off + size as i64;
            let mut all_zero = true;
            for o in lo..hi {
                let b = f.byte_at(o as i32);
                if b == StackByte::Dynptr {
                    return Err(Message::Other(format!(
                        "invalid read from stack R{} var_off {}+{} size {}",
                        0,
                        reg.s.var_off,
                        o - lo,
                        size
                    ))
                    .into());
                }
                if b != StackByte::Zero {
                    all_zero = false;
                }
            }
            return Ok(if all_zero {
                Reg::known(0)
            } else {
                Reg::unknown()
            });
        }
        let off = (reg.s.var_off.value as i64 + off) as i32;
        let (spi, idx) = Frame::locate(off);
        let slot: StackSlot = f.stack[spi];
        if slot.is_spill() {
            let spill_size = slot.spill_size();
            if size as usize != SLOT || spill_size != SLOT {
                if slot.spilled.kind != RegKind::Scalar {
                    return Err(Message::InvalidRegFill.into());
                }
                if size as usize <= spill_size && off % SLOT as i32 == 0 {
                    let mut r = slot.spilled;
                    if !fits(&r, size) {
                        r.id = 0;
                    }
                    return Ok(r);
                }
                let (mut spills, mut zeros) = (0, 0);
                for i in 0..size as usize {
                    match slot.bytes[idx - i] {
                        StackByte::Spill => spills += 1,
                        StackByte::Zero => zeros += 1,
                        StackByte::Misc | StackByte::Invalid => {}
                        StackByte::Dynptr => {
                            return Err(Message::InvalidStackRead {
                                off,
                                i,
                                size: size as usize,
                            }
                            .into());
                        }
                    }
                }
                if (spills == size && slot.spilled.s.is_zero()) || zeros == size {
                    return Ok(Reg::known(0));
                }
                return Ok(Reg::unknown());
            }
            return Ok(slot.spilled);
        }
        let mut zeros = 0;
        for i in 0..size as usize {
            match slot.bytes[idx - i] {
                StackByte::Zero => zeros += 1,
                StackByte::Misc | StackByte::Invalid => {}
                _ => {
                    return Err(Message::InvalidStackRead {
                        off,
                        i,
                        size: size as usize,
                    }
                    .into());
                }
            }
        }
        Ok(if zeros == size {
            Reg::known(0)
        } else {
            Reg::unknown()
        })
    }

    /// `check_helper_mem_access`: a helper reads or writes `size` bytes at the pointer in
    /// `regno`.
    pub(crate) fn helper_mem(
        &mut self,
        state: &mut State,
        regno: u8,
        size: i64,
        access: Access,
        zero_ok: bool,
        pkt_ok: bool,
    ) -> R<()> {
        let reg = *state.reg(regno as usize);
        let off = reg.off as i64;
        match reg.kind {
            RegKind::Packet | RegKind::PacketMeta if pkt_ok => {
                check_packet_access(&reg, regno, off, size, zero_ok)
            }
            RegKind::MapKey if !reg.maybe_null() => {
                if access == Access::Write {
                    return Err(Message::CannotWriteInto {
                        reg: regno,
                        type_str: reg.type_str(),
                    }
                    .into());
                }
                let ks = self.map_of(reg.aux).key_size;
                self.mem_region(&reg, regno, off, size, ks, false)
            }
            RegKind::MapValue if !reg.maybe_null() => {
                let map = self.map_of(reg.aux);
                self.map_access_type(map.flags, map.value_size, off, size, access)?;
                self.mem_region(&reg, regno, off, size, map.value_size, zero_ok)
            }
            RegKind::Mem if !reg.maybe_null() => {
                if access == Access::Write && reg.flags.has(RegFlags::RDONLY) {
                    return Err(Message::CannotWriteInto {
                        reg: regno,
                        type_str: reg.type_str(),
                    }
                    .into());
                }
                self.mem_region(&reg, regno, off, size, reg.range, zero_ok)
            }
            RegKind::Stack => {
                if size == 0 && !zero_ok {
                    return Err(Message::Other("invalid zero-sized read".into()).into());
                }
                self.stack_bounds(state, &reg, regno, off, size, access)?;
                let frame = reg.aux as usize;
                let (lo, hi) = if reg.s.is_const() {
                    let m = reg.s.var_off.value as i64 + off;
                    (m, m + size)
                } else {
                    (reg.s.smin + off, reg.s.smax + off + size)
                };
                for o in lo..hi {
                    let (spi, idx) = Frame::locate(o as i32);
                    let slot = &mut state.frames[frame].stack[spi];
                    if slot.bytes[idx] == StackByte::Dynptr {
                        return Err(Message::Other(format!(
                            "potential write to dynptr at off={o} disallowed"
                        ))
                        .into());
                    }
                    if access == Access::Write {
                        if slot.is_spill() {
                            slot.spilled = Reg::NOT_INIT;
                            slot.bytes = slot.bytes.map(|b| {
                                if b == StackByte::Spill {
                                    StackByte::Misc
                                } else {
                                    b
                                }
                            });
                        }
                        slot.bytes[idx] = StackByte::Misc;
                    }
                }
                Ok(())
            }
            _ => {
                if zero_ok && size == 0 && reg.is_scalar() && reg.s.is_zero() {
                    return Ok(());
                }
                Err(Message::ArgType {
                    reg: regno,
                    type_str: reg.type_str(),
                    expected: "fp".into(),
                }
                .into())
            }
        }
    }
}

/// Whether the value of `v` fits in `size` bytes (`get_reg_width`).
fn fits(v: &Reg, size: u32) -> bool {
    let width = 64 - v.s.umax.leading_zeros();
    width <= size * 8
}

/// `save_register_state`: the spill covers the slot's lowest `size` bytes.
fn save_spill(slot: &mut StackSlot, v: Reg, size: usize) {
    slot.spilled = v;
    for i in 0..SLOT {
        if i >= SLOT - size {
            slot.bytes[i] = StackByte::Spill;
        } else if !matches!(slot.bytes[i], StackByte::Zero | StackByte::Invalid) {
            slot.bytes[i] = StackByte::Misc;
        }
    }
}

/// `__check_ptr_off_reg`: pointers that must be used unmoved.
pub(crate) fn check_ptr_off(reg: &Reg, regno: u8, fixed_off_ok: bool) -> R<()> {
    if reg.off < 0 {
        return Err(Message::NegativeOffset {
            type_str: reg.type_str(),
            reg: regno,
            off: reg.off,
        }
        .into());
    }
    if !fixed_off_ok && reg.off != 0 {
        return Err(Message::ModifiedCtx {
            type_str: reg.type_str(),
            reg: regno,
            off: reg.off,
        }
        .into());
    }
    if !reg.var_off_is_zero() {
        return Err(Message::VariableCtxAccess {
            type_str: reg.type_str(),
            var_off: reg.s.var_off.to_string(),
        }
        .into());
    }
    Ok(())
}

/// `check_packet_access`.
pub(crate) fn check_packet_access(
    reg: &Reg,
    regno: u8,
    off: i64,
    size: i64,
    zero_ok: bool,
) -> R<()> {
    if reg.s.smin < 0 {
        return Err(Message::MinValueNegative(regno).into());
    }
    let size_ok = size > 0 || (size == 0 && zero_ok);
    if !(off >= 0 && size_ok && off + size <= reg.range as i64) || reg.s.umax > MAX_PACKET_OFF {
        return Err(super::Fail {
            msg: Message::PacketOutOfRange(regno),
            notes: vec![Message::Other(format!(
                "invalid access to packet, off={off} size={size}, R{regno}(id={},off={off},r={})",
                reg.id, reg.range
            ))],
        });
    }
    Ok(())
}

/// `__check_mem_access`: the note the kernel prints before the region message.
fn check_mem(
    reg: &Reg,
    _regno: u8,
    off: i64,
    size: i64,
    mem_size: u32,
    zero_ok: bool,
    c: &Checker<'_>,
) -> Result<(), Message> {
    let size_ok = size > 0 || (size == 0 && zero_ok);
    if off >= 0 && size_ok && off + size <= mem_size as i64 {
        return Ok(());
    }
    Err(match reg.kind {
        RegKind::MapKey => Message::MapKeyOutOfBounds {
            key_size: mem_size,
            off,
            size,
        },
        RegKind::MapValue => {
            let _ = c;
            Message::MapValueOutOfBounds {
                value_size: mem_size,
                off,
                size,
            }
        }
        _ => Message::MemOutOfBounds {
            mem_size,
            off,
            size,
        },
    })
}

/// Builds a failure whose last line is `last`, after `note`. For a fixed offset the kernel's
/// last line is the region message itself.
struct Fail2;

impl Fail2 {
    fn with_note(last: Message, note: Message) -> super::Fail {
        super::Fail {
            msg: last,
            notes: vec![note],
        }
    }
}

/// Unused marker to keep `Scalar` imported for readers of this module's signatures.
#[allow(dead_code)]
fn _scalar(_: Scalar) {}

//! Calls: helpers (argument checks from the prototype table, return values, references,
//! callbacks) and bpf-to-bpf calls (`check_helper_call`, `check_func_arg`, `check_func_call`,
//! `prepare_func_exit`).

use bpfkit_isa::{CallTarget, Insn};
use bpfkit_uapi::{
    ArgFlags, ArgKind, ArgType, AttachType, HelperId, HelperProto, MapType, ProgType, RetType,
    helper_proto_for,
};

use super::mem::{Access, check_ptr_off};
use super::{Checker, Fail, MAX_CALL_FRAMES, Next, R};
use crate::msg::Message;
use crate::program::GlobalArg;
use crate::reg::{Reg, RegFlags, RegKind};
use crate::scalar::Scalar;
use crate::state::{Frame, RefState, State};

/// Largest size argument (`BPF_MAX_VAR_SIZ`).
pub(super) const MAX_VAR_SIZ: u64 = 1 << 29;
/// `aux` of a map pointer taken out of a map-in-map: the outer map's index with this bit.
pub(crate) const INNER_MAP: u32 = 1 << 31;

/// What earlier arguments taught the later ones (`struct bpf_call_arg_meta`).
#[derive(Default)]
struct Meta {
    map: Option<u32>,
    release_reg: Option<u8>,
    ref_obj_id: u32,
    mem_size: u64,
    msize_max: u64,
    callback: Option<u32>,
    const_key: Option<u64>,
}

/// The types a helper argument accepts, as the kernel lists them after `expected=`.
fn expected(arg: &ArgType) -> &'static str {
    match arg.kind {
        ArgKind::ConstMapPtr => "map_ptr",
        ArgKind::Mem if arg.flags.contains(ArgFlags::RINGBUF) => "ringbuf_mem",
        ArgKind::MapKey | ArgKind::MapValue | ArgKind::Mem => {
            "fp, pkt, pkt_meta, map_key, map_value, mem, ringbuf_mem, buf, trusted_ptr_"
        }
        ArgKind::ConstSize | ArgKind::ConstSizeOrZero | ArgKind::ConstAllocSizeOrZero => "scalar",
        ArgKind::Ctx => "ctx",
        ArgKind::SpinLock => "map_value, ptr_",
        ArgKind::SockCommon => "sock_common, sock, tcp_sock, xdp_sock",
        ArgKind::Socket => "sock",
        ArgKind::BtfIdSockCommon => "sock_common, sock, tcp_sock, xdp_sock, ptr_, trusted_ptr_",
        ArgKind::Func => "func",
        ArgKind::Stack => "fp",
        ArgKind::ConstStr | ArgKind::Timer => "map_value",
        // Linux 6.12 made these fixed-size memory (ARG_PTR_TO_FIXED_SIZE_MEM), which prints the
        // memory list; `compatible` still takes only the first five, the safe side.
        ArgKind::Int(_) => {
            "fp, pkt, pkt_meta, map_key, map_value, mem, ringbuf_mem, buf, trusted_ptr_"
        }
        ArgKind::PercpuBtfId => "percpu_ptr_, percpu_rcu_ptr_, percpu_trusted_ptr_",
        ArgKind::BtfId => "ptr_, trusted_ptr_, rcu_ptr_",
        ArgKind::Kptr => "map_value, ptr_",
        ArgKind::Dynptr => "fp, dynptr_ptr",
        _ => "ptr_",
    }
}

/// Whether a register of `reg`'s type may be passed as `arg` (`check_reg_type`).
fn compatible(reg: &Reg, arg: &ArgType) -> bool {
    let null_ok = arg.maybe_null();
    if reg.maybe_null() && !null_ok {
        return false;
    }
    let rdonly_ok = arg.flags.contains(ArgFlags::RDONLY);
    match arg.kind {
        ArgKind::ConstMapPtr => reg.kind == RegKind::MapPtr,
        ArgKind::Mem if arg.flags.contains(ArgFlags::RINGBUF) => {
            reg.kind == RegKind::Mem && reg.flags.has(RegFlags::RINGBUF)
        }
        ArgKind::MapKey | ArgKind::MapValue | ArgKind::Mem => match reg.kind {
            RegKind::Stack
            | RegKind::Packet
            | RegKind::PacketMeta
            | RegKind::MapKey
            | RegKind::MapValue => true,
            RegKind::Mem | RegKind::Buf => rdonly_ok || !reg.flags.has(RegFlags::RDONLY),
            RegKind::BtfId => reg.flags.has(RegFlags::TRUSTED),
            _ => false,
        },
        ArgKind::ConstSize | ArgKind::ConstSizeOrZero | ArgKind::ConstAllocSizeOrZero => {
            reg.is_scalar()
        }
        ArgKind::Ctx => reg.kind == RegKind::Ctx,
        ArgKind::SpinLock | ArgKind::ConstStr | ArgKind::Timer => reg.kind == RegKind::MapValue,
        ArgKind::SockCommon => reg.kind.is_sock(),
        ArgKind::Socket => reg.kind == RegKind::Socket,
        // A BTF pointer of a known struct (aux: its id, from tracing arguments and kfuncs) is
        // not checked against sock_common's family here: refused, the safe side.
        ArgKind::BtfIdSockCommon => {
            reg.kind.is_sock() || (reg.kind == RegKind::BtfId && reg.aux == 0)
        }
        ArgKind::Func => reg.kind == RegKind::Func,
        ArgKind::Stack => reg.kind == RegKind::Stack,
        ArgKind::Int(_) => matches!(
            reg.kind,
            RegKind::Stack
                | RegKind::Packet
                | RegKind::PacketMeta
                | RegKind::MapKey
                | RegKind::MapValue
        ),
        ArgKind::Dynptr => reg.kind == RegKind::Stack,
        _ => false,
    }
}

/// Map types whose values only their own helpers may use (`check_map_func_compatibility`, the
/// map side).
fn map_allows(map_type: MapType, id: HelperId) -> bool {
    use HelperId as H;
    use MapType as M;
    match map_type {
        M::PROG_ARRAY => id == H::TAIL_CALL,
        M::PERF_EVENT_ARRAY => matches!(
            id,
            H::PERF_EVENT_READ
                | H::PERF_EVENT_OUTPUT
                | H::SKB_OUTPUT
                | H::PERF_EVENT_READ_VALUE
                | H::XDP_OUTPUT
        ),
        M::RINGBUF => matches!(
            id,
            H::RINGBUF_OUTPUT | H::RINGBUF_RESERVE | H::RINGBUF_QUERY | H::RINGBUF_RESERVE_DYNPTR
        ),
        M::STACK_TRACE => id == H::GET_STACKID,
        M::CGROUP_ARRAY => matches!(id, H::SKB_UNDER_CGROUP | H::CURRENT_TASK_UNDER_CGROUP),
        M::DEVMAP | M::DEVMAP_HASH => matches!(id, H::REDIRECT_MAP | H::MAP_LOOKUP_ELEM),
        M::CPUMAP => id == H::REDIRECT_MAP,
        M::XSKMAP => matches!(id, H::REDIRECT_MAP | H::MAP_LOOKUP_ELEM),
        M::ARRAY_OF_MAPS | M::HASH_OF_MAPS => id == H::MAP_LOOKUP_ELEM,
        M::QUEUE | M::STACK => matches!(id, H::MAP_PEEK_ELEM | H::MAP_POP_ELEM | H::MAP_PUSH_ELEM),
        M::BLOOM_FILTER => matches!(id, H::MAP_PEEK_ELEM | H::MAP_PUSH_ELEM),
        M::SOCKMAP | M::SOCKHASH => matches!(
            id,
            H::SK_REDIRECT_MAP
                | H::SK_REDIRECT_HASH
                | H::SOCK_MAP_UPDATE
                | H::SOCK_HASH_UPDATE
                | H::MSG_REDIRECT_MAP
                | H::MSG_REDIRECT_HASH
                | H::SK_SELECT_REUSEPORT
                | H::MAP_LOOKUP_ELEM
                | H::MAP_UPDATE_ELEM
                | H::MAP_DELETE_ELEM
        ),
        _ => true,
    }
}

/// Helpers that use a ring of values with generic semantics must not get special maps.
fn helper_allows(proto: &HelperProto, map_type: MapType) -> bool {
    if !proto.map_types.is_empty() {
        return proto.map_types.contains(&map_type);
    }
    // Generic map helpers refuse the special maps (checked from the map side too).
    !matches!(
        proto.id,
        HelperId::MAP_UPDATE_ELEM | HelperId::MAP_DELETE_ELEM
    ) || !matches!(map_type, MapType::ARRAY_OF_MAPS | MapType::HASH_OF_MAPS)
}

impl<'p> Checker<'p> {
    /// The map a register's `aux` names (an inner map when flagged).
    pub(crate) fn map_of(&self, aux: u32) -> &'p crate::program::MapInfo {
        if aux & INNER_MAP != 0 {
            let outer = self.map(aux & !INNER_MAP);
            outer.inner.as_deref().unwrap_or(outer)
        } else {
            self.map(aux)
        }
    }

    /// Any call instruction.
    pub(crate) fn check_call(
        &mut self,
        state: &mut State,
        pc: usize,
        insn: &Insn,
        target: CallTarget,
    ) -> R<Next> {
        match target {
            CallTarget::Helper => self.check_helper_call(state, pc, insn.imm),
            CallTarget::Local => {
                self.check_func_call(state, pc, (pc as i64 + 1 + insn.imm as i64) as usize)
            }
            CallTarget::Kfunc => self.check_kfunc_call(state, pc),
        }
    }

    /// A bpf-to-bpf call.
    fn check_func_call(&mut self, state: &mut State, pc: usize, target: usize) -> R<Next> {
        let sub = self.cfg.subprog_at(target).unwrap_or(0);
        // check_func_call: a global function is verified apart from its callers, without their
        // lock, so it may not run inside a locked region (a static one may).
        if self.cfg.subprogs[sub].global && state.active_lock.is_some() {
            return Err(super::Fail {
                msg: Message::UseStaticFunction,
                notes: vec![Message::GlobalCallLocked],
            });
        }
        if state.frames.len() >= MAX_CALL_FRAMES {
            return Err(Message::Other(format!(
                "the call stack of {} frames is too deep",
                state.frames.len() + 1
            ))
            .into());
        }
        if self.cfg.subprogs[sub].global {
            let start = self.cfg.subprogs[sub].start;
            let args = self
                .prog
                .funcs
                .iter()
                .find(|f| f.insn == start)
                .map(|f| f.args.clone())
                .unwrap_or_default();
            for (i, arg) in args.iter().enumerate().take(5) {
                let r = (i + 1) as u8;
                self.check_reg_read(state, r)?;
                let reg = *state.reg(r as usize);
                match arg {
                    GlobalArg::Scalar if !reg.is_scalar() => {
                        return Err(Message::Other(format!("R{r} is not a scalar")).into());
                    }
                    GlobalArg::Ctx if reg.kind != RegKind::Ctx => {
                        return Err(
                            Message::Other(format!("arg#{i} expects pointer to ctx")).into()
                        );
                    }
                    GlobalArg::Mem { size, nullable }
                        if !(*nullable && reg.is_scalar() && reg.s.is_zero()) =>
                    {
                        self.helper_mem(state, r, *size as i64, Access::Write, false, true)?;
                    }
                    _ => {}
                }
            }
            if !self.called_globals.contains(&sub) {
                self.called_globals.push(sub);
            }
            for r in 1..=5 {
                *state.reg_mut(r) = Reg::NOT_INIT;
            }
            *state.reg_mut(0) = Reg::unknown();
            return Ok(Next::Goto(pc + 1));
        }
        let frameno = state.frames.len() as u32;
        let mut callee = Frame::new(frameno, sub, pc);
        for r in 1..=5 {
            callee.regs[r] = *state.reg(r);
        }
        for r in 0..=5 {
            *state.reg_mut(r) = Reg::NOT_INIT;
        }
        state.frames.push(callee);
        Ok(Next::Goto(target))
    }

    /// Leaving a subprogram or a callback (`prepare_func_exit`).
    pub(crate) fn return_from_call(&mut self, state: &mut State) -> R<Next> {
        let callee = state.frames.last().expect("a frame").clone();
        let r0 = callee.regs[0];
        if r0.kind == RegKind::Stack {
            return Err(Message::Other("cannot return stack pointer to the caller".into()).into());
        }
        let callsite = callee.callsite;
        state.frames.pop();
        if callee.in_callback {
            if r0.kind != RegKind::Scalar {
                return Err(Message::Other("R0 not a scalar value".into()).into());
            }
            if r0.s.smin < 0 || r0.s.smax > 1 {
                let mut what = String::new();
                if r0.s.smin > i64::MIN {
                    what.push_str(&format!(" smin={}", r0.s.smin));
                }
                if r0.s.smax < i64::MAX {
                    what.push_str(&format!(" smax={}", r0.s.smax));
                }
                if what.is_empty() {
                    what.push_str(" unknown scalar value");
                }
                return Err(Message::Other(format!(
                    "At callback return the register R0 has{what} should have been in [0, 1]"
                ))
                .into());
            }
            // The helper may call the callback again: back to the call.
            return Ok(Next::Goto(callsite));
        }
        *state.reg_mut(0) = r0;
        // Pointers into the callee's stack are dead.
        let dead = callee.frameno;
        state.for_each_reg(|r| {
            if r.kind == RegKind::Stack && r.aux == dead {
                *r = Reg::unknown();
            }
        });
        Ok(Next::Goto(callsite + 1))
    }

    /// check_get_func_ip: every tracing type is offered `bpf_get_func_ip`, but only kprobes and
    /// trampoline programs can answer it; the kernel says so after checking the arguments.
    fn check_get_func_ip(&self) -> R<()> {
        let id = HelperId::GET_FUNC_IP;
        let name = format!("{}#{}", id.c_name().unwrap_or_default(), id.0);
        match self.prog.prog_type {
            ProgType::KPROBE => Ok(()),
            ProgType::TRACING
                if matches!(
                    self.prog.attach_type,
                    AttachType::TRACE_FENTRY | AttachType::TRACE_FEXIT | AttachType::MODIFY_RETURN
                ) =>
            {
                Ok(())
            }
            ProgType::TRACING => Err(Message::Other(format!(
                "func {name} supported only for fentry/fexit/fmod_ret programs"
            ))
            .into()),
            other => Err(Message::Other(format!(
                "func {name} not supported for program type {}",
                other.0
            ))
            .into()),
        }
    }

    /// A helper call.
    fn check_helper_call(&mut self, state: &mut State, pc: usize, imm: i32) -> R<Next> {
        let id = HelperId(imm as u32);
        // do_check: inside a locked region only the unlock may be called.
        if state.active_lock.is_some() && id != HelperId::SPIN_UNLOCK {
            return Err(Message::Other(
                "function calls are not allowed while holding a lock".into(),
            )
            .into());
        }
        if imm < 0 || id.0 >= HelperId::MAX_ID || id == HelperId::UNSPEC {
            return Err(Message::InvalidFunc(imm).into());
        }
        // The helper's name, for messages only (formatted on failure: this runs on every call).
        let name = || id.c_name().unwrap_or_default();
        // Some helpers have another prototype in some program types (`helper_protos`).
        let Some(proto) = helper_proto_for(id, self.prog.prog_type) else {
            return Err(Message::Unsupported(format!(
                "helper {}#{imm} is not in bpfkit's helper table yet",
                name()
            ))
            .into());
        };
        if !proto.allowed_in(self.prog.prog_type) {
            return Err(Message::HelperNotAllowed {
                name: name(),
                id: imm,
            }
            .into());
        }
        if proto.gpl_only && !self.prog.gpl {
            return Err(Message::GplOnly.into());
        }
        let mut meta = Meta::default();
        for i in 0..5 {
            self.check_func_arg(state, proto, i, &mut meta)?;
        }
        // Raw (uninitialised) memory arguments were checked as writes already.
        if let Some(r) = meta.release_reg {
            let reg = *state.reg(r as usize);
            if meta.ref_obj_id != 0 {
                self.release_reference(state, meta.ref_obj_id)
                    .map_err(|_| Message::RefNotAcquired {
                        name: name(),
                        id: imm,
                    })?;
            } else if !(reg.is_scalar() && reg.s.is_zero()) {
                return Err(Message::RefNotAcquired {
                    name: name(),
                    id: imm,
                }
                .into());
            }
        }
        let mut callback = None;
        match id {
            HelperId::TAIL_CALL => {
                if let Some(r) = state.refs.first() {
                    return Err(Fail {
                        msg: Message::RefLeak("tail_call"),
                        notes: vec![Message::UnreleasedRef {
                            id: r.id,
                            insn: r.insn,
                        }],
                    });
                }
            }
            HelperId::GET_FUNC_IP => self.check_get_func_ip()?,
            HelperId::LOOP if state.reg(1).s.umax > 0 => callback = meta.callback,
            HelperId::FOR_EACH_MAP_ELEM => callback = meta.callback,
            _ => {}
        }
        if let Some(sub) = callback {
            self.push_callback(state, pc, id, sub as usize, meta.map)?;
        }
        // Caller-saved registers are clobbered; r0 is the result.
        for r in 1..=5 {
            *state.reg_mut(r) = Reg::NOT_INIT;
        }
        let mut r0 = match proto.ret {
            RetType::Integer => Reg::unknown(),
            RetType::Void => Reg::NOT_INIT,
            RetType::MapValueOrNull => {
                let Some(map) = meta.map else {
                    return Err(
                        Message::Other("kernel subsystem misconfigured verifier".into()).into(),
                    );
                };
                let info = self.map_of(map);
                let mut r = Reg {
                    aux: map,
                    ..Reg::pointer(RegKind::MapValue)
                };
                let elide = id == HelperId::MAP_LOOKUP_ELEM
                    && matches!(info.map_type, MapType::ARRAY | MapType::PERCPU_ARRAY)
                    && meta.const_key.is_some_and(|k| k < info.max_entries as u64);
                if !elide {
                    r.flags = RegFlags::MAYBE_NULL;
                }
                if matches!(
                    info.map_type,
                    MapType::ARRAY_OF_MAPS | MapType::HASH_OF_MAPS
                ) {
                    // The value is the inner map.
                    r.kind = RegKind::MapPtr;
                    r.aux = map | INNER_MAP;
                    r.flags = RegFlags::MAYBE_NULL;
                }
                r
            }
            RetType::SocketOrNull => Reg {
                flags: RegFlags::MAYBE_NULL,
                ..Reg::pointer(RegKind::Socket)
            },
            RetType::TcpSockOrNull => Reg {
                flags: RegFlags::MAYBE_NULL,
                ..Reg::pointer(RegKind::TcpSock)
            },
            RetType::SockCommonOrNull => Reg {
                flags: RegFlags::MAYBE_NULL,
                ..Reg::pointer(RegKind::SockCommon)
            },
            RetType::RingbufMemOrNull => Reg {
                flags: RegFlags(RegFlags::MAYBE_NULL.0 | RegFlags::RINGBUF.0),
                range: meta.mem_size as u32,
                ..Reg::pointer(RegKind::Mem)
            },
            RetType::DynptrMemOrNull => Reg {
                flags: RegFlags::MAYBE_NULL,
                range: meta.mem_size as u32,
                ..Reg::pointer(RegKind::Mem)
            },
            RetType::BtfIdOrNull(_) => Reg {
                flags: RegFlags::MAYBE_NULL,
                ..Reg::pointer(RegKind::BtfId)
            },
            RetType::BtfIdTrusted(_) => Reg {
                flags: RegFlags::TRUSTED,
                ..Reg::pointer(RegKind::BtfId)
            },
            RetType::MemOrBtfId | RetType::MemOrBtfIdOrNull => {
                return Err(Message::Unsupported(format!(
                    "{} returns a kernel variable typed by the kernel's BTF, which this verifier does not read yet",
                    name()
                ))
                .into());
            }
        };
        if r0.maybe_null() {
            r0.id = self.new_id();
        }
        if matches!(
            id,
            HelperId::SK_FULLSOCK
                | HelperId::TCP_SOCK
                | HelperId::GET_LISTENER_SOCK
                | HelperId::SKC_TO_TCP_SOCK
        ) {
            r0.ref_obj_id = meta.ref_obj_id;
        } else if proto.acquires() {
            let rid = self.new_id();
            state.refs.push(RefState { id: rid, insn: pc });
            r0.id = rid;
            r0.ref_obj_id = rid;
        }
        // do_refine_retval_range
        match id {
            HelperId::GET_STACK
            | HelperId::PROBE_READ_STR
            | HelperId::PROBE_READ_USER_STR
            | HelperId::PROBE_READ_KERNEL_STR => {
                let mut s = Scalar::UNKNOWN;
                s.smin = -4095;
                s.smax = meta.msize_max as i64;
                s.s32_min = -4095;
                s.s32_max = meta.msize_max.min(i32::MAX as u64) as i32;
                s.sync();
                r0 = Reg::scalar(s);
            }
            HelperId::GET_SMP_PROCESSOR_ID => {
                let mut s = Scalar::UNKNOWN;
                s.smin = 0;
                s.smax = 8191;
                s.sync();
                r0 = Reg::scalar(s);
            }
            _ => {}
        }
        *state.reg_mut(0) = r0;
        if let Some(map) = meta.map {
            let mt = self.map_of(map).map_type;
            if !map_allows(mt, id) || !helper_allows(proto, mt) {
                return Err(Message::MapFuncIncompatible {
                    map_type: mt.0,
                    name: id.c_name().unwrap_or_default(),
                    id: imm,
                }
                .into());
            }
        }
        if proto.changes_pkt_data {
            state.for_each_reg(|r| {
                if matches!(
                    r.kind,
                    RegKind::Packet | RegKind::PacketMeta | RegKind::PacketEnd
                ) {
                    *r = Reg::unknown();
                }
            });
        }
        Ok(Next::Goto(pc + 1))
    }

    /// `check_func_arg` for argument `i` (register `r(i+1)`).
    fn check_func_arg(
        &mut self,
        state: &mut State,
        proto: &HelperProto,
        i: usize,
        meta: &mut Meta,
    ) -> R<()> {
        let arg = proto.args[i];
        let regno = (i + 1) as u8;
        if arg.kind == ArgKind::DontCare {
            return Ok(());
        }
        self.check_reg_read(state, regno)?;
        let reg = *state.reg(regno as usize);
        if arg.kind == ArgKind::Anything {
            return Ok(());
        }
        if reg.kind.is_packet()
            && !proto.pkt_access
            && !matches!(arg.kind, ArgKind::ConstSize | ArgKind::ConstSizeOrZero)
        {
            return Err(Message::Other("helper access to the packet is not allowed".into()).into());
        }
        let is_null = reg.is_scalar() && reg.s.is_zero();
        if !(is_null && arg.maybe_null()) {
            if !compatible(&reg, &arg) {
                // A BTF pointer (or, for a kptr, a map value) might be the right one: telling needs
                // the kernel's BTF. Anything else is the wrong type, as the kernel says.
                let might_be_btf = reg.kind == RegKind::BtfId
                    || (arg.kind == ArgKind::Kptr && reg.kind == RegKind::MapValue);
                if might_be_btf
                    && matches!(
                        arg.kind,
                        ArgKind::PercpuBtfId | ArgKind::BtfId | ArgKind::Kptr
                    )
                {
                    return Err(Message::Unsupported(format!(
                        "helper argument {arg} needs the kernel's BTF, which this verifier does not read yet"
                    ))
                    .into());
                }
                return Err(Message::ArgType {
                    reg: regno,
                    type_str: reg.type_str(),
                    expected: expected(&arg).into(),
                }
                .into());
            }
            // check_func_arg_reg_off
            match arg.kind {
                ArgKind::Ctx => check_ptr_off(&reg, regno, false)?,
                _ if arg.releases() && (reg.off != 0 || !reg.var_off_is_zero()) => {
                    return Err(Message::Other(format!(
                        "R{regno} must have zero offset when passed to release func or trusted arg to kfunc"
                    ))
                    .into());
                }
                ArgKind::Socket | ArgKind::SockCommon | ArgKind::BtfIdSockCommon
                    if reg.off != 0 =>
                {
                    check_ptr_off(&reg, regno, false)?
                }
                _ => {}
            }
        }
        if arg.releases() {
            if reg.ref_obj_id == 0 && !is_null {
                return Err(Message::MustBeReferenced(regno).into());
            }
            meta.release_reg = Some(regno);
        }
        if reg.ref_obj_id != 0 {
            meta.ref_obj_id = reg.ref_obj_id;
        }
        match arg.kind {
            ArgKind::ConstMapPtr => meta.map = Some(reg.aux),
            ArgKind::MapKey => {
                let Some(map) = meta.map else {
                    return Err(Message::Other("invalid map_ptr to access map->key".into()).into());
                };
                let info = self.map_of(map);
                self.helper_mem(
                    state,
                    regno,
                    info.key_size as i64,
                    Access::Read,
                    false,
                    true,
                )?;
                if matches!(info.map_type, MapType::ARRAY | MapType::PERCPU_ARRAY) {
                    meta.const_key = constant_key(state, &reg, info.key_size);
                }
            }
            ArgKind::MapValue => {
                if is_null && arg.maybe_null() {
                    return Ok(());
                }
                let Some(map) = meta.map else {
                    return Err(
                        Message::Other("invalid map_ptr to access map->value".into()).into(),
                    );
                };
                let size = self.map_of(map).value_size;
                let access = if arg.flags.contains(ArgFlags::WRITE) {
                    Access::Write
                } else {
                    Access::Read
                };
                self.helper_mem(state, regno, size as i64, access, false, true)?;
            }
            ArgKind::Func => meta.callback = Some(reg.aux),
            ArgKind::Mem if arg.flags.contains(ArgFlags::FIXED_SIZE) => {
                let access = if arg.flags.contains(ArgFlags::WRITE) {
                    Access::Write
                } else {
                    Access::Read
                };
                self.helper_mem(state, regno, arg.size as i64, access, false, true)?;
            }
            ArgKind::ConstSize | ArgKind::ConstSizeOrZero => {
                let zero_ok = arg.kind == ArgKind::ConstSizeOrZero;
                meta.msize_max = reg.s.umax;
                if reg.s.smin < 0 {
                    return Err(Message::SizeMinNegative(regno).into());
                }
                if reg.s.umin == 0 && !zero_ok {
                    return Err(Message::ZeroSizedRead {
                        reg: regno,
                        umin: reg.s.umin,
                        umax: reg.s.umax,
                    }
                    .into());
                }
                if reg.s.umax >= MAX_VAR_SIZ {
                    return Err(Message::SizeUnbounded(regno).into());
                }
                let mem_arg = proto.args[i - 1];
                let mem_reg = *state.reg(regno as usize - 1);
                if mem_arg.maybe_null()
                    && mem_reg.is_scalar()
                    && mem_reg.s.is_zero()
                    && reg.s.umax == 0
                {
                    return Ok(());
                }
                let access = if mem_arg.flags.contains(ArgFlags::WRITE) {
                    Access::Write
                } else {
                    Access::Read
                };
                self.helper_mem(state, regno - 1, reg.s.umax as i64, access, zero_ok, true)?;
            }
            ArgKind::ConstAllocSizeOrZero => {
                if !reg.s.is_const() {
                    return Err(Message::NotKnownConstant(regno).into());
                }
                meta.mem_size = reg.s.var_off.value;
            }
            ArgKind::Int(n) => {
                self.helper_mem(state, regno, n as i64, Access::Write, false, true)?;
            }
            ArgKind::ConstStr => {
                let map = self.map_of(reg.aux);
                if !map.flags.contains(bpfkit_uapi::MapFlags::RDONLY_PROG) {
                    return Err(Message::Other(
                        "R{regno} does not point to a readonly map'"
                            .replace("{regno}", &regno.to_string()),
                    )
                    .into());
                }
            }
            ArgKind::SpinLock => {
                self.process_spin_lock(state, regno, proto.id == HelperId::SPIN_LOCK)?;
            }
            ArgKind::Dynptr | ArgKind::Timer => {
                return Err(Message::Unsupported(format!(
                    "helper argument {arg} (dynptrs, timers) is not modelled by bpfkit's verifier yet"
                ))
                .into());
            }
            _ => {}
        }
        Ok(())
    }

    /// `bpf_spin_lock`/`bpf_spin_unlock` (`process_spin_lock`): the argument points at the
    /// `struct bpf_spin_lock` of a map value, at a constant offset; one lock at a time, and
    /// unlock releases the lock that was taken.
    fn process_spin_lock(&mut self, state: &mut State, regno: u8, is_lock: bool) -> R<()> {
        let reg = *state.reg(regno as usize);
        let other = |text: String| Err(Message::Other(text).into());
        if !reg.s.is_const() {
            return other(format!(
                "R{regno} doesn't have constant offset. bpf_spin_lock has to be at the constant offset"
            ));
        }
        let map = self.map_of(reg.aux);
        let Some(lock_off) = map.spin_lock_off else {
            return other(format!("map '{}' has no valid bpf_spin_lock", map.name));
        };
        let off = reg.s.var_off.value as i64 + i64::from(reg.off);
        if off != i64::from(lock_off) {
            return other(format!(
                "off {off} doesn't point to 'struct bpf_spin_lock' that is at {lock_off}"
            ));
        }
        let lock = (reg.aux, reg.id);
        if is_lock {
            if state.active_lock.is_some() {
                return other("Locking two bpf_spin_locks are not allowed".into());
            }
            state.active_lock = Some(lock);
        } else {
            match state.active_lock {
                None => return other("bpf_spin_unlock without taking a lock".into()),
                Some(held) if held != lock => {
                    return other("bpf_spin_unlock of different lock".into());
                }
                Some(_) => state.active_lock = None,
            }
        }
        Ok(())
    }

    /// Forks a path into a callback (`push_callback_call`).
    fn push_callback(
        &mut self,
        state: &State,
        pc: usize,
        id: HelperId,
        sub: usize,
        map: Option<u32>,
    ) -> R<()> {
        if state.frames.len() >= MAX_CALL_FRAMES {
            return Err(Message::Other(format!(
                "the call stack of {} frames is too deep",
                state.frames.len() + 1
            ))
            .into());
        }
        let mut cb = state.clone();
        cb.callback_unroll += 1;
        let frameno = cb.frames.len() as u32;
        let mut frame = Frame::new(frameno, sub, pc);
        frame.in_callback = true;
        match id {
            HelperId::LOOP => {
                frame.regs[1] = Reg::unknown();
                frame.regs[2] = *state.reg(3);
            }
            _ => {
                let map = map.unwrap_or(0);
                frame.regs[1] = Reg {
                    aux: map,
                    ..Reg::pointer(RegKind::MapPtr)
                };
                frame.regs[2] = Reg {
                    aux: map,
                    ..Reg::pointer(RegKind::MapKey)
                };
                frame.regs[3] = Reg {
                    aux: map,
                    ..Reg::pointer(RegKind::MapValue)
                };
                frame.regs[4] = *state.reg(3);
            }
        }
        cb.frames.push(frame);
        let start = self.cfg.subprogs[sub].start;
        self.push(cb, start, true)
    }

    /// `release_reference`: drops the reference; pointers holding it become unknown numbers.
    pub(super) fn release_reference(&mut self, state: &mut State, id: u32) -> Result<(), ()> {
        let before = state.refs.len();
        state.refs.retain(|r| r.id != id);
        if state.refs.len() == before {
            return Err(());
        }
        state.for_each_reg(|r| {
            if r.ref_obj_id == id {
                *r = Reg::unknown();
            }
        });
        Ok(())
    }
}

/// `get_constant_map_key`: the key a stack pointer points at, when it is a known number.
fn constant_key(state: &State, key: &Reg, key_size: u32) -> Option<u64> {
    if key.kind != RegKind::Stack || !key.s.is_const() {
        return None;
    }
    let frame = &state.frames[key.aux as usize];
    let off = key.off as i64 + key.s.var_off.value as i64;
    let (spi, idx) = Frame::locate(off as i32);
    let slot = frame.stack.get(spi)?;
    let zeros = (0..=idx)
        .rev()
        .take_while(|&i| slot.bytes[i] == crate::state::StackByte::Zero)
        .count();
    if zeros >= key_size as usize {
        return Some(0);
    }
    if !slot.is_spilled_scalar() {
        return None;
    }
    let spills = (0..=idx)
        .rev()
        .take_while(|&i| slot.bytes[i] == crate::state::StackByte::Spill)
        .count();
    if spills != key_size as usize || !slot.spilled.s.is_const() {
        return None;
    }
    Some(slot.spilled.s.var_off.value)
}

//! The walk: every path of the program from its entry, one instruction at a time, with the state
//! forked at conditional jumps, compared with states seen before at prune points, and checked
//! against the kernel's rules at each instruction (`do_check`).

mod alu;
mod call;
mod jmp;
mod kfunc;
mod mem;

use std::rc::Rc;

use bpfkit_isa::{Insn, Kind, Pseudo};
use bpfkit_uapi::{MapType, ProgType};

use crate::cfg::Cfg;
use crate::msg::Message;
use crate::program::{GlobalArg, MapInfo, Program};
use crate::reg::{Reg, RegFlags, RegKind};
use crate::state::{Frame, State, subsumes};
use crate::{Stats, Step};

/// The kernel's processed-instruction limit (`BPF_COMPLEXITY_LIMIT_INSNS`).
pub const INSN_LIMIT: usize = 1_000_000;
/// The kernel's limit on pending branches (`BPF_COMPLEXITY_LIMIT_JMP_SEQ`).
const JMP_SEQ_LIMIT: usize = 8192;
/// Most frames of bpf-to-bpf calls (`MAX_CALL_FRAMES`).
pub const MAX_CALL_FRAMES: usize = 8;

/// The branch decisions that led to the current instruction, shared between forks.
#[derive(Debug)]
pub struct PathNode {
    step: Step,
    prev: Option<Rc<PathNode>>,
}

impl Drop for PathNode {
    /// Unlinks the chain iteratively: a recursive drop of a long path would overflow the stack.
    fn drop(&mut self) {
        let mut next = self.prev.take();
        while let Some(node) = next {
            match Rc::try_unwrap(node) {
                Ok(mut n) => next = n.prev.take(),
                Err(_) => break,
            }
        }
    }
}

/// Collects a path, oldest decision first.
pub fn path_steps(mut node: &Option<Rc<PathNode>>) -> Vec<Step> {
    let mut out = Vec::new();
    while let Some(n) = node {
        out.push(n.step);
        node = &n.prev;
    }
    out.reverse();
    out
}

/// A state stored at a prune point.
struct Checkpoint {
    state: State,
    /// Paths from here still being explored; 0 once everything after it was accepted.
    branches: u32,
    parent: Option<usize>,
    /// How often it pruned a path, and how often it was compared in vain while a new state
    /// was going to be stored (`hit_cnt`, `miss_cnt`): a state that keeps missing is dropped
    /// from its instruction's list, as the kernel drops it.
    hits: u32,
    misses: u32,
}

/// A path waiting to be explored.
struct Pending {
    state: State,
    pc: usize,
    parent: Option<usize>,
    path: Option<Rc<PathNode>>,
}

/// Why the walk stopped.
pub struct Reject {
    /// The kernel's message.
    pub msg: Message,
    /// The slot of the instruction at fault.
    pub pc: usize,
    /// The state at that instruction.
    pub state: Option<State>,
    /// The branch decisions leading there.
    pub path: Vec<Step>,
    /// Lines the kernel prints before the last one (e.g. the unreleased reference).
    pub notes: Vec<Message>,
}

/// The result of one instruction.
pub(crate) enum Next {
    /// Continue at this slot.
    Goto(usize),
    /// The path ended (exit of the entry frame).
    Done,
}

/// An error in the middle of an instruction.
pub(crate) struct Fail {
    pub msg: Message,
    pub notes: Vec<Message>,
}

impl From<Message> for Fail {
    fn from(msg: Message) -> Fail {
        Fail {
            msg,
            notes: Vec::new(),
        }
    }
}

pub(crate) type R<T> = Result<T, Fail>;

/// The verifier of one program.
pub struct Checker<'p> {
    pub(crate) prog: &'p Program<'p>,
    pub(crate) cfg: Cfg,
    checkpoints: Vec<Checkpoint>,
    explored: Vec<Vec<usize>>,
    pending: Vec<Pending>,
    pub(crate) id_gen: u32,
    pub(crate) stats: Stats,
    pub(crate) log: Option<String>,
    /// The current path's last checkpoint.
    parent: Option<usize>,
    path: Option<Rc<PathNode>>,
    insns_since_checkpoint: usize,
    jumps_since_checkpoint: usize,
    /// Global functions called (to verify after the main program).
    pub(crate) called_globals: Vec<usize>,
    /// Deepest stack per subprogram.
    pub(crate) stack_depth: Vec<usize>,
    /// The pc of the instruction being checked.
    pub(crate) pc: usize,
}

impl<'p> Checker<'p> {
    /// A checker for `prog` laid out as `cfg`.
    pub fn new(prog: &'p Program<'p>, cfg: Cfg, log: bool) -> Checker<'p> {
        let len = cfg.code.len();
        let nsub = cfg.subprogs.len();
        Checker {
            prog,
            cfg,
            checkpoints: Vec::new(),
            explored: vec![Vec::new(); len],
            pending: Vec::new(),
            id_gen: 0,
            stats: Stats::default(),
            log: log.then(String::new),
            parent: None,
            path: None,
            insns_since_checkpoint: 0,
            jumps_since_checkpoint: 0,
            called_globals: Vec::new(),
            stack_depth: vec![0; nsub],
            pc: 0,
        }
    }

    /// A fresh id for `reg->id`.
    pub(crate) fn new_id(&mut self) -> u32 {
        self.id_gen += 1;
        self.id_gen
    }

    /// The map `index` names.
    pub(crate) fn map(&self, index: u32) -> &'p MapInfo {
        &self.prog.maps[index as usize]
    }

    /// Verifies the program: the entry, then every global function it calls.
    pub fn check_all(&mut self) -> Result<(), Box<Reject>> {
        let entry = self.entry_state(0);
        self.run(0, entry)?;
        let mut done = Vec::new();
        while let Some(sub) = self
            .called_globals
            .iter()
            .copied()
            .find(|s| !done.contains(s))
        {
            done.push(sub);
            let state = self.entry_state(sub);
            self.run(self.cfg.subprogs[sub].start, state)?;
        }
        Ok(())
    }

    /// The state at the entry of the program (subprogram 0) or of a global function.
    fn entry_state(&mut self, sub: usize) -> State {
        let mut frame = Frame::new(0, sub, 0);
        if sub == 0 {
            frame.regs[1] = Reg::pointer(RegKind::Ctx);
        } else {
            let start = self.cfg.subprogs[sub].start;
            let args = self
                .prog
                .funcs
                .iter()
                .find(|f| f.insn == start)
                .map(|f| f.args.clone())
                .unwrap_or_default();
            for (i, arg) in args.iter().enumerate().take(5) {
                frame.regs[i + 1] = match arg {
                    GlobalArg::Scalar => Reg::unknown(),
                    GlobalArg::Ctx => Reg::pointer(RegKind::Ctx),
                    GlobalArg::Mem { size, nullable } => {
                        let mut r = Reg::pointer(RegKind::Mem);
                        r.range = *size;
                        if *nullable {
                            r.flags = RegFlags::MAYBE_NULL;
                            r.id = self.new_id();
                        }
                        r
                    }
                };
            }
        }
        State {
            frames: vec![frame],
            refs: Vec::new(),
            active_lock: None,
            callback_unroll: 0,
        }
    }

    /// Walks every path from `start` in `state`.
    fn run(&mut self, start: usize, state: State) -> Result<(), Box<Reject>> {
        self.pending.clear();
        self.parent = None;
        self.path = None;
        let mut state = state;
        let mut pc = start;
        loop {
            self.pc = pc;
            // Prune points: stop when a stored state covers this one; store this one.
            if self.cfg.prune_point[pc] {
                match self.visit(pc, &state) {
                    Ok(true) => match self.pop(&mut state, &mut pc) {
                        true => continue,
                        false => return Ok(()),
                    },
                    Ok(false) => {}
                    Err(msg) => return Err(self.reject(msg, pc, &state)),
                }
            }
            self.stats.insns += 1;
            self.insns_since_checkpoint += 1;
            if self.stats.insns > INSN_LIMIT {
                return Err(self.reject(Message::TooLarge(INSN_LIMIT + 1), pc, &state));
            }
            let insn = self.cfg.code[pc].expect("walks only reach instruction starts");
            if let Some(log) = &mut self.log {
                log.push_str(&format!("{pc}: {}\n", insn_text(&insn)));
            }
            match self.step(&mut state, pc, &insn) {
                Ok(Next::Goto(next)) => pc = next,
                Ok(Next::Done) => {
                    if !self.pop(&mut state, &mut pc) {
                        return Ok(());
                    }
                }
                Err(fail) => {
                    let mut r = self.reject(fail.msg, pc, &state);
                    r.notes = fail.notes;
                    return Err(r);
                }
            }
        }
    }

    fn reject(&self, msg: Message, pc: usize, state: &State) -> Box<Reject> {
        Box::new(Reject {
            msg,
            pc,
            state: Some(state.clone()),
            path: path_steps(&self.path),
            notes: Vec::new(),
        })
    }

    /// Ends the current path; takes the next pending one. Returns false when none is left.
    fn pop(&mut self, state: &mut State, pc: &mut usize) -> bool {
        self.finish_branch(self.parent);
        match self.pending.pop() {
            Some(p) => {
                *state = p.state;
                *pc = p.pc;
                self.parent = p.parent;
                self.path = p.path;
                if let Some(log) = &mut self.log {
                    log.push_str(&format!("from path: continuing at {pc}\n"));
                }
                true
            }
            None => false,
        }
    }

    /// One path below `parent` ended: count it down the chain (`update_branch_counts`).
    fn finish_branch(&mut self, mut parent: Option<usize>) {
        while let Some(i) = parent {
            let cp = &mut self.checkpoints[i];
            cp.branches -= 1;
            if cp.branches > 0 {
                break;
            }
            parent = cp.parent;
        }
    }

    /// Forks the walk: `state` continues at `pc` later.
    pub(crate) fn push(&mut self, state: State, pc: usize, taken: bool) -> R<()> {
        // push_stack counts the new entry first, then compares and prints the count.
        if self.pending.len() >= JMP_SEQ_LIMIT {
            return Err(Message::JumpSequenceTooComplex(self.pending.len() + 1).into());
        }
        if let Some(p) = self.parent {
            self.checkpoints[p].branches += 1;
        }
        let step = Step { pc: self.pc, taken };
        let path = Some(Rc::new(PathNode {
            step,
            prev: self.path.clone(),
        }));
        self.pending.push(Pending {
            state,
            pc,
            parent: self.parent,
            path,
        });
        self.stats.peak_pending = self.stats.peak_pending.max(self.pending.len());
        Ok(())
    }

    /// Records a decision of the current path.
    pub(crate) fn record_step(&mut self, taken: bool) {
        self.path = Some(Rc::new(PathNode {
            step: Step { pc: self.pc, taken },
            prev: self.path.take(),
        }));
        self.jumps_since_checkpoint += 1;
        self.stats.jumps += 1;
    }

    /// The live-register masks for each frame of `state` at `pc` (an array, not a `Vec`: this
    /// runs at every prune point).
    fn live_masks(&self, state: &State, pc: usize) -> [u16; MAX_CALL_FRAMES] {
        let n = state.frames.len();
        let mut masks = [u16::MAX; MAX_CALL_FRAMES];
        for (i, mask) in masks.iter_mut().enumerate().take(n) {
            *mask = if i + 1 == n {
                self.cfg.live_in[pc]
            } else {
                let ret = state.frames[i + 1].callsite + 1;
                let after = self.cfg.live_in.get(ret).copied().unwrap_or(u16::MAX);
                after & !0b11_1111
            };
        }
        masks
    }

    /// `is_state_visited`: whether a stored state covers `state` (prune), after checking for an
    /// infinite loop; stores `state` as a new checkpoint when worthwhile.
    fn visit(&mut self, pc: usize, state: &State) -> Result<bool, Message> {
        let masks = self.live_masks(state, pc);
        let live = &masks[..state.frames.len().min(MAX_CALL_FRAMES)];
        let mut add = self.insns_since_checkpoint >= 8 && self.jumps_since_checkpoint >= 2;
        let force = self.cfg.loop_head[pc]
            || matches!(self.cfg.code[pc].map(|i| i.kind()), Some(Kind::Call { .. }));
        let calls_callback = matches!(
            self.cfg.code[pc],
            Some(i) if matches!(i.kind(), Kind::Call { target: bpfkit_isa::CallTarget::Helper })
                && matches!(bpfkit_uapi::HelperId(i.imm as u32), bpfkit_uapi::HelperId::LOOP | bpfkit_uapi::HelperId::FOR_EACH_MAP_ELEM)
        );
        // The kernel's list has the newest state first.
        let mut states_cnt = 0;
        let mut k = self.explored[pc].len();
        while k > 0 {
            k -= 1;
            states_cnt += 1;
            let i = self.explored[pc][k];
            let cp = &mut self.checkpoints[i];
            if cp.branches > 0 && calls_callback {
                // Callbacks run again from the call: a covering state ends the iteration.
                if subsumes(&cp.state, state, live) {
                    cp.hits += 1;
                    self.stats.pruned += 1;
                    return Ok(true);
                }
            } else if cp.branches > 0 {
                // A state on an unfinished path: the same state again is a loop.
                if exact_equal(&cp.state, state, live) {
                    return Err(Message::InfiniteLoop(pc));
                }
                if self.jumps_since_checkpoint < 20 && self.insns_since_checkpoint < 100 {
                    add = false;
                }
            } else if subsumes(&cp.state, state, live) {
                cp.hits += 1;
                self.stats.pruned += 1;
                return Ok(true);
            }
            // A miss. Counted only when a new state will be stored, so that the iterations of a
            // loop do not evict the states of its first ones; a state that keeps missing is
            // unlikely to prune and only costs comparisons (is_state_visited's eviction).
            if add || force {
                cp.misses += 1;
            }
            let n = if calls_callback && cp.branches > 0 {
                64
            } else {
                3
            };
            if cp.misses > cp.hits * n + n {
                self.explored[pc].remove(k);
            }
        }
        self.stats.max_states_per_insn = self.stats.max_states_per_insn.max(states_cnt);
        if !add && !force {
            return Ok(false);
        }
        self.checkpoints.push(Checkpoint {
            state: state.clone(),
            branches: 1,
            parent: self.parent,
            hits: 0,
            misses: 0,
        });
        let idx = self.checkpoints.len() - 1;
        self.explored[pc].push(idx);
        self.parent = Some(idx);
        self.stats.states += 1;
        self.stats.peak_states = self.stats.peak_states.max(self.stats.states);
        self.insns_since_checkpoint = 0;
        self.jumps_since_checkpoint = 0;
        Ok(false)
    }

    /// Executes one instruction on `state`.
    fn step(&mut self, state: &mut State, pc: usize, insn: &Insn) -> R<Next> {
        let next = pc + insn.slots();
        match insn.kind() {
            Kind::Alu { op, width, src } => {
                self.check_alu(state, insn, op, width, src)?;
                Ok(Next::Goto(next))
            }
            Kind::Endian { order, bits } => {
                self.check_endian(state, insn, order, bits)?;
                Ok(Next::Goto(next))
            }
            Kind::LoadImm64 { pseudo } => {
                self.check_ld_imm64(state, pc, insn, pseudo)?;
                Ok(Next::Goto(next))
            }
            Kind::LoadPacket { mode, size } => {
                self.check_ld_abs(state, insn, mode, size)?;
                Ok(Next::Goto(next))
            }
            Kind::Load { size, sign_extend } => {
                self.check_load(state, insn, size, sign_extend)?;
                Ok(Next::Goto(next))
            }
            Kind::Store { size, src } => {
                self.check_store(state, insn, size, src)?;
                Ok(Next::Goto(next))
            }
            Kind::Atomic { op, size } => {
                self.check_atomic(state, insn, op, size)?;
                Ok(Next::Goto(next))
            }
            Kind::Ja => {
                self.stats.jumps += 1;
                self.jumps_since_checkpoint += 1;
                Ok(Next::Goto((pc as i64 + 1 + insn.off as i64) as usize))
            }
            Kind::Ja32 => {
                self.stats.jumps += 1;
                self.jumps_since_checkpoint += 1;
                Ok(Next::Goto((pc as i64 + 1 + insn.imm as i64) as usize))
            }
            Kind::Jump { cond, width, src } => {
                self.check_cond_jump(state, pc, insn, cond, width, src)
            }
            Kind::Call { target } => self.check_call(state, pc, insn, target),
            Kind::CallX => Err(Message::Other(format!("unknown opcode {:02x}", 0x8d)).into()),
            Kind::Exit => self.check_exit(state, pc),
        }
    }

    /// `lddw`: constants, maps, map values, functions.
    fn check_ld_imm64(
        &mut self,
        state: &mut State,
        pc: usize,
        insn: &Insn,
        pseudo: Pseudo,
    ) -> R<()> {
        self.check_reg_write(insn.dst.index())?;
        if let Some(&(_, ksym)) = self.prog.ksyms.iter().find(|(slot, _)| *slot == pc) {
            let reg = match ksym {
                // libbpf loads a missing weak symbol as a plain 0.
                crate::program::Ksym::MissingWeak => Reg::known(0),
                // check_pseudo_btf_id: a function is PTR_TO_MEM | MEM_RDONLY of size 0.
                crate::program::Ksym::Func => Reg {
                    flags: RegFlags::RDONLY,
                    range: 0,
                    ..Reg::pointer(RegKind::Mem)
                },
                crate::program::Ksym::Var => {
                    return Err(Message::Unsupported(
                        "ldimm64 of a kernel variable (__ksym) is not modelled by bpfkit's verifier yet".into(),
                    )
                    .into());
                }
            };
            *state.reg_mut(insn.dst.index() as usize) = reg;
            return Ok(());
        }
        let reg = match pseudo {
            Pseudo::Imm64 => Reg::known(insn.imm64()),
            Pseudo::MapFd | Pseudo::MapIdx => {
                let idx = insn.imm;
                if idx < 0 || idx as usize >= self.prog.maps.len() {
                    return Err(Message::BadMapFd(idx).into());
                }
                Reg {
                    aux: idx as u32,
                    ..Reg::pointer(RegKind::MapPtr)
                }
            }
            Pseudo::MapValue | Pseudo::MapIdxValue => {
                let idx = insn.imm;
                if idx < 0 || idx as usize >= self.prog.maps.len() {
                    return Err(Message::BadMapFd(idx).into());
                }
                let map = self.map(idx as u32);
                if map.map_type != MapType::ARRAY || map.max_entries != 1 {
                    return Err(Message::NoDirectValueAccess.into());
                }
                let off = insn.next_imm as u32;
                if off >= map.value_size {
                    return Err(Message::MapValuePointerOff {
                        value_size: map.value_size,
                        off,
                    }
                    .into());
                }
                Reg {
                    aux: idx as u32,
                    off: off as i32,
                    ..Reg::pointer(RegKind::MapValue)
                }
            }
            Pseudo::Func => {
                let target = (pc as i64 + 1 + insn.imm as i64) as usize;
                let sub = self.cfg.subprog_at(target).unwrap_or(0);
                Reg {
                    aux: sub as u32,
                    ..Reg::pointer(RegKind::Func)
                }
            }
            Pseudo::BtfId => {
                return Err(Message::Unsupported(
                    "ldimm64 of a kernel variable (BTF id) needs the kernel's BTF, which this verifier does not read yet"
                        .into(),
                )
                .into());
            }
        };
        *state.reg_mut(insn.dst.index() as usize) = reg;
        Ok(())
    }

    /// `ld_abs`/`ld_ind`: only for socket filters and tc-like programs, with the skb in `r6`.
    fn check_ld_abs(
        &mut self,
        state: &mut State,
        insn: &Insn,
        mode: bpfkit_isa::PacketMode,
        _size: bpfkit_isa::Size,
    ) -> R<()> {
        let allowed = matches!(
            self.prog.prog_type,
            ProgType::SOCKET_FILTER | ProgType::SCHED_CLS | ProgType::SCHED_ACT
        );
        if !allowed {
            return Err(Message::LdAbsNotAllowed.into());
        }
        if self.cfg.subprogs.len() > 1 {
            return Err(Message::LdAbsWithCalls.into());
        }
        self.check_reg_read(state, 6)?;
        if mode == bpfkit_isa::PacketMode::Ind {
            self.check_reg_read(state, insn.src.index())?;
        }
        if state.reg(6).kind != RegKind::Ctx {
            return Err(Message::LdAbsR6.into());
        }
        if !state.refs.is_empty() {
            return Err(Message::RefLeak("BPF_LD_[ABS|IND]").into());
        }
        for r in 1..=5 {
            *state.reg_mut(r) = Reg::NOT_INIT;
        }
        *state.reg_mut(0) = Reg::unknown();
        Ok(())
    }

    /// `check_reg_arg(.., SRC_OP)`.
    pub(crate) fn check_reg_read(&self, state: &State, r: u8) -> R<()> {
        if state.reg(r as usize).kind == RegKind::NotInit {
            return Err(Message::RegNotInit(r).into());
        }
        Ok(())
    }

    /// `check_reg_arg(.., DST_OP)`: `r10` is read-only.
    pub(crate) fn check_reg_write(&self, r: u8) -> R<()> {
        if r == 10 {
            return Err(Message::FramePointerReadOnly.into());
        }
        Ok(())
    }

    /// `BPF_EXIT`: return from a subprogram, or end the program with a valid `r0` and no held
    /// references.
    fn check_exit(&mut self, state: &mut State, _pc: usize) -> R<Next> {
        let in_sub = state.frames.len() > 1;
        let what = if in_sub {
            "BPF_EXIT instruction in subprog"
        } else {
            "BPF_EXIT instruction in main prog"
        };
        // References must be released in the frame that took them (callbacks) or by the end.
        if !in_sub || state.cur().in_callback {
            if let Some(r) = state.refs.first() {
                return Err(Fail {
                    msg: Message::RefLeak(what),
                    notes: vec![Message::UnreleasedRef {
                        id: r.id,
                        insn: r.insn,
                    }],
                });
            }
        }
        // check_resource_leak checks the lock at the main program's exit only: a static
        // subprogram may return into the caller's locked region.
        if !in_sub && state.active_lock.is_some() {
            return Err(Message::Other(format!(
                "{what} cannot be used inside bpf_spin_lock-ed region"
            ))
            .into());
        }
        if in_sub {
            return self.return_from_call(state);
        }
        self.check_reg_read(state, 0)?;
        self.check_return_code(state)?;
        Ok(Next::Done)
    }

    /// `check_return_code`: the exit value's type and range for the program type.
    fn check_return_code(&mut self, state: &State) -> R<()> {
        let r0 = state.reg(0);
        let sub = state.frames[0].subprog;
        if sub != 0 {
            // A global function returns a number.
            if r0.kind != RegKind::Scalar {
                return Err(Message::SubprogExitNotScalar(r0.type_str()).into());
            }
            return Ok(());
        }
        let range: (i64, i64) = match self.prog.prog_type {
            ProgType::CGROUP_SKB => {
                if self.prog.attach_type == bpfkit_uapi::AttachType::CGROUP_INET_EGRESS {
                    (0, 3)
                } else {
                    (0, 1)
                }
            }
            ProgType::CGROUP_SOCK
            | ProgType::SOCK_OPS
            | ProgType::CGROUP_DEVICE
            | ProgType::CGROUP_SYSCTL
            | ProgType::CGROUP_SOCKOPT
            | ProgType::CGROUP_SOCK_ADDR => (0, 1),
            ProgType::SK_LOOKUP => (0, 1),
            _ => return Ok(()),
        };
        if r0.kind != RegKind::Scalar {
            return Err(Message::ExitNotScalar {
                reg: "R0".into(),
                type_str: r0.type_str(),
            }
            .into());
        }
        let s = &r0.s;
        if s.smin < range.0 || s.smax > range.1 {
            let mut what = String::new();
            if s.smin > i64::MIN {
                what.push_str(&format!("smin={}", s.smin));
            }
            if s.smax < i64::MAX {
                if !what.is_empty() {
                    what.push(' ');
                }
                what.push_str(&format!("smax={}", s.smax));
            }
            if what.is_empty() {
                what.push_str("unknown scalar value");
            }
            return Err(Message::ExitValue { what, range }.into());
        }
        Ok(())
    }
}

impl Checker<'_> {
    /// `check_max_stack_depth`: the stacks of a chain of calls together fit in 512 bytes (each
    /// frame rounded up to 32 bytes, as the kernel rounds them).
    pub fn check_stack_depth(&self) -> Result<(), Message> {
        let round = |d: usize| d.max(1).div_ceil(32) * 32;
        // Static call graph: subprogram -> subprograms it calls.
        let n = self.cfg.subprogs.len();
        let mut calls = vec![Vec::new(); n];
        for (pc, insn) in self.cfg.code.iter().enumerate() {
            let Some(insn) = insn else { continue };
            if matches!(
                insn.kind(),
                Kind::Call {
                    target: bpfkit_isa::CallTarget::Local
                }
            ) {
                let t = (pc as i64 + 1 + insn.imm as i64) as usize;
                if let Some(callee) = self.cfg.subprog_at(t) {
                    calls[self.cfg.subprog_of(pc)].push(callee);
                }
            }
        }
        fn walk(
            c: &Checker<'_>,
            calls: &[Vec<usize>],
            sub: usize,
            depth: usize,
            frames: usize,
            round: &dyn Fn(usize) -> usize,
        ) -> Result<(), Message> {
            let total = depth + round(c.stack_depth[sub]);
            if total > 512 {
                return Err(Message::CombinedStackTooLarge {
                    calls: frames,
                    size: total,
                });
            }
            if frames > MAX_CALL_FRAMES {
                return Err(Message::CallStackTooDeep(frames));
            }
            for &callee in &calls[sub] {
                if c.cfg.subprogs[callee].global {
                    continue;
                }
                walk(c, calls, callee, total, frames + 1, round)?;
            }
            Ok(())
        }
        for sub in 0..n {
            if sub == 0 || self.cfg.subprogs[sub].global {
                walk(self, &calls, sub, 0, 1, &round)?;
            }
        }
        Ok(())
    }
}

/// Exact equality of the live parts of two states (`states_equal(.., EXACT)`).
fn exact_equal(old: &State, cur: &State, live: &[u16]) -> bool {
    if old.frames.len() != cur.frames.len()
        || old.refs.len() != cur.refs.len()
        || old.callback_unroll != cur.callback_unroll
    {
        return false;
    }
    for (i, (a, b)) in old.frames.iter().zip(&cur.frames).enumerate() {
        // The kernel's EXACT comparison looks at dead registers too.
        let _ = live[i];
        for r in 0..11 {
            let (x, y) = (&a.regs[r], &b.regs[r]);
            if x.kind != y.kind
                || x.s != y.s
                || x.off != y.off
                || x.flags != y.flags
                || x.range != y.range
                || x.aux != y.aux
            {
                return false;
            }
        }
        if a.stack.len() != b.stack.len() {
            return false;
        }
        for (sa, sb) in a.stack.iter().zip(&b.stack) {
            if sa.bytes != sb.bytes {
                return false;
            }
            if sa.is_spill() {
                let (x, y) = (&sa.spilled, &sb.spilled);
                if x.kind != y.kind || x.s != y.s || x.off != y.off {
                    return false;
                }
            }
        }
    }
    true
}

/// The instruction as the kernel's log prints it.
pub fn insn_text(insn: &Insn) -> String {
    insn.display(bpfkit_isa::Dialect::Llvm).to_string()
}

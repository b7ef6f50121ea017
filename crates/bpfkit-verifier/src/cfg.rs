//! The program's shape before any path is walked (`check_subprogs`, `check_cfg`): instructions by
//! slot, subprogram boundaries, jump targets, reachability, prune points, and which registers
//! each instruction's continuation may read (static liveness).

use bpfkit_isa::{CallTarget, Insn, Kind, Pseudo};
use bpfkit_uapi::{ArgKind, HelperId, helper_protos};

use crate::msg::Message;
use crate::program::Program;

/// A subprogram: `start..end` in slots.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Subprog {
    /// First slot.
    pub start: usize,
    /// One past the last slot.
    pub end: usize,
    /// Global (verified separately).
    pub global: bool,
    /// The deepest stack it uses (bytes), filled in while verifying.
    pub stack_depth: usize,
}

/// The program by slot, with its static facts.
#[derive(Debug)]
pub struct Cfg {
    /// The instruction starting at each slot; `None` for the second slot of an `lddw`.
    pub code: Vec<Option<Insn>>,
    /// Subprograms by start.
    pub subprogs: Vec<Subprog>,
    /// Prune points: where states are compared and stored.
    pub prune_point: Vec<bool>,
    /// Loop heads (targets of backward jumps): a state is always stored there, so a loop that
    /// comes back to the same state is found at once.
    pub loop_head: Vec<bool>,
    /// Registers (bit `r`) the continuation at each slot may read before writing.
    pub live_in: Vec<u16>,
}

impl Cfg {
    /// The subprogram containing slot `pc`.
    pub fn subprog_of(&self, pc: usize) -> usize {
        self.subprogs
            .partition_point(|s| s.start <= pc)
            .saturating_sub(1)
    }

    /// The subprogram starting at slot `pc`.
    pub fn subprog_at(&self, pc: usize) -> Option<usize> {
        self.subprogs.iter().position(|s| s.start == pc)
    }
}

/// Where an instruction may go next.
fn successors(pc: usize, insn: &Insn) -> (Option<usize>, Option<i64>) {
    let next = pc + insn.slots();
    match insn.kind() {
        Kind::Exit => (None, None),
        Kind::Ja => (None, Some(pc as i64 + 1 + insn.off as i64)),
        Kind::Ja32 => (None, Some(pc as i64 + 1 + insn.imm as i64)),
        Kind::Jump { .. } => (Some(next), Some(pc as i64 + 1 + insn.off as i64)),
        _ => (Some(next), None),
    }
}

/// Lays the program out by slot and checks its shape.
pub fn build(prog: &Program<'_>) -> Result<Cfg, (usize, Message)> {
    let mut code = Vec::new();
    for insn in prog.insns {
        code.push(Some(*insn));
        if insn.slots() == 2 {
            code.push(None);
        }
    }
    let len = code.len();
    if len == 0 {
        return Err((0, Message::Other("last insn is not an exit or jmp".into())));
    }

    // Callbacks (`lddw func`) need BTF func_info.
    let has_callback = prog.insns.iter().any(|i| {
        matches!(
            i.kind(),
            Kind::LoadImm64 {
                pseudo: Pseudo::Func
            }
        )
    });
    if has_callback && !prog.btf_func_info {
        return Err((0, Message::Other("missing btf func_info".into())));
    }

    // Subprogram starts: entry, local call targets, `lddw func` targets.
    let mut starts = vec![0usize];
    for (pc, insn) in code.iter().enumerate() {
        let Some(insn) = insn else { continue };
        let target = match insn.kind() {
            Kind::Call {
                target: CallTarget::Local,
            } => Some(pc as i64 + 1 + insn.imm as i64),
            Kind::LoadImm64 {
                pseudo: Pseudo::Func,
            } => Some(pc as i64 + 1 + insn.imm as i64),
            _ => None,
        };
        if let Some(t) = target {
            if t < 0 || t as usize >= len {
                return Err((pc, Message::Other("call to invalid destination".into())));
            }
            starts.push(t as usize);
        }
    }
    for f in prog.funcs {
        if f.insn < len {
            starts.push(f.insn);
        }
    }
    starts.sort_unstable();
    starts.dedup();
    let subprogs: Vec<Subprog> = starts
        .iter()
        .enumerate()
        .map(|(i, &start)| Subprog {
            start,
            end: starts.get(i + 1).copied().unwrap_or(len),
            global: i > 0 && prog.funcs.iter().any(|f| f.insn == start && f.global),
            stack_depth: 0,
        })
        .collect();

    // Jumps stay inside their subprogram; the last instruction of each cannot fall through.
    for sub in &subprogs {
        for (pc, insn) in code.iter().enumerate().take(sub.end).skip(sub.start) {
            let Some(insn) = insn else { continue };
            let (_, jump) = successors(pc, insn);
            if let Some(t) = jump {
                if t < sub.start as i64 || t >= sub.end as i64 {
                    return Err((
                        pc,
                        Message::JumpOutOfRange {
                            from: pc,
                            to: t as usize,
                        },
                    ));
                }
            }
        }
        let last = (sub.start..sub.end).rev().find(|&pc| code[pc].is_some());
        let ok = last.is_some_and(|pc| {
            matches!(code[pc].unwrap().kind(), Kind::Exit | Kind::Ja | Kind::Ja32)
        });
        if !ok {
            return Err((sub.end - 1, Message::LastInsnNotExit));
        }
    }

    // Reachability and prune points (`check_cfg`, iteratively).
    let mut seen = vec![false; len];
    let mut prune_point = vec![false; len];
    let mut loop_head = vec![false; len];
    let mut work = vec![0usize];
    seen[0] = true;
    while let Some(pc) = work.pop() {
        let insn = code[pc].expect("slot starts an instruction");
        let (fall, jump) = successors(pc, &insn);
        // At most three: fall-through, jump, callee (a fixed array: this runs per instruction).
        let mut targets = [usize::MAX; 3];
        let mut n_targets = 0;
        let mut add = |t: usize| {
            targets[n_targets] = t;
            n_targets += 1;
        };
        if let Some(n) = fall {
            add(n);
        }
        if let Some(t) = jump {
            let t = t as usize;
            if code[t].is_none() {
                return Err((pc, Message::JumpIntoLdImm64(t - 1)));
            }
            prune_point[t] = true;
            if t <= pc {
                loop_head[t] = true;
            }
            add(t);
        }
        match insn.kind() {
            Kind::Jump { .. } => prune_point[pc] = true,
            Kind::Call {
                target: CallTarget::Local,
            } => {
                prune_point[pc] = true;
                add((pc as i64 + 1 + insn.imm as i64) as usize);
            }
            Kind::Call {
                target: CallTarget::Helper,
            } => {
                if matches!(
                    HelperId(insn.imm as u32),
                    HelperId::LOOP | HelperId::FOR_EACH_MAP_ELEM
                ) {
                    prune_point[pc] = true;
                }
            }
            Kind::LoadImm64 {
                pseudo: Pseudo::Func,
            } => add((pc as i64 + 1 + insn.imm as i64) as usize),
            _ => {}
        }
        for &t in &targets[..n_targets] {
            if t >= len {
                return Err((pc, Message::JumpOutOfRange { from: pc, to: t }));
            }
            if !seen[t] {
                seen[t] = true;
                work.push(t);
            }
        }
    }
    // Global functions are reachable on their own.
    for sub in &subprogs {
        if sub.global && !seen[sub.start] {
            let mut work = vec![sub.start];
            seen[sub.start] = true;
            while let Some(pc) = work.pop() {
                let insn = code[pc].unwrap();
                let (fall, jump) = successors(pc, &insn);
                for t in fall.into_iter().chain(jump.map(|t| t as usize)) {
                    if t < len && !seen[t] && code[t].is_some() {
                        seen[t] = true;
                        work.push(t);
                    }
                }
            }
        }
    }
    if let Some(pc) = (0..len).find(|&pc| code[pc].is_some() && !seen[pc]) {
        return Err((pc, Message::UnreachableInsn(pc)));
    }

    let mut cfg = Cfg {
        code,
        subprogs,
        prune_point,
        loop_head,
        live_in: vec![0; len],
    };
    compute_liveness(&mut cfg);
    Ok(cfg)
}

/// Registers an instruction reads and writes, as bit sets.
fn uses_defs(insn: &Insn) -> (u16, u16) {
    let bit = |r: bpfkit_isa::Reg| 1u16 << r.index();
    let d = bit(insn.dst);
    let s = bit(insn.src);
    match insn.kind() {
        Kind::Alu { op, src, .. } => {
            use bpfkit_isa::{AluOp, Source};
            let src_use = if src == Source::Reg { s } else { 0 };
            match op {
                AluOp::Mov | AluOp::MovSx(_) => (src_use, d),
                _ => (d | src_use, d),
            }
        }
        Kind::Endian { .. } => (d, d),
        Kind::LoadImm64 { .. } => (0, d),
        Kind::LoadPacket { mode, .. } => {
            // Reads the skb in r6 (and src for ld_ind); clobbers r0-r5.
            let extra = if mode == bpfkit_isa::PacketMode::Ind {
                s
            } else {
                0
            };
            (1 << 6 | extra, 0b11_1111)
        }
        Kind::Load { .. } => (s, d),
        Kind::Store { src, .. } => {
            let v = if src == bpfkit_isa::Source::Reg { s } else { 0 };
            (d | v, 0)
        }
        Kind::Atomic { op, .. } => {
            use bpfkit_isa::AtomicOp;
            match op {
                AtomicOp::CmpXchg => (d | s | 1, 1),
                o if o.fetches() => (d | s, s),
                _ => (d | s, 0),
            }
        }
        Kind::Jump { src, .. } => {
            let v = if src == bpfkit_isa::Source::Reg { s } else { 0 };
            (d | v, 0)
        }
        Kind::Ja | Kind::Ja32 => (0, 0),
        Kind::Call {
            target: CallTarget::Helper,
        } => {
            // The most arguments any of its prototypes reads (an unknown helper: all five).
            let rows = helper_protos(HelperId(insn.imm as u32));
            let n = rows
                .iter()
                .map(|p| {
                    p.args
                        .iter()
                        .rposition(|a| a.kind != ArgKind::DontCare)
                        .map_or(0, |i| i + 1)
                })
                .max()
                .unwrap_or(5);
            (((1u16 << n) - 1) << 1, 0b11_1111)
        }
        Kind::Call { .. } | Kind::CallX => (0b11_1110 | d, 0b11_1111),
        Kind::Exit => (1, 0),
    }
}

/// Backward dataflow per subprogram: `live_in[pc]` holds the registers some path from `pc` may
/// read before writing them. `r10` is always live.
fn compute_liveness(cfg: &mut Cfg) {
    let len = cfg.code.len();
    // Each instruction's uses, definitions and successors, decoded once: the fixpoint below
    // visits every instruction at least twice.
    let facts: Vec<Option<(u16, u16, usize, usize)>> = cfg
        .code
        .iter()
        .enumerate()
        .map(|(pc, insn)| {
            let insn = insn.as_ref()?;
            let (fall, jump) = successors(pc, insn);
            let fall = match fall {
                Some(n) if n < len && !matches!(insn.kind(), Kind::Exit) => n,
                _ => usize::MAX,
            };
            let jump = jump
                .filter(|&t| (t as usize) < len)
                .map_or(usize::MAX, |t| t as usize);
            let (uses, defs) = uses_defs(insn);
            Some((uses, defs, fall, jump))
        })
        .collect();
    let mut live = vec![0u16; len];
    let mut changed = true;
    while changed {
        changed = false;
        for pc in (0..len).rev() {
            let Some((uses, defs, fall, jump)) = facts[pc] else {
                continue;
            };
            let mut out = 0u16;
            if fall != usize::MAX {
                out |= live[fall];
            }
            if jump != usize::MAX {
                out |= live[jump];
            }
            let inn = uses | (out & !defs) | 1 << 10;
            if inn != live[pc] {
                live[pc] = inn;
                changed = true;
            }
        }
    }
    cfg.live_in = live;
}

//! Kfunc calls (`check_kfunc_call`, `check_kfunc_args`): arguments checked against the kernel
//! function's BTF prototype, references acquired and released as its `KF_*` flags say. Only
//! what bpfkit-uapi's kfunc table and [`KfuncType`] describe is accepted; the rest is refused
//! as not modelled.

use bpfkit_uapi::KfuncFlags;

use super::call::MAX_VAR_SIZ;
use super::mem::Access;
use super::{Checker, Next, R};
use crate::msg::Message;
use crate::program::{Kfunc, KfuncType};
use crate::reg::{Reg, RegFlags, RegKind};
use crate::state::{RefState, State};

impl Checker<'_> {
    /// A call of a kernel function (`BPF_PSEUDO_KFUNC_CALL`).
    pub(crate) fn check_kfunc_call(&mut self, state: &mut State, pc: usize) -> R<Next> {
        let kfunc = match self.prog.kfuncs.iter().find(|(slot, _)| *slot == pc) {
            Some((_, Ok(k))) => k.clone(),
            Some((_, Err(why))) => return Err(Message::Unsupported(why.clone()).into()),
            None => {
                return Err(Message::Unsupported(
                    "a kernel function call whose function is not named (no kfunc reference)"
                        .into(),
                )
                .into());
            }
        };
        if state.active_lock.is_some() {
            return Err(Message::Other(
                "function calls are not allowed while holding a lock".into(),
            )
            .into());
        }
        if !self.prog.gpl {
            return Err(Message::Other(
                "cannot call kernel function from non-GPL compatible program".into(),
            )
            .into());
        }
        if !kfunc.info.prog_types.contains(self.prog.prog_type) {
            return Err(Message::Other(format!(
                "calling kernel function {} is not allowed",
                kfunc.name
            ))
            .into());
        }
        let released = self.check_kfunc_args(state, &kfunc)?;
        if let Some(id) = released {
            self.release_reference(state, id).map_err(|_| {
                Message::Other(format!(
                    "release kernel function {} expects refcounted PTR_TO_BTF_ID",
                    kfunc.name
                ))
            })?;
        }
        for r in 1..=5 {
            *state.reg_mut(r) = Reg::NOT_INIT;
        }
        let flags = kfunc.info.flags;
        let mut r0 = match &kfunc.ret {
            KfuncType::Void => Reg::NOT_INIT,
            KfuncType::Scalar => Reg::unknown(),
            KfuncType::Struct { id, .. } => Reg {
                aux: *id,
                ..Reg::pointer(RegKind::BtfId)
            },
            other => {
                return Err(Message::Unsupported(format!(
                    "kernel function {} returns {}, which is not modelled yet",
                    kfunc.name,
                    describe(other)
                ))
                .into());
            }
        };
        if r0.kind == RegKind::BtfId {
            if flags.contains(KfuncFlags::RET_NULL) {
                r0.flags = RegFlags::MAYBE_NULL;
                r0.id = self.new_id();
            }
            if flags.contains(KfuncFlags::ACQUIRE) {
                // A referenced pointer is trusted (`is_trusted_reg`).
                let rid = self.new_id();
                state.refs.push(RefState { id: rid, insn: pc });
                // The null check releases it on the NULL branch when id == ref_obj_id.
                r0.ref_obj_id = rid;
                r0.id = rid;
                r0.flags = RegFlags(r0.flags.0 | RegFlags::TRUSTED.0);
            }
        }
        *state.reg_mut(0) = r0;
        Ok(Next::Goto(pc + 1))
    }

    /// Checks each argument against the prototype; the reference a release function releases.
    fn check_kfunc_args(&mut self, state: &mut State, kfunc: &Kfunc) -> R<Option<u32>> {
        let flags = kfunc.info.flags;
        let mut released = None;
        let mut i = 0;
        while i < kfunc.params.len() {
            let regno = (i + 1) as u8;
            if regno > 5 {
                return Err(Message::Other(format!(
                    "Function {} has {} > 5 args",
                    kfunc.name,
                    kfunc.params.len()
                ))
                .into());
            }
            self.check_reg_read(state, regno)?;
            let reg = *state.reg(regno as usize);
            match &kfunc.params[i] {
                KfuncType::Scalar => {
                    if !reg.is_scalar() {
                        return Err(Message::Other(format!("R{regno} is not a scalar")).into());
                    }
                }
                KfuncType::Ctx => {
                    if reg.kind != RegKind::Ctx {
                        return Err(Message::Other(format!(
                            "arg#{i} expected pointer to ctx, but got {}",
                            reg.type_str()
                        ))
                        .into());
                    }
                    super::mem::check_ptr_off(&reg, regno, false)?;
                }
                KfuncType::MemSized => {
                    // The memory and its `__sz` size, read and written (check_kfunc_mem_size_reg).
                    let size_regno = regno + 1;
                    self.check_reg_read(state, size_regno)?;
                    let size = *state.reg(size_regno as usize);
                    let bad = || {
                        Message::Other(format!(
                            "arg#{i} arg#{} memory, len pair leads to invalid memory access",
                            i + 1
                        ))
                    };
                    if reg.kind == RegKind::BtfId || reg.maybe_null() {
                        return Err(Message::Unsupported(format!(
                            "arg#{i} of {}: a kernel or nullable pointer as sized memory is not modelled yet",
                            kfunc.name
                        ))
                        .into());
                    }
                    if !size.is_scalar() || size.s.smin < 0 || size.s.umax >= MAX_VAR_SIZ {
                        return Err(bad().into());
                    }
                    let n = size.s.umax as i64;
                    self.helper_mem(state, regno, n, Access::Read, true, true)
                        .map_err(|_| bad())?;
                    self.helper_mem(state, regno, n, Access::Write, true, true)
                        .map_err(|_| bad())?;
                    i += 2;
                    continue;
                }
                KfuncType::Struct { id, name } => {
                    self.check_kfunc_struct_arg(kfunc, i, &reg, *id, name)?;
                    if flags.contains(KfuncFlags::RELEASE) && released.is_none() {
                        released = Some(reg.ref_obj_id);
                    }
                }
                other => {
                    return Err(Message::Unsupported(format!(
                        "arg#{i} of kernel function {} is {}, which is not modelled yet",
                        kfunc.name,
                        describe(other)
                    ))
                    .into());
                }
            }
            i += 1;
        }
        Ok(released)
    }

    /// A pointer to kernel struct `name` (`KF_ARG_PTR_TO_BTF_ID`): a BTF pointer of exactly
    /// that struct, at offset 0, not NULL; trusted (or referenced) where the flags ask.
    fn check_kfunc_struct_arg(
        &self,
        kfunc: &Kfunc,
        i: usize,
        reg: &Reg,
        id: u32,
        name: &str,
    ) -> R<()> {
        let flags = kfunc.info.flags;
        let regno = i + 1;
        if reg.kind != RegKind::BtfId {
            return Err(Message::Other(format!(
                "arg#{i} pointer type STRUCT {name} must point to scalar, or struct with scalar"
            ))
            .into());
        }
        if reg.maybe_null() {
            return Err(
                Message::Other(format!("Possibly NULL pointer passed to trusted arg{i}")).into(),
            );
        }
        if reg.aux != id {
            return Err(Message::Unsupported(format!(
                "arg#{i} of {}: a BTF pointer of another struct than {name} (the kernel may accept a first member) is not modelled yet",
                kfunc.name
            ))
            .into());
        }
        if reg.off != 0 || !reg.var_off_is_zero() {
            return Err(Message::Other(format!(
                "R{regno} must have zero offset when passed to release func or trusted arg to kfunc"
            ))
            .into());
        }
        let trusted = reg.flags.has(RegFlags::TRUSTED) || reg.ref_obj_id != 0;
        if flags.contains(KfuncFlags::RELEASE) && reg.ref_obj_id == 0 {
            return Err(Message::Other(format!(
                "release kernel function {} expects refcounted PTR_TO_BTF_ID",
                kfunc.name
            ))
            .into());
        }
        let wants_trusted = flags.contains(KfuncFlags::TRUSTED_ARGS)
            || flags.contains(KfuncFlags::RCU)
            || flags.contains(KfuncFlags::RELEASE);
        if wants_trusted && !trusted {
            return Err(Message::Other(format!("R{regno} must be referenced or trusted")).into());
        }
        Ok(())
    }
}

fn describe(t: &KfuncType) -> String {
    match t {
        KfuncType::Void => "void".into(),
        KfuncType::Scalar => "a scalar".into(),
        KfuncType::Ctx => "the context".into(),
        KfuncType::MemSized => "sized memory".into(),
        KfuncType::Struct { name, .. } => format!("a pointer to struct {name}"),
        KfuncType::Other(what) => what.clone(),
    }
}

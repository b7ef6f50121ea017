//! Binding a program image's symbolic references to the running kernel, as libbpf's
//! `bpf_object__resolve_externs` and `bpf_object__relocate_data` do.
//!
//! Maps stay `lddw map_idx(N)`/`map_idx_value(N, OFF)`: the program is loaded with the
//! object's map file descriptors as its `fd_array`, slot for slot (kernel 5.14+), so the
//! instructions the kernel verifies are the image's, as the VM and the JIT run them. Externs
//! are written in: a typed `__ksym` becomes `lddw btf_id(ID, MODULE_BTF_FD)`, a typeless one its
//! address from `/proc/kallsyms`, a kfunc call `call kfunc(ID)` with `off` the index of its
//! module's BTF object in the same `fd_array` (0 for vmlinux). A `__weak` extern the kernel
//! lacks becomes 0, and a call of it `call kfunc(0)`, which the verifier accepts only on a dead
//! branch.

use std::collections::HashMap;
use std::os::fd::{AsRawFd, RawFd};

use bpfkit_btf::Kind;
use bpfkit_isa::{Insn, Opcode};
use bpfkit_relo::{ExternSpecKind, ObjectImage, ProgramImage, RefTarget};
use bpfkit_uapi::{AttachType, ProgType, ProgramSection};

use crate::error::LoadError;
use crate::kernel_btf::{KernelBtf, kallsyms};

/// What an extern is bound to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Binding {
    /// Nothing: a `.kconfig` value (in its map), or a `__weak` extern the kernel lacks.
    None,
    /// A kernel variable or function by BTF id, in vmlinux or a module.
    Btf {
        /// The type id.
        id: u32,
        /// The module, `None` for vmlinux.
        module: Option<String>,
    },
    /// A kernel variable by address.
    Address(u64),
}

/// Resolves every `__ksym` extern of `object` against the kernel.
pub(crate) fn resolve_externs(
    object: &ObjectImage,
    kernel: &mut Option<KernelBtf>,
) -> Result<Vec<Binding>, LoadError> {
    let typeless: Vec<&str> = object
        .externs
        .iter()
        .filter(|e| e.kind == ExternSpecKind::Ksym { typed: false })
        .map(|e| e.name.as_str())
        .collect();
    let addresses = if typeless.is_empty() {
        HashMap::new()
    } else {
        kallsyms(&typeless)?
    };
    let mut out = Vec::with_capacity(object.externs.len());
    for ext in &object.externs {
        let kind = match ext.kind {
            ExternSpecKind::Kconfig { .. } => {
                out.push(Binding::None);
                continue;
            }
            ExternSpecKind::Ksym { typed: false } => {
                match addresses.get(&ext.name) {
                    Some(&addr) => out.push(Binding::Address(addr)),
                    None if ext.weak => out.push(Binding::None),
                    None => {
                        return Err(LoadError::Extern {
                            name: ext.name.clone(),
                            reason: "(strong): not resolved: not in /proc/kallsyms".into(),
                        });
                    }
                }
                continue;
            }
            ExternSpecKind::Ksym { typed: true } => Kind::Var,
            ExternSpecKind::Kfunc => Kind::Func,
        };
        let kernel = kernel_btf(kernel)?;
        match kernel.find(&ext.name, kind)? {
            Some(found) => out.push(Binding::Btf {
                id: found.id.0,
                module: found.module,
            }),
            None if ext.weak => out.push(Binding::None),
            None => {
                return Err(LoadError::Extern {
                    name: ext.name.clone(),
                    reason: format!(
                        "not found in the kernel's BTF (no {} of that name in vmlinux or a module)",
                        if kind == Kind::Var { "VAR" } else { "FUNC" }
                    ),
                });
            }
        }
    }
    Ok(out)
}

/// The kernel's BTF, read on first use.
pub(crate) fn kernel_btf(kernel: &mut Option<KernelBtf>) -> Result<&mut KernelBtf, LoadError> {
    if kernel.is_none() {
        *kernel = Some(KernelBtf::running()?);
    }
    Ok(kernel.as_mut().expect("set above"))
}

/// The `fd_array` of a program load: the object's maps slot for slot, then the BTF objects of
/// the modules whose kfuncs the object calls (never at index 0, which means vmlinux).
pub(crate) struct FdArray {
    pub fds: Vec<RawFd>,
    pub modules: HashMap<String, i16>,
}

impl FdArray {
    pub(crate) fn new(
        map_fds: Vec<RawFd>,
        bindings: &[Binding],
        object: &ObjectImage,
        kernel: &mut Option<KernelBtf>,
    ) -> Result<FdArray, LoadError> {
        let mut fds = map_fds;
        let mut modules = HashMap::new();
        for (ext, binding) in object.externs.iter().zip(bindings) {
            let Binding::Btf {
                module: Some(module),
                ..
            } = binding
            else {
                continue;
            };
            if ext.kind != ExternSpecKind::Kfunc || modules.contains_key(module) {
                continue;
            }
            if fds.is_empty() {
                fds.push(-1);
            }
            let index = i16::try_from(fds.len()).map_err(|_| LoadError::Extern {
                name: ext.name.clone(),
                reason: "module BTF index does not fit an instruction's offset".into(),
            })?;
            let fd = kernel_btf(kernel)?.module_object(module)?.as_raw_fd();
            fds.push(fd);
            modules.insert(module.clone(), index);
        }
        Ok(FdArray { fds, modules })
    }
}

/// The image's instructions with its externs written in.
pub(crate) fn bind_insns(
    image: &ProgramImage,
    bindings: &[Binding],
    fd_array: &FdArray,
    kernel: &mut Option<KernelBtf>,
) -> Result<Vec<Insn>, LoadError> {
    let mut insns = image.insns.clone();
    let index_of: HashMap<usize, usize> = image
        .slots()
        .enumerate()
        .map(|(i, (slot, _))| (slot, i))
        .collect();
    for r in &image.refs {
        let (e, call) = match r.target {
            RefTarget::Ksym(e) => (e, false),
            RefTarget::Kfunc(e) => (e, true),
            RefTarget::Map(_) | RefTarget::MapValue { .. } => continue,
        };
        let Some(&i) = index_of.get(&r.insn) else {
            continue;
        };
        let binding = bindings.get(e.0).cloned().unwrap_or(Binding::None);
        let insn = &mut insns[i];
        let dst = insn.dst;
        *insn = match (call, binding) {
            (true, Binding::Btf { id, module }) => {
                let mut call = Insn::new(Opcode::CallKfunc).with_imm(id as i32);
                call.off = module.map_or(0, |m| fd_array.modules.get(&m).copied().unwrap_or(0));
                call
            }
            (true, _) => Insn::new(Opcode::CallKfunc),
            (false, Binding::Btf { id, module }) => {
                let mut lddw = Insn::new(Opcode::LdBtfId).with_dst(dst).with_imm(id as i32);
                if let Some(module) = module {
                    lddw.next_imm = kernel_btf(kernel)?.module_object(&module)?.as_raw_fd();
                }
                lddw
            }
            (false, Binding::Address(addr)) => {
                let mut lddw = Insn::new(Opcode::LdImm64)
                    .with_dst(dst)
                    .with_imm(addr as i32);
                lddw.next_imm = (addr >> 32) as i32;
                lddw
            }
            (false, Binding::None) => Insn::new(Opcode::LdImm64).with_dst(dst),
        };
    }
    Ok(insns)
}

/// The kernel type a program's section names as its BTF attach target (fentry/fexit,
/// fmod_ret, tp_btf, lsm, iter), as libbpf's `find_attach_btf_id` spells it: the target with
/// `btf_trace_` (a TYPEDEF), `bpf_lsm_` or `bpf_iter_` in front, or as is (a FUNC).
pub(crate) fn attach_btf_name(image: &ProgramImage) -> Result<Option<(Kind, String)>, LoadError> {
    let Ok(section) = image.section.parse::<ProgramSection>() else {
        return Ok(None);
    };
    if !section.requires_btf_target() {
        return Ok(None);
    }
    let fail = |target: &str, reason: &str| LoadError::AttachTarget {
        program: image.name.clone(),
        target: target.to_string(),
        reason: reason.to_string(),
    };
    if image.prog_type == ProgType::EXT {
        return Err(fail(
            image.attach_target.as_deref().unwrap_or(""),
            "is a BPF program's function: freplace needs the target program, which this loader does not take yet",
        ));
    }
    let Some(target) = image.attach_target.as_deref() else {
        return Err(fail(
            "",
            "is missing: the section names no function or type",
        ));
    };
    let (prefix, kind) = match image.expected_attach_type {
        Some(AttachType::TRACE_RAW_TP) => ("btf_trace_", Kind::Typedef),
        Some(AttachType::LSM_MAC | AttachType::LSM_CGROUP) => ("bpf_lsm_", Kind::Func),
        Some(AttachType::TRACE_ITER) => ("bpf_iter_", Kind::Func),
        _ => ("", Kind::Func),
    };
    Ok(Some((kind, format!("{prefix}{target}"))))
}

/// The BTF attach target of a program whose section names one: its type id and module.
pub(crate) fn attach_target(
    image: &ProgramImage,
    kernel: &mut Option<KernelBtf>,
) -> Result<Option<(u32, Option<String>)>, LoadError> {
    let Some((kind, name)) = attach_btf_name(image)? else {
        return Ok(None);
    };
    match kernel_btf(kernel)?.find(&name, kind)? {
        Some(found) => Ok(Some((found.id.0, found.module))),
        None => Err(LoadError::AttachTarget {
            program: image.name.clone(),
            target: image.attach_target.clone().unwrap_or_default(),
            reason: format!("is not in the kernel's BTF (no {kind:?} '{name}')"),
        }),
    }
}

/// Every kernel type the object's externs and `images`' attach targets name, to look up in
/// one pass.
pub(crate) fn wanted_names(object: &ObjectImage, images: &[ProgramImage]) -> Vec<(Kind, String)> {
    let mut wanted: Vec<(Kind, String)> = object
        .externs
        .iter()
        .filter_map(|e| match e.kind {
            ExternSpecKind::Ksym { typed: true } => Some((Kind::Var, e.name.clone())),
            ExternSpecKind::Kfunc => Some((Kind::Func, e.name.clone())),
            _ => None,
        })
        .collect();
    wanted.extend(
        images
            .iter()
            .filter_map(|i| attach_btf_name(i).ok().flatten()),
    );
    wanted
}

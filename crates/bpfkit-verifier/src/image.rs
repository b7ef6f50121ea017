//! Verifying a linked [`ProgramImage`] (what `bpfkit-relo` makes of an object's program): its
//! map table, global functions and source lines become the verifier's [`Program`] inputs.

use bpfkit_btf::{Btf, Kind, TypeId};
use bpfkit_relo::{ExternSpecKind, MapSpec, ProgramImage, RefTarget};
use bpfkit_uapi::{AttachType, ProgFlags, ProgType, ctx_layout, kfunc_info};

use crate::program::{FuncInfo, GlobalArg, Kfunc, KfuncType, Ksym, LineInfo, MapInfo, Program};
use crate::{Options, Verdict, verify_with};

/// The verifier's inputs derived from an image, owned so a [`Program`] can borrow them.
#[derive(Clone, Debug)]
pub struct ImageInputs {
    /// The image's map table.
    pub maps: Vec<MapInfo>,
    /// Its functions, with global functions' argument kinds from BTF.
    pub funcs: Vec<FuncInfo>,
    /// Its source lines.
    pub lines: Vec<LineInfo>,
    /// Slots of instructions that refer to kernel symbols (`__ksym`), which need kernel BTF.
    pub ksyms: Vec<usize>,
}

/// Derives the verifier's inputs from `image`.
pub fn image_inputs(image: &ProgramImage) -> ImageInputs {
    inputs(image, true)
}

/// The inputs, with the source lines only when `with_lines` ([`verify_image`] looks up the one
/// line a rejection needs afterwards instead of copying them all).
fn inputs(image: &ProgramImage, with_lines: bool) -> ImageInputs {
    let btf_bytes = image.object.btf.as_deref();
    let btf = btf_bytes.and_then(|b| Btf::parse(b).ok());
    let maps = image
        .object
        .maps
        .iter()
        .map(|m| map_info(m, btf.as_ref()))
        .collect();
    let funcs = image
        .functions
        .iter()
        .map(|f| {
            let type_id = image
                .func_info
                .iter()
                .find(|fi| fi.insn == f.start)
                .map(|fi| fi.type_id);
            let (args, returns_void) = match (f.global, &btf, type_id) {
                (true, Some(btf), Some(id)) => global_args(btf, id),
                _ => (Vec::new(), false),
            };
            FuncInfo {
                insn: f.start,
                name: f.name.clone(),
                // Without BTF func_info the kernel knows no linkage: every function is static.
                global: f.global && type_id.is_some(),
                args,
                returns_void,
            }
        })
        .collect();
    let lines = if with_lines {
        image.line_info.iter().map(line_info).collect()
    } else {
        Vec::new()
    };
    let ksyms = image
        .refs
        .iter()
        .filter(|r| matches!(r.target, RefTarget::Ksym(_)))
        .map(|r| r.insn)
        .collect();
    ImageInputs {
        maps,
        funcs,
        lines,
        ksyms,
    }
}

fn line_info(l: &bpfkit_relo::LineInfo) -> LineInfo {
    LineInfo {
        insn: l.insn,
        file: l.file.clone(),
        line: l.line,
        col: l.column,
        text: l.text.clone(),
    }
}

/// Verifies `image` as a `prog_type` program (its section's type when `None`). `kernel_btf`
/// (the target kernel's BTF, e.g. `/sys/kernel/btf/vmlinux`) describes the attach targets of
/// BTF-typed tracing programs.
pub fn verify_image(
    image: &ProgramImage,
    prog_type: Option<ProgType>,
    kernel_btf: Option<&Btf<'_>>,
    opts: Options,
) -> Verdict {
    let inputs = inputs(image, false);
    let prog_type = prog_type.unwrap_or(image.prog_type);
    let attach = image.expected_attach_type.unwrap_or(AttachType(0));
    let tracing = match (kernel_btf, image.attach_target.as_deref()) {
        (Some(btf), Some(target)) => tracing_arg_types(btf, attach, target),
        _ => None,
    };
    let tracing_args = tracing.as_ref().map(|slots| slots.len() as u32);
    let tracing_ptr_args: Vec<(u32, u32)> = tracing
        .iter()
        .flatten()
        .enumerate()
        .filter_map(|(slot, s)| s.map(|id| (slot as u32, id)))
        .collect();
    let mut ksyms = Vec::new();
    let mut kfuncs = Vec::new();
    for r in &image.refs {
        let (RefTarget::Ksym(e) | RefTarget::Kfunc(e)) = r.target else {
            continue;
        };
        let Some(ext) = image.object.externs.get(e.0) else {
            continue;
        };
        let in_kernel = kernel_btf.and_then(|btf| btf.find_indexed(&ext.name, Kind::Func));
        match r.target {
            RefTarget::Ksym(_) => ksyms.push((
                r.insn,
                match (ext.kind, in_kernel, kernel_btf) {
                    (ExternSpecKind::Kfunc, Some(_), _) => Ksym::Func,
                    (ExternSpecKind::Kfunc, None, Some(_)) if ext.weak => Ksym::MissingWeak,
                    _ => Ksym::Var,
                },
            )),
            _ => kfuncs.push((
                r.insn,
                match (kernel_btf, in_kernel) {
                    (Some(btf), Some(func)) => kfunc(btf, func, &ext.name, prog_type),
                    (Some(_), None) => Err(format!(
                        "kernel function '{}' is not in the kernel's BTF (vmlinux); kfuncs of modules are not modelled yet",
                        ext.name
                    )),
                    (None, _) => Err(format!(
                        "the call of kernel function '{}' needs the kernel's BTF",
                        ext.name
                    )),
                },
            )),
        }
    }
    let program = Program {
        insns: &image.insns,
        prog_type,
        attach_type: image.expected_attach_type.unwrap_or(AttachType(0)),
        maps: &inputs.maps,
        funcs: &inputs.funcs,
        lines: &inputs.lines,
        btf_func_info: !image.func_info.is_empty(),
        ksyms: &ksyms,
        kfuncs: &kfuncs,
        tracing_ptr_args: &tracing_ptr_args,
        tracing_args,
        gpl: gpl_compatible(&image.object.license),
        sleepable: image.prog_flags.contains(ProgFlags::SLEEPABLE),
    };
    let mut verdict = verify_with(&program, opts);
    if let Some(e) = &mut verdict.error {
        // The source line of the instruction at fault, as `Diagnostic::new` picks it.
        e.line = image
            .line_info
            .iter()
            .filter(|l| l.insn <= e.pc)
            .max_by_key(|l| l.insn)
            .map(line_info);
    }
    verdict
}

/// The u64 context slots a BTF-typed tracing program attached to `target` may read, each with
/// the kernel struct it points to when it is a pointer to one (`btf_ctx_access`).
fn tracing_arg_types(btf: &Btf<'_>, attach: AttachType, target: &str) -> Option<Vec<Option<u32>>> {
    let slots = |proto: TypeId, skip: usize, with_ret: bool| -> Option<Vec<Option<u32>>> {
        let t = btf.type_by_id(btf.resolve(proto).ok()?).ok()?;
        if t.kind() != Kind::FuncProto {
            return None;
        }
        let mut out: Vec<Option<u32>> = t
            .params()
            .skip(skip)
            .map(|p| struct_pointee(btf, p.type_id()).map(|(id, _)| id))
            .collect();
        if with_ret {
            out.push(
                t.ref_type()
                    .and_then(|r| struct_pointee(btf, r))
                    .map(|(id, _)| id),
            );
        }
        Some(out)
    };
    match attach {
        AttachType::TRACE_RAW_TP => {
            // tp_btf/X: `typedef void (*btf_trace_X)(void *__data, args...)`.
            let td = btf.find_indexed(&format!("btf_trace_{target}"), Kind::Typedef)?;
            let ptr = btf.type_by_id(td).ok()?.ref_type()?;
            let proto = btf.type_by_id(btf.resolve(ptr).ok()?).ok()?.ref_type()?;
            slots(proto, 1, false)
        }
        AttachType::TRACE_FENTRY
        | AttachType::TRACE_FEXIT
        | AttachType::MODIFY_RETURN
        | AttachType::LSM_MAC => {
            let name = if attach == AttachType::LSM_MAC {
                format!("bpf_lsm_{target}")
            } else {
                target.to_string()
            };
            let func = btf.find_indexed(&name, Kind::Func)?;
            // fexit and fmod_ret also see the return value after the arguments.
            slots(
                btf.type_by_id(func).ok()?.ref_type()?,
                0,
                attach != AttachType::TRACE_FENTRY,
            )
        }
        _ => None,
    }
}

/// The struct `ty` points to (through modifiers and typedefs), with its name.
fn struct_pointee(btf: &Btf<'_>, ty: TypeId) -> Option<(u32, String)> {
    let t = btf.type_by_id(btf.resolve(ty).ok()?).ok()?;
    if t.kind() != Kind::Ptr {
        return None;
    }
    let target = btf.resolve(t.ref_type()?).ok()?;
    let s = btf.type_by_id(target).ok()?;
    (s.kind() == Kind::Struct).then(|| {
        (
            target.0,
            String::from_utf8_lossy(s.name_bytes()).into_owned(),
        )
    })
}

/// Kernel function `func` (a `FUNC` of the kernel's BTF) as the verifier checks its calls.
fn kfunc(btf: &Btf<'_>, func: TypeId, name: &str, prog_type: ProgType) -> Result<Kfunc, String> {
    let Some(info) = kfunc_info(name) else {
        return Err(format!(
            "kernel function '{name}' is not in bpfkit's kfunc table yet (its flags are not in BTF)"
        ));
    };
    let proto = btf
        .type_by_id(func)
        .ok()
        .and_then(|f| f.ref_type())
        .and_then(|p| btf.type_by_id(p).ok())
        .filter(|p| p.kind() == Kind::FuncProto)
        .ok_or_else(|| format!("kernel function '{name}' has no prototype in the kernel's BTF"))?;
    let ctx_name = ctx_layout(prog_type).map(|l| l.name);
    let params: Vec<_> = proto.params().collect();
    let mut types = Vec::new();
    for (i, p) in params.iter().enumerate() {
        let next_is_size = params
            .get(i + 1)
            .is_some_and(|n| n.name_bytes().ends_with(b"__sz"));
        types.push(kfunc_type(btf, p.type_id(), ctx_name, next_is_size));
    }
    let ret = match proto.ref_type() {
        None | Some(TypeId(0)) => KfuncType::Void,
        Some(r) => kfunc_type(btf, r, None, false),
    };
    Ok(Kfunc {
        name: name.to_string(),
        info: *info,
        params: types,
        ret,
    })
}

/// One kfunc parameter or return type.
fn kfunc_type(btf: &Btf<'_>, ty: TypeId, ctx_name: Option<&str>, sized: bool) -> KfuncType {
    let Some(t) = btf.resolve(ty).ok().and_then(|id| btf.type_by_id(id).ok()) else {
        return KfuncType::Other(format!("type {}", ty.0));
    };
    match t.kind() {
        Kind::Int | Kind::Enum | Kind::Enum64 => KfuncType::Scalar,
        Kind::Ptr => match struct_pointee(btf, ty) {
            Some((_, n)) if ctx_name == Some(n.as_str()) => KfuncType::Ctx,
            _ if sized => KfuncType::MemSized,
            Some((id, name)) => KfuncType::Struct { id, name },
            None => KfuncType::Other("a pointer to something other than a struct".into()),
        },
        other => KfuncType::Other(format!("a {}", other.name())),
    }
}

/// The kernel's `license_is_gpl_compatible`.
pub fn gpl_compatible(license: &str) -> bool {
    matches!(
        license,
        "GPL"
            | "GPL v2"
            | "GPL and additional rights"
            | "Dual BSD/GPL"
            | "Dual MIT/GPL"
            | "Dual MPL/GPL"
    )
}

fn map_info(m: &MapSpec, btf: Option<&Btf<'_>>) -> MapInfo {
    let mut info = MapInfo::new(
        m.def.map_type,
        m.def.key_size,
        m.def.value_size,
        m.def.max_entries,
    );
    info.flags = m.def.map_flags;
    info.name = m.name.clone();
    if m.frozen && !m.data.is_empty() {
        info.rodata = Some(m.data.clone());
    }
    if let (Some(btf), Some(value)) = (btf, m.types.value) {
        info.spin_lock_off = find_struct_member(btf, value, "bpf_spin_lock", 0);
    }
    if let Some(inner) = &m.inner {
        let mut i = MapInfo::new(
            inner.def.map_type,
            inner.def.key_size,
            inner.def.value_size,
            inner.def.max_entries,
        );
        i.flags = inner.def.map_flags;
        info.inner = Some(Box::new(i));
    }
    info
}

/// The byte offset of a member of struct type `name` directly in `id` (one level deep).
fn find_struct_member(btf: &Btf<'_>, id: TypeId, name: &str, base: u32) -> Option<u32> {
    let id = btf.resolve(id).ok()?;
    let t = btf.type_by_id(id).ok()?;
    if !matches!(t.kind(), Kind::Struct | Kind::Union) {
        return None;
    }
    for m in t.members() {
        let off = base + (btf.member_bit_offset(&m).ok()? / 8) as u32;
        let mt = btf.resolve(m.type_id()).ok()?;
        let mty = btf.type_by_id(mt).ok()?;
        if mty.kind() == Kind::Struct && mty.name_bytes() == name.as_bytes() {
            return Some(off);
        }
    }
    None
}

/// The argument kinds of global function `func` (a BTF `FUNC`), and whether it returns void.
fn global_args(btf: &Btf<'_>, func: TypeId) -> (Vec<GlobalArg>, bool) {
    let Ok(f) = btf.type_by_id(func) else {
        return (Vec::new(), false);
    };
    let Some(proto_id) = f.ref_type() else {
        return (Vec::new(), false);
    };
    let Ok(proto) = btf.type_by_id(proto_id) else {
        return (Vec::new(), false);
    };
    let returns_void = proto.ref_type().is_none_or(|r| r.0 == 0);
    let args = proto
        .params()
        .map(|p| {
            let Ok(id) = btf.resolve(p.type_id()) else {
                return GlobalArg::Scalar;
            };
            let Ok(t) = btf.type_by_id(id) else {
                return GlobalArg::Scalar;
            };
            if t.kind() != Kind::Ptr {
                return GlobalArg::Scalar;
            }
            let target = t.ref_type().and_then(|r| btf.resolve(r).ok());
            let Some(target) = target else {
                return GlobalArg::Mem {
                    size: 0,
                    nullable: false,
                };
            };
            let name = btf
                .type_by_id(target)
                .ok()
                .map(|t| t.name_bytes().to_vec())
                .unwrap_or_default();
            let ctx_names: [&[u8]; 7] = [
                b"__sk_buff",
                b"xdp_md",
                b"pt_regs",
                b"bpf_sock_addr",
                b"bpf_perf_event_data",
                b"bpf_raw_tracepoint_args",
                b"bpf_sock_ops",
            ];
            if ctx_names.contains(&name.as_slice()) {
                return GlobalArg::Ctx;
            }
            let size = btf.size_of(target).unwrap_or(0) as u32;
            // btf_prepare_func_args: a pointer to sized memory may be NULL (PTR_TO_MEM |
            // PTR_MAYBE_NULL) unless tagged `__arg_nonnull`, which is not read here: the function
            // must check it, or be rejected as the kernel rejects it.
            GlobalArg::Mem {
                size,
                nullable: true,
            }
        })
        .collect();
    (args, returns_void)
}

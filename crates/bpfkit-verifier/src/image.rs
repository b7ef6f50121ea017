//! Verifying a linked [`ProgramImage`] (what `bpfkit-relo` makes of an object's program): its
//! map table, global functions and source lines become the verifier's [`Program`] inputs.

use bpfkit_btf::{Btf, Kind, TypeId};
use bpfkit_relo::{MapSpec, ProgramImage, RefTarget};
use bpfkit_uapi::{AttachType, ProgFlags, ProgType};

use crate::program::{FuncInfo, GlobalArg, LineInfo, MapInfo, Program};
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
    let attach = image.expected_attach_type.unwrap_or(AttachType(0));
    let tracing_args = match (kernel_btf, image.attach_target.as_deref()) {
        (Some(btf), Some(target)) => tracing_arg_count(btf, attach, target),
        _ => None,
    };
    let program = Program {
        insns: &image.insns,
        prog_type: prog_type.unwrap_or(image.prog_type),
        attach_type: image.expected_attach_type.unwrap_or(AttachType(0)),
        maps: &inputs.maps,
        funcs: &inputs.funcs,
        lines: &inputs.lines,
        btf_func_info: !image.func_info.is_empty(),
        ksyms: &inputs.ksyms,
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

/// The number of u64 context slots a BTF-typed tracing program attached to `target` may read.
fn tracing_arg_count(btf: &Btf<'_>, attach: AttachType, target: &str) -> Option<u32> {
    let params = |proto: TypeId| -> Option<u32> {
        let t = btf.type_by_id(btf.resolve(proto).ok()?).ok()?;
        (t.kind() == Kind::FuncProto).then(|| t.params().count() as u32)
    };
    match attach {
        AttachType::TRACE_RAW_TP => {
            // tp_btf/X: `typedef void (*btf_trace_X)(void *__data, args...)`.
            let td = btf.find_by_name_kind(&format!("btf_trace_{target}"), Kind::Typedef)?;
            let ptr = btf.type_by_id(td).ok()?.ref_type()?;
            let proto = btf.type_by_id(btf.resolve(ptr).ok()?).ok()?.ref_type()?;
            params(proto).map(|n| n.saturating_sub(1))
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
            let func = btf.find_by_name_kind(&name, Kind::Func)?;
            let n = params(btf.type_by_id(func).ok()?.ref_type()?)?;
            // fexit and fmod_ret also see the return value after the arguments.
            Some(if attach == AttachType::TRACE_FENTRY {
                n
            } else {
                n + 1
            })
        }
        _ => None,
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

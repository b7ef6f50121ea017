//! What the running kernel supports, found by asking it, as libbpf's `libbpf_probes.c` and
//! its kernel feature detection do: a minimal program of each type, a minimal map of each type,
//! a call of each helper from each program type, and a tiny BTF blob of each kind.
//!
//! ```
//! use bpfkit_loader::features;
//! use bpfkit_sys::ProgType;
//!
//! if bpfkit_sys::probe().is_ok() {
//!     assert!(features::prog_type(ProgType::SOCKET_FILTER)?);
//!     assert!(features::btf().datasec);
//! }
//! # Ok::<(), bpfkit_sys::Error>(())
//! ```

use std::sync::OnceLock;

use bpfkit_btf::{BtfBuilder, IntEncoding, Linkage, VarSecinfo};
use bpfkit_isa::{Insn, Opcode, Reg};
use bpfkit_sys::{
    AttachType, BtfObject, Errno, Error, Map, MapBtf, MapCreate, MapDef, MapFlags, MapType,
    ProgFlags, ProgType, ProgramLoad,
};
use bpfkit_uapi::HelperId;

use crate::sanitize::BtfFeatures;

/// Whether the kernel loads a minimal program (`r0 = 0; exit`) of type `prog_type`.
///
/// Types that need an attach target at load (tracing, lsm, ext) are probed with a bogus one
/// and count as supported when the kernel complains about that target, as libbpf does.
pub fn prog_type(prog_type: ProgType) -> Result<bool, Error> {
    let insns = [
        Insn::new(Opcode::Mov64Imm).with_dst(Reg::R0),
        Insn::new(Opcode::Exit),
    ];
    probe_load(prog_type, &insns).map(|outcome| outcome.supported())
}

/// What a probe load gave.
enum Outcome {
    /// Loaded, or failed the way a supported type fails.
    Supported,
    /// Failed; the log, if any.
    Failed(String),
}

impl Outcome {
    fn supported(&self) -> bool {
        matches!(self, Outcome::Supported)
    }
}

fn probe_load(prog_type: ProgType, insns: &[Insn]) -> Result<Outcome, Error> {
    let mut load = ProgramLoad::new(prog_type, insns)
        .log_level(1)
        .log_size(4096);
    // (errno, log text) a supported type fails with, for types that cannot load bare.
    let mut expected: Option<(i32, &str)> = None;
    match prog_type {
        ProgType::CGROUP_SOCK_ADDR => {
            load = load.expected_attach_type(AttachType::CGROUP_INET4_CONNECT)
        }
        ProgType::CGROUP_SOCKOPT => load = load.expected_attach_type(AttachType::CGROUP_GETSOCKOPT),
        ProgType::SK_LOOKUP => load = load.expected_attach_type(AttachType::SK_LOOKUP),
        ProgType::LIRC_MODE2 => load = load.expected_attach_type(AttachType::LIRC_MODE2),
        ProgType::NETFILTER => load = load.expected_attach_type(AttachType::NETFILTER),
        ProgType::KPROBE => load = load.kern_version(kernel_version_code()),
        ProgType::TRACING | ProgType::LSM => {
            let attach = if prog_type == ProgType::TRACING {
                AttachType::TRACE_FENTRY
            } else {
                AttachType::MODIFY_RETURN
            };
            load = load.expected_attach_type(attach).attach_btf(1, None);
            expected = Some((libc::EINVAL, "attach_btf_id 1 is not a function"));
        }
        ProgType::EXT => {
            load = load.attach_btf(1, None);
            expected = Some((libc::EINVAL, "Cannot replace kernel functions"));
        }
        ProgType::SYSCALL => load = load.flags(ProgFlags::SLEEPABLE),
        ProgType::STRUCT_OPS => expected = Some((Errno::ENOTSUPP.0, "")),
        _ => {}
    }
    match load.load_with_log() {
        Ok(_) if expected.is_none() => Ok(Outcome::Supported),
        Ok(_) => Ok(Outcome::Failed(String::new())),
        Err(e) => {
            let log = match &e {
                Error::Verifier { log, .. } => log.clone(),
                _ => String::new(),
            };
            match (e.errno(), expected) {
                (Some(errno), Some((want, text))) if errno.0 == want && log.contains(text) => {
                    Ok(Outcome::Supported)
                }
                _ => Ok(Outcome::Failed(log)),
            }
        }
    }
}

/// The kernel version as `KERNEL_VERSION(a, b, c)`, from the release (kprobe programs of old
/// kernels had to name it).
pub fn kernel_version_code() -> u32 {
    std::fs::read_to_string("/proc/sys/kernel/osrelease")
        .ok()
        .and_then(|r| bpfkit_relo::kernel_version(r.trim()))
        .unwrap_or(0)
}

/// Whether the kernel creates a minimal map of type `map_type`.
pub fn map_type(map_type: MapType) -> Result<bool, Error> {
    let (mut key, mut value, mut entries) = (4u32, 4u32, 1u32);
    let mut flags = MapFlags::NONE;
    let mut btf = None;
    let mut expected_errno = None;
    let mut vmlinux_value_type = 0;
    match map_type {
        MapType::STACK_TRACE => value = 8,
        MapType::LPM_TRIE => {
            (key, value) = (8, 8);
            flags = MapFlags::NO_PREALLOC;
        }
        MapType::CGROUP_STORAGE | MapType::PERCPU_CGROUP_STORAGE => {
            // `struct bpf_cgroup_storage_key`: a u64 and a u32, padded to 16.
            (key, value, entries) = (16, 8, 0);
        }
        MapType::QUEUE | MapType::STACK => key = 0,
        MapType::SK_STORAGE
        | MapType::INODE_STORAGE
        | MapType::TASK_STORAGE
        | MapType::CGRP_STORAGE => {
            (value, entries) = (8, 0);
            flags = MapFlags::NO_PREALLOC;
            btf = Some(BtfObject::load(&local_storage_btf())?);
        }
        MapType::RINGBUF | MapType::USER_RINGBUF => {
            (key, value, entries) = (0, 0, bpfkit_sys::page_size() as u32);
        }
        MapType::STRUCT_OPS => {
            vmlinux_value_type = 1;
            expected_errno = Some(Errno::ENOTSUPP);
        }
        MapType::BLOOM_FILTER => key = 0,
        MapType::ARENA => {
            (key, value, entries) = (0, 0, 1);
            flags = MapFlags::MMAPABLE;
        }
        MapType::UNSPEC => return Ok(false),
        _ => {}
    }
    let inner = if matches!(map_type, MapType::ARRAY_OF_MAPS | MapType::HASH_OF_MAPS) {
        Some(Map::create(MapDef::new(MapType::HASH, 4, 4, 1))?)
    } else {
        None
    };
    let def = MapDef::new(map_type, key, value, entries).with_flags(flags);
    let mut create = MapCreate::new(def);
    create.btf_vmlinux_value_type_id = vmlinux_value_type;
    if let Some(inner) = &inner {
        create = create.with_inner_map(std::os::fd::AsFd::as_fd(inner));
    }
    if let Some(btf) = &btf {
        create = create.with_btf(MapBtf {
            btf: std::os::fd::AsFd::as_fd(btf),
            key_type_id: 1,
            value_type_id: 3,
        });
    }
    let result = Map::create(create);
    Ok(match expected_errno {
        Some(want) => result.err().and_then(|e| e.errno()) == Some(want),
        None => result.is_ok(),
    })
}

/// `struct bpf_spin_lock { int val; }; struct val { int cnt; struct bpf_spin_lock l; };`
fn local_storage_btf() -> Vec<u8> {
    let mut b = BtfBuilder::new();
    let int = b.add_int("", 4, IntEncoding::SIGNED);
    let lock = b.add_struct("bpf_spin_lock", 4, &[("val", int, 0)]);
    b.add_struct("val", 8, &[("cnt", int, 0), ("l", lock, 32)]);
    b.encode()
}

/// Whether a program of type `prog_type` may call helper `helper`: `None` when the program
/// type cannot be probed this way (tracing, ext, lsm, struct_ops need an attach target).
pub fn helper(prog_type: ProgType, helper: HelperId) -> Result<Option<bool>, Error> {
    if matches!(
        prog_type,
        ProgType::TRACING | ProgType::EXT | ProgType::LSM | ProgType::STRUCT_OPS
    ) {
        return Ok(None);
    }
    let insns = [
        Insn::new(Opcode::Call).with_imm(helper.0 as i32),
        Insn::new(Opcode::Exit),
    ];
    // The verifier names a helper it does not know, or one this type may not call; any other
    // complaint (about the arguments) means the call itself is allowed.
    Ok(Some(match probe_load(prog_type, &insns)? {
        Outcome::Supported => true,
        Outcome::Failed(log) => {
            !(log.contains("invalid func ")
                || log.contains("unknown func ")
                || log.contains("program of this type cannot use helper "))
        }
    }))
}

/// Which BTF kinds the kernel accepts, probed once per process.
pub fn btf() -> BtfFeatures {
    static FEATURES: OnceLock<BtfFeatures> = OnceLock::new();
    *FEATURES.get_or_init(|| BtfFeatures {
        func: btf_loads(btf_func(Linkage::Static)),
        func_global: btf_loads(btf_func(Linkage::Global)),
        datasec: btf_loads(btf_datasec()),
        float: btf_loads(btf_float()),
        decl_tag: btf_loads(btf_decl_tag()),
        type_tag: btf_loads(btf_type_tag()),
        enum64: btf_loads(btf_enum64()),
    })
}

/// Whether the kernel loads any BTF at all, probed once per process.
pub fn btf_supported() -> bool {
    static SUPPORTED: OnceLock<bool> = OnceLock::new();
    *SUPPORTED.get_or_init(|| {
        let mut b = BtfBuilder::new();
        b.add_int("int", 4, IntEncoding::SIGNED);
        btf_loads(b)
    })
}

fn btf_loads(b: BtfBuilder) -> bool {
    BtfObject::load(&b.encode()).is_ok()
}

/// `void x(int a) {}`, static or global.
fn btf_func(linkage: Linkage) -> BtfBuilder {
    let mut b = BtfBuilder::new();
    let int = b.add_int("int", 4, IntEncoding::SIGNED);
    let proto = b.add_func_proto(bpfkit_btf::TypeId(0), &[("a", int)]);
    b.add_func("x", proto, linkage);
    b
}

/// `static int a;` in `.data`.
fn btf_datasec() -> BtfBuilder {
    let mut b = BtfBuilder::new();
    let int = b.add_int("int", 4, IntEncoding::SIGNED);
    let var = b.add_var("a", int, Linkage::Static);
    b.add_datasec(
        ".data",
        4,
        &[VarSecinfo {
            type_id: var,
            offset: 0,
            size: 4,
        }],
    );
    b
}

fn btf_float() -> BtfBuilder {
    let mut b = BtfBuilder::new();
    b.add_float("float", 4);
    b
}

/// `static int a __attribute__((btf_decl_tag("tag")));`
fn btf_decl_tag() -> BtfBuilder {
    let mut b = BtfBuilder::new();
    let int = b.add_int("int", 4, IntEncoding::SIGNED);
    let var = b.add_var("a", int, Linkage::Static);
    b.add_decl_tag("tag", var, -1);
    b
}

/// `int __attribute__((btf_type_tag("tag"))) *p;`
fn btf_type_tag() -> BtfBuilder {
    let mut b = BtfBuilder::new();
    let int = b.add_int("int", 4, IntEncoding::SIGNED);
    let tag = b.add_type_tag("tag", int);
    b.add_ptr(tag);
    b
}

fn btf_enum64() -> BtfBuilder {
    let mut b = BtfBuilder::new();
    b.add_enum64("e", 8, false, &[("v", 1 << 40)]);
    b
}

/// Whether programs may index `fd_array` with `BPF_PSEUDO_MAP_IDX` (5.14+): the way this
/// loader binds maps.
pub fn fd_array() -> bool {
    static FD_ARRAY: OnceLock<bool> = OnceLock::new();
    *FD_ARRAY.get_or_init(|| {
        let Ok(map) = Map::create(MapDef::new(MapType::ARRAY, 4, 8, 1)) else {
            return false;
        };
        let fds = [std::os::fd::AsRawFd::as_raw_fd(&map)];
        let insns = [
            Insn::new(Opcode::LdMapIdx).with_dst(Reg::R1),
            Insn::new(Opcode::Mov64Imm).with_dst(Reg::R0),
            Insn::new(Opcode::Exit),
        ];
        ProgramLoad::new(ProgType::SOCKET_FILTER, &insns)
            .fd_array(&fds)
            .load()
            .is_ok()
    })
}

/// Everything [`probe_all`] finds.
#[derive(Clone, Debug)]
pub struct KernelFeatures {
    /// Each known program type and whether it is available.
    pub prog_types: Vec<(ProgType, bool)>,
    /// Each known map type and whether it is available.
    pub map_types: Vec<(MapType, bool)>,
    /// For each available program type that can be probed, the helpers it may call.
    pub helpers: Vec<(ProgType, Vec<HelperId>)>,
    /// BTF kinds.
    pub btf: BtfFeatures,
    /// Whether maps can be bound through `fd_array`.
    pub fd_array: bool,
}

/// Probes every program type, map type and helper the uapi tables know, and the BTF kinds.
pub fn probe_all(helpers: bool) -> Result<KernelFeatures, Error> {
    let prog_types = ProgType::ALL
        .iter()
        .filter(|&&t| t != ProgType::UNSPEC)
        .map(|&t| Ok((t, prog_type(t)?)))
        .collect::<Result<Vec<_>, Error>>()?;
    let map_types = MapType::ALL
        .iter()
        .filter(|&&t| t != MapType::UNSPEC)
        .map(|&t| Ok((t, map_type(t)?)))
        .collect::<Result<Vec<_>, Error>>()?;
    let mut helper_lists = Vec::new();
    if helpers {
        for &(t, available) in &prog_types {
            if !available {
                continue;
            }
            let mut list = Vec::new();
            for &h in HelperId::ALL.iter().filter(|&&h| h != HelperId::UNSPEC) {
                match helper(t, h)? {
                    Some(true) => list.push(h),
                    Some(false) => {}
                    None => break,
                }
            }
            helper_lists.push((t, list));
        }
    }
    Ok(KernelFeatures {
        prog_types,
        map_types,
        helpers: helper_lists,
        btf: btf(),
        fd_array: fd_array(),
    })
}

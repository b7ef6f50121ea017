//! The members of `union bpf_attr` this crate uses, each as its own `#[repr(C)]` struct, and the
//! one function that enters the kernel.
//!
//! Each struct is a prefix of the kernel's union member with the same layout (checked below
//! against offsets from the kernel's `include/uapi/linux/bpf.h`); the kernel copies `size` bytes
//! and treats the rest of the union as zero. Padding is spelled out as fields so every byte we
//! pass is initialised and zero.

use std::mem::size_of;
use std::os::fd::{FromRawFd, OwnedFd, RawFd};

use crate::error::{Command, Errno};

/// `BPF_MAP_CREATE`.
#[repr(C)]
#[derive(Default)]
pub(crate) struct MapCreateAttr {
    pub map_type: u32,
    pub key_size: u32,
    pub value_size: u32,
    pub max_entries: u32,
    pub map_flags: u32,
    pub inner_map_fd: u32,
    pub numa_node: u32,
    pub map_name: [u8; 16],
    pub map_ifindex: u32,
    pub btf_fd: u32,
    pub btf_key_type_id: u32,
    pub btf_value_type_id: u32,
    pub btf_vmlinux_value_type_id: u32,
    pub map_extra: u64,
}

/// `BPF_MAP_*_ELEM`.
#[repr(C)]
#[derive(Default)]
pub(crate) struct MapElemAttr {
    pub map_fd: u32,
    pub _pad: u32,
    pub key: u64,
    pub value: u64,
    pub flags: u64,
}

/// `BPF_PROG_LOAD`, up to `log_true_size`.
#[repr(C)]
#[derive(Default)]
pub(crate) struct ProgLoadAttr {
    pub prog_type: u32,
    pub insn_cnt: u32,
    pub insns: u64,
    pub license: u64,
    pub log_level: u32,
    pub log_size: u32,
    pub log_buf: u64,
    pub kern_version: u32,
    pub prog_flags: u32,
    pub prog_name: [u8; 16],
    pub prog_ifindex: u32,
    pub expected_attach_type: u32,
    pub prog_btf_fd: u32,
    pub func_info_rec_size: u32,
    pub func_info: u64,
    pub func_info_cnt: u32,
    pub line_info_rec_size: u32,
    pub line_info: u64,
    pub line_info_cnt: u32,
    pub attach_btf_id: u32,
    pub attach_prog_fd: u32,
    pub core_relo_cnt: u32,
    pub fd_array: u64,
    pub core_relos: u64,
    pub core_relo_rec_size: u32,
    pub log_true_size: u32,
}

/// `BPF_PROG_TEST_RUN`.
#[repr(C)]
#[derive(Default)]
pub(crate) struct TestRunAttr {
    pub prog_fd: u32,
    pub retval: u32,
    pub data_size_in: u32,
    pub data_size_out: u32,
    pub data_in: u64,
    pub data_out: u64,
    pub repeat: u32,
    pub duration: u32,
    pub ctx_size_in: u32,
    pub ctx_size_out: u32,
    pub ctx_in: u64,
    pub ctx_out: u64,
    pub flags: u32,
    pub cpu: u32,
    pub batch_size: u32,
    pub _pad: u32,
}

/// `BPF_OBJ_GET_INFO_BY_FD`.
#[repr(C)]
#[derive(Default)]
pub(crate) struct InfoAttr {
    pub bpf_fd: u32,
    pub info_len: u32,
    pub info: u64,
}

/// `struct bpf_prog_info`, whole (the kernel fills at most `info_len` bytes of it).
#[repr(C)]
#[derive(Default)]
pub(crate) struct ProgInfoRaw {
    pub prog_type: u32,
    pub id: u32,
    pub tag: [u8; 8],
    pub jited_prog_len: u32,
    pub xlated_prog_len: u32,
    pub jited_prog_insns: u64,
    pub xlated_prog_insns: u64,
    pub load_time: u64,
    pub created_by_uid: u32,
    pub nr_map_ids: u32,
    pub map_ids: u64,
    pub name: [u8; 16],
    pub ifindex: u32,
    pub gpl_compatible: u32,
    pub netns_dev: u64,
    pub netns_ino: u64,
    pub nr_jited_ksyms: u32,
    pub nr_jited_func_lens: u32,
    pub jited_ksyms: u64,
    pub jited_func_lens: u64,
    pub btf_id: u32,
    pub func_info_rec_size: u32,
    pub func_info: u64,
    pub nr_func_info: u32,
    pub nr_line_info: u32,
    pub line_info: u64,
    pub jited_line_info: u64,
    pub nr_jited_line_info: u32,
    pub line_info_rec_size: u32,
    pub jited_line_info_rec_size: u32,
    pub nr_prog_tags: u32,
    pub prog_tags: u64,
    pub run_time_ns: u64,
    pub run_cnt: u64,
    pub recursion_misses: u64,
    pub verified_insns: u32,
    pub attach_btf_obj_id: u32,
    pub attach_btf_id: u32,
    pub _pad: u32,
}

/// `BPF_OBJ_PIN` and `BPF_OBJ_GET`.
#[repr(C)]
#[derive(Default)]
pub(crate) struct ObjAttr {
    pub pathname: u64,
    pub bpf_fd: u32,
    pub file_flags: u32,
    pub path_fd: i32,
    pub _pad: u32,
}

/// `BPF_*_GET_NEXT_ID` and `BPF_*_GET_FD_BY_ID`.
#[repr(C)]
#[derive(Default)]
pub(crate) struct IdAttr {
    pub id: u32,
    pub next_id: u32,
    pub open_flags: u32,
    pub token_fd: i32,
}

/// `BPF_BTF_LOAD`, up to `btf_log_true_size`.
#[repr(C)]
#[derive(Default)]
pub(crate) struct BtfLoadAttr {
    pub btf: u64,
    pub btf_log_buf: u64,
    pub btf_size: u32,
    pub btf_log_size: u32,
    pub btf_log_level: u32,
    pub btf_log_true_size: u32,
}

/// `BPF_MAP_FREEZE`, `BPF_LINK_DETACH` and other commands that take one file descriptor.
#[repr(C)]
#[derive(Default)]
pub(crate) struct FdAttr {
    pub fd: u32,
}

/// `BPF_PROG_BIND_MAP`.
#[repr(C)]
#[derive(Default)]
pub(crate) struct ProgBindMapAttr {
    pub prog_fd: u32,
    pub map_fd: u32,
    pub flags: u32,
}

/// `BPF_MAP_GET_NEXT_KEY`.
#[repr(C)]
#[derive(Default)]
pub(crate) struct NextKeyAttr {
    pub map_fd: u32,
    pub _pad: u32,
    pub key: u64,
    pub next_key: u64,
}

/// `BPF_PROG_ATTACH` and `BPF_PROG_DETACH`.
#[repr(C)]
#[derive(Default)]
pub(crate) struct ProgAttachAttr {
    pub target_fd: u32,
    pub attach_bpf_fd: u32,
    pub attach_type: u32,
    pub attach_flags: u32,
    pub replace_bpf_fd: u32,
    pub relative_fd: u32,
    pub expected_revision: u64,
}

/// `BPF_RAW_TRACEPOINT_OPEN`.
#[repr(C)]
#[derive(Default)]
pub(crate) struct RawTracepointAttr {
    pub name: u64,
    pub prog_fd: u32,
    pub _pad: u32,
    pub cookie: u64,
}

/// `BPF_LINK_CREATE`: the common head and the per-attach-type tail, as six 64-bit words whose
/// meaning depends on the attach type (the kernel's anonymous union; `LinkCreate` fills them).
#[repr(C)]
#[derive(Default)]
pub(crate) struct LinkCreateAttr {
    pub prog_fd: u32,
    pub target: u32,
    pub attach_type: u32,
    pub flags: u32,
    pub tail: [u64; 6],
}

/// `struct bpf_map_info`.
#[repr(C)]
#[derive(Default)]
pub(crate) struct MapInfoRaw {
    pub map_type: u32,
    pub id: u32,
    pub key_size: u32,
    pub value_size: u32,
    pub max_entries: u32,
    pub map_flags: u32,
    pub name: [u8; 16],
    pub ifindex: u32,
    pub btf_vmlinux_value_type_id: u32,
    pub netns_dev: u64,
    pub netns_ino: u64,
    pub btf_id: u32,
    pub btf_key_type_id: u32,
    pub btf_value_type_id: u32,
    pub btf_vmlinux_id: u32,
    pub map_extra: u64,
}

/// `struct bpf_btf_info`.
#[repr(C)]
#[derive(Default)]
pub(crate) struct BtfInfoRaw {
    pub btf: u64,
    pub btf_size: u32,
    pub id: u32,
    pub name: u64,
    pub name_len: u32,
    pub kernel_btf: u32,
}

/// `struct bpf_link_info`: the common head and the per-type union as raw words.
#[repr(C)]
#[derive(Default)]
pub(crate) struct LinkInfoRaw {
    pub link_type: u32,
    pub id: u32,
    pub prog_id: u32,
    pub _pad: u32,
    pub tail: [u64; 6],
}

// Sizes and offsets from the kernel's uapi header (`offsetof(union bpf_attr, ...)`).
const _: () = {
    assert!(size_of::<MapCreateAttr>() == 72);
    assert!(std::mem::offset_of!(MapCreateAttr, map_extra) == 64);
    assert!(size_of::<MapElemAttr>() == 32);
    assert!(size_of::<ProgLoadAttr>() == 144);
    assert!(std::mem::offset_of!(ProgLoadAttr, core_relo_rec_size) == 136);
    assert!(size_of::<TestRunAttr>() == 80);
    assert!(std::mem::offset_of!(TestRunAttr, batch_size) == 72);
    assert!(size_of::<InfoAttr>() == 16);
    assert!(size_of::<ProgInfoRaw>() == 232);
    assert!(std::mem::offset_of!(ProgInfoRaw, verified_insns) == 216);
    assert!(size_of::<ObjAttr>() == 24);
    assert!(size_of::<IdAttr>() == 16);
    assert!(size_of::<BtfLoadAttr>() == 32);
    assert!(size_of::<ProgAttachAttr>() == 32);
    assert!(size_of::<RawTracepointAttr>() == 24);
    // link_create's union starts at offset 16 and its largest member (uprobe_multi) is 48 bytes.
    assert!(size_of::<LinkCreateAttr>() == 64);
    assert!(size_of::<MapInfoRaw>() == 88);
    assert!(std::mem::offset_of!(MapInfoRaw, map_extra) == 80);
    assert!(size_of::<BtfInfoRaw>() == 32);
    assert!(size_of::<LinkInfoRaw>() == 64);
};

/// A user pointer as the kernel's `__aligned_u64` fields take it.
pub(crate) fn ptr<T>(p: *const T) -> u64 {
    p as usize as u64
}

/// Copies `name` into a kernel object name field (at most 15 bytes plus NUL).
///
/// The kernel accepts letters, digits, `_` and `.`; anything else is refused here so the error
/// names the argument instead of coming back as a bare `EINVAL`.
pub(crate) fn object_name(name: &str) -> Result<[u8; 16], crate::Error> {
    let mut out = [0u8; 16];
    if name.len() > 15 {
        return Err(crate::Error::InvalidArgument(format!(
            "object name `{name}` is longer than 15 bytes"
        )));
    }
    if let Some(c) = name
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || *c == '_' || *c == '.'))
    {
        return Err(crate::Error::InvalidArgument(format!(
            "object name `{name}` contains `{c}`; only letters, digits, `_` and `.` are allowed"
        )));
    }
    out[..name.len()].copy_from_slice(name.as_bytes());
    Ok(out)
}

/// Issues `bpf(command, attr, size_of::<A>())` and returns its non-negative result.
///
/// # Safety
///
/// `A` must be the `bpf_attr` member that `command` reads, and every pointer stored in `attr`
/// must be valid for the reads and writes the kernel performs for `command` (a buffer of at least
/// the size given next to it in `attr`, a NUL-terminated string for the license), for the
/// duration of the call.
pub(crate) unsafe fn bpf<A>(command: Command, attr: &mut A) -> Result<i64, Errno> {
    // SAFETY: `attr` is a live, initialised `A` of the size we pass; the caller guarantees that
    // `A` matches `command` and that the pointers inside it are valid (this function's contract).
    let ret = unsafe {
        libc::syscall(
            libc::SYS_bpf,
            command.number() as libc::c_long,
            attr as *mut A,
            size_of::<A>() as libc::c_uint,
        )
    };
    if ret < 0 { Err(Errno::last()) } else { Ok(ret) }
}

/// Issues a command that returns a new file descriptor, and takes ownership of it.
///
/// # Safety
///
/// As for [`bpf`]; in addition `command` must be one that returns a new file descriptor on
/// success.
pub(crate) unsafe fn bpf_fd<A>(command: Command, attr: &mut A) -> Result<OwnedFd, Errno> {
    // SAFETY: the caller upholds `bpf`'s contract.
    let fd = unsafe { bpf(command, attr) }?;
    let fd = RawFd::try_from(fd).map_err(|_| Errno(libc::EBADF))?;
    // SAFETY: the command returned a new file descriptor (the caller guarantees it is one that
    // does), which nothing else owns.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

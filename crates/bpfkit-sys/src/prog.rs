//! Programs: test runs, information, pins.

use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd, RawFd};
use std::path::Path;

use crate::attr::{self, ProgBindMapAttr, ProgInfoRaw, TestRunAttr};
use crate::error::{Command, Error, Result};
use crate::obj::{self, ObjectKind};
use bpfkit_uapi::ProgType;

/// Input and options of a test run (`BPF_PROG_TEST_RUN`).
///
/// What each program type needs differs: socket filters and XDP take a packet in `data_in`
/// (at least 14 bytes, an Ethernet header); `BPF_PROG_TYPE_SYSCALL` takes only a context.
#[derive(Clone, Copy, Debug, Default)]
pub struct TestRun<'a> {
    /// The packet or other input data; empty for none.
    pub data_in: &'a [u8],
    /// Room for the output data (the packet after the run); 0 to not ask for it.
    pub data_out_len: usize,
    /// The context (`struct __sk_buff`, `struct xdp_md`, ...); empty for none.
    pub ctx_in: &'a [u8],
    /// Room for the output context; 0 to not ask for it.
    pub ctx_out_len: usize,
    /// How many times to run (0 and 1 both run once); the duration is the mean.
    pub repeat: u32,
    /// `BPF_F_TEST_*` flags.
    pub flags: u32,
    /// The cpu to run on, with `BPF_F_TEST_RUN_ON_CPU`.
    pub cpu: u32,
}

/// What a test run returned.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TestRunOutput {
    /// The program's return value (the low 32 bits of `r0`).
    pub retval: u32,
    /// Mean run time in nanoseconds.
    pub duration_ns: u32,
    /// The output data, as long as the kernel made it (at most `data_out_len` bytes).
    pub data_out: Vec<u8>,
    /// The output context, as long as the kernel made it (at most `ctx_out_len` bytes).
    pub ctx_out: Vec<u8>,
}

/// Basic facts about a loaded program (`struct bpf_prog_info`).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct ProgInfo {
    /// The program type.
    pub prog_type: ProgType,
    /// The kernel's id of the program.
    pub id: u32,
    /// The program's tag: a hash of its instructions.
    pub tag: [u8; 8],
    /// The name given at load time.
    pub name: String,
    /// Bytes of machine code the JIT produced (0 if not JIT-compiled, or hidden).
    pub jited_len: u32,
    /// Bytes of the program as the verifier rewrote it (0 if hidden).
    pub xlated_len: u32,
    /// Instructions the verifier processed.
    pub verified_insns: u32,
    /// Whether the license is GPL-compatible.
    pub gpl_compatible: bool,
    /// Total run time in nanoseconds, when run-time statistics are enabled.
    pub run_time_ns: u64,
    /// Number of runs, when run-time statistics are enabled.
    pub run_count: u64,
    /// The id of the program's BTF object (0: none).
    pub btf_id: u32,
    /// The ids of the maps the program uses.
    pub map_ids: Vec<u32>,
    /// The BTF type id of its attach target (fentry, lsm, ...; 0: none).
    pub attach_btf_id: u32,
    /// The id of the BTF object holding the attach target (0: vmlinux or none).
    pub attach_btf_obj_id: u32,
}

/// A program in the kernel, owned through its file descriptor (closed on drop).
#[derive(Debug)]
pub struct Program {
    fd: OwnedFd,
    prog_type: ProgType,
}

impl Program {
    pub(crate) fn new(fd: OwnedFd, prog_type: ProgType) -> Program {
        Program { fd, prog_type }
    }

    /// Takes ownership of a program's file descriptor, reading its type from the kernel.
    pub fn from_fd(fd: OwnedFd) -> Result<Program> {
        let mut raw = ProgInfoRaw::default();
        // SAFETY: a `bpf_prog_info` without pointers; the kernel checks `fd` is a program.
        unsafe { obj::info(fd.as_fd(), &mut raw) }?;
        Ok(Program {
            fd,
            prog_type: ProgType(raw.prog_type),
        })
    }

    /// Opens the program pinned at `path`.
    pub fn open_pinned(path: impl AsRef<Path>) -> Result<Program> {
        Program::from_fd(obj::get_pinned(path)?)
    }

    /// Opens the program with id `id`.
    pub fn from_id(id: u32) -> Result<Program> {
        Program::from_fd(obj::fd_by_id(ObjectKind::Program, id)?)
    }

    /// Pins the program at `path` in the BPF filesystem.
    pub fn pin(&self, path: impl AsRef<Path>) -> Result<()> {
        obj::pin(self.fd.as_fd(), path)
    }

    /// Keeps `map` alive as long as the program, though no instruction refers to it
    /// (`BPF_PROG_BIND_MAP`, as libbpf does for `.rodata`).
    pub fn bind_map(&self, map: BorrowedFd<'_>) -> Result<()> {
        let mut attr = ProgBindMapAttr {
            prog_fd: self.fd.as_raw_fd() as u32,
            map_fd: map.as_raw_fd() as u32,
            flags: 0,
        };
        // SAFETY: `ProgBindMapAttr` is the `BPF_PROG_BIND_MAP` member of `bpf_attr`; no pointers.
        unsafe { attr::bpf(Command::ProgBindMap, &mut attr) }
            .map_err(Error::syscall(Command::ProgBindMap))?;
        Ok(())
    }

    /// The program type it was loaded as.
    pub fn prog_type(&self) -> ProgType {
        self.prog_type
    }

    /// Gives up the program object, keeping only its file descriptor.
    pub fn into_fd(self) -> OwnedFd {
        self.fd
    }

    /// Runs the program once or `repeat` times in the kernel (`BPF_PROG_TEST_RUN`).
    pub fn test_run(&self, run: &TestRun<'_>) -> Result<TestRunOutput> {
        let mut data_out = vec![0u8; run.data_out_len];
        let mut ctx_out = vec![0u8; run.ctx_out_len];
        let len = |n: usize, what: &str| {
            u32::try_from(n).map_err(|_| Error::InvalidArgument(format!("{what} is too long")))
        };
        let opt_ptr = |p: *const u8, n: usize| if n == 0 { 0 } else { attr::ptr(p) };
        let mut attr = TestRunAttr {
            prog_fd: self.fd.as_raw_fd() as u32,
            data_size_in: len(run.data_in.len(), "data_in")?,
            data_size_out: len(data_out.len(), "data_out")?,
            data_in: opt_ptr(run.data_in.as_ptr(), run.data_in.len()),
            data_out: opt_ptr(data_out.as_mut_ptr(), data_out.len()),
            repeat: run.repeat,
            ctx_size_in: len(run.ctx_in.len(), "ctx_in")?,
            ctx_size_out: len(ctx_out.len(), "ctx_out")?,
            ctx_in: opt_ptr(run.ctx_in.as_ptr(), run.ctx_in.len()),
            ctx_out: opt_ptr(ctx_out.as_mut_ptr(), ctx_out.len()),
            flags: run.flags,
            cpu: run.cpu,
            ..Default::default()
        };
        // SAFETY: `TestRunAttr` is the `BPF_PROG_TEST_RUN` member of `bpf_attr`; `data_in` and
        // `ctx_in` are readable and `data_out` and `ctx_out` writable for the sizes given next to
        // them (null when the size is 0), alive until the call returns.
        unsafe { attr::bpf(Command::ProgTestRun, &mut attr) }.map_err(|errno| Error::Syscall {
            command: Command::ProgTestRun,
            errno,
        })?;
        data_out.truncate(attr.data_size_out as usize);
        ctx_out.truncate(attr.ctx_size_out as usize);
        Ok(TestRunOutput {
            retval: attr.retval,
            duration_ns: attr.duration,
            data_out,
            ctx_out,
        })
    }

    /// Basic facts about the program (`BPF_OBJ_GET_INFO_BY_FD`).
    pub fn info(&self) -> Result<ProgInfo> {
        let first = self.raw_info(ProgInfoRaw::default())?;
        let mut map_ids = vec![0u32; first.nr_map_ids as usize];
        let raw = self.raw_info(ProgInfoRaw {
            nr_map_ids: map_ids.len() as u32,
            map_ids: if map_ids.is_empty() {
                0
            } else {
                attr::ptr(map_ids.as_mut_ptr())
            },
            ..Default::default()
        })?;
        map_ids.truncate((raw.nr_map_ids as usize).min(map_ids.len()));
        let name_end = raw.name.iter().position(|&b| b == 0).unwrap_or(16);
        Ok(ProgInfo {
            prog_type: ProgType(raw.prog_type),
            id: raw.id,
            tag: raw.tag,
            name: String::from_utf8_lossy(&raw.name[..name_end]).into_owned(),
            jited_len: raw.jited_prog_len,
            xlated_len: raw.xlated_prog_len,
            verified_insns: raw.verified_insns,
            gpl_compatible: raw.gpl_compatible & 1 != 0,
            run_time_ns: raw.run_time_ns,
            run_count: raw.run_cnt,
            btf_id: raw.btf_id,
            map_ids,
            attach_btf_id: raw.attach_btf_id,
            attach_btf_obj_id: raw.attach_btf_obj_id,
        })
    }

    /// The program as the verifier rewrote it, in 8-byte slots (empty if the kernel hides it).
    pub fn xlated_code(&self) -> Result<Vec<u8>> {
        let len = self.info()?.xlated_len as usize;
        let mut code = vec![0u8; len];
        let raw = self.raw_info(ProgInfoRaw {
            xlated_prog_len: len as u32,
            xlated_prog_insns: attr::ptr(code.as_mut_ptr()),
            ..Default::default()
        })?;
        code.truncate((raw.xlated_prog_len as usize).min(len));
        Ok(code)
    }

    /// The JIT's machine code of the program (empty if not JIT-compiled or hidden).
    pub fn jited_code(&self) -> Result<Vec<u8>> {
        let len = self.info()?.jited_len as usize;
        let mut code = vec![0u8; len];
        let raw = self.raw_info(ProgInfoRaw {
            jited_prog_len: len as u32,
            jited_prog_insns: attr::ptr(code.as_mut_ptr()),
            ..Default::default()
        })?;
        code.truncate((raw.jited_prog_len as usize).min(len));
        Ok(code)
    }

    /// Fills `info` from the kernel. Pointers set in `info` must point to buffers of the
    /// lengths set next to them; every other pointer field must be 0.
    fn raw_info(&self, mut info: ProgInfoRaw) -> Result<ProgInfoRaw> {
        // SAFETY: `info` is a `bpf_prog_info` for a program; its only non-null pointers are the
        // buffers this module's callers set, with their lengths next to them.
        unsafe { obj::info(self.fd.as_fd(), &mut info) }?;
        Ok(info)
    }
}

impl AsFd for Program {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }
}

impl AsRawFd for Program {
    fn as_raw_fd(&self) -> RawFd {
        self.fd.as_raw_fd()
    }
}

//! [`ProgramLoad`]: `BPF_PROG_LOAD` with every argument a loader needs, and the verifier log.

use std::ffi::CString;
use std::os::fd::{AsRawFd, BorrowedFd, RawFd};

use bpfkit_isa::Insn;

use crate::attr::{self, ProgLoadAttr};
use crate::error::{Command, Errno, Error, Result};
use crate::prog::Program;
use bpfkit_uapi::{AttachType, ProgFlags, ProgType};

/// The log buffer a failed load without a log is retried with, to learn why it failed.
const RETRY_LOG_SIZE: usize = 1 << 20;
/// The largest log buffer this crate allocates when the kernel reports a longer log.
const MAX_LOG_SIZE: usize = 256 << 20;
/// How often a load that fails with `EAGAIN` is tried again (as libbpf does).
const EAGAIN_RETRIES: usize = 5;

/// A `struct bpf_func_info` record: a function's first instruction and its BTF `FUNC`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FuncInfoRecord {
    /// The function's first slot in the program.
    pub insn_off: u32,
    /// Its `FUNC` type in the program's BTF.
    pub type_id: u32,
}

/// A `struct bpf_line_info` record: the source line of an instruction.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LineInfoRecord {
    /// The slot in the program.
    pub insn_off: u32,
    /// Offset of the file name in the BTF's strings.
    pub file_name_off: u32,
    /// Offset of the line's text in the BTF's strings.
    pub line_off: u32,
    /// `line << 10 | column`.
    pub line_col: u32,
}

/// What to load: the arguments of `BPF_PROG_LOAD`.
///
/// Without a log level the program is loaded without a log; if that fails, the load is repeated
/// with log level 1, so that the error carries the verifier's explanation. A log that does not
/// fit is fetched again with a larger buffer: the size the kernel reports (6.4+), or twice the
/// size while the kernel answers `ENOSPC`.
#[derive(Clone, Copy, Debug)]
pub struct ProgramLoad<'a> {
    prog_type: ProgType,
    insns: &'a [Insn],
    license: &'a str,
    name: &'a str,
    flags: ProgFlags,
    expected_attach_type: AttachType,
    log_level: u32,
    log_size: usize,
    kern_version: u32,
    ifindex: u32,
    btf: Option<BorrowedFd<'a>>,
    func_info: &'a [FuncInfoRecord],
    line_info: &'a [LineInfoRecord],
    attach_btf_id: u32,
    attach_fd: Option<BorrowedFd<'a>>,
    fd_array: &'a [RawFd],
}

impl<'a> ProgramLoad<'a> {
    /// A load of `insns` as a `prog_type` program under the `GPL` license, without a log.
    pub fn new(prog_type: ProgType, insns: &'a [Insn]) -> ProgramLoad<'a> {
        ProgramLoad {
            prog_type,
            insns,
            license: "GPL",
            name: "",
            flags: ProgFlags(0),
            expected_attach_type: AttachType(0),
            log_level: 0,
            log_size: RETRY_LOG_SIZE,
            kern_version: 0,
            ifindex: 0,
            btf: None,
            func_info: &[],
            line_info: &[],
            attach_btf_id: 0,
            attach_fd: None,
            fd_array: &[],
        }
    }

    /// Sets the license (GPL-only helpers need a GPL-compatible one).
    pub fn license(mut self, license: &'a str) -> ProgramLoad<'a> {
        self.license = license;
        self
    }

    /// Sets the name shown by `bpftool prog` (at most 15 letters, digits, `_` or `.`).
    pub fn name(mut self, name: &'a str) -> ProgramLoad<'a> {
        self.name = name;
        self
    }

    /// Sets the program flags (e.g. [`ProgFlags::SLEEPABLE`]).
    pub fn flags(mut self, flags: ProgFlags) -> ProgramLoad<'a> {
        self.flags = flags;
        self
    }

    /// Sets the expected attach type, which some program types need at load time.
    pub fn expected_attach_type(mut self, attach_type: AttachType) -> ProgramLoad<'a> {
        self.expected_attach_type = attach_type;
        self
    }

    /// Sets the verifier log level: 0 none, 1 the path taken, 2 every instruction and state,
    /// 4 statistics only (levels combine as bits).
    pub fn log_level(mut self, level: u32) -> ProgramLoad<'a> {
        self.log_level = level;
        self
    }

    /// Sets the initial size of the log buffer (1 MiB by default). A longer log is fetched again
    /// with a larger buffer, up to 256 MiB.
    pub fn log_size(mut self, bytes: usize) -> ProgramLoad<'a> {
        self.log_size = bytes.max(1);
        self
    }

    /// Sets the kernel version kprobe programs were checked against before 5.0.
    pub fn kern_version(mut self, version: u32) -> ProgramLoad<'a> {
        self.kern_version = version;
        self
    }

    /// Loads for offload to the network device `ifindex`.
    pub fn ifindex(mut self, ifindex: u32) -> ProgramLoad<'a> {
        self.ifindex = ifindex;
        self
    }

    /// Describes the program by BTF: the loaded BTF object, and its func_info and line_info
    /// records (either may be empty).
    pub fn btf(
        mut self,
        btf: BorrowedFd<'a>,
        func_info: &'a [FuncInfoRecord],
        line_info: &'a [LineInfoRecord],
    ) -> ProgramLoad<'a> {
        self.btf = Some(btf);
        self.func_info = func_info;
        self.line_info = line_info;
        self
    }

    /// Sets the BTF attach target (fentry/fexit, tp_btf, lsm, iter, struct_ops, ext): a type id
    /// in vmlinux's BTF (`object` `None`), in a module's BTF object, or — for freplace — in the
    /// BTF of the target program `object`.
    pub fn attach_btf(mut self, type_id: u32, object: Option<BorrowedFd<'a>>) -> ProgramLoad<'a> {
        self.attach_btf_id = type_id;
        self.attach_fd = object;
        self
    }

    /// Sets the file descriptors that `BPF_PSEUDO_MAP_IDX(_VALUE)` loads and kfunc calls index
    /// (kernel 5.14+).
    pub fn fd_array(mut self, fds: &'a [RawFd]) -> ProgramLoad<'a> {
        self.fd_array = fds;
        self
    }

    /// Loads the program (`BPF_PROG_LOAD`).
    pub fn load(&self) -> Result<Program> {
        self.load_with_log().map(|(program, _)| program)
    }

    /// Loads the program and returns the verifier log of the requested level with it (empty at
    /// level 0).
    pub fn load_with_log(&self) -> Result<(Program, String)> {
        let code = bpfkit_isa::encode(self.insns);
        let license = CString::new(self.license)
            .map_err(|_| Error::InvalidArgument("the license contains a NUL byte".to_string()))?;
        let name = attr::object_name(self.name)?;
        let attempt =
            |level: u32, log_size: usize| self.try_load(&code, &license, name, level, log_size);

        // Without a log, a failed load is repeated with one; a log that did not fit is fetched
        // again, larger (the kernel then also answers ENOSPC instead of the verifier's own error).
        let (mut level, mut size) = (self.log_level, self.log_size);
        loop {
            let (result, log) = attempt(level, size);
            let errno = match result {
                Ok(program) if self.log_level == 0 => return Ok((program, String::new())),
                Ok(program) => return Ok((program, log.text)),
                Err(errno) => errno,
            };
            let truncated = log.true_size > log.size || (errno.0 == libc::ENOSPC && level != 0);
            if level == 0 {
                level = 1;
            } else if truncated && size < MAX_LOG_SIZE {
                size = if log.true_size > log.size {
                    log.true_size
                } else {
                    size * 2
                }
                .min(MAX_LOG_SIZE);
            } else if log.text.is_empty() {
                return Err(Error::Syscall {
                    command: Command::ProgLoad,
                    errno,
                });
            } else {
                return Err(Error::Verifier {
                    errno,
                    truncated,
                    log: log.text,
                });
            }
        }
    }

    fn try_load(
        &self,
        code: &[u8],
        license: &CString,
        name: [u8; 16],
        level: u32,
        log_size: usize,
    ) -> (std::result::Result<Program, Errno>, Log) {
        let mut buf = if level == 0 {
            Vec::new()
        } else {
            vec![0u8; log_size.min(u32::MAX as usize >> 2)]
        };
        let opt_ptr = |p: u64, n: usize| if n == 0 { 0 } else { p };
        let mut attr = ProgLoadAttr {
            prog_type: self.prog_type.0,
            insn_cnt: (code.len() / 8) as u32,
            insns: attr::ptr(code.as_ptr()),
            license: attr::ptr(license.as_ptr()),
            log_level: level,
            log_size: buf.len() as u32,
            log_buf: opt_ptr(attr::ptr(buf.as_mut_ptr()), buf.len()),
            kern_version: self.kern_version,
            prog_flags: self.flags.bits(),
            prog_name: name,
            prog_ifindex: self.ifindex,
            expected_attach_type: self.expected_attach_type.0,
            attach_btf_id: self.attach_btf_id,
            attach_prog_fd: self.attach_fd.map_or(0, |fd| fd.as_raw_fd() as u32),
            fd_array: opt_ptr(attr::ptr(self.fd_array.as_ptr()), self.fd_array.len()),
            ..Default::default()
        };
        if let Some(btf) = self.btf {
            attr.prog_btf_fd = btf.as_raw_fd() as u32;
            attr.func_info_rec_size = size_of::<FuncInfoRecord>() as u32;
            attr.func_info = opt_ptr(attr::ptr(self.func_info.as_ptr()), self.func_info.len());
            attr.func_info_cnt = self.func_info.len() as u32;
            attr.line_info_rec_size = size_of::<LineInfoRecord>() as u32;
            attr.line_info = opt_ptr(attr::ptr(self.line_info.as_ptr()), self.line_info.len());
            attr.line_info_cnt = self.line_info.len() as u32;
        }
        let mut result = Err(Errno(libc::EAGAIN));
        for _ in 0..EAGAIN_RETRIES {
            // SAFETY: `ProgLoadAttr` is the `BPF_PROG_LOAD` member of `bpf_attr`, which returns a
            // new file descriptor; `insns` points to `insn_cnt` 8-byte slots, `license` to a
            // NUL-terminated string, `log_buf` to `log_size` writable bytes, `func_info` and
            // `line_info` to `*_cnt` records of `*_rec_size` bytes, `fd_array` to the file
            // descriptors the program indexes (each null when empty), all alive until the call
            // returns.
            result = unsafe { attr::bpf_fd(Command::ProgLoad, &mut attr) };
            if !matches!(result, Err(Errno(libc::EAGAIN))) {
                break;
            }
        }
        let log = Log::new(&buf, attr.log_true_size as usize);
        let result = result.map(|fd| Program::new(fd, self.prog_type));
        (result, log)
    }
}

/// A verifier log as the kernel left it in our buffer.
struct Log {
    text: String,
    /// The buffer's size.
    size: usize,
    /// The size the whole log needs, NUL included (0 before kernel 6.4).
    true_size: usize,
}

impl Log {
    fn new(buf: &[u8], true_size: usize) -> Log {
        let end = buf.iter().position(|&b| b == 0).unwrap_or(buf.len());
        Log {
            text: String::from_utf8_lossy(&buf[..end]).trim_end().to_string(),
            size: buf.len(),
            true_size,
        }
    }
}

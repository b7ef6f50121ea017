//! Programs: loading with the verifier log, test runs and information.

use std::ffi::CString;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd, RawFd};

use bpfkit_isa::Insn;

use crate::attr::{self, InfoAttr, ProgInfoRaw, ProgLoadAttr, TestRunAttr};
use crate::error::{Command, Errno, Error, Result};
use bpfkit_uapi::{AttachType, ProgFlags, ProgType};

/// The log buffer a failed load without a log is retried with, to learn why it failed.
const RETRY_LOG_SIZE: usize = 1 << 20;
/// The largest log buffer this crate allocates when the kernel reports a longer log.
const MAX_LOG_SIZE: usize = 64 << 20;
/// How often a load that fails with `EAGAIN` is tried again (as libbpf does).
const EAGAIN_RETRIES: usize = 5;

/// What to load: the arguments of `BPF_PROG_LOAD` this crate supports.
///
/// Without a log level the program is loaded without a log; if that fails, the load is repeated
/// once with log level 1, so that the error carries the verifier's explanation.
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
    /// with a buffer of the size the kernel reports, up to 64 MiB.
    pub fn log_size(mut self, bytes: usize) -> ProgramLoad<'a> {
        self.log_size = bytes.max(1);
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
        // again at the size the kernel reports (the kernel then also answers ENOSPC instead of
        // the verifier's own error).
        let (mut level, mut size) = (self.log_level, self.log_size);
        loop {
            let (result, log) = attempt(level, size);
            let errno = match result {
                Ok(program) if self.log_level == 0 => return Ok((program, String::new())),
                Ok(program) => return Ok((program, log.text)),
                Err(errno) => errno,
            };
            let truncated = log.true_size > log.size;
            if level == 0 {
                level = 1;
            } else if truncated && size < MAX_LOG_SIZE {
                size = log.true_size.min(MAX_LOG_SIZE);
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
        let mut attr = ProgLoadAttr {
            prog_type: self.prog_type.0,
            insn_cnt: (code.len() / 8) as u32,
            insns: attr::ptr(code.as_ptr()),
            license: attr::ptr(license.as_ptr()),
            log_level: level,
            log_size: buf.len() as u32,
            log_buf: if buf.is_empty() {
                0
            } else {
                attr::ptr(buf.as_mut_ptr())
            },
            prog_flags: self.flags.bits(),
            prog_name: name,
            expected_attach_type: self.expected_attach_type.0,
            ..Default::default()
        };
        let mut result = Err(Errno(libc::EAGAIN));
        for _ in 0..EAGAIN_RETRIES {
            // SAFETY: `ProgLoadAttr` is the `BPF_PROG_LOAD` member of `bpf_attr`, which returns a
            // new file descriptor; `insns` points to `insn_cnt` 8-byte slots, `license` to a
            // NUL-terminated string, `log_buf` to `log_size` writable bytes (or is null with
            // `log_size` 0), all alive until the call returns; the other pointers are null.
            result = unsafe { attr::bpf_fd(Command::ProgLoad, &mut attr) };
            if !matches!(result, Err(Errno(libc::EAGAIN))) {
                break;
            }
        }
        let log = Log::new(&buf, attr.log_true_size as usize);
        let result = result.map(|fd| Program {
            fd,
            prog_type: self.prog_type,
        });
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
}

/// A program in the kernel, owned through its file descriptor (closed on drop).
#[derive(Debug)]
pub struct Program {
    fd: OwnedFd,
    prog_type: ProgType,
}

impl Program {
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
        let raw = self.raw_info(ProgInfoRaw::default())?;
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
        let mut attr = InfoAttr {
            bpf_fd: self.fd.as_raw_fd() as u32,
            info_len: size_of::<ProgInfoRaw>() as u32,
            info: attr::ptr(&raw mut info),
        };
        // SAFETY: `InfoAttr` is the `BPF_OBJ_GET_INFO_BY_FD` member of `bpf_attr`; `info` is a
        // writable `bpf_prog_info` of `info_len` bytes. Its only non-null pointers are the code
        // buffers `xlated_code` and `jited_code` set, with their lengths next to them.
        unsafe { attr::bpf(Command::ObjGetInfoByFd, &mut attr) }.map_err(|errno| {
            Error::Syscall {
                command: Command::ObjGetInfoByFd,
                errno,
            }
        })?;
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

//! Typed errors: which `bpf(2)` command failed and with which errno.

use std::fmt;

use bpfkit_uapi::BpfCmd;

/// A `bpf(2)` command (`enum bpf_cmd`), as far as this crate issues them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Command {
    /// `BPF_MAP_CREATE`
    MapCreate,
    /// `BPF_MAP_LOOKUP_ELEM`
    MapLookupElem,
    /// `BPF_MAP_UPDATE_ELEM`
    MapUpdateElem,
    /// `BPF_MAP_DELETE_ELEM`
    MapDeleteElem,
    /// `BPF_PROG_LOAD`
    ProgLoad,
    /// `BPF_PROG_TEST_RUN`
    ProgTestRun,
    /// `BPF_OBJ_GET_INFO_BY_FD`
    ObjGetInfoByFd,
}

impl Command {
    /// The kernel's number for this command.
    pub const fn number(self) -> u32 {
        match self {
            Command::MapCreate => BpfCmd::MAP_CREATE.0,
            Command::MapLookupElem => BpfCmd::MAP_LOOKUP_ELEM.0,
            Command::MapUpdateElem => BpfCmd::MAP_UPDATE_ELEM.0,
            Command::MapDeleteElem => BpfCmd::MAP_DELETE_ELEM.0,
            Command::ProgLoad => BpfCmd::PROG_LOAD.0,
            Command::ProgTestRun => BpfCmd::PROG_TEST_RUN.0,
            Command::ObjGetInfoByFd => BpfCmd::OBJ_GET_INFO_BY_FD.0,
        }
    }

    /// The kernel's name for this command, e.g. `BPF_PROG_LOAD`.
    pub const fn name(self) -> &'static str {
        match self {
            Command::MapCreate => "BPF_MAP_CREATE",
            Command::MapLookupElem => "BPF_MAP_LOOKUP_ELEM",
            Command::MapUpdateElem => "BPF_MAP_UPDATE_ELEM",
            Command::MapDeleteElem => "BPF_MAP_DELETE_ELEM",
            Command::ProgLoad => "BPF_PROG_LOAD",
            Command::ProgTestRun => "BPF_PROG_TEST_RUN",
            Command::ObjGetInfoByFd => "BPF_OBJ_GET_INFO_BY_FD",
        }
    }
}

impl fmt::Display for Command {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// An error number returned by a system call.
///
/// `Display` gives the symbolic name and the C library's description, e.g.
/// `EPERM (Operation not permitted)`; the kernel-internal `ENOTSUPP` (524), which `bpf(2)`
/// returns for features a JIT or program type lacks, is named too.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Errno(pub i32);

impl Errno {
    /// The kernel-internal "operation is not supported" (524), which leaks out of `bpf(2)`.
    pub const ENOTSUPP: Errno = Errno(524);

    /// The errno of the last failed call on this thread.
    pub(crate) fn last() -> Errno {
        Errno(std::io::Error::last_os_error().raw_os_error().unwrap_or(0))
    }

    /// The symbolic name (`EPERM`), for the errors `bpf(2)` documents and a few more.
    pub fn name(self) -> Option<&'static str> {
        Some(match self.0 {
            libc::EPERM => "EPERM",
            libc::ENOENT => "ENOENT",
            libc::ESRCH => "ESRCH",
            libc::EINTR => "EINTR",
            libc::E2BIG => "E2BIG",
            libc::EBADF => "EBADF",
            libc::EAGAIN => "EAGAIN",
            libc::ENOMEM => "ENOMEM",
            libc::EACCES => "EACCES",
            libc::EFAULT => "EFAULT",
            libc::EBUSY => "EBUSY",
            libc::EEXIST => "EEXIST",
            libc::ENODEV => "ENODEV",
            libc::EINVAL => "EINVAL",
            libc::ENOSPC => "ENOSPC",
            libc::ERANGE => "ERANGE",
            libc::ENOSYS => "ENOSYS",
            libc::ELOOP => "ELOOP",
            libc::EOPNOTSUPP => "EOPNOTSUPP",
            524 => "ENOTSUPP",
            _ => return None,
        })
    }

    /// The description of this error from the C library (`strerror`).
    pub fn description(self) -> String {
        if self == Errno::ENOTSUPP {
            return "Operation is not supported".to_string();
        }
        let text = std::io::Error::from_raw_os_error(self.0).to_string();
        // `io::Error` appends " (os error N)"; the name already identifies the error.
        match text.rfind(" (os error ") {
            Some(end) => text[..end].to_string(),
            None => text,
        }
    }
}

impl fmt::Display for Errno {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(name) => write!(f, "{name} ({})", self.description()),
            None => write!(f, "errno {} ({})", self.0, self.description()),
        }
    }
}

/// An error of this crate.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A `bpf(2)` command failed.
    #[error("bpf({command}) failed: {errno}")]
    Syscall {
        /// The command.
        command: Command,
        /// What the kernel returned.
        errno: Errno,
    },
    /// `BPF_PROG_LOAD` failed; the verifier's log says why.
    #[error("bpf(BPF_PROG_LOAD) failed: {errno}; verifier log{}:\n{log}",
        if *.truncated { " (truncated)" } else { "" })]
    Verifier {
        /// What the kernel returned (`EACCES` for a rejected program, `EINVAL` for a malformed one).
        errno: Errno,
        /// The verifier log, possibly empty (some errors are found before the verifier runs).
        log: String,
        /// Whether the log did not fit in the buffer.
        truncated: bool,
    },
    /// A buffer passed to a map operation does not match the map's key or value size.
    #[error("{what} is {actual} bytes, but the map's {what} size is {expected}")]
    Size {
        /// `key` or `value`.
        what: &'static str,
        /// The map's size.
        expected: usize,
        /// The buffer's size.
        actual: usize,
    },
    /// An argument the kernel would reject, caught before the call.
    #[error("invalid argument: {0}")]
    InvalidArgument(String),
}

impl Error {
    /// The errno of a failed system call, if this error is one.
    pub fn errno(&self) -> Option<Errno> {
        match self {
            Error::Syscall { errno, .. } | Error::Verifier { errno, .. } => Some(*errno),
            _ => None,
        }
    }

    /// The command that failed, if this error comes from a system call.
    pub fn command(&self) -> Option<Command> {
        match self {
            Error::Syscall { command, .. } => Some(*command),
            Error::Verifier { .. } => Some(Command::ProgLoad),
            _ => None,
        }
    }
}

/// The result type of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

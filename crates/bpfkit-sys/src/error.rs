//! Typed errors: which `bpf(2)` command failed and with which errno.

use std::fmt;

use bpfkit_uapi::BpfCmd;

/// Declares [`Command`]: each variant with its `BpfCmd` and kernel name.
macro_rules! commands {
    ($($(#[$meta:meta])* $variant:ident = $cmd:ident,)*) => {
        /// A `bpf(2)` command (`enum bpf_cmd`), as far as this crate issues them.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum Command {
            $($(#[$meta])* $variant,)*
        }

        impl Command {
            /// The command as `bpfkit-uapi` names it.
            pub const fn cmd(self) -> BpfCmd {
                match self {
                    $(Command::$variant => BpfCmd::$cmd,)*
                }
            }

            /// The kernel's name for this command, e.g. `BPF_PROG_LOAD`.
            pub const fn name(self) -> &'static str {
                match self {
                    $(Command::$variant => concat!("BPF_", stringify!($cmd)),)*
                }
            }
        }
    };
}

commands! {
    /// `BPF_MAP_CREATE`
    MapCreate = MAP_CREATE,
    /// `BPF_MAP_LOOKUP_ELEM`
    MapLookupElem = MAP_LOOKUP_ELEM,
    /// `BPF_MAP_UPDATE_ELEM`
    MapUpdateElem = MAP_UPDATE_ELEM,
    /// `BPF_MAP_DELETE_ELEM`
    MapDeleteElem = MAP_DELETE_ELEM,
    /// `BPF_MAP_GET_NEXT_KEY`
    MapGetNextKey = MAP_GET_NEXT_KEY,
    /// `BPF_PROG_LOAD`
    ProgLoad = PROG_LOAD,
    /// `BPF_OBJ_PIN`
    ObjPin = OBJ_PIN,
    /// `BPF_OBJ_GET`
    ObjGet = OBJ_GET,
    /// `BPF_PROG_ATTACH`
    ProgAttach = PROG_ATTACH,
    /// `BPF_PROG_DETACH`
    ProgDetach = PROG_DETACH,
    /// `BPF_PROG_TEST_RUN`
    ProgTestRun = PROG_TEST_RUN,
    /// `BPF_PROG_GET_NEXT_ID`
    ProgGetNextId = PROG_GET_NEXT_ID,
    /// `BPF_MAP_GET_NEXT_ID`
    MapGetNextId = MAP_GET_NEXT_ID,
    /// `BPF_PROG_GET_FD_BY_ID`
    ProgGetFdById = PROG_GET_FD_BY_ID,
    /// `BPF_MAP_GET_FD_BY_ID`
    MapGetFdById = MAP_GET_FD_BY_ID,
    /// `BPF_OBJ_GET_INFO_BY_FD`
    ObjGetInfoByFd = OBJ_GET_INFO_BY_FD,
    /// `BPF_RAW_TRACEPOINT_OPEN`
    RawTracepointOpen = RAW_TRACEPOINT_OPEN,
    /// `BPF_BTF_LOAD`
    BtfLoad = BTF_LOAD,
    /// `BPF_BTF_GET_FD_BY_ID`
    BtfGetFdById = BTF_GET_FD_BY_ID,
    /// `BPF_MAP_FREEZE`
    MapFreeze = MAP_FREEZE,
    /// `BPF_BTF_GET_NEXT_ID`
    BtfGetNextId = BTF_GET_NEXT_ID,
    /// `BPF_LINK_CREATE`
    LinkCreate = LINK_CREATE,
    /// `BPF_LINK_GET_FD_BY_ID`
    LinkGetFdById = LINK_GET_FD_BY_ID,
    /// `BPF_LINK_GET_NEXT_ID`
    LinkGetNextId = LINK_GET_NEXT_ID,
    /// `BPF_LINK_DETACH`
    LinkDetach = LINK_DETACH,
    /// `BPF_PROG_BIND_MAP`
    ProgBindMap = PROG_BIND_MAP,
}

impl Command {
    /// The kernel's number for this command.
    pub const fn number(self) -> u32 {
        self.cmd().0
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
            libc::ENXIO => "ENXIO",
            libc::ENOTDIR => "ENOTDIR",
            libc::EISDIR => "EISDIR",
            libc::EMFILE => "EMFILE",
            libc::EADDRNOTAVAIL => "EADDRNOTAVAIL",
            libc::ENAMETOOLONG => "ENAMETOOLONG",
            libc::ENOTTY => "ENOTTY",
            libc::ESPIPE => "ESPIPE",
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
    /// `BPF_BTF_LOAD` failed; the kernel's BTF log says why.
    #[error("bpf(BPF_BTF_LOAD) failed: {errno}; BTF log{}:\n{log}",
        if *.truncated { " (truncated)" } else { "" })]
    Btf {
        /// What the kernel returned.
        errno: Errno,
        /// The kernel's log of the BTF check.
        log: String,
        /// Whether the log did not fit in the buffer.
        truncated: bool,
    },
    /// Another system call (`perf_event_open`, `mmap`, `ioctl`, a netlink request, a file in
    /// tracefs or sysfs) failed.
    #[error("{call}{}: {errno}", if .context.is_empty() { String::new() } else { format!(" ({})", .context) })]
    Os {
        /// The call, e.g. `perf_event_open` or `ioctl(PERF_EVENT_IOC_SET_BPF)`.
        call: &'static str,
        /// What it was asked to do (a path, an event), possibly empty.
        context: String,
        /// What the kernel returned.
        errno: Errno,
    },
    /// An argument the kernel would reject, caught before the call.
    #[error("invalid argument: {0}")]
    InvalidArgument(String),
}

impl Error {
    /// The errno of a failed system call, if this error is one.
    pub fn errno(&self) -> Option<Errno> {
        match self {
            Error::Syscall { errno, .. }
            | Error::Verifier { errno, .. }
            | Error::Btf { errno, .. }
            | Error::Os { errno, .. } => Some(*errno),
            _ => None,
        }
    }

    /// The command that failed, if this error comes from a system call.
    pub fn command(&self) -> Option<Command> {
        match self {
            Error::Syscall { command, .. } => Some(*command),
            Error::Verifier { .. } => Some(Command::ProgLoad),
            Error::Btf { .. } => Some(Command::BtfLoad),
            _ => None,
        }
    }
}

impl Error {
    /// A failed `bpf(2)` command.
    pub(crate) fn syscall(command: Command) -> impl FnOnce(Errno) -> Error {
        move |errno| Error::Syscall { command, errno }
    }

    /// A failed system call other than `bpf(2)`, with the errno of the last failure.
    pub(crate) fn os(call: &'static str, context: impl Into<String>) -> Error {
        Error::Os {
            call,
            context: context.into(),
            errno: Errno::last(),
        }
    }

    /// A failed system call other than `bpf(2)`, from an `io::Error`.
    pub(crate) fn io(call: &'static str, context: impl Into<String>, e: &std::io::Error) -> Error {
        Error::Os {
            call,
            context: context.into(),
            errno: Errno(e.raw_os_error().unwrap_or(libc::EIO)),
        }
    }
}

/// The result type of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

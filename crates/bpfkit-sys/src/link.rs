//! Links: a program attached to a hook, owned through a file descriptor (`BPF_LINK_CREATE`,
//! `BPF_RAW_TRACEPOINT_OPEN`): closing the last descriptor detaches the program, unless the
//! link is pinned. And the older attachment of a program to a target by type
//! (`BPF_PROG_ATTACH`/`BPF_PROG_DETACH`).

use std::ffi::CString;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd, RawFd};
use std::path::Path;

use crate::attr::{self, FdAttr, LinkCreateAttr, LinkInfoRaw, ProgAttachAttr, RawTracepointAttr};
use crate::error::{Command, Error, Result};
use crate::obj::{self, ObjectKind};
use bpfkit_uapi::AttachType;

/// What a link attaches to: a file descriptor (a cgroup, a perf event, a program) or a
/// network interface.
#[derive(Clone, Copy, Debug)]
pub enum LinkTarget<'a> {
    /// No target (tracing programs: the target is their BTF attach id).
    None,
    /// A file descriptor.
    Fd(BorrowedFd<'a>),
    /// A network interface by index (XDP, tcx, netkit).
    Ifindex(u32),
}

/// `BPF_F_*` flags of tcx and multi-program attachments: where in the chain.
pub mod flags {
    /// Allow other programs beside this one (cgroup).
    pub const ALLOW_MULTI: u32 = 1 << 1;
    /// Replace a program.
    pub const REPLACE: u32 = 1 << 2;
    /// Before the relative program or link.
    pub const BEFORE: u32 = 1 << 3;
    /// After the relative program or link.
    pub const AFTER: u32 = 1 << 4;
    /// XDP: fail if a program is already attached.
    pub const XDP_UPDATE_IF_NOEXIST: u32 = 1 << 0;
    /// XDP: generic (skb) mode.
    pub const XDP_SKB_MODE: u32 = 1 << 1;
    /// XDP: native (driver) mode.
    pub const XDP_DRV_MODE: u32 = 1 << 2;
}

/// What to create: `BPF_LINK_CREATE`'s arguments.
///
/// ```no_run
/// use bpfkit_sys::{AttachType, LinkCreate, LinkTarget};
/// # fn f(prog: &bpfkit_sys::Program) -> bpfkit_sys::Result<()> {
/// use std::os::fd::AsFd;
/// let link = LinkCreate::new(prog.as_fd(), AttachType::XDP)
///     .target(LinkTarget::Ifindex(2))
///     .create()?;
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct LinkCreate<'a> {
    prog: BorrowedFd<'a>,
    attach_type: AttachType,
    target: LinkTarget<'a>,
    flags: u32,
    tail: [u64; 6],
    /// Buffers the tail points into (kprobe_multi symbol names), kept alive until the call.
    strings: Vec<CString>,
    pointers: Vec<u64>,
}

impl<'a> LinkCreate<'a> {
    /// A link of `prog` with attach type `attach_type`, without a target.
    pub fn new(prog: BorrowedFd<'a>, attach_type: AttachType) -> LinkCreate<'a> {
        LinkCreate {
            prog,
            attach_type,
            target: LinkTarget::None,
            flags: 0,
            tail: [0; 6],
            strings: Vec::new(),
            pointers: Vec::new(),
        }
    }

    /// Sets the target.
    pub fn target(mut self, target: LinkTarget<'a>) -> LinkCreate<'a> {
        self.target = target;
        self
    }

    /// Sets the link flags (XDP mode, tcx position; see [`flags`]).
    pub fn flags(mut self, flags: u32) -> LinkCreate<'a> {
        self.flags = flags;
        self
    }

    /// A perf event link's cookie (`bpf_get_attach_cookie`).
    pub fn perf_event_cookie(mut self, cookie: u64) -> LinkCreate<'a> {
        self.tail[0] = cookie;
        self
    }

    /// A tracing link's cookie (fentry/fexit/lsm, kernel 6.2+).
    pub fn tracing_cookie(mut self, cookie: u64) -> LinkCreate<'a> {
        self.tail[1] = cookie;
        self
    }

    /// A tcx link placed relative to another program or link (with [`flags::BEFORE`] or
    /// [`flags::AFTER`]), and the chain revision expected (0: any).
    pub fn tcx_relative(mut self, relative_fd: u32, expected_revision: u64) -> LinkCreate<'a> {
        self.tail[0] = u64::from(relative_fd);
        self.tail[1] = expected_revision;
        self
    }

    /// A kprobe_multi link on the kernel functions `symbols` (`retprobe`: on their return).
    pub fn kprobe_multi(mut self, symbols: &[&str], retprobe: bool) -> Result<LinkCreate<'a>> {
        self.strings = symbols
            .iter()
            .map(|s| {
                CString::new(*s).map_err(|_| {
                    Error::InvalidArgument(format!("symbol `{s}` contains a NUL byte"))
                })
            })
            .collect::<Result<_>>()?;
        self.pointers = self.strings.iter().map(|s| attr::ptr(s.as_ptr())).collect();
        // kprobe_multi: { u32 flags; u32 cnt; u64 syms; u64 addrs; u64 cookies; }
        self.tail[0] = u64::from(u32::from(retprobe)) | ((self.pointers.len() as u64) << 32);
        self.tail[1] = attr::ptr(self.pointers.as_ptr());
        Ok(self)
    }

    /// Creates the link (`BPF_LINK_CREATE`).
    pub fn create(&self) -> Result<Link> {
        let mut attr = LinkCreateAttr {
            prog_fd: self.prog.as_raw_fd() as u32,
            target: match self.target {
                LinkTarget::None => 0,
                LinkTarget::Fd(fd) => fd.as_raw_fd() as u32,
                LinkTarget::Ifindex(i) => i,
            },
            attach_type: self.attach_type.0,
            flags: self.flags,
            tail: self.tail,
        };
        // SAFETY: `LinkCreateAttr` is the `BPF_LINK_CREATE` member of `bpf_attr`; the only
        // pointers in its tail are the kprobe_multi symbol array and the strings it points to,
        // owned by `self` and alive for the call, which returns a new file descriptor.
        let fd = unsafe { attr::bpf_fd(Command::LinkCreate, &mut attr) }
            .map_err(Error::syscall(Command::LinkCreate))?;
        Ok(Link { fd })
    }
}

/// Facts about a link (`struct bpf_link_info`, its common part).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct LinkInfo {
    /// `enum bpf_link_type`.
    pub link_type: u32,
    /// The kernel's id of the link.
    pub id: u32,
    /// The id of the attached program.
    pub prog_id: u32,
}

/// A link, owned through its file descriptor: dropping it detaches the program, unless the
/// link was pinned.
#[derive(Debug)]
pub struct Link {
    fd: OwnedFd,
}

impl Link {
    /// Attaches `prog` to the raw tracepoint `name` (`BPF_RAW_TRACEPOINT_OPEN`); `None` for
    /// programs whose attach target was given at load (tp_btf, fentry/fexit, lsm).
    pub fn raw_tracepoint(prog: BorrowedFd<'_>, name: Option<&str>) -> Result<Link> {
        let name = name
            .map(|n| {
                CString::new(n).map_err(|_| {
                    Error::InvalidArgument(format!("tracepoint `{n}` contains a NUL byte"))
                })
            })
            .transpose()?;
        let mut attr = RawTracepointAttr {
            name: name.as_ref().map_or(0, |n| attr::ptr(n.as_ptr())),
            prog_fd: prog.as_raw_fd() as u32,
            ..Default::default()
        };
        // SAFETY: `RawTracepointAttr` is the `BPF_RAW_TRACEPOINT_OPEN` member of `bpf_attr`;
        // `name` is a NUL-terminated string (or null) alive for the call, which returns a new
        // file descriptor.
        let fd = unsafe { attr::bpf_fd(Command::RawTracepointOpen, &mut attr) }
            .map_err(Error::syscall(Command::RawTracepointOpen))?;
        Ok(Link { fd })
    }

    /// Takes ownership of a link's file descriptor.
    pub fn from_fd(fd: OwnedFd) -> Link {
        Link { fd }
    }

    /// Opens the link pinned at `path`.
    pub fn open_pinned(path: impl AsRef<Path>) -> Result<Link> {
        Ok(Link {
            fd: obj::get_pinned(path)?,
        })
    }

    /// Opens the link with id `id`.
    pub fn from_id(id: u32) -> Result<Link> {
        Ok(Link {
            fd: obj::fd_by_id(ObjectKind::Link, id)?,
        })
    }

    /// Pins the link at `path`: it then stays attached after every descriptor is closed,
    /// until the pin is removed.
    pub fn pin(&self, path: impl AsRef<Path>) -> Result<()> {
        obj::pin(self.fd.as_fd(), path)
    }

    /// Detaches the program now, even if the link is pinned or shared (`BPF_LINK_DETACH`); the
    /// link object lives on, defunct, until its last descriptor is closed.
    pub fn detach(&self) -> Result<()> {
        let mut attr = FdAttr {
            fd: self.fd.as_raw_fd() as u32,
        };
        // SAFETY: `FdAttr` is the `BPF_LINK_DETACH` member of `bpf_attr`; no pointers.
        unsafe { attr::bpf(Command::LinkDetach, &mut attr) }
            .map_err(Error::syscall(Command::LinkDetach))?;
        Ok(())
    }

    /// What the kernel says about the link.
    pub fn info(&self) -> Result<LinkInfo> {
        let mut raw = LinkInfoRaw::default();
        // SAFETY: a `bpf_link_info` whose union part is left zero (no name buffers); the kernel
        // checks that the object is a link.
        unsafe { obj::info(self.fd.as_fd(), &mut raw) }?;
        Ok(LinkInfo {
            link_type: raw.link_type,
            id: raw.id,
            prog_id: raw.prog_id,
        })
    }

    /// Gives up the link object, keeping only its file descriptor.
    pub fn into_fd(self) -> OwnedFd {
        self.fd
    }
}

impl AsFd for Link {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }
}

impl AsRawFd for Link {
    fn as_raw_fd(&self) -> RawFd {
        self.fd.as_raw_fd()
    }
}

/// Attaches `prog` to `target` (a cgroup, a sockmap, a network namespace, a lirc device) with
/// `attach_type` (`BPF_PROG_ATTACH`). Nothing detaches it but [`prog_detach`].
pub fn prog_attach(
    prog: BorrowedFd<'_>,
    target: BorrowedFd<'_>,
    attach_type: AttachType,
    flags: u32,
) -> Result<()> {
    let mut attr = ProgAttachAttr {
        target_fd: target.as_raw_fd() as u32,
        attach_bpf_fd: prog.as_raw_fd() as u32,
        attach_type: attach_type.0,
        attach_flags: flags,
        ..Default::default()
    };
    // SAFETY: `ProgAttachAttr` is the `BPF_PROG_ATTACH` member of `bpf_attr`; no pointers.
    unsafe { attr::bpf(Command::ProgAttach, &mut attr) }
        .map_err(Error::syscall(Command::ProgAttach))?;
    Ok(())
}

/// Detaches `prog` (or, for `None`, the one program) of type `attach_type` from `target`
/// (`BPF_PROG_DETACH`).
pub fn prog_detach(
    prog: Option<BorrowedFd<'_>>,
    target: BorrowedFd<'_>,
    attach_type: AttachType,
) -> Result<()> {
    let mut attr = ProgAttachAttr {
        target_fd: target.as_raw_fd() as u32,
        attach_bpf_fd: prog.map_or(0, |p| p.as_raw_fd() as u32),
        attach_type: attach_type.0,
        ..Default::default()
    };
    // SAFETY: `ProgAttachAttr` is the `BPF_PROG_DETACH` member of `bpf_attr`; no pointers.
    unsafe { attr::bpf(Command::ProgDetach, &mut attr) }
        .map_err(Error::syscall(Command::ProgDetach))?;
    Ok(())
}

/// Attaches a socket filter program to a socket (`setsockopt(SO_ATTACH_BPF)`).
pub fn attach_socket_filter(socket: BorrowedFd<'_>, prog: BorrowedFd<'_>) -> Result<()> {
    let fd: libc::c_int = prog.as_raw_fd();
    // SAFETY: `SO_ATTACH_BPF` reads an int (the program's fd) from the pointer, of the size given.
    let ret = unsafe {
        libc::setsockopt(
            socket.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_ATTACH_BPF,
            (&raw const fd).cast(),
            size_of::<libc::c_int>() as libc::socklen_t,
        )
    };
    if ret < 0 {
        return Err(Error::os("setsockopt(SO_ATTACH_BPF)", ""));
    }
    Ok(())
}

/// Removes the filter program of a socket (`setsockopt(SO_DETACH_BPF)`).
pub fn detach_socket_filter(socket: BorrowedFd<'_>) -> Result<()> {
    let unused: libc::c_int = 0;
    // SAFETY: `SO_DETACH_BPF` ignores its argument; a valid int is passed anyway.
    let ret = unsafe {
        libc::setsockopt(
            socket.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_DETACH_BPF,
            (&raw const unused).cast(),
            size_of::<libc::c_int>() as libc::socklen_t,
        )
    };
    if ret < 0 {
        return Err(Error::os("setsockopt(SO_DETACH_BPF)", ""));
    }
    Ok(())
}

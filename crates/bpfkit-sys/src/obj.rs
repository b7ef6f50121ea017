//! What every kind of BPF object shares: pinning in the BPF filesystem, ids, and the
//! `BPF_OBJ_GET_INFO_BY_FD` call.

use std::ffi::CString;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};
use std::path::Path;

use crate::attr::{self, IdAttr, InfoAttr, ObjAttr};
use crate::error::{Command, Errno, Error, Result};

/// The kinds of BPF objects that have ids.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ObjectKind {
    /// A program.
    Program,
    /// A map.
    Map,
    /// A BTF object (vmlinux's, a module's, or one a process loaded).
    Btf,
    /// A link.
    Link,
}

impl ObjectKind {
    fn next_id_command(self) -> Command {
        match self {
            ObjectKind::Program => Command::ProgGetNextId,
            ObjectKind::Map => Command::MapGetNextId,
            ObjectKind::Btf => Command::BtfGetNextId,
            ObjectKind::Link => Command::LinkGetNextId,
        }
    }

    fn fd_by_id_command(self) -> Command {
        match self {
            ObjectKind::Program => Command::ProgGetFdById,
            ObjectKind::Map => Command::MapGetFdById,
            ObjectKind::Btf => Command::BtfGetFdById,
            ObjectKind::Link => Command::LinkGetFdById,
        }
    }
}

fn c_path(path: &Path) -> Result<CString> {
    CString::new(path.as_os_str().as_encoded_bytes())
        .map_err(|_| Error::InvalidArgument(format!("path {} contains a NUL byte", path.display())))
}

/// Pins the object behind `fd` at `path` in the BPF filesystem (`BPF_OBJ_PIN`).
///
/// The object then outlives every file descriptor to it until the file is removed.
pub fn pin(fd: BorrowedFd<'_>, path: impl AsRef<Path>) -> Result<()> {
    let path = c_path(path.as_ref())?;
    let mut attr = ObjAttr {
        pathname: attr::ptr(path.as_ptr()),
        bpf_fd: fd.as_raw_fd() as u32,
        ..Default::default()
    };
    // SAFETY: `ObjAttr` is the `BPF_OBJ_*` member of `bpf_attr`; `pathname` is a NUL-terminated
    // string alive for the call.
    unsafe { attr::bpf(Command::ObjPin, &mut attr) }.map_err(Error::syscall(Command::ObjPin))?;
    Ok(())
}

/// Opens the object pinned at `path` (`BPF_OBJ_GET`).
pub fn get_pinned(path: impl AsRef<Path>) -> Result<OwnedFd> {
    let path = c_path(path.as_ref())?;
    let mut attr = ObjAttr {
        pathname: attr::ptr(path.as_ptr()),
        ..Default::default()
    };
    // SAFETY: as in `pin`; the command returns a new file descriptor.
    unsafe { attr::bpf_fd(Command::ObjGet, &mut attr) }.map_err(Error::syscall(Command::ObjGet))
}

/// The id after `start` of an object of kind `kind` (start at 0), or `None` after the last.
pub fn next_id(kind: ObjectKind, start: u32) -> Result<Option<u32>> {
    let mut attr = IdAttr {
        id: start,
        ..Default::default()
    };
    let command = kind.next_id_command();
    // SAFETY: `IdAttr` is the `BPF_*_GET_NEXT_ID` member of `bpf_attr`; it holds no pointers.
    match unsafe { attr::bpf(command, &mut attr) } {
        Ok(_) => Ok(Some(attr.next_id)),
        Err(Errno(libc::ENOENT)) => Ok(None),
        Err(errno) => Err(Error::Syscall { command, errno }),
    }
}

/// Every id of objects of kind `kind`, in increasing order.
pub fn ids(kind: ObjectKind) -> Result<Vec<u32>> {
    let mut out = Vec::new();
    let mut id = 0;
    while let Some(next) = next_id(kind, id)? {
        out.push(next);
        id = next;
    }
    Ok(out)
}

/// Opens the object of kind `kind` with id `id` (`BPF_*_GET_FD_BY_ID`).
pub fn fd_by_id(kind: ObjectKind, id: u32) -> Result<OwnedFd> {
    let mut attr = IdAttr {
        id,
        ..Default::default()
    };
    let command = kind.fd_by_id_command();
    // SAFETY: `IdAttr` is the `BPF_*_GET_FD_BY_ID` member of `bpf_attr`; it holds no pointers;
    // the command returns a new file descriptor.
    unsafe { attr::bpf_fd(command, &mut attr) }.map_err(Error::syscall(command))
}

/// Fills `info`, one of the kernel's `struct bpf_*_info`, for the object behind `fd`
/// (`BPF_OBJ_GET_INFO_BY_FD`).
///
/// # Safety
///
/// `T` must be the info struct of the kind of object `fd` refers to (or a prefix of it), and
/// every pointer field in `info` must be 0 or point to a buffer of the length set beside it.
pub(crate) unsafe fn info<T>(fd: BorrowedFd<'_>, info: &mut T) -> Result<()> {
    let mut attr = InfoAttr {
        bpf_fd: fd.as_raw_fd() as u32,
        info_len: size_of::<T>() as u32,
        info: attr::ptr(info as *mut T),
    };
    // SAFETY: `InfoAttr` is the `BPF_OBJ_GET_INFO_BY_FD` member of `bpf_attr`; `info` is a
    // writable `T` of `info_len` bytes whose pointers the caller vouches for.
    unsafe { attr::bpf(Command::ObjGetInfoByFd, &mut attr) }
        .map_err(Error::syscall(Command::ObjGetInfoByFd))?;
    Ok(())
}

/// Duplicates a borrowed file descriptor into an owned one (`F_DUPFD_CLOEXEC`).
pub fn dup(fd: impl AsFd) -> Result<OwnedFd> {
    fd.as_fd()
        .try_clone_to_owned()
        .map_err(|e| Error::io("fcntl(F_DUPFD_CLOEXEC)", "", &e))
}

/// The NUL-terminated name in a kernel object name field, as a string.
pub(crate) fn name_of(raw: &[u8]) -> String {
    let end = raw.iter().position(|&b| b == 0).unwrap_or(raw.len());
    String::from_utf8_lossy(&raw[..end]).into_owned()
}

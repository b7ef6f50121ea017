//! [`BtfObject`]: BTF loaded into the kernel (`BPF_BTF_LOAD`), or the kernel's own (vmlinux's
//! and each module's) opened by id.

use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd, RawFd};

use crate::attr::{self, BtfInfoRaw, BtfLoadAttr};
use crate::error::{Command, Errno, Error, Result};
use crate::obj::{self, ObjectKind};

/// The log buffer a rejected BTF is loaded again with, to learn why.
const BTF_LOG_SIZE: usize = 1 << 20;

/// Facts about a BTF object (`struct bpf_btf_info`).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct BtfInfo {
    /// The kernel's id of the object.
    pub id: u32,
    /// Its name: `vmlinux`, a module's name, or empty for BTF a process loaded.
    pub name: String,
    /// Whether it is the kernel's own (vmlinux's or a module's).
    pub kernel_btf: bool,
    /// Size of its raw data in bytes.
    pub size: u32,
}

/// A BTF object in the kernel, owned through its file descriptor (closed on drop).
#[derive(Debug)]
pub struct BtfObject {
    fd: OwnedFd,
}

impl BtfObject {
    /// Loads raw BTF (`BPF_BTF_LOAD`). If the kernel rejects it, the load is repeated with a
    /// log, which the error carries ([`Error::Btf`]).
    pub fn load(data: &[u8]) -> Result<BtfObject> {
        match BtfObject::try_load(data, 0) {
            Ok(btf) => Ok(btf),
            Err(first) => match BtfObject::try_load(data, BTF_LOG_SIZE) {
                Ok(btf) => Ok(btf),
                Err((errno, log, truncated)) if !log.is_empty() => Err(Error::Btf {
                    errno,
                    log,
                    truncated,
                }),
                Err(_) => Err(Error::Syscall {
                    command: Command::BtfLoad,
                    errno: first.0,
                }),
            },
        }
    }

    fn try_load(
        data: &[u8],
        log_size: usize,
    ) -> std::result::Result<BtfObject, (Errno, String, bool)> {
        let mut log = vec![0u8; log_size];
        let mut attr = BtfLoadAttr {
            btf: attr::ptr(data.as_ptr()),
            btf_size: data.len() as u32,
            btf_log_buf: if log.is_empty() {
                0
            } else {
                attr::ptr(log.as_mut_ptr())
            },
            btf_log_size: log.len() as u32,
            btf_log_level: u32::from(!log.is_empty()),
            ..Default::default()
        };
        // SAFETY: `BtfLoadAttr` is the `BPF_BTF_LOAD` member of `bpf_attr`; `btf` points to
        // `btf_size` readable bytes and `btf_log_buf` to `btf_log_size` writable ones (or is
        // null), alive for the call, which returns a new file descriptor.
        match unsafe { attr::bpf_fd(Command::BtfLoad, &mut attr) } {
            Ok(fd) => Ok(BtfObject { fd }),
            Err(errno) => {
                let end = log.iter().position(|&b| b == 0).unwrap_or(log.len());
                let text = String::from_utf8_lossy(&log[..end]).trim_end().to_string();
                let truncated = attr.btf_log_true_size as usize > log.len();
                Err((errno, text, truncated))
            }
        }
    }

    /// Opens the BTF object with id `id` (vmlinux's, a module's, or a program's).
    pub fn from_id(id: u32) -> Result<BtfObject> {
        Ok(BtfObject {
            fd: obj::fd_by_id(ObjectKind::Btf, id)?,
        })
    }

    /// Takes ownership of a BTF object's file descriptor.
    pub fn from_fd(fd: OwnedFd) -> BtfObject {
        BtfObject { fd }
    }

    /// What the kernel says about the object.
    pub fn info(&self) -> Result<BtfInfo> {
        btf_info(self.fd.as_fd())
    }

    /// Gives up the object, keeping only its file descriptor.
    pub fn into_fd(self) -> OwnedFd {
        self.fd
    }
}

/// Facts about the BTF object behind `fd`.
pub(crate) fn btf_info(fd: BorrowedFd<'_>) -> Result<BtfInfo> {
    let mut name = [0u8; 64];
    let mut raw = BtfInfoRaw {
        name: attr::ptr(name.as_mut_ptr()),
        name_len: name.len() as u32,
        ..Default::default()
    };
    // SAFETY: a `bpf_btf_info` whose only pointer is `name`, a writable buffer of `name_len`
    // bytes; the kernel checks that `fd` is a BTF object.
    unsafe { obj::info(fd, &mut raw) }?;
    Ok(BtfInfo {
        id: raw.id,
        name: obj::name_of(&name),
        kernel_btf: raw.kernel_btf != 0,
        size: raw.btf_size,
    })
}

impl AsFd for BtfObject {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }
}

impl AsRawFd for BtfObject {
    fn as_raw_fd(&self) -> RawFd {
        self.fd.as_raw_fd()
    }
}

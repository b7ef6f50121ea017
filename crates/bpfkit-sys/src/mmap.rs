//! [`Mmap`]: memory the kernel shares with us through `mmap(2)` of a BPF object (an array
//! map's values, a ring buffer's pages), unmapped on drop.
//!
//! Programs write this memory while we read it, so it is never handed out as a `&[u8]` (which
//! promises that nothing changes it): reads and writes copy through volatile accesses.

use std::os::fd::{AsRawFd, BorrowedFd};
use std::ptr::NonNull;

use crate::error::{Error, Result};

/// A shared mapping of a BPF object's memory.
#[derive(Debug)]
pub struct Mmap {
    ptr: NonNull<u8>,
    len: usize,
    writable: bool,
}

// SAFETY: the mapping is plain shared memory owned by this value; every access goes through
// volatile reads and writes of bytes, which are sound from any thread.
unsafe impl Send for Mmap {}
// SAFETY: as above; `&Mmap` only reads.
unsafe impl Sync for Mmap {}

/// The page size of this machine.
pub fn page_size() -> usize {
    // SAFETY: sysconf has no preconditions.
    let size = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    usize::try_from(size).unwrap_or(4096).max(1)
}

impl Mmap {
    /// Maps `len` bytes (rounded up to whole pages) of `fd` from byte `offset`, shared.
    pub(crate) fn new(
        fd: BorrowedFd<'_>,
        len: usize,
        offset: usize,
        writable: bool,
    ) -> Result<Mmap> {
        let page = page_size();
        let len = len.div_ceil(page).max(1) * page;
        let prot = if writable {
            libc::PROT_READ | libc::PROT_WRITE
        } else {
            libc::PROT_READ
        };
        // SAFETY: a new shared mapping of a file descriptor at an address the kernel picks; it
        // aliases no Rust object.
        let ptr = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                len,
                prot,
                libc::MAP_SHARED,
                fd.as_raw_fd(),
                offset as libc::off_t,
            )
        };
        if ptr == libc::MAP_FAILED {
            return Err(Error::os("mmap", format!("{len} bytes at offset {offset}")));
        }
        Ok(Mmap {
            ptr: NonNull::new(ptr.cast()).expect("mmap does not return null on success"),
            len,
            writable,
        })
    }

    /// Length in bytes (whole pages).
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether the mapping is empty (never: at least one page).
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Whether it was mapped writable.
    pub fn is_writable(&self) -> bool {
        self.writable
    }

    /// The mapping's first byte, for code that synchronises with the kernel itself (the ring
    /// buffer's positions).
    pub(crate) fn as_ptr(&self) -> *mut u8 {
        self.ptr.as_ptr()
    }

    fn check(&self, offset: usize, len: usize) -> Result<()> {
        if offset.checked_add(len).is_none_or(|end| end > self.len) {
            return Err(Error::InvalidArgument(format!(
                "{len} bytes at offset {offset} are outside the {}-byte mapping",
                self.len
            )));
        }
        Ok(())
    }

    /// Copies `out.len()` bytes from `offset` into `out`.
    pub fn read(&self, offset: usize, out: &mut [u8]) -> Result<()> {
        self.check(offset, out.len())?;
        for (i, byte) in out.iter_mut().enumerate() {
            // SAFETY: `offset + i` is inside the mapping (checked), which stays mapped while
            // `self` lives.
            *byte = unsafe { self.ptr.as_ptr().add(offset + i).read_volatile() };
        }
        Ok(())
    }

    /// `len` bytes from `offset`.
    pub fn read_vec(&self, offset: usize, len: usize) -> Result<Vec<u8>> {
        let mut out = vec![0; len];
        self.read(offset, &mut out)?;
        Ok(out)
    }

    /// Copies `bytes` to `offset`.
    pub fn write(&self, offset: usize, bytes: &[u8]) -> Result<()> {
        if !self.writable {
            return Err(Error::InvalidArgument(
                "the mapping is read-only (a frozen map)".to_string(),
            ));
        }
        self.check(offset, bytes.len())?;
        for (i, &byte) in bytes.iter().enumerate() {
            // SAFETY: `offset + i` is inside the writable mapping (checked).
            unsafe { self.ptr.as_ptr().add(offset + i).write_volatile(byte) };
        }
        Ok(())
    }
}

impl Drop for Mmap {
    fn drop(&mut self) {
        // SAFETY: the mapping was created by `Mmap::new` with this length and is unmapped once.
        unsafe { libc::munmap(self.ptr.as_ptr().cast(), self.len) };
    }
}

//! Code memory reused from compile to compile.
//!
//! Mapping fresh memory for every compile (`mmap`, a page fault per page while copying, then
//! `mprotect`, and `munmap` when the code is dropped) cost more than generating the code of a
//! small program. Instead, dropped code returns its mapping here, and the next compile that
//! fits takes it back: one `mprotect` when code is dropped, one when code is published, no
//! page faults.
//!
//! Each mapping sits between two guard pages that are never accessible. Without them the
//! kernel merged a fresh writable mapping with a writable neighbour (another pooled mapping,
//! made just before it), so each `mprotect` had to split an area of the address space and the
//! next merge it back: with eight compiled programs alive at once, compiling a
//! nine-instruction program took 6.4 us against 4.4 us with the guards (an `mprotect` that
//! splits cost about 4 us here, one that does not 1.3 us). Between guards, a mapping is always
//! an area of its own, and an `mprotect` only changes its permissions. The guards also catch
//! a run of the code off either end.
//!
//! W^X holds throughout: a mapping is either writable (while code is copied in, and while it
//! waits here) or executable (while a [`Code`](crate::Code) owns it), never both. A mapping
//! goes back to writable only when its code is dropped, and nothing can run code that is
//! dropped: generated code runs only while its `Code` is borrowed. Waiting mappings are not
//! executable, so stale code is never left runnable.

use std::ptr::NonNull;
use std::sync::{Mutex, OnceLock};

/// Mappings waiting to be reused, writable and not executable.
static FREE: Mutex<Vec<Mapping>> = Mutex::new(Vec::new());

/// At most this many mappings wait; more are unmapped.
const MAX_FREE: usize = 32;
/// Mappings larger than this are unmapped rather than kept (big code is rare, and mapping it
/// costs little next to generating it).
const MAX_KEPT: usize = 1 << 20;

/// The size of a page: mappings are made in multiples of it (so that one fits code of similar
/// sizes), and each guard is one.
fn page() -> usize {
    static PAGE: OnceLock<usize> = OnceLock::new();
    *PAGE.get_or_init(|| {
        // SAFETY: `sysconf` reads a configuration value; it has no preconditions.
        let size = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
        usize::try_from(size)
            .ok()
            .filter(|s| s.is_power_of_two())
            .unwrap_or(4096)
    })
}

/// Pages of memory of this process's own, between two guard pages: writable and not
/// executable, or executable and not writable.
#[derive(Debug)]
struct Mapping {
    /// The first usable byte, one page past the start of the mapping.
    start: NonNull<u8>,
    /// Usable bytes, a multiple of the page size.
    size: usize,
    /// Bytes of code written, from `start`.
    len: usize,
}

// SAFETY: a `Mapping` owns its pages (nothing else refers to them), so it can move to and be
// used from another thread like a `Vec<u8>`.
unsafe impl Send for Mapping {}
// SAFETY: shared, a `Mapping` only gives out `&[u8]`.
unsafe impl Sync for Mapping {}

impl Mapping {
    /// A writable mapping of at least `len` bytes (at least a page).
    fn new(len: usize) -> std::io::Result<Mapping> {
        let page = page();
        let size = len.max(1).next_multiple_of(page);
        let total = size + 2 * page;
        // SAFETY: a new private anonymous mapping at an address the kernel picks; it aliases
        // nothing.
        let base = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                total,
                libc::PROT_NONE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
                -1,
                0,
            )
        };
        if base == libc::MAP_FAILED {
            return Err(std::io::Error::last_os_error());
        }
        // SAFETY: `base + page` is inside the mapping just made, which is not null.
        let start = unsafe { NonNull::new_unchecked(base.cast::<u8>().add(page)) };
        let mapping = Mapping {
            start,
            size,
            len: 0,
        };
        // The pages between the guards become usable (dropping `mapping` unmaps it all).
        mapping.protect(libc::PROT_READ | libc::PROT_WRITE)?;
        Ok(mapping)
    }

    /// Sets the permissions of the usable pages.
    fn protect(&self, prot: libc::c_int) -> std::io::Result<()> {
        // SAFETY: the usable pages are this mapping's own, page aligned; whoever reads,
        // writes or runs them does so through this `Mapping`, whose state follows `prot`.
        let done = unsafe { libc::mprotect(self.start.as_ptr().cast(), self.size, prot) };
        if done == 0 {
            Ok(())
        } else {
            Err(std::io::Error::last_os_error())
        }
    }

    /// The code written.
    fn bytes(&self) -> &[u8] {
        // SAFETY: the first `len` usable bytes are mapped readable in both states and were
        // initialised by `write`; nothing writes them while they are borrowed (only `write`,
        // through `&mut self`).
        unsafe { std::slice::from_raw_parts(self.start.as_ptr(), self.len) }
    }

    /// Copies `code` to the start of a writable mapping that has room for it.
    fn write(&mut self, code: &[u8]) {
        assert!(code.len() <= self.size, "the mapping fits the code");
        // SAFETY: the usable bytes are mapped writable (a mapping is written only while it is,
        // before `publish` makes it executable) and `code` fits in them; `code` is another
        // allocation, so they do not overlap.
        unsafe {
            std::ptr::copy_nonoverlapping(code.as_ptr(), self.start.as_ptr(), code.len());
        }
        self.len = code.len();
    }
}

impl Drop for Mapping {
    fn drop(&mut self) {
        let page = page();
        // SAFETY: unmaps exactly the pages `Mapping::new` mapped (both guards included);
        // nothing refers to them once the `Mapping` is dropped.
        unsafe {
            libc::munmap(self.start.as_ptr().sub(page).cast(), self.size + 2 * page);
        }
    }
}

/// Executable memory that returns to the pool when dropped.
#[derive(Debug)]
pub(crate) struct Pooled(Option<Mapping>);

impl std::ops::Deref for Pooled {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        self.0.as_ref().map_or(&[], Mapping::bytes)
    }
}

impl Drop for Pooled {
    fn drop(&mut self) {
        let Some(mut mapping) = self.0.take() else {
            return;
        };
        if mapping.size > MAX_KEPT || FREE.lock().is_ok_and(|free| free.len() >= MAX_FREE) {
            return;
        }
        // Not executable any more before it can be written again (W^X); if that fails, the
        // mapping is unmapped instead.
        if mapping.protect(libc::PROT_READ | libc::PROT_WRITE).is_ok() {
            mapping.len = 0;
            if let Ok(mut free) = FREE.lock()
                && free.len() < MAX_FREE
            {
                free.push(mapping);
            }
        }
    }
}

/// A writable, non-executable mapping of at least `len` bytes: a waiting one if one fits (the
/// smallest that does), a fresh one otherwise.
fn take(len: usize) -> std::io::Result<Mapping> {
    if let Ok(mut free) = FREE.lock()
        && let Some((index, _)) = free
            .iter()
            .enumerate()
            .filter(|(_, m)| m.size >= len)
            .min_by_key(|(_, m)| m.size)
    {
        return Ok(free.swap_remove(index));
    }
    Mapping::new(len)
}

/// Copies `bytes` into writable memory, then makes it executable only.
pub(crate) fn publish(bytes: &[u8]) -> std::io::Result<Pooled> {
    let mut mapping = take(bytes.len())?;
    mapping.write(bytes);
    // On aarch64 the caches are synchronised for the new bytes first, which also covers a
    // mapping that held other code before (`ic ivau` drops the stale lines everywhere).
    #[cfg(target_arch = "aarch64")]
    crate::aarch64::cache::synchronize(mapping.bytes());
    mapping.protect(libc::PROT_READ | libc::PROT_EXEC)?;
    Ok(Pooled(Some(mapping)))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Dropped code memory is reused, and each use holds exactly the new bytes.
    #[test]
    fn dropped_code_memory_is_reused_with_the_new_bytes() {
        // A size no other test's code has, so that a parallel test cannot take it.
        let first = publish(&[0xcc; 150 * 4096 + 17]).unwrap();
        let address = first.as_ptr();
        drop(first);
        let second = publish(&[0x90; 150 * 4096 + 5]).unwrap();
        assert_eq!(second.as_ptr(), address);
        assert_eq!(second.len(), 150 * 4096 + 5);
        assert!(second.iter().all(|&b| b == 0x90));
    }

    /// The permissions (`rwx` letters) of the mapping holding `address`, and whether any
    /// mapping of this process is writable and executable at once, from `/proc/self/maps`.
    #[cfg(target_os = "linux")]
    fn permissions(address: usize) -> (Option<String>, bool) {
        let maps = std::fs::read_to_string("/proc/self/maps").unwrap();
        let mut found = None;
        let mut wx = false;
        for line in maps.lines() {
            let mut fields = line.split_whitespace();
            let (Some(range), Some(perms)) = (fields.next(), fields.next()) else {
                continue;
            };
            let perms = &perms[..3];
            wx |= perms.contains('w') && perms.contains('x');
            let (start, end) = range.split_once('-').unwrap();
            let start = usize::from_str_radix(start, 16).unwrap();
            let end = usize::from_str_radix(end, 16).unwrap();
            if (start..end).contains(&address) {
                found = Some(perms.to_string());
            }
        }
        (found, wx)
    }

    /// Each mapping is an area of its own between two inaccessible guard pages, so that
    /// changing its permissions never splits or merges areas (see the module's comment), and
    /// a run off either end of the code faults.
    #[cfg(target_os = "linux")]
    #[test]
    fn code_memory_sits_between_guard_pages() {
        // A size no other test's code has (see above).
        let code = publish(&[0xc3; 190 * 4096 + 9]).unwrap();
        let start = code.as_ptr() as usize;
        let end = start + (190 * 4096 + 9_usize).next_multiple_of(page());
        assert_eq!(permissions(start - 1).0.as_deref(), Some("---"));
        assert_eq!(permissions(end).0.as_deref(), Some("---"));
        // The code's area is exactly its pages: it merged with no neighbour.
        assert_eq!(area(start), Some((start, end)));
        // Nor does it after going back to writable, and executable again.
        let mapping = Mapping::new(3 * page()).unwrap();
        let start = mapping.start.as_ptr() as usize;
        for prot in [
            libc::PROT_READ | libc::PROT_WRITE,
            libc::PROT_READ | libc::PROT_EXEC,
        ] {
            mapping.protect(prot).unwrap();
            assert_eq!(area(start), Some((start, start + 3 * page())));
        }
    }

    /// The bounds of the area of `/proc/self/maps` holding `address`.
    #[cfg(target_os = "linux")]
    fn area(address: usize) -> Option<(usize, usize)> {
        let maps = std::fs::read_to_string("/proc/self/maps").unwrap();
        maps.lines().find_map(|line| {
            let (start, end) = line.split_whitespace().next()?.split_once('-')?;
            let start = usize::from_str_radix(start, 16).ok()?;
            let end = usize::from_str_radix(end, 16).ok()?;
            (start..end).contains(&address).then_some((start, end))
        })
    }

    /// W^X, as the kernel sees it: published code is executable and not writable, dropped code
    /// waiting in the pool is writable and not executable, and no mapping of the process is
    /// ever both.
    #[cfg(target_os = "linux")]
    #[test]
    fn code_memory_is_never_writable_and_executable() {
        // A size no other test's code has (see above).
        let code = publish(&[0xc3; 170 * 4096 + 3]).unwrap();
        let address = code.as_ptr() as usize;
        assert_eq!(permissions(address), (Some("r-x".to_string()), false));
        drop(code);
        // Waiting in the pool (or unmapped, if the pool happened to be full).
        let (waiting, wx) = permissions(address);
        assert!(!wx);
        assert!(
            matches!(waiting.as_deref(), Some("rw-") | None),
            "{waiting:?}"
        );
        let again = publish(&[0x90; 170 * 4096 + 1]).unwrap();
        let address = again.as_ptr() as usize;
        assert_eq!(permissions(address), (Some("r-x".to_string()), false));
    }
}

//! Code memory reused from compile to compile.
//!
//! Mapping fresh memory for every compile (`mmap`, a page fault per page while copying, then
//! `mprotect`, and `munmap` when the code is dropped) cost more than generating the code of a
//! small program. Instead, dropped code returns its mapping here, and the next compile that
//! fits takes it back: one `mprotect` when code is dropped, one when code is published, no
//! page faults.
//!
//! W^X holds throughout: a mapping is either writable (while code is copied in, and while it
//! waits here) or executable (while a [`Code`](crate::Code) owns it), never both. A mapping
//! goes back to writable only when its code is dropped, and nothing can run code that is
//! dropped: generated code runs only while its `Code` is borrowed. Waiting mappings are not
//! executable, so stale code is never left runnable.

use std::sync::Mutex;

use dynasmrt::mmap::{ExecutableBuffer, MutableBuffer};

/// Mappings waiting to be reused, writable and not executable.
static FREE: Mutex<Vec<MutableBuffer>> = Mutex::new(Vec::new());

/// At most this many mappings wait; more are unmapped.
const MAX_FREE: usize = 32;
/// Mappings larger than this are unmapped rather than kept (big code is rare, and mapping it
/// costs little next to generating it).
const MAX_KEPT: usize = 1 << 20;
/// Mappings are made in multiples of this, so that one fits code of similar sizes.
const GRANULE: usize = 4096;

/// Executable memory that returns to the pool when dropped.
#[derive(Debug)]
pub(crate) struct Pooled(Option<ExecutableBuffer>);

impl std::ops::Deref for Pooled {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        self.0.as_deref().unwrap_or(&[])
    }
}

impl Drop for Pooled {
    fn drop(&mut self) {
        let Some(buffer) = self.0.take() else { return };
        if buffer.size() > MAX_KEPT || FREE.lock().is_ok_and(|free| free.len() >= MAX_FREE) {
            return;
        }
        // Not executable any more before it can be written again (W^X); if that fails, the
        // mapping is unmapped instead.
        if let Ok(mut writable) = buffer.make_mut() {
            writable.set_len(0);
            if let Ok(mut free) = FREE.lock()
                && free.len() < MAX_FREE
            {
                free.push(writable);
            }
        }
    }
}

/// A writable, non-executable mapping of at least `len` bytes: a waiting one if one fits (the
/// smallest that does), a fresh one otherwise.
fn take(len: usize) -> std::io::Result<MutableBuffer> {
    if let Ok(mut free) = FREE.lock()
        && let Some((index, _)) = free
            .iter()
            .enumerate()
            .filter(|(_, b)| b.size() >= len)
            .min_by_key(|(_, b)| b.size())
    {
        return Ok(free.swap_remove(index));
    }
    MutableBuffer::new(len.max(1).next_multiple_of(GRANULE))
}

/// Copies `bytes` into writable memory, then makes it executable only.
pub(crate) fn publish(bytes: &[u8]) -> std::io::Result<Pooled> {
    let mut buffer = take(bytes.len())?;
    buffer.set_len(bytes.len());
    buffer.copy_from_slice(bytes);
    // On aarch64 the caches are synchronised for the new bytes first, which also covers a
    // mapping that held other code before (`ic ivau` drops the stale lines everywhere).
    #[cfg(target_arch = "aarch64")]
    let buffer = crate::aarch64::cache::publish(buffer)?;
    #[cfg(not(target_arch = "aarch64"))]
    let buffer = buffer.make_exec()?;
    Ok(Pooled(Some(buffer)))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Dropped code memory is reused, and each use holds exactly the new bytes.
    #[test]
    fn dropped_code_memory_is_reused_with_the_new_bytes() {
        // A size no other test's code has, so that a parallel test cannot take it.
        let first = publish(&[0xcc; 150 * GRANULE + 17]).unwrap();
        let address = first.as_ptr();
        drop(first);
        let second = publish(&[0x90; 150 * GRANULE + 5]).unwrap();
        assert_eq!(second.as_ptr(), address);
        assert_eq!(second.len(), 150 * GRANULE + 5);
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

    /// W^X, as the kernel sees it: published code is executable and not writable, dropped code
    /// waiting in the pool is writable and not executable, and no mapping of the process is
    /// ever both.
    #[cfg(target_os = "linux")]
    #[test]
    fn code_memory_is_never_writable_and_executable() {
        // A size no other test's code has (see above).
        let code = publish(&[0xc3; 170 * GRANULE + 3]).unwrap();
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
        let again = publish(&[0x90; 170 * GRANULE + 1]).unwrap();
        let address = again.as_ptr() as usize;
        assert_eq!(permissions(address), (Some("r-x".to_string()), false));
    }
}

//! Whether `bpf(2)` can be used here at all.

use crate::error::{Errno, Error};
use crate::map::{Map, MapCreate};
use bpfkit_uapi::{MapDef, MapType};

/// Why `bpf(2)` cannot be used here, as found by [`probe`].
#[derive(Debug, thiserror::Error)]
pub enum Unavailable {
    /// `EPERM`: the process may not use `bpf(2)` (it needs root or `CAP_BPF`; a seccomp
    /// filter or kernel lockdown can also refuse it).
    #[error("bpf(2) is not permitted here (needs root or CAP_BPF): {0}")]
    NotPermitted(#[source] Error),
    /// `ENOSYS`: the kernel has no `bpf(2)` (built without `CONFIG_BPF_SYSCALL`, or a seccomp
    /// filter hides it).
    #[error("this kernel has no bpf(2): {0}")]
    NoSyscall(#[source] Error),
    /// The probe failed in another way: `bpf(2)` exists and is permitted, yet does not work.
    #[error("bpf(2) does not work here: {0}")]
    Failed(#[source] Error),
}

impl Unavailable {
    /// Whether the reason is the environment (no permission, no `bpf(2)`) rather than a failure
    /// worth reporting: tests may skip for these reasons, and only for these.
    pub fn is_environmental(&self) -> bool {
        matches!(
            self,
            Unavailable::NotPermitted(_) | Unavailable::NoSyscall(_)
        )
    }
}

/// Checks that `bpf(2)` works here by creating (and closing) a one-element array map.
///
/// ```
/// match bpfkit_sys::probe() {
///     Ok(()) => println!("bpf(2) works"),
///     Err(why) => println!("no bpf(2): {why}"),
/// }
/// ```
pub fn probe() -> Result<(), Unavailable> {
    match Map::create(
        MapCreate::new(MapDef::new(MapType::ARRAY, 4, 8, 1)).with_name("bpfkit_probe"),
    ) {
        Ok(_) => Ok(()),
        Err(e) => Err(match e.errno() {
            Some(Errno(libc::EPERM)) => Unavailable::NotPermitted(e),
            Some(Errno(libc::ENOSYS)) => Unavailable::NoSyscall(e),
            _ => Unavailable::Failed(e),
        }),
    }
}

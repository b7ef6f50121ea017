//! Tracing helpers: the current task (`bpf_get_current_pid_tgid`, `_uid_gid`, `_comm`) and
//! the probe reads.
//!
//! A probe read copies from memory the program does not own: kernel memory for
//! `bpf_probe_read_kernel`, user memory for `bpf_probe_read_user`. Userspace has neither, so the
//! [`Host`](crate::Host) holds tables a test fills (`kernel_memory`, `user_memory`); the
//! program's own memory (its stack, map values, context) counts as kernel memory, as it is in
//! the kernel. Failures follow x86_64: an address in the user half is `-ERANGE` for a kernel
//! read, an unmapped kernel address `-EFAULT`, and the destination is zeroed.

use super::{HelperEnv, neg};
use crate::fault::Fault;
use crate::host::Host;
use crate::maps::libc_errno::{EFAULT, ERANGE};

type Args = [u64; 5];

/// `TASK_SIZE_MAX + PAGE_SIZE` on x86_64: below it, an address is user memory.
const USER_END: u64 = 0x0000_7fff_ffff_f000 + 4096;

#[derive(Clone, Copy, PartialEq, Eq)]
enum Space {
    Kernel,
    User,
    /// `bpf_probe_read`/`_str`: user below `TASK_SIZE`, kernel above, but the program's own
    /// memory first (old programs read their stack through it).
    Either,
}

/// Up to `len` bytes at `addr` in `space` (fewer when a string ends its table entry); the
/// errno when nothing can be read.
fn source(
    env: &HelperEnv<'_, '_, '_>,
    space: Space,
    addr: u64,
    len: usize,
    whole: bool,
) -> Result<Vec<u8>, i64> {
    let own = |env: &HelperEnv<'_, '_, '_>| -> Option<Vec<u8>> {
        if whole {
            env.m.mem.slice(addr, len).map(<[u8]>::to_vec)
        } else {
            (1..=len)
                .rev()
                .find_map(|n| env.m.mem.slice(addr, n))
                .map(<[u8]>::to_vec)
        }
    };
    let table = |t: &std::collections::BTreeMap<u64, Vec<u8>>| -> Option<Vec<u8>> {
        if whole {
            Host::probe(t, addr, len).map(<[u8]>::to_vec)
        } else {
            Host::probe_tail(t, addr).map(|b| b[..b.len().min(len)].to_vec())
        }
    };
    let host = &*env.m.host;
    match space {
        Space::Kernel => {
            if let Some(b) = own(env).or_else(|| table(&host.kernel_memory)) {
                return Ok(b);
            }
            Err(if addr < USER_END { ERANGE } else { EFAULT })
        }
        Space::User => table(&host.user_memory).ok_or(EFAULT),
        Space::Either => own(env)
            .or_else(|| {
                if addr < USER_END {
                    table(&host.user_memory)
                } else {
                    table(&host.kernel_memory)
                }
            })
            .ok_or(EFAULT),
    }
}

fn probe_read_common(env: &mut HelperEnv<'_, '_, '_>, a: Args, space: Space) -> Result<u64, Fault> {
    let (dst, size, src) = (a[0], a[1] as u32 as usize, a[2]);
    if size == 0 {
        return Ok(0);
    }
    match source(env, space, src, size, true) {
        Ok(bytes) => {
            env.write(dst, &bytes)?;
            Ok(0)
        }
        Err(errno) => {
            env.zero(dst, size)?;
            Ok(neg(errno))
        }
    }
}

fn probe_read_str_common(
    env: &mut HelperEnv<'_, '_, '_>,
    a: Args,
    space: Space,
) -> Result<u64, Fault> {
    let (dst, size, src) = (a[0], a[1] as u32 as usize, a[2]);
    if size == 0 {
        return Ok(0);
    }
    let bytes = match source(env, space, src, size, false) {
        Ok(bytes) => bytes,
        Err(errno) => {
            env.zero(dst, size)?;
            return Ok(neg(errno));
        }
    };
    match bytes.iter().position(|&b| b == 0) {
        Some(nul) => {
            env.write(dst, &bytes[..=nul])?;
            Ok(nul as u64 + 1)
        }
        None if bytes.len() == size => {
            let mut out = bytes;
            out[size - 1] = 0;
            env.write(dst, &out)?;
            Ok(size as u64)
        }
        // The string runs into unmapped memory before its end.
        None => {
            env.zero(dst, size)?;
            Ok(neg(EFAULT))
        }
    }
}

/// `bpf_probe_read(dst, size, src)`.
pub(super) fn probe_read(env: &mut HelperEnv<'_, '_, '_>, a: Args) -> Result<u64, Fault> {
    probe_read_common(env, a, Space::Either)
}

/// `bpf_probe_read_str(dst, size, src)`.
pub(super) fn probe_read_str(env: &mut HelperEnv<'_, '_, '_>, a: Args) -> Result<u64, Fault> {
    probe_read_str_common(env, a, Space::Either)
}

/// `bpf_probe_read_kernel(dst, size, src)`.
pub(super) fn probe_read_kernel(env: &mut HelperEnv<'_, '_, '_>, a: Args) -> Result<u64, Fault> {
    probe_read_common(env, a, Space::Kernel)
}

/// `bpf_probe_read_kernel_str(dst, size, src)`.
pub(super) fn probe_read_kernel_str(
    env: &mut HelperEnv<'_, '_, '_>,
    a: Args,
) -> Result<u64, Fault> {
    probe_read_str_common(env, a, Space::Kernel)
}

/// `bpf_probe_read_user(dst, size, src)`.
pub(super) fn probe_read_user(env: &mut HelperEnv<'_, '_, '_>, a: Args) -> Result<u64, Fault> {
    probe_read_common(env, a, Space::User)
}

/// `bpf_probe_read_user_str(dst, size, src)`.
pub(super) fn probe_read_user_str(env: &mut HelperEnv<'_, '_, '_>, a: Args) -> Result<u64, Fault> {
    probe_read_str_common(env, a, Space::User)
}

/// `bpf_get_current_pid_tgid()`: `tgid << 32 | pid`.
pub(super) fn get_current_pid_tgid(env: &mut HelperEnv<'_, '_, '_>, _: Args) -> Result<u64, Fault> {
    Ok(env.host().pid_tgid)
}

/// `bpf_get_current_uid_gid()`: `gid << 32 | uid`.
pub(super) fn get_current_uid_gid(env: &mut HelperEnv<'_, '_, '_>, _: Args) -> Result<u64, Fault> {
    Ok(env.host().uid_gid)
}

/// `bpf_get_current_comm(buf, size)`: the task's name, truncated to `size - 1` bytes, then
/// NUL-padded to `size` (`strscpy_pad`).
pub(super) fn get_current_comm(env: &mut HelperEnv<'_, '_, '_>, a: Args) -> Result<u64, Fault> {
    let (buf, size) = (a[0], a[1] as u32 as usize);
    // The destination is checked and zeroed in place: `size` comes from the program and may
    // be 4 GiB, which must fault on the region, not be allocated first.
    env.zero(buf, size)?;
    if size > 0 {
        // TASK_COMM_LEN is 16: at most 15 bytes of name.
        let mut name = [0u8; 15];
        let comm = env.host().comm.as_bytes();
        let n = comm.len().min(15).min(size - 1);
        name[..n].copy_from_slice(&comm[..n]);
        env.write(buf, &name[..n])?;
    }
    Ok(0)
}

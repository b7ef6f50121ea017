//! Time, randomness, the CPU, `bpf_loop` and spin locks. Everything the kernel reads from the
//! running system comes from the [`Host`](crate::Host), so it is deterministic and settable.

use super::{HelperEnv, neg};
use crate::fault::Fault;
use crate::maps::libc_errno::{E2BIG, EINVAL};

type Args = [u64; 5];

/// `bpf_ktime_get_ns()` (and the coarse and TAI clocks): the host's monotonic clock.
pub(super) fn ktime_get_ns(env: &mut HelperEnv<'_, '_, '_>, _: Args) -> Result<u64, Fault> {
    Ok(env.host().ktime())
}

/// `bpf_ktime_get_boot_ns()`: the monotonic clock plus the time spent suspended.
pub(super) fn ktime_get_boot_ns(env: &mut HelperEnv<'_, '_, '_>, _: Args) -> Result<u64, Fault> {
    let host = env.host();
    let offset = host.boot_offset_ns;
    Ok(host.ktime().wrapping_add(offset))
}

/// `bpf_jiffies64()`: the monotonic clock in ticks of `HZ`.
pub(super) fn jiffies64(env: &mut HelperEnv<'_, '_, '_>, _: Args) -> Result<u64, Fault> {
    let host = env.host();
    Ok((host.ktime_ns as u128 * host.hz as u128 / 1_000_000_000) as u64)
}

/// `bpf_get_prandom_u32()`: the host's seeded generator.
pub(super) fn get_prandom_u32(env: &mut HelperEnv<'_, '_, '_>, _: Args) -> Result<u64, Fault> {
    Ok(env.host().prandom_u32() as u64)
}

/// `bpf_get_smp_processor_id()`.
pub(super) fn get_smp_processor_id(env: &mut HelperEnv<'_, '_, '_>, _: Args) -> Result<u64, Fault> {
    Ok(env.host().cpu as u64)
}

/// `bpf_get_numa_node_id()`.
pub(super) fn get_numa_node_id(env: &mut HelperEnv<'_, '_, '_>, _: Args) -> Result<u64, Fault> {
    Ok(env.host().numa_node as u64)
}

/// `BPF_MAX_LOOPS`.
const MAX_LOOPS: u64 = 1 << 23;

/// `bpf_loop(nr_loops, callback, ctx, flags)`: calls `callback(i, ctx)` for `i` from 0 until it
/// returns non-zero or `nr_loops` calls were made; returns the number of calls.
pub(super) fn bpf_loop(env: &mut HelperEnv<'_, '_, '_>, a: Args) -> Result<u64, Fault> {
    let (nr_loops, callback, ctx, flags) = (a[0] as u32 as u64, a[1], a[2], a[3]);
    if flags != 0 {
        return Ok(neg(EINVAL));
    }
    if nr_loops > MAX_LOOPS {
        return Ok(neg(E2BIG));
    }
    for i in 0..nr_loops {
        if env.call_function(callback, [i, ctx, 0, 0, 0])? != 0 {
            return Ok(i + 1);
        }
    }
    Ok(nr_loops)
}

/// `bpf_spin_lock(lock)`: a run is single-threaded, so the lock is always free.
pub(super) fn spin_lock(env: &mut HelperEnv<'_, '_, '_>, a: Args) -> Result<u64, Fault> {
    env.read(a[0], 4)?;
    Ok(0)
}

/// `bpf_spin_unlock(lock)`.
pub(super) fn spin_unlock(env: &mut HelperEnv<'_, '_, '_>, a: Args) -> Result<u64, Fault> {
    env.read(a[0], 4)?;
    Ok(0)
}

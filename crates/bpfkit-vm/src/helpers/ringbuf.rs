//! Ring buffer helpers: output, reserve, submit, discard, query.

use super::{HelperEnv, neg};
use crate::fault::Fault;
use crate::maps::libc_errno::{EAGAIN, EINVAL};
use crate::maps::{Index, MapId, RingBuf};
use crate::memory::MAP_VALUE_REGION;

type Args = [u64; 5];

/// `BPF_RB_NO_WAKEUP | BPF_RB_FORCE_WAKEUP`.
const WAKEUP_FLAGS: u64 = 3;

/// The ring of `map` and its data region (separate borrows of the run).
fn ring<'e>(
    env: &'e mut HelperEnv<'_, '_, '_>,
    map: MapId,
) -> Option<(&'e mut RingBuf, &'e mut [u8])> {
    let m = &mut *env.m;
    let data = m.mem.region_mut(MAP_VALUE_REGION + map.0 as u64)?;
    match &mut m.maps.get_mut(map.0 as usize)?.index {
        Index::RingBuf(rb) => Some((rb, data)),
        _ => None,
    }
}

/// `bpf_ringbuf_output(ringbuf, data, size, flags)`: 0, `-EAGAIN` when full.
pub(super) fn ringbuf_output(env: &mut HelperEnv<'_, '_, '_>, a: Args) -> Result<u64, Fault> {
    let map = env.map(a[0])?;
    if a[3] & !WAKEUP_FLAGS != 0 {
        return Ok(neg(EINVAL));
    }
    let data = env.read(a[1], a[2] as usize)?.to_vec();
    let Some((rb, region)) = ring(env, map) else {
        return Ok(neg(EINVAL));
    };
    let Some(at) = rb.reserve(region, a[2]) else {
        return Ok(neg(EAGAIN));
    };
    region[at as usize..at as usize + data.len()].copy_from_slice(&data);
    rb.commit(region, at, false);
    Ok(0)
}

/// `bpf_ringbuf_reserve(ringbuf, size, flags)`: a record to fill, or 0.
pub(super) fn ringbuf_reserve(env: &mut HelperEnv<'_, '_, '_>, a: Args) -> Result<u64, Fault> {
    let map = env.map(a[0])?;
    if a[2] != 0 {
        return Ok(0);
    }
    let Some((rb, region)) = ring(env, map) else {
        return Ok(0);
    };
    Ok(match rb.reserve(region, a[1]) {
        Some(at) => env.value_addr(map, at),
        None => 0,
    })
}

fn commit(env: &mut HelperEnv<'_, '_, '_>, sample: u64, discard: bool) -> Result<u64, Fault> {
    let map = MapId((sample >> 32).wrapping_sub(MAP_VALUE_REGION) as u32);
    let pc_fail = env.fail(format!("{sample:#x} is not a reserved ring buffer record"));
    let Some((rb, region)) = ring(env, map) else {
        return Err(pc_fail);
    };
    if !rb.commit(region, sample & 0xffff_ffff, discard) {
        return Err(pc_fail);
    }
    Ok(0)
}

/// `bpf_ringbuf_submit(data, flags)`.
pub(super) fn ringbuf_submit(env: &mut HelperEnv<'_, '_, '_>, a: Args) -> Result<u64, Fault> {
    commit(env, a[0], false)
}

/// `bpf_ringbuf_discard(data, flags)`.
pub(super) fn ringbuf_discard(env: &mut HelperEnv<'_, '_, '_>, a: Args) -> Result<u64, Fault> {
    commit(env, a[0], true)
}

/// `bpf_ringbuf_query(ringbuf, flags)`: available data, ring size, consumer or producer
/// position; 0 for other flags.
pub(super) fn ringbuf_query(env: &mut HelperEnv<'_, '_, '_>, a: Args) -> Result<u64, Fault> {
    let map = env.map(a[0])?;
    let Index::RingBuf(rb) = &env.keys(map).index else {
        return Ok(0);
    };
    let q = rb.query();
    Ok(match a[1] {
        0 => q.avail_data,
        1 => q.ring_size,
        2 => q.cons_pos,
        3 => q.prod_pos,
        _ => 0,
    })
}

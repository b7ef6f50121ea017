//! Map helpers: lookup, update, delete, push, pop, peek, per-cpu lookup, iteration, perf event
//! output and XDP map redirects, with the kernel's return values.

use bpfkit_uapi::MapType;

use super::{HelperEnv, neg};
use crate::fault::Fault;
use crate::host::Redirect;
use crate::maps::libc_errno::{E2BIG, EFAULT, EINVAL, ENOENT, EOPNOTSUPP};
use crate::maps::{Found, Index, MapError, MapId, PerfRecord};
use crate::memory::{MAP_HANDLE_REGION, SCRATCH_REGION, STACK_SIZE, region_base};

type Args = [u64; 5];

fn key_of(env: &HelperEnv<'_, '_, '_>, map: MapId, addr: u64) -> Result<Vec<u8>, Fault> {
    let size = env.keys(map).def().key_size as usize;
    Ok(env.read(addr, size)?.to_vec())
}

fn found_addr(env: &HelperEnv<'_, '_, '_>, map: MapId, found: Option<Found>) -> u64 {
    match found {
        Some(Found::Value(offset)) => env.value_addr(map, offset),
        Some(Found::Map(id)) => region_base(MAP_HANDLE_REGION) | id as u64,
        None => 0,
    }
}

/// `bpf_map_lookup_elem(map, key)`: a pointer to the value (on this CPU), an inner map, or 0.
pub(super) fn map_lookup_elem(env: &mut HelperEnv<'_, '_, '_>, a: Args) -> Result<u64, Fault> {
    let map = env.map(a[0])?;
    let key = key_of(env, map, a[1])?;
    let cpu = env.host().cpu;
    let found = env.keys_mut(map).lookup(&key, cpu);
    Ok(found_addr(env, map, found))
}

/// `bpf_map_lookup_percpu_elem(map, key, cpu)`: the value on `cpu`, or 0.
pub(super) fn map_lookup_percpu_elem(
    env: &mut HelperEnv<'_, '_, '_>,
    a: Args,
) -> Result<u64, Fault> {
    let map = env.map(a[0])?;
    let key = key_of(env, map, a[1])?;
    let cpu = a[2] as u32;
    if cpu >= env.keys(map).cpus {
        return Ok(0);
    }
    let found = env.keys_mut(map).lookup(&key, cpu);
    Ok(found_addr(env, map, found))
}

/// `bpf_map_update_elem(map, key, value, flags)`: 0 or a negative errno. A per-cpu map's
/// update writes this CPU's value; a new per-cpu hash element starts at zero on the others.
pub(super) fn map_update_elem(env: &mut HelperEnv<'_, '_, '_>, a: Args) -> Result<u64, Fault> {
    let map = env.map(a[0])?;
    let def = *env.keys(map).def();
    let key = key_of(env, map, a[1])?;
    let value = env.read(a[2], def.value_size as usize)?.to_vec();
    if !matches!(
        env.keys(map).index,
        Index::Array | Index::Hash(_) | Index::Lpm(_)
    ) {
        return Ok(neg(EINVAL));
    }
    let cpu = env.host().cpu;
    let slot = match env.keys_mut(map).update_slot(&key, a[3]) {
        Ok(slot) => slot,
        Err(e) => return Ok(e.errno() as u64),
    };
    let keys = env.keys(map);
    let percpu = matches!(
        def.map_type,
        MapType::PERCPU_ARRAY | MapType::PERCPU_HASH | MapType::LRU_PERCPU_HASH
    );
    let others: Vec<u64> = if percpu && slot.fresh {
        (0..keys.cpus)
            .filter(|&c| c != cpu)
            .map(|c| keys.value_offset(slot.index, c))
            .collect()
    } else {
        Vec::new()
    };
    let mine = keys.value_offset(slot.index, cpu);
    let region = env.value_region(map);
    let size = value.len();
    region[mine as usize..][..size].copy_from_slice(&value);
    for offset in others {
        region[offset as usize..][..size].fill(0);
    }
    Ok(0)
}

/// `bpf_map_delete_elem(map, key)`: 0 or a negative errno.
pub(super) fn map_delete_elem(env: &mut HelperEnv<'_, '_, '_>, a: Args) -> Result<u64, Fault> {
    let map = env.map(a[0])?;
    let key = key_of(env, map, a[1])?;
    Ok(env
        .keys_mut(map)
        .delete(&key)
        .map_or_else(|e| e.errno() as u64, |()| 0))
}

/// `bpf_map_push_elem(map, value, flags)`: queue, stack or bloom filter.
pub(super) fn map_push_elem(env: &mut HelperEnv<'_, '_, '_>, a: Args) -> Result<u64, Fault> {
    let map = env.map(a[0])?;
    let size = env.keys(map).def().value_size as usize;
    let value = env.read(a[1], size)?.to_vec();
    if let Index::Bloom(b) = &mut env.keys_mut(map).index {
        return Ok(b
            .push(&value, a[2])
            .map_or_else(|e| e.errno() as u64, |()| 0));
    }
    if !matches!(env.keys(map).index, Index::Queue(_)) {
        return Ok(MapError::Invalid.errno() as u64);
    }
    match env.keys_mut(map).push_slot(a[2]) {
        Ok(slot) => {
            let at = slot as usize * size;
            env.value_region(map)[at..at + size].copy_from_slice(&value);
            Ok(0)
        }
        Err(e) => Ok(e.errno() as u64),
    }
}

fn pop_or_peek(env: &mut HelperEnv<'_, '_, '_>, a: Args, delete: bool) -> Result<u64, Fault> {
    let map = env.map(a[0])?;
    let size = env.keys(map).def().value_size as usize;
    if let Index::Bloom(b) = &env.keys(map).index {
        if delete {
            return Ok(neg(EOPNOTSUPP));
        }
        let value = env.read(a[1], size)?;
        return Ok(b.peek(value).map_or_else(|e| e.errno() as u64, |()| 0));
    }
    if !matches!(env.keys(map).index, Index::Queue(_)) {
        return Ok(neg(EINVAL));
    }
    match env.keys_mut(map).pop_slot(delete) {
        Ok(slot) => {
            let at = slot as usize * size;
            let value = env.value_region(map)[at..at + size].to_vec();
            env.write(a[1], &value)?;
            Ok(0)
        }
        Err(e) => {
            env.zero(a[1], size)?;
            Ok(e.errno() as u64)
        }
    }
}

/// `bpf_map_pop_elem(map, value)`: takes the next value of a queue or stack.
pub(super) fn map_pop_elem(env: &mut HelperEnv<'_, '_, '_>, a: Args) -> Result<u64, Fault> {
    pop_or_peek(env, a, true)
}

/// `bpf_map_peek_elem(map, value)`: reads the next value of a queue or stack, or tests a bloom
/// filter for `value`.
pub(super) fn map_peek_elem(env: &mut HelperEnv<'_, '_, '_>, a: Args) -> Result<u64, Fault> {
    pop_or_peek(env, a, false)
}

/// `bpf_for_each_map_elem(map, callback, ctx, flags)`: calls
/// `callback(map, key, value, ctx)` for each element until it returns non-zero; returns how
/// many elements it visited. The key is handed over in the scratch region.
pub(super) fn for_each_map_elem(env: &mut HelperEnv<'_, '_, '_>, a: Args) -> Result<u64, Fault> {
    let map = env.map(a[0])?;
    if a[3] != 0 {
        return Ok(neg(EINVAL));
    }
    let cpu = env.host().cpu;
    let order = env.keys(map).iteration_order();
    let key_addr = region_base(SCRATCH_REGION) + (env.m.depth * STACK_SIZE) as u64;
    let mut visited = 0u64;
    for (key, _) in order {
        // The callback may have deleted later elements.
        let Some(slot) = env.keys(map).find(&key) else {
            continue;
        };
        let value = env.value_addr(map, env.keys(map).value_offset(slot, cpu));
        let Some(dst) = env.memory().slice_mut_privileged(key_addr, key.len()) else {
            return Err(env.fail("the program does not call bpf_for_each_map_elem directly"));
        };
        dst.copy_from_slice(&key);
        visited += 1;
        let handle = region_base(MAP_HANDLE_REGION) | map.0 as u64;
        if env.call_function(a[1], [handle, key_addr, value, a[2], 0])? != 0 {
            break;
        }
    }
    Ok(visited)
}

/// `BPF_F_INDEX_MASK`, `BPF_F_CURRENT_CPU`, `BPF_F_CTXLEN_MASK`.
const INDEX_MASK: u64 = 0xffff_ffff;
const CTXLEN_MASK: u64 = 0xf_ffff << 32;

/// `bpf_perf_event_output(ctx, map, flags, data, size)`: appends a record to the perf buffer
/// of the index the flags name (`BPF_F_CURRENT_CPU`: this CPU's); for skb and XDP programs the
/// upper flag bits ask for that many bytes of the packet after the data.
pub(super) fn perf_event_output(env: &mut HelperEnv<'_, '_, '_>, a: Args) -> Result<u64, Fault> {
    let map = env.map(a[1])?;
    let flags = a[2];
    let packet_kind = env.packet().map(|p| p.kind);
    let allowed = if packet_kind.is_some() {
        INDEX_MASK | CTXLEN_MASK
    } else {
        INDEX_MASK
    };
    if flags & !allowed != 0 {
        return Ok(neg(EINVAL));
    }
    let ctx_len = ((flags & CTXLEN_MASK) >> 32) as u32;
    let mut packet_bytes = Vec::new();
    if ctx_len > 0 {
        let Some(p) = env.packet() else {
            return Ok(neg(EINVAL));
        };
        if ctx_len > p.len() {
            return Ok(neg(EFAULT));
        }
        let addr = p.addr(0);
        packet_bytes = env.read(addr, ctx_len as usize)?.to_vec();
    }
    let mut data = env.read(a[3], a[4] as usize)?.to_vec();
    data.extend_from_slice(&packet_bytes);
    let cpu = env.host().cpu;
    let Index::PerfEvents(events) = &mut env.keys_mut(map).index else {
        return Ok(neg(EINVAL));
    };
    let mut index = flags & INDEX_MASK;
    if index == INDEX_MASK {
        index = cpu as u64;
    }
    let Some(open) = events.open.get(index as usize) else {
        return Ok(neg(E2BIG));
    };
    match open {
        None => Ok(neg(ENOENT)),
        Some(on) if *on != cpu => Ok(neg(EOPNOTSUPP)),
        Some(_) => {
            events.records.push(PerfRecord { cpu, data });
            Ok(0)
        }
    }
}

/// `XDP_ABORTED`..`XDP_TX`, the actions a failed `bpf_redirect_map` may return.
const XDP_ACTION_MASK: u64 = 3;
/// `XDP_REDIRECT`.
const XDP_REDIRECT: u64 = 4;
/// `BPF_F_BROADCAST` and `BPF_F_EXCLUDE_INGRESS`.
const BPF_F_BROADCAST: u64 = 1 << 3;
const BPF_F_EXCLUDE_INGRESS: u64 = 1 << 4;

/// `bpf_redirect_map(map, key, flags)` (XDP): `XDP_REDIRECT` when the devmap, cpumap or xskmap
/// has `key`, recording the redirect; otherwise the action in the flags' low bits.
pub(super) fn redirect_map(env: &mut HelperEnv<'_, '_, '_>, a: Args) -> Result<u64, Fault> {
    let map = env.map(a[0])?;
    let (key, flags) = (a[1] as u32, a[2]);
    let map_type = env.keys(map).def().map_type;
    let flag_mask = match map_type {
        MapType::DEVMAP | MapType::DEVMAP_HASH => BPF_F_BROADCAST | BPF_F_EXCLUDE_INGRESS,
        MapType::CPUMAP | MapType::XSKMAP => 0,
        _ => return Ok(neg(EINVAL)),
    };
    if flags & !(XDP_ACTION_MASK | flag_mask) != 0 {
        return Ok(0); // XDP_ABORTED
    }
    let found = env.keys_mut(map).lookup(&key.to_le_bytes(), 0).is_some();
    if !found && flags & BPF_F_BROADCAST == 0 {
        env.host().redirect = None;
        return Ok(flags & XDP_ACTION_MASK);
    }
    env.host().redirect = Some(Redirect::Map {
        map: format!("#{}", map.0),
        key,
        flags,
    });
    Ok(XDP_REDIRECT)
}

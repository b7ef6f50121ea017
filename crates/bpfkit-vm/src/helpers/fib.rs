//! `bpf_fib_lookup`: a route lookup in the table the test gives the [`Host`](crate::Host)
//! (routes, neighbours, interfaces), with the kernel's result codes and the fields of
//! `struct bpf_fib_lookup` it fills in.

use super::{HelperEnv, neg};
use crate::fault::Fault;
use crate::host::Route;
use crate::maps::libc_errno::EINVAL;

type Args = [u64; 5];

/// `sizeof(struct bpf_fib_lookup)`.
const PARAMS_SIZE: u64 = 64;
/// `BPF_FIB_LOOKUP_DIRECT | OUTPUT | SKIP_NEIGH | TBID | SRC | MARK`.
const KNOWN_FLAGS: u64 = 0x3f;
/// `BPF_FIB_LKUP_RET_*`.
const RET_SUCCESS: u64 = 0;
const RET_NOT_FWDED: u64 = 4;
const RET_NO_NEIGH: u64 = 7;
const RET_FRAG_NEEDED: u64 = 8;
const RET_UNSUPP_LWT: u64 = 6;
/// `AF_INET`, `AF_INET6`.
const AF_INET: u8 = 2;
const AF_INET6: u8 = 10;

fn matches(route: &Route, addr: &[u8]) -> bool {
    if route.dst.len() != addr.len() || route.prefix_len as usize > addr.len() * 8 {
        return false;
    }
    (0..route.prefix_len as usize).all(|bit| {
        let mask = 0x80 >> (bit % 8);
        route.dst[bit / 8] & mask == addr[bit / 8] & mask
    })
}

/// `bpf_fib_lookup(ctx, params, plen, flags)`.
pub(super) fn fib_lookup(env: &mut HelperEnv<'_, '_, '_>, a: Args) -> Result<u64, Fault> {
    let (params, plen, flags) = (a[1], a[2], a[3]);
    if plen < PARAMS_SIZE || flags & !KNOWN_FLAGS != 0 {
        return Ok(neg(EINVAL));
    }
    let mut p = env.read(params, PARAMS_SIZE as usize)?.to_vec();
    let (dst, family) = match p[0] {
        AF_INET => (p[32..36].to_vec(), AF_INET),
        AF_INET6 => (p[32..48].to_vec(), AF_INET6),
        _ => return Ok(neg(libc_afnosupport())),
    };
    let host = env.host();
    let Some(route) = host
        .routes
        .iter()
        .filter(|r| matches(r, &dst))
        .max_by_key(|r| r.prefix_len)
        .cloned()
    else {
        return Ok(RET_NOT_FWDED);
    };
    let Some(dev) = host.interface(route.ifindex).cloned() else {
        return Ok(RET_UNSUPP_LWT);
    };
    let tot_len = u16::from_le_bytes([p[6], p[7]]) as u32;
    if tot_len > dev.mtu {
        p[6..8].copy_from_slice(&(dev.mtu as u16).to_le_bytes());
        env.write(params, &p)?;
        return Ok(RET_FRAG_NEEDED);
    }
    let next_hop = if route.gateway.is_empty() {
        dst.clone()
    } else {
        route.gateway.clone()
    };
    p[8..12].copy_from_slice(&route.ifindex.to_le_bytes());
    if !route.gateway.is_empty() {
        let at = 32;
        p[at..at + next_hop.len()].copy_from_slice(&next_hop);
    }
    p[48..52].fill(0);
    p[52..58].copy_from_slice(&dev.mac);
    let neighbour = host
        .neighbours
        .iter()
        .find(|n| n.ifindex == route.ifindex && n.addr == next_hop)
        .map(|n| n.mac);
    let _ = family;
    match neighbour {
        Some(mac) => {
            p[58..64].copy_from_slice(&mac);
            env.write(params, &p)?;
            Ok(RET_SUCCESS)
        }
        None => {
            env.write(params, &p)?;
            Ok(RET_NO_NEIGH)
        }
    }
}

/// `EAFNOSUPPORT`.
fn libc_afnosupport() -> i64 {
    97
}

//! Checksum helpers: `bpf_csum_diff`, `bpf_l3_csum_replace`, `bpf_l4_csum_replace`, with the
//! kernel's checksum arithmetic (`csum_partial` of x86_64, `csum_fold`, `csum_replace*`).

use super::{HelperEnv, neg};
use crate::fault::Fault;
use crate::maps::libc_errno::{EFAULT, EINVAL};
use crate::packet::PacketKind;

type Args = [u64; 5];

/// `csum_partial(buff, len, sum)` as x86_64 computes it: 64-bit one's complement additions of
/// little-endian words (the tail zero-padded), folded to 32 bits.
pub(crate) fn csum_partial(bytes: &[u8], sum: u32) -> u32 {
    let add = |acc: u64, v: u64| {
        let (s, carry) = acc.overflowing_add(v);
        s + carry as u64
    };
    let mut acc = sum as u64;
    let mut words = bytes.chunks_exact(8);
    for w in &mut words {
        acc = add(acc, u64::from_le_bytes(w.try_into().expect("8 bytes")));
    }
    let tail = words.remainder();
    if !tail.is_empty() {
        let mut padded = [0u8; 8];
        padded[..tail.len()].copy_from_slice(tail);
        acc = add(acc, u64::from_le_bytes(padded));
    }
    ((acc as u128 + acc.rotate_right(32) as u128) >> 32) as u32
}

fn csum_add(a: u32, b: u32) -> u32 {
    let (s, carry) = a.overflowing_add(b);
    s.wrapping_add(carry as u32)
}

fn csum_sub(a: u32, b: u32) -> u32 {
    csum_add(a, !b)
}

/// `csum_fold`: the 16-bit one's complement of the folded sum.
fn csum_fold(sum: u32) -> u16 {
    !csum_from32to16(sum)
}

/// `csum_from32to16`: the 32-bit sum folded to 16 bits.
fn csum_from32to16(sum: u32) -> u16 {
    let s = sum.wrapping_add(sum.rotate_left(16));
    (s >> 16) as u16
}

/// `bpf_csum_diff(from, from_size, to, to_size, seed)`: the checksum of `to` less that of
/// `from`, seeded, folded to 16 bits (as every architecture computes it since Linux 6.13).
pub(super) fn csum_diff(env: &mut HelperEnv<'_, '_, '_>, a: Args) -> Result<u64, Fault> {
    let (from_size, to_size, seed) = (a[1] as u32 as usize, a[3] as u32 as usize, a[4] as u32);
    let from = if from_size > 0 {
        env.read(a[0], from_size)?.to_vec()
    } else {
        Vec::new()
    };
    let to = if to_size > 0 {
        env.read(a[2], to_size)?.to_vec()
    } else {
        Vec::new()
    };
    Ok(match (from_size, to_size) {
        (0, 0) => csum_from32to16(seed) as u64,
        (0, _) => csum_from32to16(csum_partial(&to, seed)) as u64,
        (_, 0) => csum_from32to16(!csum_partial(&from, !seed)) as u64,
        _ => csum_from32to16(csum_sub(csum_partial(&to, seed), csum_partial(&from, 0))) as u64,
    })
}

/// `BPF_F_HDR_FIELD_MASK`, `BPF_F_PSEUDO_HDR`, `BPF_F_MARK_MANGLED_0`, `BPF_F_MARK_ENFORCE`,
/// `BPF_F_IPV6`.
const HDR_FIELD_MASK: u64 = 0xf;
const PSEUDO_HDR: u64 = 1 << 4;
const MARK_MANGLED_0: u64 = 1 << 5;
const MARK_ENFORCE: u64 = 1 << 6;
const IPV6: u64 = 1 << 7;

/// The 16-bit checksum field at `offset` of an skb's packet, checked as
/// `bpf_try_make_writable` checks it.
fn field(env: &HelperEnv<'_, '_, '_>, offset: u64) -> Result<Option<u64>, Fault> {
    let Some(p) = env.packet().filter(|p| p.kind == PacketKind::Skb) else {
        return Err(env.fail("needs an __sk_buff context"));
    };
    if offset > 0xffff || offset & 1 != 0 || offset + 2 > p.len() as u64 {
        return Ok(None);
    }
    Ok(Some(p.addr(offset as u32)))
}

fn replace(sum: u16, from: u64, to: u64, size: u64) -> Option<u16> {
    Some(match size {
        // csum_replace_by_diff: `to` is a checksum difference.
        0 => csum_fold(csum_add(to as u32, !(sum as u32))),
        // csum_replace2 (inet_proto_csum_replace2 goes through the 4-byte form).
        2 => csum_fold(csum_add(
            csum_sub(!(sum as u32), from as u16 as u32),
            to as u16 as u32,
        )),
        4 => csum_fold(csum_add(csum_sub(!(sum as u32), from as u32), to as u32)),
        _ => return None,
    })
}

fn read16(env: &HelperEnv<'_, '_, '_>, addr: u64) -> Result<u16, Fault> {
    Ok(u16::from_le_bytes(
        env.read(addr, 2)?.try_into().expect("2 bytes"),
    ))
}

/// `bpf_l3_csum_replace(skb, offset, from, to, flags)`: updates the checksum at `offset` for a
/// 2- or 4-byte field that changed from `from` to `to` (size 0: `to` is a difference).
pub(super) fn l3_csum_replace(env: &mut HelperEnv<'_, '_, '_>, a: Args) -> Result<u64, Fault> {
    let (offset, from, to, flags) = (a[1] as u32 as u64, a[2], a[3], a[4]);
    if flags & !HDR_FIELD_MASK != 0 {
        return Ok(neg(EINVAL));
    }
    let Some(addr) = field(env, offset)? else {
        return Ok(neg(EFAULT));
    };
    let size = flags & HDR_FIELD_MASK;
    if size == 0 && from != 0 {
        return Ok(neg(EINVAL));
    }
    let sum = read16(env, addr)?;
    let Some(new) = replace(sum, from, to, size) else {
        return Ok(neg(EINVAL));
    };
    env.write(addr, &new.to_le_bytes())?;
    Ok(0)
}

/// `bpf_l4_csum_replace(skb, offset, from, to, flags)`: as the L3 form; the skb of a test run
/// has no partial checksum, so `BPF_F_PSEUDO_HDR` changes nothing, and `BPF_F_MARK_MANGLED_0`
/// keeps a zero (UDP "no checksum") field zero and writes `0xffff` for a result of zero.
pub(super) fn l4_csum_replace(env: &mut HelperEnv<'_, '_, '_>, a: Args) -> Result<u64, Fault> {
    let (offset, from, to, flags) = (a[1] as u32 as u64, a[2], a[3], a[4]);
    if flags & !(HDR_FIELD_MASK | PSEUDO_HDR | MARK_MANGLED_0 | MARK_ENFORCE | IPV6) != 0 {
        return Ok(neg(EINVAL));
    }
    let Some(addr) = field(env, offset)? else {
        return Ok(neg(EFAULT));
    };
    let mangled = flags & MARK_MANGLED_0 != 0;
    let sum = read16(env, addr)?;
    if mangled && flags & MARK_ENFORCE == 0 && sum == 0 {
        return Ok(0);
    }
    let size = flags & HDR_FIELD_MASK;
    if size == 0 && from != 0 {
        return Ok(neg(EINVAL));
    }
    let Some(mut new) = replace(sum, from, to, size) else {
        return Ok(neg(EINVAL));
    };
    if mangled && new == 0 {
        new = 0xffff;
    }
    env.write(addr, &new.to_le_bytes())?;
    Ok(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_ipv4_header_sums_to_ffff() {
        // The classic example header with its checksum 0xb861 in place.
        let hdr = [
            0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11, 0xb8, 0x61, 0xc0, 0xa8,
            0x00, 0x01, 0xc0, 0xa8, 0x00, 0xc7,
        ];
        assert_eq!(csum_fold(csum_partial(&hdr, 0)), 0);
        // Replacing the TTL byte pair keeps it valid.
        let sum = u16::from_le_bytes([0xb8, 0x61]);
        let from = u16::from_le_bytes([0x40, 0x11]) as u64;
        let to = u16::from_le_bytes([0x3f, 0x11]) as u64;
        let new = replace(sum, from, to, 2).unwrap();
        let mut changed = hdr;
        changed[8] = 0x3f;
        changed[10..12].copy_from_slice(&new.to_le_bytes());
        assert_eq!(csum_fold(csum_partial(&changed, 0)), 0);
    }
}

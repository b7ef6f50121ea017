//! Packet helpers of skb and XDP programs: loads and stores, resizing the packet, the flow
//! hash, redirects. They move the packet's offsets and then write the context's pointer fields
//! again, as the kernel recomputes `data` and `data_end` after every such helper.

use bpfkit_uapi::SK_BUFF;

use super::{HelperEnv, neg};
use crate::fault::Fault;
use crate::host::Redirect;
use crate::jhash::jhash2;
use crate::maps::libc_errno::{EACCES, EFAULT, EINVAL};
use crate::memory::{INPUT_REGION, region_base};
use crate::packet::{Packet, PacketKind};

type Args = [u64; 5];

/// `ETH_HLEN`.
const ETH_HLEN: i64 = 14;
/// The largest packet `bpf_skb_change_tail` makes on the loopback device (its MTU plus the
/// link-layer header).
const SKB_MAX_LEN: u64 = 65536 + 14;

fn skb<'e>(env: &'e HelperEnv<'_, '_, '_>) -> Result<&'e Packet, Fault> {
    env.packet()
        .filter(|p| p.kind == PacketKind::Skb)
        .ok_or_else(|| env.fail("needs an __sk_buff context"))
}

fn xdp_mut<'e>(env: &'e mut HelperEnv<'_, '_, '_>) -> Result<&'e mut Packet, Fault> {
    let fail = env.fail("needs an xdp_md context");
    env.packet_mut()
        .filter(|p| p.kind == PacketKind::Xdp)
        .ok_or(fail)
}

/// `bpf_skb_load_bytes(skb, offset, to, len)`: copies packet bytes from `skb->data + offset`;
/// out of range, zeroes `to` and returns `-EFAULT`.
pub(super) fn skb_load_bytes(env: &mut HelperEnv<'_, '_, '_>, a: Args) -> Result<u64, Fault> {
    let (offset, to, len) = (a[1] as u32 as u64, a[2], a[3] as u32 as u64);
    let p = skb(env)?;
    if offset > i32::MAX as u64 || offset + len > p.len() as u64 {
        env.zero(to, len as usize)?;
        return Ok(neg(EFAULT));
    }
    let bytes = env.read(p.addr(offset as u32), len as usize)?.to_vec();
    env.write(to, &bytes)?;
    Ok(0)
}

/// `BPF_F_RECOMPUTE_CSUM`, `BPF_F_INVALIDATE_HASH`.
const RECOMPUTE_CSUM: u64 = 1;
const INVALIDATE_HASH: u64 = 2;

fn skb_hash_addr() -> u64 {
    region_base(INPUT_REGION) + SK_BUFF.field("hash").expect("a field").offset as u64
}

/// `bpf_skb_store_bytes(skb, offset, from, len, flags)`: writes packet bytes.
pub(super) fn skb_store_bytes(env: &mut HelperEnv<'_, '_, '_>, a: Args) -> Result<u64, Fault> {
    let (offset, from, len, flags) = (a[1] as u32 as u64, a[2], a[3] as u32 as u64, a[4]);
    if flags & !(RECOMPUTE_CSUM | INVALIDATE_HASH) != 0 {
        return Ok(neg(EINVAL));
    }
    let p = skb(env)?;
    if offset > 0xffff || offset + len > p.len() as u64 {
        return Ok(neg(EFAULT));
    }
    let dst = p.addr(offset as u32);
    let bytes = env.read(from, len as usize)?.to_vec();
    env.write(dst, &bytes)?;
    if flags & INVALIDATE_HASH != 0 {
        env.write(skb_hash_addr(), &0u32.to_le_bytes())?;
    }
    Ok(0)
}

/// `bpf_skb_change_tail(skb, new_len, flags)`: grows (with zeros) or trims the packet.
pub(super) fn skb_change_tail(env: &mut HelperEnv<'_, '_, '_>, a: Args) -> Result<u64, Fault> {
    let (new_len, flags) = (a[1] as u32 as u64, a[2]);
    let p = skb(env)?;
    // __bpf_skb_min_len: the network header must stay in the packet.
    let min_len = (p.mac as i64 + ETH_HLEN - p.data as i64).max(0) as u64;
    if flags != 0 || new_len > SKB_MAX_LEN || new_len < min_len {
        env.sync_packet();
        return Ok(neg(EINVAL));
    }
    let (data, old_end) = (p.data as u64, p.data_end as u64);
    let new_end = data + new_len;
    if new_end > p.tail_max as u64 {
        return Err(env.fail("the packet buffer is too small to grow the packet"));
    }
    if new_end > old_end {
        let start = p.addr(p.len());
        env.zero(start, (new_end - old_end) as usize)?;
    }
    if let Some(p) = env.packet_mut() {
        p.data_end = new_end as u32;
    }
    // skb_gso_reset: a GSO packet that changed size is not one any more.
    let ctx = region_base(INPUT_REGION);
    let gso_size = ctx + SK_BUFF.field("gso_size").expect("a field").offset as u64;
    if env.read(gso_size, 4)? != [0; 4] {
        let gso_segs = ctx + SK_BUFF.field("gso_segs").expect("a field").offset as u64;
        env.write(gso_size, &[0; 4])?;
        env.write(gso_segs, &[0; 4])?;
    }
    env.sync_packet();
    Ok(0)
}

/// `bpf_get_hash_recalc(skb)`: the packet's flow hash, computed when not set. The kernel seeds
/// it with a random number per boot; here the seed is [`Host::flow_hash_seed`], so the value
/// is stable but not the kernel's.
///
/// [`Host::flow_hash_seed`]: crate::Host::flow_hash_seed
pub(super) fn get_hash_recalc(env: &mut HelperEnv<'_, '_, '_>, _: Args) -> Result<u64, Fault> {
    let current = u32::from_le_bytes(env.read(skb_hash_addr(), 4)?.try_into().expect("4 bytes"));
    if current != 0 {
        return Ok(current as u64);
    }
    let p = skb(env)?;
    let network = (p.mac + ETH_HLEN as u32).max(p.data);
    let packet_end = p.data_end;
    let start = p.addr(network - p.data);
    let bytes = env
        .read(start, (packet_end.saturating_sub(network)) as usize)
        .map(<[u8]>::to_vec)
        .unwrap_or_default();
    let words: Vec<u32> = flow_words(&bytes);
    let seed = env.host().flow_hash_seed;
    let hash = jhash2(&words, seed).max(1);
    env.write(skb_hash_addr(), &hash.to_le_bytes())?;
    Ok(hash as u64)
}

/// The flow of an IPv4 or IPv6 packet as words: addresses, protocol, ports.
fn flow_words(l3: &[u8]) -> Vec<u32> {
    let word = |b: &[u8]| u32::from_be_bytes(b.try_into().expect("4 bytes"));
    match l3.first().map(|b| b >> 4) {
        Some(4) if l3.len() >= 20 => {
            let ihl = (l3[0] & 0xf) as usize * 4;
            let proto = l3[9];
            let mut w = vec![word(&l3[12..16]), word(&l3[16..20]), proto as u32];
            if matches!(proto, 6 | 17) && l3.len() >= ihl + 4 {
                w.push(word(&l3[ihl..ihl + 4]));
            }
            w
        }
        Some(6) if l3.len() >= 40 => {
            let proto = l3[6];
            let mut w: Vec<u32> = l3[8..40].chunks(4).map(word).collect();
            w.push(proto as u32);
            if matches!(proto, 6 | 17) && l3.len() >= 44 {
                w.push(word(&l3[40..44]));
            }
            w
        }
        _ => Vec::new(),
    }
}

/// `bpf_set_hash_invalid(skb)`: clears the flow hash.
pub(super) fn set_hash_invalid(env: &mut HelperEnv<'_, '_, '_>, _: Args) -> Result<u64, Fault> {
    skb(env)?;
    env.write(skb_hash_addr(), &0u32.to_le_bytes())?;
    Ok(0)
}

/// `bpf_xdp_adjust_head(xdp, delta)`: moves the packet's start (and its metadata with it).
pub(super) fn xdp_adjust_head(env: &mut HelperEnv<'_, '_, '_>, a: Args) -> Result<u64, Fault> {
    let delta = a[1] as i32 as i64;
    let p = xdp_mut(env)?;
    let metalen = p.data as i64 - p.meta as i64;
    let data = p.data as i64 + delta;
    if data < p.head_min as i64 + metalen || data > p.data_end as i64 - ETH_HLEN {
        return Ok(neg(EINVAL));
    }
    let (old_meta, new_meta) = (p.meta, (p.meta as i64 + delta) as u32);
    p.meta = new_meta;
    p.data = data as u32;
    if metalen > 0 {
        let base = region_base(crate::memory::PACKET_REGION);
        let bytes = env.read(base + old_meta as u64, metalen as usize)?.to_vec();
        env.write(base + new_meta as u64, &bytes)?;
    }
    env.sync_packet();
    Ok(0)
}

/// `bpf_xdp_adjust_meta(xdp, delta)`: moves the metadata's start; it must stay a multiple of
/// 4 bytes and at most 252 (`-EACCES` otherwise).
pub(super) fn xdp_adjust_meta(env: &mut HelperEnv<'_, '_, '_>, a: Args) -> Result<u64, Fault> {
    let delta = a[1] as i32 as i64;
    let p = xdp_mut(env)?;
    let meta = p.meta as i64 + delta;
    let metalen = p.data as i64 - meta;
    if meta < p.head_min as i64 || meta > p.data as i64 {
        return Ok(neg(EINVAL));
    }
    if metalen & 3 != 0 || metalen > crate::test_run::MAX_META as i64 {
        return Ok(neg(EACCES));
    }
    p.meta = meta as u32;
    env.sync_packet();
    Ok(0)
}

/// `bpf_xdp_adjust_tail(xdp, delta)`: moves the packet's end (new bytes are zero). A
/// multi-buffer packet grows its last fragment (up to a page) or shrinks fragments from the
/// end, then the linear part.
pub(super) fn xdp_adjust_tail(env: &mut HelperEnv<'_, '_, '_>, a: Args) -> Result<u64, Fault> {
    let delta = a[1] as i32 as i64;
    let p = xdp_mut(env)?;
    if !p.frags.is_empty() {
        let r = frags_adjust_tail(p, delta);
        env.sync_packet();
        return Ok(r);
    }
    let end = p.data_end as i64 + delta;
    if end > p.tail_max as i64 || end < p.data as i64 + ETH_HLEN {
        return Ok(neg(EINVAL));
    }
    let old_end = p.data_end;
    p.data_end = end as u32;
    if delta > 0 {
        let base = region_base(crate::memory::PACKET_REGION);
        env.zero(base + old_end as u64, delta as usize)?;
    }
    env.sync_packet();
    Ok(0)
}

/// `bpf_xdp_frags_increase_tail` and `bpf_xdp_frags_shrink_tail`.
fn frags_adjust_tail(p: &mut Packet, delta: i64) -> u64 {
    if delta >= 0 {
        let last = p.frags.last_mut().expect("a fragment");
        let tailroom = 4096 - last.len() as i64;
        if delta > tailroom {
            return neg(EINVAL);
        }
        last.resize(last.len() + delta as usize, 0);
        return 0;
    }
    let mut shrink = -delta;
    let total = p.len() as i64 + p.frags.iter().map(|f| f.len() as i64).sum::<i64>();
    if shrink > total - ETH_HLEN {
        return neg(EINVAL);
    }
    while shrink > 0 {
        let Some(last) = p.frags.last_mut() else {
            break;
        };
        let cut = shrink.min(last.len() as i64);
        last.truncate(last.len() - cut as usize);
        shrink -= cut;
        if last.is_empty() {
            p.frags.pop();
        }
    }
    if p.frags.is_empty() {
        p.data_end -= shrink as u32;
    }
    0
}

/// `BPF_F_INGRESS`.
const BPF_F_INGRESS: u64 = 1;

/// `bpf_redirect(ifindex, flags)`: records the redirect; `TC_ACT_REDIRECT` or `XDP_REDIRECT`
/// (flags it does not know give `TC_ACT_SHOT` or `XDP_ABORTED`).
pub(super) fn redirect(env: &mut HelperEnv<'_, '_, '_>, a: Args) -> Result<u64, Fault> {
    let (ifindex, flags) = (a[0] as u32, a[1]);
    let xdp = env.packet().is_some_and(|p| p.kind == PacketKind::Xdp);
    let (ok, refused, done) = if xdp {
        (flags == 0, 0, 4) // XDP_ABORTED, XDP_REDIRECT
    } else {
        (flags & !BPF_F_INGRESS == 0, 2, 7) // TC_ACT_SHOT, TC_ACT_REDIRECT
    };
    if !ok {
        return Ok(refused);
    }
    env.host().redirect = Some(Redirect::Ifindex { ifindex, flags });
    Ok(done)
}

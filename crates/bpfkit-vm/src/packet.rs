//! The packet of a networking context while it runs: where its bytes are in the packet region,
//! and how the context's pointer fields follow when a helper moves them.
//!
//! The packet region is the whole buffer the kernel would allocate (headroom, data, tailroom),
//! so `bpf_xdp_adjust_head` and `bpf_skb_change_tail` move offsets instead of bytes, exactly as
//! the kernel moves pointers inside its buffer.

use crate::ctx::{
    SKB_DATA_END_SLOT, SKB_DATA_META_SLOT, SKB_DATA_SLOT, XDP_DATA_END_SLOT, XDP_DATA_META_SLOT,
    XDP_DATA_SLOT,
};
use crate::memory::{INPUT_REGION, Memory, PACKET_REGION, region_base};

/// Which context the packet belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PacketKind {
    /// `struct xdp_buff` behind `xdp_md`.
    Xdp,
    /// `struct sk_buff` behind `__sk_buff`.
    Skb,
}

/// The geometry of a run's packet: byte offsets into the packet region.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Packet {
    /// XDP or skb.
    pub kind: PacketKind,
    /// The first byte of the packet (`xdp->data`, `skb->data`).
    pub data: u32,
    /// One past its last byte.
    pub data_end: u32,
    /// The start of the metadata in front of it (`data` when there is none).
    pub meta: u32,
    /// How far down `data` and `meta` may move (XDP: past the `xdp_frame` at the buffer's
    /// start).
    pub head_min: u32,
    /// How far up `data_end` may move (XDP: the frame's end less the shared info).
    pub tail_max: u32,
    /// Whether the context shows `data_end` (the kernel's test run of a socket filter or a
    /// cgroup skb program never computes it, so it reads as 0 there).
    pub data_end_visible: bool,
    /// skb: where the link-layer header starts.
    pub mac: u32,
    /// XDP: the fragments of a multi-buffer packet (each at most a page), past the linear
    /// part; the program reaches them only through helpers.
    pub frags: Vec<Vec<u8>>,
}

impl Packet {
    /// The packet's length (`skb->len`, `xdp.data_end - xdp.data`).
    pub fn len(&self) -> u32 {
        self.data_end - self.data
    }

    /// Whether the packet is empty.
    pub fn is_empty(&self) -> bool {
        self.data_end == self.data
    }

    /// The virtual address of packet byte `offset` (relative to `data`).
    pub fn addr(&self, offset: u32) -> u64 {
        region_base(PACKET_REGION) + (self.data + offset) as u64
    }

    /// Writes the context's pointer slots (and `__sk_buff.len`) from the geometry, after a run
    /// starts or a helper moved the packet.
    pub fn sync(&self, mem: &mut Memory<'_>) {
        let base = region_base(PACKET_REGION);
        let ptr = |off: u32| base + off as u64;
        let slots: [(u32, u64); 3] = match self.kind {
            PacketKind::Xdp => [
                (XDP_DATA_SLOT, ptr(self.data)),
                (XDP_DATA_END_SLOT, ptr(self.data_end)),
                (XDP_DATA_META_SLOT, ptr(self.meta)),
            ],
            PacketKind::Skb => [
                (SKB_DATA_SLOT, ptr(self.data)),
                (
                    SKB_DATA_END_SLOT,
                    if self.data_end_visible {
                        ptr(self.data_end)
                    } else {
                        0
                    },
                ),
                (
                    SKB_DATA_META_SLOT,
                    if self.data_end_visible {
                        ptr(self.meta)
                    } else {
                        0
                    },
                ),
            ],
        };
        let ctx = region_base(INPUT_REGION);
        for (slot, value) in slots {
            if let Some(dst) = mem.slice_mut_privileged(ctx + slot as u64, 8) {
                dst.copy_from_slice(&value.to_le_bytes());
            }
        }
        if self.kind == PacketKind::Skb {
            if let Some(dst) = mem.slice_mut_privileged(ctx, 4) {
                dst.copy_from_slice(&self.len().to_le_bytes());
            }
        }
    }
}

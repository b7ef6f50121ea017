//! Test-run inputs, generated from a seed: Ethernet frames (VLAN, IPv4, IPv6, ARP, TCP, UDP,
//! ICMP), truncated and malformed ones, random bytes, sizes from nothing to past the limits;
//! contexts that are valid, invalid and oversized; output buffers too small; repeats.

use bpfkit_uapi::ProgType;

/// One test run's input.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Case {
    pub prog: String,
    pub data: Vec<u8>,
    pub ctx: Option<Vec<u8>>,
    /// 0: no data_out buffer.
    pub data_size_out: u32,
    /// 0: no ctx_out buffer.
    pub ctx_size_out: u32,
    pub repeat: u32,
    pub flags: u32,
    pub cpu: u32,
}

/// xorshift64*: the same cases on every machine.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1)
    }
    pub fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
    pub fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
    pub fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| self.next() as u8).collect()
    }
    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }
}

fn be16(v: u16) -> [u8; 2] {
    v.to_be_bytes()
}

/// The internet checksum of `bytes`.
fn checksum(bytes: &[u8]) -> u16 {
    let mut sum = 0u32;
    for c in bytes.chunks(2) {
        sum += u16::from_be_bytes([c[0], *c.get(1).unwrap_or(&0)]) as u32;
    }
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

/// A well-formed frame: Ethernet (perhaps VLAN-tagged), then IPv4 or IPv6 with TCP, UDP or
/// ICMP, or ARP, then payload; about `target` bytes long.
pub fn frame(rng: &mut Rng, target: usize) -> Vec<u8> {
    let mut f = Vec::new();
    let dst: [u8; 6] = match rng.below(4) {
        0 => [0; 6],
        1 => [0xff; 6],
        2 => [0x01, 0x00, 0x5e, 0, 0, 1],
        _ => [0x02, 0x11, 0x22, 0x33, 0x44, 0x55],
    };
    f.extend_from_slice(&dst);
    f.extend_from_slice(&[0x02, 0xaa, 0xbb, 0xcc, 0xdd, 0xee]);
    let vlan = rng.chance(15);
    if vlan {
        f.extend_from_slice(&be16(0x8100));
        f.extend_from_slice(&be16(rng.below(4096) as u16));
    }
    let kind = rng.below(10);
    let proto = *rng.pick(&[6u8, 17, 1, 58, 47]);
    let l4_len = 8 + rng.below(40) as usize;
    match kind {
        0..=5 => {
            f.extend_from_slice(&be16(0x0800));
            let start = f.len();
            let ihl = if rng.chance(10) { 6 } else { 5 };
            let total = (ihl * 4 + l4_len.max(8)) as u16;
            f.push(0x40 | ihl as u8);
            f.push(rng.next() as u8 & 0xfc);
            f.extend_from_slice(&be16(total));
            f.extend_from_slice(&be16(rng.next() as u16));
            f.extend_from_slice(&be16(if rng.chance(10) { 0x2000 } else { 0x4000 }));
            f.push(1 + rng.below(128) as u8);
            f.push(if proto == 58 { 1 } else { proto });
            f.extend_from_slice(&[0, 0]);
            f.extend_from_slice(&[10, 0, rng.below(4) as u8, 1 + rng.below(250) as u8]);
            f.extend_from_slice(&[192, 168, rng.below(4) as u8, 1 + rng.below(250) as u8]);
            if ihl == 6 {
                f.extend_from_slice(&[1, 1, 1, 0]);
            }
            let sum = checksum(&f[start..]);
            f[start + 10..start + 12].copy_from_slice(&sum.to_be_bytes());
            l4(rng, &mut f, if proto == 58 { 1 } else { proto }, l4_len);
        }
        6..=8 => {
            f.extend_from_slice(&be16(0x86dd));
            f.extend_from_slice(&[0x60, 0, 0, 0]);
            f.extend_from_slice(&be16(l4_len as u16));
            f.push(if proto == 1 { 58 } else { proto });
            f.push(64);
            let mut src = [0u8; 16];
            src[..2].copy_from_slice(&[0x20, 0x01]);
            src[15] = rng.below(256) as u8;
            let mut dst = [0u8; 16];
            dst[..2].copy_from_slice(&[0xfd, 0x00]);
            dst[15] = rng.below(256) as u8;
            f.extend_from_slice(&src);
            f.extend_from_slice(&dst);
            l4(rng, &mut f, if proto == 1 { 58 } else { proto }, l4_len);
        }
        _ => {
            f.extend_from_slice(&be16(0x0806));
            f.extend_from_slice(&[0, 1, 8, 0, 6, 4, 0, 1]);
            f.extend(rng.bytes(20));
        }
    }
    while f.len() < target {
        f.push(rng.next() as u8);
    }
    f
}

fn l4(rng: &mut Rng, f: &mut Vec<u8>, proto: u8, len: usize) {
    let ports = [22u16, 53, 80, 443, 8080, 12345];
    match proto {
        6 => {
            f.extend_from_slice(&be16(*rng.pick(&ports)));
            f.extend_from_slice(&be16(*rng.pick(&ports)));
            f.extend(rng.bytes(8));
            f.push(0x50);
            f.push(rng.next() as u8);
            f.extend(rng.bytes(6));
        }
        17 => {
            f.extend_from_slice(&be16(*rng.pick(&ports)));
            f.extend_from_slice(&be16(*rng.pick(&ports)));
            f.extend_from_slice(&be16(len as u16));
            f.extend_from_slice(&[0, 0]);
        }
        _ => {
            f.push(*rng.pick(&[0u8, 8, 3, 128, 129]));
            f.push(0);
            f.extend(rng.bytes(6));
        }
    }
}

/// A packet: well-formed, truncated, or random, of `lo..=hi` bytes (more or fewer now and
/// then, to cross the limits).
pub fn packet(rng: &mut Rng, lo: usize, hi: usize) -> Vec<u8> {
    let size = match rng.below(20) {
        0 => rng.below(lo as u64 + 1) as usize,
        1 => hi + 1 + rng.below(600) as usize,
        2 => hi,
        3 => lo,
        4..=9 => lo + rng.below(120) as usize,
        _ => lo + rng.below((hi - lo) as u64 + 1) as usize,
    };
    match rng.below(10) {
        0 => rng.bytes(size),
        1..=2 => {
            // A well-formed frame cut short, its headers truncated.
            let mut f = frame(rng, 0);
            f.truncate(size.min(f.len()));
            f
        }
        _ => {
            let mut f = frame(rng, size);
            f.truncate(size);
            f
        }
    }
}

fn put(ctx: &mut [u8], off: usize, bytes: &[u8]) {
    ctx[off..off + bytes.len()].copy_from_slice(bytes);
}

fn xdp_case(rng: &mut Rng, prog: &str) -> Case {
    let data = packet(rng, 14, 3520);
    let mut ctx = None;
    if rng.chance(30) {
        let mut c = vec![0u8; 24];
        let meta = *rng.pick(&[0u32, 4, 8, 12, 16, 32, 36, 128, 252]);
        if data.len() as u32 >= meta {
            put(&mut c, 0, &meta.to_le_bytes());
        }
        put(&mut c, 4, &(data.len() as u32).to_le_bytes());
        match rng.below(12) {
            0 => put(&mut c, 8, &4u32.to_le_bytes()),
            1 => put(&mut c, 4, &(data.len() as u32 + 1).to_le_bytes()),
            2 => put(
                &mut c,
                0,
                &[33u32, 256][rng.below(2) as usize].to_le_bytes(),
            ),
            3 => put(&mut c, 0, &6u32.to_le_bytes()),
            4 => put(&mut c, 20, &1u32.to_le_bytes()),
            5 => put(&mut c, 12, &1u32.to_le_bytes()),
            6 => {
                put(&mut c, 12, &1u32.to_le_bytes());
                put(&mut c, 16, &1u32.to_le_bytes());
            }
            7 => put(&mut c, 16, &1u32.to_le_bytes()),
            8 => put(&mut c, 12, &999u32.to_le_bytes()),
            9 => c.extend(if rng.chance(50) {
                vec![0; 8]
            } else {
                vec![0, 0, 1, 0]
            }),
            _ => {}
        }
        ctx = Some(c);
    }
    let data_size_out = if rng.chance(10) {
        rng.below(data.len() as u64 + 40) as u32
    } else {
        8192
    };
    let ctx_size_out = match &ctx {
        Some(_) if rng.chance(10) => rng.below(24) as u32,
        Some(_) => 24,
        None => 0,
    };
    Case {
        prog: prog.to_string(),
        data,
        ctx,
        data_size_out,
        ctx_size_out,
        repeat: *rng.pick(&[0, 0, 1, 2, 3]),
        flags: if rng.chance(2) { 4 } else { 0 },
        cpu: 0,
    }
}

/// Byte offsets and sizes of the `__sk_buff` fields a context may set.
const SKB_SETTABLE: [(usize, usize); 10] = [
    (8, 4),   // mark
    (32, 4),  // priority
    (36, 4),  // ingress_ifindex
    (40, 4),  // ifindex
    (48, 20), // cb
    (152, 8), // tstamp
    (160, 4), // wire_len
    (164, 4), // gso_segs
    (176, 4), // gso_size
    (184, 8), // hwtstamp
];

fn skb_case(rng: &mut Rng, prog: &str) -> Case {
    let data = packet(rng, 14, 3712);
    let mut ctx = None;
    if rng.chance(40) {
        let mut c = vec![0u8; 192];
        for &(off, size) in &SKB_SETTABLE {
            if !rng.chance(30) {
                continue;
            }
            let bytes = rng.bytes(size);
            put(&mut c, off, &bytes);
            match off {
                // ifindex: none, loopback, or one that does not exist.
                40 => put(
                    &mut c,
                    off,
                    &[0u32, 1, 1, 999][rng.below(4) as usize].to_le_bytes(),
                ),
                36 => put(&mut c, off, &(rng.below(3) as u32).to_le_bytes()),
                160 => {
                    let len = data.len() as u32;
                    let w =
                        [0, len, len.saturating_sub(15), len + 100, 70000][rng.below(5) as usize];
                    put(&mut c, off, &w.to_le_bytes());
                }
                164 => put(&mut c, off, &(rng.below(70000) as u32).to_le_bytes()),
                _ => {}
            }
        }
        match rng.below(10) {
            0 => {
                // A field no context may set.
                let off = *rng.pick(&[0usize, 4, 12, 16, 44, 68, 72, 88, 140, 180]);
                c[off] = 1 + rng.below(255) as u8;
            }
            1 => c.extend(if rng.chance(50) {
                vec![0; 16]
            } else {
                vec![0, 1]
            }),
            2 => c.truncate(rng.below(192) as usize),
            _ => {}
        }
        ctx = Some(c);
    }
    let data_size_out = if rng.chance(10) {
        rng.below(data.len() as u64 + 40) as u32
    } else {
        8192
    };
    let ctx_size_out = match &ctx {
        Some(_) if rng.chance(10) => rng.below(192) as u32,
        Some(_) => 192,
        None if rng.chance(5) => 192,
        None => 0,
    };
    Case {
        prog: prog.to_string(),
        data,
        ctx,
        data_size_out,
        ctx_size_out,
        repeat: *rng.pick(&[0, 0, 1, 2, 3]),
        flags: if rng.chance(2) { 1 } else { 0 },
        cpu: 0,
    }
}

fn args_case(rng: &mut Rng, prog: &str, syscall: bool) -> Case {
    let len = if syscall {
        rng.below(80) as usize
    } else {
        8 * rng.below(14) as usize
    };
    let mut ctx = rng.bytes(len);
    // Small numbers too, so that programs branch on them.
    for chunk in ctx.chunks_mut(8) {
        if rng.chance(50) {
            let v = rng.below(300).to_le_bytes();
            chunk.copy_from_slice(&v[..chunk.len()]);
        }
    }
    // BPF_F_TEST_RUN_ON_CPU: CPU 0, where the kernel side's thread is pinned, so the run is
    // local; or a CPU no machine has (ENXIO). Never another real CPU: the kernel runs the
    // program there in an interrupt, and what `current` is then (the idle task, or whatever
    // else runs on it) changes from run to run, so helpers reading the task have no one answer.
    let (flags, cpu) = match (syscall, rng.below(10)) {
        (false, 0) => (1, if rng.chance(30) { 1 << 20 } else { 0 }),
        (false, 1) => (0, 1),
        _ => (0, 0),
    };
    Case {
        prog: prog.to_string(),
        data: if rng.chance(3) {
            vec![0; 14]
        } else {
            Vec::new()
        },
        ctx: if len == 0 && rng.chance(50) {
            None
        } else {
            Some(ctx)
        },
        data_size_out: 0,
        ctx_size_out: 0,
        repeat: if rng.chance(3) { 2 } else { 0 },
        flags,
        cpu,
    }
}

/// `count` cases for `prog` of type `prog_type`, from `seed`.
pub fn generate(prog: &str, prog_type: ProgType, seed: u64, count: usize) -> Vec<Case> {
    let mut rng = Rng::new(seed);
    (0..count)
        .map(|_| match prog_type {
            ProgType::XDP => xdp_case(&mut rng, prog),
            ProgType::RAW_TRACEPOINT => args_case(&mut rng, prog, false),
            ProgType::SYSCALL => args_case(&mut rng, prog, true),
            _ => skb_case(&mut rng, prog),
        })
        .collect()
}

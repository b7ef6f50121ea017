//! Native Rust implementations of the corpus: the same algorithms on the same input buffers,
//! written as plain Rust from the descriptions in the programs' headers (not from the eBPF
//! code). They give the reference results of the correctness tests and the floor of the bench.

/// `sieve`: the sieve of Eratosthenes in `flags`; `(count << 32) + sum` of the primes below
/// `flags.len()`.
pub fn sieve(flags: &mut [u8]) -> u64 {
    let n = flags.len();
    flags.fill(1);
    if n >= 2 {
        flags[0] = 0;
        flags[1] = 0;
    }
    let mut i = 2;
    while i * i < n {
        if flags[i] != 0 {
            for j in (i * i..n).step_by(i) {
                flags[j] = 0;
            }
        }
        i += 1;
    }
    let (mut count, mut sum) = (0u64, 0u64);
    for (i, &flag) in flags.iter().enumerate() {
        if flag != 0 {
            count += 1;
            sum += i as u64;
        }
    }
    (count << 32).wrapping_add(sum)
}

/// floor(log2(x)) by halving the range of candidate bits; 0 for 0.
fn floor_log2(mut x: u64) -> u64 {
    let mut log = 0;
    for half in [32, 16, 8, 4, 2, 1] {
        if x >> half != 0 {
            x >>= half;
            log += half;
        }
    }
    log
}

/// `log2`: the u64s of `values` folded as `acc * 31 + floor_log2(x)`.
pub fn log2(values: &mut [u8]) -> u64 {
    values
        .chunks_exact(8)
        .map(|w| u64::from_le_bytes(w.try_into().unwrap()))
        .fold(0u64, |acc, x| {
            acc.wrapping_mul(31).wrapping_add(floor_log2(x))
        })
}

/// `memcpy`: copies the first half of `buf` onto the second; the destination's first and last
/// words xored with the half's length.
pub fn memcpy(buf: &mut [u8]) -> u64 {
    let n = buf.len() / 2;
    let (src, dst) = buf.split_at_mut(n);
    dst[..n].copy_from_slice(src);
    if n == 0 {
        return 0;
    }
    let word = |at: usize| u64::from_le_bytes(dst[at..at + 8].try_into().unwrap());
    n as u64 ^ word(0) ^ word(n - 8)
}

/// `strcmp`: compares the NUL-terminated strings in the two halves of `buf`; the index of the
/// first difference or NUL (or the half's length) in the high bits, `a[i] - b[i]` in the low 16.
pub fn strcmp(buf: &mut [u8]) -> u64 {
    let (a, b) = buf.split_at(buf.len() / 2);
    let mut i = 0;
    let (mut ca, mut cb) = (0u8, 0u8);
    while i < a.len() {
        (ca, cb) = (a[i], b[i]);
        if ca != cb || ca == 0 {
            break;
        }
        i += 1;
    }
    (i as u64) << 16 | (u64::from(ca).wrapping_sub(u64::from(cb)) & 0xffff)
}

/// `switch`: applies each opcode (its low 4 bits) to an accumulator starting at 0x12345.
pub fn switch(ops: &mut [u8]) -> u64 {
    let mut acc: u64 = 0x12345;
    for (i, &op) in ops.iter().enumerate() {
        let i = i as u64;
        acc = match op & 15 {
            0 => acc.wrapping_add(1),
            1 => acc ^ 0x5bd1_e995,
            2 => acc.wrapping_mul(3),
            3 => acc.wrapping_add(i),
            4 => acc.wrapping_sub(7),
            5 => acc ^ (acc >> 7),
            6 => acc ^ (acc << 13),
            7 => acc | 0x100,
            8 => acc.wrapping_add(0x1e37_79b9),
            9 => acc.wrapping_neg(),
            10 => acc ^ i,
            11 => acc.wrapping_mul(0x2545),
            12 => acc.wrapping_add(acc >> 11),
            13 => acc.rotate_left(7),
            14 => acc % 1_000_003,
            _ => (acc & 0x7fff_ffff) + 0x5555,
        };
    }
    acc
}

/// `checksum`: the Internet checksum of RFC 1071.
pub fn checksum(data: &mut [u8]) -> u64 {
    let mut words = data.chunks_exact(2);
    let mut sum: u64 = words
        .by_ref()
        .map(|w| u64::from(u16::from_be_bytes([w[0], w[1]])))
        .sum();
    if let [last] = words.remainder() {
        sum += u64::from(*last) << 8;
    }
    while sum >> 16 != 0 {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !sum & 0xffff
}

const FLOW_MULTIPLIER: u64 = 0x2127_599b;

/// The parser's verdict on one frame.
enum Frame {
    Tcp,
    Udp,
    OtherIpv4,
    NotIpv4,
    Malformed,
}

fn be16(bytes: &[u8], at: usize) -> u16 {
    u16::from_be_bytes([bytes[at], bytes[at + 1]])
}

fn le32(bytes: &[u8], at: usize) -> u64 {
    u64::from(u32::from_le_bytes(bytes[at..at + 4].try_into().unwrap()))
}

fn mix(hash: &mut u64, value: u64) {
    *hash = (*hash ^ value).wrapping_mul(FLOW_MULTIPLIER);
}

/// Parses one Ethernet frame, folding what identifies its flow into `hash`.
fn parse_frame(f: &[u8], hash: &mut u64) -> Frame {
    if f.len() < 14 {
        return Frame::Malformed;
    }
    let (mut ethertype, mut l3) = (be16(f, 12), 14);
    if ethertype == 0x8100 {
        if f.len() < 18 {
            return Frame::Malformed;
        }
        (ethertype, l3) = (be16(f, 16), 18);
    }
    if ethertype != 0x0800 {
        mix(hash, u64::from(ethertype));
        return Frame::NotIpv4;
    }
    if f.len() < l3 + 20 || f[l3] >> 4 != 4 {
        return Frame::Malformed;
    }
    let header_len = usize::from(f[l3] & 15) * 4;
    let l4 = l3 + header_len;
    let total_len = usize::from(be16(f, l3 + 2));
    if header_len < 20 || l4 > f.len() || total_len < header_len || l3 + total_len > f.len() {
        return Frame::Malformed;
    }
    mix(hash, le32(f, l3 + 12) ^ le32(f, l3 + 16));
    if be16(f, l3 + 6) & 0x1fff != 0 {
        return Frame::OtherIpv4;
    }
    match f[l3 + 9] {
        6 => {
            if l4 + 20 > f.len() {
                return Frame::Malformed;
            }
            let data_offset = usize::from(f[l4 + 12] >> 4) * 4;
            if data_offset < 20 || l4 + data_offset > f.len() {
                return Frame::Malformed;
            }
            mix(hash, le32(f, l4));
            *hash = hash.wrapping_add(u64::from(f[l4 + 13]));
            Frame::Tcp
        }
        17 => {
            if l4 + 8 > f.len() {
                return Frame::Malformed;
            }
            mix(hash, le32(f, l4));
            *hash = hash.wrapping_add(u64::from(be16(f, l4 + 4)));
            Frame::Udp
        }
        _ => Frame::OtherIpv4,
    }
}

/// Parses every frame of the batch: the flow hash and the class counters.
fn parse_batch(batch: &[u8]) -> (u64, u64) {
    let (mut hash, mut counters) = (0u64, 0u64);
    let mut rest = batch;
    while let [lo, hi, after @ ..] = rest {
        let len = usize::from(u16::from_le_bytes([*lo, *hi]));
        let Some((frame, next)) = after.split_at_checked(len) else {
            break;
        };
        rest = next;
        counters += match parse_frame(frame, &mut hash) {
            Frame::Tcp => 1,
            Frame::Udp => 1 << 8,
            Frame::OtherIpv4 => 1 << 16,
            Frame::NotIpv4 => 1 << 24,
            Frame::Malformed => 1 << 32,
        };
    }
    (hash, counters)
}

/// `packet`: parses every frame of the batch; the flow hash xored with the class counters.
pub fn packet(batch: &mut [u8]) -> u64 {
    let (hash, counters) = parse_batch(batch);
    hash ^ counters
}

/// The class counters alone of [`packet`]: one byte each for TCP, UDP, other IPv4 and
/// non-IPv4 frames from the low end, and the fifth byte for malformed ones.
pub fn packet_counters(batch: &[u8]) -> u64 {
    parse_batch(batch).1
}

fn scramble(x: u64) -> u64 {
    x.wrapping_mul(0xc2b2_ae3d_27d4_eb4f)
        .rotate_left(31)
        .wrapping_mul(0x9e37_79b1_85eb_ca87)
}

fn combine(acc: u64, word: u64) -> u64 {
    (acc ^ scramble(word))
        .rotate_left(27)
        .wrapping_mul(5)
        .wrapping_add(0x52dc_e729)
}

/// `calls`: the u64s of `words` folded with `combine`, starting from 0x27d4eb2f.
pub fn calls(words: &mut [u8]) -> u64 {
    words
        .chunks_exact(8)
        .map(|w| u64::from_le_bytes(w.try_into().unwrap()))
        .fold(0x27d4_eb2f, combine)
}

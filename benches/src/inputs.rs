//! The inputs of the corpus: deterministic, so every run of the bench measures the same work.

/// A small deterministic generator (xorshift64*), so inputs need no `rand` and never change.
#[derive(Clone, Debug)]
pub struct Rng(u64);

impl Rng {
    /// A generator seeded with `seed` (any value but 0).
    pub fn new(seed: u64) -> Rng {
        Rng(seed.max(1))
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// A random number in `0..n`.
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n
    }

    /// `len` random bytes.
    pub fn bytes(&mut self, len: usize) -> Vec<u8> {
        (0..len).map(|_| self.next_u64() as u8).collect()
    }
}

/// Little-endian bytes of `words`, the layout the programs read with `*(u64 *)`.
fn words_to_bytes(words: impl IntoIterator<Item = u64>) -> Vec<u8> {
    words.into_iter().flat_map(u64::to_le_bytes).collect()
}

/// `sieve`: a 4 KiB scratch buffer (primes below 4096).
pub fn sieve() -> Vec<u8> {
    vec![0xa5; 4096]
}

/// `sieve` edge cases: the smallest buffer, and buffers whose size is no square.
pub fn sieve_edges() -> Vec<Vec<u8>> {
    vec![vec![0xff; 8], vec![0; 104], vec![7; 1000]]
}

/// u64 values spread over every magnitude, with 0, 1 and `u64::MAX` among them.
fn log2_values(count: usize, seed: u64) -> Vec<u64> {
    let mut rng = Rng::new(seed);
    let mut values: Vec<u64> = (0..count)
        .map(|_| rng.next_u64() >> rng.below(64))
        .collect();
    values[0] = 0;
    values[1] = 1;
    values[2] = u64::MAX;
    values
}

/// `log2`: 256 u64 values (2 KiB).
pub fn log2() -> Vec<u8> {
    words_to_bytes(log2_values(256, 0x1092))
}

/// `log2` edge cases: every power of two and its neighbours.
pub fn log2_edges() -> Vec<Vec<u8>> {
    let around_powers = (0..64).flat_map(|k| {
        let p = 1u64 << k;
        [p - 1, p, p + 1]
    });
    vec![words_to_bytes([0]), words_to_bytes(around_powers)]
}

/// `memcpy`: 1 KiB of random bytes, then the 1 KiB it is copied to.
pub fn memcpy() -> Vec<u8> {
    let mut buf = Rng::new(0x3e3c).bytes(1024);
    buf.resize(2048, 0);
    buf
}

/// `memcpy` edge cases: one 32-byte iteration.
pub fn memcpy_edges() -> Vec<Vec<u8>> {
    let mut one = Rng::new(7).bytes(32);
    one.resize(64, 0xee);
    vec![one]
}

/// Two NUL-terminated strings of `len - 1` non-zero bytes in `len`-byte halves, equal but for
/// byte `differ_at` of the second (if any).
fn string_pair(len: usize, differ_at: Option<usize>, seed: u64) -> Vec<u8> {
    let mut rng = Rng::new(seed);
    let mut a: Vec<u8> = (0..len - 1).map(|_| 1 + rng.below(255) as u8).collect();
    a.push(0);
    let mut b = a.clone();
    if let Some(i) = differ_at {
        b[i] = b[i].wrapping_add(1).max(1);
    }
    a.extend(b);
    a
}

/// `strcmp`: two equal strings of 1023 characters, each in a 1 KiB half, so that every byte is
/// compared.
pub fn strcmp() -> Vec<u8> {
    string_pair(1024, None, 0x57c3)
}

/// `strcmp` edge cases: a difference in the middle, at the start, the second string shorter,
/// and a first string without its NUL.
pub fn strcmp_edges() -> Vec<Vec<u8>> {
    let mut shorter = string_pair(64, None, 3);
    shorter[64 + 10] = 0;
    let mut unterminated = string_pair(16, None, 4);
    unterminated[15] = b'x';
    unterminated[31] = b'x';
    vec![
        string_pair(64, Some(17), 1),
        string_pair(64, Some(0), 2),
        shorter,
        unterminated,
    ]
}

/// `switch`: 1024 random opcodes.
pub fn switch() -> Vec<u8> {
    Rng::new(0x5717).bytes(1024)
}

/// `switch` edge cases: every opcode in turn, twice, with high bits set the second time.
pub fn switch_edges() -> Vec<Vec<u8>> {
    vec![(0u8..16).chain((0..16).map(|op| op | 0xf0)).collect()]
}

/// `checksum`: 1 KiB of random bytes.
pub fn checksum() -> Vec<u8> {
    Rng::new(0xc5c5).bytes(1024)
}

/// `checksum` edge cases: an odd length, a single byte, and all ones (carries at every step).
pub fn checksum_edges() -> Vec<Vec<u8>> {
    vec![Rng::new(9).bytes(1023), vec![0xab], vec![0xff; 300]]
}

/// `calls`: 128 random u64 words (1 KiB).
pub fn calls() -> Vec<u8> {
    Rng::new(0xca11).bytes(1024)
}

/// `calls` edge cases: one word.
pub fn calls_edges() -> Vec<Vec<u8>> {
    vec![words_to_bytes([u64::MAX])]
}

/// `packet`: a batch of 32 frames, two of each kind [`packet_frames`] builds, with random
/// addresses, ports and payload sizes.
pub fn packet() -> Vec<u8> {
    let mut rng = Rng::new(0xbac4);
    let frames: Vec<Vec<u8>> = (0..2).flat_map(|_| packet_frames(&mut rng)).collect();
    batch(&frames)
}

/// `packet` edge cases: a record cut short in its length, and one cut short in its frame.
pub fn packet_edges() -> Vec<Vec<u8>> {
    let mut rng = Rng::new(0xed9e);
    let frames = packet_frames(&mut rng);
    let mut cut_length = batch(&frames[..3]);
    cut_length.push(0x40);
    let mut cut_frame = batch(&frames[..3]);
    cut_frame.extend(batch(&frames[3..4]));
    cut_frame.truncate(cut_frame.len() - 5);
    vec![cut_length, cut_frame]
}

/// Records of a u16 little-endian length then the frame, back to back.
pub fn batch(frames: &[Vec<u8>]) -> Vec<u8> {
    let mut out = Vec::new();
    for frame in frames {
        out.extend(u16::try_from(frame.len()).unwrap().to_le_bytes());
        out.extend(frame);
    }
    out
}

/// How to build one IPv4 frame; the fields are what the parser looks at.
#[derive(Clone, Debug)]
struct Ipv4Frame {
    vlan: bool,
    version: u8,
    /// Header length in 32-bit words (5 without options).
    ihl: u8,
    /// Flags and fragment offset, as in the header.
    frag: u16,
    protocol: u8,
    /// The L4 header and payload.
    l4: Vec<u8>,
    /// Added to the true total length (to make it lie).
    total_len_delta: i32,
    /// Cut the frame to this many bytes.
    truncate: Option<usize>,
}

impl Ipv4Frame {
    fn new(protocol: u8, l4: Vec<u8>) -> Ipv4Frame {
        Ipv4Frame {
            vlan: false,
            version: 4,
            ihl: 5,
            frag: 0x4000, // don't fragment
            protocol,
            l4,
            total_len_delta: 0,
            truncate: None,
        }
    }

    fn build(&self, rng: &mut Rng) -> Vec<u8> {
        let mut frame = ethernet(rng, self.vlan, 0x0800);
        let header_len = usize::from(self.ihl) * 4;
        let total = (header_len.max(20) + self.l4.len()) as i32 + self.total_len_delta;
        let mut ip = vec![0u8; header_len.max(20)];
        ip[0] = self.version << 4 | self.ihl;
        ip[2..4].copy_from_slice(&(total as u16).to_be_bytes());
        ip[4..6].copy_from_slice(&(rng.next_u64() as u16).to_be_bytes()); // identification
        ip[6..8].copy_from_slice(&self.frag.to_be_bytes());
        ip[8] = 64; // ttl
        ip[9] = self.protocol;
        ip[12..20].copy_from_slice(&rng.next_u64().to_le_bytes()); // addresses
        for option in &mut ip[20..] {
            *option = 1; // NOP options
        }
        frame.extend(ip);
        frame.extend(&self.l4);
        if let Some(len) = self.truncate {
            frame.truncate(len);
        }
        frame
    }
}

/// An Ethernet header (with an 802.1Q tag if `vlan`) announcing `ethertype`.
fn ethernet(rng: &mut Rng, vlan: bool, ethertype: u16) -> Vec<u8> {
    let mut frame = rng.bytes(12); // destination and source MAC
    if vlan {
        frame.extend(0x8100u16.to_be_bytes());
        frame.extend((rng.below(4096) as u16).to_be_bytes());
    }
    frame.extend(ethertype.to_be_bytes());
    frame
}

/// A TCP header with `options` 32-bit words of options (data offset `5 + options`), then
/// `payload` bytes.
fn tcp(rng: &mut Rng, data_offset: u8, payload: usize) -> Vec<u8> {
    let mut h = rng.bytes(usize::from(data_offset.max(5)) * 4);
    h[12] = data_offset << 4;
    h[13] = 0x18; // PSH | ACK
    h.extend(rng.bytes(payload));
    h
}

/// A UDP header (its length field true) then `payload` bytes.
fn udp(rng: &mut Rng, payload: usize) -> Vec<u8> {
    let mut h = rng.bytes(8);
    h[4..6].copy_from_slice(&((8 + payload) as u16).to_be_bytes());
    h.extend(rng.bytes(payload));
    h
}

/// Sixteen frames, one of each kind the parser tells apart: TCP (plain, with options, tagged),
/// UDP (plain, tagged, after IP options), ICMP, a later fragment, IPv6, ARP, and malformed ones
/// (short Ethernet, short IPv4, wrong version, TCP data offset below 5, total length past the
/// frame, short UDP).
pub fn packet_frames(rng: &mut Rng) -> Vec<Vec<u8>> {
    let payload = |rng: &mut Rng| rng.below(64) as usize;
    let mut frames = Vec::new();
    let p = payload(rng);
    frames.push(Ipv4Frame::new(6, tcp(rng, 5, p)).build(rng));
    let p = payload(rng);
    frames.push(Ipv4Frame::new(6, tcp(rng, 8, p)).build(rng));
    let p = payload(rng);
    let l4 = tcp(rng, 5, p);
    frames.push(
        Ipv4Frame {
            vlan: true,
            ..Ipv4Frame::new(6, l4)
        }
        .build(rng),
    );
    let p = payload(rng);
    frames.push(Ipv4Frame::new(17, udp(rng, p)).build(rng));
    let p = payload(rng);
    let l4 = udp(rng, p);
    frames.push(
        Ipv4Frame {
            vlan: true,
            ..Ipv4Frame::new(17, l4)
        }
        .build(rng),
    );
    let p = payload(rng);
    let l4 = udp(rng, p);
    frames.push(
        Ipv4Frame {
            ihl: 7,
            ..Ipv4Frame::new(17, l4)
        }
        .build(rng),
    );
    let l4 = rng.bytes(40);
    frames.push(Ipv4Frame::new(1, l4).build(rng)); // ICMP
    let l4 = rng.bytes(48);
    frames.push(
        Ipv4Frame {
            frag: 0x00b9, // offset 185 * 8
            ..Ipv4Frame::new(17, l4)
        }
        .build(rng),
    );
    let mut ipv6 = ethernet(rng, false, 0x86dd);
    ipv6.extend(rng.bytes(60));
    frames.push(ipv6);
    let mut arp = ethernet(rng, false, 0x0806);
    arp.extend(rng.bytes(28));
    frames.push(arp);
    frames.push(rng.bytes(10)); // shorter than an Ethernet header
    let l4 = tcp(rng, 5, 0);
    frames.push(
        Ipv4Frame {
            truncate: Some(14 + 12),
            ..Ipv4Frame::new(6, l4)
        }
        .build(rng),
    );
    let l4 = tcp(rng, 5, 4);
    frames.push(
        Ipv4Frame {
            version: 6,
            ..Ipv4Frame::new(6, l4)
        }
        .build(rng),
    );
    let l4 = tcp(rng, 3, 8);
    frames.push(Ipv4Frame::new(6, l4).build(rng));
    let p = payload(rng);
    let l4 = udp(rng, p);
    frames.push(
        Ipv4Frame {
            total_len_delta: 40,
            ..Ipv4Frame::new(17, l4)
        }
        .build(rng),
    );
    let l4 = udp(rng, 0);
    frames.push(
        Ipv4Frame {
            truncate: Some(14 + 20 + 5),
            total_len_delta: -3,
            ..Ipv4Frame::new(17, l4)
        }
        .build(rng),
    );
    frames
}

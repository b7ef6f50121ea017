//! Ring buffer maps (`kernel/bpf/ringbuf.c`): records of an 8-byte header (the length with a
//! busy and a discard bit, then a page offset) and the data rounded up to 8 bytes, written at
//! the producer position and read by userspace from the consumer position.
//!
//! The kernel maps the data pages twice so that a record wrapping past the end is contiguous.
//! Here the buffer is twice the ring's size: a reservation that runs past the end gets the
//! wrapped bytes copied after it, and its commit copies them back to the start, so the program
//! and the consumer see the same bytes the kernel's would, stale ones included.

/// `BPF_RINGBUF_BUSY_BIT`: the record is reserved and not committed yet.
const BUSY_BIT: u32 = 1 << 31;
/// `BPF_RINGBUF_DISCARD_BIT`: the record was discarded.
const DISCARD_BIT: u32 = 1 << 30;
/// `BPF_RINGBUF_HDR_SZ`.
pub(crate) const HDR_SZ: u64 = 8;
/// `RINGBUF_MAX_RECORD_SZ`.
const MAX_RECORD: u64 = (u32::MAX >> 2) as u64;

/// A ring buffer's positions and size, as `bpf_ringbuf_query` reports them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RingBufQuery {
    /// `BPF_RB_AVAIL_DATA`: bytes between the consumer and the producer.
    pub avail_data: u64,
    /// `BPF_RB_RING_SIZE`: the data area's size.
    pub ring_size: u64,
    /// `BPF_RB_CONS_POS`.
    pub cons_pos: u64,
    /// `BPF_RB_PROD_POS`.
    pub prod_pos: u64,
}

/// A committed record not consumed yet.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RingRecord {
    /// Its bytes.
    pub data: Vec<u8>,
    /// Whether it was discarded rather than submitted.
    pub discarded: bool,
}

#[derive(Debug)]
pub(crate) struct RingBuf {
    size: u64,
    cons: u64,
    prod: u64,
    pending: u64,
}

fn header(data: &[u8], pos: u64, size: u64) -> u32 {
    let at = (pos % size) as usize;
    u32::from_le_bytes(data[at..at + 4].try_into().expect("4 bytes"))
}

fn record_len(hdr: u32) -> u64 {
    ((hdr & !(BUSY_BIT | DISCARD_BIT)) as u64 + HDR_SZ).next_multiple_of(8)
}

impl RingBuf {
    pub fn new(size: u32) -> RingBuf {
        RingBuf {
            size: size as u64,
            cons: 0,
            prod: 0,
            pending: 0,
        }
    }

    /// `__bpf_ringbuf_reserve`: the offset (in the doubled buffer) of `size` bytes of record
    /// data, or `None` when the ring has no room.
    pub fn reserve(&mut self, data: &mut [u8], size: u64) -> Option<u64> {
        if size > MAX_RECORD {
            return None;
        }
        let len = (size + HDR_SZ).next_multiple_of(8);
        if len > self.size {
            return None;
        }
        // The oldest record not committed yet bounds the producer too.
        while self.pending < self.prod {
            let hdr = header(data, self.pending, self.size);
            if hdr & BUSY_BIT != 0 {
                break;
            }
            self.pending += record_len(hdr);
        }
        let new_prod = self.prod + len;
        let mask = self.size - 1;
        if new_prod - self.pending > mask || new_prod - self.cons > mask {
            return None;
        }
        let at = self.prod % self.size;
        let hdr = size as u32 | BUSY_BIT;
        // The header's page offset from the kernel's `struct bpf_ringbuf`: its data starts three
        // pages in (the struct, the consumer page, the producer page).
        let pg_off = (3 + (at >> 12)) as u32;
        data[at as usize..at as usize + 4].copy_from_slice(&hdr.to_le_bytes());
        data[at as usize + 4..at as usize + 8].copy_from_slice(&pg_off.to_le_bytes());
        // What lies past the end is the start of the ring.
        let end = at + len;
        if end > self.size {
            let wrapped = (end - self.size) as usize;
            data.copy_within(0..wrapped, self.size as usize);
        }
        self.prod = new_prod;
        Some(at + HDR_SZ)
    }

    /// Commits (submits or discards) the record whose data starts at `sample`; `false` if no
    /// reserved record starts there.
    pub fn commit(&mut self, data: &mut [u8], sample: u64, discard: bool) -> bool {
        let Some(at) = sample.checked_sub(HDR_SZ).filter(|&a| a < self.size) else {
            return false;
        };
        let hdr = header(data, at, self.size);
        if hdr & BUSY_BIT == 0 {
            return false;
        }
        let end = at + record_len(hdr);
        if end > self.size {
            let wrapped = (end - self.size) as usize;
            let size = self.size as usize;
            data.copy_within(size..size + wrapped, 0);
        }
        let mut new = hdr & !BUSY_BIT;
        if discard {
            new |= DISCARD_BIT;
        }
        data[at as usize..at as usize + 4].copy_from_slice(&new.to_le_bytes());
        true
    }

    pub fn query(&self) -> RingBufQuery {
        RingBufQuery {
            avail_data: self.prod - self.cons,
            ring_size: self.size,
            cons_pos: self.cons,
            prod_pos: self.prod,
        }
    }

    /// Walks committed records from the consumer position; `consume` advances past them.
    fn walk(&self, data: &[u8]) -> (Vec<RingRecord>, u64) {
        let mut records = Vec::new();
        let mut pos = self.cons;
        while pos < self.prod {
            let hdr = header(data, pos, self.size);
            if hdr & BUSY_BIT != 0 {
                break;
            }
            let len = (hdr & !DISCARD_BIT) as u64;
            let bytes = (0..len)
                .map(|i| data[((pos + HDR_SZ + i) % self.size) as usize])
                .collect();
            records.push(RingRecord {
                data: bytes,
                discarded: hdr & DISCARD_BIT != 0,
            });
            pos += record_len(hdr);
        }
        (records, pos)
    }

    pub fn pending(&self, data: &[u8]) -> Vec<RingRecord> {
        self.walk(data).0
    }

    pub fn consume(&mut self, data: &[u8]) -> Vec<Vec<u8>> {
        let (records, pos) = self.walk(data);
        self.cons = pos;
        records
            .into_iter()
            .filter(|r| !r.discarded)
            .map(|r| r.data)
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_wrap_and_fill_like_the_kernels() {
        let size = 4096u64;
        let mut data = vec![0u8; 2 * size as usize];
        let mut rb = RingBuf::new(size as u32);
        // 4096 - 1 bytes of room: 3 records of 1352 (+8 -> 1360) fit, a fourth does not.
        let mut samples = Vec::new();
        for i in 0..3u8 {
            let at = rb.reserve(&mut data, 1352).expect("room") as usize;
            data[at..at + 1352].fill(i + 1);
            samples.push(at as u64);
        }
        assert_eq!(rb.reserve(&mut data, 1352), None);
        assert!(rb.commit(&mut data, samples[0], false));
        assert!(rb.commit(&mut data, samples[1], true));
        // The third is still busy: the consumer stops before it.
        assert_eq!(rb.consume(&data), vec![vec![1u8; 1352]]);
        assert!(rb.commit(&mut data, samples[2], false));
        assert_eq!(rb.consume(&data), vec![vec![3u8; 1352]]);
        // Now a record wraps past the end of the ring.
        let at = rb.reserve(&mut data, 1000).unwrap() as usize;
        assert!(at + 1000 > size as usize);
        data[at..at + 1000].fill(9);
        assert!(rb.commit(&mut data, at as u64, false));
        assert_eq!(rb.consume(&data), vec![vec![9u8; 1000]]);
        assert_eq!(rb.query().avail_data, 0);
        assert!(!rb.commit(&mut data, at as u64, false), "already committed");
    }
}

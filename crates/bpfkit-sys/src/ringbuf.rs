//! [`RingBuf`]: the reader of a `BPF_MAP_TYPE_RINGBUF` map, as libbpf's `ring_buffer`: the
//! consumer position page mapped writable, the producer position and the data (mapped twice
//! in a row by the kernel, so a record that wraps is contiguous) read-only; records in the
//! order they were committed; epoll to wait.

use std::os::fd::{AsFd, OwnedFd};
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use crate::error::{Error, Result};
use crate::map::Map;
use crate::mmap::{Mmap, page_size};
use crate::poll::Poller;
use bpfkit_uapi::MapType;

/// The header in front of each record: the length, busy while the producer writes it.
const BUSY_BIT: u32 = 1 << 31;
/// Set on a record the producer discarded.
const DISCARD_BIT: u32 = 1 << 30;
/// Header size.
const HEADER: u64 = 8;

/// A reader of a ring buffer map. Records come out as owned byte vectors.
///
/// ```no_run
/// # fn f(map: &bpfkit_sys::Map) -> bpfkit_sys::Result<()> {
/// use std::time::Duration;
/// let mut ring = bpfkit_sys::RingBuf::new(map)?;
/// // Blocking: wait up to a second for each record, stop when none comes.
/// for record in ring.blocking(Duration::from_secs(1)) {
///     println!("{:?}", record?);
/// }
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct RingBuf {
    /// Kept open: the mappings and the poller refer to the map.
    _map: OwnedFd,
    consumer: Mmap,
    producer: Mmap,
    mask: u64,
    poller: Poller,
}

impl RingBuf {
    /// Maps the ring buffer `map` for reading.
    pub fn new(map: &Map) -> Result<RingBuf> {
        if map.map_type() != MapType::RINGBUF {
            return Err(Error::InvalidArgument(format!(
                "a ring buffer reader needs a BPF_MAP_TYPE_RINGBUF map, not {}",
                map.map_type()
            )));
        }
        let fd = crate::obj::dup(map)?;
        let size = map.max_entries() as usize;
        let page = page_size();
        let consumer = Mmap::new(fd.as_fd(), page, 0, true)?;
        let producer = Mmap::new(fd.as_fd(), page + 2 * size, page, false)?;
        let poller = Poller::new()?;
        poller.add(fd.as_fd(), 0)?;
        Ok(RingBuf {
            _map: fd,
            consumer,
            producer,
            mask: size as u64 - 1,
            poller,
        })
    }

    fn consumer_pos(&self) -> &AtomicU64 {
        // SAFETY: the consumer page is mapped (writable) for this value's lifetime; its first
        // 8 bytes are the kernel's `consumer_pos`, 8-aligned (page-aligned mapping), which the
        // kernel reads concurrently: an atomic is the right view of it.
        unsafe { AtomicU64::from_ptr(self.consumer.as_ptr().cast()) }
    }

    fn producer_pos(&self) -> &AtomicU64 {
        // SAFETY: as for `consumer_pos`: the first 8 bytes of the producer page, written by
        // the kernel; we only load it.
        unsafe { AtomicU64::from_ptr(self.producer.as_ptr().cast()) }
    }

    /// The record at consumer position `pos`: `None` if the producer is still writing it;
    /// else its length word and where its data starts (relative to the producer mapping).
    fn header_at(&self, pos: u64) -> Option<(u32, usize)> {
        let offset = page_size() + (pos & self.mask) as usize;
        // SAFETY: `offset` is inside the data area (masked position, page after the producer
        // page), 8-aligned (positions advance by multiples of 8); the length word is written
        // by the kernel, hence atomic.
        let len = unsafe { AtomicU32::from_ptr(self.producer.as_ptr().add(offset).cast()) }
            .load(Ordering::Acquire);
        if len & BUSY_BIT != 0 {
            return None;
        }
        Some((len, offset + HEADER as usize))
    }

    /// The next committed record, without waiting; `None` if there is none now. Discarded
    /// records are skipped.
    pub fn try_next(&mut self) -> Option<Vec<u8>> {
        loop {
            let cons = self.consumer_pos().load(Ordering::Acquire);
            let prod = self.producer_pos().load(Ordering::Acquire);
            if cons >= prod {
                return None;
            }
            let (len, data) = self.header_at(cons)?;
            let size = u64::from(len & !(BUSY_BIT | DISCARD_BIT));
            let record = (len & DISCARD_BIT == 0).then(|| {
                // The data area is mapped twice in a row: a record is contiguous even when it
                // wraps.
                self.producer
                    .read_vec(data, size as usize)
                    .unwrap_or_default()
            });
            let next = cons + (size + HEADER).div_ceil(8) * 8;
            self.consumer_pos().store(next, Ordering::Release);
            if let Some(record) = record {
                return Some(record);
            }
        }
    }

    /// Waits up to `timeout` (`None`: forever) for the kernel to signal data.
    pub fn wait(&self, timeout: Option<Duration>) -> Result<bool> {
        Ok(!self.poller.wait(timeout)?.is_empty())
    }

    /// The next record, waiting up to `timeout` for one; `None` if none came.
    pub fn next_timeout(&mut self, timeout: Duration) -> Result<Option<Vec<u8>>> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(record) = self.try_next() {
                return Ok(Some(record));
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Ok(None);
            }
            self.wait(Some(left))?;
        }
    }

    /// Every record, each waited for up to `idle` (the iterator ends when none comes that long).
    pub fn blocking(&mut self, idle: Duration) -> impl Iterator<Item = Result<Vec<u8>>> + '_ {
        std::iter::from_fn(move || self.next_timeout(idle).transpose())
    }
}

/// The records available now, in order (non-blocking: ends when the ring is empty).
impl Iterator for RingBuf {
    type Item = Vec<u8>;

    fn next(&mut self) -> Option<Vec<u8>> {
        self.try_next()
    }
}

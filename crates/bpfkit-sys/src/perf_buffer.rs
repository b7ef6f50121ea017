//! [`PerfBuffer`]: the reader of a `BPF_MAP_TYPE_PERF_EVENT_ARRAY` map, as libbpf's
//! `perf_buffer`: one `BPF_OUTPUT` perf event per online cpu, stored in the map at the cpu's
//! index, each with its ring of pages mapped; `bpf_perf_event_output` samples come out per cpu
//! in order, and the kernel's count of samples it had to drop when a ring was full.

use std::os::fd::AsFd;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use crate::error::{Error, Result};
use crate::map::{Map, UpdateMode};
use crate::mmap::{Mmap, page_size};
use crate::perf_event::{PerfEvent, PerfEventAttr, SAMPLE_RAW, perf_type, sw};
use crate::poll::Poller;
use bpfkit_uapi::MapType;

/// `struct perf_event_mmap_page`: where `data_head` and `data_tail` are.
const DATA_HEAD: usize = 1024;
const DATA_TAIL: usize = 1032;
/// `PERF_RECORD_LOST`.
const RECORD_LOST: u32 = 2;
/// `PERF_RECORD_SAMPLE`.
const RECORD_SAMPLE: u32 = 9;

/// What a perf buffer yields.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PerfRecord {
    /// A sample a program output with `bpf_perf_event_output`.
    Sample {
        /// The cpu whose ring it came through.
        cpu: u32,
        /// The bytes the program gave.
        data: Vec<u8>,
    },
    /// The kernel dropped samples: the cpu's ring was full.
    Lost {
        /// The cpu.
        cpu: u32,
        /// How many.
        count: u64,
    },
}

/// One cpu's event and ring.
#[derive(Debug)]
struct CpuRing {
    cpu: u32,
    _event: PerfEvent,
    mmap: Mmap,
    data_size: usize,
}

impl CpuRing {
    fn word(&self, offset: usize) -> &AtomicU64 {
        // SAFETY: `offset` is `DATA_HEAD` or `DATA_TAIL`, 8-aligned fields of the metadata
        // page mapped for this value's lifetime and shared with the kernel.
        unsafe { AtomicU64::from_ptr(self.mmap.as_ptr().add(offset).cast()) }
    }

    /// Copies `out.len()` bytes from ring position `pos`, wrapping at the ring's end.
    fn copy(&self, pos: u64, out: &mut [u8]) {
        let page = page_size();
        let start = (pos % self.data_size as u64) as usize;
        let first = out.len().min(self.data_size - start);
        let (a, b) = out.split_at_mut(first);
        let _ = self.mmap.read(page + start, a);
        let _ = self.mmap.read(page, b);
    }

    /// The next record of this ring, if any.
    fn next(&self) -> Option<PerfRecord> {
        loop {
            let head = self.word(DATA_HEAD).load(Ordering::Acquire);
            let tail = self.word(DATA_TAIL).load(Ordering::Relaxed);
            if tail >= head {
                return None;
            }
            let mut header = [0u8; 8];
            self.copy(tail, &mut header);
            let kind = u32::from_ne_bytes(header[0..4].try_into().unwrap());
            let size = u16::from_ne_bytes(header[6..8].try_into().unwrap()) as u64;
            if size < 8 {
                // A malformed record: skip everything there is.
                self.word(DATA_TAIL).store(head, Ordering::Release);
                return None;
            }
            let mut body = vec![0u8; size as usize - 8];
            self.copy(tail + 8, &mut body);
            self.word(DATA_TAIL).store(tail + size, Ordering::Release);
            match kind {
                RECORD_SAMPLE if body.len() >= 4 => {
                    let len = u32::from_ne_bytes(body[0..4].try_into().unwrap()) as usize;
                    let data = body[4..].get(..len).unwrap_or(&body[4..]).to_vec();
                    return Some(PerfRecord::Sample {
                        cpu: self.cpu,
                        data,
                    });
                }
                RECORD_LOST if body.len() >= 16 => {
                    let count = u64::from_ne_bytes(body[8..16].try_into().unwrap());
                    return Some(PerfRecord::Lost {
                        cpu: self.cpu,
                        count,
                    });
                }
                _ => continue,
            }
        }
    }
}

/// A reader of a perf event array.
#[derive(Debug)]
pub struct PerfBuffer {
    rings: Vec<CpuRing>,
    poller: Poller,
    /// The ring to read first next time, so that no cpu starves the others.
    next_ring: usize,
}

impl PerfBuffer {
    /// Opens a `BPF_OUTPUT` event of `pages` pages (a power of two) on every online cpu and
    /// stores it in `map` at the cpu's index.
    pub fn new(map: &Map, pages: usize) -> Result<PerfBuffer> {
        if map.map_type() != MapType::PERF_EVENT_ARRAY {
            return Err(Error::InvalidArgument(format!(
                "a perf buffer needs a BPF_MAP_TYPE_PERF_EVENT_ARRAY map, not {}",
                map.map_type()
            )));
        }
        if !pages.is_power_of_two() {
            return Err(Error::InvalidArgument(format!(
                "{pages} pages per cpu: must be a power of two"
            )));
        }
        let poller = Poller::new()?;
        let mut rings = Vec::new();
        for cpu in crate::cpus::online_cpus()? {
            if cpu >= map.max_entries() {
                continue;
            }
            let attr = PerfEventAttr {
                event_type: perf_type::SOFTWARE,
                config: sw::BPF_OUTPUT,
                sample_type: SAMPLE_RAW,
                sample_period_or_freq: 1,
                wakeup: 1,
                ..Default::default()
            };
            let event =
                PerfEvent::open(&attr, -1, cpu as i32, &format!("BPF_OUTPUT on cpu {cpu}"))?;
            let data_size = pages * page_size();
            let mmap = Mmap::new(event.as_fd(), page_size() + data_size, 0, true)?;
            event.enable()?;
            let fd = std::os::fd::AsRawFd::as_raw_fd(&event) as u32;
            map.update(&cpu.to_ne_bytes(), &fd.to_ne_bytes(), UpdateMode::Any)?;
            poller.add(event.as_fd(), rings.len() as u64)?;
            rings.push(CpuRing {
                cpu,
                _event: event,
                mmap,
                data_size,
            });
        }
        Ok(PerfBuffer {
            rings,
            poller,
            next_ring: 0,
        })
    }

    /// The next record of any cpu, without waiting.
    pub fn try_next(&mut self) -> Option<PerfRecord> {
        for i in 0..self.rings.len() {
            let ring = (self.next_ring + i) % self.rings.len();
            if let Some(record) = self.rings[ring].next() {
                self.next_ring = (ring + 1) % self.rings.len();
                return Some(record);
            }
        }
        None
    }

    /// The next record, waiting up to `timeout` for one.
    pub fn next_timeout(&mut self, timeout: Duration) -> Result<Option<PerfRecord>> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(record) = self.try_next() {
                return Ok(Some(record));
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Ok(None);
            }
            self.poller.wait(Some(left))?;
        }
    }

    /// Every record, each waited for up to `idle`.
    pub fn blocking(&mut self, idle: Duration) -> impl Iterator<Item = Result<PerfRecord>> + '_ {
        std::iter::from_fn(move || self.next_timeout(idle).transpose())
    }
}

/// The records available now (non-blocking).
impl Iterator for PerfBuffer {
    type Item = PerfRecord;

    fn next(&mut self) -> Option<PerfRecord> {
        self.try_next()
    }
}

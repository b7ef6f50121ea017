//! The address space of a run: a table of regions, each a Rust slice, addressed by the high 32
//! bits of a 64-bit virtual address.
//!
//! A program never sees a host address. Region `i` starts at virtual address `i << 32`, so a
//! load or store translates with one table index and one slice bounds check; an address in no
//! region, or an access that runs past a region's end, is a fault and never touches memory
//! outside the slices the run was given. Region 0 is empty, so null pointers (and every small
//! integer) fault.
//!
//! Fixed regions: one per stack frame (each exactly 512 bytes, so `r10 - 513` faults instead of
//! reaching the caller's frame), the input (the program's context, or the raw input memory), two
//! empty regions whose addresses are handles: maps (`lddw r1, map_fd(N)`) and subprograms
//! (`lddw r1, func(+N)`), the packet of a networking context (its headroom, data and tailroom, so
//! that `xdp_md.data` and `__sk_buff.data` point into it), and a scratch region helpers fill with
//! bytes the program may only read (the key `bpf_for_each_map_elem` passes its callback). Map
//! values follow, one region per map.

/// Size of one stack frame in bytes, the kernel's `MAX_BPF_STACK`.
pub const STACK_SIZE: usize = 512;
/// Maximum depth of bpf-to-bpf calls, the kernel's `MAX_CALL_FRAMES`.
pub const MAX_FRAMES: usize = 8;

/// Region index of the first stack frame; frame `k` is region `STACK_REGION + k`.
pub const STACK_REGION: u64 = 1;
/// Region index of the input memory (context or packet).
pub const INPUT_REGION: u64 = STACK_REGION + MAX_FRAMES as u64;
/// Region index whose addresses name maps: offset `N` is map `N`. It holds no bytes.
pub const MAP_HANDLE_REGION: u64 = INPUT_REGION + 1;
/// Region index whose addresses name subprograms: offset `N` is slot `N`. It holds no bytes.
pub const CODE_REGION: u64 = MAP_HANDLE_REGION + 1;
/// Region index of the packet buffer of an XDP or `__sk_buff` context (empty otherwise).
pub const PACKET_REGION: u64 = CODE_REGION + 1;
/// Region index of bytes helpers hand the program read-only (callback keys).
pub const SCRATCH_REGION: u64 = PACKET_REGION + 1;
/// Size of the scratch region: one 512-byte slot per call frame.
pub const SCRATCH_SIZE: usize = MAX_FRAMES * STACK_SIZE;
/// Region index of map 0's values; map `N` is region `MAP_VALUE_REGION + N`.
pub const MAP_VALUE_REGION: u64 = SCRATCH_REGION + 1;

/// The first virtual address of region `region`.
pub const fn region_base(region: u64) -> u64 {
    region << 32
}

/// `r1` of a run on an input of `len` bytes: the input region's first address, or 0 (NULL)
/// when there is no input. Every engine starts a raw run this way.
pub const fn input_pointer(len: usize) -> u64 {
    if len == 0 {
        0
    } else {
        region_base(INPUT_REGION)
    }
}

/// The frame pointer (`r10`) of stack frame `frame`: the end of its region.
pub const fn frame_pointer(frame: usize) -> u64 {
    region_base(STACK_REGION + frame as u64) + STACK_SIZE as u64
}

/// Which stack frames a run may write: what the next run must clean. Ordered from the least
/// to the most.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum FrameUse {
    /// None: the program stores nothing on the stack.
    Nothing,
    /// Only frame 0, the entry program's own: a program that makes no bpf-to-bpf call, runs no
    /// callback, and stores only through `r10` (see [`Program::frame_use`]), or trusted JIT
    /// code of a program without calls or callbacks, whose stores were verified to stay in its
    /// frame and the other regions.
    ///
    /// [`Program::frame_use`]: crate::Program::frame_use
    Entry,
    /// Any frame: in checked mode a program may write any frame's region by its address.
    Any,
}

/// The stack of a VM's runs, [`MAX_FRAMES`] frames of [`STACK_SIZE`] bytes, kept from run to
/// run. Every run starts with all of it zero (what a program reads from stack it never wrote,
/// on every engine). Zeroing 4 KiB per run was the largest part of a short run's cost, so a run
/// cleans what the one before may have written instead: frame 0 is zeroed (nearly every
/// program writes it), and the other frames, which most runs never touch, are zeroed only if
/// they hold a non-zero byte (reading 512 bytes costs less than writing them, and none of a
/// clean frame's cache lines become dirty).
#[derive(Debug)]
pub(crate) struct Stack {
    bytes: Box<[u8]>,
    /// What the last run may have written (`Nothing` when the stack is known to be zero).
    dirty: FrameUse,
}

impl Default for Stack {
    fn default() -> Self {
        Stack {
            bytes: vec![0; MAX_FRAMES * STACK_SIZE].into_boxed_slice(),
            dirty: FrameUse::Nothing,
        }
    }
}

impl Stack {
    /// Cleans what the last run may have written and hands out the stack, zero, for a run
    /// that writes at most what `frames` says.
    #[inline]
    pub(crate) fn prepare(&mut self, frames: FrameUse) -> &mut [u8] {
        // Inlined into every run, so that a run after one that wrote nothing (a short program
        // without stores) pays one compare for its stack.
        if self.dirty != FrameUse::Nothing {
            self.clean();
        }
        // Recorded before the run, so a run that panics is cleaned after all.
        self.dirty = frames;
        &mut self.bytes
    }

    /// Zeroes what the last run may have written.
    #[inline(never)]
    fn clean(&mut self) {
        let (entry, others) = self.bytes.split_at_mut(STACK_SIZE);
        entry.fill(0);
        if self.dirty == FrameUse::Any {
            others
                .chunks_exact_mut(STACK_SIZE)
                .for_each(zero_if_written);
        }
    }
}

impl Stack {
    /// Records that the last run may have written `frames` too.
    pub(crate) fn written(&mut self, frames: FrameUse) {
        self.dirty = self.dirty.max(frames);
    }
}

/// Zeroes `frame` if it holds a non-zero byte. It looks at 64 bytes at a time (a loop the
/// compiler vectorizes), from the end: stores cluster just below the frame pointer.
fn zero_if_written(frame: &mut [u8]) {
    let written = frame.chunks_exact(64).rev().any(|block| {
        block.chunks_exact(8).fold(0, |acc, word| {
            acc | u64::from_ne_bytes(word.try_into().unwrap_or([0; 8]))
        }) != 0
    });
    if written {
        frame.fill(0);
    }
}

/// One region: the bytes and whether stores may change them.
#[derive(Debug)]
pub struct Region<'a> {
    data: &'a mut [u8],
    writable: bool,
}

impl<'a> Region<'a> {
    /// A region the program may read and write.
    pub fn writable(data: &'a mut [u8]) -> Self {
        Region {
            data,
            writable: true,
        }
    }

    /// A region the program may only read.
    pub fn read_only(data: &'a mut [u8]) -> Self {
        Region {
            data,
            writable: false,
        }
    }

    /// A region with no bytes: its addresses are handles, and any access faults.
    pub fn empty() -> Self {
        Region {
            data: &mut [],
            writable: false,
        }
    }
}

/// Whether an access reads or writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Access {
    /// A load.
    Read,
    /// A store (or the write half of an atomic).
    Write,
}

impl std::fmt::Display for Access {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Access::Read => "read",
            Access::Write => "write",
        })
    }
}

/// Where a region's bytes are in host memory, for engines that translate virtual addresses
/// themselves (the JIT). Valid while the [`Memory`] it came from is neither used nor dropped.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RegionSpan {
    /// The first byte.
    pub ptr: *mut u8,
    /// Number of bytes.
    pub len: usize,
    /// Whether stores may change them.
    pub writable: bool,
}

/// The regions of one run.
#[derive(Debug, Default)]
pub struct Memory<'a> {
    regions: Vec<Region<'a>>,
}

impl<'a> Memory<'a> {
    /// An address space with the given regions, region `i` at `i << 32`.
    pub fn new(regions: Vec<Region<'a>>) -> Self {
        Memory { regions }
    }

    /// The bytes at `addr..addr + len`, if they lie in one region.
    #[inline(always)]
    pub fn slice(&self, addr: u64, len: usize) -> Option<&[u8]> {
        let region = self.regions.get((addr >> 32) as usize)?;
        let start = addr as u32 as usize;
        region.data.get(start..start.checked_add(len)?)
    }

    /// The bytes at `addr..addr + len` for writing, if they lie in one writable region.
    #[inline(always)]
    pub fn slice_mut(&mut self, addr: u64, len: usize) -> Option<&mut [u8]> {
        let region = self.regions.get_mut((addr >> 32) as usize)?;
        if !region.writable {
            return None;
        }
        let start = addr as u32 as usize;
        region.data.get_mut(start..start.checked_add(len)?)
    }

    /// Reads `N` little-endian bytes.
    #[inline(always)]
    pub fn load<const N: usize>(&self, addr: u64) -> Option<[u8; N]> {
        let region = self.regions.get((addr >> 32) as usize)?;
        let start = addr as u32 as usize;
        region.data.get(start..start + N)?.try_into().ok()
    }

    /// Writes `N` bytes.
    #[inline(always)]
    pub fn store<const N: usize>(&mut self, addr: u64, bytes: [u8; N]) -> Option<()> {
        let region = self.regions.get_mut((addr >> 32) as usize)?;
        if !region.writable {
            return None;
        }
        let start = addr as u32 as usize;
        region
            .data
            .get_mut(start..start + N)?
            .copy_from_slice(&bytes);
        Some(())
    }

    /// The regions back, for their allocation to be reused.
    pub(crate) fn into_regions(self) -> Vec<Region<'a>> {
        self.regions
    }

    /// Number of regions; region `i` starts at virtual address `i << 32`.
    pub fn region_count(&self) -> usize {
        self.regions.len()
    }

    /// The host memory of every region, in order. Taking the spans borrows the memory mutably,
    /// so pointers derived from them come after every earlier use of the slices.
    pub fn spans(&mut self) -> impl Iterator<Item = RegionSpan> + '_ {
        self.regions.iter_mut().map(|r| RegionSpan {
            ptr: r.data.as_mut_ptr(),
            len: r.data.len(),
            writable: r.writable,
        })
    }

    /// Whether `addr` is in a region the program may write (for messages).
    pub fn is_read_only(&self, addr: u64) -> bool {
        self.regions
            .get((addr >> 32) as usize)
            .is_some_and(|r| !r.writable && !r.data.is_empty())
    }

    /// The bytes at `addr..addr + len` for the runtime itself to write, even in a region the
    /// program may only read (helpers filling the scratch region, ring buffer headers).
    pub fn slice_mut_privileged(&mut self, addr: u64, len: usize) -> Option<&mut [u8]> {
        let region = self.regions.get_mut((addr >> 32) as usize)?;
        let start = addr as u32 as usize;
        region.data.get_mut(start..start.checked_add(len)?)
    }

    /// The whole of region `index`, for the runtime's own use.
    pub fn region_mut(&mut self, index: u64) -> Option<&mut [u8]> {
        self.regions.get_mut(index as usize).map(|r| &mut *r.data)
    }

    /// Copies `len` bytes from `src` to `dst`, which may be in different regions.
    pub fn copy(&mut self, dst: u64, src: u64, len: usize) -> Option<()> {
        let bytes = self.slice(src, len)?.to_vec();
        self.slice_mut(dst, len)?.copy_from_slice(&bytes);
        Some(())
    }
}

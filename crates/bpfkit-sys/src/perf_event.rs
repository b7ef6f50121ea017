//! `perf_event_open(2)`: the events kprobe, uprobe, tracepoint and perf_event programs attach
//! to, and the `BPF_OUTPUT` events behind a perf event array.
//!
//! Probes are created through the kernel's dynamic PMUs (`/sys/bus/event_source/devices/
//! kprobe` and `uprobe`): the probe lives as long as the event's file descriptor, so nothing is
//! left behind in tracefs.

use std::ffi::CString;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};
use std::path::Path;

use crate::error::{Errno, Error, Result};

/// `PERF_TYPE_*`.
pub mod perf_type {
    /// `PERF_TYPE_HARDWARE`.
    pub const HARDWARE: u32 = 0;
    /// `PERF_TYPE_SOFTWARE`.
    pub const SOFTWARE: u32 = 1;
    /// `PERF_TYPE_TRACEPOINT`.
    pub const TRACEPOINT: u32 = 2;
}

/// `PERF_COUNT_SW_*`.
pub mod sw {
    /// `PERF_COUNT_SW_CPU_CLOCK`.
    pub const CPU_CLOCK: u64 = 0;
    /// `PERF_COUNT_SW_BPF_OUTPUT`: the events of a perf event array.
    pub const BPF_OUTPUT: u64 = 10;
}

/// `PERF_SAMPLE_RAW`.
pub const SAMPLE_RAW: u64 = 1 << 10;

/// `struct perf_event_attr`, as of `PERF_ATTR_SIZE_VER7` (128 bytes).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct PerfEventAttr {
    /// `type`: a `PERF_TYPE_*` or a dynamic PMU's type.
    pub event_type: u32,
    /// `size`: of this struct.
    pub size: u32,
    /// `config`: the event within the type.
    pub config: u64,
    /// `sample_period`, or `sample_freq` with the `freq` flag.
    pub sample_period_or_freq: u64,
    /// `sample_type`: `PERF_SAMPLE_*`.
    pub sample_type: u64,
    /// `read_format`.
    pub read_format: u64,
    /// The bitfield: `disabled` (bit 0), `inherit` (1), `exclude_kernel` (5), `freq` (10),
    /// `watermark` (14), ...
    pub flags: u64,
    /// `wakeup_events`, or `wakeup_watermark` with the `watermark` flag.
    pub wakeup: u32,
    /// `bp_type`.
    pub bp_type: u32,
    /// `config1`: the kprobe function's or uprobe path's address.
    pub config1: u64,
    /// `config2`: the kprobe or uprobe offset.
    pub config2: u64,
    /// `branch_sample_type`.
    pub branch_sample_type: u64,
    /// `sample_regs_user`.
    pub sample_regs_user: u64,
    /// `sample_stack_user`.
    pub sample_stack_user: u32,
    /// `clockid`.
    pub clockid: i32,
    /// `sample_regs_intr`.
    pub sample_regs_intr: u64,
    /// `aux_watermark`.
    pub aux_watermark: u32,
    /// `sample_max_stack`.
    pub sample_max_stack: u16,
    /// Reserved.
    pub reserved_2: u16,
    /// `aux_sample_size`.
    pub aux_sample_size: u32,
    /// Reserved.
    pub reserved_3: u32,
    /// `sig_data`.
    pub sig_data: u64,
}

const _: () = assert!(size_of::<PerfEventAttr>() == 128);

/// Flag bits of [`PerfEventAttr::flags`].
pub mod attr_flags {
    /// Start disabled.
    pub const DISABLED: u64 = 1 << 0;
    /// `sample_freq` rather than `sample_period`.
    pub const FREQ: u64 = 1 << 10;
    /// `wakeup_watermark` rather than `wakeup_events`.
    pub const WATERMARK: u64 = 1 << 14;
}

/// An open perf event, owned through its file descriptor: closing it removes the event (and a
/// probe made for it) and detaches a program attached with [`PerfEvent::set_bpf`].
#[derive(Debug)]
pub struct PerfEvent {
    fd: OwnedFd,
}

const PERF_EVENT_IOC_ENABLE: libc::c_ulong = 0x2400;
const PERF_EVENT_IOC_DISABLE: libc::c_ulong = 0x2401;
const PERF_EVENT_IOC_SET_BPF: libc::c_ulong = 0x4004_2408;
const PERF_FLAG_FD_CLOEXEC: libc::c_ulong = 1 << 3;

impl PerfEvent {
    /// `perf_event_open(attr, pid, cpu, -1, PERF_FLAG_FD_CLOEXEC)`; `pid` -1 and `cpu` ≥ 0 for
    /// every process on one cpu, `pid` ≥ 0 and `cpu` -1 for one process on any cpu.
    pub fn open(attr: &PerfEventAttr, pid: i32, cpu: i32, what: &str) -> Result<PerfEvent> {
        let mut attr = *attr;
        attr.size = size_of::<PerfEventAttr>() as u32;
        // SAFETY: `attr` is a complete `perf_event_attr` of the size it declares; the call
        // returns a new file descriptor or -1.
        let fd = unsafe {
            libc::syscall(
                libc::SYS_perf_event_open,
                &raw const attr,
                pid as libc::c_long,
                cpu as libc::c_long,
                -1 as libc::c_long,
                PERF_FLAG_FD_CLOEXEC,
            )
        };
        if fd < 0 {
            return Err(Error::os("perf_event_open", what));
        }
        // SAFETY: a new file descriptor that nothing else owns.
        let fd = unsafe { OwnedFd::from_raw_fd(fd as RawFd) };
        Ok(PerfEvent { fd })
    }

    /// A tracepoint event (`id` from tracefs: see [`crate::tracefs`]) for every process on any
    /// cpu.
    pub fn tracepoint(id: u64) -> Result<PerfEvent> {
        let attr = PerfEventAttr {
            event_type: perf_type::TRACEPOINT,
            config: id,
            sample_period_or_freq: 1,
            wakeup: 1,
            ..Default::default()
        };
        PerfEvent::open(&attr, -1, 0, &format!("tracepoint {id}"))
    }

    /// A kprobe (or kretprobe) on kernel function `function` at byte `offset`, through the
    /// kprobe PMU.
    pub fn kprobe(function: &str, offset: u64, retprobe: bool) -> Result<PerfEvent> {
        let pmu = DynamicPmu::read("kprobe")?;
        let name = CString::new(function)
            .map_err(|_| Error::InvalidArgument(format!("`{function}` contains a NUL byte")))?;
        let attr = PerfEventAttr {
            event_type: pmu.event_type,
            config: if retprobe { pmu.retprobe_bit } else { 0 },
            config1: name.as_ptr() as u64,
            config2: offset,
            sample_period_or_freq: 1,
            wakeup: 1,
            ..Default::default()
        };
        PerfEvent::open(&attr, -1, 0, &format!("kprobe {function}+{offset}"))
    }

    /// A uprobe (or uretprobe) at file offset `offset` of the ELF file `binary`, in process
    /// `pid` (-1: every process), through the uprobe PMU.
    pub fn uprobe(binary: &Path, offset: u64, retprobe: bool, pid: i32) -> Result<PerfEvent> {
        let pmu = DynamicPmu::read("uprobe")?;
        let path = CString::new(binary.as_os_str().as_encoded_bytes())
            .map_err(|_| Error::InvalidArgument("the binary's path contains a NUL byte".into()))?;
        let attr = PerfEventAttr {
            event_type: pmu.event_type,
            config: if retprobe { pmu.retprobe_bit } else { 0 },
            config1: path.as_ptr() as u64,
            config2: offset,
            sample_period_or_freq: 1,
            wakeup: 1,
            ..Default::default()
        };
        let cpu = if pid == -1 { 0 } else { -1 };
        PerfEvent::open(
            &attr,
            pid,
            cpu,
            &format!("uprobe {}:{offset:#x}", binary.display()),
        )
    }

    /// A software event on `cpu` for every process, sampled `freq` times a second (for
    /// perf_event programs).
    pub fn software(config: u64, freq: u64, cpu: u32) -> Result<PerfEvent> {
        let attr = PerfEventAttr {
            event_type: perf_type::SOFTWARE,
            config,
            sample_period_or_freq: freq,
            flags: attr_flags::FREQ,
            ..Default::default()
        };
        PerfEvent::open(
            &attr,
            -1,
            cpu as i32,
            &format!("software event {config} on cpu {cpu}"),
        )
    }

    /// Attaches `prog` to the event (`PERF_EVENT_IOC_SET_BPF`) and enables it: the way before
    /// perf event links (kernel 5.15).
    pub fn set_bpf(&self, prog: BorrowedFd<'_>) -> Result<()> {
        self.ioctl(
            PERF_EVENT_IOC_SET_BPF,
            prog.as_raw_fd() as libc::c_ulong,
            "SET_BPF",
        )?;
        self.enable()
    }

    /// Enables the event (`PERF_EVENT_IOC_ENABLE`).
    pub fn enable(&self) -> Result<()> {
        self.ioctl(PERF_EVENT_IOC_ENABLE, 0, "ENABLE")
    }

    /// Disables the event (`PERF_EVENT_IOC_DISABLE`).
    pub fn disable(&self) -> Result<()> {
        self.ioctl(PERF_EVENT_IOC_DISABLE, 0, "DISABLE")
    }

    fn ioctl(&self, request: libc::c_ulong, arg: libc::c_ulong, name: &str) -> Result<()> {
        // SAFETY: the perf event ioctls used here take an integer argument, not a pointer.
        let ret = unsafe { libc::ioctl(self.fd.as_raw_fd(), request, arg) };
        if ret < 0 {
            return Err(Error::os("ioctl", format!("PERF_EVENT_IOC_{name}")));
        }
        Ok(())
    }
}

impl AsFd for PerfEvent {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }
}

impl AsRawFd for PerfEvent {
    fn as_raw_fd(&self) -> RawFd {
        self.fd.as_raw_fd()
    }
}

/// A dynamic PMU of the kernel (`kprobe`, `uprobe`): its event type and the `config` bit that
/// makes a probe a return probe.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DynamicPmu {
    /// The `type` to pass in `perf_event_attr`.
    pub event_type: u32,
    /// The `config` bit of a return probe.
    pub retprobe_bit: u64,
}

impl DynamicPmu {
    /// Reads `/sys/bus/event_source/devices/NAME/{type,format/retprobe}`. A missing PMU means
    /// the kernel was built without it (`CONFIG_KPROBE_EVENTS`, `CONFIG_UPROBE_EVENTS`):
    /// the error says so, with `ENOENT`.
    pub fn read(name: &str) -> Result<DynamicPmu> {
        let dir = Path::new("/sys/bus/event_source/devices").join(name);
        let read = |file: &str| {
            let path = dir.join(file);
            std::fs::read_to_string(&path).map_err(|e| Error::Os {
                call: "read",
                context: format!(
                    "{}: the kernel has no {name} PMU (built without {name} events?)",
                    path.display()
                ),
                errno: Errno(e.raw_os_error().unwrap_or(libc::ENOENT)),
            })
        };
        let event_type = read("type")?.trim().parse().map_err(|_| {
            Error::InvalidArgument(format!("{}/type is not a number", dir.display()))
        })?;
        // `config:0`: the bit of `config` that selects a return probe.
        let bit = read("format/retprobe")?;
        let bit: u32 = bit
            .trim()
            .strip_prefix("config:")
            .and_then(|b| b.parse().ok())
            .filter(|&b: &u32| b < 64)
            .ok_or_else(|| {
                Error::InvalidArgument(format!(
                    "{}/format/retprobe: `{}`",
                    dir.display(),
                    bit.trim()
                ))
            })?;
        Ok(DynamicPmu {
            event_type,
            retprobe_bit: 1 << bit,
        })
    }
}

//! `bpfkit attach OBJ.o PROGRAM [TARGET]`: loads a program, attaches it where its type and
//! section say (TARGET overriding or completing that), and prints what it outputs — ring
//! buffer records, perf event array samples, `bpf_printk` lines — until interrupted.
//!
//! TARGET by program type: XDP an interface; tc `IFACE[:ingress|:egress]`; socket filter an
//! interface (a packet socket on it); kprobe a kernel function; uprobe `BINARY:FUNCTION`;
//! tracepoint `CATEGORY/NAME`; raw_tp a tracepoint name; perf_event a sampling frequency;
//! cgroup programs a cgroup directory (default: the cgroup v2 root). Sections that name their
//! target (`kprobe/do_unlinkat`) need none.

use std::io::Write;
use std::os::fd::{AsFd, FromRawFd, OwnedFd};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use bpfkit_loader::{AttachPoint, LoadOptions, LoadedObject, TcDirection};
use bpfkit_sys::{MapType, PerfBuffer, PerfRecord, ProgType, RingBuf};
use clap::Args;

use super::load::{describe, object_error, open};
use crate::CliError;

/// Arguments of `bpfkit attach`.
#[derive(Args)]
pub struct AttachArgs {
    /// Sets a global variable before load (`.rodata` constants included): NAME=INTEGER, stored
    /// in the variable's size.
    #[arg(long = "global", value_name = "NAME=VALUE")]
    globals: Vec<String>,
    /// Stop after this many seconds instead of waiting for Ctrl-C.
    #[arg(long, value_name = "SECONDS")]
    duration: Option<f64>,
    /// The object.
    object: PathBuf,
    /// The program (its name).
    program: String,
    /// Where to attach (see above).
    target: Option<String>,
}

impl AttachArgs {
    /// Runs `bpfkit attach`.
    pub fn run(self) -> Result<ExitCode, CliError> {
        let mut spec = open(&self.object, LoadOptions::default())?;
        if !spec.programs().iter().any(|p| p.name == self.program) {
            return Err(CliError::input(format!(
                "{}: no program named '{}'",
                self.object.display(),
                self.program
            )));
        }
        for global in &self.globals {
            set_global(&mut spec, global)?;
        }
        let names: Vec<String> = spec.programs().iter().map(|p| p.name.clone()).collect();
        for name in &names {
            spec.set_autoload(name, *name == self.program)
                .map_err(|e| CliError::input(e.to_string()))?;
        }
        let loaded = match spec.load() {
            Ok(loaded) => loaded,
            Err(e @ bpfkit_loader::LoadError::Program { .. }) => {
                let log = e.verifier_log().unwrap_or_default().to_string();
                return Err(CliError::judged(
                    e.to_string().lines().next().unwrap_or("").to_string(),
                )
                .with_details(log));
            }
            Err(e) => return Err(object_error(&self.object, e)),
        };
        let program = loaded.program(&self.program).expect("loaded above");
        println!("{}", describe(program)?);

        bpfkit_sys::interrupt::catch_interrupts().map_err(|e| CliError::input(e.to_string()))?;
        let socket;
        let point = match self.target.as_deref() {
            None => default_point(program.image.prog_type),
            Some(target) => match program.image.prog_type {
                ProgType::SOCKET_FILTER => {
                    socket = packet_socket(target)?;
                    AttachPoint::Socket(socket.as_fd())
                }
                t => parse_point(t, &program.section, target)?,
            },
        };
        let attached = program
            .attach(point)
            .map_err(|e| CliError::judged(format!("program '{}': {e}", self.program)))?;
        println!("attached: {}", attached.description);
        stream(&loaded, self.duration.map(Duration::from_secs_f64))?;
        drop(attached);
        // stdout may be closed by now (`| head`).
        let _ = writeln!(std::io::stdout(), "detached");
        Ok(ExitCode::SUCCESS)
    }
}

/// `NAME=INTEGER` into the variable's bytes.
fn set_global(spec: &mut bpfkit_loader::ObjectSpec, text: &str) -> Result<(), CliError> {
    let (name, value) = text
        .split_once('=')
        .ok_or_else(|| CliError::input(format!("--global {text}: expected NAME=VALUE")))?;
    let size = spec
        .globals()
        .iter()
        .find(|g| g.name == name)
        .map(|g| g.size)
        .ok_or_else(|| CliError::input(format!("--global: no global variable '{name}'")))?;
    let parsed = match value.strip_prefix("0x") {
        Some(hex) => i128::from_str_radix(hex, 16),
        None => value.parse::<i128>(),
    }
    .map_err(|_| CliError::input(format!("--global {text}: `{value}` is not an integer")))?;
    if size > 16 {
        return Err(CliError::input(format!(
            "--global: '{name}' is {size} bytes, not an integer"
        )));
    }
    let bytes = parsed.to_le_bytes()[..size].to_vec();
    spec.set_global(name, &bytes)
        .map_err(|e| CliError::input(e.to_string()))
}

/// Where a program goes when no target is given.
fn default_point(t: ProgType) -> AttachPoint<'static> {
    match t {
        ProgType::PERF_EVENT => AttachPoint::Sampling { freq: 99 },
        _ => AttachPoint::Section,
    }
}

/// TARGET for program type `t`.
fn parse_point<'a>(
    t: ProgType,
    section: &str,
    target: &'a str,
) -> Result<AttachPoint<'a>, CliError> {
    let bad = |what: &str| CliError::input(format!("target `{target}`: {what}"));
    Ok(match t {
        ProgType::XDP => AttachPoint::Interface(target),
        ProgType::SCHED_CLS => {
            let (name, direction) = match target.rsplit_once(':') {
                Some((name, "ingress")) => (name, TcDirection::Ingress),
                Some((name, "egress")) => (name, TcDirection::Egress),
                Some(_) => return Err(bad("expected IFACE[:ingress|:egress]")),
                None if section.ends_with("/egress") => (target, TcDirection::Egress),
                None => (target, TcDirection::Ingress),
            };
            let ifindex =
                bpfkit_sys::netlink::ifindex(name).map_err(|e| CliError::judged(e.to_string()))?;
            AttachPoint::Tc {
                ifindex,
                direction,
                legacy: false,
            }
        }
        ProgType::KPROBE if section.starts_with('u') => {
            let (binary, symbol) = target
                .rsplit_once(':')
                .ok_or_else(|| bad("expected BINARY:FUNCTION"))?;
            AttachPoint::Uprobe {
                binary: Path::new(binary),
                symbol,
                pid: None,
            }
        }
        ProgType::KPROBE => AttachPoint::Kprobe {
            function: target,
            offset: 0,
        },
        ProgType::TRACEPOINT => {
            let (category, name) = target
                .split_once('/')
                .ok_or_else(|| bad("expected CATEGORY/NAME"))?;
            AttachPoint::Tracepoint { category, name }
        }
        ProgType::RAW_TRACEPOINT | ProgType::RAW_TRACEPOINT_WRITABLE => {
            AttachPoint::RawTracepoint(target)
        }
        ProgType::PERF_EVENT => AttachPoint::Sampling {
            freq: target
                .parse()
                .map_err(|_| bad("expected a frequency in Hz"))?,
        },
        ProgType::CGROUP_SKB
        | ProgType::CGROUP_SOCK
        | ProgType::CGROUP_SOCK_ADDR
        | ProgType::CGROUP_SOCKOPT
        | ProgType::CGROUP_SYSCTL
        | ProgType::CGROUP_DEVICE
        | ProgType::SOCK_OPS => AttachPoint::Cgroup(Path::new(target)),
        other => return Err(bad(&format!("{other:#} programs take no target"))),
    })
}

/// A raw packet socket bound to interface `name`, for a socket filter to watch.
fn packet_socket(name: &str) -> Result<OwnedFd, CliError> {
    let ifindex =
        bpfkit_sys::netlink::ifindex(name).map_err(|e| CliError::judged(e.to_string()))?;
    let protocol = (libc::ETH_P_ALL as u16).to_be() as i32;
    // SAFETY: socket(2) with constant arguments returns a new descriptor or -1.
    let fd = unsafe {
        libc::socket(
            libc::AF_PACKET,
            libc::SOCK_RAW | libc::SOCK_CLOEXEC,
            protocol,
        )
    };
    if fd < 0 {
        return Err(CliError::judged(format!(
            "socket(AF_PACKET): {}",
            std::io::Error::last_os_error()
        )));
    }
    // SAFETY: a new descriptor nothing else owns.
    let socket = unsafe { OwnedFd::from_raw_fd(fd) };
    // SAFETY: an all-zero sockaddr_ll is valid; the fields that matter are set below.
    let mut addr: libc::sockaddr_ll = unsafe { std::mem::zeroed() };
    addr.sll_family = libc::AF_PACKET as u16;
    addr.sll_protocol = protocol as u16;
    addr.sll_ifindex = ifindex as i32;
    // SAFETY: `addr` is a valid sockaddr_ll of the size given.
    let ret = unsafe {
        libc::bind(
            std::os::fd::AsRawFd::as_raw_fd(&socket),
            (&raw const addr).cast(),
            size_of::<libc::sockaddr_ll>() as u32,
        )
    };
    if ret < 0 {
        return Err(CliError::judged(format!(
            "bind to {name}: {}",
            std::io::Error::last_os_error()
        )));
    }
    Ok(socket)
}

/// Prints ring buffer records, perf samples and trace pipe lines until interrupted or
/// `duration` passes.
fn stream(loaded: &LoadedObject, duration: Option<Duration>) -> Result<(), CliError> {
    let fail = |e: bpfkit_sys::Error| CliError::judged(e.to_string());
    let mut rings = Vec::new();
    let mut perfs = Vec::new();
    for m in loaded.maps() {
        match m.map.map_type() {
            MapType::RINGBUF => rings.push((m.name.clone(), RingBuf::new(&m.map).map_err(fail)?)),
            MapType::PERF_EVENT_ARRAY => {
                perfs.push((m.name.clone(), PerfBuffer::new(&m.map, 8).map_err(fail)?));
            }
            _ => {}
        }
    }
    let mut pipe = match bpfkit_sys::tracefs::TracePipe::open() {
        Ok(pipe) => Some(pipe),
        Err(e) => {
            eprintln!("warning: bpf_printk output will not show: {e}");
            None
        }
    };
    // Stops quietly when stdout is closed (`| head`).
    let mut out = std::io::stdout().lock();
    let start = Instant::now();
    while !bpfkit_sys::interrupt::interrupted() && duration.is_none_or(|d| start.elapsed() < d) {
        let mut lines = Vec::new();
        for (name, ring) in &mut rings {
            lines.extend(
                ring.by_ref()
                    .map(|r| format!("ringbuf {name}: {}", hex(&r))),
            );
        }
        for (name, perf) in &mut perfs {
            lines.extend(perf.by_ref().map(|record| match record {
                PerfRecord::Sample { cpu, data } => {
                    format!("perf {name} cpu {cpu}: {}", hex(&data))
                }
                PerfRecord::Lost { cpu, count } => {
                    format!("perf {name} cpu {cpu}: {count} samples lost")
                }
            }));
        }
        if let Some(pipe) = &mut pipe {
            let printk = pipe.read_lines().map_err(fail)?;
            lines.extend(printk.iter().map(|l| format!("printk: {}", l.trim())));
        }
        if lines.is_empty() {
            std::thread::sleep(Duration::from_millis(20));
        }
        for line in lines {
            if writeln!(out, "{line}").and_then(|()| out.flush()).is_err() {
                return Ok(());
            }
        }
    }
    Ok(())
}

fn hex(bytes: &[u8]) -> String {
    bytes
        .chunks(4)
        .map(|c| c.iter().map(|b| format!("{b:02x}")).collect::<String>())
        .collect::<Vec<_>>()
        .join(" ")
}

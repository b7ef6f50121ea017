//! Programs attached for real, firing on what the test does: an XDP program on a veth pair
//! in the test's own network namespace counts the frames sent through it (no test run); tc
//! through tcx and through the clsact qdisc; a socket filter; raw_tp, tracepoint, kprobe and
//! uprobe programs writing to a ring buffer on a syscall or a call the test makes; perf event
//! array output; `bpf_printk` in the trace pipe; perf_event sampling; a cgroup program; links
//! pinned and detached on drop; tail calls through a prog array.
//!
//! Programs come from `testdata/src/attach.bpf.c`; its `.rodata` constant `target_pid` is set
//! to this process before load, so the tracing programs report this process only.

mod common;

use std::os::fd::{AsFd, AsRawFd, FromRawFd, OwnedFd};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use bpfkit_loader::{AttachPoint, LoadError, LoadedObject, ObjectSpec, TcDirection};
use bpfkit_sys::{Errno, PerfBuffer, PerfRecord, RingBuf, TestRun, UpdateMode};
use bpfkit_test_support::{Need, require};
use common::{PinDir, obj};

/// Counter slots of `counters` (the `enum` in attach.bpf.c).
const XDP_SEEN: u32 = 0;
const TC_SEEN: u32 = 1;
const SOCKET_SEEN: u32 = 2;
const CGROUP_SEEN: u32 = 3;
const PERF_SEEN: u32 = 4;
const TAIL_SEEN: u32 = 5;

/// Event kinds of the ring buffer and the perf event array.
const EV_RAW_TP: u32 = 1;
const EV_TRACEPOINT: u32 = 2;
const EV_KPROBE: u32 = 3;
const EV_UPROBE: u32 = 4;
const EV_URETPROBE: u32 = 5;
const EV_PERF_OUTPUT: u32 = 6;

/// attach.v3.g.o loaded with `target_pid` = this process; `only` programs loaded.
fn load(only: &[&str]) -> LoadedObject {
    let mut spec = ObjectSpec::open_file(obj("attach.v3.g.o")).unwrap();
    spec.set_global("target_pid", &std::process::id().to_ne_bytes())
        .unwrap();
    let names: Vec<String> = spec.programs().iter().map(|p| p.name.clone()).collect();
    for name in names {
        spec.set_autoload(&name, only.contains(&name.as_str()))
            .unwrap();
    }
    spec.load().unwrap()
}

fn counter(object: &LoadedObject, slot: u32) -> u64 {
    let value = object
        .map("counters")
        .unwrap()
        .map
        .get(&slot.to_ne_bytes())
        .unwrap()
        .unwrap();
    u64::from_ne_bytes(value.try_into().unwrap())
}

/// An event of attach.bpf.c: (kind, pid, value).
fn event(bytes: &[u8]) -> (u32, u32, u64) {
    (
        u32::from_ne_bytes(bytes[0..4].try_into().unwrap()),
        u32::from_ne_bytes(bytes[4..8].try_into().unwrap()),
        u64::from_ne_bytes(bytes[8..16].try_into().unwrap()),
    )
}

/// Reads the ring buffer until an event of `kind` from this process shows (or 5 s pass),
/// calling `trigger` before each wait.
fn wait_for(ring: &mut RingBuf, kind: u32, trigger: impl FnMut()) -> Option<(u32, u32, u64)> {
    wait_matching(ring, |e| e.0 == kind, trigger)
}

fn wait_matching(
    ring: &mut RingBuf,
    want: impl Fn(&(u32, u32, u64)) -> bool,
    mut trigger: impl FnMut(),
) -> Option<(u32, u32, u64)> {
    let deadline = Instant::now() + Duration::from_secs(5);
    while Instant::now() < deadline {
        trigger();
        while let Some(record) = ring.next_timeout(Duration::from_millis(100)).unwrap() {
            let e = event(&record);
            if e.1 == std::process::id() && want(&e) {
                return Some(e);
            }
        }
    }
    None
}

fn run(cmd: &str) {
    let mut parts = cmd.split_whitespace();
    let status = std::process::Command::new(parts.next().unwrap())
        .args(parts)
        .status()
        .unwrap();
    assert!(status.success(), "`{cmd}` failed");
}

/// Runs `f` on a thread of its own in a new network namespace (gone with the thread): a veth
/// pair `bk0`/`bk1`, both up, with IPv6 off so that the kernel sends nothing of its own
/// (neighbour discovery) through them: every frame is the test's.
fn in_netns<T: Send>(f: impl FnOnce() -> T + Send) -> T {
    std::thread::scope(|s| {
        s.spawn(|| {
            // SAFETY: unshare(2) with a flag: moves this thread (only) into a new network
            // namespace; commands it spawns inherit it.
            let ret = unsafe { libc::unshare(libc::CLONE_NEWNET) };
            assert_eq!(
                ret,
                0,
                "unshare(CLONE_NEWNET): {}",
                std::io::Error::last_os_error()
            );
            std::fs::write("/proc/sys/net/ipv6/conf/default/disable_ipv6", "1").unwrap();
            run("ip link add bk0 type veth peer name bk1");
            run("ip link set bk0 up");
            run("ip link set bk1 up");
            f()
        })
        .join()
        .unwrap()
    })
}

/// Sends `n` IPv4-looking Ethernet frames out of interface `from` through a packet socket.
fn send_frames(from: &str, n: usize) {
    let ifindex = bpfkit_sys::netlink::ifindex(from).unwrap();
    // SAFETY: socket(2) with constant arguments.
    let fd = unsafe { libc::socket(libc::AF_PACKET, libc::SOCK_RAW, 0) };
    assert!(
        fd >= 0,
        "socket(AF_PACKET): {}",
        std::io::Error::last_os_error()
    );
    // SAFETY: a new descriptor nothing else owns.
    let socket = unsafe { OwnedFd::from_raw_fd(fd) };
    let mut frame = [0u8; 64];
    frame[..6].copy_from_slice(&[0xff; 6]);
    frame[6..12].copy_from_slice(&[2, 0, 0, 0, 0, 1]);
    frame[12..14].copy_from_slice(&0x0800u16.to_be_bytes());
    frame[14] = 0x45;
    frame[23] = 17;
    // SAFETY: an all-zero sockaddr_ll is valid; fields set below.
    let mut addr: libc::sockaddr_ll = unsafe { std::mem::zeroed() };
    addr.sll_family = libc::AF_PACKET as u16;
    addr.sll_ifindex = ifindex as i32;
    addr.sll_halen = 6;
    addr.sll_addr[..6].copy_from_slice(&[0xff; 6]);
    for _ in 0..n {
        // SAFETY: `frame` and `addr` are valid for the lengths given.
        let sent = unsafe {
            libc::sendto(
                socket.as_raw_fd(),
                frame.as_ptr().cast(),
                frame.len(),
                0,
                (&raw const addr).cast(),
                size_of::<libc::sockaddr_ll>() as u32,
            )
        };
        assert_eq!(
            sent,
            frame.len() as isize,
            "sendto: {}",
            std::io::Error::last_os_error()
        );
    }
}

/// Waits until `f` holds (or 2 s pass): packets go through queues.
fn eventually(mut f: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + Duration::from_secs(2);
    while Instant::now() < deadline {
        if f() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    f()
}

#[test]
fn xdp_on_a_veth_counts_real_frames() {
    require!(Need::Kernel, Need::Root, Need::Tool("ip"));
    in_netns(|| {
        let object = load(&["xdp_count"]);
        let prog = object.program("xdp_count").unwrap();
        send_frames("bk0", 5);
        std::thread::sleep(Duration::from_millis(50));
        assert_eq!(counter(&object, XDP_SEEN), 0, "nothing attached yet");

        let attached = prog.attach(AttachPoint::Interface("bk1")).unwrap();
        send_frames("bk0", 10);
        assert!(
            eventually(|| counter(&object, XDP_SEEN) == 10),
            "XDP saw {} frames",
            counter(&object, XDP_SEEN)
        );
        let info = attached.link().unwrap().info().unwrap();
        assert_eq!(info.prog_id, prog.program.info().unwrap().id);

        // Dropping the attachment detaches the program.
        drop(attached);
        send_frames("bk0", 10);
        std::thread::sleep(Duration::from_millis(50));
        assert_eq!(counter(&object, XDP_SEEN), 10);

        // A missing interface is the kernel's answer (ENODEV), named.
        let err = prog.attach(AttachPoint::Interface("bk-none")).unwrap_err();
        assert_eq!(err.errno(), Some(Errno(libc::ENODEV)), "{err}");
    });
}

#[test]
fn tc_attaches_through_tcx_and_through_clsact() {
    require!(Need::Kernel, Need::Root, Need::Tool("ip"));
    in_netns(|| {
        let object = load(&["tc_count"]);
        let prog = object.program("tc_count").unwrap();
        let ifindex = bpfkit_sys::netlink::ifindex("bk1").unwrap();
        for legacy in [false, true] {
            let before = counter(&object, TC_SEEN);
            let attached = prog
                .attach(AttachPoint::Tc {
                    ifindex,
                    direction: TcDirection::Ingress,
                    legacy,
                })
                .unwrap();
            assert_eq!(
                attached.link().is_some(),
                !legacy,
                "{}",
                attached.description
            );
            send_frames("bk0", 4);
            assert!(
                eventually(|| counter(&object, TC_SEEN) == before + 4),
                "{}: {} frames",
                attached.description,
                counter(&object, TC_SEEN) - before
            );
            drop(attached);
            send_frames("bk0", 4);
            std::thread::sleep(Duration::from_millis(50));
            assert_eq!(counter(&object, TC_SEEN), before + 4, "detached on drop");
        }
    });
}

#[test]
fn socket_filter_sees_datagrams() {
    require!(Need::Kernel);
    let object = load(&["socket_count"]);
    let receiver = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let attached = object
        .program("socket_count")
        .unwrap()
        .attach(AttachPoint::Socket(receiver.as_fd()))
        .unwrap();
    let sender = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    for _ in 0..3 {
        sender
            .send_to(b"hello", receiver.local_addr().unwrap())
            .unwrap();
    }
    let mut buf = [0u8; 16];
    for _ in 0..3 {
        let (n, _) = receiver.recv_from(&mut buf).unwrap();
        assert_eq!(&buf[..n], b"hello");
    }
    assert_eq!(counter(&object, SOCKET_SEEN), 3);
    drop(attached);
    sender
        .send_to(b"again", receiver.local_addr().unwrap())
        .unwrap();
    receiver.recv_from(&mut buf).unwrap();
    assert_eq!(counter(&object, SOCKET_SEEN), 3);
}

#[test]
fn raw_tp_fires_on_a_syscall_into_the_ring_buffer() {
    require!(Need::Kernel, Need::Root);
    let object = load(&["raw_tp_enter"]);
    let mut ring = RingBuf::new(&object.map("events").unwrap().map).unwrap();
    let _attached = object
        .program("raw_tp_enter")
        .unwrap()
        .attach(AttachPoint::Section)
        .unwrap();
    // sys_enter's args[1] is the syscall number.
    let getppid = libc::SYS_getppid as u64;
    let seen = wait_matching(
        &mut ring,
        |e| e.0 == EV_RAW_TP && e.2 == getppid,
        || {
            // SAFETY: getppid has no arguments and cannot fail.
            unsafe { libc::getppid() };
        },
    );
    assert!(seen.is_some(), "no raw_tp event for getppid");
}

#[test]
fn tracepoint_fires_on_a_syscall_into_the_ring_buffer() {
    require!(Need::Kernel, Need::Root);
    mount_tracefs();
    let object = load(&["tp_getppid"]);
    let mut ring = RingBuf::new(&object.map("events").unwrap().map).unwrap();
    let attached = object
        .program("tp_getppid")
        .unwrap()
        .attach(AttachPoint::Section)
        .unwrap();
    let seen = wait_for(&mut ring, EV_TRACEPOINT, || {
        // SAFETY: no arguments.
        unsafe { libc::getppid() };
    });
    assert!(seen.is_some(), "{}: no event", attached.description);
}

#[test]
fn kprobe_fires_on_a_syscall_or_the_kernel_says_why_not() {
    require!(Need::Kernel, Need::Root);
    let object = load(&["kprobe_getppid"]);
    let mut ring = RingBuf::new(&object.map("events").unwrap().map).unwrap();
    let prog = object.program("kprobe_getppid").unwrap();
    match prog.attach(AttachPoint::Section) {
        Ok(attached) => {
            let seen = wait_for(&mut ring, EV_KPROBE, || {
                // SAFETY: no arguments.
                unsafe { libc::getppid() };
            });
            assert!(seen.is_some(), "{}: no event", attached.description);
        }
        Err(e) => {
            // This kernel has no kprobes (CONFIG_KPROBES off): the kprobe PMU is not in sysfs.
            let pmu = bpfkit_sys::DynamicPmu::read("kprobe").unwrap_err();
            assert_eq!(pmu.errno(), Some(Errno(libc::ENOENT)), "{pmu}");
            assert_eq!(e.errno(), Some(Errno(libc::ENOENT)), "{e}");
            assert!(e.to_string().contains("no kprobe PMU"), "{e}");
            if let Ok(config) = kernel_config() {
                assert!(
                    config.contains("# CONFIG_KPROBES is not set"),
                    "kprobes are configured, yet: {e}"
                );
            }
            eprintln!("kprobe: this kernel lacks kprobes ({e}); the kernel's answer is checked");
        }
    }
}

fn kernel_config() -> std::io::Result<String> {
    let out = std::process::Command::new("sh")
        .args([
            "-c",
            "zcat /proc/config.gz 2>/dev/null || cat /boot/config-$(uname -r)",
        ])
        .output()?;
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// The function the uprobe test probes: not inlined, exported under its own name.
#[unsafe(no_mangle)]
#[inline(never)]
pub extern "C" fn bpfkit_uprobe_target(x: u64) -> u64 {
    std::hint::black_box(x.wrapping_mul(3))
}

#[test]
fn uprobe_and_uretprobe_fire_on_a_function_of_this_binary() {
    require!(Need::Kernel, Need::Root);
    let object = load(&["uprobe_hit", "uretprobe_hit"]);
    let mut ring = RingBuf::new(&object.map("events").unwrap().map).unwrap();
    let exe = std::fs::read_link("/proc/self/exe").unwrap();
    for (program, kind) in [("uprobe_hit", EV_UPROBE), ("uretprobe_hit", EV_URETPROBE)] {
        let attached = object
            .program(program)
            .unwrap()
            .attach(AttachPoint::Uprobe {
                binary: &exe,
                symbol: "bpfkit_uprobe_target",
                pid: None,
            })
            .unwrap();
        let seen = wait_for(&mut ring, kind, || {
            std::hint::black_box(bpfkit_uprobe_target(std::hint::black_box(7)));
        });
        assert!(seen.is_some(), "{}: no event", attached.description);
    }
}

#[test]
fn perf_event_array_output_reaches_the_perf_buffer() {
    require!(Need::Kernel, Need::Root);
    mount_tracefs();
    let object = load(&["perf_output"]);
    let mut perf = PerfBuffer::new(&object.map("perf_events").unwrap().map, 8).unwrap();
    let _attached = object
        .program("perf_output")
        .unwrap()
        .attach(AttachPoint::Section)
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(5);
    let mut found = None;
    while found.is_none() && Instant::now() < deadline {
        // SAFETY: getpgid(0) asks about this process.
        unsafe { libc::getpgid(0) };
        while let Some(record) = perf.next_timeout(Duration::from_millis(100)).unwrap() {
            if let PerfRecord::Sample { data, .. } = record {
                found = Some(event(&data));
            }
        }
    }
    assert_eq!(found, Some((EV_PERF_OUTPUT, std::process::id(), 42)));
}

#[test]
fn printk_output_shows_in_the_trace_pipe() {
    require!(Need::Kernel, Need::Root);
    mount_tracefs();
    let object = load(&["printk_sid"]);
    let mut pipe = bpfkit_sys::tracefs::TracePipe::open().unwrap();
    let _attached = object
        .program("printk_sid")
        .unwrap()
        .attach(AttachPoint::Section)
        .unwrap();
    let want = format!("bpfkit printk from {}", std::process::id());
    let deadline = Instant::now() + Duration::from_secs(5);
    let mut seen = false;
    while !seen && Instant::now() < deadline {
        // SAFETY: getsid(0) asks about this process.
        unsafe { libc::getsid(0) };
        std::thread::sleep(Duration::from_millis(20));
        seen = pipe.read_lines().unwrap().iter().any(|l| l.contains(&want));
    }
    assert!(seen, "`{want}` not in the trace pipe");
}

#[test]
fn perf_event_program_samples_every_cpu() {
    require!(Need::Kernel, Need::Root);
    let object = load(&["on_sample"]);
    let _attached = object
        .program("on_sample")
        .unwrap()
        .attach(AttachPoint::Sampling { freq: 1000 })
        .unwrap();
    let start = Instant::now();
    while start.elapsed() < Duration::from_millis(200) {
        std::hint::black_box((0..1000u64).sum::<u64>());
    }
    assert!(counter(&object, PERF_SEEN) > 0);
}

/// The cgroup v2 mount.
fn cgroup2() -> Option<PathBuf> {
    let mounts = std::fs::read_to_string("/proc/mounts").ok()?;
    mounts
        .lines()
        .find(|l| l.split_whitespace().nth(2) == Some("cgroup2"))
        .and_then(|l| l.split_whitespace().nth(1))
        .map(PathBuf::from)
}

#[test]
fn cgroup_skb_counts_egress_packets() {
    require!(Need::Kernel, Need::Root);
    let Some(root) = cgroup2() else {
        bpfkit_test_support::skip("no cgroup v2 mount");
        return;
    };
    // This process's own cgroup (v2 line `0::PATH`).
    let own = std::fs::read_to_string("/proc/self/cgroup").unwrap();
    let path = own
        .lines()
        .find_map(|l| l.strip_prefix("0::"))
        .unwrap_or("/")
        .trim_start_matches('/');
    let cgroup = root.join(path);
    let object = load(&["cgroup_egress"]);
    let attached = object
        .program("cgroup_egress")
        .unwrap()
        .attach(AttachPoint::Cgroup(&cgroup))
        .unwrap();
    let socket = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let target = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let before = counter(&object, CGROUP_SEEN);
    for _ in 0..3 {
        socket.send_to(b"x", target.local_addr().unwrap()).unwrap();
    }
    assert!(
        counter(&object, CGROUP_SEEN) >= before + 3,
        "{}",
        attached.description
    );
}

#[test]
fn fentry_attaches_or_the_kernel_refuses_the_load() {
    require!(Need::Kernel, Need::Root);
    let mut spec = ObjectSpec::open_file(obj("tracing.v3.g.o")).unwrap();
    let names: Vec<String> = spec.programs().iter().map(|p| p.name.clone()).collect();
    for name in names {
        spec.set_autoload(&name, name == "fentry_unlink").unwrap();
    }
    match spec.load() {
        Ok(object) => {
            let mut ring = RingBuf::new(&object.map("trace_events").unwrap().map).unwrap();
            let _attached = object
                .program("fentry_unlink")
                .unwrap()
                .attach(AttachPoint::Section)
                .unwrap();
            let dir = std::env::temp_dir().join(format!("bpfkit-fentry-{}", std::process::id()));
            std::fs::write(&dir, b"").unwrap();
            std::fs::remove_file(&dir).unwrap();
            assert!(ring.next_timeout(Duration::from_secs(2)).unwrap().is_some());
        }
        Err(LoadError::Program { source, .. }) => {
            // Some machines refuse fentry (EPERM): the kernel's answer to BPF_PROG_LOAD, with
            // the BTF attach target found in vmlinux first.
            assert_eq!(source.errno(), Some(Errno(libc::EPERM)), "{source}");
            assert_eq!(source.command(), Some(bpfkit_sys::Command::ProgLoad));
            eprintln!("fentry: this kernel refuses the load: {source}");
        }
        Err(e) => panic!("not the kernel's refusal: {e}"),
    }
}

#[test]
fn tail_calls_through_a_prog_array_work_in_the_kernel() {
    require!(Need::Kernel);
    let object = load(&["tail_entry", "tail_target"]);
    let entry = &object.program("tail_entry").unwrap().program;
    let run = || {
        entry
            .test_run(&TestRun {
                data_in: &[0u8; 64],
                ..TestRun::default()
            })
            .unwrap()
            .retval
    };
    // The prog array's slot 1 holds tail_target from `.values`: the tail call returns its 42.
    assert_eq!(run(), 42);
    assert_eq!(counter(&object, TAIL_SEEN), 1);
    // Emptied from Rust, the tail call falls through to tail_entry's own return.
    let jump = &object.map("jump").unwrap().map;
    assert!(jump.delete(&1u32.to_ne_bytes()).unwrap());
    assert_eq!(run(), 7);
    // Filled from Rust again.
    let fd = object.program("tail_target").unwrap().program.as_raw_fd() as u32;
    jump.update(&1u32.to_ne_bytes(), &fd.to_ne_bytes(), UpdateMode::Any)
        .unwrap();
    assert_eq!(run(), 42);
}

#[test]
fn a_pinned_link_outlives_its_attachment() {
    require!(Need::Kernel, Need::Root, Need::BpfFs);
    let pins = PinDir::new();
    let object = load(&["raw_tp_enter"]);
    let attached = object
        .program("raw_tp_enter")
        .unwrap()
        .attach(AttachPoint::Section)
        .unwrap();
    let id = attached.link().unwrap().info().unwrap().id;
    let pin = pins.path().join("raw_tp_link");
    attached.pin(&pin).unwrap();
    drop(attached);
    drop(object);
    // Still attached: the pin holds the link.
    let link = bpfkit_sys::Link::open_pinned(&pin).unwrap();
    assert_eq!(link.info().unwrap().id, id);
    drop(link);
    std::fs::remove_file(&pin).unwrap();
    assert!(wait_gone(id), "the link stays after its pin is removed");
}

/// Whether the link with `id` goes away (links are freed asynchronously).
fn wait_gone(id: u32) -> bool {
    eventually(|| bpfkit_sys::Link::from_id(id).is_err())
}

/// Mounts tracefs at /sys/kernel/tracing if nothing is mounted there (root only).
fn mount_tracefs() {
    if bpfkit_sys::tracefs::root().is_some() {
        return;
    }
    let target = Path::new("/sys/kernel/tracing");
    let ok = std::process::Command::new("mount")
        .args(["-t", "tracefs", "nodev"])
        .arg(target)
        .status()
        .is_ok_and(|s| s.success());
    assert!(
        ok && bpfkit_sys::tracefs::root().is_some(),
        "cannot mount tracefs"
    );
}

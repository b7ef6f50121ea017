//! No file descriptor is ever leaked: `/proc/self/fd` is counted around every error path (a bad
//! object, a rejected program, an unresolvable extern, a pin that does not match, a failed
//! attach, a missing interface) and around the drop of loaded objects and links.
//!
//! One test function, so that no other test of this binary opens files meanwhile.

mod common;

use std::os::fd::AsFd;

use bpfkit_loader::{AttachPoint, LoadOptions, ObjectSpec};
use bpfkit_test_support::{Need, require};
use common::{PinDir, obj, open_fds};

/// Runs `f` and checks that it leaves as many file descriptors open as it found.
fn no_leak<T>(what: &str, f: impl FnOnce() -> T) -> T {
    let before = open_fds();
    let out = f();
    let after = open_fds();
    assert_eq!(
        before,
        after,
        "{what}: {} file descriptors leaked",
        after as isize - before as isize
    );
    out
}

#[test]
fn no_file_descriptor_leaks() {
    require!(Need::Kernel, Need::BpfFs);
    let pins = PinDir::new();
    let options = LoadOptions {
        pin_root: pins.path().to_path_buf(),
        ..LoadOptions::default()
    };

    // Warm up what is opened once per process and kept (the BTF feature probes' results).
    drop(
        ObjectSpec::open_file(obj("global_data.v3.g.o"))
            .unwrap()
            .load()
            .unwrap(),
    );

    no_leak("a file that is not an object", || {
        assert!(ObjectSpec::open(b"\x7fELF but not really", "bad").is_err());
    });
    no_leak("a missing file", || {
        assert!(ObjectSpec::open_file("/nonexistent/x.o").is_err());
    });
    no_leak("a rejected program", || {
        let spec = ObjectSpec::open_file_with(obj("maps.v3.g.o"), options.clone()).unwrap();
        let err = spec.load().unwrap_err();
        assert!(err.verifier_log().is_some(), "{err}");
    });
    no_leak(
        "programs the kernel refuses (EPERM) among ones it loads",
        || {
            let spec = ObjectSpec::open_file(obj("tracing.v3.g.o")).unwrap();
            let (loaded, failures) = spec.load_lenient().unwrap();
            assert!(!failures.is_empty() && !loaded.programs().is_empty());
        },
    );
    no_leak("an extern the kernel does not have", || {
        let spec = ObjectSpec::open_file(obj("externs.v3.g.o")).unwrap();
        assert!(spec.load().is_err());
    });
    no_leak("a pinned map of another shape", || {
        let mut first = ObjectSpec::open_file_with(obj("maps.v3.g.o"), options.clone()).unwrap();
        first.set_autoload("socket_maps", false).unwrap();
        let loaded = first.load().unwrap();
        let mut second = ObjectSpec::open_file_with(obj("maps.v3.g.o"), options.clone()).unwrap();
        second.map_mut("lru_map").unwrap().def.max_entries = 3;
        assert!(second.load().is_err());
        drop(loaded);
        std::fs::remove_file(pins.path().join("lru_map")).unwrap();
    });
    no_leak("a map the kernel refuses", || {
        let mut spec = ObjectSpec::open_file(obj("xdp_parse.v3.g.o")).unwrap();
        spec.map_mut("proto_count").unwrap().def.value_size = 0;
        assert!(spec.load().is_err());
    });
    no_leak("loading and dropping every testdata object", || {
        for path in common::all_objects() {
            let spec = ObjectSpec::open_file_with(&path, options.clone()).unwrap();
            if let Ok((loaded, _)) = spec.load_lenient() {
                for m in loaded.maps() {
                    if let Some(p) = &m.pinned {
                        std::fs::remove_file(p).unwrap();
                    }
                }
            }
        }
    });

    if !bpfkit_test_support::available(&[Need::Root]) {
        return;
    }
    let mut spec = ObjectSpec::open_file(obj("attach.v3.g.o")).unwrap();
    spec.set_global("target_pid", &std::process::id().to_ne_bytes())
        .unwrap();
    let object = spec.load().unwrap();
    let prog = |name| object.program(name).unwrap();
    no_leak("attaching to a missing interface", || {
        assert!(
            prog("xdp_count")
                .attach(AttachPoint::Interface("bk-none"))
                .is_err()
        );
    });
    no_leak("attaching to a missing tracepoint", || {
        let point = AttachPoint::Tracepoint {
            category: "syscalls",
            name: "sys_enter_no_such_call",
        };
        assert!(prog("tp_getppid").attach(point).is_err());
    });
    no_leak("attaching a program where it cannot go", || {
        assert!(prog("socket_count").attach(AttachPoint::Section).is_err());
    });
    no_leak("a uprobe on a missing symbol", || {
        let exe = std::fs::read_link("/proc/self/exe").unwrap();
        let point = AttachPoint::Uprobe {
            binary: &exe,
            symbol: "bpfkit_no_such_symbol",
            pid: None,
        };
        assert!(prog("uprobe_hit").attach(point).is_err());
    });
    no_leak("kprobe attach (or its failure)", || {
        drop(prog("kprobe_getppid").attach(AttachPoint::Section));
    });
    no_leak("links attached and dropped", || {
        let raw = prog("raw_tp_enter").attach(AttachPoint::Section).unwrap();
        let tp = prog("tp_getppid").attach(AttachPoint::Section).unwrap();
        let sampling = prog("on_sample")
            .attach(AttachPoint::Sampling { freq: 100 })
            .unwrap();
        let socket = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        let filter = prog("socket_count")
            .attach(AttachPoint::Socket(socket.as_fd()))
            .unwrap();
        drop((raw, tp, sampling, filter, socket));
    });
    no_leak("ring buffer and perf buffer readers", || {
        let ring = bpfkit_sys::RingBuf::new(&object.map("events").unwrap().map).unwrap();
        let perf = bpfkit_sys::PerfBuffer::new(&object.map("perf_events").unwrap().map, 2).unwrap();
        drop((ring, perf));
    });
    drop(object);
}

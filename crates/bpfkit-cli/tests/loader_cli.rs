//! `bpfkit load`, `bpfkit attach` and `bpfkit feature` against the running kernel, with
//! bpftool as the oracle where it can be one.

mod common;

use std::process::Command;

use bpfkit_test_support::{Need, require};
use common::{bpfkit, root};

fn obj(name: &str) -> String {
    root().join("testdata/obj").join(name).display().to_string()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// A directory of its own in the BPF filesystem, removed afterwards.
struct PinDir(std::path::PathBuf);

impl PinDir {
    fn new(tag: &str) -> PinDir {
        let dir = std::path::PathBuf::from(format!(
            "/sys/fs/bpf/bpfkit-cli-{tag}-{}",
            std::process::id()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        PinDir(dir)
    }
}

impl Drop for PinDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Every program is printed with the id the kernel gave it; pinned, bpftool shows the same
/// program (id, name, type, instruction counts).
#[test]
fn load_prints_each_program_and_pins_it() {
    require!(Need::Kernel, Need::BpfFs, Need::Tool("bpftool"));
    let pins = PinDir::new("load");
    let dir = pins.0.display().to_string();
    let out = bpfkit(&["load", &obj("tc_classifier.v3.g.o"), "--pin", &dir]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    let lines: Vec<&str> = stdout.lines().filter(|l| !l.starts_with(' ')).collect();
    assert_eq!(lines.len(), 3, "{stdout}");
    for line in lines {
        // `ID: sched_cls  name NAME  insns N  xlated N  jited NB  verified N`
        let (id, rest) = line.split_once(": ").unwrap();
        let name = rest.split_whitespace().nth(2).unwrap();
        let xlated = rest
            .split("xlated ")
            .nth(1)
            .unwrap()
            .split_whitespace()
            .next()
            .unwrap();
        let pin = format!("{dir}/{name}");
        let shown = Command::new("bpftool")
            .args(["prog", "show", "pinned", &pin])
            .output()
            .unwrap();
        let shown = text(&shown.stdout);
        assert!(
            shown.starts_with(&format!("{id}: sched_cls  name {name}")),
            "{shown}"
        );
        let bytes: usize = xlated.parse::<usize>().unwrap() * 8;
        assert!(
            shown.contains(&format!("xlated {bytes}B")),
            "{shown} vs {line}"
        );
    }
}

/// A rejected program: the kernel's log up to its reason, the failing instruction with its
/// source line from line_info, exit 1.
#[test]
fn load_prints_the_verifier_log_of_a_rejected_program() {
    require!(Need::Kernel, Need::BpfFs);
    let pins = PinDir::new("reject");
    let out = bpfkit(&[
        "load",
        &obj("maps.v3.g.o"),
        "--pin-maps",
        &pins.0.display().to_string(),
    ]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = text(&out.stderr);
    assert!(
        stderr.starts_with("error: program 'socket_maps': the kernel rejected it: EINVAL"),
        "{stderr}"
    );
    assert!(
        stderr.contains(
            "\n27: (85) call bpf_map_lookup_elem#1\ninvalid read from stack R2 off=-4 size=8\n"
        ),
        "{stderr}"
    );
    assert!(
        stderr.contains("failing instruction: 27 (./maps.bpf.c:204: slot = bpf_map_lookup_elem(&sized_map, &key);)"),
        "{stderr}"
    );
    // The log ends at the reason: the statistics after it are left out.
    assert!(!stderr.contains("processed "), "{stderr}");
    // The programs before it loaded and were printed.
    assert!(text(&out.stdout).contains("name xdp_maps"));
}

#[test]
fn load_of_a_bad_file_is_exit_2() {
    let out = bpfkit(&["load", "/nonexistent.o"]);
    assert_eq!(out.status.code(), Some(2));
    let out = bpfkit(&["load", &root().join("README.md").display().to_string()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("not an ELF file"));
}

/// Attached for a moment: what the program outputs comes out — ring buffer records and
/// `bpf_printk` lines — and the program is detached at the end.
#[test]
fn attach_streams_ring_buffer_records_and_printk() {
    require!(Need::Kernel, Need::Root);
    if bpfkit_sys::tracefs::root().is_none() {
        let _ = Command::new("mount")
            .args(["-t", "tracefs", "nodev", "/sys/kernel/tracing"])
            .status();
    }
    let out = bpfkit(&[
        "attach",
        &obj("tracing.v3.g.o"),
        "raw_switch",
        "--duration",
        "0.5",
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains("attached: raw tracepoint sched_switch"),
        "{stdout}"
    );
    assert!(stdout.contains("\nringbuf trace_events: "), "{stdout}");
    assert!(stdout.trim_end().ends_with("detached"), "{stdout}");

    // openat_enter printks on every openat; the test opens a file meanwhile.
    let child = Command::new(env!("CARGO_BIN_EXE_bpfkit"))
        .args([
            "attach",
            &obj("tracing.v3.g.o"),
            "openat_enter",
            "--duration",
            "1.5",
        ])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(700));
    for _ in 0..20 {
        let _ = std::fs::read("/etc/hostname");
    }
    let out = child.wait_with_output().unwrap();
    let stdout = text(&out.stdout);
    assert!(
        stdout
            .lines()
            .any(|l| l.starts_with("printk: ") && l.contains("openat by ")),
        "{stdout}"
    );
}

#[test]
fn attach_to_a_missing_interface_is_the_kernels_no() {
    require!(Need::Kernel, Need::Root);
    let out = bpfkit(&["attach", &obj("attach.v3.g.o"), "xdp_count", "bpfkit-none0"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("ENODEV"),
        "{}",
        text(&out.stderr)
    );
    let out = bpfkit(&["attach", &obj("attach.v3.g.o"), "no_such_program"]);
    assert_eq!(out.status.code(), Some(2));
}

/// Program and map types as bpftool 7.1 reports them, for every type it knows; helpers are
/// not compared: bpftool 7.1's probe misses 6.x kernels' "program of this type cannot use
/// helper" and lists every helper for every type, so they are checked against facts instead.
#[test]
fn feature_agrees_with_bpftool() {
    require!(Need::Kernel, Need::Tool("bpftool"));
    let ours = bpfkit(&["feature"]);
    assert!(ours.status.success(), "{}", text(&ours.stderr));
    let ours = text(&ours.stdout);
    let theirs = Command::new("bpftool")
        .args(["feature", "probe", "kernel"])
        .output()
        .unwrap();
    let theirs = text(&theirs.stdout);
    let types = |s: &str| -> Vec<(String, bool)> {
        s.lines()
            .filter(|l| l.starts_with("eBPF program_type ") || l.starts_with("eBPF map_type "))
            .map(|l| {
                let words: Vec<&str> = l.split_whitespace().collect();
                (
                    format!("{} {}", words[1], words[2]),
                    !l.ends_with("NOT available"),
                )
            })
            .collect()
    };
    let (ours_types, theirs_types) = (types(&ours), types(&theirs));
    assert!(theirs_types.len() > 60);
    for (name, available) in &theirs_types {
        let mine = ours_types.iter().find(|(n, _)| n == name);
        assert_eq!(mine.map(|m| m.1), Some(*available), "{name}");
    }
    let helpers = |t: &str| -> Vec<String> {
        let header = format!("eBPF helpers supported for program type {t}:");
        ours.lines()
            .skip_while(|l| *l != header)
            .skip(1)
            .take_while(|l| l.starts_with("\t- "))
            .map(|l| l[3..].to_string())
            .collect()
    };
    let xdp = helpers("xdp");
    assert!(xdp.contains(&"bpf_xdp_adjust_head".to_string()));
    assert!(!xdp.contains(&"bpf_skb_store_bytes".to_string()));
    let socket = helpers("socket_filter");
    assert!(socket.contains(&"bpf_skb_load_bytes".to_string()));
    assert!(!socket.contains(&"bpf_xdp_adjust_head".to_string()));
    assert!(ours.contains("BTF kind VAR and DATASEC is available"));
}

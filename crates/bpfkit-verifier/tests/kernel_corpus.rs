//! Verdict differential on real objects: every program of our testdata, of cilium/ebpf's
//! testdata (Debian's golang-github-cilium-ebpf-dev) and, by hand, of vbpf/ebpf-samples. The
//! kernel's verdict comes from loading each program alone with Debian's libbpf.so.1
//! (`tests/libbpf_verdicts.py`), which creates the maps, fills and freezes global data and
//! applies CO-RE; ours from linking the same program with bpfkit-relo and verifying the image.
//!
//! Also prints our verification time next to the kernel's (`verification time N usec`).
//!
//! - `BPFKIT_EBPF_SAMPLES=DIR`: a checkout of vbpf/ebpf-samples (run by hand; CI has none).
//! - `BPFKIT_CILIUM_TESTDATA=DIR`: cilium/ebpf's testdata (default: Debian's copy).
//! - `BPFKIT_VERIFIER_REPORT=FILE`: where to write every disagreement.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use bpfkit_btf::Btf;
use bpfkit_elf::Object;
use bpfkit_relo::{CoreTarget, Linker};
use bpfkit_test_support::{Need, VMLINUX, require};
use bpfkit_verifier::{Options, verify_image};

const CILIUM_DEBIAN: &str = "/usr/share/gocode/src/github.com/cilium/ebpf/testdata";

/// The kernel's verdict on one program, from the libbpf script.
#[derive(Debug)]
struct Kernel {
    program: String,
    verdict: String,
    message: String,
    usec: Option<u64>,
}

/// Pulls a string or number field out of one JSON line of the script (flat objects only).
fn field(line: &str, name: &str) -> Option<String> {
    let key = format!("\"{name}\": ");
    let at = line.find(&key)? + key.len();
    let rest = &line[at..];
    if let Some(s) = rest.strip_prefix('"') {
        let mut out = String::new();
        let mut chars = s.chars();
        while let Some(c) = chars.next() {
            match c {
                '"' => return Some(out),
                '\\' => match chars.next()? {
                    'n' => out.push('\n'),
                    'u' => {
                        let hex: String = chars.by_ref().take(4).collect();
                        out.push(
                            char::from_u32(u32::from_str_radix(&hex, 16).ok()?).unwrap_or('?'),
                        );
                    }
                    c => out.push(c),
                },
                c => out.push(c),
            }
        }
        None
    } else {
        let end = rest.find([',', '}']).unwrap_or(rest.len());
        let v = rest[..end].trim();
        (v != "null").then(|| v.to_string())
    }
}

fn kernel_verdicts(object: &Path) -> Vec<Kernel> {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/libbpf_verdicts.py");
    let out = Command::new("python3")
        .arg(script)
        .arg(object)
        .output()
        .expect("run python3");
    assert!(
        out.status.success(),
        "libbpf_verdicts.py failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| Kernel {
            program: field(l, "program").unwrap_or_default(),
            verdict: field(l, "verdict").unwrap_or_default(),
            message: field(l, "message").unwrap_or_default(),
            usec: field(l, "kernel_usec").and_then(|v| v.parse().ok()),
        })
        .collect()
}

/// One corpus's results.
#[derive(Default)]
struct Tally {
    compared: usize,
    agree: usize,
    messages_equal: usize,
    kernel_rejects: usize,
    we_accept_kernel_rejects: Vec<String>,
    we_reject_kernel_accepts: Vec<String>,
    not_compared: Vec<String>,
    timing: Vec<String>,
    slower_than_kernel: usize,
}

fn run_corpus(name: &str, objects: &[PathBuf]) -> Tally {
    let vmlinux = std::fs::read(VMLINUX).expect("read vmlinux BTF");
    let target_btf = Btf::parse(&vmlinux).expect("parse vmlinux BTF");
    let target = CoreTarget::new(&target_btf);
    // The kernel looks its own BTF up by id; we bind kfuncs and attach targets by name, through
    // an index built on first use. Build it before any program is timed.
    target_btf.find_indexed("task_struct", bpfkit_btf::Kind::Struct);
    let mut t = Tally::default();
    for path in objects {
        let kernel = kernel_verdicts(path);
        let bytes = std::fs::read(path).unwrap();
        let object = Object::parse(&bytes);
        for k in &kernel {
            let what = format!("{}:{}", path.display(), k.program);
            let object = match &object {
                Ok(o) => o,
                Err(e) => {
                    t.not_compared
                        .push(format!("{what}: bpfkit-elf cannot parse the object: {e}"));
                    continue;
                }
            };
            let image = match Linker::new(object)
                .with_core_target(&target)
                .link(&k.program)
            {
                Ok(i) => i,
                Err(e) => {
                    t.not_compared
                        .push(format!("{what}: bpfkit-relo cannot link it: {e}"));
                    continue;
                }
            };
            // libbpf 1.1 refuses some objects before the verifier runs (iproute2-style map
            // definitions, old sections): load those through bpfkit-sys with our own image.
            let mut k = Kernel {
                program: k.program.clone(),
                verdict: k.verdict.clone(),
                message: k.message.clone(),
                usec: k.usec,
            };
            if k.verdict == "unloadable" {
                match own_load(&image) {
                    Ok((accepted, message)) => {
                        k.verdict = if accepted { "accepted" } else { "rejected" }.to_string();
                        k.message = message;
                    }
                    Err(why) => {
                        t.not_compared.push(format!(
                            "{what}: neither libbpf nor bpfkit-sys loads it before the verifier runs: {why}"
                        ));
                        continue;
                    }
                }
            }
            let k = &k;
            let start = Instant::now();
            let ours = verify_image(&image, None, Some(&target_btf), Options::default());
            let ours_usec = start.elapsed().as_micros() as u64;
            t.compared += 1;
            let kernel_accepts = k.verdict == "accepted";
            let our_msg = ours
                .error
                .as_ref()
                .map(|e| e.message.to_string())
                .unwrap_or_default();
            if ours.accepted() == kernel_accepts {
                t.agree += 1;
            } else if ours.accepted() {
                t.we_accept_kernel_rejects
                    .push(format!("{what}: kernel: {}", k.message));
            } else {
                t.we_reject_kernel_accepts.push(format!(
                    "{what}: ours: {our_msg} (insn {})",
                    ours.error.as_ref().unwrap().pc
                ));
            }
            if !kernel_accepts {
                t.kernel_rejects += 1;
                if our_msg == k.message {
                    t.messages_equal += 1;
                }
            }
            if let Some(ku) = k.usec {
                if ours_usec > ku {
                    t.slower_than_kernel += 1;
                }
                t.timing.push(format!(
                    "{what}: ours {ours_usec} us, kernel {ku} us ({} insns)",
                    ours.stats.insns
                ));
            }
        }
    }
    println!(
        "{name}: {} programs compared, {} verdicts agree ({:.2}%); we accept / kernel rejects: {}; we reject / kernel accepts: {}; \
         messages equal on {} of {} kernel rejections; {} not compared; slower than the kernel on {} of {}",
        t.compared,
        t.agree,
        t.agree as f64 * 100.0 / t.compared.max(1) as f64,
        t.we_accept_kernel_rejects.len(),
        t.we_reject_kernel_accepts.len(),
        t.messages_equal,
        t.kernel_rejects,
        t.not_compared.len(),
        t.slower_than_kernel,
        t.timing.len(),
    );
    for line in t
        .we_accept_kernel_rejects
        .iter()
        .chain(&t.we_reject_kernel_accepts)
    {
        println!("  disagree {line}");
    }
    if let Ok(path) = std::env::var("BPFKIT_VERIFIER_REPORT") {
        let text = [
            format!("# {name}"),
            "## we accept, kernel rejects".into(),
            t.we_accept_kernel_rejects.join("\n"),
            "## we reject, kernel accepts".into(),
            t.we_reject_kernel_accepts.join("\n"),
            "## not compared".into(),
            t.not_compared.join("\n"),
            "## timing".into(),
            t.timing.join("\n"),
        ]
        .join("\n");
        let old = std::fs::read_to_string(&path).unwrap_or_default();
        std::fs::write(&path, format!("{old}\n{text}\n")).unwrap();
    }
    t
}

/// Loads `image` into the kernel with bpfkit-sys: maps created from the image's table, map
/// references rewritten to their file descriptors. The kernel's verdict and final message.
fn own_load(image: &bpfkit_relo::ProgramImage) -> Result<(bool, String), String> {
    use bpfkit_isa::{Kind, Opcode, Pseudo};
    use std::os::fd::{AsFd, AsRawFd};
    let plain = image.refs.iter().all(|r| {
        matches!(
            r.target,
            bpfkit_relo::RefTarget::Map(_) | bpfkit_relo::RefTarget::MapValue { .. }
        )
    });
    if !plain {
        return Err("kernel symbols or kfuncs".into());
    }
    let mut maps = Vec::new();
    for spec in &image.object.maps {
        if spec.frozen || spec.inner.is_some() {
            return Err(format!("map {} needs freezing or an inner map", spec.name));
        }
        let map =
            bpfkit_sys::Map::create(spec.def).map_err(|e| format!("map {}: {e}", spec.name))?;
        if !spec.data.is_empty() {
            map.update(&0u32.to_le_bytes(), &spec.data, bpfkit_sys::UpdateMode::Any)
                .map_err(|e| e.to_string())?;
        }
        maps.push(map);
    }
    let mut insns = image.insns.clone();
    for i in insns.iter_mut() {
        match i.kind() {
            Kind::LoadImm64 {
                pseudo: Pseudo::MapIdx,
            } => {
                i.opcode = Opcode::LdMapFd;
                i.imm = maps[i.imm as usize].as_fd().as_raw_fd();
            }
            Kind::LoadImm64 {
                pseudo: Pseudo::MapIdxValue,
            } => {
                i.opcode = Opcode::LdMapValue;
                i.imm = maps[i.imm as usize].as_fd().as_raw_fd();
            }
            _ => {}
        }
    }
    let license = if image.object.license.is_empty() {
        "GPL".to_string()
    } else {
        image.object.license.clone()
    };
    let mut load = bpfkit_sys::ProgramLoad::new(image.prog_type, &insns)
        .license(&license)
        .log_level(1);
    if let Some(a) = image.expected_attach_type {
        load = load.expected_attach_type(a);
    }
    match load.load_with_log() {
        Ok(_) => Ok((true, String::new())),
        Err(bpfkit_sys::Error::Verifier { log, .. }) => Ok((false, final_line(&log))),
        Err(e) => Err(e.to_string()),
    }
}

/// The kernel's final error line (as the libbpf script extracts it).
fn final_line(log: &str) -> String {
    for marker in [
        "infinite loop detected at insn",
        "BPF program is too large.",
    ] {
        if let Some(line) = log.lines().rev().find(|l| l.contains(marker)) {
            return line[line.find(marker).unwrap_or(0)..].trim().to_string();
        }
    }
    let lines: Vec<&str> = log.lines().collect();
    let end = lines
        .iter()
        .rposition(|l| l.starts_with("processed "))
        .unwrap_or(lines.len());
    lines[..end]
        .iter()
        .rev()
        .find(|l| !l.trim().is_empty())
        .map(|l| l.trim().to_string())
        .unwrap_or_default()
}

fn objects_in(dir: &Path, keep: impl Fn(&str) -> bool) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if keep(&p.file_name().unwrap().to_string_lossy()) {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

/// The skip rule for these tests (`require!`, as a value).
fn needs() -> bool {
    bpfkit_test_support::available(&[
        Need::Kernel,
        Need::Libbpf,
        Need::Tool("python3"),
        Need::File(VMLINUX),
    ])
}

#[test]
fn testdata_matches_the_kernel() {
    if !needs() {
        return;
    }
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../testdata/obj");
    let t = run_corpus("testdata", &objects_in(&dir, |n| n.ends_with(".o")));
    assert!(t.compared > 0);
    assert!(
        t.we_accept_kernel_rejects.is_empty(),
        "we accepted programs the kernel rejects"
    );
    assert!(
        t.agree as f64 >= t.compared as f64 * 0.995 - 1.0,
        "agreement below 99.5%"
    );
}

#[test]
fn cilium_testdata_matches_the_kernel() {
    if !needs() {
        return;
    }
    let dir = std::env::var("BPFKIT_CILIUM_TESTDATA").unwrap_or_else(|_| CILIUM_DEBIAN.to_string());
    require!(Need::File(&dir));
    // Little-endian objects only: the big-endian twins cannot load on x86_64.
    let t = run_corpus(
        "cilium/ebpf testdata",
        &objects_in(Path::new(&dir), |n| n.ends_with("-el.elf")),
    );
    assert!(
        t.we_accept_kernel_rejects.is_empty(),
        "we accepted programs the kernel rejects"
    );
}

#[test]
#[ignore = "needs BPFKIT_EBPF_SAMPLES=<a vbpf/ebpf-samples checkout> (CI has none)"]
fn ebpf_samples_match_the_kernel() {
    let dir = bpfkit_test_support::corpus_dir("BPFKIT_EBPF_SAMPLES");
    if !needs() {
        return;
    }
    let t = run_corpus(
        "vbpf/ebpf-samples",
        &objects_in(Path::new(&dir), |n| n.ends_with(".o")),
    );
    assert!(
        t.we_accept_kernel_rejects.is_empty(),
        "we accepted programs the kernel rejects"
    );
}

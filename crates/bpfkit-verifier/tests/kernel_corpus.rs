//! Verdict differential on real objects: every program of our testdata, of cilium/ebpf's
//! testdata (Debian's golang-github-cilium-ebpf-dev) and, by hand, of vbpf/ebpf-samples. The
//! kernel's verdict comes from `corpus` (libbpf.so.1, or bpfkit-sys for the objects libbpf
//! refuses); ours from linking the same program with bpfkit-relo and verifying the image.
//!
//! Also prints our verification time next to the kernel's (`verification time N usec`), one
//! run each; `cargo run --release -p bpfkit-benches --bin verifier-report` measures both
//! properly (medians, log level 4).
//!
//! - `BPFKIT_EBPF_SAMPLES=DIR`: a checkout of vbpf/ebpf-samples (run by hand; CI has none).
//! - `BPFKIT_CILIUM_TESTDATA=DIR`: cilium/ebpf's testdata (default: Debian's copy).
//! - `BPFKIT_VERIFIER_REPORT=FILE`: where to write every disagreement.

mod corpus;
mod tally;

use std::path::{Path, PathBuf};
use std::time::Instant;

use bpfkit_btf::Btf;
use bpfkit_relo::CoreTarget;
use bpfkit_test_support::{Need, VMLINUX, require};
use bpfkit_uapi::ProgType;
use bpfkit_verifier::{Options, verify_image};
use corpus::Load;

const CILIUM_DEBIAN: &str = "/usr/share/gocode/src/github.com/cilium/ebpf/testdata";

/// A corpus run: the verdict tally, and what could not be compared, and the timings.
#[derive(Default)]
struct Run {
    tally: tally::Tally,
    not_compared: Vec<String>,
    timing: Vec<String>,
    slower_than_kernel: usize,
}

fn run_corpus(name: &str, objects: &[PathBuf], load: Load) -> Run {
    let vmlinux = std::fs::read(VMLINUX).expect("read vmlinux BTF");
    let target_btf = Btf::parse(&vmlinux).expect("parse vmlinux BTF");
    let target = CoreTarget::new(&target_btf);
    // The kernel looks its own BTF up by id; we bind kfuncs and attach targets by name, through
    // an index built on first use. Build it before any program is timed.
    target_btf.find_indexed("task_struct", bpfkit_btf::Kind::Struct);
    let (cases, not_compared) = corpus::cases(objects, &target, load);
    let mut t = Run {
        not_compared,
        ..Run::default()
    };
    for case in &cases {
        let (what, image, k) = (&case.what, &case.image, &case.kernel);
        let start = Instant::now();
        let ours = verify_image(image, None, Some(&target_btf), Options::default());
        let ours_usec = start.elapsed().as_micros() as u64;
        t.tally.add(what, "", &ours, k.accepts(), &k.message);
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
    println!(
        "{}; {} not compared; slower than the kernel on {} of {}",
        t.tally.summary(name),
        t.not_compared.len(),
        t.slower_than_kernel,
        t.timing.len(),
    );
    for line in t.tally.disagreements() {
        println!("  disagree {line}");
    }
    if let Ok(path) = std::env::var("BPFKIT_VERIFIER_REPORT") {
        let text = [
            format!("# {name}"),
            "## we accept, kernel rejects".into(),
            t.tally.we_accept_kernel_rejects.join("\n"),
            "## we reject, kernel accepts".into(),
            t.tally.we_reject_kernel_accepts.join("\n"),
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
    let t = run_corpus("testdata", &corpus::testdata_objects(), Load::default());
    assert!(t.tally.compared > 0);
    assert!(
        t.tally.we_accept_kernel_rejects.is_empty(),
        "we accepted programs the kernel rejects"
    );
    assert!(
        t.tally.agree as f64 >= t.tally.compared as f64 * 0.995 - 1.0,
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
        &bpfkit_test_support::files_under(Path::new(&dir), |n| n.ends_with("-el.elf")),
        Load::default(),
    );
    assert!(
        t.tally.we_accept_kernel_rejects.is_empty(),
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
    // Sections that name no type (cilium's tail calls `2/7`, `from-netdev`; old samples'
    // `xdp1`): both verifiers judge them as tc programs, or XDP where the object says so.
    let untyped = |path: &Path| {
        if path.to_string_lossy().contains("xdp") {
            ProgType::XDP
        } else {
            ProgType::SCHED_CLS
        }
    };
    let load = Load {
        untyped: Some(untyped),
        ..Load::default()
    };
    let t = run_corpus(
        "vbpf/ebpf-samples",
        &bpfkit_test_support::files_under(Path::new(&dir), |n| n.ends_with(".o")),
        load,
    );
    assert!(
        t.tally.we_accept_kernel_rejects.is_empty(),
        "we accepted programs the kernel rejects"
    );
}

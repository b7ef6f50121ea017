//! The test-run differential on other people's programs: the network programs (XDP, tc,
//! socket filter, cgroup skb) of cilium/ebpf's testdata and of vbpf/ebpf-samples that the
//! kernel loads run the same generated cases in the kernel and in the runtime. The corpora are
//! read where they are, never vendored:
//!
//! - cilium/ebpf: `BPFKIT_CILIUM_EBPF=DIR` (a checkout), else Debian's
//!   golang-github-cilium-ebpf-dev (`/usr/share/gocode/src/github.com/cilium/ebpf`, which CI
//!   installs);
//! - vbpf/ebpf-samples: `BPFKIT_EBPF_SAMPLES=DIR` (a checkout), ignored otherwise.
//!
//! Needs root. Programs are loaded through bpfkit-sys (legacy `maps` sections, which libbpf 1.x
//! refuses, included); maps are compared at the keys the runtime holds. The report says how
//! many programs were compared and why each disagreement happens.

mod differential;

use std::path::{Path, PathBuf};

use bpfkit_elf::Object;
use bpfkit_relo::Linker;
use bpfkit_test_support::{Need, require};
use bpfkit_uapi::{MapType, ProgType};
use bpfkit_vm::{TestObject, TestRun, TestRunError};
use differential::{cases, kernel_sys};

const DEBIAN_CILIUM: &str = "/usr/share/gocode/src/github.com/cilium/ebpf";

fn pin_to_cpu0() {
    // SAFETY: a cpu_set_t zeroed, then CPU 0 set, passed to sched_setaffinity for this thread
    // with its size; nothing else reads or keeps it.
    unsafe {
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        libc::CPU_SET(0, &mut set);
        libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &set);
    }
}

fn objects(dir: &Path) -> Vec<PathBuf> {
    bpfkit_test_support::files_under(dir, |name| {
        name.ends_with(".o") || name.ends_with("-el.elf")
    })
}

#[derive(Default)]
struct Report {
    objects: usize,
    programs: usize,
    kernel_refuses: Vec<String>,
    compared: usize,
    cases: usize,
    agree_cases: usize,
    agree_programs: usize,
    disagreements: Vec<String>,
    unexplained: usize,
}

fn network(t: ProgType) -> bool {
    matches!(
        t,
        ProgType::XDP
            | ProgType::SCHED_CLS
            | ProgType::SCHED_ACT
            | ProgType::SOCKET_FILTER
            | ProgType::CGROUP_SKB
    )
}

/// The program type of a section no libbpf convention names, by PREVAIL's Linux prefixes (the
/// convention vbpf/ebpf-samples is written for).
fn prevail_type(section: &str) -> Option<ProgType> {
    [
        ("socket", ProgType::SOCKET_FILTER),
        ("xdp", ProgType::XDP),
        ("classifier", ProgType::SCHED_CLS),
        ("action", ProgType::SCHED_ACT),
        ("cgroup/skb", ProgType::CGROUP_SKB),
    ]
    .into_iter()
    .find(|(p, _)| section.starts_with(p))
    .map(|(_, t)| t)
}

/// The helpers whose results differ between two runs of the same program, by nature.
fn nondeterministic(image: &bpfkit_relo::ProgramImage) -> Vec<&'static str> {
    use bpfkit_uapi::HelperId;
    let mut out = Vec::new();
    for i in &image.insns {
        if i.opcode != bpfkit_isa::Opcode::Call {
            continue;
        }
        let name = match HelperId(i.imm as u32) {
            HelperId::GET_PRANDOM_U32 => "bpf_get_prandom_u32",
            HelperId::KTIME_GET_NS => "bpf_ktime_get_ns",
            HelperId::KTIME_GET_BOOT_NS => "bpf_ktime_get_boot_ns",
            HelperId::JIFFIES64 => "bpf_jiffies64",
            HelperId::GET_CURRENT_PID_TGID => "bpf_get_current_pid_tgid",
            _ => continue,
        };
        if !out.contains(&name) {
            out.push(name);
        }
    }
    out
}

fn compare(root: &Path, files: &[PathBuf], count: usize) -> Report {
    pin_to_cpu0();
    let mut r = Report::default();
    for path in files {
        let name = path
            .strip_prefix(root)
            .unwrap_or(path)
            .display()
            .to_string();
        let Ok(bytes) = std::fs::read(path) else {
            continue;
        };
        let Ok(object) = Object::parse(&bytes) else {
            continue;
        };
        r.objects += 1;
        let linker = Linker::new(&object);
        for (prog, image) in linker.link_all() {
            let Ok(mut image) = image else {
                continue;
            };
            let mut inferred = None;
            if image.prog_type == ProgType::UNSPEC {
                inferred = prevail_type(&image.section);
                image.prog_type = inferred.unwrap_or(ProgType::UNSPEC);
            }
            if !network(image.prog_type) {
                continue;
            }
            r.programs += 1;
            let id = format!("{name}:{prog}");
            let kernel = match kernel_sys::load(&image, 2) {
                Ok(k) => k,
                Err(why) => {
                    r.kernel_refuses.push(format!("{id}: {why}"));
                    continue;
                }
            };
            r.compared += 1;
            // A fresh runtime per program, as the kernel side has its own maps; program
            // arrays emptied, as the kernel side leaves them.
            let mut builder = TestObject::builder(&bytes).cpus(2);
            if let Some(t) = inferred {
                builder = builder.program_type(&prog, t);
            }
            let mut obj = match builder.build() {
                Ok(o) => o,
                Err(e) => {
                    r.disagreements
                        .push(format!("{id}: the runtime cannot open it: {e}"));
                    continue;
                }
            };
            if let Some(e) = obj.program(&prog).and_then(|p| p.error()) {
                // Kernel variables and functions (__ksym) have no userspace counterpart: the
                // runtime refuses them by design, naming them.
                if !e.contains("__ksym") {
                    r.unexplained += 1;
                }
                r.disagreements
                    .push(format!("{id}: the runtime refuses it: {e}"));
                continue;
            }
            let names: Vec<String> = obj.map_names().map(str::to_string).collect();
            for n in &names {
                let m = obj.map_mut(n).unwrap();
                if m.def().map_type == MapType::PROG_ARRAY {
                    for k in m.keys() {
                        m.delete(&k).unwrap();
                    }
                }
            }
            let seed = differential::fnv(id.as_bytes());
            let mut first_difference = None;
            let mut agreed = 0;
            for (i, mut case) in cases::generate(&prog, image.prog_type, seed, count)
                .into_iter()
                .enumerate()
            {
                // bpfkit-sys passes an empty context as none.
                if case.ctx.as_ref().is_some_and(Vec::is_empty) {
                    case.ctx = None;
                }
                // The kernel side asks for everything back.
                let ctx_size = match image.prog_type {
                    ProgType::XDP => 24,
                    _ => 192,
                };
                let ctx_out_len = if case.ctx.is_some() { ctx_size } else { 0 };
                let want = kernel_sys::test_run(
                    &kernel,
                    &case.data,
                    case.ctx.as_deref(),
                    ctx_out_len,
                    case.repeat,
                );
                let got = obj.test_run(
                    &prog,
                    &TestRun {
                        data: &case.data,
                        ctx_in: case.ctx.as_deref(),
                        ctx_size_out: (ctx_out_len > 0).then_some(ctx_out_len as u32),
                        repeat: case.repeat,
                        ..TestRun::default()
                    },
                );
                let got = match got {
                    Ok(o) => (0, o.retval, o.data_out, o.ctx_out),
                    Err(TestRunError::NoSpace(o)) => (28, o.retval, o.data_out, o.ctx_out),
                    Err(e) => (e.errno().unwrap_or(-1), 0, e.to_string().into_bytes(), None),
                };
                let mut same = got == want || (got.0 == want.0 && got.0 != 0);
                let mut map_difference = None;
                for (slot, n) in names.iter().enumerate() {
                    let m = obj.map(n).unwrap();
                    if m.is_percpu() || m.def().key_size == 0 {
                        continue;
                    }
                    for (k, v) in m.entries() {
                        if m.def().map_type == MapType::PROG_ARRAY {
                            continue;
                        }
                        let theirs = kernel_sys::lookup(&kernel, slot, &k);
                        if theirs.as_ref() != Some(&v) {
                            map_difference = Some(format!(
                                "map {n} key {}: kernel {}, runtime {}",
                                differential::hex(&k),
                                theirs
                                    .map_or_else(|| "none".to_string(), |t| differential::hex(&t)),
                                differential::hex(&v)
                            ));
                            same = false;
                            break;
                        }
                    }
                }
                if same {
                    agreed += 1;
                } else if first_difference.is_none() {
                    first_difference = Some(format!(
                        "case {i}: kernel errno {} retval {}, runtime errno {} retval {}{}{}",
                        want.0,
                        want.1,
                        got.0,
                        got.1,
                        if got.2 != want.2 {
                            format!(
                                "; data_out differs ({})",
                                String::from_utf8_lossy(&got.2)
                                    .chars()
                                    .take(120)
                                    .collect::<String>()
                            )
                        } else {
                            String::new()
                        },
                        map_difference
                            .map(|m| format!("; {m} differs"))
                            .unwrap_or_default()
                    ));
                }
            }
            r.cases += count;
            r.agree_cases += agreed;
            match first_difference {
                None => r.agree_programs += 1,
                Some(d) => {
                    let why = match nondeterministic(&image)[..] {
                        [] => String::new(),
                        ref h => format!(" (calls {}: not deterministic)", h.join(", ")),
                    };
                    r.disagreements
                        .push(format!("{id}: {agreed} of {count} agree{why}; first {d}"));
                    if why.is_empty() {
                        r.unexplained += 1;
                    }
                }
            }
        }
    }
    r
}

fn print(corpus: &str, r: &Report) {
    println!(
        "{corpus}: {} objects, {} network programs; the kernel loads {}; {} of them agree on all \
         cases ({} of {} cases agree)",
        r.objects, r.programs, r.compared, r.agree_programs, r.agree_cases, r.cases
    );
    for d in &r.disagreements {
        println!("  disagrees: {d}");
    }
    for k in &r.kernel_refuses {
        println!("  not compared: {k}");
    }
}

fn corpus_cases() -> usize {
    std::env::var("BPFKIT_CORPUS_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(60)
}

#[test]
#[cfg_attr(miri, ignore = "miri cannot run the kernel side (bpf syscalls)")]
fn cilium_ebpf_testdata_agrees_with_the_kernel() {
    let dir = std::env::var("BPFKIT_CILIUM_EBPF").unwrap_or_else(|_| DEBIAN_CILIUM.to_string());
    let testdata = format!("{dir}/testdata");
    require!(Need::Kernel, Need::Root, Need::File(&testdata));
    let root = Path::new(&testdata);
    let r = compare(root, &objects(root), corpus_cases());
    print("cilium/ebpf testdata", &r);
    assert!(r.compared > 0, "no program compared");
    assert_eq!(r.unexplained, 0, "programs disagree for no known reason");
}

#[test]
#[ignore = "needs BPFKIT_EBPF_SAMPLES=<a checkout of vbpf/ebpf-samples>"]
fn vbpf_ebpf_samples_agree_with_the_kernel() {
    let dir = std::env::var("BPFKIT_EBPF_SAMPLES").expect("BPFKIT_EBPF_SAMPLES");
    require!(Need::Kernel, Need::Root);
    let root = Path::new(&dir);
    let r = compare(root, &objects(root), corpus_cases());
    print("vbpf/ebpf-samples", &r);
    assert!(r.compared > 0, "no program compared");
    assert_eq!(r.unexplained, 0, "programs disagree for no known reason");
}

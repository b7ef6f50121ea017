//! Our verification time against the kernel's on every program of the verifier's verdict corpus
//! (`crates/bpfkit-verifier/tests/kernel_corpus.rs`, whose program list and loader this bin
//! shares): per program, our median of N runs of `verify_image` (no log, the running kernel's
//! BTF already parsed, as the kernel's is), the kernel's `verification time N usec` at log level
//! 4 (statistics only, so that the kernel does not pay for printing every instruction; median
//! of K loads through libbpf.so.1), their ratio, and a summary.
//!
//! Needs root (the kernel loads) and Debian's libbpf.so.1 with python3.
//!
//! Usage: `cargo run --release -p bpfkit-benches --bin verifier-report [-- [--runs N]
//! [--kernel-runs K] [OBJECT...]]`; without objects, every object of `testdata/obj`.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use bpfkit_btf::Btf;
use bpfkit_relo::CoreTarget;
use bpfkit_verifier::{Options, verify_image};

#[path = "../../../crates/bpfkit-verifier/tests/corpus/mod.rs"]
mod corpus;

const VMLINUX: &str = "/sys/kernel/btf/vmlinux";

/// One program's figures.
struct Row {
    what: String,
    insns: usize,
    ours_us: f64,
    kernel_us: Option<u64>,
}

impl Row {
    /// How many times faster we are (the kernel's time over ours).
    fn ratio(&self) -> Option<f64> {
        self.kernel_us.map(|k| k as f64 / self.ours_us.max(0.001))
    }
}

fn main() -> ExitCode {
    let mut runs = 51;
    let mut kernel_runs = 5;
    let mut objects = Vec::new();
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let number = |v: Option<String>| v.and_then(|v| v.parse::<u32>().ok()).filter(|&n| n > 0);
        match a.as_str() {
            "--runs" => match number(args.next()) {
                Some(n) => runs = n,
                None => return usage(),
            },
            "--kernel-runs" => match number(args.next()) {
                Some(n) => kernel_runs = n,
                None => return usage(),
            },
            _ if a.starts_with('-') => return usage(),
            _ => objects.push(PathBuf::from(a)),
        }
    }
    if objects.is_empty() {
        objects = corpus::testdata_objects();
    }
    let vmlinux = match std::fs::read(VMLINUX) {
        Ok(v) => v,
        Err(e) => {
            eprintln!("error: {VMLINUX}: {e}");
            return ExitCode::from(2);
        }
    };
    let btf = match Btf::parse(&vmlinux) {
        Ok(b) => b,
        Err(e) => {
            eprintln!("error: {VMLINUX}: {e}");
            return ExitCode::from(2);
        }
    };
    let target = CoreTarget::new(&btf);
    // Kfuncs and attach targets are found through a name index of vmlinux's BTF built on first
    // use (the kernel's own BTF is indexed at boot): build it before anything is timed.
    btf.find_indexed("task_struct", bpfkit_btf::Kind::Struct);
    let load = corpus::Load {
        log_level: 4,
        repeat: kernel_runs,
        untyped: None,
    };
    let (cases, not_compared) = corpus::cases(&objects, &target, load);
    let rows: Vec<Row> = cases
        .iter()
        .map(|c| {
            let mut times: Vec<f64> = (0..runs)
                .map(|_| {
                    let start = Instant::now();
                    let verdict = verify_image(&c.image, None, Some(&btf), Options::default());
                    std::hint::black_box(&verdict);
                    start.elapsed().as_secs_f64() * 1e6
                })
                .collect();
            times.sort_by(f64::total_cmp);
            let insns = verify_image(&c.image, None, Some(&btf), Options::default())
                .stats
                .insns;
            let root = corpus::workspace();
            let what = c
                .what
                .strip_prefix(&format!("{}/", root.join("testdata/obj").display()))
                .unwrap_or(&c.what)
                .to_string();
            Row {
                what,
                insns,
                ours_us: times[times.len() / 2],
                kernel_us: c.kernel.usec,
            }
        })
        .collect();
    print!("{}", table(&rows, runs, kernel_runs));
    for line in &not_compared {
        println!("not compared: {line}");
    }
    ExitCode::SUCCESS
}

fn usage() -> ExitCode {
    eprintln!("usage: verifier-report [--runs N] [--kernel-runs K] [OBJECT...]");
    ExitCode::from(2)
}

/// The Markdown table and its summary.
fn table(rows: &[Row], runs: u32, kernel_runs: u32) -> String {
    use std::fmt::Write as _;
    let mut out = format!(
        "| program | insns processed | bpfkit (µs, median of {runs}) | kernel (µs, median of {kernel_runs}) | kernel ÷ bpfkit |\n|---|--:|--:|--:|--:|\n"
    );
    for r in rows {
        let _ = writeln!(
            out,
            "| {} | {} | {:.1} | {} | {} |",
            r.what,
            r.insns,
            r.ours_us,
            r.kernel_us.map_or("–".into(), |k| k.to_string()),
            r.ratio().map_or("–".into(), |x| format!("{x:.1}×")),
        );
    }
    let timed: Vec<&Row> = rows.iter().filter(|r| r.kernel_us.is_some()).collect();
    let slower: Vec<&&Row> = timed.iter().filter(|r| r.ratio() < Some(1.0)).collect();
    let _ = writeln!(
        out,
        "\nbpfkit faster than the kernel on {} of {} programs with a kernel time ({} without one)",
        timed.len() - slower.len(),
        timed.len(),
        rows.len() - timed.len()
    );
    if let Some(worst) = timed
        .iter()
        .min_by(|a, b| a.ratio().unwrap().total_cmp(&b.ratio().unwrap()))
    {
        let _ = writeln!(
            out,
            "smallest ratio: {:.2}× ({}); largest: {:.0}×",
            worst.ratio().unwrap(),
            worst.what,
            timed.iter().map(|r| r.ratio().unwrap()).fold(0.0, f64::max)
        );
    }
    if let Some(longest) = rows.iter().max_by(|a, b| a.ours_us.total_cmp(&b.ours_us)) {
        let _ = writeln!(
            out,
            "longest bpfkit time: {:.1} µs ({}); programs past 1 s: {}",
            longest.ours_us,
            longest.what,
            rows.iter().filter(|r| r.ours_us > 1e6).count()
        );
    }
    for r in slower {
        let _ = writeln!(
            out,
            "slower: {} (bpfkit {:.1} µs, kernel {} µs)",
            r.what,
            r.ours_us,
            r.kernel_us.unwrap()
        );
    }
    out
}

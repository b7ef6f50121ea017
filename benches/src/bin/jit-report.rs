//! Prints the Markdown tables of the JIT bench from the results of
//! `cargo bench -p bpfkit-benches --bench jit`: time per run on every engine, the ratios the
//! goals are stated in, and compile times.
//!
//! Usage: `cargo run --release -p bpfkit-benches --bin jit-report [CRITERION_DIR]`.

use std::fmt::Write as _;
use std::path::Path;
use std::process::ExitCode;

use bpfkit_benches::jit::JitEngine;
use bpfkit_benches::jit::{LARGE, large_program};
use bpfkit_benches::report::{criterion_dir, fastest_of, median_of};
use bpfkit_benches::{BOUNDED, PROGRAMS, engines};

fn median(dir: &Path, group: &str, function: &str) -> Option<f64> {
    let path = dir.join(group).join(function).join("new/estimates.json");
    median_of(&std::fs::read_to_string(path).ok()?).ok()
}

/// The fastest sample of a benchmark (see [`fastest_of`]), in ns per iteration.
fn fastest(dir: &Path, group: &str, function: &str) -> Option<f64> {
    let path = dir.join(group).join(function).join("new/sample.json");
    fastest_of(&std::fs::read_to_string(path).ok()?).ok()
}

fn time(ns: f64) -> String {
    if ns >= 1e3 {
        format!("{:.2} µs", ns / 1e3)
    } else {
        format!("{ns:.0} ns")
    }
}

fn cell(v: Option<f64>, f: impl Fn(f64) -> String) -> String {
    v.map_or_else(|| "–".to_string(), f)
}

fn geomean(values: &[f64]) -> Option<f64> {
    (!values.is_empty())
        .then(|| (values.iter().map(|v| v.ln()).sum::<f64>() / values.len() as f64).exp())
}

/// How a cell's time is read from criterion's results: its median or its fastest sample.
type Estimate = fn(&Path, &str, &str) -> Option<f64>;

/// The ratios the goals are stated in, per program and as geometric means, with each cell's
/// time read by `estimate`.
fn ratio_table(out: &mut String, dir: &Path, estimate: Estimate) {
    let ratios: [(&str, JitEngine, JitEngine); 6] = [
        ("jit ÷ native", JitEngine::BpfkitJit, JitEngine::Native),
        ("jit ÷ rbpf-jit", JitEngine::BpfkitJit, JitEngine::RbpfJit),
        (
            "solana-sbpf-jit ÷ jit",
            JitEngine::SolanaSbpfJit,
            JitEngine::BpfkitJit,
        ),
        (
            "trusted ÷ kernel",
            JitEngine::BpfkitJitTrusted,
            JitEngine::Kernel,
        ),
        (
            "trusted ÷ native",
            JitEngine::BpfkitJitTrusted,
            JitEngine::Native,
        ),
        ("interp ÷ jit", JitEngine::Interpreter, JitEngine::BpfkitJit),
    ];
    out.push_str("\n| program |");
    for (name, ..) in ratios {
        let _ = write!(out, " {name} |");
    }
    out.push_str("\n|---|");
    out.push_str(&"--:|".repeat(ratios.len()));
    out.push('\n');
    // Geometric means over the corpus, and over its bounded versions (the only rows with a
    // kernel figure), apart: the two are the same algorithms, so one mean would count each twice.
    for (programs, mean) in [
        (&PROGRAMS[..], "**geometric mean**"),
        (&BOUNDED[..], "**geometric mean, bounded**"),
    ] {
        let mut columns = vec![Vec::new(); ratios.len()];
        for p in programs {
            let _ = write!(out, "| {} |", p.name);
            let group = format!("jit-{}", p.name);
            for (i, (_, a, b)) in ratios.iter().enumerate() {
                let r = estimate(dir, &group, a.name())
                    .zip(estimate(dir, &group, b.name()))
                    .map(|(a, b)| a / b);
                columns[i].extend(r);
                let _ = write!(out, " {} |", cell(r, |r| format!("{r:.2}×")));
            }
            out.push('\n');
        }
        let _ = write!(out, "| {mean} |");
        for c in &columns {
            let _ = write!(out, " {} |", cell(geomean(c), |r| format!("{r:.2}×")));
        }
        out.push('\n');
    }
}

fn main() -> ExitCode {
    let dir = criterion_dir();
    let mut out = String::new();
    out.push_str("| program | insns/run |");
    for e in JitEngine::ALL {
        let _ = write!(out, " {} |", e.name());
    }
    out.push_str("\n|---|--:|");
    out.push_str(&"--:|".repeat(JitEngine::ALL.len()));
    out.push('\n');
    let mut found = false;
    for p in PROGRAMS.iter().chain(&BOUNDED) {
        let count = engines::instruction_count(p).ok();
        let _ = write!(
            out,
            "| {} | {} |",
            p.name,
            cell(count.map(|c| c as f64), |c| c.to_string())
        );
        for e in JitEngine::ALL {
            let m = median(&dir, &format!("jit-{}", p.name), e.name());
            found |= m.is_some();
            let _ = write!(out, " {} |", cell(m, time));
        }
        out.push('\n');
    }
    if !found {
        eprintln!(
            "error: no jit results under {}; run `cargo bench -p bpfkit-benches --bench jit` first",
            dir.display()
        );
        return ExitCode::from(2);
    }
    // The ratios the goals are stated in: of medians, then of fastest samples, which the
    // host's other tenants disturb least (see `fastest_of`).
    out.push_str("\nRatios of medians:\n");
    ratio_table(&mut out, &dir, median);
    out.push_str("\nRatios of fastest samples:\n");
    ratio_table(&mut out, &dir, fastest);
    // Compile times.
    // The fastest sample beside the median: a compile's working set is hundreds of KiB, and
    // a noisy neighbour slows it far more than the small runs above (see `fastest_of`).
    out.push_str(
        "\n| program | insns | bpfkit-jit | ns/insn | fastest sample, ns/insn | rbpf-jit | \
         solana-sbpf-jit |\n",
    );
    out.push_str("|---|--:|--:|--:|--:|--:|--:|\n");
    let large = format!("large-{LARGE}");
    let rows = PROGRAMS
        .iter()
        .map(|p| (p.name, p.insns().len()))
        .chain([(large.as_str(), large_program(LARGE).len())]);
    for (name, insns) in rows {
        // criterion turns the `/` of a function name into `_` in its directory.
        let m = |e: &str| median(&dir, "jit-compile", &format!("{e}_{name}"));
        let ours = m("bpfkit-jit");
        let best = fastest(&dir, "jit-compile", &format!("bpfkit-jit_{name}"));
        let per_insn = |ns: f64| format!("{:.0}", ns / insns as f64);
        let _ = writeln!(
            out,
            "| {name} | {insns} | {} | {} | {} | {} | {} |",
            cell(ours, time),
            cell(ours, per_insn),
            cell(best, per_insn),
            cell(m("rbpf-jit"), time),
            cell(m("solana-sbpf-jit"), time),
        );
    }
    print!("{out}");
    ExitCode::SUCCESS
}

//! `--engine jit`, `--engine jit-trusted`, `--dump-jit` and `bpfkit bench`.

mod common;

use bpfkit_test_support::{Need, require};
use common::*;

fn program(name: &str, text: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("bpfkit-jit-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn dump_jit_shows_each_instruction_above_its_machine_code() {
    let prog = program("dump.s", "r0 = *(u16 *)(r1 + 1)\nr0 += 3\nexit\n");
    let out = bpfkit(&[
        "run",
        "--engine",
        "jit",
        "--dump-jit",
        "--mem-hex",
        "aa bb cc",
        prog.to_str().unwrap(),
    ]);
    let stdout = stdout_of(out, "run --dump-jit");
    let lines: Vec<&str> = stdout.lines().collect();
    let at = |text: &str| {
        lines
            .iter()
            .position(|l| l.trim_start().ends_with(text))
            .unwrap_or_else(|| panic!("no `{text}` in\n{stdout}"))
    };
    // Each eBPF instruction, then its x86 code: the checked load's region lookup, the add.
    let (load, add, exit) = (
        at("0: r0 = *(u16 *)(r1 + 1)"),
        at("1: r0 += 3"),
        at("2: exit"),
    );
    assert!(load < add && add < exit, "{stdout}");
    assert!(
        lines[load + 1..add]
            .iter()
            .any(|l| l.contains("movzx ebx,word ptr [rdx]")),
        "{stdout}"
    );
    assert!(
        lines[add + 1..exit].iter().any(|l| l.contains("add rbx,3")),
        "{stdout}"
    );
    assert_eq!(
        lines[exit + 1].split_whitespace().last(),
        Some("ret"),
        "{stdout}"
    );
    assert_eq!(lines.last(), Some(&"0xccbe"), "{stdout}");
    // The interpreter has no machine code to show.
    let out = bpfkit(&["run", "--dump-jit", prog.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn bench_prints_every_engine_side_by_side() {
    let prog = program(
        "bench.s",
        "r0 = 0\nr2 = 100\nr0 += r2\nr2 += -1\nif r2 != 0 goto -3\nexit\n",
    );
    let out = bpfkit(&[
        "bench",
        "--engines",
        "interp,jit",
        "--time-ms",
        "20",
        prog.to_str().unwrap(),
    ]);
    let stdout = stdout_of(out, "bench");
    let row = |engine: &str| {
        stdout
            .lines()
            .find(|l| l.split_whitespace().next() == Some(engine))
            .unwrap_or_else(|| panic!("no {engine} row in\n{stdout}"))
            .split_whitespace()
            .map(str::to_string)
            .collect::<Vec<_>>()
    };
    for engine in ["interp", "jit"] {
        let cells = row(engine);
        assert_eq!(cells[1], "0x13ba", "{stdout}"); // 100 + 99 + ... + 1
        assert!(cells[2].parse::<f64>().unwrap() > 0.0, "{stdout}");
    }
    assert_eq!(row("interp")[5], "1.00x", "{stdout}");
}

#[test]
fn trusted_jit_runs_what_the_kernels_verifier_accepts() {
    require!(Need::Kernel);
    let ok = program("ok.s", "r0 = *(u16 *)(r1 + 1)\nexit\n");
    let run = |mem: &str, prog: &std::path::Path| {
        bpfkit(&[
            "run",
            "--engine",
            "jit-trusted",
            "--mem-hex",
            mem,
            prog.to_str().unwrap(),
        ])
    };
    assert_eq!(stdout_of(run("aa bb cc", &ok), "run"), "0xccbb\n");
    // One byte of input: the load would read past it, so the verifier refuses and nothing runs.
    let refused = run("aa", &ok);
    assert_eq!(refused.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(
        stderr.contains("verifier rejects") && stderr.contains("invalid access to map value"),
        "{stderr}"
    );
    let out = bpfkit(&[
        "bench",
        "--engines",
        "jit,jit-trusted,kernel",
        "--time-ms",
        "20",
        "--mem-hex",
        "aa bb cc",
        ok.to_str().unwrap(),
    ]);
    let stdout = stdout_of(out, "bench");
    assert_eq!(
        stdout.lines().filter(|l| l.contains("0xccbb")).count(),
        3,
        "{stdout}"
    );
}

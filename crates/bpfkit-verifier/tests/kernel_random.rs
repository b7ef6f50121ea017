//! Verdict differential on random programs, about half of them invalid: our verifier against
//! the running kernel's, program by program. The kernel is the oracle.
//!
//! `BPFKIT_VERIFIER_PROGRAMS=N` (default 2000) and `BPFKIT_VERIFIER_SEED=S` size and seed the run;
//! `BPFKIT_VERIFIER_REPORT=FILE` writes every disagreement there.

mod common;
mod tally;

use bpfkit_asm::assemble;
use bpfkit_isa::Dialect;
use bpfkit_test_support::{Need, require};
use bpfkit_verifier::{Program, verify};

fn env(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

#[test]
fn random_programs_match_the_kernel() {
    require!(Need::Kernel);
    let count = env("BPFKIT_VERIFIER_PROGRAMS", 2000);
    let seed0 = env("BPFKIT_VERIFIER_SEED", 0);
    let maps = common::programs::maps();
    let fds = common::create_maps(&maps);
    let mut tally = tally::Tally::default();
    for seed in seed0..seed0 + count {
        let g = common::programs::generate(seed);
        let insns = assemble(&g.text, Dialect::Llvm).unwrap_or_else(|e| {
            panic!(
                "seed {seed}: generated text does not assemble: {e}\n{}",
                g.text
            )
        });
        let kernel = common::kernel_verdict(g.prog_type, &insns, &fds);
        let ours = verify(&Program::new(&insns, g.prog_type).with_maps(&maps));
        let what = format!("seed {seed} ({:#}, defect {:?})", g.prog_type, g.defect);
        let detail = format!("\n{}", g.text);
        tally.add(&what, &detail, &ours, kernel.accepted, &kernel.message);
    }
    println!(
        "{}",
        tally.summary(&format!(
            "{count} random programs (seeds {seed0}..{})",
            seed0 + count
        ))
    );
    let report = [
        "# we accept, kernel rejects".to_string(),
        tally.we_accept_kernel_rejects.join("\n\n"),
        "# we reject, kernel accepts".to_string(),
        tally.we_reject_kernel_accepts.join("\n\n"),
        "# message differs".to_string(),
        tally.messages_differ.join("\n"),
    ]
    .join("\n\n");
    if let Ok(path) = std::env::var("BPFKIT_VERIFIER_REPORT") {
        std::fs::write(path, &report).unwrap();
    }
    for d in tally.disagreements().take(5) {
        println!("{d}\n");
    }
    for d in tally.messages_differ.iter().take(20) {
        println!("{d}");
    }
    assert!(
        tally.we_accept_kernel_rejects.is_empty(),
        "we accepted programs the kernel rejects"
    );
    let (rate, text_rate) = (tally.agree_percent(), tally.messages_equal_percent());
    assert!(rate >= 99.5, "verdicts agree on {rate:.2}% < 99.5%");
    assert!(text_rate >= 95.0, "messages equal on {text_rate:.2}% < 95%");
}

/// `BPFKIT_VERIFIER_SEED=S cargo test -p bpfkit-verifier --test kernel_random show_seed -- --ignored --nocapture`
/// prints one generated program with both verdicts and the kernel's log.
#[test]
#[ignore = "a debugging aid, run by hand"]
fn show_seed() {
    require!(Need::Kernel);
    let seed = env("BPFKIT_VERIFIER_SEED", 0);
    let maps = common::programs::maps();
    let fds = common::create_maps(&maps);
    let g = common::programs::generate(seed);
    let insns = assemble(&g.text, Dialect::Llvm).unwrap();
    println!("{:#} defect {:?}\n{}", g.prog_type, g.defect, g.text);
    let kernel = common::kernel_verdict(g.prog_type, &insns, &fds);
    println!(
        "--- kernel: accepted={} `{}`\n{}",
        kernel.accepted, kernel.message, kernel.log
    );
    let ours = bpfkit_verifier::verify_with(
        &Program::new(&insns, g.prog_type).with_maps(&maps),
        bpfkit_verifier::Options { log: true },
    );
    println!("--- ours: accepted={}\n{}", ours.accepted(), ours.log);
    if let Some(e) = ours.error {
        println!("{e}");
    }
}

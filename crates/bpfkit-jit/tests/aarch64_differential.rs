//! The aarch64 JIT (checked mode) and the interpreter agree on seeded random programs with
//! random memory: the same `r0`, or the same fault (kind, pc, address) and the same memory
//! afterwards. The programs come from the generator the x86_64 JIT's differential test and the
//! `jit_vs_interp` fuzz target use (`bpfkit_jit::differential`); each seed is a program.
//!
//! Even seeds run with the atomics the CPU chooses (LSE under `QEMU_CPU=max`, LL/SC under
//! `QEMU_CPU=cortex-a53`), odd seeds with LL/SC forced.
//!
//! `BPFKIT_JIT_DIFF_PROGRAMS=N` (default 2,000) and `BPFKIT_JIT_DIFF_SEED=S` (the first seed,
//! default 0) size the run; the big runs go by hand:
//! `BPFKIT_JIT_DIFF_PROGRAMS=1000000 cargo test --release --target aarch64-unknown-linux-gnu -p bpfkit-jit --test aarch64_differential -- --nocapture`.
#![cfg(target_arch = "aarch64")]

use std::time::Instant;

use bpfkit_isa::Kind;
use bpfkit_jit::Atomics;
use bpfkit_jit::differential::{Source, compare_with, generate};

/// The seed's bytes: xorshift64, as in the x86_64 differential's census.
fn bytes(seed: u64, len: usize) -> Vec<u8> {
    let mut x = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}

fn env(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.replace('_', "").parse().ok())
        .unwrap_or(default)
}

#[test]
fn aarch64_jit_agrees_with_the_interpreter_on_random_programs() {
    let programs = env("BPFKIT_JIT_DIFF_PROGRAMS", 2_000);
    let first = env("BPFKIT_JIT_DIFF_SEED", 0);
    let started = Instant::now();
    let (mut ran, mut rejected, mut with_atomics) = (0u64, 0u64, 0u64);
    for seed in first..first + programs {
        let case = generate(&mut Source::new(&bytes(seed, 2048)));
        let atomics = if seed % 2 == 0 {
            Atomics::Detect
        } else {
            Atomics::LlSc
        };
        let outcome = compare_with(&case, atomics)
            .unwrap_or_else(|m| panic!("seed {seed} ({atomics:?}): {m:#x?}\n{case:#?}"));
        if outcome.is_none() {
            rejected += 1;
            continue;
        }
        ran += 1;
        if case
            .programs
            .iter()
            .flatten()
            .any(|insn| matches!(insn.kind(), Kind::Atomic { .. }))
        {
            with_atomics += 1;
        }
        if (seed - first + 1) % 100_000 == 0 {
            println!("{} programs, {:.0?}", seed - first + 1, started.elapsed());
        }
    }
    println!(
        "{programs} programs from seed {first}: {ran} ran ({with_atomics} with atomics; odd \
         seeds with LL/SC), {rejected} rejected by the loader, 0 divergences, {:.1?}",
        started.elapsed()
    );
    assert!(
        ran * 2 > programs,
        "only {ran} of {programs} programs loaded"
    );
}

//! Soundness: every program our verifier accepts runs in bpfkit-vm's checked interpreter on
//! random inputs without a memory fault, and in bpfkit-jit's trusted mode (host pointers, no
//! checks) with the same results as in the checked interpreter.
//!
//! The interpreter has no program contexts yet (r1 points at raw input bytes), so the programs
//! are of the types whose context is plain readable memory — kprobe (`pt_regs`, 168 bytes),
//! raw tracepoints (12 u64 arguments) and perf events (184 bytes) — run with an input of the
//! context's size. Helpers the interpreter lacks are stubbed: `bpf_ktime_get_ns`,
//! `bpf_get_prandom_u32` and `bpf_get_smp_processor_id` return random numbers in their ranges,
//! `bpf_probe_read_kernel` fills its destination. Programs using the ring buffer (which the
//! interpreter lacks) are not run. Helpers return numbers below 2^32, so that trusted mode never
//! mistakes a result for a virtual address.

mod common;

use bpfkit_asm::assemble;
use bpfkit_isa::{CallTarget, Dialect, Insn, Kind};
use bpfkit_uapi::{MapDef, MapType, ProgType};
use bpfkit_verifier::{Program, verify};
use bpfkit_vm::{Fault, Vm};
use common::programs::{Rng, generate_for, maps};

fn env(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn helpers_supported(insns: &[Insn]) -> bool {
    insns.iter().all(|i| match i.kind() {
        Kind::Call {
            target: CallTarget::Helper,
        } => [1, 2, 3, 5, 7, 8, 113].contains(&i.imm),
        Kind::LoadImm64 { .. } => !(i.src.index() == 1 && i.imm >= 2),
        _ => true,
    })
}

fn vm_for(insns: &[Insn], seed: u64) -> Vm {
    let mut vm = Vm::new(insns).expect("an accepted program loads");
    vm.create_map(MapDef::new(MapType::HASH, 8, 8, 16)).unwrap();
    vm.create_map(MapDef::new(MapType::ARRAY, 4, 16, 4))
        .unwrap();
    let mut rng = Rng::new(seed);
    let mut r2 = Rng::new(seed ^ 1);
    vm.register_helper(5, move |_, _| Ok(rng.next() & 0xffff_ffff));
    vm.register_helper(7, move |_, _| Ok(r2.next() & 0xffff_ffff));
    vm.register_helper(8, |_, _| Ok(0));
    vm.register_helper(113, |env, args| {
        let zeros = vec![0u8; args[1] as usize];
        env.write(args[0], &zeros)?;
        Ok(0)
    });
    vm.set_budget(Some(10_000_000));
    vm
}

#[test]
fn accepted_programs_never_fault() {
    let count = env("BPFKIT_SOUNDNESS_PROGRAMS", 3000);
    let maps = maps();
    let (mut accepted, mut runs, mut jit_runs) = (0, 0, 0);
    for seed in 0..count {
        let g = generate_for(
            seed,
            &[
                ProgType::KPROBE,
                ProgType::RAW_TRACEPOINT,
                ProgType::PERF_EVENT,
            ],
        );
        let insns = assemble(&g.text, Dialect::Llvm).unwrap();
        let verdict = verify(&Program::new(&insns, g.prog_type).with_maps(&maps));
        if !verdict.accepted() || !helpers_supported(&insns) {
            continue;
        }
        accepted += 1;
        let ctx_size = match g.prog_type {
            ProgType::KPROBE => 168,
            ProgType::PERF_EVENT => 184,
            _ => 96,
        };
        let mut vm = vm_for(&insns, seed);
        // SAFETY: our verifier accepted the program for this program type and a context of
        // `ctx_size` bytes, which is what every run below passes; the helpers are the ones it
        // assumed (their pointer arguments are checked memory, their results numbers below
        // 2^32). Whether that acceptance is sound is what this test checks.
        let mut jit =
            unsafe { bpfkit_jit::Jit::new_trusted(vm_for(&insns, seed)) }.expect("compile trusted");
        let mut rng = Rng::new(seed);
        for _ in 0..4 {
            let input: Vec<u8> = (0..ctx_size).map(|_| rng.next() as u8).collect();
            runs += 1;
            let mut a = input.clone();
            let checked = vm.run(&mut a);
            match &checked {
                Ok(_) | Err(Fault::Budget { .. }) => {}
                Err(f) => panic!("seed {seed}: accepted program faulted: {f}\n{}", g.text),
            }
            // A program returning a pointer (allowed to root) returns a virtual address in one
            // mode and a host address in the other: only its memory is compared then.
            let leaks_pointer = g.defect == Some("leak");
            if checked.is_ok() {
                let mut b = input.clone();
                let trusted = jit.run(&mut b);
                if leaks_pointer {
                    assert!(
                        trusted.is_ok(),
                        "seed {seed}: trusted JIT failed: {trusted:?}"
                    );
                } else {
                    assert_eq!(
                        trusted.as_ref().ok(),
                        checked.as_ref().ok(),
                        "seed {seed}: trusted JIT differs\n{}",
                        g.text
                    );
                }
                assert_eq!(a, b, "seed {seed}: trusted JIT left different memory");
                jit_runs += 1;
            }
        }
    }
    println!(
        "{accepted} accepted programs of {count}: {runs} checked runs without a fault, {jit_runs} trusted JIT runs with the same result"
    );
    assert!(
        accepted > count / 4,
        "too few accepted programs to mean anything: {accepted}"
    );
}

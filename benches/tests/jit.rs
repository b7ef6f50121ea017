//! The JIT bench's engines compute what native Rust computes on the corpus: bpfkit's checked
//! JIT on every input (bench and edge cases), its trusted JIT on the bench input it is timed on,
//! run after run; and the kernel's verifier accepts the bounded versions, whose results in the
//! kernel are native's too.

use bpfkit_benches::jit::kernel_program;
use bpfkit_benches::jit::trusted_jit;
use bpfkit_benches::{BOUNDED, PROGRAMS, engines};
use bpfkit_jit::Jit;
use bpfkit_test_support::{Need, require};

#[test]
fn bpfkit_jit_matches_native_on_every_input() {
    for program in PROGRAMS.iter().chain(&BOUNDED) {
        let mut inputs = vec![(program.input)()];
        inputs.extend((program.edge_inputs)());
        for (i, input) in inputs.into_iter().enumerate() {
            let mut expected_mem = input.clone();
            let expected = (program.native)(&mut expected_mem);
            let mut jit = Jit::new(engines::bpfkit_vm(program).unwrap()).unwrap();
            let mut mem = input.clone();
            assert_eq!(
                jit.run(&mut mem),
                Ok(expected),
                "{} input {i}",
                program.name
            );
            assert!(mem == expected_mem, "{} input {i}: memory", program.name);
        }
    }
}

#[test]
fn trusted_jit_matches_native_run_after_run() {
    for program in PROGRAMS.iter().chain(&BOUNDED) {
        let input = (program.input)();
        let mut native_mem = input.clone();
        let mut jit = trusted_jit(program).unwrap();
        let mut mem = input.clone();
        for run in 0..3 {
            let expected = (program.native)(&mut native_mem);
            assert_eq!(
                jit.run(&mut mem),
                Ok(expected),
                "{} run {run}",
                program.name
            );
            assert!(mem == native_mem, "{} run {run}: memory", program.name);
        }
    }
}

/// The kernel column of the JIT bench: the kernel's verifier accepts every bounded program for
/// its bench input, and the kernel's JIT computes native's result on it.
#[test]
fn the_kernel_accepts_the_bounded_programs() {
    require!(Need::Kernel);
    for program in &BOUNDED {
        let input = (program.input)();
        let expected = (program.native)(&mut input.clone());
        let loaded =
            kernel_program(program).unwrap_or_else(|why| panic!("{}: {why}", program.name));
        let (r0, _) = loaded.run(&input, 1).unwrap();
        assert_eq!(r0, expected, "{} in the kernel", program.name);
    }
}

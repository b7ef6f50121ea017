//! The JIT bench's engines compute what native Rust computes on the corpus: bpfkit's checked
//! JIT on every input (bench and edge cases), its trusted JIT on the bench input it is timed on,
//! run after run.

use bpfkit_benches::jit::trusted_jit;
use bpfkit_benches::{PROGRAMS, engines};
use bpfkit_jit::Jit;

#[test]
fn bpfkit_jit_matches_native_on_every_input() {
    for program in &PROGRAMS {
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
    for program in &PROGRAMS {
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

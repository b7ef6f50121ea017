//! Interpreter throughput side by side with peers: every program of the corpus
//! (`benches/programs/*.s`) on bpfkit's interpreter, rbpf 0.4.1's, solana-sbpf 0.26's and native
//! Rust, one criterion group per program (`interp-<program>`), one function per engine.
//!
//! Each group reports time per run of the whole program on its input; the throughput line is in
//! eBPF instructions executed per second (counted by solana-sbpf's meter). Before timing, every
//! engine's result is checked against the native one, so a wrong engine cannot produce numbers.
//! `cargo run -p bpfkit-benches --bin interp-report` turns the results into the Markdown table
//! of `benches/README.md`.

use std::hint::black_box;

use bpfkit_benches::engines::{self, Rbpf, Sbpf};
use bpfkit_benches::{Engine, PROGRAMS, Program};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};

fn bench_program(c: &mut Criterion, program: &Program) {
    let input = (program.input)();
    let expected = (program.native)(&mut input.clone());
    let mut group = c.benchmark_group(format!("interp-{}", program.name));
    group.throughput(Throughput::Elements(
        engines::instruction_count(program).expect("solana-sbpf counts the instructions"),
    ));
    for engine in Engine::ALL {
        if !program.runs_on(engine) {
            continue;
        }
        let mut mem = input.clone();
        match engine {
            Engine::Bpfkit => {
                let mut vm = engines::bpfkit_vm(program).unwrap();
                assert_eq!(vm.run(&mut mem), Ok(expected), "{}", program.name);
                group.bench_function(engine.name(), |b| {
                    b.iter(|| vm.run(black_box(&mut mem)).unwrap())
                });
            }
            Engine::Rbpf => {
                let code = engines::rbpf_code(program, mem.len()).unwrap();
                let vm = Rbpf::new(&code).unwrap();
                assert_eq!(vm.run(&mut mem), Ok(expected), "{}", program.name);
                group.bench_function(engine.name(), |b| {
                    b.iter(|| vm.run(black_box(&mut mem)).unwrap())
                });
            }
            Engine::SolanaSbpf => {
                let sbpf = Sbpf::new(program, false).unwrap();
                let mut context = sbpf.context(mem);
                let mut vm = sbpf.vm(&mut context);
                assert_eq!(vm.run(), Ok(expected), "{}", program.name);
                group.bench_function(engine.name(), |b| b.iter(|| vm.run().unwrap()));
            }
            Engine::Native => {
                group.bench_function(engine.name(), |b| {
                    b.iter(|| (program.native)(black_box(&mut mem)))
                });
            }
        }
    }
    group.finish();
}

fn bench(c: &mut Criterion) {
    for program in &PROGRAMS {
        bench_program(c, program);
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);

//! JIT throughput and compile time side by side with peers, on the interpreter bench's corpus
//! (`benches/programs/*.s`): one criterion group per program (`jit-<program>`), one function
//! per engine (see [`JitEngine`]), and `jit-compile/<engine>/<program>` for compile times (the
//! corpus, and a generated program of `LARGE` instructions). The corpus's bounded versions
//! (`BOUNDED`, which the kernel's verifier accepts) run on every engine too, so that the kernel
//! has a column.
//!
//! Before timing, every engine's result is checked against the native one; an engine that
//! gives a wrong result (rbpf's JIT on `calls`) or cannot run a program (the kernel's
//! verifier may reject one) is left out with a message, and `jit-report` shows why.
//! `cargo run --release -p bpfkit-benches --bin jit-report` prints the tables.

use std::hint::black_box;
use std::time::Duration;

use bpfkit_benches::engines::{self, RbpfJit, Sbpf};
use bpfkit_benches::jit::{
    JitEngine, LARGE, kernel_program, large_program, trivial_program, trusted_jit,
};
use bpfkit_benches::{BOUNDED, PROGRAMS, Program};
use bpfkit_jit::Jit;
use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};

fn bench_program(c: &mut Criterion, program: &Program) {
    let input = (program.input)();
    let expected = (program.native)(&mut input.clone());
    let mut group = c.benchmark_group(format!("jit-{}", program.name));
    group.throughput(Throughput::Elements(
        engines::instruction_count(program).expect("solana-sbpf counts the instructions"),
    ));
    let skip = |engine: JitEngine, why: String| {
        eprintln!("jit-{}/{}: not timed: {why}", program.name, engine.name());
    };
    for engine in JitEngine::ALL {
        let mut mem = input.clone();
        match engine {
            JitEngine::BpfkitJit => {
                let mut jit = Jit::new(engines::bpfkit_vm(program).unwrap()).unwrap();
                assert_eq!(jit.run(&mut mem), Ok(expected), "{}", program.name);
                group.bench_function(engine.name(), |b| {
                    b.iter(|| jit.run(black_box(&mut mem)).unwrap())
                });
            }
            JitEngine::BpfkitJitTrusted => match trusted_jit(program) {
                Ok(mut jit) => {
                    assert_eq!(jit.run(&mut mem), Ok(expected), "{}", program.name);
                    group.bench_function(engine.name(), |b| {
                        b.iter(|| jit.run(black_box(&mut mem)).unwrap())
                    });
                }
                Err(why) => skip(engine, why),
            },
            JitEngine::RbpfJit => {
                let code = engines::rbpf_code(program, mem.len()).unwrap();
                let vm = RbpfJit::new(&code).unwrap();
                // SAFETY: the corpus stays inside its input and stack on its bench input (the
                // corpus tests run every program on the checked interpreters first); rbpf's
                // JIT is known to mishandle the stack of called functions, which the result
                // check catches, and then it is not run again.
                match unsafe { vm.run(&mut mem) } {
                    Ok(r0) if r0 == expected => {
                        group.bench_function(engine.name(), |b| {
                            // SAFETY: as above, the same input run after run.
                            b.iter(|| unsafe { vm.run(black_box(&mut mem)) }.unwrap())
                        });
                    }
                    other => skip(
                        engine,
                        format!("wrong result {other:x?}, native {expected:#x}"),
                    ),
                }
            }
            JitEngine::SolanaSbpfJit => {
                let sbpf = Sbpf::new(program, false).unwrap();
                sbpf.jit_compile().unwrap();
                let mut context = sbpf.context(mem);
                let mut vm = sbpf.vm(&mut context);
                assert_eq!(vm.run_jit(), Ok(expected), "{}", program.name);
                group.bench_function(engine.name(), |b| b.iter(|| vm.run_jit().unwrap()));
            }
            JitEngine::Interpreter => {
                let mut vm = engines::bpfkit_vm(program).unwrap();
                assert_eq!(vm.run(&mut mem), Ok(expected), "{}", program.name);
                group.bench_function(engine.name(), |b| {
                    b.iter(|| vm.run(black_box(&mut mem)).unwrap())
                });
            }
            JitEngine::Kernel => match kernel_program(program) {
                Ok(prog) => {
                    let (r0, _) = prog.run(&mem, 1).unwrap();
                    assert_eq!(r0, expected, "{} in the kernel", program.name);
                    // The kernel times `repeat` runs itself; its per-run average is the figure.
                    group.bench_function(engine.name(), |b| {
                        b.iter_custom(|iters| {
                            let repeat = iters.clamp(1, u32::MAX as u64) as u32;
                            let (_, ns) = prog.run(&mem, repeat).unwrap();
                            Duration::from_nanos(ns as u64 * iters)
                        })
                    });
                }
                Err(why) => skip(engine, why),
            },
            JitEngine::Native => {
                group.bench_function(engine.name(), |b| {
                    b.iter(|| (program.native)(black_box(&mut mem)))
                });
            }
        }
    }
    group.finish();
}

/// How many bpfkit compiles are timed between drops: few enough that every compile finds a
/// dropped compile's code memory in the pool (which holds 32), as a program that is compiled,
/// run and dropped, or recompiled, does. With criterion's `SmallInput` batches (a tenth of a
/// sample's iterations, up to thousands of compiled programs alive at once) most compiles
/// mapped fresh memory instead, which costs an `mmap` and a page fault per page written; the
/// README gives both figures.
const COMPILES_PER_BATCH: u64 = 8;

/// Compile time of each JIT on each program: code generation only (loading, verifying and
/// decoding are outside the timed part for every engine where the API allows).
fn bench_compile(c: &mut Criterion) {
    let mut group = c.benchmark_group("jit-compile");
    for program in &PROGRAMS {
        group.bench_function(format!("bpfkit-jit/{}", program.name), |b| {
            b.iter_batched(
                || engines::bpfkit_vm(program).unwrap(),
                |vm| Jit::new(vm).unwrap(),
                BatchSize::NumIterations(COMPILES_PER_BATCH),
            )
        });
        let code = engines::rbpf_code(program, (program.input)().len()).unwrap();
        group.bench_function(format!("rbpf-jit/{}", program.name), |b| {
            b.iter_batched(
                || rbpf::EbpfVmRaw::new(Some(&code)).unwrap(),
                |mut vm| {
                    vm.jit_compile().unwrap();
                    vm
                },
                BatchSize::SmallInput,
            )
        });
        group.bench_function(format!("solana-sbpf-jit/{}", program.name), |b| {
            b.iter_batched(
                || Sbpf::new(program, false).unwrap(),
                |sbpf| {
                    sbpf.jit_compile().unwrap();
                    sbpf
                },
                BatchSize::SmallInput,
            )
        });
    }
    // A large program: what compiling costs per instruction once the fixed cost is spread
    // (bpfkit only: rbpf 0.4.1's JIT panics on it, its code buffer has a fixed size).
    let large = large_program(LARGE);
    group.bench_function(format!("bpfkit-jit/large-{LARGE}"), |b| {
        b.iter_batched(
            || bpfkit_vm::Vm::new(&large).unwrap(),
            |vm| Jit::new(vm).unwrap(),
            BatchSize::NumIterations(COMPILES_PER_BATCH),
        )
    });
    group.finish();
}

/// The per-run cost of each engine: `r0 = 0; exit` on a 64-byte input, where nearly all the
/// time is entering the engine and setting up the run (the kernel's figure includes its raw
/// wrapper, a map lookup and a store of the result: see `bpfkit_sys::RawProgram`).
fn bench_trivial(c: &mut Criterion) {
    let insns = trivial_program();
    let mut mem = vec![0u8; 64];
    let mut group = c.benchmark_group("jit-trivial");
    let mut vm = bpfkit_vm::Vm::new(&insns).unwrap();
    group.bench_function(JitEngine::Interpreter.name(), |b| {
        b.iter(|| vm.run(black_box(&mut mem)).unwrap())
    });
    let mut jit = Jit::new(bpfkit_vm::Vm::new(&insns).unwrap()).unwrap();
    group.bench_function(JitEngine::BpfkitJit.name(), |b| {
        b.iter(|| jit.run(black_box(&mut mem)).unwrap())
    });
    // SAFETY: the program touches no memory.
    let mut trusted = unsafe { Jit::new_trusted(bpfkit_vm::Vm::new(&insns).unwrap()) }.unwrap();
    group.bench_function(JitEngine::BpfkitJitTrusted.name(), |b| {
        b.iter(|| trusted.run(black_box(&mut mem)).unwrap())
    });
    let code = bpfkit_isa::encode(&insns);
    let rbpf = RbpfJit::new(&code).unwrap();
    group.bench_function(JitEngine::RbpfJit.name(), |b| {
        // SAFETY: the program touches no memory.
        b.iter(|| unsafe { rbpf.run(black_box(&mut mem)) }.unwrap())
    });
    match bpfkit_sys::probe()
        .map_err(|e| e.to_string())
        .and_then(|()| bpfkit_sys::RawProgram::load(&insns, mem.len()).map_err(|e| e.to_string()))
    {
        Ok(prog) => {
            group.bench_function(JitEngine::Kernel.name(), |b| {
                b.iter_custom(|iters| {
                    let repeat = iters.clamp(1, u32::MAX as u64) as u32;
                    let (_, ns) = prog.run(&mem, repeat).unwrap();
                    Duration::from_nanos(ns as u64 * iters)
                })
            });
        }
        Err(why) => eprintln!("jit-trivial/kernel: not timed: {why}"),
    }
    group.finish();
}

fn bench(c: &mut Criterion) {
    bench_trivial(c);
    for program in PROGRAMS.iter().chain(&BOUNDED) {
        bench_program(c, program);
    }
    bench_compile(c);
}

criterion_group!(benches, bench);
criterion_main!(benches);

//! Compile time of the aarch64 backend per eBPF instruction, measured natively on the host:
//! its emitter runs anywhere, and timing code under qemu means nothing. Side by side with the
//! x86_64 backend on the same programs (the interpreter bench's corpus), in both memory
//! models, from the lowered program to executable memory (what `Jit::new` times as
//! `compile_time`), and on the JIT bench's generated program of `LARGE` instructions.
//! criterion's throughput is instructions per second.
//! `cargo bench -p bpfkit-benches --bench aarch64_compile`.

use bpfkit_benches::jit::{LARGE, large_program};
use bpfkit_benches::{PROGRAMS, engines};
use bpfkit_jit::compile::compile;
use bpfkit_jit::lower::Options;
use bpfkit_jit::{Atomics, Mode};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};

fn options(mode: Mode) -> Options {
    Options {
        mode,
        metered: false,
        strict_alignment: false,
        atomics: Atomics::Lse,
    }
}

fn bench(c: &mut Criterion) {
    let mut group = c.benchmark_group("aarch64-compile");
    for program in &PROGRAMS {
        let vm = engines::bpfkit_vm(program).unwrap();
        let insns = vm.program(bpfkit_vm::ProgId(0)).unwrap().insns().count();
        group.throughput(Throughput::Elements(insns as u64));
        for mode in [Mode::Checked, Mode::Trusted] {
            group.bench_function(format!("aarch64-{mode}/{}", program.name), |b| {
                b.iter(|| compile::<bpfkit_jit::aarch64::Aarch64>(&vm, options(mode), 1).unwrap())
            });
            #[cfg(target_arch = "x86_64")]
            group.bench_function(format!("x86_64-{mode}/{}", program.name), |b| {
                b.iter(|| compile::<bpfkit_jit::x86::X86>(&vm, options(mode), 1).unwrap())
            });
        }
    }
    // The generated straight-line program of the JIT bench, where the fixed cost of a compile
    // (the entry and out-of-line code, making the memory executable) is spread.
    let large = bpfkit_vm::Vm::new(&large_program(LARGE)).unwrap();
    group.throughput(Throughput::Elements(
        large.program(bpfkit_vm::ProgId(0)).unwrap().len() as u64,
    ));
    for mode in [Mode::Checked, Mode::Trusted] {
        group.bench_function(format!("aarch64-{mode}/large-{LARGE}"), |b| {
            b.iter(|| compile::<bpfkit_jit::aarch64::Aarch64>(&large, options(mode), 1).unwrap())
        });
        #[cfg(target_arch = "x86_64")]
        group.bench_function(format!("x86_64-{mode}/large-{LARGE}"), |b| {
            b.iter(|| compile::<bpfkit_jit::x86::X86>(&large, options(mode), 1).unwrap())
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);

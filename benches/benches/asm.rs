//! Assembler and disassembler throughput, in instructions per second, over every program of the
//! conformance suite (2,599 instructions in all).

use std::hint::black_box;
use std::path::Path;

use bpfkit_asm::conformance::TestFile;
use bpfkit_isa::{Dialect, Insn, decode, disassemble};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};

fn corpus() -> Vec<Insn> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../testdata/conformance/tests");
    let mut paths: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    paths.sort();
    let mut insns = Vec::new();
    for path in paths {
        let file = TestFile::parse(&std::fs::read_to_string(&path).unwrap()).unwrap();
        insns.extend(decode(&file.program().unwrap()).unwrap());
    }
    insns
}

fn bench(c: &mut Criterion) {
    let insns = corpus();
    let bytes = bpfkit_isa::encode(&insns);
    let mut group = c.benchmark_group("asm");
    group.throughput(Throughput::Elements(insns.len() as u64));
    for dialect in [Dialect::Llvm, Dialect::Ubpf] {
        let text = disassemble(&insns, dialect);
        group.bench_function(format!("assemble/{dialect}"), |b| {
            b.iter(|| bpfkit_asm::assemble(black_box(&text), dialect).unwrap())
        });
        group.bench_function(format!("disassemble/{dialect}"), |b| {
            b.iter(|| disassemble(black_box(&insns), dialect))
        });
    }
    group.bench_function("decode", |b| b.iter(|| decode(black_box(&bytes)).unwrap()));
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);

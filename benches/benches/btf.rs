//! BTF on the running kernel's vmlinux (`/sys/kernel/btf/vmlinux`, about 5.5 MB): parsing
//! alone, parsing plus bpftool's raw dump into a sink, the C dump, and re-encoding.
//!
//! The whole-process comparison with bpftool is a hyperfine run (see the README's benchmark
//! section): `hyperfine 'bpftool btf dump file /sys/kernel/btf/vmlinux format raw > /dev/null'
//! 'target/release/bpfkit btf dump /sys/kernel/btf/vmlinux > /dev/null'`.

use std::hint::black_box;

use bpfkit_btf::Btf;
use bpfkit_btf::dump::{self, CDumpOptions};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};

const VMLINUX: &str = "/sys/kernel/btf/vmlinux";

fn bench(c: &mut Criterion) {
    let data = match std::fs::read(VMLINUX) {
        Ok(data) => data,
        Err(e) => {
            eprintln!("btf benches skipped: {VMLINUX}: {e}");
            return;
        }
    };
    let mut group = c.benchmark_group("btf_vmlinux");
    group.throughput(Throughput::Bytes(data.len() as u64));
    group.bench_function("parse", |b| {
        b.iter(|| Btf::parse(black_box(&data)).unwrap())
    });
    group.bench_function("parse+raw_dump", |b| {
        b.iter(|| {
            let btf = Btf::parse(black_box(&data)).unwrap();
            dump::raw(&btf, std::io::sink()).unwrap();
        })
    });
    group.sample_size(20);
    group.bench_function("parse+c_dump", |b| {
        b.iter(|| {
            let btf = Btf::parse(black_box(&data)).unwrap();
            dump::c(&btf, std::io::sink(), &CDumpOptions::default()).unwrap();
        })
    });
    let btf = Btf::parse(&data).unwrap();
    group.bench_function("to_builder+encode", |b| {
        b.iter(|| black_box(&btf).to_builder().encode())
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);

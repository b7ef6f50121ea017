//! CO-RE relocation against the running kernel's BTF (`/sys/kernel/btf/vmlinux`, about 150 000
//! types): `testdata/obj/core_tracing.v3.g.o`, our tracing object with 337 CO-RE relocations
//! over task_struct, mm_struct, cred, sk_buff, sock, file, inode, ...
//!
//! - `cold`: what a loader does once per object: parse vmlinux, index it by essential name,
//!   relocate every record (vmlinux's bytes are already in memory; reading the file is the
//!   kernel's business).
//! - `warm`: relocate every record against a target built before (a fresh candidate cache
//!   each time, as for a new object).
//! - `parse`: vmlinux alone; `index_all`: indexing every kind of vmlinux by essential name
//!   (an upper bound: a target indexes structs, unions, enums, typedefs, forward declarations,
//!   ints and floats in one pass on its first lookup, about 19 000 of vmlinux's 71 000 named
//!   types, and other kinds only when asked; functions, most of the rest, are never CO-RE
//!   candidates).
//!
//! cilium/ebpf publishes 7.7 ms for its lazy vmlinux parse alone; our goal for `cold` is under
//! 10 ms on the 2-core CI machine.

use std::hint::black_box;

use bpfkit_btf::Btf;
use bpfkit_elf::Object;
use bpfkit_relo::core::{CoreTarget, relocate_object};
use criterion::{Criterion, criterion_group, criterion_main};

const VMLINUX: &str = "/sys/kernel/btf/vmlinux";
const OBJECT: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../testdata/obj/core_tracing.v3.g.o"
);

fn bench(c: &mut Criterion) {
    let vmlinux = match std::fs::read(VMLINUX) {
        Ok(data) => data,
        Err(e) => {
            eprintln!("relo benches skipped: {VMLINUX}: {e}");
            return;
        }
    };
    let object_bytes = std::fs::read(OBJECT).expect("testdata object");
    let object = Object::parse(&object_bytes).expect("parse object");
    let records = {
        let btf = Btf::parse(&vmlinux).unwrap();
        let target = CoreTarget::new(&btf);
        let applied = relocate_object(&object, &target);
        assert!(applied.iter().all(|a| a.result.is_ok()));
        applied.len()
    };
    eprintln!("relo: {records} CO-RE relocations per run");

    let mut group = c.benchmark_group("core_vmlinux");
    group.bench_function("parse", |b| {
        b.iter(|| Btf::parse(black_box(&vmlinux)).unwrap())
    });
    let btf = Btf::parse(&vmlinux).unwrap();
    group.bench_function("index_all", |b| {
        b.iter(|| {
            let target = CoreTarget::new(black_box(&btf));
            target.index_all();
            target.indexed()
        })
    });
    group.bench_function("cold", |b| {
        b.iter(|| {
            let btf = Btf::parse(black_box(&vmlinux)).unwrap();
            let target = CoreTarget::new(&btf);
            relocate_object(black_box(&object), &target).len()
        })
    });
    let target = CoreTarget::new(&btf);
    group.bench_function("warm", |b| {
        b.iter(|| relocate_object(black_box(&object), &target).len())
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);

//! The verifier on every program of the `*.v4.g.o` objects of testdata/obj, under criterion.
//!
//! The side-by-side with the kernel's own verification time, over every program of the
//! verifier's verdict corpus, is `cargo run --release -p bpfkit-benches --bin verifier-report`.

use std::path::Path;

use bpfkit_btf::Btf;
use bpfkit_elf::Object;
use bpfkit_relo::{CoreTarget, Linker, ProgramImage};
use bpfkit_verifier::{Options, verify_image};
use criterion::{Criterion, criterion_group, criterion_main};

struct Case {
    name: String,
    image: ProgramImage,
}

fn root() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
}

fn cases(vmlinux: Option<&Btf<'_>>) -> Vec<(String, Case)> {
    let mut out = Vec::new();
    let mut files: Vec<_> = std::fs::read_dir(root().join("testdata/obj"))
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            p.extension().is_some_and(|e| e == "o") && p.to_string_lossy().contains(".v4.g.")
        })
        .collect();
    files.sort();
    for path in files {
        let bytes = std::fs::read(&path).unwrap();
        let Ok(object) = Object::parse(&bytes) else {
            continue;
        };
        let target = vmlinux.map(CoreTarget::new);
        let mut linker = Linker::new(&object);
        if let Some(t) = &target {
            linker = linker.with_core_target(t);
        }
        for (name, image) in linker.link_all() {
            if let Ok(image) = image {
                let file = path.file_name().unwrap().to_string_lossy().to_string();
                out.push((
                    file.clone(),
                    Case {
                        name: format!("{file}:{name}"),
                        image,
                    },
                ));
            }
        }
    }
    out
}

fn bench(c: &mut Criterion) {
    let vmlinux = std::fs::read("/sys/kernel/btf/vmlinux").ok();
    let btf = vmlinux.as_deref().and_then(|b| Btf::parse(b).ok());
    let cases = cases(btf.as_ref());
    let mut group = c.benchmark_group("verify");
    for (_, case) in &cases {
        group.bench_function(&case.name, |b| {
            b.iter(|| verify_image(&case.image, None, btf.as_ref(), Options::default()))
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);

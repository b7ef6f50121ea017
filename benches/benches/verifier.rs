//! The verifier on every program of testdata/obj, side by side with the kernel's own
//! verification time for the same program (`verification time N usec` of log level 4, through
//! libbpf.so.1 and `crates/bpfkit-verifier/tests/libbpf_verdicts.py`; needs root, otherwise only
//! our side runs).
//!
//! `cargo bench -p bpfkit-benches --bench verifier` prints the side-by-side table first (our
//! median of 50 runs against the kernel's single reported time), then criterion's measurements.

use std::path::Path;
use std::process::Command;
use std::time::Instant;

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

/// The kernel's verification time per `file:program`, when root and libbpf allow.
fn kernel_times(files: &[String]) -> Vec<(String, u64)> {
    let script = root().join("crates/bpfkit-verifier/tests/libbpf_verdicts.py");
    let mut out = Vec::new();
    for f in files {
        let Ok(o) = Command::new("python3")
            .arg(&script)
            .arg(root().join("testdata/obj").join(f))
            .output()
        else {
            return out;
        };
        for line in String::from_utf8_lossy(&o.stdout).lines() {
            let grab = |k: &str| {
                let key = format!("\"{k}\": ");
                line.find(&key).map(|i| {
                    let rest = &line[i + key.len()..];
                    rest[..rest.find([',', '}']).unwrap_or(rest.len())]
                        .trim_matches('"')
                        .to_string()
                })
            };
            if let (Some(p), Some(t)) = (grab("program"), grab("kernel_usec")) {
                if let Ok(t) = t.parse() {
                    out.push((format!("{f}:{p}"), t));
                }
            }
        }
    }
    out
}

fn side_by_side(cases: &[(String, Case)], vmlinux: Option<&Btf<'_>>) {
    let mut files: Vec<String> = cases.iter().map(|(f, _)| f.clone()).collect();
    files.dedup();
    let kernel = kernel_times(&files);
    println!(
        "{:<45} {:>10} {:>12} {:>10} {:>8}",
        "program", "insns", "bpfkit (us)", "kernel (us)", "ratio"
    );
    let (mut faster, mut total) = (0, 0);
    for (_, c) in cases {
        let mut times: Vec<u128> = (0..50)
            .map(|_| {
                let t = Instant::now();
                let v = verify_image(&c.image, None, vmlinux, Options::default());
                std::hint::black_box(&v);
                t.elapsed().as_nanos()
            })
            .collect();
        times.sort_unstable();
        let ours = times[times.len() / 2] as f64 / 1000.0;
        let insns = verify_image(&c.image, None, vmlinux, Options::default())
            .stats
            .insns;
        match kernel.iter().find(|(n, _)| *n == c.name) {
            Some((_, k)) => {
                total += 1;
                if ours < *k as f64 {
                    faster += 1;
                }
                println!(
                    "{:<45} {insns:>10} {ours:>12.1} {k:>10} {:>7.0}x",
                    c.name,
                    *k as f64 / ours.max(0.001)
                );
            }
            None => println!(
                "{:<45} {insns:>10} {ours:>12.1} {:>10} {:>8}",
                c.name, "-", "-"
            ),
        }
    }
    println!("bpfkit faster than the kernel on {faster} of {total} programs with a kernel time");
}

fn bench(c: &mut Criterion) {
    let vmlinux = std::fs::read("/sys/kernel/btf/vmlinux").ok();
    let btf = vmlinux.as_deref().and_then(|b| Btf::parse(b).ok());
    let cases = cases(btf.as_ref());
    side_by_side(&cases, btf.as_ref());
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

//! The userspace test run side by side with the kernel's `BPF_PROG_TEST_RUN`, on a clang-built
//! XDP program (`testdata/obj/xdp_parse.v3.g.o`: parses Ethernet, VLAN and IPv4 headers and
//! counts packets per IP protocol in a hash map) and a 64-byte IPv4/UDP frame:
//!
//! - `test_run/open+run`: what a unit test pays once: parse the object, link and relocate it,
//!   create its maps, convert its context accesses, then one test run;
//! - `test_run/run`: one more test run of the opened object (packet and context set up, program
//!   run, map updated, data copied out);
//! - `test_run/kernel`: one `BPF_PROG_TEST_RUN` syscall of the same object loaded into the kernel
//!   (as root; skipped with a printed line otherwise).
//!
//! Then, outside criterion, both sides' own `duration` over 100,000 repeats (the mean time of
//! one program run inside the test-run loop, which is what the kernel reports) is printed
//! side by side.

use std::hint::black_box;

use bpfkit_elf::Object;
use bpfkit_relo::Linker;
use bpfkit_vm::{TestObject, TestRun};
use criterion::{Criterion, criterion_group, criterion_main};

// The kernel side through bpfkit-sys, shared with the test-run differential (the tests' copy
// of what bpfkit-sys' object loader will do); the bench uses only part of it.
#[allow(dead_code)]
#[path = "../../crates/bpfkit-vm/tests/differential/kernel_sys.rs"]
mod kernel_sys;

const PROGRAM: &str = "xdp_parse";

fn object() -> Vec<u8> {
    std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../testdata/obj/xdp_parse.v3.g.o"
    ))
    .expect("testdata object")
}

/// A 64-byte Ethernet frame carrying IPv4 and UDP.
fn packet() -> Vec<u8> {
    let mut f = vec![0u8; 64];
    f[12..14].copy_from_slice(&[0x08, 0x00]);
    f[14] = 0x45;
    f[16..18].copy_from_slice(&50u16.to_be_bytes());
    f[22] = 64;
    f[23] = 17;
    f[26..30].copy_from_slice(&[10, 0, 0, 1]);
    f[30..34].copy_from_slice(&[10, 0, 0, 2]);
    f
}

fn kernel(bytes: &[u8]) -> Result<kernel_sys::Loaded, String> {
    // SAFETY: geteuid has no preconditions and touches no memory.
    if unsafe { libc::geteuid() } != 0 {
        return Err("not root".into());
    }
    let object = Object::parse(bytes).map_err(|e| e.to_string())?;
    let image = Linker::new(&object)
        .link(PROGRAM)
        .map_err(|e| e.to_string())?;
    let cpus = std::thread::available_parallelism().map_or(1, |n| n.get() as u32);
    kernel_sys::load(&image, cpus)
}

fn bench(c: &mut Criterion) {
    let bytes = object();
    let data = packet();
    let run = TestRun {
        data: &data,
        ..TestRun::default()
    };
    let mut obj = TestObject::open(&bytes).expect("opens");
    assert_eq!(obj.test_run(PROGRAM, &run).expect("runs").retval, 2);
    let kernel = kernel(&bytes);

    let mut group = c.benchmark_group("test_run");
    group.bench_function("open+run", |b| {
        b.iter(|| {
            let mut obj = TestObject::open(black_box(&bytes)).unwrap();
            obj.test_run(PROGRAM, black_box(&run)).unwrap().retval
        })
    });
    group.bench_function("run", |b| {
        b.iter(|| obj.test_run(PROGRAM, black_box(&run)).unwrap().retval)
    });
    match &kernel {
        Ok(k) => {
            assert_eq!(kernel_sys::test_run(k, &data, None, 0, 1).1, 2);
            group.bench_function("kernel", |b| {
                b.iter(|| kernel_sys::test_run(k, black_box(&data), None, 0, 1).1)
            });
        }
        Err(why) => println!("test_run/kernel: skipped: {why}"),
    }
    group.finish();

    const REPEAT: u32 = 100_000;
    let ours = obj
        .test_run(
            PROGRAM,
            &TestRun {
                repeat: REPEAT,
                ..run
            },
        )
        .unwrap()
        .duration;
    let theirs = match &kernel {
        Ok(k) => kernel_sys::duration(k, &data, REPEAT)
            .map_or_else(|| "failed".to_string(), |d| format!("{d} ns")),
        Err(why) => format!("skipped: {why}"),
    };
    println!(
        "test_run duration over {REPEAT} repeats of {PROGRAM}: runtime {ours} ns, kernel {theirs}"
    );
}

criterion_group!(benches, bench);
criterion_main!(benches);

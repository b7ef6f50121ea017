//! The test-run differential without the kernel: the kernel's outcomes of the generated cases,
//! recorded as fixtures (`testdata/fixtures/test_run/`, written by `BLESS=1` runs of
//! `test_run_kernel.rs` as root), replayed against the runtime. Needs no root, no kernel, no
//! tools: this is how a plain `cargo test` checks that the runtime still answers as the kernel
//! did.

mod differential;

use differential::{SUBJECTS, cases, fixture_path, read_fixture, seed, testdata};

#[test]
#[cfg_attr(
    miri,
    ignore = "8,400 runs over 9 objects: hours under miri (this crate has no unsafe code)"
)]
fn the_runtime_reproduces_the_kernels_recorded_outcomes() {
    let (mut compared, mut agreed) = (0usize, 0usize);
    let mut failures = Vec::new();
    let mut not_compared = Vec::new();
    for (object, programs) in SUBJECTS {
        let path = testdata().join("obj").join(object);
        let mut obj = None;
        for (prog, prog_type) in *programs {
            let fixture_file = fixture_path(object, prog);
            let fixture = read_fixture(&fixture_file).unwrap_or_else(|| {
                panic!(
                    "{}: missing; record it as root with BLESS=1 cargo test -p bpfkit-vm --test test_run_kernel",
                    fixture_file.display()
                )
            });
            let obj = obj.get_or_insert_with(|| differential::runtime(&path, fixture.cpus));
            if let Some(why) = differential::core_missing(obj, prog) {
                not_compared.push(format!("{object} {prog} ({why})"));
                continue;
            }
            let cases = cases::generate(prog, *prog_type, seed(object, prog), fixture.cases.len());
            for (i, (case, (input, outcome, errno, retval))) in
                cases.iter().zip(&fixture.cases).enumerate()
            {
                assert_eq!(
                    case.digest(),
                    *input,
                    "{object} {prog} case {i}: the generator changed; re-record with BLESS=1"
                );
                let got = differential::runtime_case(obj, case);
                compared += 1;
                if got.digest() == *outcome {
                    agreed += 1;
                } else {
                    failures.push(format!(
                        "{object} {prog} case {i}: kernel errno {errno} retval {retval}, runtime errno {} retval {}",
                        got.errno, got.retval
                    ));
                }
            }
        }
    }
    println!("{agreed} of {compared} recorded kernel outcomes reproduced");
    for n in &not_compared {
        println!("not compared: {n}");
    }
    for f in failures.iter().take(20) {
        println!("{f}");
    }
    assert!(
        failures.is_empty(),
        "{} of {compared} differ",
        failures.len()
    );
    assert!(compared >= 200 * 30, "only {compared} cases compared");
}

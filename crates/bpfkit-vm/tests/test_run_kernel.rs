//! The test-run differential against the kernel: every testdata program of a test-runnable
//! type runs the same generated cases (see `differential/cases.rs`) in the kernel, through
//! `BPF_PROG_TEST_RUN` (the object loaded by libbpf, `oracle/test_run.py`), and in the
//! runtime; errno, retval, data_out, ctx_out, the contents of every map, and the ring buffer
//! and perf records after every case must be identical.
//!
//! Needs root and the kernel (and python3 with libbpf.so.1); skips otherwise, fails under CI.
//! `BLESS=1` also rewrites the fixtures the non-root test replays. `BPFKIT_TEST_RUN_CASES=N`
//! runs N cases per program (default 200).

mod differential;

use bpfkit_test_support::{Need, require};
use differential::{SUBJECTS, case_count, cases, fixture_path, seed, testdata};

#[test]
#[cfg_attr(
    miri,
    ignore = "miri cannot run the kernel side (bpf syscalls, python)"
)]
fn testdata_programs_agree_with_the_kernel() {
    require!(Need::Kernel, Need::Root, Need::Libbpf);
    let bless = std::env::var_os("BLESS").is_some();
    let count = case_count();
    let (mut compared, mut agreed) = (0usize, 0usize);
    let mut failures = Vec::new();
    let mut skipped = Vec::new();
    for (object, programs) in SUBJECTS {
        let path = testdata().join("obj").join(object);
        let names: Vec<&str> = programs.iter().map(|(n, _)| *n).collect();
        let cases: Vec<cases::Case> = programs
            .iter()
            .flat_map(|(prog, t)| cases::generate(prog, *t, seed(object, prog), count))
            .collect();
        let kernel = match differential::kernel(&path, &names, &cases) {
            Ok(k) => k,
            Err(e) => panic!("{object}: the kernel side failed: {e}"),
        };
        let mut obj = differential::runtime(&path, kernel.cpus);
        let ours: Vec<String> = obj.map_names().map(str::to_string).collect();
        for (k, o) in kernel.map_names.iter().zip(&ours) {
            // libbpf prefixes internal maps with the object's name ("global_d.data").
            assert!(
                k == o || k.ends_with(o.as_str()),
                "{object}: maps {k} and {o}"
            );
        }
        for (prog, _) in *programs {
            let core_missing = differential::core_missing(&obj, prog);
            if let Some(why) = &core_missing {
                println!("{object} {prog}: not compared: {why}");
                skipped.push(format!("{object} {prog}"));
            }
            let (mut these_cases, mut these_outcomes) = (Vec::new(), Vec::new());
            for (case, want) in cases
                .iter()
                .zip(&kernel.outcomes)
                .filter(|(c, _)| c.prog == *prog)
            {
                if core_missing.is_some() {
                    // The kernel's outcomes are still recorded for the fixtures.
                    these_cases.push(case.clone());
                    these_outcomes.push(want.clone());
                    continue;
                }
                let got = differential::runtime_case(&mut obj, case);
                if std::env::var("BPFKIT_TEST_RUN_DEBUG").ok()
                    == Some(format!("{object}:{prog}:{}", these_cases.len()))
                {
                    println!(
                        "case: {}\nkernel: {want:?}\nruntime: {got:?}\ndiff: {}",
                        case.to_json(),
                        got.diff(want, &kernel.map_names)
                    );
                }
                compared += 1;
                if &got == want {
                    agreed += 1;
                } else {
                    failures.push(format!(
                        "{object} {prog} case {}: {}\n    input: {}",
                        these_cases.len(),
                        got.diff(want, &kernel.map_names),
                        case.to_json().chars().take(300).collect::<String>()
                    ));
                }
                these_cases.push(case.clone());
                these_outcomes.push(want.clone());
            }
            if bless {
                differential::write_fixture(
                    &fixture_path(object, prog),
                    object,
                    prog,
                    kernel.cpus,
                    &these_cases,
                    &these_outcomes,
                );
            }
        }
    }
    println!("{agreed} of {compared} cases agree with the kernel");
    if !skipped.is_empty() {
        println!(
            "not compared (CO-RE not on this branch yet): {}",
            skipped.join(", ")
        );
    }
    let mut by_program = std::collections::BTreeMap::new();
    for f in &failures {
        let key: String = f.split(" case ").next().unwrap_or("").to_string();
        *by_program.entry(key).or_insert(0) += 1;
    }
    for (program, n) in &by_program {
        println!("  {n} differ: {program}");
    }
    for f in failures.iter().take(20) {
        println!("{f}");
    }
    assert!(
        failures.is_empty(),
        "{} of {compared} cases differ",
        failures.len()
    );
}

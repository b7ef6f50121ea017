//! Verdict differential on the bpf_conformance programs (`testdata/conformance/tests`), each
//! loaded as a socket filter: the programs were written for a VM that hands `r1` a memory
//! buffer, so as socket filters many are rejected (their `r1` is the `__sk_buff` context), and
//! both verifiers must say so alike. The kernel is the oracle.
//!
//! "Where meaningful": files without a program (or whose program does not decode, the
//! negative cases of the suite's own parser) are skipped and counted.

mod common;
mod tally;

use std::path::Path;

use bpfkit_asm::conformance::TestFile;
use bpfkit_test_support::{Need, require};
use bpfkit_uapi::ProgType;
use bpfkit_verifier::{Program, verify};

#[test]
fn conformance_programs_as_socket_filters_match_the_kernel() {
    require!(Need::Kernel);
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../testdata/conformance/tests");
    let mut paths: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "data"))
        .collect();
    paths.sort();
    let mut tally = tally::Tally::default();
    let mut skipped = Vec::new();
    for path in &paths {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let text = std::fs::read_to_string(path).unwrap();
        let insns = TestFile::parse(&text)
            .map_err(|e| e.to_string())
            .and_then(|f| f.program().map_err(|e| e.to_string()))
            .and_then(|bytes| bpfkit_isa::decode(&bytes).map_err(|e| e.to_string()));
        let insns = match insns {
            Ok(insns) if !insns.is_empty() => insns,
            Ok(_) => {
                skipped.push(format!("{name}: no program"));
                continue;
            }
            Err(e) => {
                skipped.push(format!("{name}: {e}"));
                continue;
            }
        };
        let kernel = common::kernel_verdict(ProgType::SOCKET_FILTER, &insns, &[]);
        let ours = verify(&Program::new(&insns, ProgType::SOCKET_FILTER));
        tally.add(&name, "", &ours, kernel.accepted, &kernel.message);
    }
    println!(
        "{}; {} files skipped",
        tally.summary("conformance as socket filters"),
        skipped.len()
    );
    for line in tally.disagreements() {
        println!("  disagree {line}");
    }
    for line in &skipped {
        println!("  skipped {line}");
    }
    assert!(
        tally.compared >= 300,
        "only {} conformance programs compared",
        tally.compared
    );
    assert!(
        tally.we_accept_kernel_rejects.is_empty(),
        "we accepted programs the kernel rejects"
    );
    assert!(tally.agree_percent() >= 99.5, "agreement below 99.5%");
}

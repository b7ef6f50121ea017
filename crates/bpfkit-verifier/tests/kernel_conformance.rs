//! Verdict differential on the bpf_conformance programs (`testdata/conformance/tests`), each
//! loaded as a socket filter: the programs were written for a VM that hands `r1` a memory
//! buffer, so as socket filters many are rejected (their `r1` is the `__sk_buff` context), and
//! both verifiers must say so alike. The kernel is the oracle.
//!
//! "Where meaningful": files without a program (or whose program does not decode, the
//! negative cases of the suite's own parser) are skipped and counted.

mod common;

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
    let (mut compared, mut agree, mut kernel_rejects, mut messages_equal) = (0, 0, 0, 0);
    let mut skipped = Vec::new();
    let mut we_accept_kernel_rejects = Vec::new();
    let mut we_reject_kernel_accepts = Vec::new();
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
        compared += 1;
        let kernel = common::kernel_verdict(ProgType::SOCKET_FILTER, &insns, &[]);
        let ours = verify(&Program::new(&insns, ProgType::SOCKET_FILTER));
        let our_msg = ours
            .error
            .as_ref()
            .map(|e| e.message.to_string())
            .unwrap_or_default();
        if ours.accepted() == kernel.accepted {
            agree += 1;
        } else if ours.accepted() {
            we_accept_kernel_rejects.push(format!("{name}: kernel: {}", kernel.message));
        } else {
            we_reject_kernel_accepts.push(format!("{name}: ours: {our_msg}"));
        }
        if !kernel.accepted {
            kernel_rejects += 1;
            if our_msg == kernel.message {
                messages_equal += 1;
            }
        }
    }
    println!(
        "conformance as socket filters: {compared} programs compared, {agree} verdicts agree \
         ({:.2}%); we accept / kernel rejects: {}; we reject / kernel accepts: {}; messages \
         equal on {messages_equal} of {kernel_rejects} kernel rejections; {} files skipped",
        agree as f64 * 100.0 / compared.max(1) as f64,
        we_accept_kernel_rejects.len(),
        we_reject_kernel_accepts.len(),
        skipped.len()
    );
    for line in we_accept_kernel_rejects
        .iter()
        .chain(&we_reject_kernel_accepts)
    {
        println!("  disagree {line}");
    }
    for line in &skipped {
        println!("  skipped {line}");
    }
    assert!(
        compared >= 300,
        "only {compared} conformance programs compared"
    );
    assert!(
        we_accept_kernel_rejects.is_empty(),
        "we accepted programs the kernel rejects"
    );
    assert!(
        agree as f64 >= compared as f64 * 0.995,
        "agreement below 99.5%"
    );
}

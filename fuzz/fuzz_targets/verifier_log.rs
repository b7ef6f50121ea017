//! Reading an arbitrary verifier log never panics, and what it finds is in the log: the reason
//! is a line of the part kept, the failing instruction one the kept part prints.
#![no_main]

use bpfkit_loader::verifier_log::{insn_of_line, summarize};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let log = String::from_utf8_lossy(data);
    let summary = summarize(&log);
    assert!(log.starts_with(summary.up_to_message));
    if let Some(message) = summary.message {
        assert!(summary.up_to_message.ends_with(message));
    }
    if let Some(insn) = summary.failing_insn {
        assert!(
            summary
                .up_to_message
                .lines()
                .any(|l| insn_of_line(l) == Some(insn))
        );
    }
});

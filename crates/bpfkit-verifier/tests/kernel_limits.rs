//! Hand-written programs at the kernel's limits and for specific rules, each compared with the
//! running kernel's verdict and final message.

mod common;

use bpfkit_asm::assemble;
use bpfkit_isa::Dialect;
use bpfkit_test_support::{Need, require};
use bpfkit_uapi::ProgType;
use bpfkit_verifier::{Program, verify};

/// (program type, assembly) pairs.
const CASES: &[(ProgType, &str)] = &[
    // The same state again: an infinite loop.
    (
        ProgType::SOCKET_FILTER,
        "r7 = 0\nl:\nif r7 < 5 goto l\nr0 = 0\nexit",
    ),
    // A bounded loop.
    (
        ProgType::XDP,
        "r7 = 0\nl:\nr7 += 1\nif r7 < 100 goto l\nr0 = 2\nexit",
    ),
    // Uninitialised stack is readable by a privileged loader.
    (ProgType::SOCKET_FILTER, "r0 = *(u64 *)(r10 - 8)\nexit"),
    // Array lookups with a constant key in range need no null check.
    (
        ProgType::SOCKET_FILTER,
        "*(u32 *)(r10 - 4) = 3\nr2 = r10\nr2 += -4\nr1 = map_fd(1) ll\ncall 1\nr0 = *(u32 *)(r0 + 0)\nexit",
    ),
    (
        ProgType::SOCKET_FILTER,
        "*(u32 *)(r10 - 4) = 4\nr2 = r10\nr2 += -4\nr1 = map_fd(1) ll\ncall 1\nr0 = *(u32 *)(r0 + 0)\nexit",
    ),
    // A 32-bit division forgets all 64 bits.
    (
        ProgType::SOCKET_FILTER,
        "r1 = 3\nw0 = 7\nw0 /= w1\nr0 >>= 32\nr2 = r10\nr2 += -8\nr2 += r0\nr0 = *(u8 *)(r2 + 0)\nexit",
    ),
    // Too many calls deep.
    (
        ProgType::SOCKET_FILTER,
        "call f1\nr0 = 0\nexit\nf1:\ncall f2\nexit\nf2:\ncall f3\nexit\nf3:\ncall f4\nexit\nf4:\ncall f5\nexit\nf5:\ncall f6\nexit\nf6:\ncall f7\nexit\nf7:\ncall f8\nexit\nf8:\nr0 = 0\nexit",
    ),
    // A leaked ring buffer record.
    (
        ProgType::SOCKET_FILTER,
        "r1 = map_fd(2) ll\nr2 = 8\nr3 = 0\ncall 131\nr0 = 0\nexit",
    ),
    // Helper not available to the program type.
    (
        ProgType::SOCKET_FILTER,
        "r1 = 0\nr2 = 0\nr3 = 0\ncall 4\nexit",
    ),
    // Unknown helper id.
    (ProgType::XDP, "call 9999\nexit"),
    // Unreachable instruction.
    (ProgType::XDP, "r0 = 0\nexit\nr0 = 1\nexit"),
    // A loop whose every iteration forks: 8,193 pending branches, the kernel's limit (found by
    // the verifier fuzz target, where it also took minutes before states that kept missing
    // were dropped from their instruction's list as the kernel drops them).
    (
        ProgType::XDP,
        "call 7\nif r0 s> 0x200 goto +0\nl:\nif r0 < 0x7 goto +0\nif w0 s<= w0 goto +0\n\
         if r0 <= 0xfd06 goto l\nif w0 > 0x85 goto +0\nif r0 <= 0x2b000000 goto +0\nexit",
    ),
];

#[test]
fn hand_written_cases_match_the_kernel() {
    require!(Need::Kernel);
    let maps = common::programs::maps();
    let fds = common::create_maps(&maps);
    let mut failures = Vec::new();
    for (i, (prog_type, text)) in CASES.iter().enumerate() {
        let insns = assemble(text, Dialect::Llvm).unwrap();
        let kernel = common::kernel_verdict(*prog_type, &insns, &fds);
        let ours = verify(&Program::new(&insns, *prog_type).with_maps(&maps));
        let msg = ours
            .error
            .as_ref()
            .map(|e| e.message.to_string())
            .unwrap_or_default();
        println!(
            "case {i}: kernel {} `{}`, ours {} `{msg}`",
            kernel.accepted,
            kernel.message,
            ours.accepted()
        );
        if kernel.accepted != ours.accepted() || kernel.message != msg {
            failures.push(i);
        }
    }
    assert!(
        failures.is_empty(),
        "cases {failures:?} differ from the kernel"
    );
}

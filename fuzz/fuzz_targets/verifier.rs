//! The verifier never panics and always terminates within its limits, on any decodable program
//! of any program type: the first byte picks the program type, the rest is bytecode, and the
//! program may use two maps (a hash map and an array).
#![no_main]

use bpfkit_isa::decode;
use bpfkit_uapi::{MapType, ProgType};
use bpfkit_verifier::{MapInfo, Program, verify};
use libfuzzer_sys::fuzz_target;

const TYPES: [ProgType; 8] = [
    ProgType::SOCKET_FILTER,
    ProgType::XDP,
    ProgType::SCHED_CLS,
    ProgType::CGROUP_SKB,
    ProgType::KPROBE,
    ProgType::TRACEPOINT,
    ProgType::RAW_TRACEPOINT,
    ProgType::PERF_EVENT,
];

fuzz_target!(|data: &[u8]| {
    let Some((&first, code)) = data.split_first() else { return };
    let Ok(insns) = decode(code) else { return };
    let maps = [
        MapInfo::new(MapType::HASH, 8, 8, 16),
        MapInfo::new(MapType::ARRAY, 4, 16, 4),
        MapInfo::new(MapType::RINGBUF, 0, 0, 4096),
    ];
    let prog = Program::new(&insns, TYPES[first as usize % TYPES.len()]).with_maps(&maps);
    let verdict = verify(&prog);
    assert!(verdict.stats.insns <= 1_000_001);
});

//! The corpus is correct: every program assembles, and on every engine that runs it, its benchmark
//! input and its edge-case inputs give the native reference's `r0` and leave the input memory as
//! the native reference leaves it, run after run. The native references are checked against
//! facts that do not come from them (prime counts, `ilog2`, RFC 1071's own verification).

use bpfkit_benches::{BOUNDED, Engine, PROGRAMS, Program, engines, inputs, native};

fn inputs(program: &Program) -> Vec<Vec<u8>> {
    let mut all = vec![(program.input)()];
    all.extend((program.edge_inputs)());
    all
}

#[test]
fn every_engine_matches_native() {
    for program in PROGRAMS.iter().chain(&BOUNDED) {
        for (i, input) in inputs(program).into_iter().enumerate() {
            let mut expected_mem = input.clone();
            let expected = (program.native)(&mut expected_mem);
            for &engine in program.engines {
                let mut mem = input.clone();
                let r0 = engine.run_once(program, &mut mem);
                let what = format!("{} input {i} on {engine}", program.name);
                assert_eq!(r0, Ok(expected), "{what}: r0");
                assert!(mem == expected_mem, "{what}: memory differs from native");
            }
        }
    }
}

/// The bench reuses one loaded VM and one input buffer for every iteration: runs after the first
/// must give the same result.
#[test]
fn reruns_give_the_same_result() {
    for program in PROGRAMS.iter().chain(&BOUNDED) {
        let input = (program.input)();
        let expected = (program.native)(&mut input.clone());
        let name = program.name;
        if program.runs_on(Engine::Bpfkit) {
            let mut vm = engines::bpfkit_vm(program).unwrap();
            let mut mem = input.clone();
            for _ in 0..3 {
                assert_eq!(vm.run(&mut mem), Ok(expected), "{name} on bpfkit");
            }
        }
        if program.runs_on(Engine::Rbpf) {
            let code = engines::rbpf_code(program, input.len()).unwrap();
            let vm = engines::Rbpf::new(&code).unwrap();
            let mut mem = input.clone();
            for _ in 0..3 {
                assert_eq!(vm.run(&mut mem), Ok(expected), "{name} on rbpf");
            }
        }
        if program.runs_on(Engine::SolanaSbpf) {
            let sbpf = engines::Sbpf::new(program, false).unwrap();
            let mut context = sbpf.context(input.clone());
            let mut vm = sbpf.vm(&mut context);
            for _ in 0..3 {
                assert_eq!(vm.run(), Ok(expected), "{name} on solana-sbpf");
            }
        }
        let mut mem = input.clone();
        for _ in 0..3 {
            assert_eq!((program.native)(&mut mem), expected, "{name} natively");
        }
    }
}

#[test]
fn every_program_runs_on_bpfkit_and_native() {
    for program in PROGRAMS.iter().chain(&BOUNDED) {
        assert!(program.runs_on(Engine::Bpfkit), "{}", program.name);
        assert!(program.runs_on(Engine::Native), "{}", program.name);
        assert!(Program::by_name(program.name).is_some());
    }
}

#[test]
fn instruction_counts_are_what_a_bench_needs() {
    for program in PROGRAMS.iter().chain(&BOUNDED) {
        let count = engines::instruction_count(program).unwrap();
        // Long enough to measure the interpreter more than the set-up of a run (memcpy, the
        // shortest, copies 1 KiB in 366), short enough for criterion's samples.
        assert!((300..200_000).contains(&count), "{}: {count}", program.name);
    }
}

// The native references, checked against independent facts.

#[test]
fn sieve_counts_the_primes() {
    // pi(4096) = 564, and the primes below 100 sum to 1060.
    assert_eq!(native::sieve(&mut vec![0; 4096]) >> 32, 564);
    assert_eq!(native::sieve(&mut [0; 100]), 25 << 32 | 1060);
}

#[test]
fn log2_is_ilog2() {
    let mut rng = inputs::Rng::new(1);
    for _ in 0..1000 {
        let x = rng.next_u64() >> rng.below(64);
        let expected = x.checked_ilog2().unwrap_or(0) as u64;
        assert_eq!(native::log2(&mut x.to_le_bytes()), expected, "{x:#x}");
    }
}

#[test]
fn checksum_verifies_as_rfc_1071_says() {
    // Data followed by its checksum sums to all ones, so its checksum is 0.
    for len in [2, 20, 1024] {
        let mut data = inputs::Rng::new(len as u64).bytes(len);
        let sum = native::checksum(&mut data.clone()) as u16;
        data.extend(sum.to_be_bytes());
        assert_eq!(native::checksum(&mut data), 0, "{len} bytes");
    }
    // RFC 1071's example words 0001 f203 f4f5 f6f7 sum to ddf2.
    let mut example = [0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7];
    assert_eq!(native::checksum(&mut example), !0xddf2 & 0xffff);
}

#[test]
fn strcmp_of_equal_strings_compares_every_byte() {
    let mut input = (Program::by_name("strcmp").unwrap().input)();
    assert_eq!(native::strcmp(&mut input), 1023 << 16);
}

#[test]
fn memcpy_copies() {
    let mut input = (Program::by_name("memcpy").unwrap().input)();
    native::memcpy(&mut input);
    let (src, dst) = input.split_at(1024);
    assert_eq!(src, dst);
}

#[test]
fn packet_classes_are_the_ones_built() {
    // Per batch of 16 kinds: 3 TCP, 3 UDP, 2 other IPv4 (ICMP, a later fragment), 2 non-IPv4
    // (IPv6, ARP) and 6 malformed; the benchmark input holds two batches.
    let per_batch: u64 = 3 | 3 << 8 | 2 << 16 | 2 << 24 | 6 << 32;
    let frames = inputs::packet_frames(&mut inputs::Rng::new(5));
    assert_eq!(native::packet_counters(&inputs::batch(&frames)), per_batch);
    let input = (Program::by_name("packet").unwrap().input)();
    assert_eq!(native::packet_counters(&input), 2 * per_batch);
}

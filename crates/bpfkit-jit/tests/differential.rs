//! The JIT (checked mode) and the interpreter agree on random programs with random memory:
//! the same `r0`, or the same fault at the same instruction, and the same memory afterwards.
//! See `bpfkit_jit::differential` for what the programs contain; the `jit_vs_interp` fuzz
//! target runs the same comparison on a fuzzer's inputs.

use std::collections::BTreeMap;

use bpfkit_isa::{Insn, Opcode, Reg};
use bpfkit_jit::Jit;
use bpfkit_jit::differential::{Case, Source, compare, generate, vm};
use bpfkit_vm::{Fault, ProgId};
use proptest::prelude::*;

proptest! {
    #![proptest_config(ProptestConfig { cases: 4000, ..ProptestConfig::default() })]

    #[test]
    fn jit_agrees_with_the_interpreter(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
        let case = generate(&mut Source::new(&bytes));
        if let Err(mismatch) = compare(&case) {
            prop_assert!(false, "{mismatch:#x?}\n{case:#?}");
        }
    }
}

/// A small deterministic generator, so the census below sees the same programs every run.
fn bytes(seed: u64, len: usize) -> Vec<u8> {
    let mut x = seed | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}

fn kind(fault: &Fault) -> &'static str {
    match fault {
        Fault::OutOfBounds { .. } => "out of bounds",
        Fault::ReadOnly { .. } => "read-only",
        Fault::Misaligned { .. } => "misaligned",
        Fault::CallDepth { .. } => "call depth",
        Fault::UnknownHelper { .. } => "unknown helper",
        Fault::Helper { .. } => "helper",
        Fault::Kfunc { .. } => "kfunc",
        Fault::TailCallLimit { .. } => "tail-call limit",
        Fault::Budget { .. } => "budget",
    }
}

/// The comparison is only as good as what the programs do: over a fixed set of cases, every
/// kind of ending the generator aims at occurs, and most programs load and run. (No region of
/// a run is read-only, so `ReadOnly` cannot occur; tail calls past the limit need a chain of
/// 33, which random programs rarely build.)
#[test]
fn random_programs_reach_every_kind_of_ending() {
    let mut endings: BTreeMap<&str, usize> = BTreeMap::new();
    let cases = 3000;
    for seed in 0..cases {
        let case = generate(&mut Source::new(&bytes(seed, 2048)));
        match compare(&case) {
            Ok(None) => *endings.entry("rejected by the loader").or_default() += 1,
            Ok(Some(outcome)) => match outcome.result {
                Ok(_) => *endings.entry("returned").or_default() += 1,
                Err(fault) => *endings.entry(kind(&fault)).or_default() += 1,
            },
            Err(mismatch) => panic!("seed {seed}: {mismatch:#x?}\n{case:#?}"),
        }
    }
    println!("{cases} cases: {endings:?}");
    for ending in [
        "returned",
        "out of bounds",
        "misaligned",
        "call depth",
        "unknown helper",
        "helper",
        "kfunc",
        "budget",
    ] {
        assert!(
            endings.contains_key(ending),
            "no case ended `{ending}`: {endings:?}"
        );
    }
    let ran = cases as usize - endings.get("rejected by the loader").copied().unwrap_or(0);
    assert!(
        ran * 2 > cases as usize,
        "only {ran} of {cases} cases loaded: {endings:?}"
    );
}

/// How the cases among the first `cases` that `fits` (given the compiled JIT) end, compared
/// with the interpreter; panics on a mismatch.
fn census(cases: u64, fits: impl Fn(&Case, &Jit) -> bool) -> BTreeMap<&'static str, usize> {
    let mut endings: BTreeMap<&str, usize> = BTreeMap::new();
    for seed in 0..cases {
        let case = generate(&mut Source::new(&bytes(seed, 2048)));
        let Ok(vm) = vm(&case) else { continue };
        let Ok(jit) = Jit::new(vm) else { continue };
        if !fits(&case, &jit) {
            continue;
        }
        match compare(&case) {
            Ok(None) => unreachable!("the loader took it above"),
            Ok(Some(outcome)) => match outcome.result {
                Ok(_) => *endings.entry("returned").or_default() += 1,
                Err(fault) => *endings.entry(kind(&fault)).or_default() += 1,
            },
            Err(mismatch) => panic!("seed {seed}: {mismatch:#x?}\n{case:#?}"),
        }
    }
    endings
}

/// Asserts that at least one in twenty of the `total` cases of a census (`endings`, of
/// `what`) returned, and as many ended out of bounds.
fn assert_ends_every_way(what: &str, endings: &BTreeMap<&str, usize>, total: usize) {
    for ending in ["returned", "out of bounds"] {
        assert!(
            endings.get(ending).is_some_and(|&n| n * 20 > total),
            "too few {what} ended `{ending}`: {endings:?}"
        );
    }
}

/// A quarter of the generated cases are loops of the shape the JIT versions (see
/// `bpfkit_jit::loops`), edges and misfits included: many of them must get a fast copy, and
/// those must end every way, or the comparison above says little about versioned loops.
#[test]
fn generated_loops_are_versioned_and_end_every_way() {
    let cases = 3000;
    let endings = census(cases, |_, jit| jit.code().loops_offset(ProgId(0)).is_some());
    let versioned: usize = endings.values().sum();
    println!("{versioned} of {cases} cases have a versioned loop: {endings:?}");
    assert!(versioned * 10 > cases as usize, "{versioned} versioned");
    assert!(endings.contains_key("budget"), "{endings:?}");
    assert_ends_every_way("versioned loops", &endings, versioned);
}

/// Of those loops, two in five walk an index rather than a pointer (their first instruction,
/// alone among the generated loops, is `r3 = imm`) and reach memory through addresses formed
/// from it: many of them must get a fast copy too, and end every way.
#[test]
fn generated_index_loops_are_versioned_and_end_every_way() {
    let cases = 6000;
    let endings = census(cases, |case, jit| {
        let first = case.programs[0][0];
        first.opcode == Opcode::Mov64Imm
            && first.dst == Reg::R3
            && jit.code().loops_offset(ProgId(0)).is_some()
    });
    let versioned: usize = endings.values().sum();
    println!("{versioned} of {cases} cases have a versioned index loop: {endings:?}");
    assert!(versioned * 40 > cases as usize, "{versioned} versioned");
    assert_ends_every_way("versioned index loops", &endings, versioned);
}

/// Another quarter are parsers of the shape `bpfkit_jit::window` proves, with compares that
/// prove nothing and moves that undo a proof mixed in: many must get the copy after the
/// window's check, and those must end every way.
#[test]
fn generated_windows_are_proven_and_end_every_way() {
    let cases = 4000;
    let endings = census(cases, |_, jit| {
        jit.code().window_offset(ProgId(0)).is_some()
    });
    let windowed: usize = endings.values().sum();
    println!("{windowed} of {cases} cases have a window: {endings:?}");
    assert!(windowed * 15 > cases as usize, "{windowed} with a window");
    assert!(endings.contains_key("budget"), "{endings:?}");
    assert_ends_every_way("windowed programs", &endings, windowed);
}

/// Whether a case's first program is a parser of a window measured by its length (see
/// `bpfkit_jit::differential`): it starts `r6 = r1`, then spills `r2` or copies it to `r7`.
fn measured_by_length(case: &Case) -> bool {
    let p = &case.programs[0];
    let copy = |insn: &Insn, dst, src| {
        insn.opcode == Opcode::Mov64Reg && insn.dst == dst && insn.src == src
    };
    p.len() > 2
        && copy(&p[0], Reg::R6, Reg::R1)
        && ((p[1].opcode == Opcode::StxDW && p[1].dst == Reg::R10 && p[1].src == Reg::R2)
            || copy(&p[1], Reg::R7, Reg::R2))
}

/// Half of those parsers keep offsets, compare them with a length (spilled to the stack, now
/// and then overwritten there), and add them to the start only to read: many must get the
/// copy after the length's check, and those must end every way.
#[test]
fn generated_length_windows_are_proven_and_end_every_way() {
    let cases = 4000;
    let endings = census(cases, |case, jit| {
        measured_by_length(case) && jit.code().window_offset(ProgId(0)).is_some()
    });
    let windowed: usize = endings.values().sum();
    println!("{windowed} of {cases} cases have a window measured by its length: {endings:?}");
    assert!(windowed * 50 > cases as usize, "{windowed} with a window");
    assert_ends_every_way(
        "programs with a window measured by its length",
        &endings,
        windowed,
    );
}

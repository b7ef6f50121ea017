//! Adversarial programs in checked mode: every way out of the memory a run was given faults
//! on the JIT exactly where, and as, it faults on the interpreter (the same `Fault`: kind,
//! instruction, address, size), and leaves memory as the interpreter leaves it.

use bpfkit_asm::assemble;
use bpfkit_isa::Dialect;
use bpfkit_jit::Jit;
use bpfkit_vm::memory::{INPUT_REGION, MAP_VALUE_REGION, STACK_REGION, frame_pointer, region_base};
use bpfkit_vm::{Access, Fault, MapDef, MapId, MapType, ProgId, Program, TailCallOverflow, Vm};

/// A VM running `source` with two maps: map 0 an array of one 12-byte value, map 1 a program
/// array whose entry 0 is program 1 (`r0 = 7`), and a helper 6 that writes 8 bytes at `r1`.
fn vm(source: &str) -> Vm {
    let insns = assemble(source, Dialect::Llvm).unwrap_or_else(|e| panic!("{e}\n{source}"));
    let mut vm = Vm::new(&insns).unwrap_or_else(|e| panic!("{e}\n{source}"));
    vm.create_map(MapDef::new(MapType::ARRAY, 4, 12, 1))
        .unwrap();
    vm.create_map(MapDef::new(MapType::PROG_ARRAY, 4, 4, 2))
        .unwrap();
    let seven = assemble("r0 = 7\nexit", Dialect::Llvm).unwrap();
    let next = vm.add_program(Program::new(&seven).unwrap());
    vm.map_mut(MapId(1))
        .unwrap()
        .set_program(0, Some(next))
        .unwrap();
    vm.register_helper(6, |env, args| {
        env.write(args[0], &[0xee; 8])?;
        Ok(0)
    });
    vm
}

/// Runs `source` on both engines with `input`; they must agree on the result and on the
/// memory afterwards. Returns the result.
fn both(source: &str, input: &[u8]) -> Result<u64, Fault> {
    both_with(source, input, |_| {})
}

fn both_with(source: &str, input: &[u8], setup: impl Fn(&mut Vm)) -> Result<u64, Fault> {
    let mut interp = vm(source);
    setup(&mut interp);
    let mut interp_input = input.to_vec();
    let expected = interp.run(&mut interp_input);
    let mut jit_vm = vm(source);
    setup(&mut jit_vm);
    let mut jit = Jit::new(jit_vm).unwrap();
    let mut jit_input = input.to_vec();
    let got = jit.run(&mut jit_input);
    assert_eq!(got, expected, "result of\n{source}");
    assert_eq!(jit_input, interp_input, "input memory after\n{source}");
    let map = |v: &Vm| {
        v.map(MapId(0))
            .unwrap()
            .lookup(&0u32.to_le_bytes())
            .unwrap()
            .to_vec()
    };
    assert_eq!(map(jit.vm()), map(&interp), "map memory after\n{source}");
    got
}

/// Runs each of `programs` on inputs of each of `lens` bytes on both engines (see [`both`]):
/// how many runs returned, and how many faulted.
fn endings(programs: impl IntoIterator<Item = String>, lens: &[usize]) -> (usize, usize) {
    let (mut ok, mut faults) = (0, 0);
    for program in programs {
        for &len in lens {
            let input: Vec<u8> = (0..len as u8).map(|b| b.wrapping_mul(7) | 1).collect();
            match both(&program, &input) {
                Ok(_) => ok += 1,
                Err(_) => faults += 1,
            }
        }
    }
    (ok, faults)
}

const TYPES: [(&str, usize); 4] = [("u8", 1), ("u16", 2), ("u32", 4), ("u64", 8)];

fn signed(off: i64) -> String {
    if off < 0 {
        format!("- {}", -off)
    } else {
        format!("+ {off}")
    }
}

#[test]
fn input_edges_for_every_size_load_store_and_atomic() {
    let len = 16i64;
    for (ty, size) in TYPES {
        let last = len - size as i64;
        for off in [0, last, last + 1, len, -1, -(size as i64), i16::MAX as i64] {
            let inside = off >= 0 && off <= last;
            let addr = (region_base(INPUT_REGION) as i64 + off) as u64;
            let o = signed(off);
            let load = both(&format!("r0 = *({ty} *)(r1 {o})\nexit"), &[0xab; 16]);
            let store = both(&format!("*({ty} *)(r1 {o}) = 0x5a\nr0 = 1\nexit"), &[7; 16]);
            let reg_store = both(&format!("r2 = -1\n*({ty} *)(r1 {o}) = r2\nexit"), &[7; 16]);
            if inside {
                assert!(
                    load.is_ok() && store.is_ok() && reg_store.is_ok(),
                    "{ty} at {off}"
                );
            } else {
                let fault = |pc, access| {
                    Err(Fault::OutOfBounds {
                        pc,
                        addr,
                        size,
                        access,
                    })
                };
                assert_eq!(load, fault(0, Access::Read), "{ty} load at {off}");
                assert_eq!(store, fault(0, Access::Write), "{ty} store at {off}");
                assert_eq!(reg_store, fault(1, Access::Write), "{ty} store at {off}");
            }
            if size >= 4 {
                let r = if size == 4 { "w2" } else { "r2" };
                for op in [
                    "lock *({ty} *)(r1 {o}) += {r}",
                    "{r} = atomic_fetch_xor(({ty} *)(r1 {o}), {r})",
                ] {
                    let op = op.replace("{ty}", ty).replace("{o}", &o).replace("{r}", r);
                    let r = both(&format!("r2 = 3\n{op}\nr0 = r2\nexit"), &[1; 16]);
                    assert_eq!(r.is_ok(), inside, "{op}");
                }
                let cmpxchg = if size == 4 {
                    format!("r0 = 0x01010101\nr2 = 9\nw0 = cmpxchg32_32(r1 {o}, w0, w2)\nexit")
                } else {
                    format!("r0 = 0x01010101\nr2 = 9\nr0 = cmpxchg_64(r1 {o}, r0, r2)\nexit")
                };
                assert_eq!(both(&cmpxchg, &[1; 16]).is_ok(), inside, "{cmpxchg}");
            }
        }
    }
}

#[test]
fn stack_edges_and_frame_pointer_arithmetic() {
    for (ty, size) in TYPES {
        let ok = format!("*({ty} *)(r10 - 512) = 3\nr0 = *({ty} *)(r10 - 512)\nexit");
        assert_eq!(both(&ok, &[]), Ok(3), "{ty}");
        for off in [-513, -(size as i64) + 1, 0, 1, -4096] {
            if off == 1 - size as i64 && size == 1 {
                continue; // r10 - 0: covered by 0
            }
            let o = signed(off);
            let addr = (frame_pointer(0) as i64 + off) as u64;
            assert_eq!(
                both(&format!("r0 = *({ty} *)(r10 {o})\nexit"), &[]),
                Err(Fault::OutOfBounds {
                    pc: 0,
                    addr,
                    size,
                    access: Access::Read
                }),
                "{ty} load at r10 {o}"
            );
            assert_eq!(
                both(&format!("*({ty} *)(r10 {o}) = 1\nexit"), &[]),
                Err(Fault::OutOfBounds {
                    pc: 0,
                    addr,
                    size,
                    access: Access::Write
                }),
                "{ty} store at r10 {o}"
            );
        }
    }
    // Through a copy of r10, and in a callee's frame, whose r10 is the next region.
    assert!(both("r2 = r10\nr2 += -4096\nr0 = *(u64 *)(r2 + 0)\nexit", &[]).is_err());
    assert!(
        both(
            "r2 = r10\nr2 += -8\n*(u64 *)(r2 + 0) = 5\nr0 = *(u64 *)(r10 - 8)\nexit",
            &[]
        ) == Ok(5)
    );
    assert_eq!(
        both("call +1\nexit\nr0 = *(u8 *)(r10 - 513)\nexit", &[]),
        Err(Fault::OutOfBounds {
            pc: 2,
            addr: frame_pointer(1) - 513,
            size: 1,
            access: Access::Read
        })
    );
    // A callee can reach its caller's frame only through a pointer the caller gave it.
    assert_eq!(
        both(
            "r1 = r10\n*(u64 *)(r10 - 8) = 11\ncall +1\nexit\nr0 = *(u64 *)(r1 - 8)\nexit",
            &[]
        ),
        Ok(11)
    );
    assert_eq!(both("r0 = r10\nexit", &[]), Ok(frame_pointer(0)));
    assert_eq!(
        both("call +1\nexit\nr0 = r10\nexit", &[]),
        Ok(frame_pointer(1))
    );
}

#[test]
fn wild_addresses_handles_and_other_regions() {
    for addr in [
        0u64,
        0xdead_beef,
        0xffff_ffff_ffff_fff8,
        region_base(STACK_REGION + 40),
        region_base(STACK_REGION + 7) + 512,
        region_base(INPUT_REGION + 1),
        region_base(INPUT_REGION + 2) + 4,
        region_base(u32::MAX as u64),
        0x7fff_0000_1000,
    ] {
        let load = both(
            &format!("r1 = {addr:#x} ll\nr0 = *(u64 *)(r1 + 0)\nexit"),
            &[0; 64],
        );
        assert_eq!(
            load,
            Err(Fault::OutOfBounds {
                pc: 2,
                addr,
                size: 8,
                access: Access::Read
            })
        );
        let store = both(
            &format!("r1 = {addr:#x} ll\n*(u32 *)(r1 + 0) = 1\nexit"),
            &[0; 64],
        );
        assert!(
            matches!(store, Err(Fault::OutOfBounds { pc: 2, .. })),
            "{store:?}"
        );
    }
    // The frames of deeper calls exist, zeroed, and can be reached by address.
    assert_eq!(
        both(
            &format!(
                "r1 = {:#x} ll\nr0 = *(u64 *)(r1 - 8)\nexit",
                frame_pointer(7)
            ),
            &[]
        ),
        Ok(0)
    );
    assert!(both("r1 = map_fd(0) ll\nr0 = *(u8 *)(r1 + 0)\nexit", &[]).is_err());
    assert!(both("r1 = func(+2) ll\nr0 = *(u8 *)(r1 + 0)\nexit\nexit", &[]).is_err());
}

#[test]
fn map_values_helpers_and_tail_calls() {
    let lookup = "*(u32 *)(r10 - 4) = 0\nr1 = map_fd(0) ll\nr2 = r10\nr2 += -4\ncall 1\nif r0 == 0 goto +2\n";
    for (access, ok) in [
        ("*(u32 *)(r0 + 8) = 5\nr0 = *(u32 *)(r0 + 8)", true),
        ("r0 = *(u32 *)(r0 + 9)", false),
        ("*(u8 *)(r0 - 1) = 1", false),
        ("r0 = *(u64 *)(r0 + 4)", true),
    ] {
        let r = both(&format!("{lookup}{access}\nexit\nexit"), &[]);
        assert_eq!(r.is_ok(), ok, "{access}: {r:?}");
    }
    // The value's address is the interpreter's virtual address.
    assert!(both(&format!("{lookup}exit\nexit\nexit"), &[]).unwrap() >> 32 > INPUT_REGION);
    // A helper that writes: inside, and past, the input.
    assert_eq!(
        both("call 6\nr0 = *(u64 *)(r1 + 0)\nexit", &[0; 8]),
        Ok(0xeeee_eeee_eeee_eeee)
    );
    assert!(matches!(
        both("r1 += 1\ncall 6\nexit", &[0; 8]),
        Err(Fault::OutOfBounds {
            pc: 1,
            size: 8,
            access: Access::Write,
            ..
        })
    ));
    // Registers survive helper calls; r0 is the helper's.
    assert_eq!(
        both(
            "r3 = 3\nr4 = 4\nr5 = 5\nr6 = 6\nr7 = 7\ncall 6\nr0 += r3\nr0 += r4\nr0 += r5\nr0 += r6\nr0 += r7\nr0 += r2\nexit",
            &[0; 8]
        ),
        Ok(25 + 8)
    );
    // Tail calls: to program 1, past the end of the array (falls through), and a chain of 34.
    let tail = "r1 = 0\nr2 = map_fd(1) ll\nr3 = {}\ncall 12\nr0 = 99\nexit";
    assert_eq!(both(&tail.replace("{}", "0"), &[]), Ok(7));
    assert_eq!(both(&tail.replace("{}", "1"), &[]), Ok(99));
    assert_eq!(both(&tail.replace("{}", "5"), &[]), Ok(99));
    let chain = |overflow| {
        both_with(
            "r6 += 1\nr0 = r6\nr2 = map_fd(1) ll\nr3 = 1\ncall 12\nexit",
            &[],
            |vm| {
                vm.map_mut(MapId(1))
                    .unwrap()
                    .set_program(1, Some(ProgId(0)))
                    .unwrap();
                vm.set_tail_call_overflow(overflow);
            },
        )
    };
    assert_eq!(chain(TailCallOverflow::FallThrough), Ok(34));
    assert_eq!(
        chain(TailCallOverflow::Fault),
        Err(Fault::TailCallLimit { pc: 5, max: 33 })
    );
    // A tail call from inside a subprogram keeps the call stack: exit returns to the caller.
    assert_eq!(
        both(
            "r6 = 5\ncall +2\nr0 += r6\nexit\nr6 = 1\nr2 = map_fd(1) ll\nr3 = 0\ncall 12\nexit",
            &[]
        ),
        Ok(12)
    );
}

#[test]
fn calls_budget_and_strict_alignment() {
    assert_eq!(
        both("call +1\nexit\nr0 += 1\ncall -2\nexit", &[]),
        Err(Fault::CallDepth { pc: 3, max: 8 })
    );
    let mut src = String::new();
    for _ in 0..7 {
        src.push_str("*(u64 *)(r10 - 8) = r10\ncall +1\nexit\n");
    }
    src.push_str("r0 = 42\nexit\n");
    assert_eq!(both(&src, &[]), Ok(42));
    assert_eq!(
        both(
            "r6 = 6\nr7 = 7\nr8 = 8\nr9 = 9\ncall +6\nr0 = r6\nr0 += r7\nr0 += r8\nr0 += r9\nr0 += r10\nexit\nr6 = 0\nr7 = 0\nr8 = 0\nr9 = 0\nexit",
            &[]
        ),
        Ok(30 + frame_pointer(0))
    );
    assert_eq!(
        both("call 99\nexit", &[]),
        Err(Fault::UnknownHelper { pc: 0, id: 99 })
    );
    assert_eq!(
        both("r2 = 77\ncallx r2\nexit", &[]),
        Err(Fault::UnknownHelper { pc: 1, id: 77 })
    );
    assert_eq!(
        both("call kfunc(1234)\nexit", &[]),
        Err(Fault::Kfunc {
            pc: 0,
            btf_id: 1234
        })
    );
    let budget = |n| {
        both_with("r0 = 0\nr0 += 1\nif r0 < 100 goto -2\nexit", &[], |vm| {
            vm.set_budget(Some(n));
        })
    };
    assert_eq!(budget(10), Err(Fault::Budget { pc: 2, budget: 10 }));
    assert_eq!(budget(1000), Ok(100));
    let strict = |src: &str| {
        both_with(src, &[0; 16], |vm| {
            vm.set_strict_alignment(true);
        })
    };
    assert!(matches!(
        strict("r0 = *(u32 *)(r1 + 2)\nexit"),
        Err(Fault::Misaligned {
            access: Access::Read,
            ..
        })
    ));
    assert!(matches!(
        strict("*(u16 *)(r10 - 3) = 1\nexit"),
        Err(Fault::Misaligned {
            access: Access::Write,
            ..
        })
    ));
    assert!(matches!(
        strict("lock *(u64 *)(r1 + 4) += r1\nexit"),
        Err(Fault::Misaligned {
            access: Access::Read,
            ..
        })
    ));
    assert_eq!(
        strict("r0 = *(u32 *)(r1 + 4)\n*(u16 *)(r10 - 2) = 1\nexit"),
        Ok(0)
    );
    // Legacy packet loads: in bounds big-endian, out of bounds the program ends with 0.
    assert_eq!(
        both("r6 = r1\nr0 = *(u16 *)skb[2]\nexit", &[1, 2, 3, 4]),
        Ok(0x0304)
    );
    assert_eq!(
        both(
            "r0 = 5\nr6 = r1\nr0 = *(u32 *)skb[2]\nr0 = 9\nexit",
            &[1, 2, 3, 4]
        ),
        Ok(0)
    );
    assert_eq!(
        both(
            "call +1\nexit\nr7 = 1\nr0 = *(u8 *)skb[r7 + 2]\nexit",
            &[1, 2, 3, 4]
        ),
        Ok(4)
    );
}

/// One JIT run after run on inputs of other lengths and at other addresses (the run context
/// and its region table are reused, and refreshed only where a region changed): each run
/// reads and writes the last byte of its own input and faults one byte further, as the
/// interpreter does on the same inputs.
#[test]
fn a_reused_context_follows_each_runs_input() {
    let source =
        "r3 = r1\nr3 += r2\nr4 = *(u8 *)(r3 - 1)\n*(u8 *)(r3 - 1) = r2\nr0 = r4\nr0 += r2\nexit";
    let past = "r3 = r1\nr3 += r2\nr0 = *(u8 *)(r3 + 0)\nexit";
    let mut jit = Jit::new(vm(source)).unwrap();
    let mut jit_past = Jit::new(vm(past)).unwrap();
    let mut interp = vm(source);
    let mut interp_past = vm(past);
    // Lengths up and down, each input a fresh allocation.
    for len in [1usize, 64, 2, 4096, 3, 9, 1, 300, 8] {
        let bytes: Vec<u8> = (0..len).map(|i| i as u8 ^ 0x5a).collect();
        let (mut a, mut b) = (bytes.clone(), bytes.clone());
        assert_eq!(jit.run(&mut a), interp.run(&mut b), "length {len}");
        assert_eq!(a, b, "length {len}");
        let (mut a, mut b) = (bytes.clone(), bytes);
        let fault = jit_past.run(&mut a);
        assert!(fault.is_err(), "length {len}: {fault:?}");
        assert_eq!(fault, interp_past.run(&mut b), "length {len}");
    }
    // An empty input: r1 is 0, so the read below it faults on both.
    assert_eq!(jit.run(&mut []), interp.run(&mut []));
}

/// Checked code guesses the region an access falls in from where its base register came from
/// (`r1` on entry: the input; `r10`: the first frame; a map value's `lddw`: that map) and checks
/// against that region only; a wrong guess must take the full lookup and end as the
/// interpreter does, whether the access is then good or faults. A loop's back edge is where
/// the guess goes wrong: the loop head keeps the guess from before the loop.
#[test]
fn wrong_region_guesses_end_as_on_the_interpreter() {
    // The second time round, r1 points into the stack, then past the frame, then into map 0's
    // value, then at the map value's last byte, then one past it.
    let moved = [
        ("r1 = r10\nr1 += -8", Ok(0x42)),
        ("r1 = r10\nr1 += 8", Err(())),
        ("r1 = map_value(0, 0) ll", Ok(0x42)),
        ("r1 = map_value(0, 11) ll", Ok(0)),
        ("r1 = map_value(0, 12) ll", Err(())),
        ("r1 = 0", Err(())),
    ];
    for (moved, expected) in moved {
        let program = format!(
            "*(u64 *)(r10 - 8) = 0x42\nr6 = map_value(0, 0) ll\n*(u8 *)(r6 + 0) = 0x42\n\
             r7 = 0\nloop:\nr0 = *(u8 *)(r1 + 0)\n*(u8 *)(r1 + 0) = r0\n{moved}\n\
             r7 += 1\nif r7 < 2 goto loop\nexit"
        );
        let r = both(&program, &[9; 4]);
        assert_eq!(r.clone().map_err(|_| ()), expected, "{moved}: {r:?}");
    }
    // Guessed right, but the access runs off either end of the region; and guessed right with
    // an empty input (r1 is then NULL, in no region).
    for (off, ok) in [
        (-1, false),
        (0, true),
        (3, true),
        (4, false),
        (i16::MAX as i64, false),
    ] {
        let o = signed(off);
        let r = both(&format!("r0 = *(u8 *)(r1 {o})\nexit"), &[5; 4]);
        assert_eq!(r.is_ok(), ok, "{o}: {r:?}");
        let r = both(
            &format!("r2 = r1\nr2 += r0\n*(u16 *)(r2 {o}) = 1\nexit"),
            &[5; 5],
        );
        assert_eq!(r.is_ok(), ok, "{o}: {r:?}");
    }
    assert!(both("r0 = *(u8 *)(r1 + 0)\nexit", &[]).is_err());
    // A map value guessed from its `lddw`, moved into the input by adding a difference.
    let r = both(
        &format!(
            "r2 = map_value(0, 0) ll\nr3 = {:#x} ll\nr2 += r3\nr0 = *(u32 *)(r2 + 0)\nexit",
            region_base(INPUT_REGION).wrapping_sub(region_base(MAP_VALUE_REGION))
        ),
        &[1, 2, 3, 4],
    );
    assert_eq!(r, Ok(0x0403_0201));
}

/// Checked code checks a group of accesses through one pointer that does not change, in
/// straight code, as one range at the group's first access; when the range is not all inside
/// the guessed region, a copy of the code checks each access on its own. However the range
/// fails (too short an input, a wrong guess, a budget spent in the middle), the run must end
/// as on the interpreter: the stores before a fault done, the fault at its access.
#[test]
fn grouped_accesses_end_as_on_the_interpreter() {
    // Two groups that overlap, through r2 (bytes 0..16) and r3 (bytes 3..20), with a side
    // exit between their accesses (taken when the input is all 0x55) and a division (which
    // needs the register x86_64 keeps a group's region in).
    let program = "r2 = r1\nr3 = r1\nr3 += 4\n\
        *(u32 *)(r2 + 0) = 0x11223344\n\
        r0 = *(u16 *)(r3 + 2)\n\
        if r0 == 0x5555 goto out\n\
        *(u8 *)(r3 - 1) = r0\n\
        r4 = 7\nr4 /= 3\n\
        r4 = *(u64 *)(r2 + 8)\n\
        r0 += r4\n\
        *(u16 *)(r3 + 10) = r0\n\
        *(u16 *)(r3 + 14) = r0\n\
        out:\nexit";
    let (mut ok, mut faults, mut spent) = (0, 0, 0);
    for len in 0..=22 {
        for fill in [0, 0x55] {
            match both(program, &vec![fill; len]) {
                Ok(_) => ok += 1,
                Err(_) => faults += 1,
            }
            for budget in 0..16 {
                let r = both_with(program, &vec![fill; len], |vm| {
                    vm.set_budget(Some(budget));
                });
                spent += matches!(r, Err(Fault::Budget { .. })) as usize;
            }
        }
    }
    assert!(ok > 4 && faults > 4, "{ok} ran, {faults} faulted");
    assert!(spent > 100, "{spent} budgets spent");
    // The pointer moves between two accesses in straight code: two groups, not one.
    for delta in [1, 3, 4, 100, -1, -4096] {
        let program = format!(
            "r2 = r1\nr0 = *(u8 *)(r2 + 0)\n*(u8 *)(r2 + 1) = r0\nr2 += {delta}\n\
             r0 = *(u8 *)(r2 + 0)\n*(u8 *)(r2 + 1) = r0\nexit"
        );
        let _ = both(&program, &[7; 4]);
    }
    // A loop's head between two accesses through the pointer: the loop comes back to the
    // second with the pointer moved on, not checked by the first.
    for rounds in [1, 3, 4, 9] {
        let program = format!(
            "r2 = r1\nr7 = 0\nr0 = *(u8 *)(r2 + 0)\nloop:\nr6 = *(u8 *)(r2 + 1)\nr0 += r6\n\
             r2 += 1\nr7 += 1\nif r7 < {rounds} goto loop\nexit"
        );
        let _ = both(&program, &[7; 4]);
    }
    // A group in a loop whose pointer moves elsewhere for the second round.
    for moved in [
        "r1 = r10\nr1 += -8",
        "r1 = r10\nr1 += -2",
        "r1 = map_value(0, 0) ll",
        "r1 = map_value(0, 10) ll",
        "r1 = map_value(0, 11) ll",
        "r1 = 0",
    ] {
        let program = format!(
            "*(u64 *)(r10 - 8) = 0x42\nr7 = 0\nloop:\nr0 = *(u8 *)(r1 + 0)\n\
             *(u8 *)(r1 + 1) = r0\nr6 = *(u8 *)(r1 + 2)\nr0 += r6\n{moved}\n\
             r7 += 1\nif r7 < 2 goto loop\nexit"
        );
        let _ = both(&program, &[9; 4]);
    }
}

/// A versioned loop (see `bpfkit_jit::loops`) runs a copy with its cursor's accesses unchecked
/// only when one check on entry proved them all. Where the span ends just inside or just past
/// the input (the bound one byte either side of the end, a second pointer that runs off
/// first, a stride that does or does not land on the last byte), the run must end as on the
/// interpreter: the same result, the same fault at the same instruction, the same bytes
/// written before it.
#[test]
fn versioned_loops_end_as_on_the_interpreter() {
    let loops = [
        // strcmp: two cursors moving together, the second `len / 2` ahead.
        "r3 = r2\nr3 >>= 1\nr5 = r1\nr5 += r3\nr5 += {k}\nr4 = r1\nr4 += r3\n\
         loop:\nr6 = *(u8 *)(r1 + 0)\nr7 = *(u8 *)(r4 + 0)\n*(u8 *)(r4 + 0) = r6\n\
         r1 += 1\nr4 += 1\nif r1 < r5 goto loop\nr0 = r7\nexit",
        // A stride of 8 with a u64 store, and a u16 read past the move.
        "r5 = r1\nr5 += r2\nr5 += {k}\nr0 = 0\n\
         loop:\n*(u64 *)(r1 + 0) = 0x0101\nr1 += 8\nr6 = *(u16 *)(r1 - 2)\nr0 += r6\n\
         if r5 > r1 goto loop\nexit",
        // A stride in a register (3), an access through a register the loop leaves alone.
        "r9 = r1\nr9 += 5\nr8 = 3\nr5 = r1\nr5 += r2\nr5 += {k}\nr0 = 0\n\
         loop:\nr6 = *(u8 *)(r1 + 0)\nr7 = *(u32 *)(r9 + 0)\nr0 += r6\nr0 += r7\n\
         r1 += r8\nif r1 < r5 goto loop\nexit",
        // An immediate stride that is not a power of two, a u16 at each step.
        "r5 = r1\nr5 += r2\nr5 += {k}\nr0 = 0\n\
         loop:\nr6 = *(u16 *)(r1 + 0)\nr0 += r6\nr1 += 3\nif r1 < r5 goto loop\nexit",
    ];
    let programs = loops.iter().flat_map(|source| {
        [-9, -8, -2, -1, 0, 1, 2, 8].map(|k| source.replace("{k}", &k.to_string()))
    });
    let lens = [0, 1, 2, 7, 8, 9, 15, 16, 17, 24, 31, 32, 33];
    let (ok, faults) = endings(programs, &lens);
    assert!(ok > 50 && faults > 50, "{ok} ran, {faults} faulted");
    // The loops above are the shape the JIT versions.
    for source in loops {
        let program = source.replace("{k}", "0");
        let jit = Jit::new(vm(&program)).unwrap();
        assert!(jit.code().loops_offset(ProgId(0)).is_some(), "{program}");
    }
}

/// Loops that walk an index (`i < bound` at the back edge) and reach memory through addresses
/// formed from it in each round (see `bpfkit_jit::loops`): with the bound a few bytes either
/// side of the input's end, an index that starts past the bound or near 2^64 and wraps around
/// to 0 (the check on entry must send that one to the checked loop: a span computed from the
/// first round's index would prove nothing of the rounds after the wrap), a bound past 2^63,
/// a stride in a register and a displacement added to the address, the run must end as on the
/// interpreter.
#[test]
fn index_loops_end_as_on_the_interpreter() {
    let loops = [
        // memcpy as the verifier accepts it: the destination is the source plus the bound.
        "r5 = r2\nr5 >>= 1\nr5 += {k}\nr3 = {j}\nr6 = 0\n\
         loop:\nr8 = r1\nr8 += r3\nr9 = r8\nr9 += r5\nr6 = *(u64 *)(r8 + 0)\n\
         *(u64 *)(r9 + 0) = r6\nr3 += 8\nif r3 < r5 goto loop\nr0 = r6\nexit",
        // strcmp's two streams through one register, the second half `r4` further on.
        "r4 = r2\nr4 >>= 1\nr5 = r4\nr5 += {k}\nr3 = {j}\nr0 = 0\n\
         loop:\nr8 = r1\nr8 += r3\nr6 = *(u8 *)(r8 + 0)\nr8 += r4\nr7 = *(u8 *)(r8 + 0)\n\
         r0 += r6\nr0 ^= r7\nr3 += 1\nif r5 > r3 goto loop\nexit",
        // A stride in a register, the address minus one and read after the move.
        "r5 = r2\nr5 += {k}\nr7 = 3\nr3 = {j}\nr0 = 0\n\
         loop:\nr3 += r7\nr8 = r3\nr8 += r1\nr8 += -1\nr6 = *(u16 *)(r8 - 2)\n\
         *(u8 *)(r8 + 0) = r6\nr0 += r6\nif r3 < r5 goto loop\nexit",
        // An index near 2^64 that wraps around: the address starts 32 bytes in.
        "r9 = r1\nr9 += 32\nr5 = {k}\nr5 += -1\nr3 = {j}\nr3 += -4\nr0 = 0\n\
         loop:\nr8 = r9\nr8 += r3\nr6 = *(u8 *)(r8 + 0)\nr0 += r6\nr3 += 8\n\
         if r3 < r5 goto loop\nexit",
    ];
    let programs = loops.iter().flat_map(|source| {
        [-9, -8, -2, -1, 0, 1, 2, 8].into_iter().flat_map(move |k| {
            [0, 1, 7, 40, -1, i64::MIN, i64::MAX].map(|j| {
                source
                    .replace("{k}", &k.to_string())
                    .replace("{j}", &format!("{j} ll"))
            })
        })
    });
    let lens = [0, 1, 2, 7, 8, 9, 15, 16, 17, 24, 31, 32, 33, 48, 64, 100];
    let (ok, faults) = endings(programs, &lens);
    assert!(ok > 200 && faults > 200, "{ok} ran, {faults} faulted");
    // The loops above are the shape the JIT versions.
    for source in loops {
        let program = source.replace("{k}", "0").replace("{j}", "0");
        let jit = Jit::new(vm(&program)).unwrap();
        assert!(jit.code().loops_offset(ProgId(0)).is_some(), "{program}");
    }
}

/// A pointer that moves with a cursor is proven only with the cursor's own span: here the
/// cursor is 0 but guessed in the input (`r1 - r4`, `r4` a copy of `r1` through the stack,
/// which the guess does not follow), the bound 2^64 - 1, and an index form keeps the loop fit
/// to version. Checked alone, the moving pointer's span `r6 + (bound - 1 - r3)` wraps around to
/// just before `r6` and passes, while `r6` walks out of the input: the run must fault as on
/// the interpreter, reading or writing, where the copy's unchecked accesses ran over the host's
/// memory.
#[test]
fn a_moving_pointer_needs_its_cursors_span() {
    let program = |store: &str| {
        format!(
            "*(u64 *)(r10 - 8) = r1\nr4 = *(u64 *)(r10 - 8)\nr7 = r4\nr3 = r1\nr3 -= r4\n\
             r6 = r1\nr6 += 2\nr5 = -1\nr9 = 0\nr0 = 0\n\
             loop:\nr8 = r7\nr8 += r3\nif r9 == 0 goto skip\nr0 = *(u8 *)(r8 + 0)\n\
             skip:\nr2 = *(u8 *)(r6 + 0)\nr0 += r2\n{store}r6 += 1\nr3 += 1\n\
             if r3 > 40 goto out\nif r3 < r5 goto loop\nout:\nexit"
        )
    };
    for store in ["", "*(u8 *)(r6 + 0) = r9\n"] {
        let (ok, faults) = endings([program(store)], &[0, 1, 2, 3, 8, 16, 40, 42, 43, 64]);
        assert_eq!((ok, faults), (2, 8), "{store}");
    }
}

/// A window's pointer moved by the low half of a loaded number, shifted (`w8 >>= 0`): the
/// low half of a number at most 2^32 can be `0xffffffff`, so the move leaves the window and
/// the read after it must fault, on the JIT as on the interpreter.
#[test]
fn a_move_by_a_shifted_low_half_leaves_the_window() {
    let program = "r6 = r1\nr7 = r1\nr7 += r2\nr3 = r6\nr3 += 8\nif r3 > r7 goto out\n\
                   r8 = *(u32 *)(r6 + 0)\nr8 += 1\nw8 >>= 0\nr6 += r8\n\
                   r0 = *(u8 *)(r6 + 0)\nout:\nexit";
    for word in [0u32, 5, 0xffff_fffe, 0xffff_ffff] {
        let mut input = word.to_le_bytes().to_vec();
        input.resize(16, 0);
        let ended = both(program, &input);
        let low = word.wrapping_add(1);
        assert_eq!(ended.is_err(), low >= 16, "{word:#x}: {ended:?}");
    }
}

/// Parsers of a window measured by its length (see `bpfkit_jit::window`): offsets compared
/// with the length (spilled to the stack and reloaded), read and written at the edges of what
/// they checked and a few bytes past; the spilled length overwritten through a copy of `r10`,
/// in part, or by another value, before it is reloaded. On every input length (0 fails the
/// check after the spill, so the run stays in the program's own code), they must end as on
/// the interpreter, with the same fault at the same instruction and the same bytes written.
#[test]
fn length_windows_end_as_on_the_interpreter() {
    let parsers = [
        // Records of a u16 length (its low 4 bits) then that many bytes and `k` more; a u32
        // read after the length's bytes, a store into the length.
        "*(u64 *)(r10 - 8) = r2\nr6 = 0\nr0 = 0\n{clobber}\n\
         next:\nr7 = *(u64 *)(r10 - 8)\nr3 = r6\nr3 += 2\nif r3 > r7 goto done\n\
         r4 = r1\nr4 += r6\nr5 = *(u16 *)(r4 + 0)\nr5 &= 15\nr3 += r5\nr8 = r3\n\
         r8 += {k}\nif r8 > r7 goto done\nr9 = r1\nr9 += r3\nr2 = *(u32 *)(r9 + 0)\nr0 += r2\n\
         *(u8 *)(r4 + 1) = r5\nr6 = r8\ngoto next\ndone:\nexit",
        // Strict compares kept in a register, a read at the last byte they leave, a store.
        "r7 = r2\nr0 = 0\nr3 = 0\nr4 = r3\nr4 += 13\nif r4 >= r7 goto done\n\
         r5 = r1\nr5 += r3\nr0 = *(u8 *)(r5 + {k})\nr4 = r3\nr4 += 7\n\
         if r7 <= r4 goto done\n*(u64 *)(r5 + 0) = r0\ndone:\nexit",
    ];
    let clobbers = [
        "",
        "r9 = r10\n*(u64 *)(r9 - 8) = 4096",
        "*(u32 *)(r10 - 4) = 1",
        "*(u64 *)(r10 - 8) = r1",
    ];
    let programs = parsers.iter().flat_map(|source| {
        clobbers.iter().flat_map(move |clobber| {
            [0, 1, 2, 4, 13, 14].map(|k| {
                source
                    .replace("{clobber}", clobber)
                    .replace("{k}", &k.to_string())
            })
        })
    });
    let lens = [0, 1, 2, 3, 5, 7, 8, 13, 14, 15, 16, 20, 31, 40];
    let (ok, faults) = endings(programs, &lens);
    assert!(ok > 50 && faults > 50, "{ok} ran, {faults} faulted");
    // Untouched, each has the window and proves its reads.
    for source in parsers {
        let program = source.replace("{clobber}", "").replace("{k}", "4");
        let jit = Jit::new(vm(&program)).unwrap();
        assert!(jit.code().window_offset(ProgId(0)).is_some(), "{program}");
    }
}

/// Parsers whose window (see `bpfkit_jit::window`) is off the input by a few bytes either way
/// (its start or its end), read at the edges of what they checked: whether the check after the
/// window sends the run to the copy or not, it must end as on the interpreter, with the same
/// fault at the same instruction and the same bytes written.
#[test]
fn windows_end_as_on_the_interpreter() {
    let parsers = [
        // A length-prefixed record, then a header through a bounded move.
        "r6 = r1\nr6 += {j}\nr7 = r6\nr7 += r2\nr7 += {k}\nr0 = 0\n\
         next:\nr3 = r6\nr3 += 2\nif r3 > r7 goto done\nr4 = *(u16 *)(r6 + 0)\nr4 &= 7\n\
         r5 = r3\nr5 += r4\nr8 = r5\nr8 += 4\nif r8 > r7 goto done\nr9 = *(u32 *)(r5 + 0)\n\
         *(u8 *)(r5 + 3) = r4\nr0 += r9\nr6 = r8\ngoto next\ndone:\nexit",
        // Strict compares, reads at the last byte they leave, a store.
        "r6 = r1\nr6 += {j}\nr7 = r6\nr7 += r2\nr7 += {k}\nr0 = 0\n\
         r3 = r6\nr3 += 13\nif r3 >= r7 goto done\nr0 = *(u8 *)(r6 + 13)\n\
         r3 = r6\nr3 += 7\nif r7 <= r3 goto done\n*(u64 *)(r6 + 0) = r0\ndone:\nexit",
    ];
    let programs = parsers.iter().flat_map(|source| {
        [-2, -1, 0, 1].into_iter().flat_map(move |j| {
            [-2, -1, 0, 1, 2, 9].map(|k| {
                source
                    .replace("{j}", &j.to_string())
                    .replace("{k}", &k.to_string())
            })
        })
    });
    let lens = [0, 1, 2, 3, 7, 8, 13, 14, 15, 16, 20, 31, 40];
    let (ok, faults) = endings(programs, &lens);
    assert!(ok > 50 && faults > 50, "{ok} ran, {faults} faulted");
    for source in parsers {
        let program = source.replace("{j}", "0").replace("{k}", "0");
        let jit = Jit::new(vm(&program)).unwrap();
        assert!(jit.code().window_offset(ProgId(0)).is_some(), "{program}");
    }
}

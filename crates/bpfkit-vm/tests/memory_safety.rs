//! Adversarial programs: every way out of the memory a run was given ends in a typed fault or a
//! load error, never in a touch outside the regions.

use std::alloc::{GlobalAlloc, Layout, System};

use bpfkit_asm::assemble;
use bpfkit_isa::Dialect;
use bpfkit_vm::memory::{INPUT_REGION, STACK_REGION, frame_pointer, region_base};
use bpfkit_vm::{Access, Fault, LoadError, MapDef, MapType, TailCallOverflow, Vm};

/// No run may allocate a gigabyte: sizes a program passes (4 GiB at most) must be checked
/// against its regions before anything is allocated. Above the limit this allocator fails the
/// allocation, which aborts the test binary: a test run that allocates that much fails.
struct Limited;

const ALLOCATION_LIMIT: usize = 1 << 30;

// SAFETY: every method forwards to the system allocator with the caller's own arguments, or
// returns null (a failed allocation, which the `GlobalAlloc` contract allows) before touching
// anything.
unsafe impl GlobalAlloc for Limited {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if layout.size() > ALLOCATION_LIMIT {
            return std::ptr::null_mut();
        }
        // SAFETY: the caller's layout, as `GlobalAlloc::alloc` requires.
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        if layout.size() > ALLOCATION_LIMIT {
            return std::ptr::null_mut();
        }
        // SAFETY: as in `alloc`.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` came from this allocator (so from `System`) with `layout`.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if new_size > ALLOCATION_LIMIT {
            return std::ptr::null_mut();
        }
        // SAFETY: `ptr` came from `System` with `layout`, as the caller guarantees.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: Limited = Limited;

fn vm(source: &str) -> Vm {
    let insns = assemble(source, Dialect::Llvm).unwrap_or_else(|e| panic!("{e}\n{source}"));
    Vm::new(&insns).unwrap_or_else(|e| panic!("{e}\n{source}"))
}

fn load_error(source: &str) -> LoadError {
    Vm::new(&assemble(source, Dialect::Llvm).unwrap()).unwrap_err()
}

const SIZES: [(&str, usize); 4] = [("u8", 1), ("u16", 2), ("u32", 4), ("u64", 8)];

#[test]
fn input_edges() {
    let len = 16usize;
    for (ty, size) in SIZES {
        let last = len - size;
        // The last in-bounds offset reads, the next one faults; so does one byte before the start.
        let ok = vm(&format!("r0 = *({ty} *)(r1 + {last})\nexit"));
        let mut input = vec![0xab; len];
        assert!(vm_run(ok, &mut input).is_ok(), "{ty} at {last}");
        for off in [last as i64 + 1, len as i64, -1] {
            let mut v = vm(&format!(
                "r0 = *({ty} *)(r1 {} {})\nexit",
                if off < 0 { "-" } else { "+" },
                off.abs()
            ));
            let addr = (region_base(INPUT_REGION) as i64 + off) as u64;
            assert_eq!(
                v.run(&mut vec![0; len]),
                Err(Fault::OutOfBounds {
                    pc: 0,
                    addr,
                    size,
                    access: Access::Read
                }),
                "{ty} load at {off}"
            );
            let mut w = vm(&format!(
                "*({ty} *)(r1 {} {}) = 1\nexit",
                if off < 0 { "-" } else { "+" },
                off.abs()
            ));
            let mut input = vec![7u8; len];
            assert_eq!(
                w.run(&mut input),
                Err(Fault::OutOfBounds {
                    pc: 0,
                    addr,
                    size,
                    access: Access::Write
                }),
                "{ty} store at {off}"
            );
            assert_eq!(input, vec![7u8; len], "a faulting store writes nothing");
        }
    }
}

fn vm_run(mut vm: Vm, input: &mut [u8]) -> Result<u64, Fault> {
    vm.run(input)
}

#[test]
fn stack_edges_and_frame_pointer_arithmetic() {
    for (ty, size) in SIZES {
        // The lowest slot of the 512-byte frame is usable; one byte further faults.
        let ok = format!("*({ty} *)(r10 - 512) = 3\nr0 = *({ty} *)(r10 - 512)\nexit");
        assert_eq!(vm(&ok).run(&mut []), Ok(3), "{ty}");
        let below = vm(&format!("r0 = *({ty} *)(r10 - 513)\nexit")).run(&mut []);
        assert!(
            matches!(
                below,
                Err(Fault::OutOfBounds {
                    pc: 0,
                    access: Access::Read,
                    ..
                })
            ),
            "{ty}: {below:?}"
        );
        // An access that starts in the frame but runs past its top faults.
        let across = vm(&format!("r0 = *({ty} *)(r10 - {})\nexit", size - 1)).run(&mut []);
        if size > 1 {
            assert!(
                matches!(across, Err(Fault::OutOfBounds { .. })),
                "{ty}: {across:?}"
            );
        }
    }
    // Pointer arithmetic on a copy of r10 reaches nothing outside the frame either.
    let far = vm("r2 = r10\nr2 += -4096\nr0 = *(u64 *)(r2 + 0)\nexit").run(&mut []);
    assert_eq!(
        far,
        Err(Fault::OutOfBounds {
            pc: 2,
            addr: frame_pointer(0) - 4096,
            size: 8,
            access: Access::Read
        })
    );
    let above = vm("r0 = *(u8 *)(r10 + 0)\nexit").run(&mut []);
    assert!(matches!(above, Err(Fault::OutOfBounds { .. })));
}

#[test]
fn writing_r10_is_rejected_at_load() {
    assert_eq!(
        load_error("r10 = 0\nexit"),
        LoadError::WritesFramePointer { pc: 0 }
    );
    assert_eq!(
        load_error("r0 = 1\nr10 += 8\nexit"),
        LoadError::WritesFramePointer { pc: 1 }
    );
    assert_eq!(
        load_error("r10 = atomic_fetch_add((u64 *)(r1 + 0), r10)\nexit"),
        LoadError::WritesFramePointer { pc: 0 }
    );
}

#[test]
fn stack_exhaustion_through_deep_calls() {
    // Unbounded recursion: the ninth frame is refused, as the kernel's MAX_CALL_FRAMES.
    let recursion = vm("call +1\nexit\nr0 += 1\ncall -2\nexit");
    assert_eq!(
        recursion_run(recursion),
        Err(Fault::CallDepth { pc: 3, max: 8 })
    );
    // Seven nested calls (eight frames) are fine, and each frame is its own 512 bytes.
    let mut src = String::new();
    for _ in 0..7 {
        src.push_str("*(u64 *)(r10 - 8) = r10\ncall +1\nexit\n");
    }
    src.push_str("r0 = 42\nexit\n");
    assert_eq!(vm(&src).run(&mut []), Ok(42));
}

fn recursion_run(mut vm: Vm) -> Result<u64, Fault> {
    vm.run(&mut [])
}

#[test]
fn callee_saved_registers_and_frame_pointer_are_restored() {
    let src = "r6 = 6\nr7 = 7\nr8 = 8\nr9 = 9\ncall +6\n\
               r0 = r6\nr0 += r7\nr0 += r8\nr0 += r9\nr0 += r10\nexit\n\
               r6 = 0\nr7 = 0\nr8 = 0\nr9 = 0\nexit";
    assert_eq!(vm(src).run(&mut []), Ok(30 + frame_pointer(0)));
}

#[test]
fn wild_addresses_from_lddw() {
    for addr in [
        0u64,
        0xdead_beef,
        0xffff_ffff_ffff_fff8,
        region_base(STACK_REGION + 40),
        0x7fff_0000_1000,
    ] {
        let r = vm(&format!("r1 = {addr:#x} ll\nr0 = *(u64 *)(r1 + 0)\nexit")).run(&mut [0; 64]);
        assert_eq!(
            r,
            Err(Fault::OutOfBounds {
                pc: 2,
                addr,
                size: 8,
                access: Access::Read
            })
        );
        let w = vm(&format!("r1 = {addr:#x} ll\n*(u64 *)(r1 + 0) = 1\nexit")).run(&mut [0; 64]);
        assert_eq!(
            w,
            Err(Fault::OutOfBounds {
                pc: 2,
                addr,
                size: 8,
                access: Access::Write
            })
        );
    }
    // Map handles and subprogram addresses are names, not memory.
    let mut with_map = vm("r1 = map_fd(0) ll\nr0 = *(u8 *)(r1 + 0)\nexit");
    with_map
        .create_map(MapDef::new(MapType::ARRAY, 4, 8, 1))
        .unwrap();
    assert!(matches!(
        with_map.run(&mut []),
        Err(Fault::OutOfBounds { pc: 2, .. })
    ));
    let func = vm("r1 = func(+2) ll\nr0 = *(u8 *)(r1 + 0)\nexit\nexit").run(&mut []);
    assert!(matches!(func, Err(Fault::OutOfBounds { pc: 2, .. })));
}

#[test]
fn unaligned_access() {
    // In bounds, unaligned loads read the right bytes (x86-64 and arm64 JITs allow them too)...
    let mut input: Vec<u8> = (0..16).collect();
    assert_eq!(
        vm("r0 = *(u32 *)(r1 + 1)\nexit").run(&mut input),
        Ok(0x0403_0201)
    );
    // ...straddling the end they fault...
    assert!(matches!(
        vm("r0 = *(u64 *)(r1 + 9)\nexit").run(&mut input),
        Err(Fault::OutOfBounds { .. })
    ));
    // ...and with strict alignment every misaligned access faults.
    let mut strict = vm("r0 = *(u32 *)(r1 + 2)\nexit");
    strict.set_strict_alignment(true);
    assert_eq!(
        strict.run(&mut input),
        Err(Fault::Misaligned {
            pc: 0,
            addr: region_base(INPUT_REGION) + 2,
            size: 4,
            access: Access::Read
        })
    );
    let mut aligned = vm("r0 = *(u32 *)(r1 + 4)\n*(u16 *)(r10 - 2) = 1\nexit");
    aligned.set_strict_alignment(true);
    assert_eq!(aligned.run(&mut input), Ok(0x0706_0504));
}

#[test]
fn jumps_out_of_the_program_are_rejected_at_load() {
    assert_eq!(
        load_error("goto +1\nexit"),
        LoadError::JumpOutOfRange {
            pc: 0,
            target: 2,
            len: 2
        }
    );
    assert_eq!(
        load_error("goto -2\nexit"),
        LoadError::JumpOutOfRange {
            pc: 0,
            target: -1,
            len: 2
        }
    );
    assert_eq!(
        load_error("if r1 == 0 goto +5\nexit"),
        LoadError::JumpOutOfRange {
            pc: 0,
            target: 6,
            len: 2
        }
    );
    assert_eq!(
        load_error("gotol +9\nexit"),
        LoadError::JumpOutOfRange {
            pc: 0,
            target: 10,
            len: 2
        }
    );
    assert_eq!(
        load_error("call +3\nexit"),
        LoadError::JumpOutOfRange {
            pc: 0,
            target: 4,
            len: 2
        }
    );
    assert_eq!(
        load_error("goto +1\nr0 = 1 ll\nexit"),
        LoadError::JumpIntoLddw { pc: 0, target: 2 }
    );
    assert_eq!(
        load_error("r0 = 1\nif r0 == 1 goto -2"),
        LoadError::FallsOffEnd { pc: 1 }
    );
    assert_eq!(Vm::new(&[]).unwrap_err(), LoadError::Empty);
}

#[test]
fn calls_to_nothing_fault() {
    assert_eq!(
        vm("call 99\nexit").run(&mut []),
        Err(Fault::UnknownHelper { pc: 0, id: 99 })
    );
    assert_eq!(
        vm("r2 = 77\ncallx r2\nexit").run(&mut []),
        Err(Fault::UnknownHelper { pc: 1, id: 77 })
    );
    assert_eq!(
        vm("call kfunc(1234)\nexit").run(&mut []),
        Err(Fault::Kfunc {
            pc: 0,
            btf_id: 1234
        })
    );
    let mut bad_map = vm("r1 = 5\nr2 = r10\nr2 += -4\ncall 1\nexit");
    assert!(matches!(
        bad_map.run(&mut []),
        Err(Fault::Helper { pc: 3, id: 1, .. })
    ));
}

#[test]
fn map_value_edges() {
    // Look up the only key of an array of 12-byte values, then access the value at its edges.
    // (A map's region is its whole value array: with more entries, reading past one value
    // reaches the next, still inside the map.)
    let prelude = "*(u32 *)(r10 - 4) = 0\nr1 = map_fd(0) ll\nr2 = r10\nr2 += -4\ncall 1\nif r0 == 0 goto +2\n";
    for (access, expect_ok) in [
        ("r0 = *(u32 *)(r0 + 8)", true),
        ("r0 = *(u32 *)(r0 + 9)", false),
        ("r0 = *(u8 *)(r0 - 1)", false),
    ] {
        let mut v = vm(&format!("{prelude}{access}\nexit\nexit"));
        let map = v.create_map(MapDef::new(MapType::ARRAY, 4, 12, 1)).unwrap();
        v.map_mut(map)
            .unwrap()
            .update(
                &0u32.to_le_bytes(),
                &[1, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0],
                0,
            )
            .unwrap();
        let r = v.run(&mut []);
        if expect_ok {
            assert_eq!(r, Ok(3), "{access}");
        } else {
            assert!(
                matches!(r, Err(Fault::OutOfBounds { pc: 7, .. })),
                "{access}: {r:?}"
            );
        }
    }
}

/// Tail calls: a program that tail-calls itself runs 1 + 33 times in all, as the kernel's
/// MAX_TAIL_CALL_CNT allows 33 tail calls per run; then the call falls through (or faults).
#[test]
fn tail_call_limit() {
    // Program 1 counts its runs in map 1 and tail-calls itself through slot 0 of map 0.
    let looping = "r6 = r1\n*(u32 *)(r10 - 4) = 0\nr1 = map_fd(1) ll\nr2 = r10\nr2 += -4\ncall 1\n\
                   if r0 == 0 goto +6\nr1 = 1\nlock *(u64 *)(r0 + 0) += r1\n\
                   r1 = r6\nr2 = map_fd(0) ll\nr3 = 0\ncall 12\n\
                   *(u32 *)(r10 - 4) = 0\nr1 = map_fd(1) ll\nr2 = r10\nr2 += -4\ncall 1\n\
                   if r0 == 0 goto +1\nr0 = *(u64 *)(r0 + 0)\nexit";
    for overflow in [TailCallOverflow::FallThrough, TailCallOverflow::Fault] {
        let mut v = vm("r2 = map_fd(0) ll\nr3 = 0\ncall 12\nr0 = 0xdead\nexit");
        let prog = bpfkit_vm::Program::new(&assemble(looping, Dialect::Llvm).unwrap()).unwrap();
        let target = v.add_program(prog);
        let array = v
            .create_map(MapDef::new(MapType::PROG_ARRAY, 4, 4, 1))
            .unwrap();
        v.create_map(MapDef::new(MapType::ARRAY, 4, 8, 1)).unwrap();
        v.map_mut(array)
            .unwrap()
            .set_program(0, Some(target))
            .unwrap();
        v.set_tail_call_overflow(overflow);
        match overflow {
            TailCallOverflow::FallThrough => assert_eq!(v.run(&mut []), Ok(33)),
            TailCallOverflow::Fault => assert_eq!(
                v.run(&mut []),
                Err(Fault::TailCallLimit { pc: 14, max: 33 })
            ),
        }
    }
    // An empty slot or an index past the end falls through to the next instruction.
    let mut empty = vm("r2 = map_fd(0) ll\nr3 = 5\ncall 12\nr0 = 7\nexit");
    empty
        .create_map(MapDef::new(MapType::PROG_ARRAY, 4, 4, 8))
        .unwrap();
    assert_eq!(empty.run(&mut []), Ok(7));
}

#[test]
fn budget() {
    let mut spin = vm("goto -1\nexit");
    spin.set_budget(Some(1000));
    assert_eq!(
        spin.run(&mut []),
        Err(Fault::Budget {
            pc: 0,
            budget: 1000
        })
    );
    let mut short = vm("r0 = 1\nr0 += 1\nexit");
    short.set_budget(Some(3));
    assert_eq!(short.run(&mut []), Ok(2));
    short.set_budget(Some(2));
    assert_eq!(short.run(&mut []), Err(Fault::Budget { pc: 2, budget: 2 }));
}

/// Every frame starts zeroed in every run, whatever the previous run left there, and a caller
/// may read its callee's frame through a pointer (the next region up).
#[test]
fn frames_start_zeroed_in_every_run() {
    // Once a call has entered it, the caller may read it through a pointer.
    let after_call = "call +5
r1 = 0x100000000 ll
r1 += r10
r0 = *(u64 *)(r1 - 8)
exit
                      *(u64 *)(r10 - 8) = 77
exit";
    assert_eq!(vm(after_call).run(&mut []), Ok(77));
    // The callee reads its slot before writing it: zero in every run, not the last run's 5.
    let mut callee = vm("*(u64 *)(r10 - 8) = 9
call +1
exit
r0 = *(u64 *)(r10 - 8)
*(u64 *)(r10 - 8) = 5
exit");
    assert_eq!(callee.run(&mut []), Ok(0));
    assert_eq!(
        callee.run(&mut []),
        Ok(0),
        "frame 1 is zeroed again on the second run"
    );
    let mut main_frame = vm("r0 = *(u64 *)(r10 - 8)
*(u64 *)(r10 - 8) = 3
exit");
    assert_eq!(main_frame.run(&mut []), Ok(0));
    assert_eq!(
        main_frame.run(&mut []),
        Ok(0),
        "frame 0 is zeroed again on the second run"
    );
}

/// A helper's size argument comes from the program: 4 GiB must fault on the region it names,
/// not be allocated first (found by the jit_vs_interp fuzz target as an out-of-memory abort).
#[test]
fn helper_sizes_are_checked_against_the_region_before_anything_is_allocated() {
    // bpf_get_current_comm(r10 - 16, 0xffffffff)
    let mut v = vm("r1 = r10\nr1 += -16\nr2 = 0xffffffff ll\ncall 16\nexit");
    let addr = frame_pointer(0) - 16;
    assert_eq!(
        v.run(&mut [0u8; 8]),
        Err(Fault::OutOfBounds {
            pc: 4, // the call's slot: lddw takes two
            addr,
            size: 0xffff_ffff,
            access: Access::Write
        })
    );
    // The same call with the frame's 16 bytes writes the name as strscpy_pad does: at most
    // 15 bytes (TASK_COMM_LEN is 16), then NUL.
    let mut ok = vm("r1 = r10\nr1 += -16\nr2 = 16\ncall 16\nr0 = *(u64 *)(r10 - 8)\nexit");
    ok.host_mut().comm = "a-much-longer-task-name".into();
    assert_eq!(ok.run(&mut [0u8; 8]), Ok(u64::from_le_bytes(*b"onger-t\0")));
}

//! Trusted mode: host pointers, no checks. Only programs that are memory-safe for their
//! inputs run here (the contract of `Jit::new_trusted`): the conformance programs that are
//! expected to return a result, and hand-written programs that use maps, helpers with pointer
//! arguments and tail calls. The kernel differential test (bpfkit-sys) also runs every program
//! the kernel's verifier accepted in trusted mode.

use std::path::Path;

use bpfkit_asm::assemble;
use bpfkit_asm::conformance::TestFile;
use bpfkit_isa::Dialect;
use bpfkit_jit::{Jit, Mode};
use bpfkit_vm::{MapDef, MapType, Program, Vm};

fn trusted(vm: Vm) -> Jit {
    // SAFETY: every program these tests run stays inside its input, its frame and the map
    // values it looks up (checked first on the interpreter, which faults otherwise).
    let jit = unsafe { Jit::new_trusted(vm) }.unwrap();
    assert_eq!(jit.mode(), Mode::Trusted);
    jit
}

#[test]
fn conformance_programs_with_results() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../testdata/conformance/tests");
    let mut paths: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    paths.sort();
    let mut ran = 0;
    for path in &paths {
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        let file = TestFile::parse(&std::fs::read_to_string(path).unwrap()).unwrap();
        let (Some(expected), None) = (file.result, &file.error) else {
            continue;
        };
        let bytes = file.program().unwrap();
        let vm = || {
            let mut vm = Vm::from_bytes(&bytes).unwrap();
            vm.register_helper(5, |_, args| Ok(args[0]));
            vm
        };
        // The interpreter first: a program that faults there is not memory-safe and must not
        // run trusted.
        let mut mem = file.mem.clone();
        assert_eq!(
            vm().run(&mut mem),
            Ok(expected),
            "{name} on the interpreter"
        );
        let mut mem = file.mem.clone();
        assert_eq!(trusted(vm()).run(&mut mem), Ok(expected), "{name}");
        ran += 1;
    }
    assert!(ran > 280, "only {ran} conformance programs have results");
}

#[test]
fn maps_helpers_and_tail_calls_with_host_pointers() {
    // Count into an array map's value through a looked-up pointer, pass a stack pointer and
    // the value pointer to a helper, then tail-call program 1, which reads the map again
    // through `map_value` and the input through r1.
    let main = "*(u32 *)(r10 - 4) = 0\n\
                r6 = r1\n\
                r1 = map_fd(0) ll\n\
                r2 = r10\n\
                r2 += -4\n\
                call 1\n\
                if r0 == 0 goto +12\n\
                r1 = *(u64 *)(r0 + 0)\n\
                r1 += 40\n\
                *(u64 *)(r0 + 0) = r1\n\
                r1 = r0\n\
                r2 = r10\n\
                r2 += -4\n\
                call 6\n\
                r1 = r6\n\
                r2 = map_fd(1) ll\n\
                r3 = 0\n\
                call 12\n\
                r0 = 1\n\
                exit";
    let next = "r0 = map_value(0, 0) ll\n\
                r0 = *(u64 *)(r0 + 0)\n\
                r2 = *(u8 *)(r1 + 1)\n\
                r0 += r2\n\
                exit";
    let mut vm = Vm::new(&assemble(main, Dialect::Llvm).unwrap()).unwrap();
    let next = vm.add_program(Program::new(&assemble(next, Dialect::Llvm).unwrap()).unwrap());
    let counters = vm.create_map(MapDef::new(MapType::ARRAY, 4, 8, 1)).unwrap();
    let progs = vm
        .create_map(MapDef::new(MapType::PROG_ARRAY, 4, 4, 1))
        .unwrap();
    vm.map_mut(progs)
        .unwrap()
        .set_program(0, Some(next))
        .unwrap();
    // Helper 6 gets virtual addresses (translated from the program's host pointers): it adds
    // the u32 at its second argument (the key, 0) plus 2 to the u64 at its first.
    vm.register_helper(6, |env, args| {
        let key = u32::from_le_bytes(env.read(args[1], 4)?.try_into().unwrap());
        let value = u64::from_le_bytes(env.read(args[0], 8)?.try_into().unwrap());
        env.write(args[0], &(value + key as u64 + 2).to_le_bytes())?;
        Ok(0)
    });
    let mut jit = trusted(vm);
    for round in 1..=3u64 {
        assert_eq!(jit.run(&mut [0, 100, 0]), Ok(42 * round + 100));
    }
    let value = jit
        .vm()
        .map(counters)
        .unwrap()
        .lookup(&0u32.to_le_bytes())
        .unwrap();
    assert_eq!(value, 126u64.to_le_bytes());
}

#[test]
fn r10_and_r1_are_host_pointers() {
    let prog = assemble("r0 = r10\nr0 -= r1\nexit", Dialect::Llvm).unwrap();
    let mut input = [0u8; 8];
    let host = input.as_ptr() as u64;
    let r0 = trusted(Vm::new(&prog).unwrap()).run(&mut input).unwrap();
    // Not the virtual addresses: r10 is a host stack address, r1 the input's host address.
    assert_ne!(r0, bpfkit_vm::memory::frame_pointer(0).wrapping_sub(host));
    let prog = assemble("r0 = r1\nexit", Dialect::Llvm).unwrap();
    assert_eq!(trusted(Vm::new(&prog).unwrap()).run(&mut input), Ok(host));
}

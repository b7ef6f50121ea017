//! Runs of programs that never call into the runtime (no helper, tail call or legacy packet
//! load) skip building the run's address space and refresh only the region table entries that
//! change: the input and the map values. Run after run, with inputs that move and change size
//! and maps changed from userspace in between, such runs must see the memory the interpreter
//! sees, and fault where and as it faults.

use bpfkit_asm::assemble;
use bpfkit_isa::Dialect;
use bpfkit_jit::{Atomics, Jit};
use bpfkit_vm::{MapDef, MapId, MapType, Vm};

/// A VM running `source` with two array maps of one value each: map 0 of 16 bytes, map 1 of
/// 8 bytes.
fn vm(source: &str) -> Vm {
    let insns = assemble(source, Dialect::Llvm).unwrap_or_else(|e| panic!("{e}\n{source}"));
    let mut vm = Vm::new(&insns).unwrap_or_else(|e| panic!("{e}\n{source}"));
    vm.create_map(MapDef::new(MapType::ARRAY, 4, 16, 1))
        .unwrap();
    vm.create_map(MapDef::new(MapType::ARRAY, 4, 8, 1)).unwrap();
    vm
}

fn set_value(vm: &mut Vm, map: u32, value: &[u8]) {
    vm.map_mut(MapId(map))
        .unwrap()
        .update(&0u32.to_le_bytes(), value, 0)
        .unwrap();
}

/// Runs `source` on the interpreter and the checked JIT on each input in turn, changing map 0's
/// value before each run; results, inputs and maps must agree after every run.
fn agree(source: &str, inputs: &[Vec<u8>]) {
    let mut interp = vm(source);
    let mut jit = Jit::new(vm(source)).unwrap();
    for (i, input) in inputs.iter().enumerate() {
        let value = [i as u8 + 1; 16];
        set_value(&mut interp, 0, &value);
        jit.configure(|vm| set_value(vm, 0, &value)).unwrap();
        let (mut a, mut b) = (input.clone(), input.clone());
        let expected = interp.run(&mut a);
        let got = jit.run(&mut b);
        assert_eq!(got, expected, "run {i} of\n{source}");
        assert_eq!(b, a, "input after run {i} of\n{source}");
        for map in [0, 1] {
            let value = |v: &Vm| v.map(MapId(map)).unwrap().lookup(&[0; 4]).unwrap().to_vec();
            assert_eq!(value(jit.vm()), value(&interp), "map {map} after run {i}");
        }
    }
}

/// Inputs of several sizes (so the input region moves and changes length), empty included.
fn inputs() -> Vec<Vec<u8>> {
    vec![
        vec![1; 16],
        vec![2; 4],
        vec![],
        (0..64).collect(),
        vec![3; 8],
        vec![4; 16],
    ]
}

#[test]
fn the_input_is_where_and_as_long_as_this_run_says() {
    // The last byte of the input, by r2; a store there; then a load of 8 bytes at offset 8,
    // which faults on the short inputs (and r1 is 0 for the empty one).
    agree(
        "r3 = r1\nr3 += r2\nr0 = *(u8 *)(r3 - 1)\nr0 += 1\n*(u8 *)(r3 - 1) = r0\n\
         r4 = *(u64 *)(r1 + 8)\nr0 += r4\nexit",
        &inputs(),
    );
}

#[test]
fn map_values_are_read_and_written_as_userspace_left_them() {
    agree(
        "r1 = map_value(0, 0) ll\nr0 = *(u64 *)(r1 + 8)\nr2 = *(u8 *)(r1 + 15)\nr0 += r2\n\
         r2 = map_value(1, 0) ll\nr3 = *(u64 *)(r2 + 0)\nr3 += 1\n*(u64 *)(r2 + 0) = r3\n\
         r0 += r3\nexit",
        &inputs(),
    );
    // One byte past each value faults, on the interpreter and the JIT alike.
    agree(
        "r1 = map_value(0, 0) ll\nr0 = *(u8 *)(r1 + 16)\nexit",
        &inputs(),
    );
    agree(
        "r1 = map_value(1, 0) ll\nr0 = 1\n*(u8 *)(r1 + 8) = r0\nexit",
        &inputs(),
    );
}

#[test]
fn stores_into_empty_regions_fault_as_on_the_interpreter() {
    // Region 0, the map handles, the subprogram addresses, the packet and the scratch region
    // hold no bytes in a raw run: a store to any of them is out of bounds.
    for region in [0u64, 10, 11, 12, 13] {
        let source = format!(
            "r1 = {} ll\nr0 = 7\n*(u8 *)(r1 + 0) = r0\nexit",
            region << 32
        );
        agree(&source, &inputs());
        let source = format!("r1 = {} ll\nr0 = *(u8 *)(r1 + 0)\nexit", region << 32);
        agree(&source, &inputs());
    }
}

#[test]
fn trusted_runs_see_the_input_and_map_values_of_this_run() {
    // Reads the input's first byte and map 0's first byte (both always there in these runs).
    let source = "r0 = *(u8 *)(r1 + 0)\nr2 = map_value(0, 0) ll\nr3 = *(u8 *)(r2 + 0)\n\
                  r0 <<= 8\nr0 |= r3\nexit";
    // SAFETY: the program reads one byte of its input (every input below has one) and one
    // byte of map 0's 16-byte value.
    let mut jit = unsafe { Jit::new_trusted(vm(source)) }.unwrap();
    for (i, len) in [1usize, 64, 3, 4096, 2].into_iter().enumerate() {
        let mut input = vec![0x40 + i as u8; len];
        jit.configure(|vm| set_value(vm, 0, &[i as u8 + 1; 16]))
            .unwrap();
        let expected = ((0x40 + i as u64) << 8) | (i as u64 + 1);
        assert_eq!(jit.run(&mut input), Ok(expected), "run {i}");
    }
}

/// Makes the same change to the interpreter's VM and the JIT's (through [`Jit::configure`]),
/// then runs program 0 of both on `input`: results, inputs and map 0's value must agree.
/// Returns the interpreter's result.
fn step<R>(
    interp: &mut Vm,
    jit: &mut Jit,
    change: impl Fn(&mut Vm) -> R,
    input: &[u8],
    what: &str,
) -> Result<u64, bpfkit_vm::Fault> {
    change(interp);
    jit.configure(change).unwrap();
    let (mut a, mut b) = (input.to_vec(), input.to_vec());
    let expected = interp.run(&mut a);
    assert_eq!(jit.run(&mut b), expected, "{what}");
    assert_eq!(b, a, "input after {what}");
    let value = |v: &Vm| v.map(MapId(0)).unwrap().lookup(&[0; 4]).unwrap().to_vec();
    assert_eq!(value(jit.vm()), value(interp), "map 0 after {what}");
    expected
}

#[test]
fn a_budget_changed_between_runs_is_the_next_runs_budget() {
    // 42 instructions: the budget runs out exactly below 42, and changing it between runs on
    // or off recompiles, while changing its size does not.
    let source = "r0 = 0\nloop:\nr0 += 1\nif r0 < 20 goto loop\nexit";
    let (mut interp, mut jit) = (vm(source), Jit::new(vm(source)).unwrap());
    let budgets = [
        Some(1000),
        Some(30),
        Some(42),
        Some(41),
        Some(1000),
        None,
        Some(5),
    ];
    let mut outcomes = Vec::new();
    for budget in budgets {
        let set = |vm: &mut Vm| {
            vm.set_budget(budget);
        };
        let what = format!("a run with budget {budget:?}");
        outcomes.push(step(&mut interp, &mut jit, set, &[1; 8], &what).is_ok());
    }
    assert_eq!(outcomes, [true, false, true, false, true, true, false]);
}

#[test]
fn a_map_added_between_runs_is_in_the_next_runs_table() {
    // Reads and increments the first word of map 2's values by its address (region 16), which
    // is no region until the map is added.
    let source = "r1 = 0x1000000000 ll\nr0 = *(u64 *)(r1 + 0)\nr0 += 1\n\
                  *(u64 *)(r1 + 0) = r0\nexit";
    let (mut interp, mut jit) = (vm(source), Jit::new(vm(source)).unwrap());
    let nothing = |_: &mut Vm| {};
    assert!(
        step(
            &mut interp,
            &mut jit,
            nothing,
            &[1; 8],
            "a run before map 2"
        )
        .is_err()
    );
    let add = |vm: &mut Vm| {
        vm.create_map(MapDef::new(MapType::ARRAY, 4, 8, 1)).unwrap();
    };
    assert_eq!(
        step(&mut interp, &mut jit, add, &[1; 8], "a run with map 2"),
        Ok(1)
    );
    assert_eq!(
        step(&mut interp, &mut jit, nothing, &[1; 8], "a second run"),
        Ok(2)
    );
    let set = |vm: &mut Vm| {
        vm.map_mut(MapId(2))
            .unwrap()
            .update(&0u32.to_le_bytes(), &[9, 0, 0, 0, 0, 0, 0, 0], 0)
            .unwrap()
    };
    assert_eq!(
        step(&mut interp, &mut jit, set, &[1; 8], "a run after an update"),
        Ok(10)
    );
}

#[test]
fn a_map_replaced_between_runs_is_the_one_the_next_run_reads() {
    // The replaced map is kept alive, so its values stay where they were (with what it held):
    // a run that used its table entry from before would read them.
    let source = "r1 = map_value(0, 0) ll\nr0 = *(u64 *)(r1 + 0)\nr2 = r0\nr2 += 1\n\
                  *(u64 *)(r1 + 0) = r2\nexit";
    let (mut interp, mut jit) = (vm(source), Jit::new(vm(source)).unwrap());
    let nothing = |_: &mut Vm| {};
    let mut replaced = Vec::new();
    for round in 0..3u8 {
        assert!(step(&mut interp, &mut jit, nothing, &[1; 8], "a run").is_ok());
        let fresh = || {
            let mut map = bpfkit_vm::Map::new(MapDef::new(MapType::ARRAY, 4, 16, 1)).unwrap();
            map.update(&0u32.to_le_bytes(), &[0x10 * (round + 1); 16], 0)
                .unwrap();
            map
        };
        let replace = |vm: &mut Vm| std::mem::replace(vm.map_mut(MapId(0)).unwrap(), fresh());
        replace(&mut interp);
        replaced.push(jit.configure(replace).unwrap());
        let what = format!("a run after replacing map 0 ({round})");
        let expected = u64::from_le_bytes([0x10 * (round + 1); 8]);
        assert_eq!(
            step(&mut interp, &mut jit, nothing, &[1; 8], &what),
            Ok(expected)
        );
    }
}

#[test]
fn a_vm_swapped_in_between_runs_is_the_one_the_next_run_uses() {
    // Writes its frame and reads map 0's value; each VM swapped in has map 0 of another value
    // and a stack elsewhere (the VM it replaced is kept alive), and the stack reads as zero.
    let source = "r0 = *(u64 *)(r10 - 8)\n*(u64 *)(r10 - 8) = r10\nr1 = map_value(0, 0) ll\n\
                  r2 = *(u64 *)(r1 + 0)\nr0 += r2\nexit";
    let (mut interp, mut jit) = (vm(source), Jit::new(vm(source)).unwrap());
    let mut old = Vec::new();
    for round in 0..3u8 {
        let fresh = || {
            let mut vm = vm(source);
            set_value(&mut vm, 0, &[round + 1; 16]);
            vm
        };
        let swap = |vm: &mut Vm| std::mem::replace(vm, fresh());
        swap(&mut interp);
        old.push(jit.configure(swap).unwrap());
        let expected = u64::from_le_bytes([round + 1; 8]);
        let nothing = |_: &mut Vm| {};
        for run in 0..2 {
            let what = format!("run {run} of VM {round}");
            assert_eq!(
                step(&mut interp, &mut jit, nothing, &[1; 8], &what),
                Ok(expected)
            );
        }
    }
}

#[test]
fn runs_through_the_runtime_and_direct_runs_take_turns() {
    // Program 0 calls nothing; adding program 1, which calls a helper, makes every run go
    // through the runtime (which writes the whole context its own way); swapping a VM without
    // it back in makes runs direct again.
    let source = "r0 = *(u8 *)(r1 + 0)\n*(u64 *)(r10 - 8) = r0\nr1 = map_value(0, 0) ll\n\
                  r2 = *(u8 *)(r1 + 0)\nr0 += r2\n*(u8 *)(r1 + 0) = r0\nexit";
    let (mut interp, mut jit) = (vm(source), Jit::new(vm(source)).unwrap());
    let helper = assemble("call 5\nr0 = 0\nexit", Dialect::Llvm).unwrap();
    let mut old = Vec::new();
    for round in 0..3u8 {
        let nothing = |_: &mut Vm| {};
        let input = [round + 1; 4];
        let result = step(&mut interp, &mut jit, nothing, &input, "a direct run");
        assert!(result.is_ok());
        let add = |vm: &mut Vm| {
            vm.add_program(bpfkit_vm::Program::new(&helper).unwrap());
        };
        let result = step(
            &mut interp,
            &mut jit,
            add,
            &input,
            "a run through the runtime",
        );
        assert!(result.is_ok());
        let result = step(&mut interp, &mut jit, nothing, &input, "another");
        assert!(result.is_ok());
        let swap = |vm: &mut Vm| std::mem::replace(vm, self::vm(source));
        swap(&mut interp);
        old.push(jit.configure(swap).unwrap());
        let result = step(&mut interp, &mut jit, nothing, &input, "a direct run again");
        assert!(result.is_ok());
    }
}

#[test]
fn runs_after_recompiling_for_other_atomics_enter_the_new_code() {
    // `set_atomics` replaces the code (on every architecture) while the VM stays: a run must
    // enter the new code, not the dropped one (debug builds also check the entry on every
    // run). No `configure` in between, which would start the next run afresh anyway.
    let source = "r1 = map_value(0, 0) ll\nr2 = 3\nlock *(u64 *)(r1 + 0) += r2\n\
                  r0 = *(u64 *)(r1 + 0)\nexit";
    let (mut interp, mut jit) = (vm(source), Jit::new(vm(source)).unwrap());
    let run = |interp: &mut Vm, jit: &mut Jit, what: &str| {
        let (mut a, mut b) = ([1; 8], [1; 8]);
        let expected = interp.run(&mut a);
        assert!(expected.is_ok(), "{what}");
        assert_eq!(jit.run(&mut b), expected, "{what}");
    };
    for atomics in [Atomics::LlSc, Atomics::Detect, Atomics::LlSc] {
        run(
            &mut interp,
            &mut jit,
            &format!("a run before set_atomics({atomics:?})"),
        );
        jit.set_atomics(atomics).unwrap();
        run(
            &mut interp,
            &mut jit,
            &format!("a run after set_atomics({atomics:?})"),
        );
    }
}

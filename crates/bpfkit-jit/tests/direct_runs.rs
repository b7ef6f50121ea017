//! Runs of programs that never call into the runtime (no helper, tail call or legacy packet
//! load) skip building the run's address space and refresh only the region table entries that
//! change: the input and the map values. Run after run, with inputs that move and change size
//! and maps changed from userspace in between, such runs must see the memory the interpreter
//! sees, and fault where and as it faults.

use bpfkit_asm::assemble;
use bpfkit_isa::Dialect;
use bpfkit_jit::Jit;
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

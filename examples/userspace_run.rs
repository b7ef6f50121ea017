//! Run an eBPF program in userspace: assemble it, give it a helper and a map, run it over a
//! packet, and read the map afterwards. No kernel, no root.
//!
//! `cargo run --example userspace_run`

use bpfkit::asm::assemble;
use bpfkit::isa::Dialect;
use bpfkit::vm::{MapDef, MapType, Vm};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // Count the packet's bytes above 0x7f in map slot 0, then return helper 0x1000(count).
    let source = r#"
        r6 = r1                 # packet
        r7 = r2                 # length
        r8 = 0                  # count
        r9 = 0                  # index
    loop:
        if r9 >= r7 goto done
        r1 = r6
        r1 += r9
        r2 = *(u8 *)(r1 + 0)
        r9 += 1
        if r2 <= 0x7f goto loop
        r8 += 1
        goto loop
    done:
        *(u32 *)(r10 - 4) = 0   # key 0
        *(u64 *)(r10 - 16) = r8 # value
        r1 = map_fd(0) ll
        r2 = r10
        r2 += -4
        r3 = r10
        r3 += -16
        r4 = 0
        call 2                  # bpf_map_update_elem
        r1 = r8
        call 0x1000             # our own helper
        exit
    "#;
    let insns = assemble(source, Dialect::Llvm)?;
    let mut vm = Vm::new(&insns)?;
    let counts = vm.create_map(MapDef::new(MapType::ARRAY, 4, 8, 1))?;
    vm.register_helper(0x1000, |_env, args| Ok(args[0] * 100));

    let mut packet = [0x01, 0x80, 0xff, 0x7f, 0x90, 0x00];
    let r0 = vm.run(&mut packet)?;
    let stored = vm
        .map(counts)
        .and_then(|m| m.lookup(&0u32.to_le_bytes()))
        .expect("slot 0 exists");
    println!(
        "r0 = {r0}, map[0] = {}",
        u64::from_le_bytes(stored.try_into()?)
    );
    assert_eq!(r0, 300);

    // A program that was never verified faults instead of reading past its memory.
    let oob = assemble("r0 = *(u64 *)(r1 + 4)\nexit", Dialect::Llvm)?;
    let err = Vm::new(&oob)?.run(&mut packet).unwrap_err();
    println!("fault: {err}");
    Ok(())
}

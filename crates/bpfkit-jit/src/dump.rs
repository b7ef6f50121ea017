//! `--dump-jit`: the machine code of each program, each eBPF instruction above the code it
//! became, then the out-of-line code. Branch targets are shown as code offsets.

use std::fmt::Write as _;

use bpfkit_isa::Dialect;
use bpfkit_vm::{ProgId, Vm};

use crate::compile::Code;

/// The listing of `code`, compiled from `vm`.
pub fn dump(code: &Code, vm: &Vm) -> String {
    let bytes = code.bytes();
    #[cfg(target_arch = "x86_64")]
    let lines = crate::x86::disassemble(bytes, 0);
    #[cfg(target_arch = "aarch64")]
    let lines = crate::aarch64::disassemble(bytes, 0);
    #[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
    let lines: Vec<(usize, String)> = Vec::new();
    let mut out = String::new();
    let mut next = lines.iter().peekable();
    let mut print_until = |out: &mut String, end: usize| {
        while let Some((offset, text)) = next.next_if(|(offset, _)| *offset < end) {
            let _ = writeln!(out, "    {offset:05x}  {text}");
        }
    };
    let _ = writeln!(
        out,
        "; {} bytes of {} code, {} mode, compiled in {:.1?}",
        bytes.len(),
        std::env::consts::ARCH,
        code.options().mode,
        code.compile_time()
    );
    out.push_str("; entry trampoline\n");
    for id in 0..code.program_count() {
        let id = ProgId(id as u32);
        let offsets = code.instruction_offsets(id);
        if let Some(&(_, start)) = offsets.first() {
            print_until(&mut out, start);
        }
        let _ = writeln!(out, "; program {}", id.0);
        let program = vm.program(id);
        for &(pc, offset) in offsets {
            print_until(&mut out, offset);
            let text = program
                .and_then(|p| p.insn_at(pc))
                .map(|insn| insn.display(Dialect::Llvm).to_string())
                .unwrap_or_default();
            let _ = writeln!(out, "{pc:4}: {text}");
        }
        if let Some(start) = code.duplicates_offset(id) {
            print_until(&mut out, start);
            let _ = writeln!(
                out,
                "; program {}: its grouped accesses again, each checked on its own (where a group's range check fails)",
                id.0
            );
        }
        if let Some(start) = code.loops_offset(id) {
            print_until(&mut out, start);
            let _ = writeln!(
                out,
                "; program {}: its loops again, the accesses their check on entry proved unchecked",
                id.0
            );
        }
        if let Some(start) = code.window_offset(id) {
            print_until(&mut out, start);
            let _ = writeln!(
                out,
                "; program {}: its code after the window's check again, the accesses proven inside the window unchecked",
                id.0
            );
        }
    }
    print_until(&mut out, code.out_of_line());
    out.push_str("; out of line: fault paths, the runtime-call stub\n");
    print_until(&mut out, usize::MAX);
    out
}

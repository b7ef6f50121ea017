//! x86_64 disassembly for `--dump-jit`, with iced-x86.

use iced_x86::{Decoder, DecoderOptions, Formatter, Instruction, IntelFormatter};

/// Each instruction of `bytes` (loaded at `ip`) as `(offset, text)`.
pub fn disassemble(bytes: &[u8], ip: u64) -> Vec<(usize, String)> {
    let mut decoder = Decoder::with_ip(64, bytes, ip, DecoderOptions::NONE);
    let mut formatter = IntelFormatter::new();
    formatter.options_mut().set_branch_leading_zeros(false);
    formatter.options_mut().set_hex_prefix("0x");
    formatter.options_mut().set_hex_suffix("");
    let mut instruction = Instruction::default();
    let mut out = Vec::new();
    while decoder.can_decode() {
        let offset = decoder.position();
        decoder.decode_out(&mut instruction);
        let mut text = String::new();
        formatter.format(&instruction, &mut text);
        out.push((offset, text));
    }
    out
}

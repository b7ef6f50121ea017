//! aarch64 disassembly for `--dump-jit`, with yaxpeax-arm (pure Rust, so it runs on any host).

use yaxpeax_arch::{Decoder, U8Reader};
use yaxpeax_arm::armv8::a64::InstDecoder;

/// Each 4-byte instruction of `bytes` (loaded at `ip`) as `(offset, text)`. Branch targets
/// are absolute (`ip` plus their offset in `bytes`), as in the x86_64 dump; a word that is no
/// instruction shows as `.word`.
pub fn disassemble(bytes: &[u8], ip: u64) -> Vec<(usize, String)> {
    let decoder = InstDecoder::default();
    bytes
        .chunks_exact(4)
        .enumerate()
        .map(|(i, word)| {
            let offset = i * 4;
            let mut reader = U8Reader::new(word);
            let text = match decoder.decode(&mut reader) {
                Ok(insn) => absolute_targets(&insn.to_string(), ip + offset as u64),
                Err(_) => format!(
                    ".word {:#010x}",
                    u32::from_le_bytes(word.try_into().expect("4 bytes"))
                ),
            };
            (offset, text)
        })
        .collect()
}

/// Rewrites yaxpeax's relative branch targets (`$+0x10`, `$-0x8`) as absolute addresses.
fn absolute_targets(text: &str, at: u64) -> String {
    let Some(dollar) = text.find('$') else {
        return text.to_string();
    };
    let rest = &text[dollar + 1..];
    let (sign, digits) = match rest.as_bytes().first() {
        Some(b'+') => (1i64, &rest[1..]),
        Some(b'-') => (-1i64, &rest[1..]),
        _ => return text.to_string(),
    };
    let hex = digits.trim_start_matches("0x");
    let end = hex
        .find(|c: char| !c.is_ascii_hexdigit())
        .unwrap_or(hex.len());
    let Ok(delta) = i64::from_str_radix(&hex[..end], 16) else {
        return text.to_string();
    };
    let target = at.wrapping_add((sign * delta) as u64);
    format!("{}{target:#x}{}", &text[..dollar], &hex[end..])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn branch_targets_become_absolute() {
        // b +16 at 0x100, b.ne -8 at 0x104, and a word that is no instruction.
        let words = [0x1400_0004u32, 0x54ff_ffc1, 0xffff_ffff];
        let bytes: Vec<u8> = words.iter().flat_map(|w| w.to_le_bytes()).collect();
        let lines = disassemble(&bytes, 0x100);
        assert_eq!(lines[0], (0, "b 0x110".to_string()));
        assert_eq!(lines[1], (4, "b.ne 0xfc".to_string()));
        assert_eq!(lines[2], (8, ".word 0xffffffff".to_string()));
    }
}

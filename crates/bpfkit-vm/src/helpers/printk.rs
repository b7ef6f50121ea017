//! `bpf_trace_printk`: the kernel's format checks (`bpf_bprintf_prepare`) and its `vsnprintf`
//! formatting, with the output captured in [`Host::trace`](crate::Host::trace) instead of the
//! trace pipe.

use super::{HelperEnv, neg};
use crate::fault::Fault;
use crate::host::Host;
use crate::maps::libc_errno::EINVAL;

type Args = [u64; 5];

/// `MAX_BPRINTF_BUF`: the formatted text is cut to this many bytes (with the NUL).
const MAX_BUF: usize = 1024;
/// `MAX_TRACE_PRINTK_VARARGS`.
const MAX_ARGS: usize = 3;

/// `bpf_trace_printk(fmt, fmt_size, arg1, arg2, arg3)`: the length of the formatted text, or
/// `-EINVAL` for a format the kernel refuses.
pub(super) fn trace_printk(env: &mut HelperEnv<'_, '_, '_>, a: Args) -> Result<u64, Fault> {
    let fmt = env.read(a[0], a[1] as u32 as usize)?.to_vec();
    let Some(end) = fmt.iter().position(|&b| b == 0) else {
        return Ok(neg(EINVAL));
    };
    let args = [a[2], a[3], a[4]];
    match format(env, &fmt[..end], &args) {
        Ok(text) => {
            let len = text.len();
            let mut kept = text;
            kept.truncate(MAX_BUF - 1);
            env.host()
                .trace
                .push(String::from_utf8_lossy(&kept).into_owned());
            Ok(len as u64)
        }
        Err(()) => Ok(neg(EINVAL)),
    }
}

/// One conversion of a format.
struct Spec {
    left: bool,
    zero: bool,
    plus: bool,
    space: bool,
    width: usize,
}

impl Spec {
    fn pad(&self, body: &str, sign: &str, out: &mut Vec<u8>) {
        let len = body.len() + sign.len();
        let fill = self.width.saturating_sub(len);
        if self.left {
            out.extend_from_slice(sign.as_bytes());
            out.extend_from_slice(body.as_bytes());
            out.extend(std::iter::repeat_n(b' ', fill));
        } else if self.zero {
            out.extend_from_slice(sign.as_bytes());
            out.extend(std::iter::repeat_n(b'0', fill));
            out.extend_from_slice(body.as_bytes());
        } else {
            out.extend(std::iter::repeat_n(b' ', fill));
            out.extend_from_slice(sign.as_bytes());
            out.extend_from_slice(body.as_bytes());
        }
    }
}

fn is_print_or_space(b: u8) -> bool {
    b.is_ascii() && (b.is_ascii_graphic() || b == b' ' || (b'\t'..=b'\r').contains(&b))
}

/// Reads a NUL-terminated string for `%s` from the program's memory or the host's tables; an
/// unreadable one prints as nothing (the kernel's copy fails and leaves an empty string).
fn read_string(env: &HelperEnv<'_, '_, '_>, addr: u64) -> Vec<u8> {
    let mut out = Vec::new();
    for i in 0..MAX_BUF as u64 {
        let byte = env
            .m
            .mem
            .slice(addr + i, 1)
            .map(|b| b[0])
            .or_else(|| Host::probe(&env.m.host.kernel_memory, addr + i, 1).map(|b| b[0]))
            .or_else(|| Host::probe(&env.m.host.user_memory, addr + i, 1).map(|b| b[0]));
        match byte {
            Some(0) | None => break,
            Some(b) => out.push(b),
        }
    }
    out
}

fn read_ip(env: &HelperEnv<'_, '_, '_>, addr: u64, len: usize) -> Vec<u8> {
    env.m
        .mem
        .slice(addr, len)
        .map(<[u8]>::to_vec)
        .or_else(|| Host::probe(&env.m.host.kernel_memory, addr, len).map(<[u8]>::to_vec))
        .unwrap_or_else(|| vec![0; len])
}

/// Formats `fmt` as the kernel does, or `Err` where `bpf_bprintf_prepare` refuses it.
fn format(env: &HelperEnv<'_, '_, '_>, fmt: &[u8], args: &[u64; MAX_ARGS]) -> Result<Vec<u8>, ()> {
    let at = |i: usize| fmt.get(i).copied().unwrap_or(0);
    let mut out = Vec::new();
    let mut used = 0;
    let mut i = 0;
    while i < fmt.len() {
        let c = fmt[i];
        if !is_print_or_space(c) {
            return Err(());
        }
        if c != b'%' {
            out.push(c);
            i += 1;
            continue;
        }
        if at(i + 1) == b'%' {
            out.push(b'%');
            i += 2;
            continue;
        }
        if used >= MAX_ARGS {
            return Err(());
        }
        let arg = args[used];
        used += 1;
        i += 1;
        let mut spec = Spec {
            left: false,
            zero: false,
            plus: false,
            space: false,
            width: 0,
        };
        while matches!(at(i), b'0' | b'+' | b'-' | b' ') {
            match at(i) {
                b'0' => spec.zero = true,
                b'+' => spec.plus = true,
                b'-' => spec.left = true,
                _ => spec.space = true,
            }
            i += 1;
        }
        if (b'1'..=b'9').contains(&at(i)) {
            while at(i).is_ascii_digit() {
                spec.width = spec.width * 10 + (at(i) - b'0') as usize;
                i += 1;
            }
        }
        let after = |k: usize| at(i + k);
        let punct_or_end = |b: u8| b == 0 || b.is_ascii_whitespace() || b.is_ascii_punctuation();
        if at(i) == b'p' {
            if matches!(after(1), b'k' | b'u') && after(2) == b's' {
                if !punct_or_end(after(3)) {
                    return Err(());
                }
                spec.pad(
                    &String::from_utf8_lossy(&read_string(env, arg)),
                    "",
                    &mut out,
                );
                i += 3;
                continue;
            }
            let next = after(1);
            if punct_or_end(next) || matches!(next, b'K' | b'x' | b's' | b'S') {
                // %px prints the address; plain %p, %pK, %ps and %pS print what the kernel
                // hashes or looks up, which a test cannot depend on.
                let text = if next == b'x' {
                    format!("{arg:016x}")
                } else {
                    "(____ptrval____)".to_string()
                };
                spec.pad(&text, "", &mut out);
                i += if punct_or_end(next) { 1 } else { 2 };
                continue;
            }
            if next == b'B' {
                spec.pad("(____ptrval____)", "", &mut out);
                i += 2;
                continue;
            }
            if !matches!(next, b'i' | b'I') || !matches!(after(2), b'4' | b'6') {
                return Err(());
            }
            let text = if after(2) == b'4' {
                let ip = read_ip(env, arg, 4);
                if next == b'I' {
                    format!("{}.{}.{}.{}", ip[0], ip[1], ip[2], ip[3])
                } else {
                    format!("{:03}.{:03}.{:03}.{:03}", ip[0], ip[1], ip[2], ip[3])
                }
            } else {
                let ip = read_ip(env, arg, 16);
                let groups: Vec<String> = ip
                    .chunks(2)
                    .map(|g| format!("{:02x}{:02x}", g[0], g[1]))
                    .collect();
                groups.join(if next == b'I' { ":" } else { "" })
            };
            spec.pad(&text, "", &mut out);
            i += 3;
            continue;
        }
        if at(i) == b's' {
            if !punct_or_end(after(1)) {
                return Err(());
            }
            spec.pad(
                &String::from_utf8_lossy(&read_string(env, arg)),
                "",
                &mut out,
            );
            i += 1;
            continue;
        }
        if at(i) == b'c' {
            spec.pad(&String::from_utf8_lossy(&[arg as u8]), "", &mut out);
            i += 1;
            continue;
        }
        let mut long = false;
        if at(i) == b'l' {
            long = true;
            i += 1;
        }
        if at(i) == b'l' {
            i += 1;
        }
        let value = if long { arg } else { arg as u32 as u64 };
        let (body, sign) = match at(i) {
            b'd' | b'i' => {
                let v = if long {
                    value as i64
                } else {
                    value as u32 as i32 as i64
                };
                let sign = if v < 0 {
                    "-"
                } else if spec.plus {
                    "+"
                } else if spec.space {
                    " "
                } else {
                    ""
                };
                (v.unsigned_abs().to_string(), sign)
            }
            b'u' => (value.to_string(), ""),
            b'x' => (format!("{value:x}"), ""),
            b'X' => (format!("{value:X}"), ""),
            _ => return Err(()),
        };
        spec.pad(&body, sign, &mut out);
        i += 1;
    }
    Ok(out)
}

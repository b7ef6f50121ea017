//! `.kconfig` externs: where their values come from (the running kernel's config, or values
//! the caller gives) and how they are typed and laid out, following libbpf
//! (`bpf_object__collect_externs`, `bpf_object__process_kconfig_line`, `set_kcfg_value_*`).

use std::collections::BTreeMap;
use std::io::Read;

use bpfkit_btf::{Btf, IntEncoding, Kind, TypeId};

/// Kernel configuration values for `.kconfig` externs: `CONFIG_*` options as a kernel
/// `.config` spells them (`y`, `n`, `m`, numbers, quoted strings), plus libbpf's virtual
/// `LINUX_*` values.
///
/// ```
/// use bpfkit_relo::Kconfig;
///
/// let config = Kconfig::parse("# comment\nCONFIG_HZ=250\nCONFIG_BPF=y\nLINUX_KERNEL_VERSION=0x61200\n").unwrap();
/// assert_eq!(config.get("CONFIG_HZ"), Some("250"));
/// assert_eq!(config.get("LINUX_KERNEL_VERSION"), Some("0x61200"));
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Kconfig {
    values: BTreeMap<String, String>,
}

/// Why a kernel configuration could not be read.
#[derive(Debug, thiserror::Error)]
pub enum KconfigError {
    /// Neither `/boot/config-$(uname -r)` nor `/proc/config.gz` could be read.
    #[error(
        "cannot read the kernel's config (/boot/config-{release} or /proc/config.gz): {source}"
    )]
    Unreadable {
        /// The running kernel's release.
        release: String,
        /// The error for `/proc/config.gz`.
        source: std::io::Error,
    },
    /// A `CONFIG_` line without `=` or without a value.
    #[error("line {line}: '{text}': {reason}")]
    BadLine {
        /// 1-based line number.
        line: usize,
        /// The line.
        text: String,
        /// What is wrong.
        reason: &'static str,
    },
}

impl Kconfig {
    /// No values.
    pub fn new() -> Kconfig {
        Kconfig::default()
    }

    /// Parses a kernel `.config`: `NAME=value` lines; comments and blank lines are skipped,
    /// as are lines not starting with `CONFIG_` or `LINUX_`.
    pub fn parse(text: &str) -> Result<Kconfig, KconfigError> {
        let mut config = Kconfig::new();
        for (i, raw) in text.lines().enumerate() {
            let line = raw.trim_end();
            if !(line.starts_with("CONFIG_") || line.starts_with("LINUX_")) {
                continue;
            }
            let bad = |reason| KconfigError::BadLine {
                line: i + 1,
                text: line.to_string(),
                reason,
            };
            let (name, value) = line.split_once('=').ok_or_else(|| bad("no separator"))?;
            if value.is_empty() {
                return Err(bad("no value"));
            }
            // The first definition wins, as in libbpf.
            config
                .values
                .entry(name.to_string())
                .or_insert_with(|| value.to_string());
        }
        Ok(config)
    }

    /// The running kernel's configuration, read as libbpf reads it: `/boot/config-$(uname -r)`,
    /// else `/proc/config.gz`; plus `LINUX_KERNEL_VERSION` from the release, and
    /// `LINUX_HAS_BPF_COOKIE` (5.15+) and `LINUX_HAS_SYSCALL_WRAPPER` (x86_64 and arm64 since
    /// 4.17) from it, where libbpf probes the kernel.
    pub fn running_kernel() -> Result<Kconfig, KconfigError> {
        let release = std::fs::read_to_string("/proc/sys/kernel/osrelease")
            .map(|s| s.trim().to_string())
            .unwrap_or_default();
        let text = match std::fs::read_to_string(format!("/boot/config-{release}")) {
            Ok(text) => text,
            Err(_) => read_gz("/proc/config.gz").map_err(|source| KconfigError::Unreadable {
                release: release.clone(),
                source,
            })?,
        };
        let mut config = Kconfig::parse(&text)?;
        if let Some(version) = kernel_version(&release) {
            config.set("LINUX_KERNEL_VERSION", &version.to_string());
            let has = |v: u32| if version >= v { "1" } else { "0" };
            config.set("LINUX_HAS_BPF_COOKIE", has(version_code(5, 15, 0)));
            config.set("LINUX_HAS_SYSCALL_WRAPPER", has(version_code(4, 17, 0)));
        }
        Ok(config)
    }

    /// Sets `name` to `value` (as a `.config` spells it), replacing any earlier value.
    pub fn set(&mut self, name: &str, value: &str) -> &mut Self {
        self.values.insert(name.to_string(), value.to_string());
        self
    }

    /// The value of `name`.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.values.get(name).map(String::as_str)
    }
}

/// `KERNEL_VERSION(a, b, c)` as the kernel's headers compute it (`c` saturates at 255).
pub fn version_code(major: u32, minor: u32, patch: u32) -> u32 {
    (major << 16) + (minor << 8) + patch.min(255)
}

/// The version code of a kernel release string (`6.18.44-fc` → `KERNEL_VERSION(6, 18, 44)`).
pub fn kernel_version(release: &str) -> Option<u32> {
    let mut parts = release.split(|c: char| !c.is_ascii_digit());
    let major = parts.next()?.parse().ok()?;
    let minor = parts.next()?.parse().ok()?;
    let patch = parts.next().and_then(|p| p.parse().ok()).unwrap_or(0);
    Some(version_code(major, minor, patch))
}

fn read_gz(path: &str) -> std::io::Result<String> {
    let file = std::fs::File::open(path)?;
    let mut text = String::new();
    flate2::read::GzDecoder::new(file).read_to_string(&mut text)?;
    Ok(text)
}

/// libbpf's `enum kcfg_type`: how a `.kconfig` extern's type takes a value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum KcfgType {
    /// `bool` (an INT with the BOOL encoding, 1 byte).
    Bool,
    /// A 1-byte integer: `char`, takes `y`/`n`/`m` as letters or a number.
    Char,
    /// An integer of 2, 4 or 8 bytes (1 is `Char`).
    Int {
        /// Signed encoding.
        signed: bool,
    },
    /// `enum libbpf_tristate`.
    Tristate,
    /// An array of `char`: takes a quoted string.
    CharArray,
}

/// libbpf's `find_kcfg_type`; `None` is `KCFG_UNKNOWN`.
pub(crate) fn kcfg_type(btf: &Btf<'_>, id: TypeId) -> Option<KcfgType> {
    let id = btf.resolve(id).ok()?;
    let t = btf.type_by_id(id).ok()?;
    match t.kind() {
        Kind::Int => {
            let int = t.int()?;
            let size = int.size;
            if int.encoding.0 & IntEncoding::BOOL.0 != 0 {
                return (size == 1).then_some(KcfgType::Bool);
            }
            if size == 1 {
                return Some(KcfgType::Char);
            }
            if !(1..=8).contains(&size) || !size.is_power_of_two() {
                return None;
            }
            Some(KcfgType::Int {
                signed: int.encoding.is_signed(),
            })
        }
        Kind::Enum | Kind::Enum64 => {
            let name_ok = t.name().ok() == Some("libbpf_tristate");
            let size_ok = t.kind() == Kind::Enum64 || t.size() == Some(4);
            (name_ok && size_ok).then_some(KcfgType::Tristate)
        }
        Kind::Array => {
            let array = t.array()?;
            if array.nelems == 0 {
                return None;
            }
            (kcfg_type(btf, array.elem_type)? == KcfgType::Char).then_some(KcfgType::CharArray)
        }
        _ => None,
    }
}

/// Writes `value` (as a `.config` spells it) into `out` (the extern's bytes) for an extern of
/// type `ty`; `Err` says why libbpf would refuse it.
pub(crate) fn encode_value(ty: KcfgType, value: &str, out: &mut [u8]) -> Result<(), String> {
    match value.as_bytes().first() {
        Some(b'y' | b'n' | b'm') => {
            let letter = value.as_bytes()[0];
            match ty {
                KcfgType::Bool if letter == b'm' => {
                    Err(format!("value '{value}' implies tristate or char type"))
                }
                KcfgType::Bool => write_num(out, u64::from(letter == b'y')),
                KcfgType::Tristate => {
                    // enum libbpf_tristate { TRI_NO = 0, TRI_YES = 1, TRI_MODULE = 2 }
                    let tri = match letter {
                        b'y' => 1,
                        b'm' => 2,
                        _ => 0,
                    };
                    write_num(out, tri)
                }
                KcfgType::Char => write_num(out, u64::from(letter)),
                KcfgType::Int { .. } | KcfgType::CharArray => Err(format!(
                    "value '{}' implies bool, tristate, or char type",
                    letter as char
                )),
            }
        }
        Some(b'"') => {
            if ty != KcfgType::CharArray {
                return Err(format!("value '{value}' implies char array type"));
            }
            if value.len() < 2 || !value.ends_with('"') {
                return Err(format!("invalid string config '{value}'"));
            }
            let text = &value.as_bytes()[1..value.len() - 1];
            // Truncated to leave room for the NUL, as libbpf does.
            let len = text.len().min(out.len() - 1);
            out[..len].copy_from_slice(&text[..len]);
            out[len] = 0;
            Ok(())
        }
        _ => {
            let num =
                parse_u64(value).ok_or_else(|| format!("value '{value}' isn't a valid integer"))?;
            if !matches!(ty, KcfgType::Int { .. } | KcfgType::Char) {
                return Err(format!("value '{value}' implies integer type"));
            }
            encode_num(ty, num, out)
        }
    }
}

/// libbpf's `set_kcfg_value_num`: how libbpf's virtual `LINUX_*` values are stored, and numbers
/// from the config once their type is checked.
pub(crate) fn encode_num(ty: KcfgType, num: u64, out: &mut [u8]) -> Result<(), String> {
    let signed = match ty {
        KcfgType::Int { signed } => signed,
        KcfgType::Char => false,
        KcfgType::Bool if num > 1 => {
            return Err(format!("value '{num}' isn't boolean compatible"));
        }
        KcfgType::Bool => false,
        KcfgType::Tristate | KcfgType::CharArray => {
            return Err(format!(
                "value '{num}' implies integer, char, or boolean type"
            ));
        }
    };
    if !fits(num, out.len(), signed) {
        return Err(format!("value '{num}' doesn't fit in {} bytes", out.len()));
    }
    write_num(out, num)
}

/// strtoull with base 0: decimal, `0x` hex or leading-`0` octal, and a leading `-` negates.
fn parse_u64(value: &str) -> Option<u64> {
    let (negative, digits) = match value.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, value.strip_prefix('+').unwrap_or(value)),
    };
    let n = if let Some(hex) = digits
        .strip_prefix("0x")
        .or_else(|| digits.strip_prefix("0X"))
    {
        u64::from_str_radix(hex, 16).ok()?
    } else if digits.len() > 1 && digits.starts_with('0') {
        u64::from_str_radix(&digits[1..], 8).ok()?
    } else {
        digits.parse().ok()?
    };
    Some(if negative { n.wrapping_neg() } else { n })
}

/// libbpf's `is_kcfg_value_in_range`.
fn fits(v: u64, size: usize, signed: bool) -> bool {
    if size >= 8 {
        return true;
    }
    let bits = size as u32 * 8;
    if signed {
        v.wrapping_add(1 << (bits - 1)) < (1 << bits)
    } else {
        v >> bits == 0
    }
}

/// libbpf's `set_kcfg_value_num` store: little-endian, the extern's size (1, 2, 4 or 8).
fn write_num(out: &mut [u8], v: u64) -> Result<(), String> {
    match out.len() {
        1 | 2 | 4 | 8 => {
            let len = out.len();
            out.copy_from_slice(&v.to_le_bytes()[..len]);
            Ok(())
        }
        n => Err(format!("a number cannot be stored in {n} bytes")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_follow_kernel_version_macro() {
        assert_eq!(kernel_version("6.18.44-fc-v782"), Some(0x06122c));
        assert_eq!(kernel_version("5.4.300"), Some(0x0504ff));
        assert_eq!(kernel_version("6.1"), Some(0x060100));
        assert_eq!(kernel_version("garbage"), None);
    }

    #[test]
    fn values_encode_as_libbpf_stores_them() {
        let mut b = [0u8; 1];
        encode_value(KcfgType::Bool, "y", &mut b).unwrap();
        assert_eq!(b, [1]);
        assert!(encode_value(KcfgType::Bool, "m", &mut b).is_err());
        encode_value(KcfgType::Char, "m", &mut b).unwrap();
        assert_eq!(b, [b'm']);
        let mut t = [0u8; 4];
        encode_value(KcfgType::Tristate, "m", &mut t).unwrap();
        assert_eq!(t, [2, 0, 0, 0]);
        let mut i = [0u8; 4];
        encode_value(KcfgType::Int { signed: true }, "-1", &mut i).unwrap();
        assert_eq!(i, [0xff; 4]);
        encode_value(KcfgType::Int { signed: false }, "0x10", &mut i).unwrap();
        assert_eq!(i, [16, 0, 0, 0]);
        assert!(encode_value(KcfgType::Int { signed: false }, "0x100000000", &mut i).is_err());
        assert!(encode_value(KcfgType::Int { signed: false }, "y", &mut i).is_err());
        let mut s = [0xaau8; 4];
        encode_value(KcfgType::CharArray, "\"abcdef\"", &mut s).unwrap();
        assert_eq!(&s, b"abc\0");
    }
}

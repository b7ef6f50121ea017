//! The cpus of this machine as the kernel numbers them: per-cpu map values have one slot per
//! *possible* cpu; perf buffers need one ring per *online* cpu.

use crate::error::{Error, Result};

/// Number of possible cpus (`/sys/devices/system/cpu/possible`): the number of values of a
/// per-cpu map element.
pub fn possible_cpus() -> Result<usize> {
    Ok(cpu_list("/sys/devices/system/cpu/possible")?
        .last()
        .map_or(1, |&last| last as usize + 1))
}

/// The online cpus (`/sys/devices/system/cpu/online`).
pub fn online_cpus() -> Result<Vec<u32>> {
    cpu_list("/sys/devices/system/cpu/online")
}

fn cpu_list(path: &str) -> Result<Vec<u32>> {
    let text = std::fs::read_to_string(path).map_err(|e| Error::io("read", path, &e))?;
    parse_cpu_list(&text)
        .ok_or_else(|| Error::InvalidArgument(format!("{path}: cannot parse `{}`", text.trim())))
}

/// Parses the kernel's cpu list format: `0-3,5,7-8`.
pub(crate) fn parse_cpu_list(text: &str) -> Option<Vec<u32>> {
    let mut cpus = Vec::new();
    for part in text.trim().split(',').filter(|p| !p.is_empty()) {
        match part.split_once('-') {
            Some((a, b)) => {
                let (a, b): (u32, u32) = (a.parse().ok()?, b.parse().ok()?);
                if b < a || b - a > 1 << 16 {
                    return None;
                }
                cpus.extend(a..=b);
            }
            None => cpus.push(part.parse().ok()?),
        }
    }
    Some(cpus)
}

#[cfg(test)]
mod tests {
    use super::parse_cpu_list;

    #[test]
    fn cpu_lists() {
        assert_eq!(parse_cpu_list("0-3\n"), Some(vec![0, 1, 2, 3]));
        assert_eq!(parse_cpu_list("0,2-3,7"), Some(vec![0, 2, 3, 7]));
        assert_eq!(parse_cpu_list("0"), Some(vec![0]));
        assert_eq!(parse_cpu_list("3-1"), None);
        assert_eq!(parse_cpu_list("x"), None);
    }
}

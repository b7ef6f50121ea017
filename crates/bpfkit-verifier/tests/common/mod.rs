//! What the verifier's kernel tests share: loading a program into the running kernel with the
//! maps it names, and reading the kernel's verdict and final message.

#![allow(dead_code)]

pub mod programs;

use std::os::fd::{AsFd, AsRawFd};

use bpfkit_isa::{Insn, Kind, Pseudo};
use bpfkit_sys::{Map, ProgramLoad};
use bpfkit_uapi::MapDef;
use bpfkit_uapi::ProgType;
use bpfkit_verifier::MapInfo;

/// The kernel's answer.
#[derive(Clone, Debug)]
pub struct KernelVerdict {
    /// Accepted.
    pub accepted: bool,
    /// The last line before `processed ...` (rejections).
    pub message: String,
    /// The whole log.
    pub log: String,
}

/// Kernel maps for `maps`, in the same order.
pub fn create_maps(maps: &[MapInfo]) -> Vec<Map> {
    maps.iter()
        .map(|m| {
            let mut def = MapDef::new(m.map_type, m.key_size, m.value_size, m.max_entries);
            def.map_flags = m.flags;
            Map::create(def).expect("create a kernel map")
        })
        .collect()
}

/// The kernel's final error line of a verifier log: the last line before `processed ...`, or,
/// where the kernel dumps states after its message (an infinite loop), the message line.
pub fn final_line(log: &str) -> String {
    for marker in [
        "infinite loop detected at insn",
        "BPF program is too large.",
    ] {
        if let Some(line) = log.lines().rev().find(|l| l.contains(marker)) {
            let at = line.find(marker).unwrap_or(0);
            return line[at..].trim().to_string();
        }
    }
    let lines: Vec<&str> = log.lines().collect();
    let end = lines
        .iter()
        .rposition(|l| l.starts_with("processed "))
        .unwrap_or(lines.len());
    lines[..end]
        .iter()
        .rev()
        .find(|l| !l.trim().is_empty())
        .map(|l| l.trim().to_string())
        .unwrap_or_default()
}

/// Loads `insns` (map references by index into `fds`) as a `prog_type` program.
pub fn kernel_verdict(prog_type: ProgType, insns: &[Insn], fds: &[Map]) -> KernelVerdict {
    let mut insns = insns.to_vec();
    for i in insns.iter_mut() {
        if let Kind::LoadImm64 {
            pseudo: Pseudo::MapFd | Pseudo::MapValue,
        } = i.kind()
        {
            if let Some(m) = fds.get(i.imm as usize) {
                i.imm = m.as_fd().as_raw_fd();
            }
        }
    }
    match ProgramLoad::new(prog_type, &insns)
        .log_level(1)
        .load_with_log()
    {
        Ok(_) => KernelVerdict {
            accepted: true,
            message: String::new(),
            log: String::new(),
        },
        Err(bpfkit_sys::Error::Verifier { log, .. }) => KernelVerdict {
            accepted: false,
            message: final_line(&log),
            log,
        },
        Err(e) => KernelVerdict {
            accepted: false,
            message: e.to_string(),
            log: String::new(),
        },
    }
}

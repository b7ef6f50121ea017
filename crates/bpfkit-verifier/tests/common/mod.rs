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
            message: bpfkit_loader::verifier_log::summarize(&log)
                .message
                .unwrap_or_default()
                .trim()
                .to_string(),
            log,
        },
        Err(e) => KernelVerdict {
            accepted: false,
            message: e.to_string(),
            log: String::new(),
        },
    }
}

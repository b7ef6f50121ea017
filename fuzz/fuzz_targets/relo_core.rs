//! CO-RE relocation never panics, whatever the object, the records and the target.
//!
//! The first byte picks the shape of the rest:
//! - `0`: an ELF object relocated against the running kernel's BTF (read once; skipped when
//!   absent);
//! - `1`: a `u32` length, that many bytes of target BTF, then an ELF object;
//! - `2`: an ELF object relocated against its own `.BTF`;
//! - `3`: a `u32` length and a local BTF, a `u32` length and a target BTF, then records, each
//!   a `u32` root type id, a kind byte, a NUL-terminated access string and 16 bytes of
//!   instruction (so that the engine sees records no compiler would write).
//!
//! Every outcome and error is rendered, and a relocated instruction keeps its slot count.
#![no_main]

use std::sync::OnceLock;

use bpfkit_btf::{Btf, TypeId};
use bpfkit_elf::Object;
use bpfkit_isa::Insn;
use bpfkit_relo::core::{CoreRecord, CoreRelocator, CoreTarget, relocate_object};
use bpfkit_uapi::CoreReloKind;
use libfuzzer_sys::fuzz_target;

fn vmlinux() -> Option<&'static CoreTarget<'static>> {
    static TARGET: OnceLock<Option<CoreTarget<'static>>> = OnceLock::new();
    TARGET
        .get_or_init(|| {
            let data: &'static [u8] = Box::leak(std::fs::read("/sys/kernel/btf/vmlinux").ok()?.into_boxed_slice());
            let btf: &'static Btf<'static> = Box::leak(Box::new(Btf::parse(data).ok()?));
            Some(CoreTarget::new(btf))
        })
        .as_ref()
}

fn split_len(data: &[u8]) -> Option<(&[u8], &[u8])> {
    let (len, rest) = data.split_first_chunk::<4>()?;
    let len = (u32::from_le_bytes(*len) as usize).min(rest.len());
    Some(rest.split_at(len))
}

fn object(data: &[u8], target: &CoreTarget<'_>) {
    let Ok(object) = Object::parse(data) else {
        return;
    };
    for applied in relocate_object(&object, target) {
        match &applied.result {
            Ok(out) => {
                let _ = (out.local.to_string(), out.target.to_string());
                if let Ok(insn) = Insn::decode(
                    object
                        .functions()
                        .find(|f| f.name == applied.function)
                        .map_or(&[][..], |f| f.code),
                    applied.insn,
                ) {
                    let slots: usize = out.insns.iter().map(Insn::slots).sum();
                    assert_eq!(slots, insn.slots());
                }
            }
            Err(e) => {
                let _ = e.to_string();
            }
        }
    }
}

fn records(data: &[u8]) {
    let Some((local, rest)) = split_len(data) else {
        return;
    };
    let Some((target, mut rest)) = split_len(rest) else {
        return;
    };
    let (Ok(local), Ok(target)) = (Btf::parse(local), Btf::parse(target)) else {
        return;
    };
    let target = CoreTarget::new(&target);
    let mut relocator = CoreRelocator::new(&target);
    let mut index = 0;
    while let Some((id, tail)) = rest.split_first_chunk::<4>() {
        let Some((&kind, tail)) = tail.split_first() else {
            return;
        };
        let Some(nul) = tail.iter().position(|&b| b == 0) else {
            return;
        };
        let Ok(access) = std::str::from_utf8(&tail[..nul]) else {
            return;
        };
        let tail = &tail[nul + 1..];
        if tail.len() < 16 {
            return;
        }
        let (code, tail) = tail.split_at(16);
        rest = tail;
        let Ok(insn) = Insn::decode(code, 0) else {
            continue;
        };
        let record = CoreRecord {
            index,
            type_id: TypeId(u32::from_le_bytes(*id)),
            access_str: access,
            kind: CoreReloKind(u32::from(kind % 16)),
        };
        index += 1;
        match relocator.relocate(&local, &record, &insn) {
            Ok(out) => {
                let _ = (out.local.to_string(), out.target.to_string());
                let slots: usize = out.insns.iter().map(Insn::slots).sum();
                assert_eq!(slots, insn.slots());
            }
            Err(e) => {
                let _ = e.to_string();
            }
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    match mode % 4 {
        0 => {
            if let Some(target) = vmlinux() {
                object(rest, target);
            }
        }
        1 => {
            let Some((target, obj)) = split_len(rest) else {
                return;
            };
            let Ok(target) = Btf::parse(target) else {
                return;
            };
            object(obj, &CoreTarget::new(&target));
        }
        2 => {
            let Ok(o) = Object::parse(rest) else {
                return;
            };
            let Some(btf) = o.btf() else {
                return;
            };
            object(rest, &CoreTarget::new(btf));
        }
        _ => records(rest),
    }
});

//! Every CO-RE record of an object, relocated in libbpf's order (`bpf_object__relocate_core`):
//! `.BTF.ext` groups in order, records in order, one candidate cache for the whole object.

use bpfkit_elf::Object;
use bpfkit_isa::Insn;

use super::{CoreError, CoreErrorKind, CoreOutcome, CoreRecord, CoreRelocator, CoreTarget};

/// One record's result.
#[derive(Clone, Debug)]
pub struct CoreApplied<'o> {
    /// The function that holds the instruction (libbpf's program: every function is one before
    /// linking, `.text` subprograms included).
    pub function: &'o str,
    /// Its code section.
    pub section: &'o str,
    /// The instruction's index within the function (as libbpf's log counts it).
    pub insn: usize,
    /// The record (its `index` is the record's position in its section's group).
    pub record: CoreRecord<'o>,
    /// The outcome, or why the object cannot be loaded.
    pub result: Result<CoreOutcome, CoreError>,
}

/// Relocates every CO-RE record of `object` against `target`, in libbpf's order and with its
/// candidate cache, so the results are libbpf's. libbpf stops at the first error; this goes on,
/// so that every record gets a result (later ones then may differ from what libbpf would have
/// computed, had it gone on). Records of functions in a `?`-prefixed section (not loaded by
/// default) are skipped, as libbpf skips them; records outside any function are skipped too
/// (libbpf: "belonging to eliminated weak subprogram").
pub fn relocate_object<'o>(
    object: &'o Object<'o>,
    target: &CoreTarget<'_>,
) -> Vec<CoreApplied<'o>> {
    let mut out = Vec::new();
    let (Some(btf), Some(ext)) = (object.btf(), object.btf_ext()) else {
        return out;
    };
    let mut relocator = CoreRelocator::new(target);
    for group in &ext.core_relos.groups {
        for (index, rec) in group.records.iter().enumerate() {
            let off = u64::from(rec.insn_off);
            let Some(func) = object.functions().find(|f| {
                f.section_name == group.section
                    && off >= f.offset
                    && off < f.offset + f.code.len() as u64
            }) else {
                continue;
            };
            if func.section_name.starts_with('?') {
                continue;
            }
            let record = CoreRecord {
                index,
                type_id: rec.type_id,
                access_str: rec.access_str,
                kind: rec.kind,
            };
            let insn = ((off - func.offset) / 8) as usize;
            let result = if rec.insn_off % 8 != 0 {
                Err(CoreError {
                    relo: index,
                    kind: rec.kind,
                    local: format!("[{}] + {}", rec.type_id.0, rec.access_str),
                    reason: CoreErrorKind::Invalid("the record's offset is not a multiple of 8"),
                })
            } else {
                match Insn::decode(func.code, insn) {
                    Ok(i) => relocator.relocate(btf, &record, &i),
                    Err(_) => Err(CoreError {
                        relo: index,
                        kind: rec.kind,
                        local: format!("[{}] + {}", rec.type_id.0, rec.access_str),
                        reason: CoreErrorKind::Insn("cannot be decoded"),
                    }),
                }
            };
            out.push(CoreApplied {
                function: func.name,
                section: func.section_name,
                insn,
                record,
                result,
            });
        }
    }
    out
}

//! The relocation of one record: candidates (cached per object, as libbpf caches them), the
//! local spec, matching, the values, and the patched instruction
//! (libbpf's `bpf_core_calc_relo_insn` and `bpf_core_patch_insn`).

use std::collections::HashMap;

use bpfkit_btf::{Btf, TypeId};
use bpfkit_isa::Insn;
use bpfkit_uapi::CoreReloKind;

use super::error::{CoreError, CoreErrorKind, Fail};
use super::outcome::{CoreCandidate, CoreMatch, CoreOutcome, CoreSpec, Poison};
use super::patch::{self, PatchError};
use super::spec::{self, Spec};
use super::target::{Cand, CoreTarget};
use super::{CoreRecord, btfx, calc, matching};

/// Relocates `insn` for `record` of the `local` BTF against `target`, with a fresh candidate
/// cache (see [`CoreRelocator`] for libbpf's per-object cache).
pub fn relocate(
    local: &Btf<'_>,
    record: &CoreRecord<'_>,
    insn: &Insn,
    target: &CoreTarget<'_>,
) -> Result<CoreOutcome, CoreError> {
    CoreRelocator::new(target).relocate(local, record, insn)
}

/// Relocates the records of one object, keeping libbpf's candidate cache: the candidates of
/// each local root type are looked up once, and pruned to those that matched each time some
/// did.
pub struct CoreRelocator<'c, 't> {
    target: &'c CoreTarget<'t>,
    cache: HashMap<TypeId, Vec<Cand>>,
}

impl<'c, 't> CoreRelocator<'c, 't> {
    /// A relocator with an empty cache.
    pub fn new(target: &'c CoreTarget<'t>) -> CoreRelocator<'c, 't> {
        CoreRelocator {
            target,
            cache: HashMap::new(),
        }
    }

    /// The target.
    pub fn target(&self) -> &'c CoreTarget<'t> {
        self.target
    }

    /// Relocates `insn` for `record` of `local` (always the same object's BTF for one
    /// relocator).
    pub fn relocate(
        &mut self,
        local: &Btf<'_>,
        record: &CoreRecord<'_>,
        insn: &Insn,
    ) -> Result<CoreOutcome, CoreError> {
        let kind = record.kind;
        let err = |local: String, reason| CoreError {
            relo: record.index,
            kind,
            local,
            reason,
        };
        let root_desc = || {
            let t = btfx::ty(local, record.type_id);
            let name = btfx::name(&t);
            format!(
                "{} {} + {}",
                btfx::kind_str(&t),
                if name.is_empty() {
                    "<anon>".to_string()
                } else {
                    btfx::text(name)
                },
                record.access_str
            )
        };
        if record.type_id.0 >= local.type_cnt() {
            return Err(err(
                format!("[{}] + {}", record.type_id.0, record.access_str),
                CoreErrorKind::NoSuchType(record.type_id.0),
            ));
        }
        let local_t = btfx::ty(local, record.type_id);
        let local_name = btfx::name(&local_t);

        // libbpf looks candidates up before it parses the access string.
        let mut no_cands = Vec::new();
        let target = self.target;
        let cands = if kind == CoreReloKind::TYPE_ID_LOCAL {
            &mut no_cands
        } else {
            if local_name.is_empty() {
                return Err(err(root_desc(), CoreErrorKind::AnonymousType));
            }
            self.cache
                .entry(record.type_id)
                .or_insert_with(|| target.candidates(local_name, &local_t))
        };

        let local_spec = spec::parse(local, record.type_id, record.access_str.as_bytes(), kind)
            .map_err(|f| {
                let reason = match f {
                    Fail::Invalid(why) => CoreErrorKind::BadAccess {
                        access: record.access_str.to_string(),
                        why,
                    },
                    other => other.into_kind(kind),
                };
                err(root_desc(), reason)
            })?;
        let local_out = CoreSpec::of(&local_spec);
        // Messages only: built when an error needs it.
        let desc = || local_out.describe();
        let fail = |f: Fail| err(desc(), f.into_kind(kind));

        let candidate = |c: &Cand| CoreCandidate {
            btf: c.btf,
            type_id: c.id,
            name: btfx::text(btfx::name(&btfx::ty(target.btf_at(c.btf), c.id))),
        };

        let (res, target_match) = if kind == CoreReloKind::TYPE_ID_LOCAL {
            let id = u64::from(record.type_id.0);
            let res = calc::Res {
                orig_val: id,
                new_val: id,
                validate: false,
                ..calc::Res::default()
            };
            (res, CoreMatch::Local)
        } else {
            let mut best: Option<(calc::Res, Spec<'_>, Cand)> = None;
            let mut matched: Vec<Cand> = Vec::new();
            for &c in cands.iter() {
                let targ_btf = target.btf_at(c.btf);
                let mut cand_spec = Spec::empty(targ_btf, c.id, kind);
                let found = matching::spec_match(&local_spec, targ_btf, c.id, &mut cand_spec)
                    .map_err(|f| {
                        err(
                            desc(),
                            CoreErrorKind::Candidate {
                                candidate: candidate(&c),
                                why: f.into_kind(kind).to_string(),
                            },
                        )
                    })?;
                if !found {
                    continue;
                }
                let res = calc::calc(kind, &local_spec, Some(&cand_spec)).map_err(fail)?;
                if let Some((best_res, best_spec, _)) = &best {
                    let detail = if cand_spec.bit_offset != best_spec.bit_offset {
                        Some(format!(
                            "field offset ambiguity: {} != {}",
                            cand_spec.bit_offset, best_spec.bit_offset
                        ))
                    } else if res.poison != best_res.poison || res.new_val != best_res.new_val {
                        let word = |p: bool| if p { "failure" } else { "success" };
                        Some(format!(
                            "relocation decision ambiguity: {} {} != {} {}",
                            word(res.poison),
                            res.new_val,
                            word(best_res.poison),
                            best_res.new_val
                        ))
                    } else {
                        None
                    };
                    if let Some(detail) = detail {
                        let mut all: Vec<CoreCandidate> = matched.iter().map(candidate).collect();
                        all.push(candidate(&c));
                        return Err(err(
                            desc(),
                            CoreErrorKind::Ambiguous {
                                candidates: all,
                                detail,
                            },
                        ));
                    }
                } else {
                    best = Some((res, cand_spec, c));
                }
                matched.push(c);
            }
            match best {
                Some((res, spec, c)) => {
                    // Later relocations of this root only see the candidates that matched.
                    *cands = matched.clone();
                    let m = CoreMatch::Found {
                        btf: c.btf,
                        btf_name: target.name_at(c.btf).to_string(),
                        spec: CoreSpec::of(&spec),
                        matched: matched.len(),
                    };
                    (res, m)
                }
                None => {
                    let res = calc::calc(kind, &local_spec, None).map_err(fail)?;
                    // Nothing matched, so the cache still holds every candidate tried.
                    let candidates = cands.iter().map(candidate).collect();
                    (res, CoreMatch::NotFound { candidates })
                }
            }
        };

        let patched = patch::patch(insn, &res).map_err(|e| {
            err(
                desc(),
                match e {
                    PatchError::Unexpected {
                        class,
                        got,
                        expected,
                        new,
                    } => CoreErrorKind::UnexpectedValue {
                        class,
                        got,
                        expected,
                        new,
                    },
                    PatchError::TooBig(v) => CoreErrorKind::TooBig(v),
                    PatchError::MemSize { got, expected } => {
                        CoreErrorKind::MemSize { got, expected }
                    }
                    PatchError::NewMemSize(n) => CoreErrorKind::NewMemSize(n),
                    PatchError::Form(why) => CoreErrorKind::Insn(why),
                },
            )
        })?;
        let poison = if res.poison {
            Some(Poison::NotFound)
        } else if patched.memsz_poison {
            Some(Poison::MemSize)
        } else {
            None
        };
        Ok(CoreOutcome {
            insns: patched.insns,
            poisoned: poison.is_some(),
            poison,
            local: local_out,
            target: target_match,
            old: patched.old,
            new: poison.is_none().then_some(res.new_val),
            expected: res.orig_val,
            checked: res.validate,
            mem_size: patched.mem_size,
        })
    }
}

//! CO-RE: relocating one instruction against a target BTF, as libbpf's `relo_core.c` does.
//!
//! A CO-RE record names an instruction, a root type of the object's (local) BTF, an access
//! string and a kind. Relocating it:
//!
//! 1. parses the access string into the local spec (the field, array element, enumerator or
//!    type it names, [`spec`]);
//! 2. looks up target *candidates*: types of a compatible kind with the same essential name
//!    (the name without a `___flavor` suffix, [`essential_name`]), through an index built once
//!    per [`CoreTarget`];
//! 3. matches the local spec against each candidate (same named members through anonymous
//!    ones, array bounds, compatible field types; [`matching`]) and computes the value each
//!    matching candidate gives ([`calc`]). Different values are an ambiguity error;
//! 4. patches the instruction after checking that it holds the value the local spec gives, or
//!    poisons it when nothing matched and the kind is not an existence check ([`patch`]).
//!
//! libbpf caches candidates per local type for a whole object and prunes the list to the
//! candidates that matched, so an earlier relocation can decide a later one's candidates.
//! [`CoreRelocator`] keeps that cache: use one per object and feed it the records in
//! `.BTF.ext` order (as [`relocate_object`] does) to get libbpf's results exactly. The free
//! function [`relocate`] starts from a fresh cache each call.
//!
//! The linker calls [`relocate`] (or a [`CoreRelocator`]) for every `.BTF.ext` CO-RE record of
//! a function before it appends subprograms (libbpf applies CO-RE to each function of the
//! object first, then links), and splices the returned instructions in place of the original
//! one.
//!
//! ```
//! use bpfkit_btf::{Btf, BtfBuilder, IntEncoding};
//! use bpfkit_isa::{Insn, Opcode, Reg};
//! use bpfkit_relo::core::{relocate, CoreRecord, CoreTarget};
//! use bpfkit_uapi::CoreReloKind;
//!
//! // Local: struct s { int a; int b; }  Target: struct s { long x; int b; }
//! let mut l = BtfBuilder::new();
//! let int = l.add_int("int", 4, IntEncoding::SIGNED);
//! let s = l.add_struct("s", 8, &[("a", int, 0), ("b", int, 32)]);
//! let local_bytes = l.encode();
//! let mut t = BtfBuilder::new();
//! let int = t.add_int("int", 4, IntEncoding::SIGNED);
//! let long = t.add_int("long", 8, IntEncoding::SIGNED);
//! t.add_struct("s", 16, &[("x", long, 0), ("b", int, 64)]);
//! let target_bytes = t.encode();
//! let (local, target) = (Btf::parse(&local_bytes).unwrap(), Btf::parse(&target_bytes).unwrap());
//!
//! // r1 = *(u32 *)(r2 + 4), reading s.b
//! let insn = Insn::new(Opcode::LdxW).with_dst(Reg::R1).with_src(Reg::R2).with_off(4);
//! let record = CoreRecord {
//!     index: 0,
//!     type_id: s,
//!     access_str: "0:1",
//!     kind: CoreReloKind::FIELD_BYTE_OFFSET,
//! };
//! let target = CoreTarget::new(&target);
//! let out = relocate(&local, &record, &insn, &target).unwrap();
//! assert_eq!(out.insns[0].off, 8);
//! assert_eq!(out.local.to_string(), "<byte_off> [2] struct s.b (0:1 @ offset 4)");
//! assert_eq!(out.target.to_string(), "<byte_off> [3] struct s.b (0:1 @ offset 8)");
//! assert_eq!((out.old, out.new), (4, Some(8)));
//! ```

mod btfx;
mod calc;
mod matching;
mod name;
mod object;
mod patch;
mod spec;
mod target;

use std::collections::HashMap;
use std::fmt;

use bpfkit_btf::{Btf, TypeId};
use bpfkit_isa::Insn;
use bpfkit_uapi::CoreReloKind;

pub use name::essential_name;
pub use object::{CoreApplied, relocate_object};
pub use patch::POISON_IMM;
pub use target::CoreTarget;

use btfx::Walk;
use patch::PatchError;
use spec::Spec;
use target::Cand;

/// One CO-RE record, as the linker hands it over.
#[derive(Clone, Copy, Debug)]
pub struct CoreRecord<'a> {
    /// The record's index in its section's `.BTF.ext` group (libbpf's `relo #N`).
    pub index: usize,
    /// The root type in the local (object's) BTF.
    pub type_id: TypeId,
    /// The access string (`0:1:2`).
    pub access_str: &'a str,
    /// What to compute.
    pub kind: CoreReloKind,
}

/// A spec (the local one, or the one a target candidate matched with), printable exactly as
/// libbpf's debug log prints it: `<byte_off> [7] struct task_struct.pid (0:58 @ offset 2456)`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CoreSpec {
    /// The relocation kind.
    pub kind: CoreReloKind,
    /// The root type's id in its BTF.
    pub type_id: TypeId,
    /// The root's kind as libbpf names it (`struct`, `union`, `enum`, `typedef`, ...).
    pub type_kind: &'static str,
    /// The root's name (empty when anonymous).
    pub type_name: String,
    /// The high-level path: `.a[3].b` for fields, `::NAME = 3` for enumerators, empty for
    /// type-based kinds.
    pub path: String,
    /// The low-level access string (field kinds; the enumerator index for enumerator kinds).
    pub access: Vec<u32>,
    /// The field's offset from the start of the root in bits (field kinds).
    pub bit_offset: u32,
}

impl CoreSpec {
    fn of(spec: &Spec<'_>) -> CoreSpec {
        let t = btfx::ty(spec.btf, spec.root);
        let full = spec::path_str(spec);
        // path_str gives the high-level path followed by " (raw @ offset)" for field kinds.
        let path = match full.find(" (") {
            Some(i) if spec.kind.is_field_based() => full[..i].to_string(),
            _ => full,
        };
        CoreSpec {
            kind: spec.kind,
            type_id: spec.root,
            type_kind: btfx::kind_str(&t),
            type_name: btfx::text(btfx::name(&t)),
            path,
            access: spec.raw.clone(),
            bit_offset: spec.bit_offset,
        }
    }

    /// A short form for messages: `struct task_struct.pid`.
    pub fn describe(&self) -> String {
        let name = if self.type_name.is_empty() {
            "<anon>"
        } else {
            &self.type_name
        };
        format!("{} {}{}", self.type_kind, name, self.path)
    }
}

impl fmt::Display for CoreSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = if self.type_name.is_empty() {
            "<anon>"
        } else {
            &self.type_name
        };
        write!(
            f,
            "<{}> [{}] {} {}{}",
            spec::kind_str(self.kind),
            self.type_id.0,
            self.type_kind,
            name,
            self.path
        )?;
        if self.kind.is_field_based() {
            f.write_str(" (")?;
            for (i, r) in self.access.iter().enumerate() {
                write!(f, "{}{}", if i == 0 { "" } else { ":" }, r)?;
            }
            if self.bit_offset % 8 != 0 {
                write!(
                    f,
                    " @ offset {}.{})",
                    self.bit_offset / 8,
                    self.bit_offset % 8
                )?;
            } else {
                write!(f, " @ offset {})", self.bit_offset / 8)?;
            }
        }
        Ok(())
    }
}

/// A target type that was considered.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CoreCandidate {
    /// Which BTF of the target (0: the main one; see [`CoreTarget::btf`]).
    pub btf: usize,
    /// Its id there.
    pub type_id: TypeId,
    /// Its name.
    pub name: String,
}

impl fmt::Display for CoreCandidate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} [{}]", self.name, self.type_id.0)
    }
}

/// What the target side of a relocation came to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CoreMatch {
    /// `TYPE_ID_LOCAL`: the local type id, no target involved.
    Local,
    /// A candidate matched (the first one; the others that matched gave the same result).
    Found {
        /// Which BTF of the target.
        btf: usize,
        /// That BTF's name (`vmlinux`, a module's).
        btf_name: String,
        /// The target spec.
        spec: CoreSpec,
        /// How many candidates matched.
        matched: usize,
    },
    /// No candidate matched: existence kinds give 0, the others poison the instruction.
    NotFound {
        /// The candidates that were tried (none when no type has the essential name).
        candidates: Vec<CoreCandidate>,
    },
}

impl fmt::Display for CoreMatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CoreMatch::Local => f.write_str("local type id (no target)"),
            CoreMatch::Found {
                btf,
                btf_name,
                spec,
                ..
            } => {
                write!(f, "{spec}")?;
                if *btf > 0 {
                    write!(f, " in {btf_name}")?;
                }
                Ok(())
            }
            CoreMatch::NotFound { candidates } if candidates.is_empty() => {
                f.write_str("no target type has this name and a compatible kind")
            }
            CoreMatch::NotFound { candidates } => {
                write!(f, "none of {} candidates matched: ", candidates.len())?;
                for (i, c) in candidates.iter().enumerate() {
                    write!(f, "{}{c}", if i == 0 { "" } else { ", " })?;
                }
                Ok(())
            }
        }
    }
}

/// Why an instruction was poisoned.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Poison {
    /// No candidate matched and the kind needs one.
    NotFound,
    /// The field was found, but its load or store cannot change size without changing the
    /// value (only pointers and unsigned integers may).
    MemSize,
}

/// What relocating one record did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CoreOutcome {
    /// The replacement for the instruction: as many slots as the original (an `lddw` stays two
    /// slots; poisoned, it becomes two calls).
    pub insns: Vec<Insn>,
    /// Whether the instruction was poisoned (no candidate matched, or the field is missing).
    pub poisoned: bool,
    /// Why it was poisoned.
    pub poison: Option<Poison>,
    /// The local spec.
    pub local: CoreSpec,
    /// The target spec matched, or why none was.
    pub target: CoreMatch,
    /// The instruction's value before patching (immediate, offset, or 64-bit immediate),
    /// sign-extended to 64 bits and printed unsigned, as libbpf's log prints it; 0 when
    /// poisoned.
    pub old: u64,
    /// The value patched in (`None` when poisoned): the immediate, offset or 64-bit
    /// immediate, before truncation to the field's width, as libbpf's log prints it.
    pub new: Option<u64>,
    /// The value the local spec gives, which the instruction was checked against.
    pub expected: u64,
    /// Whether `old` was checked against `expected` (not for bitfield offsets, sizes and left
    /// shifts, nor for type ids).
    pub checked: bool,
    /// The load/store size change in bytes, when the field's size differs.
    pub mem_size: Option<(u32, u32)>,
}

/// Why a record cannot be relocated: the program cannot be loaded.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("CO-RE relocation #{relo} ({kind} of {local}): {reason}", kind = long_kind_name(*.kind))]
pub struct CoreError {
    /// The record's index (libbpf's `relo #N`).
    pub relo: usize,
    /// The record's kind.
    pub kind: CoreReloKind,
    /// What is relocated: `struct task_struct.pid`, or the root and access string when those
    /// could not be parsed.
    pub local: String,
    /// What went wrong.
    pub reason: CoreErrorKind,
}

/// The kind's name for messages: `field_byte_offset`, `type_exists`, ...
pub fn long_kind_name(kind: CoreReloKind) -> String {
    let name = kind.to_string();
    name.strip_prefix("BPF_CORE_")
        .unwrap_or(&name)
        .to_ascii_lowercase()
}

/// The ways relocation fails.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum CoreErrorKind {
    /// The record's root type is not in the local BTF.
    #[error("type [{0}] is not in the object's BTF")]
    NoSuchType(u32),
    /// The root type has no name, so no candidate can be looked up (libbpf refuses too).
    #[error("the type is anonymous, so it has no target candidates")]
    AnonymousType,
    /// The access string does not name anything in the local type.
    #[error("access string '{access}': {why}")]
    BadAccess {
        /// The access string.
        access: String,
        /// What is wrong with it.
        why: &'static str,
    },
    /// The access path is longer than libbpf's 64 steps.
    #[error("access path is longer than 64 steps")]
    TooLong,
    /// The kind is not one of the 13.
    #[error("unknown relocation kind {0}")]
    UnknownKind(u32),
    /// A walk of the local or target BTF failed (a cycle, a type without size).
    #[error("{0}")]
    Btf(String),
    /// Several candidates match with different results.
    #[error("{} candidates match: {} ({detail})", candidates.len(), candidates.iter().map(|c| c.name.as_str()).collect::<Vec<_>>().join(", "))]
    Ambiguous {
        /// The candidates that matched, up to and including the first that disagreed.
        candidates: Vec<CoreCandidate>,
        /// libbpf's wording of the disagreement.
        detail: String,
    },
    /// Matching a candidate failed outright (libbpf: "error matching candidate").
    #[error("matching candidate {candidate}: {why}")]
    Candidate {
        /// The candidate.
        candidate: CoreCandidate,
        /// Why.
        why: String,
    },
    /// Only byte offset and byte size apply to an array element.
    #[error("this kind cannot be applied to an array element")]
    ArrayAccess,
    /// The bitfield cannot be read with one load of at most 8 bytes.
    #[error("the bitfield cannot be read with one load of at most 8 bytes")]
    Bitfield,
    /// The instruction does not hold the value the local type gives.
    #[error(
        "the instruction ({class}) holds {got}, but the local type gives {expected} (target: {new})"
    )]
    UnexpectedValue {
        /// libbpf's class name (`ALU/ALU64`, `LDX/ST/STX`, `LDIMM64`).
        class: &'static str,
        /// The instruction's value.
        got: u64,
        /// The local spec's.
        expected: u64,
        /// What would have been patched in.
        new: u64,
    },
    /// The new offset does not fit in the instruction's signed 16 bits.
    #[error("offset {0} does not fit in a load/store instruction")]
    TooBig(u64),
    /// The load/store size is not the local field's size, so it cannot be adjusted.
    #[error("the load/store is {got} bytes wide, but the local field is {expected}")]
    MemSize {
        /// The instruction's access size.
        got: u32,
        /// The local field's size.
        expected: u32,
    },
    /// The target field's size is not a load/store size.
    #[error("the target field is {0} bytes wide, which no load/store instruction is")]
    NewMemSize(u32),
    /// The instruction is not one CO-RE patches.
    #[error("the instruction {0}")]
    Insn(&'static str),
    /// Anything else libbpf calls invalid.
    #[error("{0}")]
    Invalid(&'static str),
}

/// Internal failures, mapped to [`CoreErrorKind`] with context at the top.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Fail {
    /// No target: poison the instruction (libbpf's `-EUCLEAN`).
    Poison,
    Walk(Walk),
    TooLong,
    UnknownKind,
    ArrayAccess,
    Bitfield,
    Invalid(&'static str),
}

impl From<Walk> for Fail {
    fn from(w: Walk) -> Fail {
        Fail::Walk(w)
    }
}

impl Fail {
    fn into_kind(self, kind: CoreReloKind) -> CoreErrorKind {
        match self {
            Fail::Poison => CoreErrorKind::Invalid("poisoning requested"),
            Fail::Walk(Walk::Cycle(id)) => {
                CoreErrorKind::Btf(format!("type [{}] is part of a cycle", id.0))
            }
            Fail::Walk(Walk::NoSize(id)) => {
                CoreErrorKind::Btf(format!("type [{}] has no size", id.0))
            }
            Fail::Walk(Walk::TooBig(id)) => {
                CoreErrorKind::Btf(format!("type [{}] is larger than 4 GiB", id.0))
            }
            Fail::TooLong => CoreErrorKind::TooLong,
            Fail::UnknownKind => CoreErrorKind::UnknownKind(kind.0),
            Fail::ArrayAccess => CoreErrorKind::ArrayAccess,
            Fail::Bitfield => CoreErrorKind::Bitfield,
            Fail::Invalid(why) => CoreErrorKind::Invalid(why),
        }
    }
}

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
        let desc = local_out.describe();
        let fail = |f: Fail| err(desc.clone(), f.into_kind(kind));

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
            let tried: Vec<CoreCandidate> = cands.iter().map(candidate).collect();
            let mut best: Option<(calc::Res, Spec<'_>, Cand)> = None;
            let mut matched: Vec<Cand> = Vec::new();
            for &c in cands.iter() {
                let targ_btf = target.btf_at(c.btf);
                let mut cand_spec = Spec::empty(targ_btf, c.id, kind);
                let found = matching::spec_match(&local_spec, targ_btf, c.id, &mut cand_spec)
                    .map_err(|f| {
                        err(
                            desc.clone(),
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
                            desc,
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
                    (res, CoreMatch::NotFound { candidates: tried })
                }
            }
        };

        let patched = patch::patch(insn, &res).map_err(|e| {
            err(
                desc.clone(),
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

//! The target BTF of a relocation and its candidate index.
//!
//! libbpf scans every type of the target for each local root type it has not seen yet (the
//! kernel's vmlinux has about 150 000). We index the target once by essential name instead; a
//! lookup is then a hash probe plus a filter on the kind. The index keeps libbpf's order: ids
//! ascending, the main BTF before modules, so candidate lists come out the same.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::OnceLock;

use bpfkit_btf::{Btf, Kind, TypeId};

use super::btfx::{self, Ty};
use super::name::essential_name;

/// The named types of one kind, by essential name.
#[derive(Default)]
struct KindIndex {
    /// Hash of an essential name to the first and last entry of its chain in `entries`. Keyed
    /// by the hash alone (small entries, no byte comparisons while indexing): a lookup checks
    /// each entry's name, so a collision only lengthens a chain.
    heads: HashMap<u64, (u32, u32), BuildHasherDefault<IdHasher>>,
    /// `(type id, next entry or u32::MAX)`: one chain per name, ids ascending.
    entries: Vec<(TypeId, u32)>,
}

impl KindIndex {
    fn with_capacity(n: usize) -> KindIndex {
        KindIndex {
            heads: HashMap::with_capacity_and_hasher(n, Default::default()),
            entries: Vec::with_capacity(n),
        }
    }

    /// Adds type `id`, whose essential name hashes to `hash`, after the ids added before.
    fn insert(&mut self, id: TypeId, hash: u64) {
        let at = self.entries.len() as u32;
        self.entries.push((id, u32::MAX));
        let (_, tail) = self.heads.entry(hash).or_insert((at, at));
        if *tail != at {
            self.entries[*tail as usize].1 = at;
            *tail = at;
        }
    }
}

/// The kinds CO-RE roots have in practice, indexed together in one pass on the first lookup.
/// The others (functions above all: 56 000 of vmlinux's 71 000 named types) are indexed one
/// kind per pass, only if some root asks for them.
const COMMON: [Kind; 8] = [
    Kind::Struct,
    Kind::Union,
    Kind::Enum,
    Kind::Enum64,
    Kind::Typedef,
    Kind::Fwd,
    Kind::Int,
    Kind::Float,
];

/// One BTF searched for candidates, with its index by kind and essential name.
struct Searched<'t> {
    btf: &'t Btf<'t>,
    name: String,
    /// The first id searched (1 for a main BTF, a module's first own id otherwise).
    first: TypeId,
    /// The [`COMMON`] kinds' indexes, in that order.
    common: OnceLock<Vec<KindIndex>>,
    /// The other kinds' indexes, by kind number.
    other: [OnceLock<KindIndex>; 20],
}

impl<'t> Searched<'t> {
    fn new(btf: &'t Btf<'t>, name: &str, first: TypeId) -> Searched<'t> {
        Searched {
            btf,
            name: name.to_string(),
            first,
            common: OnceLock::new(),
            other: Default::default(),
        }
    }

    /// One pass over the types, indexing the named ones of `kinds`.
    ///
    /// This runs once per target over all of vmlinux (150 000 types) on the first CO-RE lookup,
    /// so it reads only each type's kind and name offset, and a name only for the kinds asked.
    /// Names are hashed in the pass and inserted afterwards into tables sized for them.
    fn build(&self, kinds: &[Kind]) -> Vec<KindIndex> {
        // Which index each kind goes to (a table: this is asked 150 000 times).
        let mut slot = [u8::MAX; 32];
        for (i, &kind) in kinds.iter().enumerate() {
            slot[kind as usize] = i as u8;
        }
        let mut found: Vec<(u8, TypeId, u64)> = Vec::new();
        self.btf
            .for_each_kind_and_name_off(self.first, &mut |id, kind, name_off| {
                let i = slot[kind as usize & 31];
                if name_off == 0 || i == u8::MAX {
                    return;
                }
                if let Some(name) = self.btf.str_bytes(name_off).filter(|n| !n.is_empty()) {
                    found.push((i, id, name_hash(essential_name(name))));
                }
            });
        let mut counts = vec![0usize; kinds.len()];
        for &(i, _, _) in &found {
            counts[usize::from(i)] += 1;
        }
        let mut indexes: Vec<KindIndex> = counts
            .iter()
            .map(|&n| KindIndex::with_capacity(n))
            .collect();
        for (i, id, hash) in found {
            indexes[usize::from(i)].insert(id, hash);
        }
        indexes
    }

    fn kind_index(&self, kind: Kind) -> &KindIndex {
        match COMMON.iter().position(|&k| k == kind) {
            Some(i) => &self.common.get_or_init(|| self.build(&COMMON))[i],
            None => self.other[kind as usize]
                .get_or_init(|| self.build(&[kind]).pop().unwrap_or_default()),
        }
    }

    /// Ids of `kind` whose essential name is `essential`, ascending.
    fn lookup(&self, kind: Kind, essential: &[u8], out: &mut Vec<TypeId>) {
        let index = self.kind_index(kind);
        let mut next = index
            .heads
            .get(&name_hash(essential))
            .map_or(u32::MAX, |&(head, _)| head);
        while let Some(&(id, after)) = index.entries.get(next as usize) {
            next = after;
            if self
                .btf
                .get(id)
                .is_some_and(|t| essential_name(t.name_bytes()) == essential)
            {
                out.push(id);
            }
        }
    }

    fn indexed(&self) -> usize {
        let count = |i: &KindIndex| i.entries.len();
        self.common
            .get()
            .map_or(0, |c| c.iter().map(count).sum::<usize>())
            + self
                .other
                .iter()
                .filter_map(OnceLock::get)
                .map(count)
                .sum::<usize>()
    }
}

/// A candidate target type: which BTF of the target (index into [`CoreTarget::btfs`]) and id.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Cand {
    pub btf: usize,
    pub id: TypeId,
}

/// The BTF a program is relocated against: the running kernel's vmlinux with module BTFs
/// searched after it, a raw BTF file, an object's `.BTF`, or split BTF on its base. Candidates
/// are indexed by essential name once per target, on the first lookup: the kinds CO-RE roots
/// have in practice (structs, unions, enums, typedefs, ...) in one pass, others when asked.
///
/// As in libbpf, modules are searched only for a local type that has no candidate at all in
/// the main BTF.
pub struct CoreTarget<'t> {
    searched: Vec<Searched<'t>>,
}

impl<'t> CoreTarget<'t> {
    /// A target of one BTF: a raw BTF file, vmlinux, an object's `.BTF`. For split BTF, pass
    /// the split one: its base's types are candidates too, as when libbpf is given split BTF.
    pub fn new(btf: &'t Btf<'t>) -> CoreTarget<'t> {
        CoreTarget::named(btf, "vmlinux")
    }

    /// [`CoreTarget::new`] with a name for messages (libbpf calls its main target "vmlinux").
    pub fn named(btf: &'t Btf<'t>, name: &str) -> CoreTarget<'t> {
        CoreTarget {
            searched: vec![Searched::new(btf, name, TypeId(1))],
        }
    }

    /// Adds a kernel module's split BTF (built on the main BTF): only its own types are
    /// searched, and only for local types that found no candidate in the main BTF.
    pub fn add_module(&mut self, name: &str, module: &'t Btf<'t>) {
        self.searched
            .push(Searched::new(module, name, module.first_id()));
    }

    /// The BTFs searched, main first.
    pub fn btfs(&self) -> impl Iterator<Item = &'t Btf<'t>> + '_ {
        self.searched.iter().map(|s| s.btf)
    }

    /// BTF number `i` (0 is the main one) and its name.
    pub fn btf(&self, i: usize) -> Option<(&'t Btf<'t>, &str)> {
        self.searched.get(i).map(|s| (s.btf, s.name.as_str()))
    }

    /// How many named types are indexed so far, over all BTFs (kinds are indexed on first
    /// use; see [`CoreTarget::index_all`]).
    pub fn indexed(&self) -> usize {
        self.searched.iter().map(Searched::indexed).sum()
    }

    /// Indexes every kind of every BTF now rather than on first use.
    pub fn index_all(&self) {
        for s in &self.searched {
            for &kind in Kind::ALL {
                s.kind_index(kind);
            }
        }
    }

    /// libbpf's `bpf_core_find_cands`: named types of a compatible kind (`btf_kind_core_compat`
    /// with the local root, not skipping typedefs) whose essential name is the local one's.
    pub(crate) fn candidates(&self, local_name: &[u8], local: &Ty<'_>) -> Vec<Cand> {
        let essential = essential_name(local_name);
        // btf_kind_core_compat: the same kind, or any two enums.
        let Some(kind) = btfx::kind(local) else {
            return Vec::new();
        };
        let one = [kind];
        let kinds: &[Kind] = if btfx::is_any_enum(local) {
            &[Kind::Enum, Kind::Enum64]
        } else {
            &one
        };
        let mut out = Vec::new();
        let mut ids = Vec::new();
        for (i, s) in self.searched.iter().enumerate() {
            // Modules only when the main BTF had nothing.
            if i > 0 && !out.is_empty() {
                break;
            }
            ids.clear();
            for &kind in kinds {
                s.lookup(kind, essential, &mut ids);
            }
            // libbpf walks ids in order; two kinds' lists interleave.
            ids.sort_unstable();
            out.extend(ids.iter().map(|&id| Cand { btf: i, id }));
        }
        out
    }

    pub(crate) fn btf_at(&self, i: usize) -> &'t Btf<'t> {
        self.searched[i].btf
    }

    pub(crate) fn name_at(&self, i: usize) -> &str {
        &self.searched[i].name
    }
}

impl std::fmt::Debug for CoreTarget<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list()
            .entries(self.searched.iter().map(|s| (s.name.as_str(), s.indexed())))
            .finish()
    }
}

/// FxHash (rustc's multiply-rotate hash) of a name, eight bytes at a time.
fn name_hash(name: &[u8]) -> u64 {
    const SEED: u64 = 0x51_7c_c1_b7_27_22_0a_95;
    let add = |h: u64, w: u64| (h.rotate_left(5) ^ w).wrapping_mul(SEED);
    let mut h = add(0, name.len() as u64);
    let mut chunks = name.chunks_exact(8);
    for c in &mut chunks {
        let mut w = [0u8; 8];
        w.copy_from_slice(c);
        h = add(h, u64::from_le_bytes(w));
    }
    let rest = chunks.remainder();
    if !rest.is_empty() {
        let mut w = [0u8; 8];
        w[..rest.len()].copy_from_slice(rest);
        h = add(h, u64::from_le_bytes(w));
    }
    h
}

/// The keys are hashes already: they are used as they are.
#[derive(Default, Clone, Copy)]
struct IdHasher(u64);

impl Hasher for IdHasher {
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(b);
        }
    }

    fn write_u64(&mut self, i: u64) {
        self.0 = i;
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

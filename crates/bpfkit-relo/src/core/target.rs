//! The target BTF of a relocation and its candidate index.
//!
//! libbpf scans every type of the target for each local root type it has not seen yet (the
//! kernel's vmlinux has about 150 000). We index the target once by essential name instead; a
//! lookup is then a hash probe plus a filter on the kind. The index keeps libbpf's order: ids
//! ascending, the main BTF before modules, so candidate lists come out the same.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

use bpfkit_btf::{Btf, TypeId};

use super::btfx::{self, Ty};
use super::name::essential_name;

/// One BTF searched for candidates, with its essential-name index.
struct Searched<'t> {
    btf: &'t Btf<'t>,
    name: String,
    /// Essential name to the first and last entry of its chain in `entries`.
    heads: HashMap<&'t [u8], (u32, u32), BuildHasherDefault<FxHasher>>,
    /// `(type id, next entry or u32::MAX)`: one chain per name, ids ascending.
    entries: Vec<(TypeId, u32)>,
}

impl<'t> Searched<'t> {
    /// Indexes the types from `first` on (1 for a main BTF, a module's first own id otherwise).
    fn index(btf: &'t Btf<'t>, name: &str, first: TypeId) -> Searched<'t> {
        let count = btf.type_cnt().saturating_sub(first.0) as usize;
        let mut heads: HashMap<&'t [u8], (u32, u32), BuildHasherDefault<FxHasher>> =
            HashMap::with_capacity_and_hasher(count / 2, BuildHasherDefault::default());
        let mut entries: Vec<(TypeId, u32)> = Vec::with_capacity(count);
        for id in first.0..btf.type_cnt() {
            let Some(t) = btf.get(TypeId(id)) else {
                continue;
            };
            let name = t.name_bytes();
            if name.is_empty() {
                continue;
            }
            let at = entries.len() as u32;
            entries.push((t.id(), u32::MAX));
            match heads.get_mut(essential_name(name)) {
                Some((_, tail)) => {
                    entries[*tail as usize].1 = at;
                    *tail = at;
                }
                None => {
                    heads.insert(essential_name(name), (at, at));
                }
            }
        }
        Searched {
            btf,
            name: name.to_string(),
            heads,
            entries,
        }
    }

    /// Ids whose essential name is `essential`, ascending.
    fn lookup<'s>(&'s self, essential: &[u8]) -> impl Iterator<Item = TypeId> + 's {
        let mut next = self
            .heads
            .get(essential)
            .map_or(u32::MAX, |&(head, _)| head);
        std::iter::from_fn(move || {
            let &(id, after) = self.entries.get(next as usize)?;
            next = after;
            Some(id)
        })
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
/// are indexed by essential name once, when the target is built.
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
            searched: vec![Searched::index(btf, name, TypeId(1))],
        }
    }

    /// Adds a kernel module's split BTF (built on the main BTF): only its own types are
    /// searched, and only for local types that found no candidate in the main BTF.
    pub fn add_module(&mut self, name: &str, module: &'t Btf<'t>) {
        self.searched
            .push(Searched::index(module, name, module.first_id()));
    }

    /// The BTFs searched, main first.
    pub fn btfs(&self) -> impl Iterator<Item = &'t Btf<'t>> + '_ {
        self.searched.iter().map(|s| s.btf)
    }

    /// BTF number `i` (0 is the main one) and its name.
    pub fn btf(&self, i: usize) -> Option<(&'t Btf<'t>, &str)> {
        self.searched.get(i).map(|s| (s.btf, s.name.as_str()))
    }

    /// How many types are indexed, over all BTFs.
    pub fn indexed(&self) -> usize {
        self.searched.iter().map(|s| s.entries.len()).sum()
    }

    /// libbpf's `bpf_core_find_cands`: named types of a compatible kind (`btf_kind_core_compat`
    /// with the local root, not skipping typedefs) whose essential name is the local one's.
    pub(crate) fn candidates(&self, local_name: &[u8], local: &Ty<'_>) -> Vec<Cand> {
        let essential = essential_name(local_name);
        let mut out = Vec::new();
        for (i, s) in self.searched.iter().enumerate() {
            // Modules only when the main BTF had nothing.
            if i > 0 && !out.is_empty() {
                break;
            }
            for id in s.lookup(essential) {
                let t = btfx::ty(s.btf, id);
                if btfx::kind_core_compat(&t, local) {
                    out.push(Cand { btf: i, id });
                }
            }
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
            .entries(
                self.searched
                    .iter()
                    .map(|s| (s.name.as_str(), s.entries.len())),
            )
            .finish()
    }
}

/// The multiply-rotate hash rustc uses for its own tables: names are short and trusted to
/// spread well enough, and SipHash would double the cost of indexing vmlinux.
#[derive(Default, Clone, Copy)]
struct FxHasher {
    hash: u64,
}

const SEED: u64 = 0x51_7c_c1_b7_27_22_0a_95;

impl FxHasher {
    #[inline]
    fn add(&mut self, word: u64) {
        self.hash = (self.hash.rotate_left(5) ^ word).wrapping_mul(SEED);
    }
}

impl Hasher for FxHasher {
    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            self.add(u64::from_le_bytes(c.try_into().unwrap_or_default()));
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let mut buf = [0u8; 8];
            buf[..rest.len()].copy_from_slice(rest);
            self.add(u64::from_le_bytes(buf));
        }
    }

    #[inline]
    fn write_u8(&mut self, i: u8) {
        self.add(u64::from(i));
    }

    #[inline]
    fn write_usize(&mut self, i: usize) {
        self.add(i as u64);
    }

    #[inline]
    fn finish(&self) -> u64 {
        self.hash
    }
}

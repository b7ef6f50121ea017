//! Questions about the type graph: what a type resolves to, its size and alignment, where a
//! member is, which type has a name.
//!
//! The graph comes from untrusted bytes, so every walk is bounded: chains (typedefs, modifiers,
//! arrays) may not be longer than the number of types, which only a cycle can exceed, and
//! walks that branch (alignment, member search) keep the stack of composites they are inside
//! and stop at a repeat or past [`MAX_DEPTH`]. Either way the answer is a [`BtfError`], not a
//! hang or a stack overflow.

use crate::{Btf, BtfError, Kind, KindOrVoid, Member, Type, TypeId};

/// How deep walks that branch (alignment, member search) may nest.
pub const MAX_DEPTH: usize = 256;

impl<'data> Btf<'data> {
    /// The type for `id`, or a `WrongKind` error naming void.
    fn non_void(
        &self,
        id: TypeId,
        expected: &'static str,
        from: Option<&Type<'data>>,
    ) -> Result<Type<'data>, BtfError> {
        if id.is_void() {
            return Err(BtfError::WrongKind {
                offset: from.map_or(0, |t| t.offset()),
                type_id: 0,
                expected,
                found: KindOrVoid::Void,
            });
        }
        self.type_by_id(id)
    }

    /// Follows `step` from `id` while it returns a next id; errors on a cycle.
    fn follow(
        &self,
        mut id: TypeId,
        step: impl Fn(&Type<'data>) -> Option<TypeId>,
    ) -> Result<TypeId, BtfError> {
        if id.0 >= self.type_cnt() {
            return Err(BtfError::NoSuchType { type_id: id.0 });
        }
        // A chain through distinct types is at most `type_cnt` long; longer means a cycle.
        for _ in 0..self.type_cnt() {
            let Some(t) = self.get(id) else {
                return Ok(id);
            };
            match step(&t) {
                Some(next) => id = next,
                None => return Ok(id),
            }
        }
        let t = self.type_by_id(id)?;
        Err(BtfError::Cycle {
            offset: t.offset(),
            type_id: id.0,
        })
    }

    /// Skips const, volatile, restrict and type tags.
    pub fn skip_mods(&self, id: TypeId) -> Result<TypeId, BtfError> {
        self.follow(id, |t| {
            t.kind().is_modifier().then(|| t.ref_type()).flatten()
        })
    }

    /// Skips modifiers and typedefs: the type a value of type `id` really is (may be void).
    pub fn resolve(&self, id: TypeId) -> Result<TypeId, BtfError> {
        self.follow(id, |t| {
            (t.kind().is_modifier() || t.kind() == Kind::Typedef)
                .then(|| t.ref_type())
                .flatten()
        })
    }

    /// The pointer size used for sizes and alignments: set with [`Btf::set_ptr_size`], else
    /// [`Btf::guess_ptr_size`], else 8 (BPF's).
    pub fn ptr_size(&self) -> u32 {
        *self
            .ptr_size_cell()
            .get_or_init(|| self.guess_ptr_size().unwrap_or(8))
    }

    /// Fixes the pointer size (e.g. from an ELF file's class); ignored once already decided.
    pub fn set_ptr_size(&self, size: u32) {
        let _ = self.ptr_size_cell().set(size);
    }

    /// `sizeof`: bytes a value of type `id` takes, through typedefs, modifiers, VARs and arrays.
    ///
    /// Void, functions, prototypes and forward declarations have no size (`WrongKind`).
    pub fn size_of(&self, id: TypeId) -> Result<u64, BtfError> {
        let mut nelems: u64 = 1;
        let mut id = id;
        let mut prev: Option<Type<'data>> = None;
        for _ in 0..=self.type_cnt() {
            let t = self.non_void(id, "which has no size", prev.as_ref())?;
            let size = match t.kind() {
                Kind::Int
                | Kind::Struct
                | Kind::Union
                | Kind::Enum
                | Kind::Enum64
                | Kind::Datasec
                | Kind::Float => u64::from(t.size_or_type()),
                Kind::Ptr => u64::from(self.ptr_size()),
                Kind::Typedef
                | Kind::Volatile
                | Kind::Const
                | Kind::Restrict
                | Kind::TypeTag
                | Kind::Var
                | Kind::DeclTag => {
                    id = TypeId(t.size_or_type());
                    prev = Some(t);
                    continue;
                }
                Kind::Array => {
                    let a = t.array().unwrap_or_default();
                    nelems =
                        nelems
                            .checked_mul(u64::from(a.nelems))
                            .ok_or(BtfError::SizeOverflow {
                                offset: t.offset(),
                                type_id: t.id().0,
                            })?;
                    id = a.elem_type;
                    prev = Some(t);
                    continue;
                }
                Kind::Func | Kind::FuncProto | Kind::Fwd => {
                    return Err(BtfError::WrongKind {
                        offset: t.offset(),
                        type_id: t.id().0,
                        expected: "which has no size",
                        found: KindOrVoid::Kind(t.kind()),
                    });
                }
            };
            return size.checked_mul(nelems).ok_or(BtfError::SizeOverflow {
                offset: t.offset(),
                type_id: t.id().0,
            });
        }
        let t = self.type_by_id(id)?;
        Err(BtfError::Cycle {
            offset: t.offset(),
            type_id: id.0,
        })
    }

    /// Alignment in bytes, as C lays the type out: natural alignment for scalars (capped at 16
    /// on 64-bit targets, at the pointer size on 32-bit ones), the largest member's for
    /// composites, and 1 for a composite whose layout shows it is packed (a misaligned member
    /// or a size that is not a multiple of the alignment). This is libbpf's `btf__align_of`
    /// except for 16-byte scalars, which libbpf aligns to 8 and C compilers to 16.
    pub fn align_of(&self, id: TypeId) -> Result<u32, BtfError> {
        let mut stack = Vec::new();
        self.align_of_in(id, &mut stack)
    }

    fn align_of_in(&self, id: TypeId, stack: &mut Vec<u32>) -> Result<u32, BtfError> {
        let id = self.skip_typedefs_mods_arrays(id)?;
        let t = self.non_void(id, "which has no alignment", None)?;
        match t.kind() {
            Kind::Int | Kind::Enum | Kind::Enum64 | Kind::Float => {
                // libbpf caps scalars at the pointer size, but 64-bit C ABIs (x86-64, arm64,
                // and clang's BPF target) align `__int128` and `long double` to 16.
                let cap = if self.ptr_size() >= 8 {
                    16
                } else {
                    self.ptr_size()
                };
                Ok(cap.min(t.size_or_type()).max(1))
            }
            Kind::Ptr => Ok(self.ptr_size().max(1)),
            Kind::Struct | Kind::Union => {
                if stack.contains(&id.0) {
                    return Err(BtfError::Cycle {
                        offset: t.offset(),
                        type_id: id.0,
                    });
                }
                if stack.len() >= MAX_DEPTH {
                    return Err(BtfError::TooDeep {
                        offset: t.offset(),
                        type_id: id.0,
                        limit: MAX_DEPTH,
                    });
                }
                stack.push(id.0);
                let mut max_align = 1;
                let mut packed = false;
                for m in t.members() {
                    let align = self.align_of_in(m.type_id(), stack)?;
                    max_align = max_align.max(align);
                    if m.bitfield_size() == 0
                        && u64::from(m.raw_offset()) % (8 * u64::from(align)) != 0
                    {
                        packed = true;
                    }
                }
                stack.pop();
                if packed || t.size_or_type() % max_align != 0 {
                    Ok(1)
                } else {
                    Ok(max_align)
                }
            }
            _ => Err(BtfError::WrongKind {
                offset: t.offset(),
                type_id: id.0,
                expected: "which has no alignment",
                found: KindOrVoid::Kind(t.kind()),
            }),
        }
    }

    /// Skips typedefs, modifiers and arrays (to the element type).
    fn skip_typedefs_mods_arrays(&self, id: TypeId) -> Result<TypeId, BtfError> {
        self.follow(id, |t| match t.kind() {
            Kind::Array => t.array().map(|a| a.elem_type),
            k if k.is_modifier() || k == Kind::Typedef => t.ref_type(),
            _ => None,
        })
    }

    /// Offset of a member from the start of its struct in bits. Without `kind_flag`, a
    /// bitfield's INT type may carry a bit offset of its own (the pre-`kind_flag` encoding),
    /// which is added.
    pub fn member_bit_offset(&self, m: &Member<'_>) -> Result<u64, BtfError> {
        let base = u64::from(m.bit_offset());
        if m.bitfield_size() != 0 || m.raw_offset() != m.bit_offset() {
            return Ok(base);
        }
        let t = self.get(self.resolve(m.type_id())?);
        Ok(base
            + t.and_then(|t| t.int())
                .map_or(0, |i| u64::from(i.bit_offset)))
    }

    /// Width of a bitfield member in bits, 0 for a plain member. With `kind_flag` it is in the
    /// member; without, a member is a bitfield when its INT type has fewer bits than its size.
    pub fn member_bitfield_size(&self, m: &Member<'_>) -> Result<u32, BtfError> {
        if m.bitfield_size() != 0 {
            return Ok(m.bitfield_size());
        }
        let Some(t) = self.get(self.resolve(m.type_id())?) else {
            return Ok(0);
        };
        Ok(match t.int() {
            Some(i) if u64::from(i.bits) != u64::from(i.size) * 8 || i.bit_offset != 0 => {
                u32::from(i.bits)
            }
            _ => 0,
        })
    }

    /// Finds member `name` of the struct or union `id`, looking inside anonymous struct and
    /// union members as C does. Returns the member and its bit offset from the start of `id`.
    pub fn find_member(
        &self,
        id: TypeId,
        name: &str,
    ) -> Result<Option<(Member<'data>, u64)>, BtfError> {
        let mut stack = Vec::new();
        self.find_member_in(id, name.as_bytes(), 0, &mut stack)
    }

    fn find_member_in(
        &self,
        id: TypeId,
        name: &[u8],
        base: u64,
        stack: &mut Vec<u32>,
    ) -> Result<Option<(Member<'data>, u64)>, BtfError> {
        let id = self.resolve(id)?;
        let Some(t) = self.get(id) else {
            return Ok(None);
        };
        if !matches!(t.kind(), Kind::Struct | Kind::Union) {
            return Ok(None);
        }
        if stack.contains(&id.0) || stack.len() >= MAX_DEPTH {
            return Err(if stack.contains(&id.0) {
                BtfError::Cycle {
                    offset: t.offset(),
                    type_id: id.0,
                }
            } else {
                BtfError::TooDeep {
                    offset: t.offset(),
                    type_id: id.0,
                    limit: MAX_DEPTH,
                }
            });
        }
        stack.push(id.0);
        for m in t.members() {
            let off = base + self.member_bit_offset(&m)?;
            if m.name_offset() == 0 {
                if let Some(found) = self.find_member_in(m.type_id(), name, off, stack)? {
                    stack.pop();
                    return Ok(Some(found));
                }
            } else if m.name_bytes() == name {
                stack.pop();
                return Ok(Some((m, off)));
            }
        }
        stack.pop();
        Ok(None)
    }

    /// The first type (lowest id, base first) named `name` of kind `kind`, as libbpf's
    /// `btf__find_by_name_kind`.
    pub fn find_by_name_kind(&self, name: &str, kind: Kind) -> Option<TypeId> {
        self.all_types()
            .find(|t| t.kind() == kind && t.name_bytes() == name.as_bytes())
            .map(|t| t.id())
    }

    /// [`Btf::find_by_name_kind`] through an index of every name, built on the first call and
    /// kept: for callers that look up many names in one BTF (a verifier binding kfuncs and
    /// attach targets in vmlinux for program after program).
    pub fn find_indexed(&self, name: &str, kind: Kind) -> Option<TypeId> {
        let names = self.names_cell().get_or_init(|| {
            let mut v: Vec<(u64, TypeId)> = self
                .all_types()
                .filter(|t| t.name_offset() != 0)
                .map(|t| (name_hash(t.name_bytes()), t.id()))
                .collect();
            v.sort_unstable();
            v
        });
        let h = name_hash(name.as_bytes());
        let start = names.partition_point(|&(x, _)| x < h);
        names[start..]
            .iter()
            .take_while(|&&(x, _)| x == h)
            .map(|&(_, id)| id)
            .find(|&id| {
                self.get(id)
                    .is_some_and(|t| t.kind() == kind && t.name_bytes() == name.as_bytes())
            })
    }

    /// The first type (lowest id, base first) named `name`, of any kind.
    pub fn find_by_name(&self, name: &str) -> Option<TypeId> {
        self.all_types()
            .find(|t| t.name_offset() != 0 && t.name_bytes() == name.as_bytes())
            .map(|t| t.id())
    }

    /// Every type named `name`, in id order.
    pub fn find_all_by_name<'a>(&'a self, name: &'a str) -> impl Iterator<Item = Type<'data>> + 'a {
        self.all_types()
            .filter(move |t| t.name_offset() != 0 && t.name_bytes() == name.as_bytes())
    }

    /// The name of type `id`: empty when anonymous, `void` for id 0.
    pub fn type_name(&self, id: TypeId) -> Result<&'data str, BtfError> {
        if id.is_void() {
            return Ok("void");
        }
        self.type_by_id(id)?.name()
    }
}

/// Type ids by name, built once for repeated lookups (a CO-RE relocator asks vmlinux for
/// thousands of names; [`Btf::find_by_name_kind`] scans every type each time).
#[derive(Clone, Debug, Default)]
pub struct NameIndex<'data> {
    ids: std::collections::HashMap<&'data [u8], Vec<TypeId>>,
}

impl<'data> NameIndex<'data> {
    /// The ids of every named type called `name`, lowest first.
    pub fn get(&self, name: &str) -> &[TypeId] {
        self.ids.get(name.as_bytes()).map_or(&[], Vec::as_slice)
    }

    /// The first type called `name` of kind `kind` (the same answer as
    /// [`Btf::find_by_name_kind`]).
    pub fn find(&self, btf: &Btf<'data>, name: &str, kind: Kind) -> Option<TypeId> {
        self.get(name)
            .iter()
            .copied()
            .find(|&id| btf.get(id).is_some_and(|t| t.kind() == kind))
    }
}

impl<'data> Btf<'data> {
    /// Indexes every named type by name (base types included for split BTF).
    pub fn name_index(&self) -> NameIndex<'data> {
        let mut ids: std::collections::HashMap<&'data [u8], Vec<TypeId>> =
            std::collections::HashMap::new();
        for t in self.all_types() {
            if t.name_offset() != 0 {
                ids.entry(t.name_bytes()).or_default().push(t.id());
            }
        }
        NameIndex { ids }
    }
}

/// A 64-bit hash of a name (FNV-1a): the index keeps hashes, not borrowed names.
fn name_hash(name: &[u8]) -> u64 {
    name.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

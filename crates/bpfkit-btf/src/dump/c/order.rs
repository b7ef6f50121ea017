//! Ordering: which types must be defined before which, and libbpf's size and alignment rules
//! the layout decisions use.
//!
//! A dependency is *strong* when the dependent needs a complete definition (a member embedded
//! by value, or reached inline through an anonymous type) and *weak* when a forward declaration
//! will do (through a pointer to a named type). `order_type` is a depth-first walk returning
//! that strength and queueing named definitions after everything they strongly depend on.

use std::io::Write;

use super::{CDumper, OrderState};
use crate::{BtfError, Kind, TypeId};

/// libbpf's `MAX_RESOLVE_DEPTH` for `btf__resolve_size`.
const MAX_RESOLVE_DEPTH: usize = 32;

impl<W: Write> CDumper<'_, '_, W> {
    /// Marks every type some other type refers to. Only anonymous enums care: an unreferenced
    /// one is a top-level constant list and is printed on its own.
    pub(super) fn mark_referenced(&mut self) {
        for t in self.btf.all_types() {
            let mut mark = |r: TypeId| self.state(r.0).referenced = true;
            match t.kind() {
                Kind::Int | Kind::Enum | Kind::Enum64 | Kind::Fwd | Kind::Float => {}
                Kind::Array => {
                    let a = t.array().unwrap_or_default();
                    mark(a.index_type);
                    mark(a.elem_type);
                }
                Kind::Struct | Kind::Union => t.members().for_each(|m| mark(m.type_id())),
                Kind::FuncProto => t.params().for_each(|p| mark(p.type_id())),
                Kind::Datasec => t.var_secinfos().for_each(|v| mark(v.type_id)),
                _ => t.ref_type().into_iter().for_each(mark),
            }
        }
    }

    /// Orders `id` and what it needs; `Ok(true)` when the link to it is strong.
    pub(super) fn order_type(&mut self, id: u32, through_ptr: bool) -> Result<bool, BtfError> {
        self.enter(id)?;
        let r = self.order_type_inner(id, through_ptr);
        self.leave();
        r
    }

    fn order_type_inner(&mut self, id: u32, through_ptr: bool) -> Result<bool, BtfError> {
        // Tells typedefs that it is fine to be emitted.
        if self.state(id).order == OrderState::Ordered {
            return Ok(true);
        }
        let Some(t) = self.ty(id) else {
            return Ok(true);
        };
        let named = t.name_offset() != 0;
        if self.state(id).order == OrderState::Ordering {
            // A loop that a forward declaration breaks.
            if matches!(t.kind(), Kind::Struct | Kind::Union) && through_ptr && named {
                return Ok(false);
            }
            return Err(BtfError::Cycle {
                offset: t.offset(),
                type_id: id,
            });
        }
        match t.kind() {
            Kind::Int | Kind::Float => {
                self.state(id).order = OrderState::Ordered;
                Ok(false)
            }
            Kind::Ptr => {
                let r = self.order_type(t.size_or_type(), true);
                self.state(id).order = OrderState::Ordered;
                r
            }
            Kind::Array => {
                let elem = t.array().unwrap_or_default().elem_type.0;
                self.order_type(elem, false)
            }
            Kind::Struct | Kind::Union => {
                // Strong only when embedded, or when anonymous (so defined inline even
                // behind a pointer).
                if through_ptr && named {
                    return Ok(false);
                }
                self.state(id).order = OrderState::Ordering;
                for m in t.members() {
                    self.order_type(m.type_id().0, false)?;
                }
                if named {
                    self.emit_queue.push(id);
                }
                self.state(id).order = OrderState::Ordered;
                Ok(true)
            }
            Kind::Enum | Kind::Enum64 | Kind::Fwd => {
                // Named or unreferenced enums are top-level declarations; FWDs likewise.
                if named || !self.state(id).referenced {
                    self.emit_queue.push(id);
                }
                self.state(id).order = OrderState::Ordered;
                Ok(true)
            }
            Kind::Typedef => {
                let strong = self.order_type(t.size_or_type(), through_ptr)?;
                // Like structs: behind a pointer a typedef can wait.
                if through_ptr && !strong {
                    return Ok(false);
                }
                self.emit_queue.push(id);
                self.state(id).order = OrderState::Ordered;
                Ok(true)
            }
            Kind::Volatile | Kind::Const | Kind::Restrict | Kind::TypeTag => {
                self.order_type(t.size_or_type(), through_ptr)
            }
            Kind::FuncProto => {
                let mut strong = self.order_type(t.size_or_type(), through_ptr)?;
                for p in t.params() {
                    if self.order_type(p.type_id().0, through_ptr)? {
                        strong = true;
                    }
                }
                Ok(strong)
            }
            Kind::Func | Kind::Var | Kind::Datasec | Kind::DeclTag => {
                self.state(id).order = OrderState::Ordered;
                Ok(false)
            }
        }
    }

    /// libbpf's `btf__align_of`: 0 for kinds without alignment (void, FWD, prototypes, ...).
    pub(super) fn align_of(&mut self, id: u32) -> Result<u32, BtfError> {
        if let Some(&cached) = self.align_cache.get(id as usize) {
            if cached != 0 {
                return Ok(cached - 1);
            }
        }
        self.enter(id)?;
        let r = self.align_of_inner(id);
        self.leave();
        let align = r?;
        if let Some(slot) = self.align_cache.get_mut(id as usize) {
            *slot = align.saturating_add(1);
        }
        Ok(align)
    }

    fn align_of_inner(&mut self, id: u32) -> Result<u32, BtfError> {
        let Some(t) = self.ty(id) else { return Ok(0) };
        match t.kind() {
            Kind::Int | Kind::Enum | Kind::Enum64 | Kind::Float => {
                Ok(self.ptr_size.min(t.size_or_type()))
            }
            Kind::Ptr => Ok(self.ptr_size),
            Kind::Typedef | Kind::Volatile | Kind::Const | Kind::Restrict | Kind::TypeTag => {
                self.align_of(t.size_or_type())
            }
            Kind::Array => self.align_of(t.array().unwrap_or_default().elem_type.0),
            Kind::Struct | Kind::Union => {
                let mut max_align = 1;
                for m in t.members() {
                    let align = self.align_of(m.type_id().0)?;
                    if align == 0 {
                        return Ok(0);
                    }
                    max_align = max_align.max(align);
                    // A misaligned member means the struct is packed.
                    if m.bitfield_size() == 0
                        && u64::from(m.raw_offset()) % (8 * u64::from(align)) != 0
                    {
                        return Ok(1);
                    }
                }
                // So does a size that is not a multiple of the alignment.
                if t.size_or_type() % max_align != 0 {
                    return Ok(1);
                }
                Ok(max_align)
            }
            _ => Ok(0),
        }
    }

    /// libbpf's `btf_is_struct_packed`: some plain member is misaligned, or the size is not a
    /// multiple of the largest member alignment.
    pub(super) fn is_struct_packed(&mut self, id: u32) -> Result<bool, BtfError> {
        let Some(t) = self.ty(id) else {
            return Ok(false);
        };
        let mut max_align = 1;
        for m in t.members() {
            let align = self.align_of(m.type_id().0)?;
            if align != 0
                && m.bitfield_size() == 0
                && u64::from(m.raw_offset()) % (8 * u64::from(align)) != 0
            {
                return Ok(true);
            }
            max_align = max_align.max(align);
        }
        Ok(t.size_or_type() % max_align != 0)
    }

    /// libbpf's `btf__resolve_size`, with its 32-step limit and 32-bit overflow checks; `None`
    /// where libbpf returns an error.
    pub(super) fn resolve_size(&self, id: u32) -> Option<u64> {
        let mut nelems: u32 = 1;
        let mut id = id;
        for _ in 0..MAX_RESOLVE_DEPTH {
            let t = self.ty(id)?;
            let size = match t.kind() {
                Kind::Int
                | Kind::Struct
                | Kind::Union
                | Kind::Enum
                | Kind::Enum64
                | Kind::Datasec
                | Kind::Float => t.size_or_type(),
                Kind::Ptr => self.ptr_size,
                Kind::Typedef
                | Kind::Volatile
                | Kind::Const
                | Kind::Restrict
                | Kind::Var
                | Kind::DeclTag
                | Kind::TypeTag => {
                    id = t.size_or_type();
                    continue;
                }
                Kind::Array => {
                    let a = t.array().unwrap_or_default();
                    if nelems != 0 && a.nelems > u32::MAX / nelems {
                        return None;
                    }
                    nelems *= a.nelems;
                    id = a.elem_type.0;
                    continue;
                }
                _ => return None,
            };
            if nelems != 0 && size > u32::MAX / nelems {
                return None;
            }
            return Some(u64::from(nelems) * u64::from(size));
        }
        None
    }
}

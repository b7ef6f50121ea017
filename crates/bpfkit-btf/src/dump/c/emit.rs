//! Emission: definitions, forward declarations, padding, and C declarators.
//!
//! Declarators are the subtle part: BTF chains run outside-in (`typedef -> array -> ptr ->
//! const -> int`) while C writes modifiers left of base types but right of pointers, and wraps
//! arrays and function pointers in parentheses. A chain is collected onto a stack down to its
//! base type, then printed by popping, as libbpf's `btf_dump_emit_type_chain` does.

use std::io::Write;

use super::{CDumper, EmitState};
use crate::{BtfError, Kind, Type};

/// Tabs for indentation; libbpf stops indenting deeper than this.
const PREFIXES: &[u8] = b"\t\t\t\t\t\t\t\t\t\t\t\t\t";

/// Largest padding gap printed; anything larger is a forged size (see the module docs).
const MAX_PADDING_BITS: i64 = 1 << 20;

/// `roundup(x, y)` for non-negative `x`; a zero `y` (libbpf would divide by zero) keeps `x`.
fn roundup(x: i64, y: i64) -> i64 {
    if y <= 0 { x } else { (x + y - 1) / y * y }
}

fn pfx(lvl: usize) -> &'static [u8] {
    &PREFIXES[..lvl.min(PREFIXES.len())]
}

/// libbpf aliases for GCC's ARM SIMD base types, printed before the INT that needs them.
const MISSING_BASE_TYPES: [(&[u8], &[u8]); 4] = [
    (b"__Poly8_t", b"unsigned char"),
    (b"__Poly16_t", b"unsigned short"),
    (b"__Poly64_t", b"unsigned long long"),
    (b"__Poly128_t", b"unsigned __int128"),
];

impl<'data, W: Write> CDumper<'_, 'data, W> {
    /// Emits `id` (and the forward declarations it needs) at the top level when `cont_id` is 0,
    /// else as used inside the struct or typedef `cont_id`.
    pub(super) fn emit_type(&mut self, id: u32, cont_id: u32) -> Result<(), BtfError> {
        self.enter(id)?;
        let r = self.emit_type_inner(id, cont_id);
        self.leave();
        r
    }

    fn emit_type_inner(&mut self, id: u32, cont_id: u32) -> Result<(), BtfError> {
        let top_level = cont_id == 0;
        if self.state(id).emit == EmitState::Emitted {
            return Ok(());
        }
        let Some(t) = self.ty(id) else { return Ok(()) };
        let named = t.name_offset() != 0;
        if self.state(id).emit == EmitState::Emitting {
            // A loop: a forward declaration (or for a typedef its definition) breaks it.
            if self.state(id).fwd_emitted {
                return Ok(());
            }
            match t.kind() {
                Kind::Struct | Kind::Union => {
                    // Referring to the struct we are inside needs no declaration; an anonymous
                    // loop cannot be declared at all (libbpf warns and goes on).
                    if id == cont_id || !named {
                        return Ok(());
                    }
                    self.emit_struct_fwd(id, &t);
                    self.out.s(b";\n\n");
                    self.state(id).fwd_emitted = true;
                }
                Kind::Typedef => {
                    if !self.is_blacklisted(&t) {
                        self.emit_typedef_def(id, &t, 0)?;
                        self.out.s(b";\n\n");
                    }
                    self.state(id).fwd_emitted = true;
                }
                _ => {}
            }
            return Ok(());
        }
        match t.kind() {
            Kind::Int => {
                self.emit_missing_aliases(id);
                self.state(id).emit = EmitState::Emitted;
            }
            Kind::Enum | Kind::Enum64 => {
                if top_level {
                    self.emit_enum_def(id, &t, 0);
                    self.out.s(b";\n\n");
                }
                self.state(id).emit = EmitState::Emitted;
            }
            Kind::Ptr | Kind::Volatile | Kind::Const | Kind::Restrict | Kind::TypeTag => {
                self.emit_type(t.size_or_type(), cont_id)?;
            }
            Kind::Array => {
                self.emit_type(t.array().unwrap_or_default().elem_type.0, cont_id)?;
            }
            Kind::Fwd => {
                self.emit_fwd_def(id, &t);
                self.out.s(b";\n\n");
                self.state(id).emit = EmitState::Emitted;
            }
            Kind::Typedef => {
                self.state(id).emit = EmitState::Emitting;
                self.emit_type(t.size_or_type(), id)?;
                // Unless a pointer already needed it as a forward declaration, define it now.
                if !self.state(id).fwd_emitted && !self.is_blacklisted(&t) {
                    self.emit_typedef_def(id, &t, 0)?;
                    self.out.s(b";\n\n");
                }
                self.state(id).emit = EmitState::Emitted;
            }
            Kind::Struct | Kind::Union => {
                self.state(id).emit = EmitState::Emitting;
                // A definition prints every member's type, so each needs its declarations.
                if top_level || !named {
                    let new_cont = if named { id } else { cont_id };
                    for m in t.members() {
                        self.emit_type(m.type_id().0, new_cont)?;
                    }
                } else if !self.state(id).fwd_emitted && id != cont_id {
                    self.emit_struct_fwd(id, &t);
                    self.out.s(b";\n\n");
                    self.state(id).fwd_emitted = true;
                }
                if top_level {
                    self.emit_struct_def(id, &t, 0)?;
                    self.out.s(b";\n\n");
                    self.state(id).emit = EmitState::Emitted;
                } else {
                    self.state(id).emit = EmitState::NotEmitted;
                }
            }
            Kind::FuncProto => {
                self.emit_type(t.size_or_type(), cont_id)?;
                for p in t.params() {
                    self.emit_type(p.type_id().0, cont_id)?;
                }
            }
            _ => {}
        }
        Ok(())
    }

    /// `__builtin_va_list` is the compiler's own; defining it breaks compilation.
    fn is_blacklisted(&self, t: &Type<'data>) -> bool {
        t.name_offset() != 0 && t.name_bytes() == b"__builtin_va_list"
    }

    fn emit_missing_aliases(&mut self, id: u32) {
        let name = self.type_name(id);
        if let Some((_, base)) = MISSING_BASE_TYPES.iter().find(|(n, _)| **n == *name) {
            self.out.s(b"typedef ");
            self.out.s(base);
            self.out.s(b" ");
            self.out.s(&name);
            self.out.s(b";\n\n");
        }
    }

    fn emit_struct_fwd(&mut self, id: u32, t: &Type<'data>) {
        self.out.s(if t.kind() == Kind::Struct {
            b"struct"
        } else {
            b"union"
        });
        if t.name_offset() != 0 {
            self.out.s(b" ");
        }
        let name = self.type_name(id);
        self.out.s(&name);
    }

    pub(super) fn emit_struct_def(
        &mut self,
        id: u32,
        t: &Type<'data>,
        lvl: usize,
    ) -> Result<(), BtfError> {
        self.enter(id)?;
        let r = self.emit_struct_def_inner(id, t, lvl);
        self.leave();
        r
    }

    fn emit_struct_def_inner(
        &mut self,
        id: u32,
        t: &Type<'data>,
        lvl: usize,
    ) -> Result<(), BtfError> {
        let is_struct = t.kind() == Kind::Struct;
        let align = self.align_of(id)?;
        let packed = is_struct && self.is_struct_packed(id)?;
        self.emit_struct_fwd(id, t);
        self.out.s(b" {");
        let mut off: i64 = 0;
        let mut prev_bitfield = false;
        for m in t.members() {
            let bits = i64::from(m.bitfield_size());
            let m_off = i64::from(m.bit_offset());
            let m_align = if packed {
                1
            } else {
                self.align_of(m.type_id().0)?
            };
            let in_bitfield = prev_bitfield && bits != 0;
            self.emit_bit_padding(t, off, m_off, m_align, in_bitfield, lvl + 1)?;
            self.out.s(b"\n");
            self.out.s(pfx(lvl + 1));
            self.emit_type_decl(m.type_id().0, m.name_bytes(), lvl + 1)?;
            if bits != 0 {
                self.out.s(b": ");
                self.out.i64(bits);
                off = m_off + bits;
                prev_bitfield = true;
            } else {
                let size = self.resolve_size(m.type_id().0).unwrap_or(0);
                off = m_off + i64::try_from(size).unwrap_or(i64::MAX / 16) * 8;
                prev_bitfield = false;
            }
            self.out.s(b";");
        }
        if is_struct {
            let end = i64::from(t.size_or_type()) * 8;
            self.emit_bit_padding(t, off, end, align, false, lvl + 1)?;
        }
        // `struct empty {}` stays on one line.
        if t.vlen() != 0 || t.size_or_type() != 0 {
            self.out.s(b"\n");
            self.out.s(pfx(lvl));
        }
        self.out.s(b"}");
        if packed {
            self.out.s(b" __attribute__((packed))");
        }
        Ok(())
    }

    /// Fills the gap from bit `cur` to bit `next` with unnamed bitfields, relying on natural
    /// alignment where it gets there by itself (libbpf's `btf_dump_emit_bit_padding`).
    fn emit_bit_padding(
        &mut self,
        t: &Type<'data>,
        mut cur: i64,
        next: i64,
        next_align: u32,
        in_bitfield: bool,
        lvl: usize,
    ) -> Result<(), BtfError> {
        if cur >= next {
            return Ok(());
        }
        if next - cur > MAX_PADDING_BITS {
            return Err(BtfError::PaddingTooLarge {
                offset: t.offset(),
                type_id: t.id().0,
                bits: (next - cur) as u64,
            });
        }
        let pads: [(&[u8], i64); 4] = [
            (b"long", i64::from(self.ptr_size) * 8),
            (b"int", 32),
            (b"short", 16),
            (b"char", 8),
        ];
        // The largest type whose natural alignment lands at or before `next`.
        let (mut pad_type, mut pad_bits) = pads[3];
        let mut new_off = 0;
        for &(name, bits) in &pads {
            pad_type = name;
            pad_bits = bits;
            new_off = roundup(cur, bits);
            if new_off <= next {
                break;
            }
        }
        if new_off > cur && new_off <= next {
            // An explicit `type: 0` is needed when the next member's own alignment would not
            // get there, or when `type: N` would fit in the hole and be ignored; bitfields
            // get an explicit width instead.
            if in_bitfield
                || (new_off == next && roundup(cur, i64::from(next_align) * 8) != new_off)
                || (new_off != next && next - new_off <= new_off - cur)
            {
                self.pad_line(lvl, pad_type, if in_bitfield { new_off - cur } else { 0 });
            }
            cur = new_off;
        }
        // Whole `type: sizeof(type)` markers, then the smallest type for the remainder.
        while cur != next {
            let bits = (next - cur).min(pad_bits);
            if bits == pad_bits {
                self.pad_line(lvl, pad_type, pad_bits);
                cur += bits;
                continue;
            }
            for &(name, size) in pads.iter().rev() {
                pad_type = name;
                pad_bits = size;
                if size < bits {
                    continue;
                }
                self.pad_line(lvl, name, bits);
                cur += bits;
                break;
            }
            if pad_bits < bits {
                // No pad type is wide enough (a pointer size under 4 bytes); stop rather than
                // loop.
                break;
            }
        }
        Ok(())
    }

    fn pad_line(&mut self, lvl: usize, pad_type: &[u8], bits: i64) {
        self.out.s(b"\n");
        self.out.s(pfx(lvl));
        self.out.s(pad_type);
        self.out.s(b": ");
        self.out.i64(bits);
        self.out.s(b";");
    }

    fn emit_enum_fwd(&mut self, id: u32) {
        self.out.s(b"enum ");
        let name = self.type_name(id);
        self.out.s(&name);
    }

    fn emit_enum_def(&mut self, id: u32, t: &Type<'data>, lvl: usize) {
        self.out.s(b"enum");
        if t.name_offset() != 0 {
            self.out.s(b" ");
        }
        let name = self.type_name(id);
        self.out.s(&name);
        if t.vlen() == 0 {
            return;
        }
        self.out.s(b" {");
        let signed = t.kind_flag();
        let is64 = t.kind() == Kind::Enum64;
        for v in t.enum_values() {
            self.out.s(b"\n");
            self.out.s(pfx(lvl + 1));
            let vname = v.name_bytes();
            self.out.s(vname);
            // Enumerators share the namespace of typedefs.
            let dups = self.name_dups(super::Namespace::Idents, vname);
            if dups > 1 {
                self.out.s(b"___");
                self.out.u64(dups as u64);
            }
            self.out.s(b" = ");
            match (is64, signed) {
                (false, false) => self.out.u64(u64::from(v.lo32())),
                (false, true) => self.out.i64(i64::from(v.lo32() as i32)),
                (true, false) => {
                    self.out.u64(v.bits());
                    self.out.s(b"ULL");
                }
                (true, true) => {
                    self.out.i64(v.bits() as i64);
                    self.out.s(b"LL");
                }
            }
            self.out.s(b",");
        }
        self.out.s(b"\n");
        self.out.s(pfx(lvl));
        self.out.s(b"}");
        if self.sized_enums {
            self.emit_enum_size(t);
        }
    }

    /// libbpf >= 1.1's attributes for enums whose size C would not give them by itself
    /// (`CDumpOptions::sized_enums`).
    fn emit_enum_size(&mut self, t: &Type<'data>) {
        let size = t.size_or_type();
        if size == 1 {
            self.out.s(b" __attribute__((mode(byte)))");
        } else if size == 8 && self.ptr_size == 8 {
            // An 8-byte ENUM needs mode(word); an ENUM64 gets there by itself when some value
            // needs the upper 32 bits.
            let needs_word = t.kind() == Kind::Enum || t.enum_values().all(|v| v.hi32() == 0);
            if needs_word {
                self.out.s(b" __attribute__((mode(word)))");
            }
        }
    }

    fn emit_fwd_def(&mut self, id: u32, t: &Type<'data>) {
        let name = self.type_name(id);
        self.out
            .s(if t.kind_flag() { b"union " } else { b"struct " });
        self.out.s(&name);
    }

    fn emit_typedef_def(&mut self, id: u32, t: &Type<'data>, lvl: usize) -> Result<(), BtfError> {
        let name = self.ident_name(id);
        // Old GCC emits `__gnuc_va_list` as a typedef of void.
        if t.size_or_type() == 0 && *name == *b"__gnuc_va_list" {
            self.out.s(b"typedef __builtin_va_list __gnuc_va_list");
            return Ok(());
        }
        self.out.s(b"typedef ");
        self.emit_type_decl(t.size_or_type(), &name, lvl)
    }

    /// Emits the declaration of `fname` with type `id` (a member, parameter or typedef).
    fn emit_type_decl(&mut self, id: u32, fname: &[u8], lvl: usize) -> Result<(), BtfError> {
        self.enter(id)?;
        let r = self.emit_type_decl_inner(id, fname, lvl);
        self.leave();
        r
    }

    fn emit_type_decl_inner(
        &mut self,
        mut id: u32,
        fname: &[u8],
        lvl: usize,
    ) -> Result<(), BtfError> {
        let mut decls = Vec::new();
        // A chain longer than the number of types loops.
        let limit = self.btf.type_cnt() as usize + 1;
        loop {
            decls.push(id);
            if decls.len() > limit {
                let t = self.ty(id);
                return Err(BtfError::Cycle {
                    offset: t.map_or(0, |t| t.offset()),
                    type_id: id,
                });
            }
            let Some(t) = self.ty(id) else { break };
            match t.kind() {
                Kind::Ptr
                | Kind::Volatile
                | Kind::Const
                | Kind::Restrict
                | Kind::FuncProto
                | Kind::TypeTag => id = t.size_or_type(),
                Kind::Array => id = t.array().unwrap_or_default().elem_type.0,
                // Base types end the chain; anything else is unexpected (libbpf warns).
                _ => break,
            }
        }
        self.emit_type_chain(&mut decls, fname, lvl)
    }

    /// Prints `const `, `volatile `, `restrict ` for modifiers on top of the stack.
    fn emit_mods(&mut self, decls: &mut Vec<u32>) {
        while let Some(&id) = decls.last() {
            let word: &[u8] = match self.kind(id) {
                Some(Kind::Volatile) => b"volatile ",
                Some(Kind::Const) => b"const ",
                Some(Kind::Restrict) => b"restrict ",
                _ => return,
            };
            self.out.s(word);
            decls.pop();
        }
    }

    /// Drops modifiers (and type tags) on top of the stack: qualifiers on arrays and on
    /// function prototypes are GCC artefacts with no meaning in C.
    fn drop_mods(&mut self, decls: &mut Vec<u32>) {
        while let Some(&id) = decls.last() {
            if !self.kind(id).is_some_and(|k| k.is_modifier()) {
                return;
            }
            decls.pop();
        }
    }

    fn emit_name(&mut self, name: &[u8], last_was_ptr: bool) {
        if !name.is_empty() && !last_was_ptr {
            self.out.s(b" ");
        }
        self.out.s(name);
    }

    fn emit_type_chain(
        &mut self,
        decls: &mut Vec<u32>,
        fname: &[u8],
        lvl: usize,
    ) -> Result<(), BtfError> {
        // Whether to separate the next `*` from what precedes it: `int ***`, not `int * * *`.
        // Starts true so that a lone pointer before a prototype prints as `(*name)`.
        let mut last_was_ptr = true;
        while let Some(id) = decls.pop() {
            let Some(t) = self.ty(id) else {
                self.emit_mods(decls);
                self.out.s(b"void");
                last_was_ptr = false;
                continue;
            };
            let kind = t.kind();
            match kind {
                Kind::Int | Kind::Float => {
                    self.emit_mods(decls);
                    self.out.s(t.name_bytes());
                }
                Kind::Struct | Kind::Union => {
                    self.emit_mods(decls);
                    if t.name_offset() == 0 {
                        // Anonymous: defined inline.
                        self.emit_struct_def(id, &t, lvl)?;
                    } else {
                        self.emit_struct_fwd(id, &t);
                    }
                }
                Kind::Enum | Kind::Enum64 => {
                    self.emit_mods(decls);
                    if t.name_offset() == 0 {
                        self.emit_enum_def(id, &t, lvl);
                    } else {
                        self.emit_enum_fwd(id);
                    }
                }
                Kind::Fwd => {
                    self.emit_mods(decls);
                    self.emit_fwd_def(id, &t);
                }
                Kind::Typedef => {
                    self.emit_mods(decls);
                    let name = self.ident_name(id);
                    self.out.s(&name);
                }
                Kind::Ptr => self.out.s(if last_was_ptr { b"*" } else { b" *" }),
                Kind::Volatile => self.out.s(b" volatile"),
                Kind::Const => self.out.s(b" const"),
                Kind::Restrict => self.out.s(b" restrict"),
                Kind::TypeTag => {
                    self.emit_mods(decls);
                    self.out.s(b" __attribute__((btf_type_tag(\"");
                    self.out.s(t.name_bytes());
                    self.out.s(b"\")))");
                }
                Kind::Array => {
                    let nelems = t.array().unwrap_or_default().nelems;
                    self.drop_mods(decls);
                    let Some(&next) = decls.last() else {
                        self.emit_name(fname, last_was_ptr);
                        self.array_dim(nelems);
                        return Ok(());
                    };
                    let multidim = self.kind(next) == Some(Kind::Array);
                    if !fname.is_empty() && !last_was_ptr {
                        self.out.s(b" ");
                    }
                    if !multidim {
                        self.out.s(b"(");
                    }
                    self.emit_chain_nested(decls, fname, lvl, id)?;
                    if !multidim {
                        self.out.s(b")");
                    }
                    self.array_dim(nelems);
                    return Ok(());
                }
                Kind::FuncProto => {
                    self.drop_mods(decls);
                    if decls.is_empty() {
                        self.emit_name(fname, last_was_ptr);
                    } else {
                        self.out.s(b" (");
                        self.emit_chain_nested(decls, fname, lvl, id)?;
                        self.out.s(b")");
                    }
                    self.out.s(b"(");
                    let params = t.params();
                    let n = params.len();
                    // No parameters, or clang's one void parameter for `f(void)`: `(void)`
                    // (libbpf commit 205e86de, which Debian's bpftool carries).
                    if n == 0 || (n == 1 && params.clone().all(|p| p.type_id().is_void())) {
                        self.out.s(b"void)");
                        return Ok(());
                    }
                    for (i, p) in params.enumerate() {
                        if i > 0 {
                            self.out.s(b", ");
                        }
                        // A last parameter of type void is `...`.
                        if i == n - 1 && p.type_id().is_void() {
                            self.out.s(b"...");
                            break;
                        }
                        self.emit_type_decl(p.type_id().0, p.name_bytes(), lvl)?;
                    }
                    self.out.s(b")");
                    return Ok(());
                }
                _ => return Ok(()),
            }
            last_was_ptr = kind == Kind::Ptr;
        }
        self.emit_name(fname, last_was_ptr);
        Ok(())
    }

    fn emit_chain_nested(
        &mut self,
        decls: &mut Vec<u32>,
        fname: &[u8],
        lvl: usize,
        id: u32,
    ) -> Result<(), BtfError> {
        self.enter(id)?;
        let r = self.emit_type_chain(decls, fname, lvl);
        self.leave();
        r
    }

    fn array_dim(&mut self, nelems: u32) {
        self.out.s(b"[");
        self.out.u64(u64::from(nelems));
        self.out.s(b"]");
    }
}

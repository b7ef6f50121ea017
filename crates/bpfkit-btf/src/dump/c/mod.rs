//! The C dump: `bpftool btf dump file FILE format c`, a header that compiles.
//!
//! This is libbpf's `btf_dump.c` algorithm (the libbpf 1.1 that Debian's bpftool 7.1 uses),
//! rewritten: types are visited in id order; each is topologically ordered first
//! ([`order`](self) marks which dependencies must be complete definitions and which a forward
//! declaration satisfies), then emitted with the forward declarations the order asked for.
//! Anonymous structs, unions and enums are written inline where used; a top-level anonymous enum
//! (one nothing refers to) is written on its own. Names that repeat get libbpf's `___N` suffix,
//! structs whose layout is not natural get `__attribute__((packed))`, gaps between members are
//! filled with libbpf's `long: N;`-style padding, and enums of unusual size get `mode(byte)` or
//! `mode(word)`. The output is wrapped in bpftool's `__VMLINUX_H__` guard and its
//! `BPF_NO_PRESERVE_ACCESS_INDEX` pragma.
//!
//! # Differences from bpftool
//!
//! On BTF that libbpf accepts and can print, the output is byte-identical to Debian's bpftool
//! 7.1.0 (checked by the CLI tests on the running kernel's vmlinux and on every test object).
//! The differences are all on input libbpf mishandles:
//!
//! - **Cycles libbpf cannot break.** libbpf stops with `-ELOOP` only for cycles through
//!   structs, unions, enums and typedefs; a cycle through modifiers, pointers, arrays or
//!   prototypes alone (`const` of itself), or a struct that contains itself by value, makes it
//!   recurse until the stack overflows. Here every such walk is bounded and the dump stops with
//!   [`BtfError::Cycle`] or [`BtfError::TooDeep`]; what was printed
//!   before stays printed, as with libbpf's `-ELOOP`, and the closing pragma is not printed.
//! - **Forged sizes.** A gap of more than 2^20 bits (128 KiB) between members or after the last
//!   one is refused with [`BtfError::PaddingTooLarge`] instead of printing tens of thousands of
//!   `long: 64;` lines (a 4 GiB struct would print 67 million). Compiler-produced BTF does not
//!   come near: vmlinux's largest gap is 4 KiB.
//! - **Zero alignments.** A member whose type has no alignment (void, FWD, a prototype) makes
//!   libbpf divide by zero while choosing padding; here such a member is treated as aligned to
//!   one byte.
//! - **Enum sizes, on request.** With [`CDumpOptions::sized_enums`] 1- and 8-byte enums get
//!   newer libbpf's `mode(byte)`/`mode(word)` attributes, which bpftool 7.1 does not print, so
//!   that the header's layout matches the BTF's. Off by default.
//! - **Offsets past 2^31 bits** are computed in 64 bits here, where libbpf's `int` arithmetic
//!   wraps; only sizes above 256 MiB are affected.
//!
//! Pointer size comes from [`CDumpOptions::ptr_size`]: bpftool takes it from the ELF class for
//! objects and guesses it from the `long` type for raw BTF (see [`Btf::guess_ptr_size`]).

mod emit;
mod order;

use std::borrow::Cow;
use std::collections::HashMap;
use std::io::Write;

use super::DumpError;
use super::out::Out;
use crate::{Btf, BtfError, Kind, Type, TypeId};

/// How deep the C dump's recursive walks may nest before giving up with
/// [`BtfError::TooDeep`]. vmlinux needs about a tenth of this.
pub const C_DUMP_MAX_DEPTH: usize = 512;

/// Options of the C dump.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CDumpOptions {
    /// Size of a pointer (and of `long`) in bytes: 8 for BPF and 64-bit kernels.
    pub ptr_size: u32,
    /// Mark enums of 1 byte with `__attribute__((mode(byte)))` and 8-byte ones C would make
    /// 4 bytes with `mode(word)`, as libbpf >= 1.1 upstream (bpftool >= 7.2) does. Without it
    /// (the default, Debian's bpftool 7.1) such enums compile to 4 bytes and the structs that
    /// hold them get a layout that differs from the BTF: on kernel 6.18, `struct inode` is 624
    /// bytes in the header instead of 616 because of its 1-byte `enum rw_hint`.
    pub sized_enums: bool,
}

impl Default for CDumpOptions {
    fn default() -> Self {
        CDumpOptions {
            ptr_size: 8,
            sized_enums: false,
        }
    }
}

impl CDumpOptions {
    /// Options for BTF not read from an ELF file: the pointer size libbpf would guess.
    pub fn for_btf(btf: &Btf<'_>) -> CDumpOptions {
        CDumpOptions {
            ptr_size: btf.guess_ptr_size().unwrap_or(8),
            ..CDumpOptions::default()
        }
    }
}

/// Writes `btf` (base types included, for split BTF, as bpftool does) as a C header.
pub fn c<W: Write>(btf: &Btf<'_>, w: W, options: &CDumpOptions) -> Result<(), DumpError> {
    let mut d = CDumper::new(btf, Out::new(w), options);
    d.out.s(b"#ifndef __VMLINUX_H__\n#define __VMLINUX_H__\n\n");
    d.out.s(b"#ifndef BPF_NO_PRESERVE_ACCESS_INDEX\n");
    d.out.s(b"#pragma clang attribute push (__attribute__((preserve_access_index)), apply_to = record)\n");
    d.out.s(b"#endif\n\n");
    for id in 1..btf.type_cnt() {
        let result = d.dump_type(id);
        // Print what was emitted before an error, as bpftool does.
        d.out.maybe_flush()?;
        if let Err(e) = result {
            d.out.finish()?;
            return Err(e.into());
        }
    }
    d.out
        .s(b"#ifndef BPF_NO_PRESERVE_ACCESS_INDEX\n#pragma clang attribute pop\n#endif\n\n");
    d.out.s(b"#endif /* __VMLINUX_H__ */\n");
    d.out.finish()?;
    Ok(())
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
enum OrderState {
    #[default]
    NotOrdered,
    Ordering,
    Ordered,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
enum EmitState {
    #[default]
    NotEmitted,
    Emitting,
    Emitted,
}

/// Per-type state of the dump (libbpf's `btf_dump_type_aux_state`).
#[derive(Clone, Copy, Debug, Default)]
struct TypeState {
    order: OrderState,
    emit: EmitState,
    /// A forward declaration (or, for a typedef, the definition) was printed.
    fwd_emitted: bool,
    /// The type's unique name was decided.
    name_resolved: bool,
    /// Some other type refers to this one.
    referenced: bool,
}

/// Which namespace a name is deduplicated in: struct/union/enum tags, or ordinary identifiers
/// (typedefs and enumerators).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Namespace {
    Tags,
    Idents,
}

struct CDumper<'a, 'data, W: Write> {
    btf: &'a Btf<'data>,
    out: Out<W>,
    ptr_size: u32,
    sized_enums: bool,
    states: Vec<TypeState>,
    /// Names given a `___N` suffix, by type id.
    renamed: HashMap<u32, Vec<u8>>,
    emit_queue: Vec<u32>,
    tag_names: HashMap<&'data [u8], usize, FxBuild>,
    ident_names: HashMap<&'data [u8], usize, FxBuild>,
    /// `align_of` results by id, plus one (0: not computed yet); alignment depends only on
    /// the type, and libbpf's recomputation is most of the dump's time on vmlinux.
    align_cache: Vec<u32>,
    depth: usize,
}

/// The Fx hash (rustc's): names are short and not adversarial enough to need SipHash's
/// flood resistance, and hashing them was a visible share of the dump.
#[derive(Default, Clone, Copy)]
struct FxHasher(u64);

impl std::hash::Hasher for FxHasher {
    fn write(&mut self, bytes: &[u8]) {
        const K: u64 = 0xf135_7aea_2e62_a9c5;
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            let w = u64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]);
            self.0 = (self.0.rotate_left(5) ^ w).wrapping_mul(K);
        }
        for &b in chunks.remainder() {
            self.0 = (self.0.rotate_left(5) ^ u64::from(b)).wrapping_mul(K);
        }
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

type FxBuild = std::hash::BuildHasherDefault<FxHasher>;

impl<'a, 'data, W: Write> CDumper<'a, 'data, W> {
    fn new(btf: &'a Btf<'data>, out: Out<W>, options: &CDumpOptions) -> Self {
        let mut states = vec![TypeState::default(); btf.type_cnt() as usize];
        // Void is always defined.
        states[0].order = OrderState::Ordered;
        states[0].emit = EmitState::Emitted;
        let mut d = CDumper {
            btf,
            out,
            // libbpf: `btf__pointer_size(btf) ? : sizeof(void *)`.
            ptr_size: if options.ptr_size == 0 {
                8
            } else {
                options.ptr_size
            },
            sized_enums: options.sized_enums,
            states,
            renamed: HashMap::new(),
            emit_queue: Vec::new(),
            tag_names: HashMap::default(),
            ident_names: HashMap::default(),
            align_cache: vec![0; btf.type_cnt() as usize],
            depth: 0,
        };
        d.mark_referenced();
        d
    }

    /// The type for `id`; `None` is void (libbpf's `btf_void`, kind 0).
    fn ty(&self, id: u32) -> Option<Type<'data>> {
        self.btf.get(TypeId(id))
    }

    fn kind(&self, id: u32) -> Option<Kind> {
        self.ty(id).map(|t| t.kind())
    }

    fn state(&mut self, id: u32) -> &mut TypeState {
        // Every id the walks reach was checked against type_cnt by the parser.
        let i = (id as usize).min(self.states.len() - 1);
        &mut self.states[i]
    }

    /// Dumps one type with the dependencies it needs (libbpf's `btf_dump__dump_type`).
    fn dump_type(&mut self, id: u32) -> Result<(), BtfError> {
        self.emit_queue.clear();
        self.order_type(id, false)?;
        let queue = std::mem::take(&mut self.emit_queue);
        for &qid in &queue {
            self.emit_type(qid, 0)?;
        }
        self.emit_queue = queue;
        Ok(())
    }

    /// Enters one level of recursion at type `id`, failing past [`C_DUMP_MAX_DEPTH`].
    fn enter(&mut self, id: u32) -> Result<(), BtfError> {
        if self.depth >= C_DUMP_MAX_DEPTH {
            return Err(BtfError::TooDeep {
                offset: self.ty(id).map_or(0, |t| t.offset()),
                type_id: id,
                limit: C_DUMP_MAX_DEPTH,
            });
        }
        self.depth += 1;
        Ok(())
    }

    fn leave(&mut self) {
        self.depth -= 1;
    }

    /// How many times `name` has been seen in `ns`, counting this time.
    fn name_dups(&mut self, ns: Namespace, name: &'data [u8]) -> usize {
        let map = match ns {
            Namespace::Tags => &mut self.tag_names,
            Namespace::Idents => &mut self.ident_names,
        };
        let n = map.entry(name).or_insert(0);
        *n += 1;
        *n
    }

    /// The unique name of type `id` in `ns`: its own, or with `___N` if the name was taken
    /// (libbpf's `btf_dump_resolve_name`). Decided on first use.
    fn resolve_name(&mut self, id: u32, ns: Namespace) -> Cow<'data, [u8]> {
        let Some(t) = self.ty(id) else {
            return Cow::Borrowed(b"");
        };
        if t.name_offset() == 0 {
            return Cow::Borrowed(b"");
        }
        let orig = t.name_bytes();
        if self.state(id).name_resolved {
            return match self.renamed.get(&id) {
                Some(n) => Cow::Owned(n.clone()),
                None => Cow::Borrowed(orig),
            };
        }
        self.state(id).name_resolved = true;
        // Forward declarations and empty enums may repeat: they declare nothing new.
        if t.kind() == Kind::Fwd || (t.kind() == Kind::Enum && t.vlen() == 0) {
            return Cow::Borrowed(orig);
        }
        let dups = self.name_dups(ns, orig);
        if dups > 1 {
            let mut name = orig.to_vec();
            name.extend_from_slice(b"___");
            super::out::push_u64(&mut name, dups as u64);
            // libbpf formats into a 256-byte buffer.
            name.truncate(255);
            self.renamed.insert(id, name.clone());
            return Cow::Owned(name);
        }
        Cow::Borrowed(orig)
    }

    fn type_name(&mut self, id: u32) -> Cow<'data, [u8]> {
        self.resolve_name(id, Namespace::Tags)
    }

    fn ident_name(&mut self, id: u32) -> Cow<'data, [u8]> {
        self.resolve_name(id, Namespace::Idents)
    }
}

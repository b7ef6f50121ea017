//! The buffer both backends assemble into with dynasmrt's macros, reused from compile to
//! compile.
//!
//! dynasmrt's `VecAssembler` allocates its byte buffer, label table and relocation list afresh
//! for every compile and frees them after. For a program of a few thousand instructions those
//! are hundreds of KiB: the allocator hands the memory back to the kernel when it is freed and
//! takes it again on the next compile, so every compile paid the page faults of touching it
//! anew, which was about half the time of compiling a 4,096-instruction program. This
//! assembler implements the same `DynasmApi`/`DynasmLabelApi` traits with dynasmrt's label
//! registry and patching, but keeps its buffers in a per-thread spare between compiles (up to
//! 4 MiB of code), so they stay mapped.
//!
//! It stores relocations by dynasmrt's compact encoding byte rather than as `R`, so that the
//! spare is one type for every architecture.

use std::any::TypeId;
use std::cell::RefCell;
use std::marker::PhantomData;

use dynasmrt::components::{LabelRegistry, PatchLoc, StaticLabel};
use dynasmrt::relocations::{Relocation, RelocationKind, SimpleRelocation};
use dynasmrt::{AssemblyOffset, DynamicLabel, DynasmApi, DynasmError, DynasmLabelApi, TargetKind};

/// A spare larger than this (code bytes) is dropped rather than kept for the next compile.
const MAX_KEPT: usize = 4 << 20;

/// A reference to a label, patched once every label is defined.
#[derive(Clone, Copy)]
struct Reloc {
    /// Where the instruction that refers to the label ends.
    at: usize,
    target_offset: isize,
    field_offset: u8,
    ref_offset: u8,
    /// dynasmrt's encoding of the relocation's kind and size.
    encoding: u8,
}

/// The buffers of an assembler, kept between compiles.
#[derive(Default)]
struct Scratch {
    bytes: Vec<u8>,
    labels: LabelRegistry,
    dynamic: Vec<(Reloc, DynamicLabel)>,
    statics: Vec<(Reloc, StaticLabel)>,
}

impl Scratch {
    fn clear(&mut self) {
        self.bytes.clear();
        self.labels.clear();
        self.dynamic.clear();
        self.statics.clear();
    }
}

thread_local! {
    /// The last finished assembler's buffers on this thread.
    static SPARE: RefCell<Option<Scratch>> = const { RefCell::new(None) };
}

/// The spare buffers (emptied) or new ones, with room for `bytes` bytes of code and `refs`
/// label references.
fn take_scratch(bytes: usize, refs: usize) -> Scratch {
    let mut scratch = SPARE
        .try_with(|spare| spare.borrow_mut().take())
        .ok()
        .flatten()
        .unwrap_or_default();
    scratch.clear();
    scratch.bytes.reserve(bytes);
    scratch.dynamic.reserve(refs);
    scratch
}

fn keep_scratch(scratch: Scratch) {
    if scratch.bytes.capacity() <= MAX_KEPT {
        // During thread teardown there is nowhere to keep it; it is freed instead.
        let _ = SPARE.try_with(|spare| *spare.borrow_mut() = Some(scratch));
    }
}

/// Machine code a backend finished: the bytes, position independent, every label resolved.
/// Dropping it keeps its buffers for the next compile on this thread.
pub struct Emitted(Option<Scratch>);

impl std::ops::Deref for Emitted {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        self.0.as_ref().map_or(&[], |s| &s.bytes)
    }
}

impl Drop for Emitted {
    fn drop(&mut self) {
        if let Some(scratch) = self.0.take() {
            keep_scratch(scratch);
        }
    }
}

impl std::fmt::Debug for Emitted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Emitted")
            .field("bytes", &self.len())
            .finish()
    }
}

/// A dynasmrt assembling target for relocation type `R` (one per architecture).
pub struct Assembler<R: Relocation + 'static> {
    scratch: Scratch,
    error: Option<DynasmError>,
    relocation: PhantomData<R>,
}

impl<R: Relocation + 'static> Assembler<R> {
    /// An empty assembler with room for `bytes` bytes of code and `refs` references to
    /// dynamic labels.
    pub fn new(bytes: usize, refs: usize) -> Assembler<R> {
        Assembler {
            scratch: take_scratch(bytes, refs),
            error: None,
            relocation: PhantomData,
        }
    }

    /// Points the 32-bit relative field that ends at code offset `end` (a jump emitted with a
    /// zero displacement) at offset `target`: for a jump whose target its backend binds
    /// itself, without a label. A distance past 2 GiB is an error at [`Assembler::finish`].
    pub fn patch_rel32(&mut self, end: usize, target: usize) {
        let reloc = Reloc {
            at: end,
            target_offset: 0,
            field_offset: 4,
            ref_offset: 0,
            encoding: 0,
        };
        if patch_rel32(&mut self.scratch.bytes, reloc, AssemblyOffset(target)).is_err() {
            self.error = Some(DynasmError::ImpossibleRelocation(TargetKind::Value(target)));
        }
    }

    /// A new dynamic label.
    #[inline]
    pub fn new_dynamic_label(&mut self) -> DynamicLabel {
        self.scratch.labels.new_dynamic_label()
    }

    /// The labels defined so far.
    pub fn labels(&self) -> &LabelRegistry {
        &self.scratch.labels
    }

    /// Patches every label reference and returns the code.
    pub fn finish(mut self) -> Result<Emitted, DynasmError> {
        if let Some(e) = self.error.take() {
            return Err(e);
        }
        let Scratch {
            bytes,
            labels,
            dynamic,
            statics,
        } = &mut self.scratch;
        // Whether each encoding seen is a plain rel32, decided once per encoding.
        let mut rel32 = [None; 256];
        for &(reloc, label) in dynamic.iter() {
            let target = labels.resolve_dynamic(label)?;
            let fast = *rel32[reloc.encoding as usize]
                .get_or_insert_with(|| is_rel32(&R::from_encoding(reloc.encoding)));
            let patched = if fast {
                patch_rel32(bytes, reloc, target)
            } else {
                patch::<R>(bytes, reloc, target)
            };
            patched.map_err(|()| DynasmError::ImpossibleRelocation(TargetKind::Dynamic(label)))?;
        }
        for (reloc, label) in statics.iter() {
            let target = labels.resolve_static(label)?;
            patch::<R>(bytes, *reloc, target).map_err(|()| {
                DynasmError::ImpossibleRelocation(if label.is_global() {
                    TargetKind::Global(label.get_name())
                } else {
                    TargetKind::Local(label.get_name())
                })
            })?;
        }
        let scratch = std::mem::take(&mut self.scratch);
        Ok(Emitted(Some(scratch)))
    }

    #[inline]
    fn reloc(&self, target_offset: isize, field_offset: u8, ref_offset: u8, encoding: u8) -> Reloc {
        Reloc {
            at: self.scratch.bytes.len(),
            target_offset,
            field_offset,
            ref_offset,
            encoding,
        }
    }
}

/// Writes the distance to `target` into the instruction `reloc` describes.
fn patch<R: Relocation + 'static>(
    bytes: &mut [u8],
    reloc: Reloc,
    target: AssemblyOffset,
) -> Result<(), ()> {
    let relocation = R::from_encoding(reloc.encoding);
    if is_rel32::<R>(&relocation) {
        return patch_rel32(bytes, reloc, target);
    }
    let loc = PatchLoc::new(
        AssemblyOffset(reloc.at),
        reloc.target_offset,
        reloc.field_offset,
        reloc.ref_offset,
        relocation,
    );
    let field = bytes.get_mut(loc.range(0)).ok_or(())?;
    loc.patch(field, 0, target.0).map_err(|_| ())
}

/// Whether `relocation` is a plain 32-bit relative field (every x86_64 jump and call to a
/// label): the common case, patched without dynasmrt's general path, which cost more than
/// emitting the jump.
fn is_rel32<R: Relocation + 'static>(relocation: &R) -> bool {
    TypeId::of::<R>() == TypeId::of::<SimpleRelocation>()
        && matches!(relocation.kind(), RelocationKind::Relative)
        && relocation.size() == 4
}

/// What dynasmrt's `PatchLoc::patch` does for a simple relative 32-bit field: the distance
/// from the reference point to the target, plus the target offset, little-endian, if it fits.
#[inline]
fn patch_rel32(bytes: &mut [u8], reloc: Reloc, target: AssemblyOffset) -> Result<(), ()> {
    let from = reloc.at.checked_sub(reloc.ref_offset as usize).ok_or(())?;
    let value = (target.0.wrapping_sub(from) as isize).wrapping_add(reloc.target_offset);
    let value = i32::try_from(value).map_err(|_| ())?;
    let start = reloc
        .at
        .checked_sub(reloc.field_offset as usize)
        .ok_or(())?;
    let field = bytes.get_mut(start..start + 4).ok_or(())?;
    field.copy_from_slice(&value.to_le_bytes());
    Ok(())
}

impl<R: Relocation + 'static> Drop for Assembler<R> {
    fn drop(&mut self) {
        // An assembler dropped unfinished (an error) still leaves its buffers for the next one;
        // a finished one left an empty box here.
        let scratch = std::mem::take(&mut self.scratch);
        if scratch.bytes.capacity() > 0 {
            keep_scratch(scratch);
        }
    }
}

impl<R: Relocation + 'static> Extend<u8> for Assembler<R> {
    #[inline]
    fn extend<T: IntoIterator<Item = u8>>(&mut self, iter: T) {
        self.scratch.bytes.extend(iter)
    }
}

impl<'a, R: Relocation + 'static> Extend<&'a u8> for Assembler<R> {
    #[inline]
    fn extend<T: IntoIterator<Item = &'a u8>>(&mut self, iter: T) {
        self.scratch.bytes.extend(iter)
    }
}

impl<R: Relocation + 'static> DynasmApi for Assembler<R> {
    #[inline]
    fn offset(&self) -> AssemblyOffset {
        AssemblyOffset(self.scratch.bytes.len())
    }

    #[inline]
    fn push(&mut self, byte: u8) {
        self.scratch.bytes.push(byte);
    }

    fn align(&mut self, alignment: usize, with: u8) {
        let misalignment = self.scratch.bytes.len() % alignment;
        if misalignment != 0 {
            let padding = alignment - misalignment;
            let len = self.scratch.bytes.len();
            self.scratch.bytes.resize(len + padding, with);
        }
    }
}

impl<R: Relocation + 'static> DynasmLabelApi for Assembler<R> {
    type Relocation = R;

    fn local_label(&mut self, name: &'static str) {
        let offset = self.offset();
        self.scratch.labels.define_local(name, offset);
    }

    fn global_label(&mut self, name: &'static str) {
        let offset = self.offset();
        if let Err(e) = self.scratch.labels.define_global(name, offset) {
            self.error = Some(e);
        }
    }

    #[inline]
    fn dynamic_label(&mut self, id: DynamicLabel) {
        let offset = self.offset();
        if let Err(e) = self.scratch.labels.define_dynamic(id, offset) {
            self.error = Some(e);
        }
    }

    // The `*_reloc` forms (what the macros call) are overridden to keep the encoding byte;
    // the `*_relocation` forms taking an `R` are not used by the macros, and refuse.

    fn forward_reloc(&mut self, name: &'static str, to: isize, field: u8, r#ref: u8, kind: u8) {
        let label = match self.scratch.labels.place_local_reference(name) {
            Some(label) => label.next(),
            None => StaticLabel::first(name),
        };
        let reloc = self.reloc(to, field, r#ref, kind);
        self.scratch.statics.push((reloc, label));
    }

    fn backward_reloc(&mut self, name: &'static str, to: isize, field: u8, r#ref: u8, kind: u8) {
        match self.scratch.labels.place_local_reference(name) {
            Some(label) => {
                let reloc = self.reloc(to, field, r#ref, kind);
                self.scratch.statics.push((reloc, label));
            }
            None => {
                self.error = Some(DynasmError::UnknownLabel(dynasmrt::LabelKind::Local(name)));
            }
        }
    }

    fn global_reloc(&mut self, name: &'static str, to: isize, field: u8, r#ref: u8, kind: u8) {
        let reloc = self.reloc(to, field, r#ref, kind);
        self.scratch
            .statics
            .push((reloc, StaticLabel::global(name)));
    }

    #[inline]
    fn dynamic_reloc(&mut self, id: DynamicLabel, to: isize, field: u8, r#ref: u8, kind: u8) {
        let reloc = self.reloc(to, field, r#ref, kind);
        self.scratch.dynamic.push((reloc, id));
    }

    fn value_reloc(&mut self, value: usize, field: u8, r#ref: u8, kind: u8) {
        let reloc = self.reloc(0, field, r#ref, kind);
        if patch::<R>(&mut self.scratch.bytes, reloc, AssemblyOffset(value)).is_err() {
            self.error = Some(DynasmError::ImpossibleRelocation(TargetKind::Value(value)));
        }
    }

    fn forward_relocation(&mut self, name: &'static str, _: isize, _: u8, _: u8, _: R) {
        self.error = Some(DynasmError::ImpossibleRelocation(TargetKind::Local(name)));
    }

    fn backward_relocation(&mut self, name: &'static str, _: isize, _: u8, _: u8, _: R) {
        self.error = Some(DynasmError::ImpossibleRelocation(TargetKind::Local(name)));
    }

    fn global_relocation(&mut self, name: &'static str, _: isize, _: u8, _: u8, _: R) {
        self.error = Some(DynasmError::ImpossibleRelocation(TargetKind::Global(name)));
    }

    fn dynamic_relocation(&mut self, id: DynamicLabel, _: isize, _: u8, _: u8, _: R) {
        self.error = Some(DynasmError::ImpossibleRelocation(TargetKind::Dynamic(id)));
    }

    fn value_relocation(&mut self, value: usize, _: u8, _: u8, _: R) {
        self.error = Some(DynasmError::ImpossibleRelocation(TargetKind::Value(value)));
    }
}

#[cfg(test)]
mod tests {
    use dynasmrt::x64::X64Relocation;
    use dynasmrt::{DynasmLabelApi, dynasm};

    use super::*;

    /// Forward and backward references to dynamic, global and local labels are patched as
    /// dynasmrt's own assembler patches them.
    #[test]
    fn labels_resolve_as_with_dynasmrt_vec_assembler() {
        fn program<A: DynasmLabelApi<Relocation = X64Relocation>>(ops: &mut A, l: DynamicLabel) {
            dynasm!(ops
                ; .arch x64
                ; jmp =>l
                ; jmp ->end
                ; back:
                ; jne <back
                ; jmp >ahead
                ; nop
                ; ahead:
                ; =>l
                ; mov rax, 7
                ; ->end:
                ; ret
            );
        }
        let mut ours = Assembler::<X64Relocation>::new(0, 0);
        let label = ours.new_dynamic_label();
        program(&mut ours, label);
        let ours = ours.finish().unwrap();
        let mut theirs = dynasmrt::VecAssembler::<X64Relocation>::new(0);
        let label = theirs.new_dynamic_label();
        program(&mut theirs, label);
        let theirs = theirs.finalize().unwrap();
        assert_eq!(&ours[..], &theirs[..]);
        // And the second assembler on this thread, on the kept buffers, does the same.
        drop(ours);
        let mut again = Assembler::<X64Relocation>::new(0, 0);
        let label = again.new_dynamic_label();
        program(&mut again, label);
        assert_eq!(&again.finish().unwrap()[..], &theirs[..]);
    }

    /// A jump emitted with a zero displacement and patched once its target is emitted ends
    /// up as the same bytes as a jump to a label; one out of reach is an error.
    #[test]
    fn a_patched_jump_is_a_jump_to_a_label() {
        let mut ours = Assembler::<X64Relocation>::new(0, 0);
        dynasm!(ours ; .arch x64 ; jae DWORD 0);
        let end = ours.offset().0;
        dynasm!(ours ; .arch x64 ; nop ; nop);
        let target = ours.offset().0;
        ours.patch_rel32(end, target);
        dynasm!(ours ; .arch x64 ; ret);
        let mut theirs = dynasmrt::VecAssembler::<X64Relocation>::new(0);
        let label = theirs.new_dynamic_label();
        dynasm!(theirs ; .arch x64 ; jae =>label ; nop ; nop ; =>label ; ret);
        assert_eq!(&ours.finish().unwrap()[..], &theirs.finalize().unwrap()[..]);

        let mut far = Assembler::<X64Relocation>::new(0, 0);
        dynasm!(far ; .arch x64 ; jae DWORD 0);
        let end = far.offset().0;
        far.patch_rel32(end, end + (1 << 31));
        assert!(far.finish().is_err());
    }

    /// A reference to a label that is never defined is an error, not a panic.
    #[test]
    fn an_undefined_label_is_an_error() {
        let mut ops = Assembler::<X64Relocation>::new(0, 0);
        let label = ops.new_dynamic_label();
        dynasm!(ops ; .arch x64 ; jmp =>label);
        assert!(ops.finish().is_err());
    }
}

//! Where a uprobe goes: the file offset of a function symbol in an ELF executable or shared
//! library, as libbpf's `elf_find_func_offset` computes it (the symbol's address, moved from
//! its loadable segment's virtual addresses to the segment's place in the file).

use std::path::Path;

use object::{Object, ObjectSegment, ObjectSymbol, SymbolKind};

use crate::error::LoadError;

/// The file offset of function `symbol` in the ELF file at `path` (its `.symtab`, else its
/// `.dynsym`).
pub fn symbol_offset(path: &Path, symbol: &str) -> Result<u64, LoadError> {
    let fail = |reason: String| LoadError::Invalid(format!("{}: {reason}", path.display()));
    let data = std::fs::read(path).map_err(|source| LoadError::Read {
        path: path.display().to_string(),
        source,
    })?;
    let file = object::File::parse(&*data).map_err(|e| fail(format!("not an ELF file: {e}")))?;
    let sym = file
        .symbols()
        .chain(file.dynamic_symbols())
        .find(|s| s.name() == Ok(symbol) && s.kind() == SymbolKind::Text && s.is_definition())
        .ok_or_else(|| fail(format!("no function symbol `{symbol}`")))?;
    let addr = sym.address();
    let segment = file
        .segments()
        .find(|seg| addr >= seg.address() && addr < seg.address() + seg.size())
        .ok_or_else(|| fail(format!("`{symbol}` at {addr:#x} is in no loadable segment")))?;
    let (file_offset, _) = segment.file_range();
    Ok(addr - segment.address() + file_offset)
}

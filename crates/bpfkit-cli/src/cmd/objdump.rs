//! `bpfkit objdump OBJ.o`: what a BPF object holds, as the loader sees it.
//!
//! Sections, programs (section, name, program type, attach type and target, size), subprograms
//! and calls, maps, global data, externs, relocations with what they resolve to, symbols, and
//! the disassembly with source lines from `.BTF.ext` line_info interleaved (like
//! `llvm-objdump -S`). With no part selected, every part is printed. Tables are whitespace
//! separated with `-` for an empty cell, so scripts can read them.

use std::fmt::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use bpfkit_elf::{
    DataKind, ElfFile, Function, InitialTarget, LegacyDef, LegacyLayout, MapKind, Object,
    RelocTarget, SymbolBinding, SymbolKind, SymbolSection,
};
use bpfkit_isa::{Dialect, Insn};
use clap::Args;

use crate::CliError;
use crate::error::read_file;
use crate::target::TargetFiles;

/// Arguments of `bpfkit objdump`.
#[derive(Args)]
pub struct ObjdumpArgs {
    /// Print the section headers.
    #[arg(long = "section-headers")]
    headers: bool,
    /// Print programs, subprograms and calls.
    #[arg(short = 'p', long)]
    programs: bool,
    /// Print maps, global data and externs.
    #[arg(short = 'm', long)]
    maps: bool,
    /// Print the relocation records.
    #[arg(short = 'r', long)]
    relocs: bool,
    /// Print the symbol table.
    #[arg(short = 't', long)]
    syms: bool,
    /// Print the disassembly with source lines.
    #[arg(short = 'd', long)]
    disassemble: bool,
    /// Dialect of the disassembly.
    #[arg(long, default_value = "llvm", value_parser = super::asm::parse_dialect)]
    dialect: Dialect,
    /// Disassemble the linked programs instead, CO-RE relocated against this BTF (a raw BTF
    /// blob or an ELF object's .BTF; `vmlinux` for the running kernel's).
    #[arg(long)]
    target: Option<PathBuf>,
    /// Base BTF of a split `--target`.
    #[arg(long, requires = "target")]
    base: Option<PathBuf>,
    /// A BPF ELF object.
    file: PathBuf,
}

impl ObjdumpArgs {
    /// Runs `bpfkit objdump`.
    pub fn run(self) -> Result<ExitCode, CliError> {
        let bytes = read_file(&self.file)?;
        let name = self.file.display().to_string();
        let object = match Object::parse(&bytes) {
            Ok(object) => object,
            Err(e) => {
                // What can still be read, before the error: the section table.
                if let Ok(elf) = ElfFile::parse_sections(&bytes) {
                    let mut out = format!("{name}:\tfile format elf64-bpf\n");
                    sections(&mut out, &elf);
                    print!("{out}");
                }
                return Err(CliError::input(format!("{name}: {e}")));
            }
        };
        let all = !(self.headers
            || self.programs
            || self.maps
            || self.relocs
            || self.syms
            || self.disassemble);
        let mut out = String::new();
        header(&mut out, &name, &object);
        warnings(&mut out, &object);
        if all || self.headers {
            sections(&mut out, object.elf());
        }
        if all || self.programs {
            programs(&mut out, &object);
        }
        if all || self.maps {
            maps(&mut out, &object);
            data_and_externs(&mut out, &object);
        }
        if all || self.relocs {
            relocations(&mut out, &object);
        }
        if all || self.syms {
            symbols(&mut out, &object);
        }
        if let Some(t) = &self.target {
            // `vmlinux` names the running kernel's BTF with its modules.
            let t = (t.as_os_str() != "vmlinux").then_some(t.as_path());
            let files = TargetFiles::read(t, self.base.as_deref())?;
            files.with(|core| linked_disassembly(&mut out, &object, core, self.dialect))?;
        } else if all || self.disassemble {
            disassembly(&mut out, &object, self.dialect);
        }
        print!("{out}");
        Ok(ExitCode::SUCCESS)
    }
}

/// Rows of cells printed with every column padded to its widest cell.
struct Table {
    rows: Vec<Vec<String>>,
}

impl Table {
    fn new(head: &[&str]) -> Table {
        Table {
            rows: vec![head.iter().map(|s| s.to_string()).collect()],
        }
    }

    fn row(&mut self, cells: Vec<String>) {
        self.rows.push(
            cells
                .into_iter()
                .map(|c| if c.is_empty() { "-".to_string() } else { c })
                .collect(),
        );
    }

    fn print(&self, out: &mut String) {
        let columns = self.rows.iter().map(Vec::len).max().unwrap_or(0);
        let widths: Vec<usize> = (0..columns)
            .map(|c| {
                self.rows
                    .iter()
                    .filter_map(|r| r.get(c))
                    .map(|s| s.len())
                    .max()
                    .unwrap_or(0)
            })
            .collect();
        for row in &self.rows {
            let mut line = String::from(" ");
            for (cell, width) in row.iter().zip(&widths) {
                let _ = write!(line, " {cell:width$}");
            }
            let _ = writeln!(out, "{}", line.trim_end());
        }
    }
}

fn dash<T: ToString>(value: Option<T>) -> String {
    value.map_or_else(|| "-".to_string(), |v| v.to_string())
}

fn header(out: &mut String, name: &str, object: &Object<'_>) {
    let _ = writeln!(out, "{name}:\tfile format elf64-bpf\n");
    let _ = writeln!(out, "license: {}", dash(object.license()));
    let _ = writeln!(
        out,
        "kernel version: {}",
        dash(object.kernel_version().map(|v| format!("{v:#x}")))
    );
    let _ = writeln!(
        out,
        "btf: {}, btf.ext: {}",
        if object.btf().is_some() { "yes" } else { "no" },
        if object.btf_ext().is_some() {
            "yes"
        } else {
            "no"
        }
    );
}

/// What a loader would refuse or ignore, one line each; nothing when there is nothing to say.
fn warnings(out: &mut String, object: &Object<'_>) {
    if object.warnings().is_empty() {
        return;
    }
    let _ = writeln!(out, "\nWarnings:");
    for w in object.warnings() {
        let _ = writeln!(out, "  {w}");
    }
}

fn sections(out: &mut String, elf: &ElfFile<'_>) {
    let _ = writeln!(out, "\nSections:");
    let mut t = Table::new(&["Idx", "Name", "Type", "Size", "Offset", "Flags"]);
    for s in elf.sections() {
        let mut flags = String::new();
        for (bit, c) in [(1, 'W'), (2, 'A'), (4, 'X')] {
            if s.flags & bit != 0 {
                flags.push(c);
            }
        }
        t.row(vec![
            s.index.to_string(),
            s.name.to_string(),
            s.type_name().to_string(),
            format!("{:#x}", s.size),
            format!("{:#x}", s.offset),
            flags,
        ]);
    }
    t.print(out);
}

fn programs(out: &mut String, object: &Object<'_>) {
    let _ = writeln!(out, "\nPrograms:");
    let mut t = Table::new(&[
        "Name", "Section", "Type", "Attach", "Target", "Offset", "Insns", "Flags",
    ]);
    for p in object.programs() {
        let mut flags = Vec::new();
        if p.section.is_none() {
            flags.push("unknown-section");
        }
        if p.is_sleepable() {
            flags.push("sleepable");
        }
        if !p.function.is_global() {
            flags.push("static");
        }
        t.row(vec![
            p.name().to_string(),
            p.section_name().to_string(),
            format!("{:#}", p.prog_type()),
            dash(p.expected_attach_type().map(|a| format!("{a:#}"))),
            dash(p.attach_target()),
            format!("{:#x}", p.function.offset),
            p.function.insn_count().to_string(),
            flags.join(","),
        ]);
    }
    t.print(out);

    let _ = writeln!(out, "\nSubprograms:");
    let mut t = Table::new(&["Name", "Section", "Offset", "Insns", "Binding"]);
    for f in object.subprograms() {
        t.row(vec![
            f.name.to_string(),
            f.section_name.to_string(),
            format!("{:#x}", f.offset),
            f.insn_count().to_string(),
            binding(f.binding).to_string(),
        ]);
    }
    t.print(out);

    let _ = writeln!(out, "\nCalls:");
    let mut t = Table::new(&["Caller", "Insn", "Callee", "Section", "Target", "Via"]);
    for f in object.functions() {
        for c in &f.calls {
            let callee = object.function_at(c.target_section, c.target_insn);
            let section = object
                .elf()
                .section(c.target_section)
                .map_or("", |s| s.name);
            t.row(vec![
                f.name.to_string(),
                c.insn.to_string(),
                dash(callee.map(|f| f.name)),
                section.to_string(),
                c.target_insn.to_string(),
                if c.relocated { "relocation" } else { "imm" }.to_string(),
            ]);
        }
    }
    t.print(out);
}

fn binding(b: SymbolBinding) -> &'static str {
    match b {
        SymbolBinding::Local => "local",
        SymbolBinding::Global => "global",
        SymbolBinding::Weak => "weak",
        SymbolBinding::Other(_) => "other",
    }
}

fn maps(out: &mut String, object: &Object<'_>) {
    let _ = writeln!(out, "\nMaps:");
    let mut t = Table::new(&[
        "Name",
        "Kind",
        "Type",
        "Key",
        "Value",
        "MaxEntries",
        "Flags",
        "Pinning",
        "Extra",
    ]);
    let mut notes = Vec::new();
    for m in object.maps() {
        t.row(vec![
            m.name.to_string(),
            match m.kind {
                MapKind::Btf => "btf",
                MapKind::Legacy => "legacy",
            }
            .to_string(),
            format!("{:#}", m.def.map_type),
            m.def.key_size.to_string(),
            m.def.value_size.to_string(),
            m.def.max_entries.to_string(),
            format!("{:#x}", m.def.map_flags.bits()),
            m.pinning.to_string(),
            m.def.map_extra.to_string(),
        ]);
        if let Some(inner) = &m.inner {
            notes.push(format!(
                "{}.inner: type {:#} key {} value {} max_entries {} flags {:#x}",
                m.name,
                inner.def.map_type,
                inner.def.key_size,
                inner.def.value_size,
                inner.def.max_entries,
                inner.def.map_flags.bits()
            ));
        }
        if let Some(legacy) = &m.legacy {
            if let Some(note) = legacy_note(legacy) {
                notes.push(format!("{}: {note}", m.name));
            }
        }
        for v in &m.initial_values {
            let what = match v.target {
                InitialTarget::Program(_) => "program",
                InitialTarget::Map(_) => "map",
            };
            notes.push(format!("{}[{}] = {} ({what})", m.name, v.slot, v.name));
        }
    }
    t.print(out);
    if !notes.is_empty() {
        let _ = writeln!(out, "\nMap details:");
        for note in notes {
            let _ = writeln!(out, "  {note}");
        }
    }
}

/// What a legacy definition holds past `map_flags`, if anything is not zero.
fn legacy_note(legacy: &LegacyDef<'_>) -> Option<String> {
    if legacy.extra.iter().all(|&b| b == 0) {
        return None;
    }
    match legacy.layout {
        LegacyLayout::Libbpf => None,
        LegacyLayout::Iproute2 {
            id,
            pinning,
            inner_id,
            inner_idx,
        } => Some(format!(
            "iproute2 bpf_elf_map: id {id} pinning {pinning} inner_id {inner_id} inner_idx {inner_idx}"
        )),
        LegacyLayout::KernelSamples {
            inner_map_idx,
            numa_node,
        } => Some(format!(
            "samples/bpf bpf_map_def: inner_map_idx {inner_map_idx} numa_node {numa_node}"
        )),
        LegacyLayout::Unknown => {
            let bytes: Vec<String> = legacy.extra.iter().map(|b| format!("{b:02x}")).collect();
            Some(format!(
                "{} unidentified bytes past map_flags: {}",
                legacy.extra.len(),
                bytes.join(" ")
            ))
        }
    }
}

fn data_and_externs(out: &mut String, object: &Object<'_>) {
    let _ = writeln!(out, "\nGlobal data:");
    let mut t = Table::new(&["Section", "Kind", "Size", "Variables"]);
    for d in object.data_sections() {
        let vars: Vec<String> = d
            .variables
            .iter()
            .map(|v| format!("{}@{:#x}", v.name, v.offset))
            .collect();
        t.row(vec![
            d.name.to_string(),
            match d.kind {
                DataKind::Data => "data",
                DataKind::Rodata => "rodata",
                DataKind::Bss => "bss",
            }
            .to_string(),
            d.size.to_string(),
            vars.join(","),
        ]);
    }
    t.print(out);

    let _ = writeln!(out, "\nExterns:");
    let mut t = Table::new(&["Name", "Kind", "Weak"]);
    for e in object.externs() {
        t.row(vec![
            e.name.to_string(),
            e.kind.to_string(),
            if e.weak { "yes" } else { "no" }.to_string(),
        ]);
    }
    t.print(out);
}

/// What a resolved code relocation means, for the fourth column of the relocation listing.
fn meaning(object: &Object<'_>, target: RelocTarget) -> String {
    let code_place = |section, insn| {
        let name = object.elf().section(section).map_or("", |s| s.name);
        match object.function_at(section, insn) {
            Some(f) => format!("{name}+{insn} <{}>", f.name),
            None => format!("{name}+{insn}"),
        }
    };
    match target {
        RelocTarget::Map(i) => format!("map {}", object.maps()[i].name),
        RelocTarget::Data { data, offset } => {
            format!("data {}+{offset:#x}", object.data_sections()[data].name)
        }
        RelocTarget::Call { section, insn } => format!("call {}", code_place(section, insn)),
        RelocTarget::FuncAddr { section, insn } => format!("func {}", code_place(section, insn)),
        RelocTarget::ExternVar(i) => format!("extern {}", object.externs()[i].name),
        RelocTarget::ExternCall(i) => format!("kfunc {}", object.externs()[i].name),
    }
}

fn relocations(out: &mut String, object: &Object<'_>) {
    let elf = object.elf();
    for rs in elf.relocation_sections() {
        let target = elf.section(rs.target).map_or("", |s| s.name);
        let _ = writeln!(out, "\nRELOCATION RECORDS FOR [{target}]:");
        let _ = writeln!(out, "OFFSET           TYPE                     VALUE");
        for r in &rs.relocations {
            let sym = elf.symbol(r.symbol).map_or("", |s| s.name);
            let resolved = object
                .functions()
                .flat_map(|f| f.relocations.iter())
                .find(|c| c.entry_offset == r.entry_offset)
                .map(|c| meaning(object, c.target));
            // A RELA entry's addend follows the symbol, as llvm-objdump prints it.
            let addend = match r.addend {
                Some(a) if a > 0 => format!("+{a:#x}"),
                Some(a) if a < 0 => format!("-{:#x}", a.unsigned_abs()),
                _ => String::new(),
            };
            let line = format!(
                "{:016x} {:<24} {sym}{addend} {}",
                r.offset,
                r.r_type.to_string(),
                resolved.map_or(String::new(), |m| format!("({m})"))
            );
            let _ = writeln!(out, "{}", line.trim_end());
        }
    }
}

fn symbols(out: &mut String, object: &Object<'_>) {
    let elf = object.elf();
    let _ = writeln!(out, "\nSymbols:");
    let mut t = Table::new(&["Num", "Value", "Size", "Type", "Bind", "Vis", "Ndx", "Name"]);
    for s in elf.symbols() {
        let kind = match s.kind {
            SymbolKind::NoType => "NOTYPE".to_string(),
            SymbolKind::Object => "OBJECT".to_string(),
            SymbolKind::Func => "FUNC".to_string(),
            SymbolKind::Section => "SECTION".to_string(),
            SymbolKind::File => "FILE".to_string(),
            SymbolKind::Other(n) => format!("<{n}>"),
        };
        let bind = match s.binding {
            SymbolBinding::Local => "LOCAL".to_string(),
            SymbolBinding::Global => "GLOBAL".to_string(),
            SymbolBinding::Weak => "WEAK".to_string(),
            SymbolBinding::Other(n) => format!("<{n}>"),
        };
        let vis = ["DEFAULT", "INTERNAL", "HIDDEN", "PROTECTED"][usize::from(s.visibility & 3)];
        let ndx = match s.section {
            SymbolSection::Undefined => "UND".to_string(),
            SymbolSection::Absolute => "ABS".to_string(),
            SymbolSection::Common => "COM".to_string(),
            SymbolSection::Section(i) => i.to_string(),
            SymbolSection::Other(n) => format!("{n:#x}"),
        };
        t.row(vec![
            s.index.to_string(),
            format!("{:016x}", s.value),
            s.size.to_string(),
            kind,
            bind,
            vis.to_string(),
            ndx,
            s.name.to_string(),
        ]);
    }
    t.print(out);
}

/// Prints every function of every code section. A slot that does not decode prints as
/// `<unknown: why>` (the object's warnings say so too) and the listing goes on at the next slot.
fn disassembly(out: &mut String, object: &Object<'_>, dialect: Dialect) {
    let mut functions: Vec<&Function<'_>> = object.functions().collect();
    functions.sort_by_key(|f| (f.section, f.offset));
    let mut current = None;
    for f in functions {
        if current != Some(f.section) {
            current = Some(f.section);
            let _ = writeln!(out, "\nDisassembly of section {}:", f.section_name);
        }
        let _ = writeln!(out, "\n{:016x} <{}>:", f.offset, f.name);
        let mut last_line = None;
        let mut slot = 0;
        while slot < f.insn_count() {
            let insn = match Insn::decode(f.code, slot) {
                Ok(insn) => insn,
                Err(e) => {
                    let bytes = &f.code[slot * 8..slot * 8 + 8];
                    let hex: Vec<String> = bytes.iter().map(|b| format!("{b:02x}")).collect();
                    let _ = writeln!(
                        out,
                        "{:>8}:\t{}\t<unknown: {}>",
                        f.first_insn() + slot as u64,
                        hex.join(" "),
                        e.kind
                    );
                    slot += 1;
                    continue;
                }
            };
            for line in f.line_info.iter().filter(|l| l.insn == slot) {
                let key = (line.file_name, line.line_num);
                if last_line != Some(key) {
                    last_line = Some(key);
                    let _ = writeln!(out, "; {}:{}", line.file_name, line.line_num);
                    let _ = writeln!(out, "; {}", line.line.trim_end());
                }
            }
            let start = slot * 8;
            let bytes = &f.code[start..start + insn.slots() * 8];
            let hex: Vec<String> = bytes.iter().map(|b| format!("{b:02x}")).collect();
            let _ = writeln!(
                out,
                "{:>8}:\t{}\t{}",
                f.first_insn() + slot as u64,
                hex.join(" "),
                insn.display(dialect)
            );
            if let Some(r) = f.relocation_at(slot) {
                let _ = writeln!(
                    out,
                    "\t\t{:016x}:  {}\t{} ({})",
                    r.section_offset,
                    r.r_type,
                    r.symbol_name,
                    meaning(object, r.target)
                );
            }
            slot += insn.slots();
        }
    }
}

/// The linked programs: each program with the subprograms it reaches, CO-RE applied, maps and
/// data as the image's symbolic references, source lines from the rebased line_info.
fn linked_disassembly(
    out: &mut String,
    object: &Object<'_>,
    core: &bpfkit_relo::CoreTarget<'_>,
    dialect: Dialect,
) {
    let linker = bpfkit_relo::Linker::new(object).with_core_target(core);
    for (name, result) in linker.link_all() {
        let image = match result {
            Ok(image) => image,
            Err(e) => {
                let _ = writeln!(out, "\nLinked program {name}: error: {e}");
                continue;
            }
        };
        let _ = writeln!(
            out,
            "\nLinked program {name} (section {}, {} instructions):",
            image.section,
            image.slot_count()
        );
        let mut last_line = None;
        for (slot, insn) in image.slots() {
            if let Some(f) = image.functions.iter().find(|f| f.start == slot) {
                let _ = writeln!(out, "\n{slot:>8} <{}>:", f.name);
            }
            for line in image.line_info.iter().filter(|l| l.insn == slot) {
                let key = (line.file.as_str(), line.line);
                if last_line != Some(key) {
                    last_line = Some(key);
                    let _ = writeln!(out, "; {}:{}", line.file, line.line);
                    let _ = writeln!(out, "; {}", line.text.trim_end());
                }
            }
            let _ = write!(out, "{slot:>8}:\t{}", insn.display(dialect));
            if let Some(r) = image.reference_at(slot) {
                let what = match r.target {
                    bpfkit_relo::RefTarget::Map(m)
                    | bpfkit_relo::RefTarget::MapValue { map: m, .. } => image
                        .map(m)
                        .map_or_else(|| format!("map {m}"), |m| format!("map {}", m.name)),
                    bpfkit_relo::RefTarget::Ksym(e) | bpfkit_relo::RefTarget::Kfunc(e) => image
                        .object
                        .externs
                        .get(e.0)
                        .map_or_else(String::new, |x| format!("extern {}", x.name)),
                };
                let _ = write!(out, "\t; {what}");
            }
            let func = image.function_at(slot);
            let core = image
                .core
                .iter()
                .find(|c| func.is_some_and(|f| f.name == c.function && f.start + c.insn == slot));
            if let Some(Ok(o)) = core.map(|c| &c.result) {
                let kind = bpfkit_relo::core::long_kind_name(o.local.kind);
                match o.new {
                    Some(new) => {
                        let _ = write!(out, "\t; CO-RE {kind}: {} -> {new}", o.old);
                    }
                    None => {
                        let _ = write!(out, "\t; CO-RE {kind}: poisoned");
                    }
                }
            }
            let _ = writeln!(out);
        }
    }
}

//! Helpers shared by the `objdump_*` tests: running `bpfkit objdump` and the outside tools, and
//! reading the tables out of their output.
#![allow(dead_code, unused_imports)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

#[path = "common.rs"]
mod common;

pub use common::{bpfkit, root, stdout_of, tool};

/// Every committed test object, sorted.
pub fn objects() -> Vec<PathBuf> {
    let objects = common::files_with_suffix(&root().join("testdata/obj"), ".o");
    assert!(
        objects.len() >= 60,
        "testdata/obj has only {} objects",
        objects.len()
    );
    objects
}

/// The file name of `path`.
pub fn file_name(path: &Path) -> String {
    path.file_name().unwrap().to_string_lossy().into_owned()
}

/// Whether the object was built with `-g` (has BTF).
pub fn has_debug(path: &Path) -> bool {
    file_name(path).ends_with(".g.o")
}

/// The C source the object was built from.
pub fn source_of(path: &Path) -> PathBuf {
    let name = file_name(path);
    let stem = name.split('.').next().unwrap();
    root().join("testdata/src").join(format!("{stem}.bpf.c"))
}

/// `bpfkit objdump ARGS... PATH`, which must succeed.
pub fn objdump(path: &Path, args: &[&str]) -> String {
    let mut all: Vec<&str> = vec!["objdump"];
    all.extend_from_slice(args);
    let p = path.to_str().unwrap();
    all.push(p);
    stdout_of(bpfkit(&all), &format!("bpfkit objdump {p}"))
}

/// Runs an outside tool, which must succeed, and returns its stdout.
pub fn run(tool: &Path, args: &[&str]) -> String {
    let out = Command::new(tool).args(args).output().expect("run tool");
    assert!(
        out.status.success(),
        "{} {args:?} failed: {}",
        tool.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// The rows (split on whitespace) of the table under the line `heading` in objdump's output,
/// without its header row; `-` cells stay `-`.
pub fn table(out: &str, heading: &str) -> Vec<Vec<String>> {
    let mut lines = out.lines().skip_while(|l| *l != heading);
    assert!(lines.next().is_some(), "no '{heading}' in the output");
    lines.next(); // the header row
    lines
        .take_while(|l| !l.trim().is_empty())
        .map(|l| l.split_whitespace().map(str::to_string).collect::<Vec<_>>())
        .collect()
}

/// The lines under `heading` (e.g. `Map details:`), trimmed; empty if there is no such heading.
pub fn lines_under(out: &str, heading: &str) -> Vec<String> {
    out.lines()
        .skip_while(|l| *l != heading)
        .skip(1)
        .take_while(|l| !l.trim().is_empty())
        .map(|l| l.trim().to_string())
        .collect()
}

/// One relocation: offset, type, symbol.
pub type Reloc = (u64, String, String);

/// `RELOCATION RECORDS FOR [section]:` blocks (llvm-objdump -r and bpfkit objdump -r share the
/// layout): section -> relocations. Extra columns after the symbol are ignored.
pub fn relocation_blocks(out: &str) -> BTreeMap<String, Vec<Reloc>> {
    let mut blocks: BTreeMap<String, Vec<Reloc>> = BTreeMap::new();
    let mut current: Option<String> = None;
    for line in out.lines() {
        if let Some(rest) = line.strip_prefix("RELOCATION RECORDS FOR [") {
            let name = rest.trim_end_matches("]:").to_string();
            blocks.entry(name.clone()).or_default();
            current = Some(name);
            continue;
        }
        let Some(section) = &current else { continue };
        let mut fields = line.split_whitespace();
        let (Some(offset), Some(kind)) = (fields.next(), fields.next()) else {
            current = None;
            continue;
        };
        let Ok(offset) = u64::from_str_radix(offset, 16) else {
            continue; // the OFFSET TYPE VALUE header
        };
        let symbol = fields.next().unwrap_or("").to_string();
        blocks
            .get_mut(section)
            .unwrap()
            .push((offset, kind.to_string(), symbol));
    }
    blocks
}

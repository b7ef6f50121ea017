//! `bpfkit objdump` against LLVM's tools, for every committed test object: sections against
//! `llvm-readelf-19 -S`, symbols, programs and subprograms against `llvm-objdump-19 -t`,
//! relocations against `llvm-objdump-19 -r`, and the disassembly's functions and instruction
//! bytes against `llvm-objdump-19 -d`. Expected values are parsed from the tools' output at test
//! time.

mod objdump_support;

use std::collections::BTreeMap;

use objdump_support::*;

#[test]
fn sections_agree_with_llvm_readelf() {
    let Some(readelf) = tool("llvm-readelf-19") else {
        return;
    };
    for path in objects() {
        sections_agree(&readelf, &path);
    }
}

/// A symbol as llvm-objdump -t shows it.
#[derive(Debug, PartialEq)]
struct Sym {
    value: u64,
    binding: char,
    kind: &'static str,
    section: String,
    size: u64,
    name: String,
}

fn llvm_symbols(objdump: &std::path::Path, path: &std::path::Path) -> Vec<Sym> {
    let out = run(objdump, &["-t", path.to_str().unwrap()]);
    let mut syms = Vec::new();
    for line in out.lines() {
        // 0000000000000000 l    df *ABS*	0000000000000000 maps.bpf.c
        if line.len() < 26 || !line.as_bytes()[..16].iter().all(u8::is_ascii_hexdigit) {
            continue;
        }
        let value = u64::from_str_radix(&line[..16], 16).unwrap();
        let flags: Vec<char> = line[17..24].chars().collect();
        let (section, rest) = line[25..].split_once('\t').unwrap();
        let (size, name) = rest.split_once(' ').unwrap_or((rest, ""));
        let kind = match (flags[5], flags[6]) {
            (_, 'F') => "FUNC",
            (_, 'O') => "OBJECT",
            (_, 'f') => "FILE",
            ('d', _) => "SECTION",
            _ => "NOTYPE",
        };
        // Column 0: l(ocal)/g(lobal); column 1: w(eak).
        let binding = if flags[1] == 'w' { 'w' } else { flags[0] };
        syms.push(Sym {
            value,
            binding,
            kind,
            section: section.to_string(),
            size: u64::from_str_radix(size, 16).unwrap(),
            name: name.to_string(),
        });
    }
    syms
}

#[test]
fn symbols_programs_and_subprograms_agree_with_llvm_objdump() {
    let Some(llvm) = tool("llvm-objdump-19") else {
        return;
    };
    let Some(readelf) = tool("llvm-readelf-19") else {
        return;
    };
    for path in objects() {
        let name = file_name(&path);
        let out = objdump(&path, &[]);
        let sections = readelf_sections(&readelf, &path);
        let expected = llvm_symbols(&llvm, &path);
        // llvm-objdump -t leaves out the null symbol.
        let ours: Vec<Vec<String>> = table(&out, "Symbols:").into_iter().skip(1).collect();
        assert_eq!(ours.len(), expected.len(), "{name}: symbol count");
        for (row, e) in ours.iter().zip(&expected) {
            let section = match row[6].as_str() {
                "UND" => "*UND*".to_string(),
                "ABS" => "*ABS*".to_string(),
                n => sections[&n.parse::<usize>().unwrap()].0.clone(),
            };
            let binding = match (row[4].as_str(), section.as_str()) {
                ("LOCAL", _) => 'l',
                ("WEAK", _) => 'w',
                // llvm-objdump shows no 'g' for undefined globals.
                ("GLOBAL", "*UND*") => ' ',
                ("GLOBAL", _) => 'g',
                (other, _) => panic!("{name}: binding {other}"),
            };
            let our_name = row.get(7).cloned().unwrap_or_default();
            let ours = Sym {
                value: u64::from_str_radix(&row[1], 16).unwrap(),
                binding,
                kind: match row[3].as_str() {
                    "FUNC" => "FUNC",
                    "OBJECT" => "OBJECT",
                    "FILE" => "FILE",
                    "SECTION" => "SECTION",
                    _ => "NOTYPE",
                },
                section,
                size: row[2].parse().unwrap(),
                name: our_name,
            };
            assert_eq!(&ours, e, "{name}: symbol {}", row[0]);
        }

        // Every FUNC symbol is a program (outside .text) or a subprogram (in .text), with
        // st_size / 8 instructions; nothing else is.
        let funcs: Vec<&Sym> = expected.iter().filter(|s| s.kind == "FUNC").collect();
        let programs = table(&out, "Programs:");
        let subprograms = table(&out, "Subprograms:");
        let mut want_programs: Vec<(String, String, u64, u64)> = funcs
            .iter()
            .filter(|s| s.section != ".text")
            .map(|s| (s.name.clone(), s.section.clone(), s.value, s.size / 8))
            .collect();
        let mut got_programs: Vec<(String, String, u64, u64)> = programs
            .iter()
            .map(|r| {
                (
                    r[0].clone(),
                    r[1].clone(),
                    hex_or_dec(&r[5]),
                    r[6].parse().unwrap(),
                )
            })
            .collect();
        want_programs.sort();
        got_programs.sort();
        assert_eq!(got_programs, want_programs, "{name}: programs");
        let mut want_subs: Vec<(String, u64, u64)> = funcs
            .iter()
            .filter(|s| s.section == ".text")
            .map(|s| (s.name.clone(), s.value, s.size / 8))
            .collect();
        let mut got_subs: Vec<(String, u64, u64)> = subprograms
            .iter()
            .map(|r| (r[0].clone(), hex_or_dec(&r[2]), r[3].parse().unwrap()))
            .collect();
        want_subs.sort();
        got_subs.sort();
        assert_eq!(got_subs, want_subs, "{name}: subprograms");
        assert!(!got_programs.is_empty(), "{name}: no programs");
    }
}

#[test]
fn relocations_agree_with_llvm_objdump() {
    let Some(llvm) = tool("llvm-objdump-19") else {
        return;
    };
    let mut code_relocs = 0;
    for path in objects() {
        let name = file_name(&path);
        let expected = relocation_blocks(&run(&llvm, &["-r", path.to_str().unwrap()]));
        let ours = relocation_blocks(&objdump(&path, &["-r"]));
        assert_eq!(
            ours.keys().collect::<Vec<_>>(),
            expected.keys().collect::<Vec<_>>(),
            "{name}: relocated sections"
        );
        for (section, relocs) in &expected {
            assert_eq!(&ours[section], relocs, "{name}: relocations of [{section}]");
            if !section.starts_with('.') || section == ".text" {
                code_relocs += relocs.len();
            }
        }
    }
    assert!(
        code_relocs > 100,
        "only {code_relocs} code relocations seen"
    );
}

/// `(index, bytes)` of every instruction, per function label, from a `-d` listing.
fn listing(out: &str) -> BTreeMap<String, Vec<(u64, String)>> {
    let mut functions: BTreeMap<String, Vec<(u64, String)>> = BTreeMap::new();
    let mut current: Option<String> = None;
    for line in out.lines() {
        if let Some(label) = line.strip_suffix(">:").and_then(|l| l.split_once(" <")) {
            current = Some(label.1.to_string());
            functions.entry(label.1.to_string()).or_default();
            continue;
        }
        let Some(func) = &current else { continue };
        let Some((index, rest)) = line.split_once(":\t") else {
            continue;
        };
        let Ok(index) = index.trim().parse::<u64>() else {
            continue;
        };
        let bytes = rest.split('\t').next().unwrap().trim().to_string();
        functions.get_mut(func).unwrap().push((index, bytes));
    }
    functions
}

#[test]
fn disassembly_agrees_with_llvm_objdump() {
    let Some(llvm) = tool("llvm-objdump-19") else {
        return;
    };
    for path in objects() {
        let name = file_name(&path);
        let expected = listing(&run(&llvm, &["-d", path.to_str().unwrap()]));
        let ours = listing(&objdump(&path, &["-d"]));
        assert_eq!(
            ours.keys().collect::<Vec<_>>(),
            expected.keys().collect::<Vec<_>>(),
            "{name}: functions"
        );
        for (func, insns) in &expected {
            assert_eq!(&ours[func], insns, "{name}: <{func}>");
        }
    }
}

//! Linking against the oracle, libbpf itself: for every testdata object libbpf 1.1 can relocate
//! without a kernel (gen_loader mode, `tests/oracle/libbpf_link.py`), every program's final
//! instructions — subprograms appended in libbpf's order, calls and function addresses fixed,
//! maps and global data as `BPF_PSEUDO_MAP_IDX(_VALUE)` indices into libbpf's map table — are
//! byte-identical to our image's.
//!
//! CO-RE instructions are relocated against the object's own BTF, which leaves them as clang
//! wrote them (local == target), as gen_loader mode leaves them.

use std::path::{Path, PathBuf};
use std::process::Command;

use bpfkit_elf::Object;
use bpfkit_relo::{CoreTarget, Linker};
use bpfkit_test_support::{Need, require};

fn testdata() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../testdata/obj")
}

/// What libbpf made of an object: each program's instructions, and the initial value of each
/// map that has one (global data, `.kconfig`) by map index.
struct Libbpf {
    programs: Vec<(String, Vec<u8>)>,
    initial_values: Vec<(usize, Vec<u8>)>,
}

fn unhex(hex: &str) -> Vec<u8> {
    (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
        .collect()
}

/// libbpf's result for an object, or why libbpf cannot relocate it.
fn libbpf_link(path: &Path) -> Result<Libbpf, String> {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/oracle/libbpf_link.py");
    let out = Command::new("python3")
        .arg(&script)
        .arg(path)
        .output()
        .expect("run python3");
    if !out.status.success() {
        return Err(String::from_utf8_lossy(&out.stderr).trim().to_string());
    }
    let text = String::from_utf8(out.stdout).unwrap();
    let mut result = Libbpf {
        programs: Vec::new(),
        initial_values: Vec::new(),
    };
    for line in text.lines() {
        let fields: Vec<&str> = line.split(' ').collect();
        match fields.as_slice() {
            ["map", index, hex] => result
                .initial_values
                .push((index.parse().unwrap(), unhex(hex))),
            [name, hex] => result.programs.push((name.to_string(), unhex(hex))),
            _ => panic!("unexpected oracle line: {line}"),
        }
    }
    Ok(result)
}

#[test]
fn linked_programs_match_libbpf_byte_for_byte() {
    require!(Need::Libbpf);
    let mut objects = 0;
    let mut programs = 0;
    let mut initial_values = 0;
    let mut core_slots = 0;
    let mut refused = Vec::new();
    let mut paths: Vec<_> = std::fs::read_dir(testdata())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "o"))
        .collect();
    paths.sort();
    for path in &paths {
        let expected = match libbpf_link(path) {
            Ok(expected) => expected,
            Err(why) => {
                refused.push(format!("{}: {why}", path.display()));
                continue;
            }
        };
        let bytes = std::fs::read(path).unwrap();
        let object = Object::parse(&bytes).unwrap();
        let own = object.btf().map(CoreTarget::new);
        let mut linker = Linker::new(&object);
        if let Some(own) = &own {
            linker = linker.with_core_target(own);
        }
        for (name, insns) in &expected.programs {
            let image = match linker.link(name) {
                Ok(image) => image,
                // CO-RE error cases fail as in libbpf (checked by core_libbpf.rs).
                Err(e) if path.to_string_lossy().contains("core_reloc_") => {
                    refused.push(format!("{}: {name}: {e}", path.display()));
                    continue;
                }
                Err(e) => panic!("{}: {e}", path.display()),
            };
            let mut ours = image.encode();
            // gen_loader mode leaves CO-RE instructions as clang wrote them, and even against
            // the object's own BTF CO-RE may change them (a bitfield's byte size is the
            // smallest load that covers it): those slots are core_libbpf.rs's to compare.
            let mut theirs = insns.clone();
            for report in &image.core {
                let Some(func) = image.functions.iter().find(|f| f.name == report.function) else {
                    continue;
                };
                let slot = func.start + report.insn;
                let width = report
                    .result
                    .as_ref()
                    .map_or(1, |o| o.insns.iter().map(|i| i.slots()).sum::<usize>());
                for s in slot..slot + width {
                    ours[s * 8..s * 8 + 8].fill(0);
                    theirs[s * 8..s * 8 + 8].fill(0);
                }
                core_slots += width;
            }
            if ours != theirs {
                for (i, (a, b)) in ours.chunks(8).zip(theirs.chunks(8)).enumerate() {
                    if a != b {
                        eprintln!("  slot {i}: ours {a:02x?} libbpf {b:02x?}");
                    }
                }
            }
            assert_eq!(
                ours,
                theirs,
                "{}: program {name}: our image differs from libbpf's",
                path.display()
            );
            programs += 1;
        }
        // Global data and .kconfig start with the same bytes (libbpf reads the running
        // kernel's config, as we do by default).
        let linker = Linker::new(&object);
        if !object.externs().is_empty() || !expected.initial_values.is_empty() {
            let shared = linker.object_image().unwrap();
            for (index, value) in &expected.initial_values {
                let ours = &shared.maps[*index];
                assert_eq!(
                    ours.data,
                    *value,
                    "{}: map {index} ({}): initial value differs from libbpf's",
                    path.display(),
                    ours.name
                );
                initial_values += 1;
            }
        }
        objects += 1;
    }
    eprintln!(
        "compared {programs} programs ({core_slots} CO-RE slots left to core_libbpf.rs) and \
         {initial_values} map initial values of {objects} objects with libbpf; refused {}:",
        refused.len()
    );
    for r in &refused {
        eprintln!("  {r}");
    }
    // testdata has 68 objects; libbpf 1.1 refuses legacy maps (8), externs needing kallsyms
    // (4) and prog array initialisers in gen_loader mode (4).
    assert!(objects >= 72, "only {objects} objects compared");
    assert!(programs >= 162, "only {programs} programs compared");
    assert!(
        initial_values >= 40,
        "only {initial_values} initial values compared"
    );
}

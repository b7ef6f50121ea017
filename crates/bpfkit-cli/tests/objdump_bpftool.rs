//! `bpfkit objdump` against bpftool, for every committed test object: the map and program names
//! of `bpftool gen skeleton` (libbpf's view, in libbpf's order, internal maps included), and the
//! `.maps` DATASEC variables and FUNC records of `bpftool btf dump file`.

mod objdump_support;

use std::path::Path;
use std::process::Command;

use objdump_support::*;

/// The member names of `struct { ... } NAME;` in a skeleton header.
fn skeleton_members(header: &str, block: &str) -> Vec<String> {
    let mut inside = Vec::new();
    for line in header.lines() {
        let line = line.trim();
        if line == "struct {" {
            inside.clear();
            continue;
        }
        if line == format!("}} {block};") {
            return inside;
        }
        if let Some(member) = line.strip_suffix(';').and_then(|l| l.rsplit_once('*')) {
            inside.push(member.1.to_string());
        }
    }
    panic!("no '{block}' block in the skeleton");
}

/// The identifier bpftool gives the internal map of a data section (`get_map_ident`).
fn data_ident(section: &str) -> String {
    section.trim_start_matches('.').replace('.', "_")
}

#[test]
fn names_agree_with_bpftool_skeleton() {
    let Some(bpftool) = tool("bpftool") else {
        return;
    };
    let mut compared = 0;
    for path in objects() {
        let name = file_name(&path);
        let out = Command::new(&bpftool)
            .args(["gen", "skeleton", path.to_str().unwrap(), "name", "obj"])
            .output()
            .unwrap();
        if !out.status.success() {
            // bpftool's libbpf (>= 1.0) refuses legacy `maps` sections, and only those.
            assert!(
                name.starts_with("legacy_maps."),
                "{name}: bpftool gen skeleton failed"
            );
            continue;
        }
        let header = String::from_utf8(out.stdout).unwrap();
        let objdump = objdump(&path, &["-p", "-m"]);

        let mut want_progs = skeleton_members(&header, "progs");
        let mut got_progs: Vec<String> = table(&objdump, "Programs:")
            .into_iter()
            .map(|r| r[0].clone())
            .collect();
        want_progs.sort();
        got_progs.sort();
        assert_eq!(got_progs, want_progs, "{name}: programs");

        // User maps in definition order, then one internal map per data section in section
        // order, then .kconfig if there are kconfig externs.
        let mut expected_maps: Vec<String> = table(&objdump, "Maps:")
            .into_iter()
            .map(|r| r[0].clone())
            .collect();
        expected_maps.extend(
            table(&objdump, "Global data:")
                .into_iter()
                .map(|r| data_ident(&r[0])),
        );
        if table(&objdump, "Externs:")
            .iter()
            .any(|e| e[1] == "kconfig")
        {
            expected_maps.push("kconfig".to_string());
        }
        let skeleton_maps = if header.contains("} maps;") {
            skeleton_members(&header, "maps")
        } else {
            Vec::new()
        };
        assert_eq!(expected_maps, skeleton_maps, "{name}: maps");
        compared += 1;
    }
    assert!(compared >= 50, "only {compared} objects compared");
}

/// `(DATASEC '.maps' variable names, FUNC names)` from `bpftool btf dump file`.
fn btf_names(bpftool: &Path, path: &Path) -> (Vec<String>, Vec<String>) {
    let out = run(bpftool, &["btf", "dump", "file", path.to_str().unwrap()]);
    let mut maps = Vec::new();
    let mut funcs = Vec::new();
    let mut in_maps = false;
    for line in out.lines() {
        if !line.starts_with('\t') {
            in_maps = line.contains("DATASEC '.maps'");
            // [18] FUNC 'prog' type_id=17 linkage=global
            if let Some(rest) = line.split_once("] FUNC '") {
                funcs.push(rest.1.split('\'').next().unwrap().to_string());
            }
        } else if in_maps {
            // \ttype_id=14 offset=0 size=32 (VAR 'byte_count')
            let var = line.rsplit_once("(VAR '").unwrap().1;
            maps.push(var.trim_end_matches("')").to_string());
        }
    }
    (maps, funcs)
}

#[test]
fn btf_maps_and_functions_agree_with_bpftool_btf_dump() {
    let Some(bpftool) = tool("bpftool") else {
        return;
    };
    for path in objects().into_iter().filter(|p| has_debug(p)) {
        let name = file_name(&path);
        let (btf_maps, btf_funcs) = btf_names(&bpftool, &path);
        let objdump = objdump(&path, &["-p", "-m"]);
        let our_btf_maps: Vec<String> = table(&objdump, "Maps:")
            .into_iter()
            .filter(|r| r[1] == "btf")
            .map(|r| r[0].clone())
            .collect();
        assert_eq!(our_btf_maps, btf_maps, "{name}: BTF-defined maps");

        // Every function has a BTF FUNC (extern kfuncs have one too, without code).
        let kfuncs: Vec<String> = table(&objdump, "Externs:")
            .into_iter()
            .filter(|r| r[1] == "kfunc")
            .map(|r| r[0].clone())
            .collect();
        let mut ours: Vec<String> = table(&objdump, "Programs:")
            .into_iter()
            .chain(table(&objdump, "Subprograms:"))
            .map(|r| r[0].clone())
            .chain(kfuncs)
            .collect();
        let mut btf_funcs = btf_funcs;
        ours.sort();
        btf_funcs.sort();
        assert_eq!(ours, btf_funcs, "{name}: functions");
    }
}

//! `bpfkit objdump` against the C sources and the raw section bytes: the source lines it
//! interleaves from `.BTF.ext` line_info are the lines of `testdata/src/*.bpf.c` they name; the
//! license and kernel version are what the sources declare and what `llvm-readelf-19 -x` dumps.

mod objdump_support;

use std::collections::BTreeMap;

use objdump_support::*;

#[test]
fn source_lines_are_the_lines_of_the_c_source() {
    let mut checked = 0;
    for path in objects() {
        let name = file_name(&path);
        let out = objdump(&path, &["-d"]);
        let source = std::fs::read_to_string(source_of(&path)).unwrap();
        let lines: Vec<&str> = source.lines().collect();
        let mut annotated = 0;
        let mut iter = out.lines().peekable();
        while let Some(line) = iter.next() {
            // ; ./xdp_parse.bpf.c:33
            // ; int xdp_parse(struct xdp_md *ctx)
            let Some(location) = line.strip_prefix("; ") else {
                continue;
            };
            let (file, number) = location.rsplit_once(':').unwrap();
            assert!(
                source_of(&path).ends_with(file.trim_start_matches("./")),
                "{name}: line info names {file}"
            );
            let number: usize = number.parse().unwrap();
            let text = iter.next().unwrap().strip_prefix("; ").unwrap_or("");
            assert_eq!(
                text.trim_end(),
                lines[number - 1].trim_end(),
                "{name}: line {number}"
            );
            annotated += 1;
        }
        if has_debug(&path) {
            assert!(annotated > 0, "{name}: no source lines");
            checked += annotated;
        } else {
            assert_eq!(annotated, 0, "{name}: source lines without BTF");
        }
    }
    assert!(checked > 500, "only {checked} source lines checked");
}

/// The bytes of a section from `llvm-readelf -x`.
fn section_bytes(readelf: &std::path::Path, path: &std::path::Path, section: &str) -> Vec<u8> {
    let out = run(readelf, &["-x", section, path.to_str().unwrap()]);
    let mut bytes = Vec::new();
    for line in out.lines() {
        // "  0x00000000 47504c00                            GPL."
        let Some(rest) = line.trim_start().strip_prefix("0x") else {
            continue;
        };
        for word in rest.split_whitespace().skip(1).take(4) {
            if word.len() % 2 != 0 || !word.chars().all(|c| c.is_ascii_hexdigit()) {
                break;
            }
            for i in (0..word.len()).step_by(2) {
                bytes.push(u8::from_str_radix(&word[i..i + 2], 16).unwrap());
            }
        }
    }
    bytes
}

/// `SEC("name") = VALUE;` declarations of the C source: section name -> value text.
fn declared(source: &str) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for line in source.lines() {
        let Some((_, rest)) = line.split_once("SEC(\"") else {
            continue;
        };
        let Some((section, rest)) = rest.split_once("\")") else {
            continue;
        };
        if let Some((_, value)) = rest.split_once(" = ") {
            out.insert(
                section.to_string(),
                value
                    .trim_end_matches(';')
                    .split(';')
                    .next()
                    .unwrap()
                    .trim()
                    .to_string(),
            );
        }
    }
    out
}

#[test]
fn license_and_version_agree_with_source_and_llvm_readelf() {
    let Some(readelf) = tool("llvm-readelf-19") else {
        return;
    };
    let mut versions = 0;
    for path in objects() {
        let name = file_name(&path);
        let out = objdump(&path, &["-p"]);
        let source = std::fs::read_to_string(source_of(&path)).unwrap();
        let decl = declared(&source);

        let license = out
            .lines()
            .find_map(|l| l.strip_prefix("license: "))
            .unwrap();
        let bytes = section_bytes(&readelf, &path, "license");
        let end = bytes.iter().position(|&b| b == 0).unwrap_or(bytes.len());
        assert_eq!(
            license,
            String::from_utf8_lossy(&bytes[..end]),
            "{name}: license bytes"
        );
        assert_eq!(
            format!("\"{license}\""),
            decl["license"],
            "{name}: license in the source"
        );

        let version = out
            .lines()
            .find_map(|l| l.strip_prefix("kernel version: "))
            .unwrap();
        match decl.get("version") {
            Some(value) => {
                let bytes = section_bytes(&readelf, &path, "version");
                let from_elf = u32::from_le_bytes(bytes.try_into().unwrap());
                let from_source = u32::from_str_radix(value.trim_start_matches("0x"), 16).unwrap();
                assert_eq!(from_elf, from_source, "{name}: version section");
                assert_eq!(
                    version,
                    format!("{from_source:#x}"),
                    "{name}: kernel version"
                );
                versions += 1;
            }
            None => assert_eq!(version, "-", "{name}: kernel version"),
        }
    }
    assert_eq!(
        versions, 8,
        "the eight legacy_maps objects have a version section"
    );
}

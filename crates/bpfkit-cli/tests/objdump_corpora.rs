//! `bpfkit objdump` on objects others built, as a new user would run it on them: every object of
//! a corpus must read and show, with what a loader would refuse listed as warnings.
//!
//! Oracles, per object:
//! - LLVM: `llvm-readelf-19` reads the ELF structure. An object it cannot read (a corrupt symbol
//!   table) must be refused with a typed error (exit 2); every other little-endian object must
//!   show (exit 0), with the section headers `llvm-readelf -S` lists.
//! - libbpf (`libbpf.so.1` through python3's ctypes): an object libbpf opens must carry no
//!   warning the model says libbpf refuses, and its programs and maps must be libbpf's; an object
//!   libbpf refuses must carry the warning for libbpf's reason (its first message).
//! - Big-endian objects (`-eb.elf`, `_bpfeb.o`) are refused with a typed error naming the byte
//!   order: the instruction decoder reads little-endian slots only.
//!
//! Corpora: Debian's golang-github-cilium-ebpf-dev (cilium/ebpf 0.9.1's testdata, installed by
//! `.ci/run`), and two checkouts CI does not have, read only when named by an environment
//! variable (the tests are ignored otherwise, so they never pass without their objects):
//! `BPFKIT_EBPF_SAMPLES` (vbpf/ebpf-samples, PREVAIL's corpus) and `BPFKIT_CILIUM_EBPF`
//! (cilium/ebpf). Each test prints its counts (run with `--nocapture`).

mod objdump_support;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use bpfkit_elf::Object;
use bpfkit_test_support::{Need, corpus_dir, require};
use objdump_support::*;

/// Debian's copy of cilium/ebpf (package golang-github-cilium-ebpf-dev).
const DEBIAN_CILIUM: &str = "/usr/share/gocode/src/github.com/cilium/ebpf";

#[test]
fn debian_cilium_ebpf_objects_read_and_show() {
    let probe = format!("{DEBIAN_CILIUM}/testdata/loader-el.elf");
    require!(
        Need::File(&probe),
        Need::Tool("llvm-readelf-19"),
        Need::Libbpf
    );
    let summary = check_corpus(Path::new(DEBIAN_CILIUM));
    // 0.9.1 ships 18 objects in each byte order.
    assert!(summary.objects >= 36, "{summary:?}");
}

#[test]
#[ignore = "needs BPFKIT_EBPF_SAMPLES=<checkout of vbpf/ebpf-samples>"]
fn ebpf_samples_objects_read_and_show() {
    let dir = corpus_dir("BPFKIT_EBPF_SAMPLES");
    require!(Need::Tool("llvm-readelf-19"), Need::Libbpf);
    let summary = check_corpus(&dir);
    assert!(summary.objects >= 156, "{summary:?}");
}

#[test]
#[ignore = "needs BPFKIT_CILIUM_EBPF=<checkout of cilium/ebpf>"]
fn cilium_ebpf_objects_read_and_show() {
    let dir = corpus_dir("BPFKIT_CILIUM_EBPF");
    require!(Need::Tool("llvm-readelf-19"), Need::Libbpf);
    let summary = check_corpus(&dir);
    assert!(summary.objects >= 71, "{summary:?}");
}

/// What a corpus run found.
#[derive(Debug, Default)]
#[allow(dead_code)] // read through Debug
struct Summary {
    objects: usize,
    read: usize,
    big_endian: usize,
    corrupt: Vec<String>,
    libbpf_opened: usize,
    libbpf_refused: usize,
    maps_compared: usize,
    warnings: BTreeMap<&'static str, usize>,
}

fn check_corpus(dir: &Path) -> Summary {
    let mut objects = files_with_suffix(dir, ".o");
    objects.extend(files_with_suffix(dir, ".elf"));
    objects.sort();
    let mut summary = Summary {
        objects: objects.len(),
        ..Summary::default()
    };
    let mut readable: Vec<PathBuf> = Vec::new();
    for path in &objects {
        let p = path.to_str().unwrap();
        let bytes = std::fs::read(path).unwrap();
        let out = bpfkit(&["objdump", p]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!stderr.contains("panicked"), "{p}: {stderr}");
        if bytes.get(5) == Some(&2) {
            // ELFDATA2MSB.
            assert_eq!(out.status.code(), Some(2), "{p}: {stderr}");
            assert!(stderr.contains("big-endian"), "{p}: {stderr}");
            summary.big_endian += 1;
            continue;
        }
        if let Some(llvm_says) = llvm_cannot_read(path) {
            assert_eq!(out.status.code(), Some(2), "{p}: LLVM: {llvm_says}");
            assert!(
                stderr.starts_with(&format!("error: {p}: at offset 0x")),
                "{p}: {stderr}"
            );
            summary.corrupt.push(p.to_string());
            continue;
        }
        assert_eq!(out.status.code(), Some(0), "{p}: {stderr}");
        let text = String::from_utf8(out.stdout).unwrap();
        for part in ["Sections:", "Programs:", "Maps:", "Symbols:"] {
            assert!(text.contains(part), "{p}: no {part}");
        }
        sections_agree(Path::new("llvm-readelf-19"), path);

        let object = Object::parse(&bytes).unwrap();
        // objdump lists every warning of the model.
        assert_eq!(
            lines_under(&text, "Warnings:").len(),
            object.warnings().len(),
            "{p}"
        );
        for w in object.warnings() {
            *summary.warnings.entry(w.kind.name()).or_default() += 1;
        }
        summary.read += 1;
        readable.push(path.clone());
    }
    assert_eq!(
        summary.read + summary.big_endian + summary.corrupt.len(),
        summary.objects
    );

    let facts = libbpf_facts(&readable).expect("libbpf was required");
    for path in &readable {
        let p = path.display().to_string();
        let object_bytes = std::fs::read(path).unwrap();
        let object = Object::parse(&object_bytes).unwrap();
        let ours: Vec<&str> = object
            .warnings()
            .iter()
            .filter(|w| w.kind.refused_by_libbpf())
            .map(|w| w.kind.name())
            .collect();
        match &facts[&p].open_error {
            None => {
                assert!(
                    ours.is_empty(),
                    "{p}: libbpf opens it, yet the model says libbpf refuses {ours:?}"
                );
                summary.maps_compared += compare_with_libbpf(path, &facts[&p]);
                summary.libbpf_opened += 1;
            }
            Some((errno, message)) => {
                if let Some(kind) = libbpf_reason(message) {
                    assert!(
                        ours.contains(&kind),
                        "{p}: libbpf refuses it ({message}, errno {errno}), the model has {ours:?}"
                    );
                }
                summary.libbpf_refused += 1;
            }
        }
    }
    eprintln!("{}: {summary:#?}", dir.display());
    summary
}

/// The warning kind that stands for libbpf's first complaint about an object; `None` for what
/// only the installed libbpf (Debian's 1.1) refuses and newer ones read.
fn libbpf_reason(message: &str) -> Option<&'static str> {
    let reasons = [
        (
            "legacy map definitions in 'maps' section",
            Some("legacy-maps"),
        ),
        // PREVAIL's `maps/NAME` sections, which libbpf does not know as maps.
        ("bad map relo against", Some("legacy-maps")),
        ("is static and not supported", Some("static-program")),
        ("invalid pinning value", Some("unknown-pinning")),
        ("failed to find BTF for extern", Some("unresolved-extern")),
        ("isn't a valid program reference", Some("not-a-program")),
        ("unsupported map linkage static", Some("static-map")),
        // `__ulong(map_extra, ...)` (an ENUM64): libbpf reads it since 1.4.
        ("attr 'map_extra': expected PTR, got enum64", None),
    ];
    reasons
        .iter()
        .find(|(text, _)| message.contains(text))
        .unwrap_or_else(|| {
            panic!("libbpf refuses for a reason the model does not record: {message}")
        })
        .1
}

/// What `llvm-readelf-19` complains about when reading the sections, symbols and relocations.
fn llvm_cannot_read(path: &Path) -> Option<String> {
    let out = Command::new("llvm-readelf-19")
        .args(["-S", "-s", "-r"])
        .arg(path)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).trim().to_string();
    (!out.status.success() || !stderr.is_empty()).then_some(stderr)
}

/// What cilium/ebpf's own tests (0.9.1's `elf_reader_test.go`, in the same Debian package)
/// assert about its objects, checked on our model: `TestLoadCollectionSpec`'s programs and maps
/// of every `loader-*-el.elf` (the `btf_` maps only where clang wrote BTF), `TestIPRoute2Compat`'s
/// `bpf_elf_map` fields, `TestLoadInvalidMap`'s non-zero extra bytes (creating the map must
/// fail), `TestLoadInvalidMapMissingSymbol`'s static map (loading must fail).
#[test]
fn debian_cilium_ebpf_objects_match_its_own_tests() {
    use bpfkit_elf::{LegacyLayout, Pinning};
    use bpfkit_uapi::{MapFlags, MapType};

    let testdata = Path::new(DEBIAN_CILIUM).join("testdata");
    require!(Need::File(testdata.join("loader-el.elf").to_str().unwrap()));
    let read = |name: &str| std::fs::read(testdata.join(name)).unwrap();

    let loaders: Vec<PathBuf> = files_with_suffix(&testdata, "-el.elf")
        .into_iter()
        .filter(|p| file_name(p).starts_with("loader-"))
        .collect();
    assert!(loaders.len() >= 4, "{loaders:?}");
    for path in &loaders {
        let name = file_name(path);
        let bytes = std::fs::read(path).unwrap();
        let object = Object::parse(&bytes).unwrap();
        assert_eq!(object.license(), Some("MIT"), "{name}");
        let mut programs: Vec<(&str, &str)> = object
            .programs()
            .iter()
            .map(|p| (p.name(), p.section_name()))
            .collect();
        programs.sort();
        assert_eq!(
            programs,
            [
                ("anon_const", "socket/4"),
                ("asm_relocation", "socket/2"),
                ("data_sections", "socket/3"),
                ("global_fn3", "other"),
                ("no_relocation", "socket"),
                ("static_fn", "static"),
                ("xdp_prog", "xdp"),
            ],
            "{name}"
        );
        let map = |m: &str| {
            object
                .map(m)
                .unwrap_or_else(|| panic!("{name}: no map {m}"))
        };
        let def = |m: &str| {
            let d = map(m).def;
            (
                d.map_type,
                d.key_size,
                d.value_size,
                d.max_entries,
                d.map_flags,
            )
        };
        assert_eq!(
            def("hash_map"),
            (MapType::HASH, 4, 8, 1, MapFlags(1)),
            "{name}"
        );
        assert_eq!(
            def("hash_map2"),
            (MapType::HASH, 4, 8, 2, MapFlags(0)),
            "{name}"
        );
        assert_eq!(def("array_of_hash_map").0, MapType::ARRAY_OF_MAPS, "{name}");
        assert_eq!(def("array_of_hash_map").1, 4, "{name}");
        assert_eq!(def("array_of_hash_map").3, 2, "{name}");
        // cilium/ebpf sets max_entries to the number of CPUs; the object's is whatever it is.
        assert_eq!(
            def("perf_event_array").0,
            MapType::PERF_EVENT_ARRAY,
            "{name}"
        );
        if object.btf().is_some_and(|_| object.has_btf_maps()) {
            assert_eq!(
                def("btf_pin"),
                (MapType::HASH, 4, 8, 1, MapFlags(0)),
                "{name}"
            );
            assert_eq!(map("btf_pin").pinning, Pinning::ByName, "{name}");
            for outer in ["btf_outer_map", "btf_outer_map_anon"] {
                assert_eq!(def(outer), (MapType::ARRAY_OF_MAPS, 4, 4, 1, MapFlags(0)));
                let inner = map(outer).inner.unwrap().def;
                assert_eq!(
                    (
                        inner.map_type,
                        inner.key_size,
                        inner.value_size,
                        inner.max_entries
                    ),
                    (MapType::HASH, 4, 4, 1),
                    "{name}: {outer}"
                );
            }
        }
    }

    let bytes = read("iproute2_map_compat-el.elf");
    let object = Object::parse(&bytes).unwrap();
    let hash_map = object.map("hash_map").unwrap();
    assert_eq!(
        hash_map.legacy.unwrap().layout,
        LegacyLayout::Iproute2 {
            id: 0,
            pinning: 2,
            inner_id: 0,
            inner_idx: 0
        }
    );
    assert_eq!(hash_map.pinning, Pinning::GlobalNs);

    let bytes = read("invalid_map-el.elf");
    let object = Object::parse(&bytes).unwrap();
    let extra = object.map("invalid_map").unwrap().legacy.unwrap().extra;
    assert!(extra.iter().any(|&b| b != 0), "{extra:?}");
    assert!(
        object
            .warnings()
            .iter()
            .any(|w| w.kind.name() == "unknown-map-fields")
    );

    let bytes = read("invalid_map_static-el.elf");
    let object = Object::parse(&bytes).unwrap();
    assert!(
        object
            .warnings()
            .iter()
            .any(|w| w.kind.name() == "static-map")
    );
}

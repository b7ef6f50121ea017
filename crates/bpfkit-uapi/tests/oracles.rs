//! The constant tables checked against the running kernel's BTF (through bpftool) and against
//! libbpf itself (`libbpf.so.1` through python3's ctypes): facts parsed from their answers at test
//! time, never from our own output.
//!
//! A missing tool skips a test under the one rule of `bpfkit-test-support`: a printed reason,
//! or a failure under `CI=true`.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

use bpfkit_test_support::{Need, VMLINUX, require};
use bpfkit_uapi::{AttachType, CoreReloKind, MapType, ProgType, SECTION_DEFS, SectionMatch};

/// `enum name -> [(enumerator, value)]` from `bpftool btf dump file FILE` (raw format).
fn kernel_enums(bpftool: &Path, wanted: &[&str]) -> BTreeMap<String, Vec<(String, u64)>> {
    let out = Command::new(bpftool)
        .args(["btf", "dump", "file", VMLINUX])
        .output()
        .expect("run bpftool");
    assert!(out.status.success(), "bpftool failed: {out:?}");
    let text = String::from_utf8(out.stdout).unwrap();
    let mut enums = BTreeMap::new();
    let mut current: Option<String> = None;
    for line in text.lines() {
        if !line.starts_with('\t') {
            // [1892] ENUM 'bpf_prog_type' encoding=UNSIGNED size=4 vlen=34
            current = wanted
                .iter()
                .find(|w| line.contains(&format!("ENUM '{w}' ")))
                .map(|w| w.to_string());
            continue;
        }
        if let Some(name) = &current {
            // \t'BPF_PROG_TYPE_XDP' val=6
            let line = line.trim();
            let (quoted, val) = line.split_once(" val=").expect("enumerator line");
            let enumerator = quoted.trim_matches('\'').to_string();
            let val: u64 = val.parse().expect("value");
            enums
                .entry(name.clone())
                .or_insert_with(Vec::new)
                .push((enumerator, val));
        }
    }
    enums
}

#[test]
fn kernel_btf_enums_agree() {
    require!(Need::Tool("bpftool"), Need::File(VMLINUX));
    let enums = kernel_enums(
        Path::new("bpftool"),
        &[
            "bpf_prog_type",
            "bpf_map_type",
            "bpf_attach_type",
            "bpf_core_relo_kind",
        ],
    );
    type Lookup = fn(&str) -> Option<u32>;
    type Named = fn(u32) -> Vec<String>;
    let sets: [(&str, Lookup, Named, Vec<u32>); 4] = [
        (
            "bpf_prog_type",
            |n| ProgType::from_name(n).map(|v| v.0),
            |v| names(ProgType(v).name()),
            ProgType::ALL.iter().map(|v| v.0).collect(),
        ),
        (
            "bpf_map_type",
            |n| MapType::from_name(n).map(|v| v.0),
            |v| names(MapType(v).name()),
            MapType::ALL.iter().map(|v| v.0).collect(),
        ),
        (
            "bpf_attach_type",
            |n| AttachType::from_name(n).map(|v| v.0),
            |v| names(AttachType(v).name()),
            AttachType::ALL.iter().map(|v| v.0).collect(),
        ),
        (
            "bpf_core_relo_kind",
            |n| CoreReloKind::from_name(n).map(|v| v.0),
            |v| names(CoreReloKind(v).name()),
            CoreReloKind::ALL.iter().map(|v| v.0).collect(),
        ),
    ];
    for (enum_name, lookup, named, ours) in sets {
        let kernel = enums
            .get(enum_name)
            .unwrap_or_else(|| panic!("kernel BTF has no enum {enum_name}"));
        // One past the largest value: the __MAX_ enumerator where the enum has one.
        let mut max = 0;
        for (enumerator, value) in kernel {
            if enumerator.starts_with("__MAX_") {
                max = *value as u32;
                continue;
            }
            if !kernel.iter().any(|(n, _)| n.starts_with("__MAX_")) {
                max = max.max(*value as u32 + 1);
            }
            assert_eq!(
                lookup(enumerator),
                Some(*value as u32),
                "{enum_name}: {enumerator} = {value} in the kernel"
            );
        }
        assert!(max > 0, "{enum_name}: empty");
        // Every value the kernel has, we have, under one of the kernel's names.
        for value in 0..max {
            let kernel_names: Vec<&String> = kernel
                .iter()
                .filter(|(_, v)| *v as u32 == value)
                .map(|(n, _)| n)
                .collect();
            assert!(ours.contains(&value), "{enum_name}: value {value} missing");
            for name in named(value) {
                assert!(
                    kernel_names.contains(&&name),
                    "{enum_name}: our name {name} for {value}, kernel: {kernel_names:?}"
                );
            }
        }
    }
}

fn names(name: Option<&str>) -> Vec<String> {
    name.into_iter().map(str::to_owned).collect()
}

/// Runs a python3 script with `stdin`, returning stdout, or `None` (under the rule) when python3
/// or libbpf.so.1 is unavailable.
fn python_libbpf(script: &str, stdin: &str) -> Option<String> {
    if !bpfkit_test_support::available(&[Need::Libbpf]) {
        return None;
    }
    let mut child = Command::new("python3")
        .args(["-c", script])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null()) // libbpf warns on every name it does not know
        .spawn()
        .expect("run python3");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "python3 failed");
    Some(String::from_utf8(out.stdout).unwrap())
}

const PROG_TYPE_BY_NAME: &str = r#"
import ctypes, sys
lib = ctypes.CDLL('libbpf.so.1')
pt, at = ctypes.c_int(), ctypes.c_int()
for name in sys.stdin.read().split('\n'):
    if not name:
        continue
    r = lib.libbpf_prog_type_by_name(name.encode(), ctypes.byref(pt), ctypes.byref(at))
    print(name, 'unknown' if r else '%d %d' % (pt.value, at.value))
"#;

/// libbpf's own answer for every pattern of our table, where the installed libbpf knows it (an
/// older libbpf lacks the newest entries and says so).
#[test]
fn libbpf_section_table_agrees() {
    let mut names = Vec::new();
    for def in SECTION_DEFS {
        names.push(def.prefix().to_string());
        if def.matching() == SectionMatch::PrefixOrTarget {
            names.push(format!("{}/some_target", def.prefix()));
        }
    }
    names.extend(["kprobex", "socket/x", "xdp/x", "tc/x", "unknown"].map(String::from));
    let Some(out) = python_libbpf(PROG_TYPE_BY_NAME, &names.join("\n")) else {
        return;
    };
    let mut compared = 0;
    for line in out.lines() {
        let (name, answer) = line.split_once(' ').unwrap();
        let ours = bpfkit_uapi::find_section_def(name);
        if answer == "unknown" {
            // An older libbpf may lack entries we have; it must never know one we lack.
            continue;
        }
        let (pt, at) = answer.split_once(' ').unwrap();
        let (pt, at): (u32, u32) = (pt.parse().unwrap(), at.parse().unwrap());
        let def = ours.unwrap_or_else(|| panic!("libbpf knows '{name}', we do not"));
        assert_eq!(def.prog_type, ProgType(pt), "{name}: program type");
        assert_eq!(
            def.attach_type.map_or(0, |a| a.0),
            at,
            "{name}: expected attach type"
        );
        compared += 1;
    }
    assert!(compared > 80, "only {compared} names compared");
    for bad in ["kprobex", "socket/x", "xdp/x", "tc/x", "unknown"] {
        assert!(
            out.lines().any(|l| l == format!("{bad} unknown")),
            "libbpf knows {bad}?"
        );
        assert!(bpfkit_uapi::find_section_def(bad).is_none(), "{bad}");
    }
}

const TYPE_STR: &str = r#"
import ctypes, sys
lib = ctypes.CDLL('libbpf.so.1')
fns = {}
for kind in ('prog', 'map', 'attach'):
    f = getattr(lib, 'libbpf_bpf_%s_type_str' % kind)
    f.restype = ctypes.c_char_p
    fns[kind] = f
for line in sys.stdin.read().split('\n'):
    if not line:
        continue
    kind, value = line.split()
    s = fns[kind](int(value))
    print(kind, value, s.decode() if s else '-')
"#;

/// Our short names are libbpf's `libbpf_bpf_{prog,map,attach}_type_str`.
#[test]
fn libbpf_short_names_agree() {
    let mut input = String::new();
    for v in ProgType::ALL {
        input += &format!("prog {}\n", v.0);
    }
    for v in MapType::ALL {
        input += &format!("map {}\n", v.0);
    }
    for v in AttachType::ALL {
        input += &format!("attach {}\n", v.0);
    }
    let Some(out) = python_libbpf(TYPE_STR, &input) else {
        return;
    };
    let mut compared = 0;
    for line in out.lines() {
        let mut parts = line.split(' ');
        let (kind, value, name) = (
            parts.next().unwrap(),
            parts.next().unwrap(),
            parts.next().unwrap(),
        );
        if name == "-" {
            continue; // newer than the installed libbpf
        }
        let value: u32 = value.parse().unwrap();
        let ours = match kind {
            "prog" => ProgType(value).short_name(),
            "map" => MapType(value).short_name(),
            _ => AttachType(value).short_name(),
        };
        assert_eq!(ours, Some(name), "{kind} {value}");
        compared += 1;
    }
    assert!(compared > 100, "only {compared} names compared");
}

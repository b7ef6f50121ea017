//! `bpfkit objdump` against libbpf itself: every committed test object is opened with the
//! installed `libbpf.so.1` (through python3's ctypes, no C compiler needed) and its programs
//! (name, section, program type, expected attach type, instruction count) and maps (type, key
//! and value sizes, max entries, flags, map_extra, pinning, inner map; the internal maps of the
//! global data sections) are compared with what objdump lists.
//!
//! libbpf >= 1.0 refuses legacy `maps` sections; the test checks it refuses exactly those.

mod objdump_support;

use std::collections::BTreeMap;
use std::io::Write;
use std::process::{Command, Stdio};

use bpfkit_test_support::Need;
use objdump_support::*;

const LIBBPF_FACTS: &str = r#"
import ctypes, sys
lib = ctypes.CDLL('libbpf.so.1', use_errno=True)
P = ctypes.c_void_p
def fn(name, res, *args):
    f = getattr(lib, name); f.restype = res; f.argtypes = list(args); return f
set_print = fn('libbpf_set_print', P, P)
set_print(None)
open_file = fn('bpf_object__open_file', P, ctypes.c_char_p, P)
close = fn('bpf_object__close', None, P)
next_prog = fn('bpf_object__next_program', P, P, P)
next_map = fn('bpf_object__next_map', P, P, P)
kversion = fn('bpf_object__kversion', ctypes.c_uint, P)
s = ctypes.c_char_p
u = ctypes.c_uint
pname = fn('bpf_program__name', s, P); psec = fn('bpf_program__section_name', s, P)
ptype = fn('bpf_program__type', u, P); patt = fn('bpf_program__expected_attach_type', u, P)
pcnt = fn('bpf_program__insn_cnt', ctypes.c_size_t, P)
mname = fn('bpf_map__name', s, P); mtype = fn('bpf_map__type', u, P)
mkey = fn('bpf_map__key_size', u, P); mval = fn('bpf_map__value_size', u, P)
mmax = fn('bpf_map__max_entries', u, P); mflags = fn('bpf_map__map_flags', u, P)
mextra = fn('bpf_map__map_extra', ctypes.c_uint64, P); mint = fn('bpf_map__is_internal', ctypes.c_bool, P)
minner = fn('bpf_map__inner_map', P, P); mpin = fn('bpf_map__pin_path', s, P)
tstr = {k: fn('libbpf_bpf_%s_type_str' % k, s, u) for k in ('prog', 'map', 'attach')}
def name(kind, v):
    r = tstr[kind](v)
    return r.decode() if r else str(v)
for path in sys.stdin.read().split():
    print('OBJ', path)
    obj = open_file(path.encode(), None)
    if not obj:
        print('ERR', ctypes.get_errno()); continue
    print('KVER', kversion(obj))
    p = next_prog(obj, None)
    while p:
        print('PROG', pname(p).decode(), psec(p).decode(), name('prog', ptype(p)), patt(p), name('attach', patt(p)), pcnt(p))
        p = next_prog(obj, p)
    m = next_map(obj, None)
    while m:
        inner = minner(m)
        desc = '-' if not inner else '%s,%d,%d,%d,%#x' % (name('map', mtype(inner)), mkey(inner), mval(inner), mmax(inner), mflags(inner))
        print('MAP', mname(m).decode(), name('map', mtype(m)), mkey(m), mval(m), mmax(m), '%#x' % mflags(m), mextra(m), 1 if mpin(m) else 0, 1 if mint(m) else 0, desc)
        m = next_map(obj, m)
    close(obj)
"#;

/// What libbpf says about one object.
#[derive(Default, Debug)]
struct Facts {
    open_error: Option<i32>,
    programs: Vec<Vec<String>>,
    maps: Vec<Vec<String>>,
}

fn libbpf_facts(paths: &[std::path::PathBuf]) -> Option<BTreeMap<String, Facts>> {
    if !bpfkit_test_support::available(&[Need::Libbpf]) {
        return None;
    }
    let mut child = Command::new("python3")
        .args(["-c", LIBBPF_FACTS])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let input: Vec<String> = paths.iter().map(|p| p.display().to_string()).collect();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.join("\n").as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "python3 failed");
    let mut facts: BTreeMap<String, Facts> = BTreeMap::new();
    let mut current = String::new();
    for line in String::from_utf8(out.stdout).unwrap().lines() {
        let fields: Vec<String> = line.split(' ').map(str::to_string).collect();
        match fields[0].as_str() {
            "OBJ" => {
                current = file_name(std::path::Path::new(&fields[1]));
                facts.insert(current.clone(), Facts::default());
            }
            "ERR" => facts.get_mut(&current).unwrap().open_error = Some(fields[1].parse().unwrap()),
            "PROG" => facts
                .get_mut(&current)
                .unwrap()
                .programs
                .push(fields[1..].to_vec()),
            "MAP" => facts
                .get_mut(&current)
                .unwrap()
                .maps
                .push(fields[1..].to_vec()),
            _ => {}
        }
    }
    Some(facts)
}

#[test]
fn programs_and_maps_agree_with_libbpf() {
    let objects = objects();
    let Some(facts) = libbpf_facts(&objects) else {
        return;
    };
    let mut maps_compared = 0;
    for path in &objects {
        let name = file_name(path);
        let facts = &facts[&name];
        if let Some(errno) = facts.open_error {
            // EOPNOTSUPP: "legacy map definitions in 'maps' section are not supported".
            assert!(
                name.starts_with("legacy_maps.") && errno == 95,
                "{name}: libbpf failed to open it: errno {errno}"
            );
            continue;
        }
        assert!(
            !name.starts_with("legacy_maps."),
            "{name}: libbpf opened a legacy maps object"
        );
        let out = objdump(path, &["-p", "-m"]);

        // name section type attach_number attach_name insn_cnt
        let mut want: Vec<(String, String, String, String, u64)> = facts
            .programs
            .iter()
            .map(|p| {
                let attach = if p[3] == "0" {
                    "-".to_string()
                } else {
                    p[4].clone()
                };
                (
                    p[0].clone(),
                    p[1].clone(),
                    p[2].clone(),
                    attach,
                    p[5].parse().unwrap(),
                )
            })
            .collect();
        let mut got: Vec<(String, String, String, String, u64)> = table(&out, "Programs:")
            .into_iter()
            .map(|r| {
                // libbpf reports 0 (cgroup_inet_ingress) when there is no expected attach type.
                let attach = if r[3] == "cgroup_inet_ingress" {
                    "-".to_string()
                } else {
                    r[3].clone()
                };
                (
                    r[0].clone(),
                    r[1].clone(),
                    r[2].clone(),
                    attach,
                    r[6].parse().unwrap(),
                )
            })
            .collect();
        want.sort();
        got.sort();
        assert_eq!(got, want, "{name}: programs");

        // name type key value max flags extra pinned internal inner
        let user: Vec<&Vec<String>> = facts.maps.iter().filter(|m| m[8] == "0").collect();
        let ours = table(&out, "Maps:");
        assert_eq!(ours.len(), user.len(), "{name}: number of maps");
        let details = lines_under(&out, "Map details:");
        for (row, m) in ours.iter().zip(&user) {
            let pinned = if row[7] == "by_name" { "1" } else { "0" };
            assert_eq!(
                [
                    &row[0], &row[2], &row[3], &row[4], &row[5], &row[6], &row[8], pinned
                ],
                [
                    &m[0],
                    &m[1],
                    &m[2],
                    &m[3],
                    &m[4],
                    &m[5],
                    &m[6],
                    m[7].as_str()
                ],
                "{name}: map {}",
                m[0]
            );
            let inner = details
                .iter()
                .find_map(|d| d.strip_prefix(&format!("{}.inner: ", row[0])))
                .map(|d| {
                    // type T key K value V max_entries M flags F
                    let f: Vec<&str> = d.split(' ').collect();
                    format!("{},{},{},{},{}", f[1], f[3], f[5], f[7], f[9])
                })
                .unwrap_or_else(|| "-".to_string());
            assert_eq!(inner, m[9], "{name}: inner map of {}", m[0]);
            maps_compared += 1;
        }

        // libbpf makes one internal array map per global data section (named after it, with
        // the object's name in front for the standard ones), plus one for .kconfig externs.
        let data = table(&out, "Global data:");
        let externs = table(&out, "Externs:");
        let kconfig = externs.iter().any(|e| e[1] == "kconfig");
        let internal: Vec<&Vec<String>> = facts.maps.iter().filter(|m| m[8] == "1").collect();
        assert_eq!(
            internal.len(),
            data.len() + usize::from(kconfig),
            "{name}: internal maps"
        );
        for d in &data {
            let m = internal
                .iter()
                .find(|m| m[0].ends_with(d[0].as_str()))
                .unwrap_or_else(|| panic!("{name}: no internal map for {}", d[0]));
            assert_eq!(m[3], d[2], "{name}: value size of the {} map", d[0]);
        }
        if kconfig {
            assert!(
                internal.iter().any(|m| m[0].ends_with(".kconfig")),
                "{name}: kconfig map"
            );
        }
    }
    assert!(
        maps_compared >= 4 * 16,
        "only {maps_compared} maps compared"
    );
}

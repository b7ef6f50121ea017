//! Helpers shared by the `objdump_*` tests: running `bpfkit objdump` and the outside tools, and
//! reading the tables out of their output.
#![allow(dead_code, unused_imports)]

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use bpfkit_test_support::Need;

#[path = "common.rs"]
mod common;

pub use common::{bpfkit, files_with_suffix, root, stdout_of, tool};

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

/// A python3 script asking `libbpf.so.1` (through ctypes) what it makes of each object path on
/// stdin: `OBJ path`, then `ERR errno message` (libbpf's first warning) or `KVER`, `PROG` and
/// `MAP` lines.
const LIBBPF_FACTS: &str = r#"
import ctypes, sys
lib = ctypes.CDLL('libbpf.so.1', use_errno=True)
libc = ctypes.CDLL(None)
P = ctypes.c_void_p
def fn(name, res, *args):
    f = getattr(lib, name); f.restype = res; f.argtypes = list(args); return f
warnings = []
buf = ctypes.create_string_buffer(4096)
libc.vsnprintf.argtypes = [ctypes.c_char_p, ctypes.c_size_t, ctypes.c_char_p, P]
@ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_int, ctypes.c_char_p, P)
def on_print(level, fmt, args):
    if level == 0:
        libc.vsnprintf(buf, 4096, fmt, args)
        warnings.append(buf.value.decode(errors='replace').strip().replace('\n', ' '))
    return 0
set_print = fn('libbpf_set_print', P, P)
set_print(ctypes.cast(on_print, P))
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
for path in sys.stdin.read().split('\n'):
    if not path:
        continue
    print('OBJ', path)
    warnings.clear()
    obj = open_file(path.encode(), None)
    if not obj:
        print('ERR', ctypes.get_errno(), warnings[0] if warnings else '-'); continue
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
pub struct LibbpfFacts {
    /// `bpf_object__open_file` failed: errno and libbpf's first warning.
    pub open_error: Option<(i32, String)>,
    /// name, section, type, attach type number, attach type name, instruction count.
    pub programs: Vec<Vec<String>>,
    /// name, type, key, value, max entries, flags, map_extra, pinned, internal, inner.
    pub maps: Vec<Vec<String>>,
}

/// libbpf's facts for each of `paths` (keyed by the path as given), or `None` under the skip
/// rule when python3's ctypes cannot load `libbpf.so.1`.
pub fn libbpf_facts(paths: &[PathBuf]) -> Option<BTreeMap<String, LibbpfFacts>> {
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
    let mut facts: BTreeMap<String, LibbpfFacts> = BTreeMap::new();
    let mut current = String::new();
    for line in String::from_utf8(out.stdout).unwrap().lines() {
        let (tag, rest) = line.split_once(' ').unwrap_or((line, ""));
        let fields = || rest.split(' ').map(str::to_string).collect::<Vec<_>>();
        match tag {
            "OBJ" => {
                current = rest.to_string();
                facts.insert(current.clone(), LibbpfFacts::default());
            }
            "ERR" => {
                let (errno, message) = rest.split_once(' ').unwrap();
                facts.get_mut(&current).unwrap().open_error =
                    Some((errno.parse().unwrap(), message.to_string()));
            }
            "PROG" => facts.get_mut(&current).unwrap().programs.push(fields()),
            "MAP" => facts.get_mut(&current).unwrap().maps.push(fields()),
            _ => {}
        }
    }
    assert_eq!(facts.len(), paths.len(), "libbpf answered for every object");
    Some(facts)
}

/// Checks `bpfkit objdump -p -m` of an object libbpf opened against libbpf's facts: the same
/// programs (name, section, type, attach type, instruction count), the same maps (type, sizes,
/// max entries, flags, map_extra, pinning, inner map) and one internal map per global data
/// section (plus `.kconfig`). Returns the number of maps compared.
pub fn compare_with_libbpf(path: &Path, facts: &LibbpfFacts) -> usize {
    let name = path.display().to_string();
    let mut maps_compared = 0;
    let out = objdump(path, &["-p", "-m"]);

    // libbpf before 1.5 lists the only function of an object whose code is all in `.text` as a
    // program (of type unspec, which the kernel refuses); later ones, like this model, list
    // every `.text` function as a subprogram.
    let subprograms = table(&out, "Subprograms:");
    let (lone_text, programs): (Vec<&Vec<String>>, Vec<&Vec<String>>) =
        facts.programs.iter().partition(|p| p[1] == ".text");
    for p in lone_text {
        assert_eq!(
            facts.programs.len(),
            1,
            "{name}: libbpf lists .text functions"
        );
        assert!(
            subprograms.iter().any(|s| s[0] == p[0] && s[3] == p[5]),
            "{name}: {} is not a subprogram of {} instructions",
            p[0],
            p[5]
        );
    }
    // name section type attach_number attach_name insn_cnt
    let mut want: Vec<(String, String, String, String, u64)> = programs
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
    // Functions without a FUNC symbol (clang before 8) are programs here, invisible to libbpf;
    // the warnings name them.
    let untyped: Vec<String> = lines_under(&out, "Warnings:")
        .iter()
        .filter_map(|w| {
            let (_, rest) = w.split_once("function '")?;
            let (name, rest) = rest.split_once('\'')?;
            rest.starts_with(" has no FUNC symbol")
                .then(|| name.to_string())
        })
        .collect();
    let mut got: Vec<(String, String, String, String, u64)> = table(&out, "Programs:")
        .into_iter()
        .filter(|r| !untyped.contains(&r[0]))
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
    maps_compared
}

/// A section as llvm-readelf -S shows it: name, type, offset, size, flags.
pub type SectionRow = (String, String, u64, u64, String);

/// The section table `llvm-readelf -S -W` prints, by index.
pub fn readelf_sections(
    readelf: &std::path::Path,
    path: &std::path::Path,
) -> BTreeMap<usize, SectionRow> {
    let out = run(readelf, &["-S", "-W", path.to_str().unwrap()]);
    let mut rows = BTreeMap::new();
    for line in out.lines() {
        let Some(rest) = line.trim_start().strip_prefix('[') else {
            continue;
        };
        let Some((index, rest)) = rest.split_once(']') else {
            continue;
        };
        let Ok(index) = index.trim().parse::<usize>() else {
            continue;
        };
        let mut tokens: Vec<&str> = rest.split_whitespace().collect();
        let name = if index == 0 {
            String::new()
        } else {
            tokens.remove(0).to_string()
        };
        // type addr off size es [flags] lk inf al
        let flags = if tokens.len() == 9 { tokens[5] } else { "" };
        let hex = |s: &str| u64::from_str_radix(s, 16).unwrap();
        rows.insert(
            index,
            (
                name,
                tokens[0].to_string(),
                hex(tokens[2]),
                hex(tokens[3]),
                flags.to_string(),
            ),
        );
    }
    rows
}

/// A number printed as `0x...` or in decimal.
pub fn hex_or_dec(s: &str) -> u64 {
    match s.strip_prefix("0x") {
        Some(h) => u64::from_str_radix(h, 16).unwrap(),
        None => s.parse().unwrap(),
    }
}

/// `bpfkit objdump --section-headers` of `path` against `llvm-readelf -S`: every section's
/// name, type, size, offset and W/A/X flags.
pub fn sections_agree(readelf: &Path, path: &Path) {
    let name = path.display();
    let expected = readelf_sections(readelf, path);
    let ours = table(&objdump(path, &["--section-headers"]), "Sections:");
    assert_eq!(ours.len(), expected.len(), "{name}: section count");
    for row in ours {
        let index: usize = row[0].parse().unwrap();
        let (e_name, e_type, e_off, e_size, e_flags) = &expected[&index];
        let our_name = if row[1] == "-" { "" } else { row[1].as_str() };
        assert_eq!(our_name, e_name, "{name}: section {index} name");
        assert_eq!(&row[2], e_type, "{name}: section {index} type");
        assert_eq!(hex_or_dec(&row[3]), *e_size, "{name}: section {index} size");
        assert_eq!(
            hex_or_dec(&row[4]),
            *e_off,
            "{name}: section {index} offset"
        );
        let e_wax: String = e_flags.chars().filter(|c| "WAX".contains(*c)).collect();
        let ours_flags = if row[5] == "-" { "" } else { row[5].as_str() };
        assert_eq!(ours_flags, e_wax, "{name}: section {index} flags");
    }
}

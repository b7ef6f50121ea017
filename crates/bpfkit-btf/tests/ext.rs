//! `.BTF.ext` against two oracles: the ELF symbol table (every func_info record starts a
//! function symbol of that name) and clang's own listing of the section (`clang -S` prints each
//! record's numbers with comments naming lines, columns and record kinds).
//!
//! Needs clang-19 for the listing; without it the listing test skips under the one rule of
//! `bpfkit-test-support`.

use std::path::Path;
use std::process::Command;

use bpfkit_btf::{Btf, BtfExt, CoreReloKind, Kind};
use bpfkit_test_support::tool;
use object::{Object, ObjectSection, ObjectSymbol, SymbolKind};

fn section<'a>(file: &object::File<'a>, name: &str) -> Option<&'a [u8]> {
    file.section_by_name(name).and_then(|s| s.data().ok())
}

/// Every func_info record names a FUNC whose symbol sits at `insn_off` in that section, and
/// every function symbol has its record. Returns the number of records checked, or `None` for
/// an object without `.BTF.ext`.
fn check_func_info_against_symbols(path: &Path) -> Option<usize> {
    let data = std::fs::read(path).unwrap();
    let file = object::File::parse(&*data).unwrap();
    let (btf_data, ext_data) = (section(&file, ".BTF")?, section(&file, ".BTF.ext")?);
    let btf = Btf::parse(btf_data).unwrap();
    let ext = BtfExt::parse(ext_data, &btf).unwrap();
    let mut checked = 0;
    for (sec, rec) in ext.func_info.records() {
        let func = btf.type_by_id(rec.type_id).unwrap();
        assert_eq!(func.kind(), Kind::Func, "{}", path.display());
        let name = func.name().unwrap();
        let found = file.symbols().any(|s| {
            s.name() == Ok(name)
                && s.address() == u64::from(rec.insn_off)
                && s.section_index()
                    .and_then(|i| file.section_by_index(i).ok())
                    .is_some_and(|s| s.name() == Ok(sec))
        });
        assert!(
            found,
            "{}: no symbol {name} at {sec}+{}",
            path.display(),
            rec.insn_off
        );
        checked += 1;
    }
    for (sec, rec) in ext.line_info.records() {
        assert!(file.section_by_name(sec).is_some(), "{sec}");
        assert!(!rec.file_name.is_empty());
        assert!(rec.line_num > 0);
    }
    // clang writes one record per function: the records cover every FUNC symbol of code.
    let functions = file
        .symbols()
        .filter(|s| s.kind() == SymbolKind::Text && s.section_index().is_some())
        .count();
    assert_eq!(checked, functions, "{}", path.display());
    Some(checked)
}

/// The committed objects (`testdata/obj`, always present): those built with `-g` (`*.g.o`)
/// must all carry `.BTF.ext`, and each must have a record per function.
#[test]
fn testdata_func_info_matches_symbols() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../testdata/obj");
    let (mut objects, mut total) = (0, 0);
    for e in std::fs::read_dir(&dir).unwrap() {
        let path = e.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if !name.ends_with(".o") {
            continue;
        }
        match check_func_info_against_symbols(&path) {
            Some(n) => {
                assert!(n > 0, "{name}: .BTF.ext without func_info");
                objects += 1;
                total += n;
            }
            None => assert!(
                !name.ends_with(".g.o"),
                "{name}: built with -g, no .BTF.ext"
            ),
        }
    }
    // testdata/build.sh builds every source with -g for cpu v1 to v4 (44 objects today).
    assert!(objects >= 40, "only {objects} objects with .BTF.ext");
    eprintln!("{total} func_info records of {objects} objects checked");
}

const SOURCE: &str = r#"
struct inner { int a; unsigned b:3; int c:5; };
struct outer { long x; struct inner in; struct inner *pin; } __attribute__((preserve_access_index));
enum color { RED, GREEN = 5 };
typedef struct outer outer_t;

static __attribute__((noinline)) int helper(struct outer *o)
{
	return o->in.a
	     + __builtin_preserve_field_info(o->in.b, 0)
	     + __builtin_preserve_field_info(o->in.b, 1)
	     + __builtin_preserve_field_info(o->in.c, 2)
	     + __builtin_preserve_field_info(o->in.c, 3)
	     + __builtin_preserve_field_info(o->in.c, 4)
	     + __builtin_preserve_field_info(o->in.c, 5);
}

__attribute__((section("kprobe/one"))) int one(struct outer *o)
{
	return helper(o) + o->pin->a
	     + __builtin_btf_type_id(*(struct outer *)0, 0)
	     + __builtin_btf_type_id(*(outer_t *)0, 1)
	     + __builtin_preserve_type_info(*(struct outer *)0, 0)
	     + __builtin_preserve_type_info(*(struct outer *)0, 1)
	     + __builtin_preserve_type_info(*(struct outer *)0, 2);
}

__attribute__((section("kprobe/two"))) int two(void *ctx)
{
	return __builtin_preserve_enum_value(*(enum color *)GREEN, 0)
	     + __builtin_preserve_enum_value(*(enum color *)GREEN, 1);
}

char LICENSE[] __attribute__((section("license"))) = "GPL";
"#;

/// A token of the `.BTF.ext` listing: a number (or a label, as `None`) and its comment.
struct Tok {
    value: Option<u64>,
    comment: String,
}

fn listing_tokens(asm: &str) -> Vec<Tok> {
    let mut in_ext = false;
    let mut toks = Vec::new();
    for line in asm.lines() {
        let line = line.trim();
        if line.starts_with(".section") {
            in_ext = line
                .split_whitespace()
                .nth(1)
                .is_some_and(|s| s.starts_with(".BTF.ext"));
            continue;
        }
        if !in_ext {
            continue;
        }
        let (code, comment) = line.split_once('#').unwrap_or((line, ""));
        let mut parts = code.split_whitespace();
        if let Some(".long" | ".short" | ".byte") = parts.next() {
            toks.push(Tok {
                value: parts.next().and_then(|v| v.parse().ok()),
                comment: comment.trim().to_string(),
            });
        }
    }
    toks
}

/// Groups of records as the listing gives them, from `toks[*pos]`: section string offset and
/// record words.
fn listing_groups<'a>(
    toks: &'a [Tok],
    pos: &mut usize,
    words: usize,
) -> Vec<(u64, Vec<&'a [Tok]>)> {
    let mut groups = Vec::new();
    while toks
        .get(*pos)
        .is_some_and(|t| t.comment.contains("section string offset"))
    {
        let sec = toks[*pos].value.unwrap();
        let n = toks[*pos + 1].value.unwrap() as usize;
        *pos += 2;
        let recs = (0..n)
            .map(|i| &toks[*pos + i * words..*pos + (i + 1) * words])
            .collect();
        *pos += n * words;
        groups.push((sec, recs));
    }
    groups
}

#[test]
fn records_match_clangs_listing() {
    let Some(clang) = tool("clang-19") else {
        return;
    };
    let dir = std::env::temp_dir().join(format!("bpfkit-btf-ext-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let src = dir.join("ext.c");
    std::fs::write(&src, SOURCE).unwrap();
    for (flag, out) in [("-c", "ext.o"), ("-S", "ext.s")] {
        let st = Command::new(&clang)
            .args(["-target", "bpf", "-O2", "-g", flag])
            .arg(&src)
            .arg("-o")
            .arg(dir.join(out))
            .status()
            .unwrap();
        assert!(st.success(), "clang {flag}");
    }
    let asm = std::fs::read_to_string(dir.join("ext.s")).unwrap();
    let obj = std::fs::read(dir.join("ext.o")).unwrap();
    let file = object::File::parse(&*obj).unwrap();
    let btf = Btf::parse(section(&file, ".BTF").unwrap()).unwrap();
    let ext = BtfExt::parse(section(&file, ".BTF.ext").unwrap(), &btf).unwrap();

    let toks = listing_tokens(&asm);
    let hdr_len = toks[3].value.unwrap();
    assert_eq!(u64::from(ext.header.hdr_len), hdr_len);
    let mut pos = 4 + (hdr_len as usize - 8) / 4;
    let next = |pos: &mut usize| {
        *pos += 1;
        toks[*pos - 1].comment.clone()
    };

    assert_eq!(next(&mut pos), "FuncInfo");
    let funcs = listing_groups(&toks, &mut pos, 2);
    assert_eq!(funcs.len(), ext.func_info.groups.len());
    for ((sec, recs), g) in funcs.iter().zip(&ext.func_info.groups) {
        assert_eq!(u64::from(g.section_name_off), *sec);
        let ours: Vec<u64> = g.records.iter().map(|r| u64::from(r.type_id.0)).collect();
        let theirs: Vec<u64> = recs.iter().map(|r| r[1].value.unwrap()).collect();
        assert_eq!(ours, theirs, "func_info of {}", g.section);
    }

    assert_eq!(next(&mut pos), "LineInfo");
    let lines = listing_groups(&toks, &mut pos, 4);
    assert_eq!(lines.len(), ext.line_info.groups.len());
    for ((sec, recs), g) in lines.iter().zip(&ext.line_info.groups) {
        assert_eq!(u64::from(g.section_name_off), *sec);
        assert_eq!(recs.len(), g.records.len());
        for (r, ours) in recs.iter().zip(&g.records) {
            assert_eq!(u64::from(ours.file_name_off), r[1].value.unwrap());
            assert_eq!(u64::from(ours.line_off), r[2].value.unwrap());
            let (line, col) = r[3]
                .comment
                .strip_prefix("Line ")
                .unwrap()
                .split_once(" Col ")
                .unwrap();
            assert_eq!(
                (ours.line_num, ours.column),
                (line.parse().unwrap(), col.parse().unwrap())
            );
            assert!(ours.file_name.ends_with("ext.c"), "{}", ours.file_name);
        }
    }

    assert_eq!(next(&mut pos), "FieldReloc");
    let relos = listing_groups(&toks, &mut pos, 4);
    assert_eq!(relos.len(), ext.core_relos.groups.len());
    let mut kinds = Vec::new();
    for ((sec, recs), g) in relos.iter().zip(&ext.core_relos.groups) {
        assert_eq!(u64::from(g.section_name_off), *sec);
        assert_eq!(recs.len(), g.records.len());
        for (r, ours) in recs.iter().zip(&g.records) {
            assert_eq!(u64::from(ours.type_id.0), r[1].value.unwrap());
            assert_eq!(u64::from(ours.access_str_off), r[2].value.unwrap());
            assert_eq!(u64::from(ours.kind.0), r[3].value.unwrap());
            kinds.push(ours.kind);
        }
    }
    // The source asks for all thirteen kinds.
    kinds.sort();
    kinds.dedup();
    assert_eq!(kinds, CoreReloKind::ALL);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn bad_ext_input_is_a_typed_error() {
    use bpfkit_btf::{BtfBuilder, BtfError, IntEncoding, TypeId};
    let mut b = BtfBuilder::new();
    let int = b.add_int("int", 4, IntEncoding::SIGNED);
    let proto = b.add_func_proto(int, &[]);
    b.add_func("f", proto, bpfkit_btf::Linkage::Global);
    let sec = b.add_str("xdp");
    let btf_data = b.encode();
    let btf = Btf::parse(&btf_data).unwrap();
    // Header (32 bytes) then func_info: record size 8, one group of one record.
    let words = |w: &[u32]| w.iter().flat_map(|v| v.to_le_bytes()).collect::<Vec<u8>>();
    let mut good = vec![0x9f, 0xeb, 1, 0];
    good.extend(words(&[32, 0, 20, 20, 0, 20, 0]));
    good.extend(words(&[8, sec, 1, 0, 3]));
    let ext = BtfExt::parse(&good, &btf).unwrap();
    assert_eq!(ext.func_info.groups[0].section, "xdp");
    assert_eq!(ext.func_info.groups[0].records[0].type_id, TypeId(3));
    for len in 0..good.len() {
        assert!(BtfExt::parse(&good[..len], &btf).is_err(), "{len}");
    }
    let with = |at: usize, v: u32| {
        let mut d = good.clone();
        d[at..at + 4].copy_from_slice(&v.to_le_bytes());
        BtfExt::parse(&d, &btf).unwrap_err()
    };
    assert!(matches!(
        with(32, 6),
        BtfError::BadRecordSize {
            offset: 32,
            record_size: 6,
            ..
        }
    ));
    assert!(matches!(
        with(36, 999),
        BtfError::StringOutOfRange { offset: 36, .. }
    ));
    assert!(matches!(
        with(40, 0),
        BtfError::EmptyGroup { offset: 36, .. }
    ));
    assert!(matches!(
        with(40, u32::MAX),
        BtfError::Truncated { offset: 44, .. }
    ));
    assert!(matches!(
        with(48, 4),
        BtfError::TypeIdOutOfRange {
            offset: 48,
            type_id: 4,
            ..
        }
    ));
    assert!(matches!(with(8, 2), BtfError::Misaligned { offset: 8, .. }));
    assert!(matches!(
        with(12, 4000),
        BtfError::SectionOutOfBounds { offset: 8, .. }
    ));
    // A record size larger than the known fields is stepped over.
    let mut big = vec![0x9f, 0xeb, 1, 0];
    big.extend(words(&[32, 0, 24, 24, 0, 24, 0]));
    big.extend(words(&[12, sec, 1, 8, 3, 0xdead]));
    let ext = BtfExt::parse(&big, &btf).unwrap();
    assert_eq!(ext.func_info.record_size, 12);
    assert_eq!(ext.func_info.groups[0].records[0].insn_off, 8);

    // core_relo: record size 16, one group of one record; the kind is the record's last word.
    let mut relo = vec![0x9f, 0xeb, 1, 0];
    relo.extend(words(&[32, 0, 0, 0, 0, 0, 28]));
    relo.extend(words(&[16, sec, 1, 0, 3, sec, 0]));
    let ext = BtfExt::parse(&relo, &btf).unwrap();
    let r = &ext.core_relos.groups[0].records[0];
    assert_eq!(r.kind, CoreReloKind::FIELD_BYTE_OFFSET);
    assert_eq!(r.access_str, "xdp");
    for &kind in CoreReloKind::ALL {
        relo[56..60].copy_from_slice(&kind.0.to_le_bytes());
        assert_eq!(
            BtfExt::parse(&relo, &btf).unwrap().core_relos.groups[0].records[0].kind,
            kind
        );
    }
    let unknown = CoreReloKind::ALL.len() as u32;
    assert!(!CoreReloKind(unknown).is_known());
    relo[56..60].copy_from_slice(&unknown.to_le_bytes());
    assert_eq!(
        BtfExt::parse(&relo, &btf).unwrap_err(),
        BtfError::UnknownCoreReloKind {
            offset: 56,
            kind: unknown
        }
    );
}

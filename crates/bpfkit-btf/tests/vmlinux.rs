//! The running kernel's BTF: parse, re-encode byte for byte, and walk every type.
//!
//! Needs `/sys/kernel/btf/vmlinux` (and bpftool and clang-19 for the layout check); without them
//! the tests skip under the one rule of `bpfkit-test-support`.

use std::collections::HashMap;

use bpfkit_btf::dump::{self, CDumpOptions};
use bpfkit_btf::{Btf, BtfBuilder, Kind, TypeId};
use bpfkit_test_support::{Need, VMLINUX, available};

fn vmlinux() -> Option<Vec<u8>> {
    available(&[Need::File(VMLINUX)]).then(|| std::fs::read(VMLINUX).unwrap())
}

#[test]
fn encode_of_parse_is_byte_identical() {
    let Some(data) = vmlinux() else { return };
    let btf = Btf::parse(&data).unwrap();
    let builder = BtfBuilder::from_btf(&btf);
    assert!(builder.encode() == data, "re-encoded vmlinux BTF differs");
}

#[test]
fn every_type_walks_without_error() {
    let Some(data) = vmlinux() else { return };
    let btf = Btf::parse(&data).unwrap();
    assert!(btf.own_type_count() > 1000);
    for t in btf.types() {
        let id = t.id();
        btf.resolve(id).unwrap();
        match t.kind() {
            Kind::Struct | Kind::Union => {
                assert_eq!(btf.size_of(id).unwrap(), u64::from(t.size().unwrap()));
                btf.align_of(id).unwrap();
                for m in t.members() {
                    if m.name_offset() != 0 {
                        let (found, _) = btf.find_member(id, m.name().unwrap()).unwrap().unwrap();
                        assert_eq!(found.name_bytes(), m.name_bytes());
                    }
                }
            }
            Kind::Int | Kind::Ptr | Kind::Enum | Kind::Enum64 | Kind::Float => {
                btf.size_of(id).unwrap();
                btf.align_of(id).unwrap();
            }
            _ => {}
        }
    }
}

#[test]
fn name_index_agrees_with_linear_search() {
    let Some(data) = vmlinux() else { return };
    let btf = Btf::parse(&data).unwrap();
    let index = btf.name_index();
    for (name, kind) in [
        ("task_struct", Kind::Struct),
        ("sk_buff", Kind::Struct),
        ("u64", Kind::Typedef),
        ("bpf_prog_type", Kind::Enum),
        ("int", Kind::Int),
        ("no_such_type_here", Kind::Struct),
        ("bpf_task_acquire", Kind::Func),
        ("btf_trace_task_newtask", Kind::Typedef),
    ] {
        let linear = btf.find_by_name_kind(name, kind);
        assert_eq!(index.find(&btf, name, kind), linear, "{name}");
        assert_eq!(btf.find_indexed(name, kind), linear, "{name}");
    }
}

/// Whether a value of type `id` holds, by value at any depth, a type `odd` picks.
fn holds(
    btf: &Btf<'_>,
    id: TypeId,
    odd: &dyn Fn(&bpfkit_btf::Type<'_>) -> bool,
    memo: &mut HashMap<TypeId, bool>,
) -> bool {
    if let Some(&known) = memo.get(&id) {
        return known;
    }
    memo.insert(id, false);
    let Some(t) = btf.get(id) else { return false };
    let found = odd(&t)
        || match t.kind() {
            Kind::Array => holds(btf, t.array().unwrap().elem_type, odd, memo),
            Kind::Struct | Kind::Union => t.members().any(|m| holds(btf, m.type_id(), odd, memo)),
            k if k.is_modifier() || k == Kind::Typedef => {
                holds(btf, t.ref_type().unwrap(), odd, memo)
            }
            _ => false,
        };
    memo.insert(id, found);
    found
}

/// `va_list` is `__builtin_va_list`, which the dump leaves to the compiler (as bpftool does):
/// clang's BPF one is not the kernel's x86 one, so structs holding it cannot match.
fn is_va_list(t: &bpfkit_btf::Type<'_>) -> bool {
    t.kind() == Kind::Typedef && t.name_bytes() == b"__builtin_va_list"
}

/// bpftool 7.1 declares 1- and 8-byte enums as plain enums, which C makes 4 bytes.
fn is_odd_enum(t: &bpfkit_btf::Type<'_>) -> bool {
    matches!(t.kind(), Kind::Enum | Kind::Enum64) && t.size() != Some(4)
}

/// `_Static_assert`s of our sizes, alignments and member offsets for every uniquely named
/// struct and union that `include` accepts, after including `header`; clang-19 must agree.
fn check_layout(
    btf: &Btf<'_>,
    header: &[u8],
    name: &str,
    mut include: impl FnMut(TypeId) -> bool,
) -> usize {
    let index = btf.name_index();
    let dir = std::env::temp_dir().join(format!("bpfkit-btf-layout-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("vmlinux.h"), header).unwrap();
    let mut src = String::from("#define BPF_NO_PRESERVE_ACCESS_INDEX\n#include \"vmlinux.h\"\n");
    let mut checked = 0;
    for t in btf.types() {
        let keyword = match t.kind() {
            Kind::Struct => "struct",
            Kind::Union => "union",
            _ => continue,
        };
        let name = t.name().unwrap();
        // Names the dump renames (`___2`) cannot be spelled from BTF alone.
        let tags = index.get(name).iter().filter(|&&id| {
            btf.get(id).is_some_and(|o| {
                matches!(
                    o.kind(),
                    Kind::Struct | Kind::Union | Kind::Enum | Kind::Enum64
                )
            })
        });
        if name.is_empty() || tags.count() != 1 || !include(t.id()) {
            continue;
        }
        let id = t.id();
        let c = format!("{keyword} {name}");
        let size = btf.size_of(id).unwrap();
        let align = btf.align_of(id).unwrap();
        src += &format!("_Static_assert(sizeof({c}) == {size}, \"size {name}\");\n");
        src += &format!("_Static_assert(_Alignof({c}) == {align}, \"align {name}\");\n");
        for m in t.members() {
            let Ok(mname) = m.name() else { continue };
            if mname.is_empty() || btf.member_bitfield_size(&m).unwrap() != 0 {
                continue;
            }
            let (_, bits) = btf.find_member(id, mname).unwrap().unwrap();
            let off = bits / 8;
            src += &format!(
                "_Static_assert(__builtin_offsetof({c}, {mname}) == {off}, \"{name}.{mname}\");\n"
            );
        }
        checked += 1;
    }
    std::fs::write(dir.join("layout.c"), src).unwrap();
    let out = std::process::Command::new("clang-19")
        .args(["-target", "bpf", "-fsyntax-only", "-ferror-limit=20"])
        .arg(dir.join("layout.c"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{name}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let _ = std::fs::remove_dir_all(&dir);
    checked
}

/// Our sizes, alignments and member offsets against clang's layout of bpftool's C dump (for
/// structs bpftool 7.1 can express), and of our own dump with sized enums (for all).
#[test]
fn layout_agrees_with_clang() {
    if !available(&[
        Need::File(VMLINUX),
        Need::Tool("bpftool"),
        Need::Tool("clang-19"),
    ]) {
        return;
    }
    let data = std::fs::read(VMLINUX).unwrap();
    let btf = Btf::parse(&data).unwrap();
    let header = std::process::Command::new("bpftool")
        .args(["btf", "dump", "file", VMLINUX, "format", "c"])
        .output()
        .unwrap();
    assert!(header.status.success());
    let mut va = HashMap::new();
    let mut enums = HashMap::new();
    let plain = check_layout(&btf, &header.stdout, "bpftool", |id| {
        !holds(&btf, id, &is_va_list, &mut va) && !holds(&btf, id, &is_odd_enum, &mut enums)
    });
    assert!(plain > 1000, "{plain}");
    let mut ours = Vec::new();
    let options = CDumpOptions {
        sized_enums: true,
        ..CDumpOptions::default()
    };
    dump::c(&btf, &mut ours, &options).unwrap();
    let all = check_layout(&btf, &ours, "sized_enums", |id| {
        !holds(&btf, id, &is_va_list, &mut va)
    });
    eprintln!(
        "layout checked: {plain} structs and unions against bpftool's header, {all} against ours"
    );
    assert!(all > plain, "{all} {plain}");
}

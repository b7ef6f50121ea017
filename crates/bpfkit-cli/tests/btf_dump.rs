//! `bpfkit btf dump` against bpftool: byte-identical raw and C output on the running kernel's
//! vmlinux, kernel module (split) BTF, every object in testdata/obj and objects built here from
//! small C sources; the C output must compile with `clang-19 -target bpf`.
//!
//! The expected output is bpftool's (Debian's 7.1.0). Without bpftool, /sys/kernel/btf/vmlinux
//! or clang-19 a test skips under the one rule of `bpfkit-test-support`.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use bpfkit_btf::{Btf, BtfBuilder, IntEncoding, Kind, Linkage, TypeId, VarSecinfo};
use bpfkit_test_support::{Need, VMLINUX, available, tool};

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("bpfkit-btf-cli-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn run(cmd: &str, args: &[&str]) -> Output {
    Command::new(cmd).args(args).output().unwrap()
}

fn bpfkit(args: &[&str]) -> Output {
    run(env!("CARGO_BIN_EXE_bpfkit"), args)
}

/// Where two outputs first differ, for the failure message.
fn first_difference(ours: &[u8], theirs: &[u8]) -> String {
    let (a, b) = (
        String::from_utf8_lossy(ours),
        String::from_utf8_lossy(theirs),
    );
    for (i, (x, y)) in a.lines().zip(b.lines()).enumerate() {
        if x != y {
            return format!("line {}: ours `{x}`, bpftool `{y}`", i + 1);
        }
    }
    format!(
        "lengths differ: ours {} lines, bpftool {}",
        a.lines().count(),
        b.lines().count()
    )
}

/// Dumps `file` with both tools in `format`; both must succeed with the same bytes.
fn same_as_bpftool(file: &Path, base: Option<&Path>, format: &str) -> Vec<u8> {
    let f = file.to_str().unwrap();
    let mut ours_args = vec!["btf", "dump", "--format", format];
    let mut theirs_args = vec![];
    if let Some(base) = base {
        ours_args.extend(["--base", base.to_str().unwrap()]);
        theirs_args.extend(["-B", base.to_str().unwrap()]);
    }
    ours_args.push(f);
    theirs_args.extend(["btf", "dump", "file", f, "format", format]);
    let ours = bpfkit(&ours_args);
    let theirs = run("bpftool", &theirs_args);
    assert!(
        theirs.status.success(),
        "bpftool on {f}: {}",
        String::from_utf8_lossy(&theirs.stderr)
    );
    assert!(
        ours.status.success(),
        "bpfkit on {f}: {}",
        String::from_utf8_lossy(&ours.stderr)
    );
    assert!(
        ours.stdout == theirs.stdout,
        "{f} format {format}: {}",
        first_difference(&ours.stdout, &theirs.stdout)
    );
    ours.stdout
}

/// Checks that a C dump compiles for the BPF target.
fn compiles(header: &[u8], dir: &Path, name: &str) {
    let h = dir.join(format!("{name}.h"));
    let c = dir.join(format!("{name}.c"));
    std::fs::write(&h, header).unwrap();
    std::fs::write(&c, format!("#include \"{name}.h\"\n")).unwrap();
    let out = run(
        "clang-19",
        &["-target", "bpf", "-fsyntax-only", c.to_str().unwrap()],
    );
    assert!(
        out.status.success(),
        "{name}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn vmlinux_raw_matches_bpftool() {
    if !available(&[Need::Tool("bpftool"), Need::File(VMLINUX)]) {
        return;
    }
    let out = same_as_bpftool(Path::new(VMLINUX), None, "raw");
    assert!(out.len() > 1_000_000);
}

#[test]
fn vmlinux_c_matches_bpftool_and_compiles() {
    if !available(&[
        Need::Tool("bpftool"),
        Need::File(VMLINUX),
        Need::Tool("clang-19"),
    ]) {
        return;
    }
    let header = same_as_bpftool(Path::new(VMLINUX), None, "c");
    compiles(&header, &scratch("vmlinux_c"), "vmlinux");
}

#[test]
fn kernel_module_btf_matches_bpftool() {
    if !available(&[Need::Tool("bpftool"), Need::File(VMLINUX)]) {
        return;
    }
    let mut modules: Vec<PathBuf> = std::fs::read_dir("/sys/kernel/btf")
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.file_name().is_some_and(|n| n != "vmlinux"))
        .collect();
    modules.sort();
    if modules.is_empty() {
        // Not a failure: a kernel without modules (or with BTF for none) is a valid setup;
        // split_btf_on_vmlinux_matches_bpftool covers split BTF either way.
        eprintln!("no kernel module BTF in /sys/kernel/btf");
        return;
    }
    for m in modules.iter().take(3) {
        same_as_bpftool(m, Some(Path::new(VMLINUX)), "raw");
        // Without --base, module BTF in sysfs is read on top of vmlinux, as bpftool does.
        let auto = bpfkit(&["btf", "dump", m.to_str().unwrap()]);
        let explicit = bpfkit(&["btf", "dump", "--base", VMLINUX, m.to_str().unwrap()]);
        assert_eq!(auto.stdout, explicit.stdout);
    }
}

/// Split BTF on top of vmlinux, as a module's would be: new types referring to vmlinux's.
fn split_on(base: &Btf<'_>) -> Vec<u8> {
    let task = base.find_by_name_kind("task_struct", Kind::Struct).unwrap();
    let int = base.find_by_name_kind("int", Kind::Int).unwrap();
    let u64_t = base.find_by_name_kind("u64", Kind::Typedef).unwrap();
    let mut b = BtfBuilder::new_split(base);
    let ptask = b.add_ptr(task);
    let st = b.add_struct_bitfields(
        "bpfkit_mod_state",
        24,
        &[
            ("owner", ptask, 0, 0),
            ("flags", int, 64, 3),
            ("mode", int, 67, 5),
            ("when", u64_t, 128, 0),
        ],
    );
    let e = b.add_enum64(
        "bpfkit_mod_big",
        8,
        false,
        &[("MOD_SMALL", 1), ("MOD_HUGE", 1 << 40)],
    );
    let proto = b.add_func_proto(int, &[("state", st), ("e", e)]);
    let f = b.add_func("bpfkit_mod_fn", proto, Linkage::Global);
    b.add_decl_tag("bpfkit_tag", f, 0);
    let v = b.add_var("bpfkit_mod_var", st, Linkage::Global);
    b.add_datasec(
        ".data..bpfkit",
        24,
        &[VarSecinfo {
            type_id: v,
            offset: 0,
            size: 24,
        }],
    );
    b.add_type_tag("percpu", TypeId(int.0));
    b.add_int("bpfkit_u8", 1, IntEncoding::NONE);
    b.encode()
}

#[test]
fn split_btf_on_vmlinux_matches_bpftool() {
    if !available(&[Need::Tool("bpftool"), Need::File(VMLINUX)]) {
        return;
    }
    let base_data = std::fs::read(VMLINUX).unwrap();
    let base = Btf::parse(&base_data).unwrap();
    let dir = scratch("split");
    let split = dir.join("bpfkit_mod.btf");
    std::fs::write(&split, split_on(&base)).unwrap();
    let raw = same_as_bpftool(&split, Some(Path::new(VMLINUX)), "raw");
    assert!(String::from_utf8_lossy(&raw).contains("'bpfkit_mod_state'"));
    let c = same_as_bpftool(&split, Some(Path::new(VMLINUX)), "c");
    if tool("clang-19").is_some() {
        compiles(&c, &dir, "split");
    }
}

/// Sources built here, covering what testdata's objects may not: every kind, bitfields, packed
/// and aligned layouts, name clashes, declarators of every shape, big-endian BTF.
const SOURCES: [(&str, &str); 2] = [
    (
        "kinds",
        r#"
typedef unsigned long long u64;
#define __tag1 __attribute__((btf_decl_tag("tag1")))
#define __user __attribute__((btf_type_tag("user")))
enum e32 { A = 1, B = -2 };
enum e64 { BIG = 0x1ffffffffULL, SMALL = 1 };
struct bits { unsigned a:3; unsigned b:5; int c:12; u64 d; char e; } __attribute__((packed));
struct node { struct node *next; int __user *uptr; union { int i; float f; } u;
              struct { short x, y; } pt; int arr[4][2]; } __tag1;
struct fwd_only;
typedef int (*fn_t)(int a, struct fwd_only *p, ...);
volatile const int vc = 3;
struct bits g_bits;
struct node g_node __tag1;
fn_t g_fn;
int g_arr[10];
static int s_counter;
long double ld;
_Bool flag;
char LICENSE[] __attribute__((section("license"))) = "GPL";
struct { int type; int max_entries; } my_map __attribute__((section(".maps")));
__attribute__((noinline)) int helper(struct node *n __tag1, enum e32 e, enum e64 f)
{ return n->u.i + e + (int)f + s_counter++; }
__attribute__((section("xdp"))) int prog(void *ctx)
{ return helper(&g_node, A, BIG) + g_bits.c + g_arr[2] + vc + (g_fn ? 1 : 0) + flag; }
"#,
    ),
    (
        "quirks",
        r#"
typedef unsigned char u8;
typedef unsigned long long u64;
enum __attribute__((packed)) small_enum { S0, S1 = 200 };
enum big_enum { BIG_NEG = -1, BIG_POS = 0x7fffffff };
enum wide64 { W_SMALL = 1, W_LARGE = 0x100000000ULL };
enum signed64 { SN = -5000000000LL, SP = 3 };
typedef int clash;
enum clash_enum { clash_val = 1 };
struct empty {};
struct holder { struct {} nothing; int flex_len; struct empty e; char tail[]; };
struct gaps { char a; long b __attribute__((aligned(16))); char c; unsigned int d:3;
              unsigned int :0; unsigned int e:7; unsigned long long f:40; short g; }
              __attribute__((aligned(32)));
struct __attribute__((packed)) tight { char a; int b; short c; u64 d; };
union bits { unsigned int x:5; unsigned long long y:33; char z[3]; };
typedef void (*handler_t)(int);
typedef handler_t (*getter_t)(const char *restrict name, volatile int * const *pp);
struct decls { int (*fns[4])(void); int matrix[3][4][5]; const volatile u8 * const cv;
               char *(*(*ret_fn)(int))[8]; getter_t get; __int128 wide; unsigned __int128 uwide;
               long double ld; _Bool flag; enum { INLINE_X, INLINE_Y } inl;
               union { int i; struct { short lo, hi; }; }; struct self *next;
               const struct self *const *cnext; };
struct self { struct self *me; struct decls d; };
struct outer { struct inner { int v; } in; struct inner *pin; };
struct gaps g1; struct tight t1; union bits b1; struct decls d1; struct outer o1;
enum small_enum se; enum big_enum be; enum wide64 w64; enum signed64 s64; clash cl;
enum clash_enum ce; struct holder h1; struct self s1;
__attribute__((section("xdp"))) int prog(void *ctx)
{ return g1.d + t1.b + b1.x + se + be + (int)w64 + (int)s64 + cl + ce + h1.flex_len + s1.d.flag; }
"#,
    ),
];

/// Objects to compare: testdata's, plus ours built with clang-19 (little- and big-endian).
fn objects(dir: &Path) -> Vec<PathBuf> {
    let testdata = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../testdata/obj");
    let mut objs: Vec<PathBuf> = std::fs::read_dir(&testdata)
        .map(|rd| {
            rd.map(|e| e.unwrap().path())
                .filter(|p| p.extension().is_some_and(|x| x == "o"))
                .collect()
        })
        .unwrap_or_default();
    objs.sort();
    assert!(!objs.is_empty(), "no objects in {}", testdata.display());
    if tool("clang-19").is_some() {
        for (name, src) in SOURCES {
            let c = dir.join(format!("{name}.c"));
            std::fs::write(&c, src).unwrap();
            for target in ["bpf", "bpfeb"] {
                let o = dir.join(format!("{name}.{target}.o"));
                let out = run(
                    "clang-19",
                    &[
                        "-target",
                        target,
                        "-O2",
                        "-g",
                        "-c",
                        c.to_str().unwrap(),
                        "-o",
                        o.to_str().unwrap(),
                    ],
                );
                assert!(
                    out.status.success(),
                    "{}",
                    String::from_utf8_lossy(&out.stderr)
                );
                objs.push(o);
            }
        }
    }
    objs
}

#[test]
fn objects_match_bpftool_and_compile() {
    if !available(&[Need::Tool("bpftool")]) {
        return;
    }
    let dir = scratch("objects");
    let clang = tool("clang-19").is_some();
    let (mut with_btf, mut without) = (0, 0);
    for obj in objects(&dir) {
        let f = obj.to_str().unwrap();
        let theirs = run("bpftool", &["btf", "dump", "file", f, "format", "raw"]);
        if !theirs.status.success() {
            // No .BTF (built without -g): both tools refuse it.
            let ours = bpfkit(&["btf", "dump", f]);
            assert_eq!(ours.status.code(), Some(2), "{f}");
            assert!(String::from_utf8_lossy(&ours.stderr).starts_with(&format!("error: {f}: ")));
            without += 1;
            continue;
        }
        same_as_bpftool(&obj, None, "raw");
        let header = same_as_bpftool(&obj, None, "c");
        if clang {
            let name = obj.file_stem().unwrap().to_str().unwrap().replace('.', "_");
            compiles(&header, &dir, &name);
        }
        with_btf += 1;
    }
    eprintln!("{with_btf} objects with BTF compared, {without} without BTF");
    assert!(with_btf > 0, "no object with BTF was compared");
}

//! Loading an object into the kernel end to end — open (parse, link, fix up BTF), BTF load,
//! maps created, programs verified and loaded, everything closed — with bpfkit and with libbpf
//! (Debian's libbpf.so.1 through `dlopen`: `bpf_object__open_file` + `bpf_object__load` +
//! `bpf_object__close`), side by side in one run.
//!
//! The object: cilium's `bpf_sock.o` (9 programs, 4,362 instructions, 29 maps) from
//! vbpf/ebpf-samples when `BPFKIT_EBPF_SAMPLES=DIR` names a checkout of it, else our largest
//! testdata object. Maps pinned by name go to a scratch directory of the BPF filesystem that
//! both loaders share (created afresh before the run, so both reuse the pins after their
//! first iteration). Needs root; prints why it skips otherwise.
//!
//! `cargo bench -p bpfkit-benches --bench load`

use std::ffi::{CString, c_char, c_int, c_void};
use std::hint::black_box;
use std::path::{Path, PathBuf};

use bpfkit_loader::{LoadOptions, ObjectSpec};
use criterion::{Criterion, criterion_group, criterion_main};

/// `struct bpf_object_open_opts` of libbpf 1.1, up to `pin_root_path`.
#[repr(C)]
struct OpenOpts {
    sz: usize,
    object_name: *const c_char,
    relaxed_maps: bool,
    pin_root_path: *const c_char,
}

type OpenFile = unsafe extern "C" fn(*const c_char, *const OpenOpts) -> *mut c_void;
type Load = unsafe extern "C" fn(*mut c_void) -> c_int;
type Close = unsafe extern "C" fn(*mut c_void);
type PrintFn = unsafe extern "C" fn(c_int, *const c_char, *mut c_void) -> c_int;
type SetPrint = unsafe extern "C" fn(Option<PrintFn>) -> Option<PrintFn>;

/// libbpf's entry points, from `libbpf.so.1`.
struct Libbpf {
    open_file: OpenFile,
    load: Load,
    close: Close,
}

impl Libbpf {
    fn open() -> Option<Libbpf> {
        // SAFETY: dlopen with a NUL-terminated name; the handle is kept for the process.
        let handle = unsafe { libc::dlopen(c"libbpf.so.1".as_ptr(), libc::RTLD_NOW) };
        if handle.is_null() {
            return None;
        }
        let sym = |name: &std::ffi::CStr| {
            // SAFETY: dlsym on a live handle with a NUL-terminated name.
            let p = unsafe { libc::dlsym(handle, name.as_ptr()) };
            (!p.is_null()).then_some(p)
        };
        let (open_file, load, close, set_print) = (
            sym(c"bpf_object__open_file")?,
            sym(c"bpf_object__load")?,
            sym(c"bpf_object__close")?,
            sym(c"libbpf_set_print")?,
        );
        // SAFETY: the symbols are libbpf 1.x's functions with these C signatures.
        unsafe {
            let set_print: SetPrint = std::mem::transmute(set_print);
            // Quiet: libbpf's messages would go to stderr on every iteration.
            set_print(None);
            Some(Libbpf {
                open_file: std::mem::transmute::<*mut c_void, OpenFile>(open_file),
                load: std::mem::transmute::<*mut c_void, Load>(load),
                close: std::mem::transmute::<*mut c_void, Close>(close),
            })
        }
    }

    /// Opens, loads and closes the object; libbpf's error code on failure.
    fn open_load_close(&self, path: &CString, pin_root: &CString) -> Result<(), c_int> {
        let opts = OpenOpts {
            sz: size_of::<OpenOpts>(),
            object_name: std::ptr::null(),
            relaxed_maps: false,
            pin_root_path: pin_root.as_ptr(),
        };
        // SAFETY: libbpf's documented API: a path and options that outlive the call; the
        // object is closed before returning.
        unsafe {
            let obj = (self.open_file)(path.as_ptr(), &opts);
            if obj.is_null() || (obj as isize) < 0 && (obj as isize) > -4096 {
                return Err(-1);
            }
            let err = (self.load)(obj);
            (self.close)(obj);
            if err != 0 { Err(err) } else { Ok(()) }
        }
    }
}

/// The object to load and its label.
fn object() -> (PathBuf, String) {
    if let Ok(dir) = std::env::var("BPFKIT_EBPF_SAMPLES") {
        let path = Path::new(&dir).join("cilium-core/bpf_sock.o");
        if path.exists() {
            return (path, "cilium_bpf_sock".into());
        }
        eprintln!("{}: missing; using testdata", path.display());
    }
    (
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../testdata/obj/attach.v3.g.o"),
        "testdata_attach".into(),
    )
}

fn bench(c: &mut Criterion) {
    if let Err(why) = bpfkit_sys::probe() {
        eprintln!("load bench skipped: {why}");
        return;
    }
    let Some(libbpf) = Libbpf::open() else {
        eprintln!("load bench skipped: cannot dlopen libbpf.so.1");
        return;
    };
    let (path, label) = object();
    let pins = PathBuf::from(format!("/sys/fs/bpf/bpfkit-bench-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&pins);
    std::fs::create_dir_all(&pins).expect("a scratch directory in /sys/fs/bpf");
    let options = LoadOptions {
        pin_root: pins.clone(),
        ..LoadOptions::default()
    };
    let c_path = CString::new(path.to_str().unwrap()).unwrap();
    let c_pins = CString::new(pins.to_str().unwrap()).unwrap();

    // Both must load the whole object, or the comparison is meaningless.
    ObjectSpec::open_file_with(&path, options.clone())
        .and_then(|s| s.load())
        .expect("bpfkit loads the object");
    libbpf
        .open_load_close(&c_path, &c_pins)
        .expect("libbpf loads the object");

    let mut group = c.benchmark_group(format!("load_{label}"));
    group.sample_size(20);
    group.bench_function("bpfkit", |b| {
        b.iter(|| {
            let spec = ObjectSpec::open_file_with(black_box(&path), options.clone()).unwrap();
            drop(black_box(spec.load().unwrap()));
        })
    });
    group.bench_function("libbpf", |b| {
        b.iter(|| libbpf.open_load_close(black_box(&c_path), &c_pins).unwrap())
    });
    group.finish();
    let _ = std::fs::remove_dir_all(&pins);
}

criterion_group!(benches, bench);
criterion_main!(benches);

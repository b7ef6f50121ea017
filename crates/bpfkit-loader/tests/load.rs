//! Loading our testdata objects into the running kernel, against libbpf (Debian's
//! libbpf.so.1) as the oracle: the BTF we give the kernel is libbpf's byte for byte, every
//! program libbpf loads we load, every program the kernel rejects under libbpf it rejects under
//! bpfkit with the same errno, and what libbpf refuses before the kernel sees it (legacy maps)
//! we load where the kernel accepts it. Maps and global variables are read and written from
//! Rust, and what a program does to them shows.

mod common;

use bpfkit_elf::Object;
use bpfkit_loader::{LoadError, LoadOptions, ObjectSpec, fixup_btf, fixup_btf_for_load};
use bpfkit_relo::Linker;
use bpfkit_sys::{TestRun, UpdateMode};
use bpfkit_test_support::{Need, require};
use common::{PinDir, all_objects, libbpf, obj, unhex};

/// Every object with BTF, and libbpf's BTF for it after `command` (`btf`, `btf-load`).
fn libbpf_btfs(command: &str) -> Vec<(std::path::PathBuf, String)> {
    let paths: Vec<_> = all_objects()
        .into_iter()
        .filter(|p| {
            let bytes = std::fs::read(p).unwrap();
            Object::parse(&bytes).unwrap().btf().is_some()
        })
        .collect();
    let mut args = vec![command.to_string()];
    args.extend(paths.iter().map(|p| p.display().to_string()));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = libbpf(&args);
    let lines: Vec<String> = out.lines().map(str::to_string).collect();
    assert_eq!(lines.len(), paths.len());
    paths.into_iter().zip(lines).collect()
}

/// Compares our BTF with libbpf's for every object with BTF libbpf opens (all but the four
/// `legacy_maps.*.g.o`: libbpf 1.x refuses legacy `maps` sections before fixing anything up).
fn compare_btf(command: &str, fix: fn(&Object<'_>, &bpfkit_relo::ObjectImage) -> Vec<u8>) {
    let (mut compared, mut refused) = (0, 0);
    let btfs = libbpf_btfs(command);
    let total = btfs.len();
    for (path, expected) in btfs {
        if expected.starts_with("open-error") {
            assert!(
                path.to_string_lossy().contains("legacy_maps"),
                "{}",
                path.display()
            );
            refused += 1;
            continue;
        }
        let bytes = std::fs::read(&path).unwrap();
        let object = Object::parse(&bytes).unwrap();
        let image = Linker::new(&object).object_image().unwrap();
        assert!(
            fix(&object, &image) == unhex(&expected),
            "{}: our BTF differs from libbpf's",
            path.display()
        );
        compared += 1;
    }
    assert_eq!((compared, refused), (total - 4, 4));
    eprintln!("{command}: {compared} objects' BTF identical to libbpf's");
}

/// The fixed-up BTF of every object with BTF is what libbpf holds after opening it.
#[test]
fn btf_fixup_matches_libbpf_after_open() {
    require!(Need::Libbpf);
    compare_btf("btf", |o, i| fixup_btf(o, i).unwrap().unwrap());
}

/// After a load (hidden global functions made static) it is still libbpf's.
#[test]
fn btf_given_to_the_kernel_matches_libbpf() {
    require!(Need::Libbpf, Need::Kernel);
    compare_btf("btf-load", |o, i| {
        fixup_btf_for_load(o, i).unwrap().unwrap()
    });
}

/// libbpf's verdict on each program of each object: `ok`, `err ERRNO`, `object-error ERRNO`,
/// or `open-error ERRNO` for the whole object.
fn libbpf_verdicts(
    paths: &[std::path::PathBuf],
    pins: &PinDir,
) -> Vec<(String, Vec<(String, String)>)> {
    let mut args = vec!["load".to_string(), pins.path().display().to_string()];
    args.extend(paths.iter().map(|p| p.display().to_string()));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let mut out: Vec<(String, Vec<(String, String)>)> = Vec::new();
    for line in libbpf(&args).lines() {
        if let Some(path) = line.strip_prefix("== ") {
            out.push((path.to_string(), Vec::new()));
        } else {
            let (name, verdict) = line.split_once(' ').unwrap();
            let current = out.last_mut().expect("a section first");
            current.1.push((name.to_string(), verdict.to_string()));
        }
    }
    out
}

#[test]
fn every_testdata_object_loads_as_under_libbpf() {
    require!(Need::Kernel, Need::BpfFs, Need::Libbpf);
    let (mut loaded, mut rejected, mut object_errors, mut libbpf_refused) = (0, 0, 0, 0);
    let pins = PinDir::new();
    let paths = all_objects();
    let verdicts = libbpf_verdicts(&paths, &pins);
    assert_eq!(verdicts.len(), paths.len());
    for (path, (_, expected)) in paths.iter().zip(verdicts) {
        let options = LoadOptions {
            pin_root: pins.path().to_path_buf(),
            ..LoadOptions::default()
        };
        let spec = ObjectSpec::open_file_with(path, options).unwrap();
        let result = spec.load_lenient();
        let name = path.file_name().unwrap().to_string_lossy();

        if expected.len() == 1 && expected[0].0 == "open-error" {
            // libbpf 1.x refuses legacy `maps` sections at open; the kernel takes them.
            let (object, failures) = result.unwrap();
            assert!(failures.is_empty(), "{name}: {failures:?}");
            assert!(!object.programs().is_empty());
            loaded += object.programs().len();
            libbpf_refused += 1;
            continue;
        }
        let (object, failures) = match result {
            Ok(r) => r,
            Err(e) => {
                // A failure before any program: libbpf must fail there too.
                assert!(
                    expected.iter().all(|(_, v)| v.starts_with("object-error")),
                    "{name}: we failed ({e}), libbpf: {expected:?}"
                );
                object_errors += 1;
                continue;
            }
        };
        for (program, verdict) in &expected {
            let failure = failures.iter().find(|(n, _)| n == program);
            match (verdict.split_once(' '), failure) {
                (None, None) if verdict == "ok" => {
                    assert!(object.program(program).is_ok());
                    loaded += 1;
                }
                (Some(("err", errno)), Some((_, e))) => {
                    assert_eq!(
                        e.errno().map(|e| e.0.to_string()).as_deref(),
                        Some(errno),
                        "{name}: {program}: libbpf's errno {errno}, ours: {e}"
                    );
                    rejected += 1;
                }
                _ => panic!("{name}: {program}: libbpf says {verdict}, we say {failure:?}"),
            }
        }
    }
    eprintln!(
        "testdata: {loaded} programs loaded, {rejected} rejected with libbpf's errno, \
         {object_errors} objects failed before loading as under libbpf, \
         {libbpf_refused} objects libbpf refuses loaded"
    );
    assert!(loaded > 0 && libbpf_refused == 8);
}

/// Global variables: set before load, read after, written while loaded; the program sees the
/// writes and its own writes show, through mmap (`.data`, `.bss`) and map updates alike.
#[test]
fn global_variables_are_read_and_written_from_rust() {
    require!(Need::Kernel);
    for name in ["global_data.v3.g.o", "global_data.v1.o"] {
        let mut spec = ObjectSpec::open_file(obj(name)).unwrap();
        assert_eq!(spec.global("packets"), Some(&1i32.to_ne_bytes()[..]));
        assert_eq!(spec.global("max_len"), Some(&1500u32.to_ne_bytes()[..]));
        // `.rodata` constants can change before load only.
        spec.set_global("max_len", &100u32.to_ne_bytes()).unwrap();
        spec.set_global("packets", &41i32.to_ne_bytes()).unwrap();
        let loaded = spec.load().unwrap();

        // libbpf makes a data map mmapable when BTF shows a global variable in it.
        let data = loaded.map(".data").unwrap();
        assert_eq!(data.mmap.is_some(), name.contains(".g."), "{name}");
        assert_eq!(loaded.global("packets").unwrap(), 41i32.to_ne_bytes());
        assert_eq!(loaded.global("max_len").unwrap(), 100u32.to_ne_bytes());

        let prog = &loaded.program("xdp_globals").unwrap().program;
        let run = |len: usize| {
            prog.test_run(&TestRun {
                data_in: &vec![0u8; len],
                ..TestRun::default()
            })
            .unwrap()
            .retval
        };
        // 60 bytes: within [min_len 14, max_len 100]: XDP_PASS (2).
        assert_eq!(run(60), 2);
        assert_eq!(loaded.global("packets").unwrap(), 42i32.to_ne_bytes());
        assert_eq!(loaded.global("last_len").unwrap(), 60u32.to_ne_bytes());
        assert_eq!(loaded.global("passes").unwrap(), 1u64.to_ne_bytes());
        // 200 bytes: above the max_len we set: XDP_DROP (1), counted in .data.counters.
        assert_eq!(run(200), 1);
        assert_eq!(loaded.global("drops").unwrap(), 1u64.to_ne_bytes());
        assert_eq!(loaded.global("bytes_total").unwrap(), 260u64.to_ne_bytes());

        // Written from Rust while loaded, seen by the next run.
        loaded
            .set_global("packets", &1000i32.to_ne_bytes())
            .unwrap();
        loaded.set_global("drops", &5u64.to_ne_bytes()).unwrap();
        assert_eq!(run(150), 1); // above max_len: dropped
        assert_eq!(loaded.global("packets").unwrap(), 1001i32.to_ne_bytes());
        assert_eq!(loaded.global("drops").unwrap(), 6u64.to_ne_bytes());

        // `.rodata` is frozen: the kernel refuses writes.
        let err = loaded
            .set_global("max_len", &1u32.to_ne_bytes())
            .unwrap_err();
        assert!(
            err.to_string().contains("EPERM") || err.to_string().contains("read-only"),
            "{err}"
        );
    }
}

/// Maps of every shape are created as declared; a program's updates show in them, and values
/// written from Rust reach the program.
#[test]
fn maps_are_read_and_written_from_rust() {
    require!(Need::Kernel, Need::BpfFs);
    let pins = PinDir::new();
    let options = LoadOptions {
        pin_root: pins.path().to_path_buf(),
        ..LoadOptions::default()
    };
    let mut spec = ObjectSpec::open_file_with(obj("maps.v3.g.o"), options).unwrap();
    spec.set_autoload("socket_maps", false).unwrap();
    let loaded = spec.load().unwrap();
    for m in loaded.maps() {
        let info = m.map.info().unwrap();
        assert_eq!(info.def.map_type, m.spec.def.map_type, "{}", m.name);
        assert_eq!(info.name, m.kernel_name);
    }
    // The pinned map is in the pin directory.
    assert!(pins.path().join("lru_map").exists());
    // The prog array holds tail_target at slot 2, the array of maps its two inner maps.
    let jump = &loaded.map("jump_table").unwrap().map;
    assert!(jump.next_key(None).unwrap().is_some());
    let outer = &loaded.map("outer_array").unwrap().map;
    let inner_id = outer.get(&0u32.to_ne_bytes()).unwrap().unwrap();
    let inner_a = loaded.map("inner_a").unwrap().map.info().unwrap().id;
    assert_eq!(u32::from_ne_bytes(inner_id.try_into().unwrap()), inner_a);

    // xdp_maps bumps array_map[0], inserts into hash_map on the first packet, and bumps
    // inner_a[0] through outer_array.
    let prog = &loaded.program("xdp_maps").unwrap().program;
    let array = &loaded.map("array_map").unwrap().map;
    array
        .update(&0u32.to_ne_bytes(), &40u64.to_ne_bytes(), UpdateMode::Any)
        .unwrap();
    prog.test_run(&TestRun {
        data_in: &[0u8; 64],
        ..TestRun::default()
    })
    .unwrap();
    assert_eq!(
        array.get(&0u32.to_ne_bytes()).unwrap(),
        Some(41u64.to_ne_bytes().to_vec())
    );
    let hash = &loaded.map("hash_map").unwrap().map;
    assert_eq!(hash.keys().unwrap().len(), 1);
    // Per-cpu values: one per possible cpu.
    let percpu = &loaded.map("percpu_array_map").unwrap().map;
    let values = percpu.lookup_percpu(&0u32.to_ne_bytes()).unwrap().unwrap();
    assert_eq!(values.len(), bpfkit_sys::possible_cpus().unwrap());
}

/// A second load reuses the map pinned by name by the first; a pin of another shape is refused.
#[test]
fn pinned_maps_are_reused_when_compatible() {
    require!(Need::Kernel, Need::BpfFs);
    let pins = PinDir::new();
    let options = LoadOptions {
        pin_root: pins.path().to_path_buf(),
        ..LoadOptions::default()
    };
    let open = || {
        let mut spec = ObjectSpec::open_file_with(obj("maps.v3.g.o"), options.clone()).unwrap();
        spec.set_autoload("socket_maps", false).unwrap();
        spec
    };
    let first = open().load().unwrap();
    let lru = first.map("lru_map").unwrap();
    assert!(!lru.reused);
    lru.map
        .update(&9u64.to_ne_bytes(), &[7u8; 16], UpdateMode::Any)
        .unwrap();
    let second = open().load().unwrap();
    let again = second.map("lru_map").unwrap();
    assert!(again.reused);
    assert_eq!(again.map.info().unwrap().id, lru.map.info().unwrap().id);
    assert_eq!(
        again.map.get(&9u64.to_ne_bytes()).unwrap(),
        Some(vec![7u8; 16])
    );

    let mut other = open();
    other.map_mut("lru_map").unwrap().def.max_entries = 7;
    match other.load() {
        Err(LoadError::PinMismatch { reason, .. }) => {
            assert!(reason.contains("max_entries"), "{reason}")
        }
        r => panic!("expected a pin mismatch, got {r:?}"),
    }
}

/// A rejected program's error is the kernel's: errno and verifier log, with the source line.
#[test]
fn a_rejected_program_carries_the_verifier_log() {
    require!(Need::Kernel, Need::BpfFs);
    let pins = PinDir::new();
    let options = LoadOptions {
        pin_root: pins.path().to_path_buf(),
        ..LoadOptions::default()
    };
    let spec = ObjectSpec::open_file_with(obj("maps.v3.g.o"), options).unwrap();
    let err = spec.load().unwrap_err();
    let log = err.verifier_log().expect("a verifier log");
    assert_eq!(err.errno(), Some(bpfkit_sys::Errno(libc::EINVAL)));
    assert!(
        log.contains("invalid read from stack R2 off=-4 size=8"),
        "{log}"
    );
    // line_info reached the kernel: the log quotes the source.
    assert!(
        log.contains("bpf_map_lookup_elem(&sized_map, &key)"),
        "{log}"
    );
}

/// A kernel without some BTF kinds gets them rewritten, and still loads the object.
#[test]
fn sanitized_btf_still_loads() {
    require!(Need::Kernel);
    let options = LoadOptions {
        btf_features: Some(bpfkit_loader::BtfFeatures {
            func: true,
            func_global: true,
            datasec: false,
            float: false,
            decl_tag: false,
            type_tag: false,
            enum64: false,
        }),
        ..LoadOptions::default()
    };
    let spec = ObjectSpec::open_file_with(obj("global_data.v3.g.o"), options).unwrap();
    let loaded = spec.load().unwrap();
    assert!(loaded.btf().is_some(), "{:?}", loaded.warnings());
    assert!(loaded.warnings().is_empty(), "{:?}", loaded.warnings());
}

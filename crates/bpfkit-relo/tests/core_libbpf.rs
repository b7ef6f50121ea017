//! CO-RE against libbpf on our own testdata: each `testdata/obj/core_reloc_FAMILY.v3.g.o`
//! relocated against every `testdata/btf/core_FAMILY___VARIANT.btf`, by bpfkit and by Debian's
//! libbpf.so.1 (the oracle), every relocation compared: local spec, matched target spec,
//! patched value or poisoning or failure, load/store size, and the final instruction bytes.
//!
//! Needs root (libbpf relocates while loading) and libbpf; see `core_oracle`.

mod core_oracle;

use bpfkit_test_support::{Need, require};
use core_oracle::{Counts, Target, compare, testdata};

fn family(name: &str) {
    require!(Need::Kernel, Need::Libbpf);
    let object = testdata().join(format!("obj/core_reloc_{name}.v3.g.o"));
    let mut targets: Vec<_> = std::fs::read_dir(testdata().join("btf"))
        .expect("testdata/btf")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.file_name()
                .and_then(|f| f.to_str())
                .is_some_and(|f| f.starts_with(&format!("core_{name}___")) && f.ends_with(".btf"))
        })
        .collect();
    targets.sort();
    assert!(!targets.is_empty(), "no target BTFs for {name}");
    let mut total = Counts::default();
    let mut diffs = Vec::new();
    for target in &targets {
        let (counts, d) = compare(&object, Target::File(target));
        let variant = target.file_stem().unwrap().to_string_lossy().into_owned();
        eprintln!("{variant}: {counts:?}");
        assert!(counts.relocations > 0, "{variant}: nothing was compared");
        if variant.contains("___err_") {
            assert!(
                counts.poisoned + counts.failed > 0,
                "{variant}: an error case that neither poisons nor fails"
            );
        }
        total += counts;
        diffs.extend(d);
    }
    eprintln!(
        "{name}: {} targets, {} relocations compared ({} patched, {} poisoned, {} failed), \
         {} instructions compared byte for byte, {} not reached by libbpf",
        targets.len(),
        total.relocations,
        total.patched,
        total.poisoned,
        total.failed,
        total.insns_compared,
        total.not_reached
    );
    assert!(
        diffs.is_empty(),
        "{} differences:\n{}",
        diffs.len(),
        diffs.join("\n")
    );
}

macro_rules! families {
    ($($name:ident),* $(,)?) => {
        $(
            #[test]
            fn $name() {
                family(stringify!($name));
            }
        )*
    };
}

families!(
    flavors, nesting, arrays, primitives, mods, ptr_as_arr, ints, misc, existence, bitfields, size,
    type_based, type_id, enumval, enum64val,
);

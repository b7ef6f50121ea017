//! `bpfkit objdump` against libbpf itself: every committed test object is opened with the
//! installed `libbpf.so.1` (through python3's ctypes, no C compiler needed) and its programs
//! (name, section, program type, expected attach type, instruction count) and maps (type, key
//! and value sizes, max entries, flags, map_extra, pinning, inner map; the internal maps of the
//! global data sections) are compared with what objdump lists.
//!
//! libbpf >= 1.0 refuses legacy `maps` sections; the test checks it refuses exactly those.

mod objdump_support;

use objdump_support::*;

#[test]
fn programs_and_maps_agree_with_libbpf() {
    let objects = objects();
    let Some(facts) = libbpf_facts(&objects) else {
        return;
    };
    let mut maps_compared = 0;
    for path in &objects {
        let name = file_name(path);
        let facts = &facts[&path.display().to_string()];
        if let Some((errno, _)) = &facts.open_error {
            // EOPNOTSUPP: "legacy map definitions in 'maps' section are not supported".
            assert!(
                name.starts_with("legacy_maps.") && *errno == 95,
                "{name}: libbpf failed to open it: errno {errno}"
            );
            continue;
        }
        assert!(
            !name.starts_with("legacy_maps."),
            "{name}: libbpf opened a legacy maps object"
        );
        maps_compared += compare_with_libbpf(path, facts);
    }
    assert!(
        maps_compared >= 4 * 16,
        "only {maps_compared} maps compared"
    );
}

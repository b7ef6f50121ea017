//! `bpfkit run OBJ.o:PROGRAM`: programs are found by name or by their section, linked, and run
//! with their maps and global data; mistakes give the contract's exit codes.

mod common;

use common::{bpfkit, root};

fn obj(name: &str) -> String {
    root().join("testdata/obj").join(name).display().to_string()
}

#[test]
fn a_program_is_named_by_its_name_or_its_section() {
    let zeros = "00".repeat(64);
    for spec in [
        "socket_filter.v3.o:socket_filter",
        "socket_filter.v3.o:socket",
    ] {
        let out = bpfkit(&["run", "--mem-hex", &zeros, &obj(spec)]);
        assert!(
            out.status.success(),
            "{spec}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(String::from_utf8_lossy(&out.stdout).starts_with("0x"));
    }
}

#[test]
fn unknown_and_ambiguous_programs_are_usage_errors() {
    let out = bpfkit(&["run", &obj("maps.v3.g.o:nope")]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.starts_with("error: ") && err.contains("no program or section named `nope`"),
        "{err}"
    );
    assert!(
        err.contains("xdp_maps"),
        "the message lists the programs: {err}"
    );

    // tc_classifier has two programs in SEC("tc").
    let out = bpfkit(&["run", &obj("tc_classifier.v3.o:tc")]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("name one: tc_mark, tc_drop_jumbo"), "{err}");
}

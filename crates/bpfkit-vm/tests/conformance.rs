//! The interpreter against every program of the bpf_conformance suite, without the CLI, so that
//! the coverage of every opcode also runs under miri (`.ci/run` runs this crate's tests with
//! `cargo +nightly miri test -p bpfkit-vm`).

use std::path::Path;

use bpfkit_asm::conformance::TestFile;
use bpfkit_vm::Vm;

#[test]
fn every_conformance_program_returns_its_result() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../testdata/conformance/tests");
    let mut paths: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    paths.sort();
    assert_eq!(paths.len(), 313);
    // Under miri, which interprets every step (about 3.5 s per file, most of it assembling the
    // file's text), every ninth file (35, every instruction class among them) keeps CI within
    // its time; natively all of them run.
    let step = if cfg!(miri) { 9 } else { 1 };
    for path in paths.iter().step_by(step) {
        let name = path.file_name().unwrap().to_string_lossy();
        let file = TestFile::parse(&std::fs::read_to_string(path).unwrap()).unwrap();
        let mut vm =
            Vm::from_bytes(&file.program().unwrap()).unwrap_or_else(|e| panic!("{name}: {e}"));
        // The suite's convention: helper 5 returns its first argument.
        vm.register_helper(5, |_, args| Ok(args[0]));
        let mut mem = file.mem.clone();
        let r0 = vm.run(&mut mem).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(Some(r0), file.result, "{name}");
    }
}

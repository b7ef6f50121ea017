//! The interpreter against every program of the bpf_conformance suite, without the CLI.

use std::path::Path;

use bpfkit_asm::conformance::TestFile;
use bpfkit_vm::Vm;

#[test]
#[cfg_attr(
    miri,
    ignore = "35 files took 270 s of CI under miri; bpfkit-vm has no unsafe code, and \
              memory_safety.rs runs under miri instead"
)]
fn every_conformance_program_returns_its_result() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../testdata/conformance/tests");
    let mut paths: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    paths.sort();
    assert_eq!(paths.len(), 313);
    for path in &paths {
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

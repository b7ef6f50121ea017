//! Every program of the bpf_conformance suite on the JIT, in checked mode, against the suite's
//! expected results, and against the interpreter (same result, or the same fault).

use std::path::Path;

use bpfkit_asm::conformance::TestFile;
use bpfkit_jit::Jit;
use bpfkit_vm::Vm;

fn vm(bytes: &[u8]) -> Vm {
    let mut vm = Vm::from_bytes(bytes).unwrap();
    // The suite's convention: helper 5 returns its first argument.
    vm.register_helper(5, |_, args| Ok(args[0]));
    vm
}

#[test]
fn every_conformance_program_returns_its_result_on_the_jit() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../testdata/conformance/tests");
    let mut paths: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    paths.sort();
    assert_eq!(paths.len(), 313);
    let mut failures = Vec::new();
    for path in &paths {
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        let file = TestFile::parse(&std::fs::read_to_string(path).unwrap()).unwrap();
        let bytes = file.program().unwrap();
        let mut jit = Jit::new(vm(&bytes)).unwrap_or_else(|e| panic!("{name}: {e}"));
        let mut mem = file.mem.clone();
        let got = jit.run(&mut mem);
        let mut interp_mem = file.mem.clone();
        let interp = vm(&bytes).run(&mut interp_mem);
        if got != interp || mem != interp_mem {
            failures.push(format!("{name}: jit {got:x?}, interpreter {interp:x?}"));
            continue;
        }
        match (got, file.result, &file.error) {
            (Ok(r0), Some(expected), None) if r0 == expected => {}
            (Err(_), _, Some(_)) => {}
            (got, expected, error) => failures.push(format!(
                "{name}: jit {got:x?}, expected {expected:x?} / error {error:?}"
            )),
        }
    }
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

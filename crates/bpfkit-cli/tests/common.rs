//! Helpers shared by the CLI's integration tests.
#![allow(dead_code, unused_imports)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The workspace root.
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap()
}

/// Runs the `bpfkit` binary.
pub fn bpfkit(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_bpfkit"))
        .args(args)
        .output()
        .expect("run bpfkit")
}

/// The skip rule for outside tools (`bpfkit-test-support`): the tool's path, or `None` with the
/// reason printed (a failure under CI=true).
pub use bpfkit_test_support::tool;

/// A fresh scratch directory under the target directory.
pub fn scratch(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// All files under `dir` (recursively) whose name ends with `suffix`, sorted.
pub fn files_with_suffix(dir: &Path, suffix: &str) -> Vec<PathBuf> {
    bpfkit_test_support::files_under(dir, |name| name.ends_with(suffix))
}

/// Checks that a command succeeded and returns its stdout.
pub fn stdout_of(output: Output, what: &str) -> String {
    assert!(
        output.status.success(),
        "{what} failed: {}\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap()
}

//! What the loader's tests share: where testdata lives, a scratch directory in the BPF
//! filesystem for pins, and the libbpf oracle.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};

/// `testdata/obj/NAME`.
pub fn obj(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../testdata/obj")
        .join(name)
}

/// Every object of `testdata/obj`, sorted.
pub fn all_objects() -> Vec<PathBuf> {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(obj(""))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "o"))
        .collect();
    paths.sort();
    paths
}

/// A directory of its own in the BPF filesystem, removed with everything pinned in it.
pub struct PinDir(pub PathBuf);

impl PinDir {
    pub fn new() -> PinDir {
        static N: AtomicUsize = AtomicUsize::new(0);
        let n = N.fetch_add(1, Ordering::Relaxed);
        let dir = PathBuf::from(format!(
            "/sys/fs/bpf/bpfkit-test-{}-{n}",
            std::process::id()
        ));
        std::fs::create_dir_all(&dir).expect("create a directory in /sys/fs/bpf");
        PinDir(dir)
    }

    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for PinDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Runs the libbpf oracle (`tests/oracle/libbpf_load.py`) with `args`; its stdout.
pub fn libbpf(args: &[&str]) -> String {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/oracle/libbpf_load.py");
    let out = Command::new("python3")
        .arg(&script)
        .args(args)
        .output()
        .expect("run python3");
    assert!(
        out.status.success(),
        "libbpf oracle {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// Hex decoding of the oracle's output.
pub fn unhex(hex: &str) -> Vec<u8> {
    let hex = hex.trim();
    (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
        .collect()
}

/// The number of open file descriptors of this process.
pub fn open_fds() -> usize {
    std::fs::read_dir("/proc/self/fd").unwrap().count()
}

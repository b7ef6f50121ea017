//! The one rule for tests that need something outside the workspace: an outside tool, the
//! kernel's `bpf(2)`, root, the BPF filesystem, a file such as the kernel's BTF.
//!
//! - When the need is met, the test runs.
//! - When it is not, the test prints `skipped <test>: <reason>` and returns, so a developer
//!   without root or LLVM still gets a green `cargo test` that says what it did not check.
//! - Under `CI=true` (or `CI=1`) a missing need fails the test instead: CI installs every tool
//!   and runs as root, so a skip there would hide an unchecked claim.
//!
//! Every crate's tests use this crate (as a dev-dependency) instead of a copy of the rule.
//!
//! ```
//! use bpfkit_test_support::{Need, require};
//!
//! fn compares_with_llvm() {
//!     require!(Need::Tool("llvm-objdump-19"));
//!     // ... runs llvm-objdump-19 ...
//! }
//! # if !bpfkit_test_support::in_ci() { compares_with_llvm(); }
//! ```

#![forbid(unsafe_code)]
#![deny(missing_docs)]

use std::path::{Path, PathBuf};

/// Something a test needs that the workspace does not provide.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Need<'a> {
    /// An executable on `PATH` (`llvm-objdump-19`, `bpftool`, `clang-19`, `qemu-aarch64`, ...).
    Tool(&'a str),
    /// A working `bpf(2)`: the process may create maps and load programs (root or `CAP_BPF`).
    Kernel,
    /// Effective uid 0 (network namespaces, attaching, tracefs).
    Root,
    /// The BPF filesystem mounted at `/sys/fs/bpf` (pins).
    BpfFs,
    /// A readable file, with what it is for the message (`/sys/kernel/btf/vmlinux`).
    File(&'a str),
    /// Debian's `libbpf.so.1`, driven through python3's ctypes as an oracle: python3 must be on
    /// `PATH` and able to load the library.
    Libbpf,
}

/// The running kernel's BTF.
pub const VMLINUX: &str = "/sys/kernel/btf/vmlinux";

/// Where Debian's `libbpf.so.1` lives.
pub const LIBBPF_SO: &str = "/usr/lib/x86_64-linux-gnu/libbpf.so.1";

/// Whether this run is CI's (`CI=true` or `CI=1`), where nothing may be skipped.
pub fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true" || v == "1")
}

/// Whether `need` is met here; `Err` says why not.
///
/// # Panics
/// When `bpf(2)` is permitted but fails anyway ([`bpfkit_sys::Unavailable::Failed`]): that is a
/// defect to report, never a reason to skip.
pub fn check(need: Need<'_>) -> Result<(), String> {
    match need {
        Need::Tool(name) => find_tool(name)
            .map(|_| ())
            .ok_or_else(|| format!("{name} is not installed (not found on PATH)")),
        Need::Kernel => match bpfkit_sys::probe() {
            Ok(()) => Ok(()),
            Err(why) if why.is_environmental() => Err(why.to_string()),
            Err(why) => panic!("{why}"),
        },
        Need::Root => {
            if effective_uid() == Some(0) {
                Ok(())
            } else {
                Err("needs root (effective uid 0)".to_string())
            }
        }
        Need::BpfFs => {
            let mounted = std::fs::read_to_string("/proc/mounts")
                .is_ok_and(|m| m.lines().any(|l| l.contains(" /sys/fs/bpf bpf ")));
            if mounted {
                Ok(())
            } else {
                Err("the BPF filesystem is not mounted at /sys/fs/bpf".to_string())
            }
        }
        Need::File(path) => std::fs::File::open(path)
            .map(|_| ())
            .map_err(|e| format!("cannot read {path}: {e}")),
        Need::Libbpf => {
            check(Need::Tool("python3"))?;
            if !Path::new(LIBBPF_SO).exists() {
                return Err(format!("{LIBBPF_SO} is missing (Debian's libbpf1)"));
            }
            let loads = std::process::Command::new("python3")
                .args(["-c", "import ctypes; ctypes.CDLL('libbpf.so.1')"])
                .output()
                .is_ok_and(|o| o.status.success());
            if loads {
                Ok(())
            } else {
                Err("python3's ctypes cannot load libbpf.so.1".to_string())
            }
        }
    }
}

/// Applies the rule to `needs`: `true` when all are met. Otherwise prints why the current test
/// is skipped and returns `false`, or, under CI, panics with the reason.
pub fn available(needs: &[Need<'_>]) -> bool {
    let missing: Vec<String> = needs.iter().filter_map(|&n| check(n).err()).collect();
    if missing.is_empty() {
        return true;
    }
    skip(&missing.join("; "));
    false
}

/// Skips the current test for `reason` (a printed line), or fails it under CI.
///
/// # Panics
/// Under `CI=true`, always.
pub fn skip(reason: &str) {
    let current = std::thread::current();
    let test = current.name().unwrap_or("test");
    assert!(
        !in_ci(),
        "{test}: CI=true, so this may not be skipped: {reason} (.ci/run must provide it)"
    );
    eprintln!("skipped {test}: {reason}");
}

/// The path of tool `name` on `PATH` under the rule: `None` (printed, or a panic under CI) when
/// it is missing.
pub fn tool(name: &str) -> Option<PathBuf> {
    let found = find_tool(name);
    if found.is_none() {
        skip(&format!("{name} is not installed (not found on PATH)"));
    }
    found
}

/// Every file under `dir` (recursively, following no order of the file system) whose file name
/// `keep` accepts, sorted: how the corpus tests list their objects.
///
/// ```
/// let dir = std::env::temp_dir().join(format!("files-under-doc-{}", std::process::id()));
/// std::fs::create_dir_all(dir.join("sub")).unwrap();
/// for name in ["b.o", "sub/a.o", "c.txt"] {
///     std::fs::write(dir.join(name), b"").unwrap();
/// }
/// let found = bpfkit_test_support::files_under(&dir, |name| name.ends_with(".o"));
/// assert_eq!(found, [dir.join("b.o"), dir.join("sub/a.o")]);
/// std::fs::remove_dir_all(&dir).unwrap();
/// ```
pub fn files_under(dir: &Path, keep: impl Fn(&str) -> bool) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if keep(&p.file_name().unwrap_or_default().to_string_lossy()) {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

/// The directory of an outside corpus named by environment variable `var`, for a test marked
/// `#[ignore = "needs VAR=<dir ...>"]`.
///
/// Corpora that CI machines do not have (a checkout of vbpf/ebpf-samples, of cilium/ebpf, the
/// shared conformance suite) are read by ignored tests, so that a run without them never counts
/// them as passed; `cargo test -- --ignored` with the variable set runs them.
///
/// # Panics
/// When `var` is unset or does not name a directory: a test asked for by name must not pass
/// without its corpus.
pub fn corpus_dir(var: &str) -> PathBuf {
    let Some(dir) = std::env::var_os(var) else {
        panic!("{var} is not set: point it at the corpus this ignored test reads");
    };
    let dir = PathBuf::from(dir);
    assert!(dir.is_dir(), "{var}={}: not a directory", dir.display());
    dir
}

/// Returns from the calling test, under the rule, unless every need is met.
///
/// ```
/// # use bpfkit_test_support::{Need, require};
/// fn loads_into_the_kernel() {
///     require!(Need::Kernel, Need::BpfFs);
///     // ... bpf(2) works here ...
/// }
/// ```
#[macro_export]
macro_rules! require {
    ($($need:expr),+ $(,)?) => {
        if !$crate::available(&[$($need),+]) {
            return;
        }
    };
}

fn find_tool(name: &str) -> Option<PathBuf> {
    let paths = std::env::var_os("PATH")?;
    std::env::split_paths(&paths)
        .map(|dir| dir.join(name))
        .find(|p| p.is_file())
}

fn effective_uid() -> Option<u32> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("Uid:"))?;
    // Uid: real effective saved filesystem
    line.split_whitespace().nth(2)?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_tool_is_reported_with_its_name() {
        let err = check(Need::Tool("bpfkit-no-such-tool")).unwrap_err();
        assert!(err.contains("bpfkit-no-such-tool"), "{err}");
    }

    #[test]
    fn a_missing_file_is_reported_with_its_path() {
        let err = check(Need::File("/nonexistent/bpfkit")).unwrap_err();
        assert!(err.contains("/nonexistent/bpfkit"), "{err}");
    }

    #[test]
    #[should_panic(expected = "BPFKIT_NO_SUCH_CORPUS is not set")]
    fn an_unset_corpus_fails_the_test() {
        corpus_dir("BPFKIT_NO_SUCH_CORPUS");
    }

    #[test]
    fn sh_is_a_tool_everywhere() {
        assert!(find_tool("sh").is_some());
    }
}

//! The verdict corpus: every program of a set of BPF objects, linked by bpfkit-relo, with the
//! kernel's verdict, final message and verification time for the same program.
//!
//! Shared by `tests/kernel_corpus.rs` (verdicts) and `benches/src/bin/verifier-report.rs`
//! (speed, which includes this file with `#[path]`), so that both judge the same programs
//! loaded the same way. It needs only bpfkit crates both have: btf, elf, loader, relo, uapi.
//!
//! The kernel's verdict comes from loading each program alone with Debian's libbpf.so.1
//! (`tests/libbpf_verdicts.py`), which creates the maps, fills and freezes global data and
//! applies CO-RE. Programs libbpf 1.1 refuses before the verifier runs (iproute2-style map
//! definitions, old sections, objects it cannot open) are loaded with bpfkit-loader instead.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;

use bpfkit_elf::Object;
use bpfkit_relo::{CoreTarget, Linker, ProgramImage};
use bpfkit_uapi::ProgType;

/// The kernel's verdict on one program.
#[derive(Clone, Debug)]
pub struct Kernel {
    /// The program's name.
    pub program: String,
    /// `accepted`, `rejected` or `unloadable` (the verifier never ran).
    pub verdict: String,
    /// The kernel's final error line (rejections).
    pub message: String,
    /// `verification time N usec` (the median over the repeats), when the log has it.
    pub usec: Option<u64>,
}

impl Kernel {
    /// Whether the kernel accepted the program.
    pub fn accepts(&self) -> bool {
        self.verdict == "accepted"
    }
}

/// One program of the corpus with the kernel's verdict on it.
pub struct Case {
    /// `OBJECT:PROGRAM`.
    pub what: String,
    /// The program, linked (and CO-RE-relocated against the running kernel).
    pub image: ProgramImage,
    /// The kernel's verdict.
    pub kernel: Kernel,
}

/// How to ask the kernel.
#[derive(Clone, Copy, Debug)]
pub struct Load {
    /// The verifier's log level: 1|4 for messages and statistics, 4 alone to time the
    /// verifier without the cost of printing every instruction.
    pub log_level: u32,
    /// Loads per program; the reported time is their median.
    pub repeat: u32,
    /// The type both verifiers judge a program as whose section names none (cilium's `2/7`,
    /// old samples' `xdp1`), from the object's path; `None`: such programs are not compared.
    pub untyped: Option<fn(&Path) -> ProgType>,
}

impl Default for Load {
    fn default() -> Load {
        Load {
            log_level: 1 | 4,
            repeat: 1,
            untyped: None,
        }
    }
}

/// The workspace root (the directory holding `testdata/`), from the including crate's manifest.
pub fn workspace() -> PathBuf {
    let mut dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    while !dir.join("testdata/build.sh").exists() {
        if !dir.pop() {
            break;
        }
    }
    dir
}

/// The programs of our own `testdata/obj`.
pub fn testdata_objects() -> Vec<PathBuf> {
    bpfkit_test_support::files_under(&workspace().join("testdata/obj"), |n| n.ends_with(".o"))
}

/// Every program of `objects` with the kernel's verdict, and a line saying why for each one
/// that could not be compared (not parsed, not linked, not loadable by either loader).
pub fn cases(objects: &[PathBuf], target: &CoreTarget<'_>, load: Load) -> (Vec<Case>, Vec<String>) {
    let mut out = Vec::new();
    let mut not_compared = Vec::new();
    for path in objects {
        let mut kernel = kernel_verdicts(path, load);
        let bytes = std::fs::read(path).unwrap();
        let object = Object::parse(&bytes);
        // libbpf could not open the object: every program we can name goes to bpfkit-loader.
        if kernel.iter().any(|k| k.program.is_empty()) {
            if let Ok(o) = &object {
                kernel = o
                    .programs()
                    .iter()
                    .map(|p| Kernel {
                        program: p.name().to_string(),
                        verdict: "unloadable".into(),
                        message: String::new(),
                        usec: None,
                    })
                    .collect();
            }
        }
        for k in kernel {
            let what = format!("{}:{}", path.display(), k.program);
            let object = match &object {
                Ok(o) => o,
                Err(e) => {
                    not_compared.push(format!("{what}: bpfkit-elf cannot parse the object: {e}"));
                    continue;
                }
            };
            let image = match Linker::new(object)
                .with_core_target(target)
                .link(&k.program)
            {
                Ok(i) => i,
                Err(e) => {
                    not_compared.push(format!("{what}: bpfkit-relo cannot link it: {e}"));
                    continue;
                }
            };
            let mut image = image;
            let mut retyped = None;
            if let (ProgType::UNSPEC, Some(f)) = (image.prog_type, load.untyped) {
                image.prog_type = f(path);
                retyped = Some(image.prog_type);
            }
            let mut kernel = k;
            if kernel.verdict == "unloadable" {
                match loader_verdict(path, &kernel.program, retyped, load) {
                    Ok(k) => {
                        kernel = Kernel {
                            program: kernel.program,
                            ..k
                        }
                    }
                    Err(why) => {
                        not_compared.push(format!(
                            "{what}: neither libbpf nor bpfkit-loader loads it before the verifier runs: {why}"
                        ));
                        continue;
                    }
                }
            }
            out.push(Case {
                what,
                image,
                kernel,
            });
        }
    }
    (out, not_compared)
}

/// Pulls a string or number field out of one JSON line of the script (flat objects only).
fn field(line: &str, name: &str) -> Option<String> {
    let key = format!("\"{name}\": ");
    let at = line.find(&key)? + key.len();
    let rest = &line[at..];
    if let Some(s) = rest.strip_prefix('"') {
        let mut out = String::new();
        let mut chars = s.chars();
        while let Some(c) = chars.next() {
            match c {
                '"' => return Some(out),
                '\\' => match chars.next()? {
                    'n' => out.push('\n'),
                    'u' => {
                        let hex: String = chars.by_ref().take(4).collect();
                        out.push(
                            char::from_u32(u32::from_str_radix(&hex, 16).ok()?).unwrap_or('?'),
                        );
                    }
                    c => out.push(c),
                },
                c => out.push(c),
            }
        }
        None
    } else {
        let end = rest.find([',', '}']).unwrap_or(rest.len());
        let v = rest[..end].trim();
        (v != "null").then(|| v.to_string())
    }
}

/// The kernel's verdict on every program of `object`, through libbpf.
fn kernel_verdicts(object: &Path, load: Load) -> Vec<Kernel> {
    let script = workspace().join("crates/bpfkit-verifier/tests/libbpf_verdicts.py");
    let out = Command::new("python3")
        .arg(script)
        .args(["--log-level", &load.log_level.to_string()])
        .args(["--repeat", &load.repeat.to_string()])
        .arg(object)
        .output()
        .expect("run python3");
    assert!(
        out.status.success(),
        "libbpf_verdicts.py failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| Kernel {
            program: field(l, "program").unwrap_or_default(),
            verdict: field(l, "verdict").unwrap_or_default(),
            message: field(l, "message").unwrap_or_default(),
            usec: field(l, "kernel_usec").and_then(|v| v.parse().ok()),
        })
        .collect()
}

/// `verification time N usec` of a log at level 4.
fn usec(log: &str) -> Option<u64> {
    let rest = &log[log.find("verification time ")? + "verification time ".len()..];
    rest.split_whitespace().next()?.parse().ok()
}

/// Loads program `name` of the object at `path` alone with bpfkit-loader (its BTF fixed up,
/// maps created, global data filled and frozen, kernel symbols bound; as `prog_type` if given) `load.repeat` times: the
/// kernel's verdict, final message and median verification time.
fn loader_verdict(
    path: &Path,
    name: &str,
    prog_type: Option<ProgType>,
    load: Load,
) -> Result<Kernel, String> {
    let options = bpfkit_loader::LoadOptions {
        log_level: load.log_level,
        ..Default::default()
    };
    let mut spec = bpfkit_loader::ObjectSpec::open_file(path).map_err(|e| e.to_string())?;
    if let Some(t) = prog_type {
        spec.set_prog_type(name, t, None)
            .map_err(|e| e.to_string())?;
    }
    let image = spec.image(name).map_err(|e| e.to_string())?;
    let mut times = Vec::new();
    let mut first = None;
    for _ in 0..load.repeat.max(1) {
        let loaded =
            bpfkit_loader::LoadedObject::from_images(std::slice::from_ref(&image), &options);
        let (accepted, log) = match loaded {
            Ok(o) => (true, o.programs()[0].log.clone()),
            Err(e) => match e.verifier_log() {
                Some(log) => (false, log.to_string()),
                None => return Err(e.to_string()),
            },
        };
        times.extend(usec(&log));
        first.get_or_insert(Kernel {
            program: name.to_string(),
            verdict: if accepted { "accepted" } else { "rejected" }.to_string(),
            message: if accepted {
                String::new()
            } else {
                bpfkit_loader::verifier_log::summarize(&log)
                    .message
                    .unwrap_or_default()
                    .trim()
                    .to_string()
            },
            usec: None,
        });
    }
    times.sort_unstable();
    let mut kernel = first.unwrap();
    kernel.usec = times.get(times.len() / 2).copied();
    Ok(kernel)
}

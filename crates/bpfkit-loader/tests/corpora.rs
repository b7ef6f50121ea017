//! Other projects' objects, against libbpf (Debian's libbpf.so.1) as the oracle: every object
//! of cilium/ebpf's testdata and of vbpf/ebpf-samples that libbpf loads on this kernel, we
//! load; every program the kernel rejects under libbpf, it rejects under bpfkit with the same
//! errno; objects libbpf 1.x refuses before the kernel sees them (legacy iproute2 maps, static
//! programs) we load where the kernel accepts them, as cilium/ebpf does.
//!
//! The corpora are read at test time, never committed:
//!
//! - `BPFKIT_EBPF_SAMPLES=DIR`: a checkout of vbpf/ebpf-samples
//!   (`git --git-dir=/work/.mirror/vbpf+ebpf-samples/repo archive HEAD | tar -x -C DIR`);
//! - `BPFKIT_CILIUM_EBPF=DIR`: a checkout of cilium/ebpf (its `*-el.elf` testdata and the
//!   little-endian `.o` of its examples); without it, Debian's golang-github-cilium-ebpf-dev
//!   at `/usr/share/gocode/src/github.com/cilium/ebpf` (CI installs it).
//!
//! Each test prints its counts.

mod common;

use std::path::{Path, PathBuf};

use bpfkit_loader::{LoadError, LoadOptions, ObjectSpec};
use bpfkit_test_support::{Need, require};
use common::{PinDir, libbpf};

/// Where Debian's golang-github-cilium-ebpf-dev puts cilium/ebpf.
const DEBIAN_CILIUM: &str = "/usr/share/gocode/src/github.com/cilium/ebpf";

/// The little-endian BPF objects under `dir`: `*-el.elf`, `*bpfel.o`, or (`all_o`) any `.o`.
fn objects(dir: &Path, all_o: bool) -> Vec<PathBuf> {
    bpfkit_test_support::files_under(dir, |name| {
        name.ends_with("-el.elf") || name.ends_with("bpfel.o") || (all_o && name.ends_with(".o"))
    })
}

/// What happened to each object and program, and the counts.
#[derive(Default, Debug)]
struct Tally {
    objects: usize,
    /// Programs both loaded.
    loaded: usize,
    /// Programs the kernel rejected under both, with the same errno.
    rejected_alike: usize,
    /// Objects both failed before any program (libbpf's errno, our error).
    failed_alike: usize,
    /// Objects libbpf refused at open that we loaded (programs loaded, rejected by the kernel,
    /// not sent to the kernel because their section names no program type).
    refused_by_libbpf: (usize, usize, usize, usize),
    /// Objects libbpf refused that we could not open either (with why).
    refused_by_both: Vec<(String, String)>,
    /// Objects in which neither finds a program to load: libbpf refuses them, or takes a lone
    /// `.text` function for a program of no type and fails; bpfkit-elf splits programs by
    /// `FUNC` symbols and finds none (old clang's `NOTYPE` program symbols, code in `.text`).
    no_programs: Vec<String>,
    /// Disagreements.
    differences: Vec<String>,
}

fn compare_with_libbpf(paths: &[PathBuf]) -> Tally {
    let pins = PinDir::new();
    let mut args = vec!["load".to_string(), pins.path().display().to_string()];
    args.extend(paths.iter().map(|p| p.display().to_string()));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = libbpf(&args);
    let mut sections: Vec<(String, Vec<(String, String)>)> = Vec::new();
    for line in out.lines() {
        if let Some(path) = line.strip_prefix("== ") {
            sections.push((path.to_string(), Vec::new()));
        } else if let Some((name, verdict)) = line.split_once(' ') {
            sections
                .last_mut()
                .unwrap()
                .1
                .push((name.into(), verdict.into()));
        }
    }
    assert_eq!(sections.len(), paths.len());

    let mut t = Tally::default();
    for (path, (_, expected)) in paths.iter().zip(sections) {
        t.objects += 1;
        let short = path.display().to_string();
        let options = LoadOptions {
            pin_root: pins.path().to_path_buf(),
            ..LoadOptions::default()
        };
        let spec = ObjectSpec::open_file_with(path, options);
        let libbpf_refused = expected.len() == 1 && expected[0].0 == "open-error";
        if libbpf_refused {
            match spec
                .map_err(|e| e.to_string())
                .and_then(|s| s.load_lenient().map_err(|e| e.to_string()))
            {
                Ok((object, failures)) if object.programs().is_empty() && failures.is_empty() => {
                    t.no_programs.push(short);
                }
                Ok((object, failures)) => {
                    if std::env::var_os("BPFKIT_CORPUS_VERBOSE").is_some() {
                        eprintln!(
                            "libbpf refuses {short}; we load {:?}; the kernel rejects {:?}",
                            object
                                .programs()
                                .iter()
                                .map(|p| &p.name)
                                .collect::<Vec<_>>(),
                            failures
                                .iter()
                                .map(|(n, e)| format!(
                                    "{n}: {}",
                                    e.to_string().lines().next().unwrap_or("")
                                ))
                                .collect::<Vec<_>>()
                        );
                    }
                    t.refused_by_libbpf.0 += 1;
                    t.refused_by_libbpf.1 += object.programs().len();
                    for (name, e) in &failures {
                        match e {
                            LoadError::Program { .. } => t.refused_by_libbpf.2 += 1,
                            LoadError::Invalid(why) if why.contains("names no program type") => {
                                t.refused_by_libbpf.3 += 1
                            }
                            e => t.differences.push(format!(
                                "{short}: {name}: libbpf refuses the object; we fail before the \
                                 kernel: {e}"
                            )),
                        }
                    }
                }
                Err(e) => t.refused_by_both.push((short, e)),
            }
            continue;
        }
        let spec = match spec {
            Ok(spec) => spec,
            Err(e) => {
                t.differences
                    .push(format!("{short}: libbpf opens it, we do not: {e}"));
                continue;
            }
        };
        let (object, failures) = match spec.load_lenient() {
            Ok(r) => r,
            Err(e) => {
                if expected.iter().all(|(_, v)| v.starts_with("object-error")) {
                    t.failed_alike += 1;
                } else {
                    t.differences
                        .push(format!("{short}: we fail ({e}); libbpf: {expected:?}"));
                }
                continue;
            }
        };
        if object.programs().is_empty() && failures.is_empty() {
            // libbpf's lone `.text` "program" has no type: it fails where we find none.
            if expected.iter().all(|(_, v)| v.starts_with("object-error")) {
                t.no_programs.push(short);
            } else {
                t.differences
                    .push(format!("{short}: we find no program; libbpf: {expected:?}"));
            }
            continue;
        }
        if expected.iter().all(|(_, v)| v.starts_with("object-error")) && !expected.is_empty() {
            // libbpf failed outside any program (a map, an extern): we must fail there too,
            // unless what libbpf refused is one we take (then every program must load).
            if failures.is_empty() {
                t.differences.push(format!(
                    "{short}: libbpf fails the object ({:?}), we load all {} programs",
                    expected[0].1,
                    object.programs().len()
                ));
            } else {
                t.failed_alike += 1;
            }
            continue;
        }
        for (program, verdict) in &expected {
            let failure = failures.iter().find(|(n, _)| n == program).map(|(_, e)| e);
            match (verdict.as_str(), failure) {
                ("ok", None) => t.loaded += 1,
                (v, Some(e)) if v.starts_with("err ") => {
                    let want = &v[4..];
                    match e.errno() {
                        Some(errno) if errno.0.to_string() == want => t.rejected_alike += 1,
                        _ => t
                            .differences
                            .push(format!("{short}: {program}: libbpf: errno {want}; we: {e}")),
                    }
                }
                (v, f) => t.differences.push(format!(
                    "{short}: {program}: libbpf: {v}; we: {}",
                    f.map_or("loaded".to_string(), |e| e.to_string())
                )),
            }
        }
    }
    t
}

fn report(corpus: &str, t: &Tally) {
    eprintln!(
        "{corpus}: {} objects; {} programs loaded as under libbpf, {} rejected by the kernel \
         with libbpf's errno, {} objects failing before any program under both; libbpf refuses \
         {} objects at open, of which we load {} ({} programs loaded, {} rejected by the kernel, \
         {} whose section names no program type) and refuse {}; {} objects where neither finds \
         a program; {} differences",
        t.objects,
        t.loaded,
        t.rejected_alike,
        t.failed_alike,
        t.refused_by_libbpf.0 + t.refused_by_both.len() + t.no_programs.len(),
        t.refused_by_libbpf.0,
        t.refused_by_libbpf.1,
        t.refused_by_libbpf.2,
        t.refused_by_libbpf.3,
        t.refused_by_both.len(),
        t.no_programs.len(),
        t.differences.len()
    );
    for path in &t.no_programs {
        eprintln!("  no program in either: {path}");
    }
    for (path, why) in &t.refused_by_both {
        eprintln!("  refused by both: {path}: {why}");
    }
    for d in &t.differences {
        eprintln!("  DIFFERENCE {d}");
    }
}

#[test]
#[ignore = "needs BPFKIT_EBPF_SAMPLES=DIR, a checkout of vbpf/ebpf-samples"]
fn ebpf_samples_load_as_under_libbpf() {
    require!(Need::Kernel, Need::BpfFs, Need::Libbpf);
    let dir = std::env::var("BPFKIT_EBPF_SAMPLES")
        .expect("BPFKIT_EBPF_SAMPLES=DIR: a checkout of vbpf/ebpf-samples");
    let paths = objects(Path::new(&dir), true);
    assert!(!paths.is_empty(), "no objects under {dir}");
    let t = compare_with_libbpf(&paths);
    report("vbpf/ebpf-samples", &t);
    assert!(t.differences.is_empty());
}

#[test]
fn cilium_testdata_loads_as_under_libbpf() {
    let dir = match std::env::var("BPFKIT_CILIUM_EBPF") {
        Ok(dir) => dir,
        Err(_) => {
            require!(Need::File(DEBIAN_CILIUM));
            DEBIAN_CILIUM.to_string()
        }
    };
    require!(Need::Kernel, Need::BpfFs, Need::Libbpf);
    let paths = objects(Path::new(&dir), false);
    assert!(!paths.is_empty(), "no objects under {dir}");
    let t = compare_with_libbpf(&paths);
    report(&format!("cilium/ebpf ({dir})"), &t);
    assert!(t.differences.is_empty());
}

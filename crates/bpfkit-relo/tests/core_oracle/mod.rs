//! The libbpf oracle for CO-RE, shared by the CO-RE tests: runs `oracle/libbpf_core.py`
//! (Debian's libbpf.so.1 at debug log level), reads what libbpf logged for every relocation,
//! relocates the same object with bpfkit and compares every relocation.
//!
//! For each relocation libbpf logs the local spec, each candidate that matched, and either
//! `patched insn #K (CLASS) imm|off|imm64 OLD -> NEW` (plus `mem_sz A -> B` when it resizes a
//! load or store), `substituting insn #K w/ invalid insn` (poisoning), or an error. All of it is
//! compared with our [`CoreOutcome`]; libbpf's final instructions (`bpf_program__insns`) are
//! compared byte for byte at every relocated instruction of each program's own code.

#![allow(dead_code)]

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::process::Command;

use bpfkit_btf::Btf;
use bpfkit_elf::Object;
use bpfkit_relo::core::{CoreMatch, CoreTarget, relocate_object};

/// The workspace's testdata directory.
pub fn testdata() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../testdata")
}

/// What libbpf logged about one relocation.
#[derive(Debug, Default, Clone)]
pub struct LibbpfRelo {
    pub local: Option<String>,
    pub matched: Vec<String>,
    /// (insn, class, old, new)
    pub patched: Option<(usize, String, u64, u64)>,
    pub mem_sz: Option<(u32, u32)>,
    pub poisoned: Vec<usize>,
    pub no_match: bool,
    pub failed: bool,
    pub messages: Vec<String>,
}

/// One libbpf run.
#[derive(Debug, Default)]
pub struct LibbpfRun {
    pub relos: BTreeMap<(String, usize), LibbpfRelo>,
    pub failed: bool,
    pub load: i32,
    pub insns: HashMap<String, Vec<u8>>,
    pub log: Vec<String>,
}

/// Runs libbpf on `object` against `target` (a raw BTF file; `None`: the running kernel's).
pub fn libbpf(object: &Path, target: Option<&Path>) -> LibbpfRun {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/oracle/libbpf_core.py");
    let mut cmd = Command::new("python3");
    cmd.arg(script).arg(object);
    if let Some(t) = target {
        cmd.arg(t);
    }
    let out = cmd.output().expect("run python3");
    let text = String::from_utf8_lossy(&out.stdout);
    let mut run = LibbpfRun::default();
    for line in text.lines() {
        if let Some(l) = line.strip_prefix("LOG ") {
            run.log.push(l.to_string());
            parse_log_line(l.strip_prefix("libbpf: ").unwrap_or(l), &mut run);
        } else if let Some(l) = line.strip_prefix("LOAD ") {
            run.load = l.trim().parse().unwrap_or(-1);
        } else if let Some(l) = line.strip_prefix("INSNS ") {
            let (name, hex) = l.split_once(' ').expect("INSNS name hex");
            run.insns.insert(name.to_string(), unhex(hex));
        }
    }
    assert!(
        out.status.success(),
        "libbpf_core.py failed on {}: {}",
        object.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    run
}

fn unhex(s: &str) -> Vec<u8> {
    (0..s.len() / 2)
        .map(|i| u8::from_str_radix(&s[2 * i..2 * i + 2], 16).expect("hex"))
        .collect()
}

fn parse_log_line(l: &str, run: &mut LibbpfRun) {
    if l.starts_with("failed to perform CO-RE relocations") {
        run.failed = true;
    }
    let Some(rest) = l.strip_prefix("prog '") else {
        return;
    };
    let Some((prog, rest)) = rest.split_once("': relo #") else {
        return;
    };
    let Some((num, rest)) = rest.split_once(": ") else {
        return;
    };
    let Ok(index) = num.parse::<usize>() else {
        return;
    };
    let r = run.relos.entry((prog.to_string(), index)).or_default();
    let num_after = |s: &str, key: &str| -> Option<u64> {
        let i = s.find(key)? + key.len();
        s[i..]
            .split(|c: char| !c.is_ascii_digit())
            .next()?
            .parse()
            .ok()
    };
    if rest.starts_with('<') {
        r.local = Some(rest.to_string());
    } else if let Some(m) = rest.strip_prefix("matching candidate #") {
        let spec = m.split_once(' ').map_or("", |(_, s)| s);
        r.matched.push(spec.to_string());
    } else if rest.starts_with("non-matching candidate") {
    } else if rest.starts_with("no matching targets found") {
        r.no_match = true;
    } else if let Some(p) = rest.strip_prefix("patched insn #") {
        let insn = num_after(p, "").expect("insn number") as usize;
        let class = p[p.find('(').unwrap() + 1..p.find(')').unwrap()].to_string();
        let tail = &p[p.find(')').unwrap() + 2..];
        let (what, values) = tail.split_once(' ').unwrap();
        let (a, b) = values.split_once(" -> ").unwrap();
        let (a, b): (u64, u64) = (a.trim().parse().unwrap(), b.trim().parse().unwrap());
        if what == "mem_sz" {
            r.mem_sz = Some((a as u32, b as u32));
        } else {
            r.patched = Some((insn, class, a, b));
        }
    } else if let Some(p) = rest.strip_prefix("substituting insn #") {
        r.poisoned.push(num_after(p, "").unwrap() as usize);
    } else {
        if rest.starts_with("failed to") {
            r.failed = true;
        }
        r.messages.push(rest.to_string());
    }
}

/// A target: a raw BTF file, or the running kernel's (vmlinux and its modules).
pub enum Target<'p> {
    File(&'p Path),
    Kernel,
}

/// What a comparison counted.
#[derive(Debug, Default, Clone, Copy)]
pub struct Counts {
    pub relocations: usize,
    pub patched: usize,
    pub poisoned: usize,
    pub failed: usize,
    /// Relocations after libbpf's first failure, which libbpf never reached.
    pub not_reached: usize,
    /// Relocated instructions compared byte for byte with libbpf's final program.
    pub insns_compared: usize,
    /// Objects libbpf gave up on before CO-RE (e.g. an extern this kernel lacks), so nothing
    /// could be compared.
    pub libbpf_unreached: usize,
}

impl std::ops::AddAssign for Counts {
    fn add_assign(&mut self, o: Counts) {
        self.relocations += o.relocations;
        self.patched += o.patched;
        self.poisoned += o.poisoned;
        self.failed += o.failed;
        self.not_reached += o.not_reached;
        self.insns_compared += o.insns_compared;
        self.libbpf_unreached += o.libbpf_unreached;
    }
}

/// libbpf prints specs into a 256-byte buffer.
fn trunc(s: &str) -> &str {
    if s.len() <= 255 {
        return s;
    }
    let mut end = 255;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

/// Relocates `object` against `target` with bpfkit and with libbpf and compares every
/// relocation. Returns the counts and the list of differences (empty when all agree).
pub fn compare(object: &Path, target: Target<'_>) -> (Counts, Vec<String>) {
    let data = std::fs::read(object).expect("read object");
    let obj = Object::parse(&data).expect("parse object");
    let theirs = match target {
        Target::File(p) => libbpf(object, Some(p)),
        Target::Kernel => libbpf(object, None),
    };

    // Our target.
    let target_bytes: Vec<u8>;
    let modules: Vec<(String, Vec<u8>)>;
    let (main_btf, module_btfs): (Btf<'_>, Vec<(String, &[u8])>);
    match target {
        Target::File(p) => {
            target_bytes = std::fs::read(p).expect("read target BTF");
            modules = Vec::new();
        }
        Target::Kernel => {
            target_bytes = bpfkit_btf::vmlinux::read_vmlinux().expect("read vmlinux");
            modules = bpfkit_btf::vmlinux::module_names()
                .unwrap_or_default()
                .into_iter()
                .filter_map(|n| Some((n.clone(), bpfkit_btf::vmlinux::read_module(&n).ok()?)))
                .collect();
        }
    }
    // An ELF object's .BTF (libbpf's btf__parse takes either).
    let elf_btf: Vec<u8>;
    let raw: &[u8] = if target_bytes.starts_with(b"\x7fELF") {
        let o = Object::parse(&target_bytes).expect("parse target object");
        elf_btf = o.btf().expect("target object has BTF").data().to_vec();
        &elf_btf
    } else {
        &target_bytes
    };
    main_btf = Btf::parse(raw).expect("parse target BTF");
    module_btfs = modules
        .iter()
        .map(|(n, d)| (n.clone(), d.as_slice()))
        .collect();
    let parsed: Vec<(String, Btf<'_>)> = module_btfs
        .iter()
        .filter_map(|(n, d)| Some((n.clone(), Btf::parse_split(d, &main_btf).ok()?)))
        .collect();
    let mut core_target = CoreTarget::new(&main_btf);
    for (name, btf) in &parsed {
        core_target.add_module(name, btf);
    }

    let ours = relocate_object(&obj, &core_target);
    let mut counts = Counts::default();
    let mut diffs = Vec::new();
    // libbpf applies CO-RE after resolving externs and creating maps; an object that fails
    // before (say, a __ksym this kernel does not have) never gets there.
    let reached = theirs.log.iter().any(|l| {
        l.contains("CO-RE relocations") || (l.contains("prog '") && l.contains("': relo #"))
    });
    if !reached && theirs.load != 0 && !ours.is_empty() {
        eprintln!(
            "{}: libbpf stopped before CO-RE: {}",
            object.display(),
            theirs.log.iter().rev().nth(1).map_or("", String::as_str)
        );
        counts.libbpf_unreached = 1;
        return (counts, diffs);
    }
    let mut libbpf_stopped = false;
    let what = format!(
        "{} against {}",
        object.file_name().unwrap().to_string_lossy(),
        match target {
            Target::File(p) => p.file_name().unwrap().to_string_lossy().into_owned(),
            Target::Kernel => "the running kernel".to_string(),
        }
    );
    let mut seen = std::collections::BTreeSet::new();
    for applied in &ours {
        let key = (applied.function.to_string(), applied.record.index);
        let here = format!(
            "{what}: prog '{}' relo #{} (insn {})",
            key.0, key.1, applied.insn
        );
        if libbpf_stopped {
            counts.not_reached += 1;
            continue;
        }
        let Some(t) = theirs.relos.get(&key) else {
            diffs.push(format!("{here}: libbpf logged nothing for it"));
            continue;
        };
        seen.insert(key.clone());
        counts.relocations += 1;
        match &applied.result {
            Err(e) => {
                counts.failed += 1;
                if !t.failed {
                    diffs.push(format!("{here}: we fail ({e}), libbpf does not: {t:?}"));
                }
                libbpf_stopped = true;
            }
            Ok(out) => {
                if t.failed {
                    diffs.push(format!(
                        "{here}: libbpf fails ({:?}), we do not: {out:?}",
                        t.messages
                    ));
                    libbpf_stopped = true;
                    continue;
                }
                let ours_local = out.local.to_string();
                if t.local.as_deref() != Some(trunc(&ours_local)) {
                    diffs.push(format!(
                        "{here}: local spec: ours {ours_local:?}, libbpf {:?}",
                        t.local
                    ));
                }
                match &out.target {
                    CoreMatch::Found { spec, matched, .. } => {
                        let s = spec.to_string();
                        if t.matched.first().map(String::as_str) != Some(trunc(&s)) {
                            diffs.push(format!(
                                "{here}: target spec: ours {s:?}, libbpf {:?}",
                                t.matched
                            ));
                        }
                        if *matched != t.matched.len() {
                            diffs.push(format!(
                                "{here}: {matched} candidates matched, libbpf {}",
                                t.matched.len()
                            ));
                        }
                    }
                    CoreMatch::NotFound { .. } => {
                        if !t.matched.is_empty() || !t.no_match {
                            diffs.push(format!(
                                "{here}: no match for us, libbpf matched {:?}",
                                t.matched
                            ));
                        }
                    }
                    CoreMatch::Local => {}
                }
                if out.poisoned {
                    counts.poisoned += 1;
                    let want: Vec<usize> = (0..out.insns.len())
                        .map(|i| applied.insn + i)
                        .rev()
                        .collect();
                    let mut got = t.poisoned.clone();
                    got.sort_unstable_by(|a, b| b.cmp(a));
                    if got != want || t.patched.is_some() {
                        diffs.push(format!(
                            "{here}: we poison {want:?}, libbpf poisons {:?}, patches {:?}",
                            t.poisoned, t.patched
                        ));
                    }
                } else {
                    counts.patched += 1;
                    let new = out.new.unwrap();
                    match &t.patched {
                        Some((insn, _, old, tnew))
                            if *insn == applied.insn && *old == out.old && *tnew == new => {}
                        other => diffs.push(format!(
                            "{here}: we patch {} -> {new}, libbpf {other:?} (poisons {:?})",
                            out.old, t.poisoned
                        )),
                    }
                    if out.mem_size != t.mem_sz {
                        diffs.push(format!(
                            "{here}: mem size: ours {:?}, libbpf {:?}",
                            out.mem_size, t.mem_sz
                        ));
                    }
                }
                // The instruction bytes libbpf ended with, where it still has them (a
                // program's own code comes first in its final instructions).
                if let Some(final_insns) = theirs.insns.get(applied.function) {
                    let ours_bytes = bpfkit_isa::encode(&out.insns);
                    let at = applied.insn * 8;
                    if let Some(theirs_bytes) = final_insns.get(at..at + ours_bytes.len()) {
                        counts.insns_compared += 1;
                        if theirs_bytes != ours_bytes.as_slice() {
                            diffs.push(format!(
                                "{here}: instruction bytes: ours {}, libbpf {}",
                                hex(&ours_bytes),
                                hex(theirs_bytes)
                            ));
                        }
                    }
                }
            }
        }
    }
    for key in theirs.relos.keys() {
        if !seen.contains(key) && !libbpf_stopped {
            diffs.push(format!(
                "{what}: libbpf relocated prog '{}' relo #{} which we did not",
                key.0, key.1
            ));
        }
    }
    if theirs.failed && !libbpf_stopped {
        diffs.push(format!(
            "{what}: libbpf failed, we did not: {:?}",
            theirs.log
        ));
    }
    (counts, diffs)
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

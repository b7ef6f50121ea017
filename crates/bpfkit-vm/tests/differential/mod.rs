//! The test-run differential, shared by the kernel test (root, live) and the fixture test (no
//! root): the same generated cases run in the kernel (`BPF_PROG_TEST_RUN` through libbpf,
//! `oracle/test_run.py`) and in the runtime, and the outcomes (errno, retval, data_out,
//! ctx_out, every map, ring buffer and perf records) must be identical.
//!
//! Fixtures (`testdata/fixtures/test_run/OBJECT.PROGRAM.txt`) keep the kernel's outcome of
//! every case as a digest, so that a machine without root checks the runtime against the
//! kernel's recorded results. `BLESS=1` rewrites them from the running kernel (as root).

#![allow(dead_code)]

pub mod cases;
pub mod kernel_sys;

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use bpfkit_uapi::{MapType, ProgType};
use bpfkit_vm::{TestObject, TestOutput, TestRun, TestRunError};

pub use cases::Case;

/// The programs compared: object file, and its test-runnable programs with their types.
pub const SUBJECTS: &[(&str, &[(&str, ProgType)])] = &[
    ("xdp_pass.v3.o", &[("xdp_pass", ProgType::XDP)]),
    (
        "socket_filter.v3.o",
        &[("socket_filter", ProgType::SOCKET_FILTER)],
    ),
    (
        "tc_classifier.v3.o",
        &[
            ("tc_mark", ProgType::SCHED_CLS),
            ("tc_drop_jumbo", ProgType::SCHED_CLS),
        ],
    ),
    (
        "subprogs.v3.g.o",
        &[
            ("xdp_subprogs", ProgType::XDP),
            ("tc_subprogs", ProgType::SCHED_CLS),
        ],
    ),
    ("global_data.v4.o", &[("xdp_globals", ProgType::XDP)]),
    ("xdp_parse.v3.g.o", &[("xdp_parse", ProgType::XDP)]),
    ("xdp_parse.v1.g.o", &[("xdp_parse", ProgType::XDP)]),
    (
        "maps.v3.g.o",
        &[("xdp_maps", ProgType::XDP), ("tail_target", ProgType::XDP)],
    ),
    ("rt_maps.v3.g.o", &[("rt_maps", ProgType::SCHED_CLS)]),
    ("rt_maps.v4.g.o", &[("rt_maps", ProgType::SCHED_CLS)]),
    ("rt_helpers.v3.g.o", RT_HELPERS),
    ("rt_helpers.v4.g.o", RT_HELPERS),
    (
        "rt_ctx.v3.g.o",
        &[
            ("rt_ctx_tc", ProgType::SCHED_CLS),
            ("rt_ctx_sock", ProgType::SOCKET_FILTER),
            ("rt_ctx_cg", ProgType::CGROUP_SKB),
            ("rt_ctx_xdp", ProgType::XDP),
            ("rt_ctx_raw", ProgType::RAW_TRACEPOINT),
            ("rt_ld_abs_sock", ProgType::SOCKET_FILTER),
            ("rt_ld_abs_tc", ProgType::SCHED_CLS),
        ],
    ),
    ("rt_core.v3.g.o", &[("rt_core", ProgType::SCHED_CLS)]),
    (
        "tracing.v3.g.o",
        &[
            ("raw_switch", ProgType::RAW_TRACEPOINT),
            ("raw_wakeup", ProgType::RAW_TRACEPOINT),
        ],
    ),
];

const RT_HELPERS: &[(&str, ProgType)] = &[
    ("rt_csum", ProgType::SCHED_CLS),
    ("rt_tail", ProgType::SCHED_CLS),
    ("rt_tail_a", ProgType::SCHED_CLS),
    ("rt_tail_b", ProgType::SCHED_CLS),
    ("rt_xdp", ProgType::XDP),
    ("rt_loop", ProgType::XDP),
    ("rt_events", ProgType::SCHED_CLS),
    ("rt_misc", ProgType::SCHED_CLS),
    ("rt_task", ProgType::RAW_TRACEPOINT),
    ("rt_syscall", ProgType::SYSCALL),
];

/// Cases per program.
pub fn case_count() -> usize {
    std::env::var("BPFKIT_TEST_RUN_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(200)
}

pub fn testdata() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../testdata")
}

pub fn fixture_path(object: &str, prog: &str) -> PathBuf {
    testdata()
        .join("fixtures/test_run")
        .join(format!("{}.{prog}.txt", object.trim_end_matches(".o")))
}

/// The seed of a program's cases: its name and object, so adding one changes no other.
pub fn seed(object: &str, prog: &str) -> u64 {
    fnv(format!("{object}:{prog}").as_bytes())
}

/// A map's elements, keys ascending, or `None` for a map that cannot be listed.
pub type MapDump = Option<Vec<(Vec<u8>, Vec<u8>)>>;

/// What one case did, in a form both sides produce alike.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Outcome {
    pub errno: i64,
    pub retval: u32,
    pub data_out: Vec<u8>,
    pub ctx_out: Option<Vec<u8>>,
    /// Per map (in the object's order): its elements, keys ascending, or `None` for maps
    /// that cannot be listed (ring buffers, perf event arrays, bloom filters).
    pub maps: Vec<MapDump>,
    /// (map index, record).
    pub ringbuf: Vec<(usize, Vec<u8>)>,
    /// (map index, cpu, record).
    pub perf: Vec<(usize, u32, Vec<u8>)>,
}

pub fn fnv(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in bytes {
        h ^= b as u64;
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

fn put_bytes(out: &mut Vec<u8>, b: &[u8]) {
    out.extend_from_slice(&(b.len() as u64).to_le_bytes());
    out.extend_from_slice(b);
}

impl Case {
    pub fn digest(&self) -> u64 {
        let mut b = Vec::new();
        put_bytes(&mut b, self.prog.as_bytes());
        put_bytes(&mut b, &self.data);
        match &self.ctx {
            Some(c) => put_bytes(&mut b, c),
            None => b.push(0xff),
        }
        for v in [
            self.data_size_out,
            self.ctx_size_out,
            self.repeat,
            self.flags,
            self.cpu,
        ] {
            b.extend_from_slice(&v.to_le_bytes());
        }
        fnv(&b)
    }

    pub fn to_json(&self) -> String {
        let ctx = match &self.ctx {
            Some(c) => format!("\"{}\"", hex(c)),
            None => "null".into(),
        };
        format!(
            "{{\"prog\":\"{}\",\"data\":\"{}\",\"ctx\":{ctx},\"data_size_out\":{},\"ctx_size_out\":{},\"repeat\":{},\"flags\":{},\"cpu\":{}}}",
            self.prog,
            hex(&self.data),
            self.data_size_out,
            self.ctx_size_out,
            self.repeat,
            self.flags,
            self.cpu
        )
    }
}

impl Outcome {
    pub fn digest(&self) -> u64 {
        let mut b = Vec::new();
        b.extend_from_slice(&self.errno.to_le_bytes());
        b.extend_from_slice(&self.retval.to_le_bytes());
        put_bytes(&mut b, &self.data_out);
        match &self.ctx_out {
            Some(c) => put_bytes(&mut b, c),
            None => b.push(0xff),
        }
        for m in &self.maps {
            match m {
                None => b.push(0xfe),
                Some(entries) => {
                    b.extend_from_slice(&(entries.len() as u64).to_le_bytes());
                    for (k, v) in entries {
                        put_bytes(&mut b, k);
                        put_bytes(&mut b, v);
                    }
                }
            }
        }
        for (i, r) in &self.ringbuf {
            b.extend_from_slice(&(*i as u64).to_le_bytes());
            put_bytes(&mut b, r);
        }
        for (i, cpu, r) in &self.perf {
            b.extend_from_slice(&(*i as u64).to_le_bytes());
            b.extend_from_slice(&cpu.to_le_bytes());
            put_bytes(&mut b, r);
        }
        fnv(&b)
    }

    /// What differs from `other`, briefly (maps named by `names`).
    pub fn diff(&self, other: &Outcome, names: &[String]) -> String {
        let mut d = Vec::new();
        if self.errno != other.errno {
            d.push(format!("errno {} vs {}", self.errno, other.errno));
        }
        if self.retval != other.retval {
            d.push(format!("retval {} vs {}", self.retval, other.retval));
        }
        if self.data_out != other.data_out {
            let at = self
                .data_out
                .iter()
                .zip(&other.data_out)
                .position(|(a, b)| a != b);
            d.push(format!(
                "data_out ({} vs {} bytes, first difference at {at:?})",
                self.data_out.len(),
                other.data_out.len()
            ));
        }
        if self.ctx_out != other.ctx_out {
            d.push(format!(
                "ctx_out {:?} vs {:?}",
                self.ctx_out.as_deref().map(hex),
                other.ctx_out.as_deref().map(hex)
            ));
        }
        for (i, (a, b)) in self.maps.iter().zip(&other.maps).enumerate() {
            if a != b {
                let show = |m: &MapDump| {
                    m.as_ref().map(|e| {
                        e.iter()
                            .filter(|(k, v)| {
                                b.as_ref()
                                    .is_none_or(|o| !o.contains(&(k.clone(), v.clone())))
                                    || a.as_ref()
                                        .is_none_or(|o| !o.contains(&(k.clone(), v.clone())))
                            })
                            .take(4)
                            .map(|(k, v)| format!("{}={}", hex(k), hex(v)))
                            .collect::<Vec<_>>()
                    })
                };
                let name = names.get(i).map_or("?", String::as_str);
                d.push(format!("map {name}: {:?} vs {:?}", show(a), show(b)));
            }
        }
        if self.ringbuf != other.ringbuf {
            d.push(format!("ringbuf {:?} vs {:?}", self.ringbuf, other.ringbuf));
        }
        if self.perf != other.perf {
            d.push(format!("perf {:?} vs {:?}", self.perf, other.perf));
        }
        d.join("; ")
    }
}

pub fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

pub fn unhex(s: &str) -> Vec<u8> {
    (0..s.len() / 2)
        .map(|i| u8::from_str_radix(&s[2 * i..2 * i + 2], 16).expect("hex"))
        .collect()
}

/// A tiny reader for the oracle's JSON lines (objects, arrays, strings, integers, null).
#[derive(Clone, Debug)]
pub enum Json {
    Null,
    Num(i64),
    Str(String),
    Arr(Vec<Json>),
    Obj(BTreeMap<String, Json>),
}

impl Json {
    pub fn parse(s: &str) -> Json {
        Json::value(&mut s.as_bytes())
    }
    fn skip(s: &mut &[u8]) {
        while let Some((&c, rest)) = s.split_first() {
            if c.is_ascii_whitespace() || c == b',' || c == b':' {
                *s = rest;
            } else {
                break;
            }
        }
    }
    fn value(s: &mut &[u8]) -> Json {
        Json::skip(s);
        match s[0] {
            b'n' => {
                *s = &s[4..];
                Json::Null
            }
            b'"' => {
                let end = s[1..].iter().position(|&c| c == b'"').unwrap() + 1;
                let text = String::from_utf8_lossy(&s[1..end]).into_owned();
                *s = &s[end + 1..];
                Json::Str(text)
            }
            b'[' => {
                *s = &s[1..];
                let mut items = Vec::new();
                loop {
                    Json::skip(s);
                    if s[0] == b']' {
                        *s = &s[1..];
                        return Json::Arr(items);
                    }
                    items.push(Json::value(s));
                }
            }
            b'{' => {
                *s = &s[1..];
                let mut map = BTreeMap::new();
                loop {
                    Json::skip(s);
                    if s[0] == b'}' {
                        *s = &s[1..];
                        return Json::Obj(map);
                    }
                    let Json::Str(k) = Json::value(s) else {
                        panic!("key")
                    };
                    let v = Json::value(s);
                    map.insert(k, v);
                }
            }
            _ => {
                let end = s
                    .iter()
                    .position(|&c| !(c == b'-' || c.is_ascii_digit()))
                    .unwrap_or(s.len());
                let n = std::str::from_utf8(&s[..end]).unwrap().parse().unwrap();
                *s = &s[end..];
                Json::Num(n)
            }
        }
    }
    pub fn get(&self, key: &str) -> &Json {
        match self {
            Json::Obj(m) => m.get(key).unwrap_or(&Json::Null),
            _ => &Json::Null,
        }
    }
    pub fn num(&self) -> i64 {
        match self {
            Json::Num(n) => *n,
            _ => 0,
        }
    }
    pub fn str(&self) -> &str {
        match self {
            Json::Str(s) => s,
            _ => "",
        }
    }
    pub fn arr(&self) -> &[Json] {
        match self {
            Json::Arr(a) => a,
            _ => &[],
        }
    }
}

/// The kernel's outcomes of `cases` (loading only `programs` of the object).
pub struct Kernel {
    pub cpus: u32,
    pub map_names: Vec<String>,
    pub outcomes: Vec<Outcome>,
}

/// Runs the cases through the oracle (root, libbpf, the running kernel).
pub fn kernel(object: &Path, programs: &[&str], cases: &[Case]) -> Result<Kernel, String> {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/oracle/test_run.py");
    let mut child = Command::new("python3")
        .arg(&script)
        .arg(object)
        .args(programs)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("python3: {e}"))?;
    let mut stdin = child.stdin.take().unwrap();
    let input: String = cases.iter().map(|c| c.to_json() + "\n").collect();
    let writer = std::thread::spawn(move || stdin.write_all(input.as_bytes()));
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let header = match lines.next() {
        Some(Ok(l)) => Json::parse(&l),
        _ => {
            let out = child.wait_with_output().unwrap();
            return Err(String::from_utf8_lossy(&out.stderr).trim().to_string());
        }
    };
    let cpus = header.get("cpus").num() as u32;
    let map_names = header
        .get("maps")
        .arr()
        .iter()
        .map(|m| m.get("name").str().to_string())
        .collect();
    let mut outcomes = Vec::new();
    for line in lines {
        let j = Json::parse(&line.map_err(|e| e.to_string())?);
        let entries = |m: &Json| -> MapDump {
            match m {
                Json::Null => None,
                _ => Some(
                    m.arr()
                        .iter()
                        .map(|kv| (unhex(kv.arr()[0].str()), unhex(kv.arr()[1].str())))
                        .collect(),
                ),
            }
        };
        outcomes.push(Outcome {
            errno: j.get("errno").num(),
            retval: j.get("retval").num() as u32,
            data_out: unhex(j.get("data_out").str()),
            ctx_out: match j.get("ctx_out") {
                Json::Str(s) => Some(unhex(s)),
                _ => None,
            },
            maps: j.get("maps").arr().iter().map(entries).collect(),
            ringbuf: j
                .get("ringbuf")
                .arr()
                .iter()
                .map(|r| (r.arr()[0].num() as usize, unhex(r.arr()[1].str())))
                .collect(),
            perf: j
                .get("perf")
                .arr()
                .iter()
                .map(|r| {
                    (
                        r.arr()[0].num() as usize,
                        r.arr()[1].num() as u32,
                        unhex(r.arr()[2].str()),
                    )
                })
                .collect(),
        });
    }
    let _ = writer.join();
    let out = child.wait_with_output().unwrap();
    if !out.status.success() {
        return Err(String::from_utf8_lossy(&out.stderr).trim().to_string());
    }
    if outcomes.len() != cases.len() {
        return Err(format!(
            "the oracle answered {} of {} cases",
            outcomes.len(),
            cases.len()
        ));
    }
    Ok(Kernel {
        cpus,
        map_names,
        outcomes,
    })
}

/// A map's elements as the oracle lists them.
fn dump(map: &mut bpfkit_vm::Map) -> MapDump {
    let t = map.def().map_type;
    if matches!(t, MapType::QUEUE | MapType::STACK) {
        let mut values = Vec::new();
        while let Ok(v) = map.pop() {
            values.push(v);
        }
        let order: Vec<&Vec<u8>> = if t == MapType::QUEUE {
            values.iter().collect()
        } else {
            values.iter().rev().collect()
        };
        for v in order {
            map.push(v, 0).unwrap();
        }
        return Some(values.into_iter().map(|v| (Vec::new(), v)).collect());
    }
    if matches!(
        t,
        MapType::RINGBUF | MapType::PERF_EVENT_ARRAY | MapType::BLOOM_FILTER
    ) || map.def().key_size == 0
    {
        return None;
    }
    let ids = matches!(
        t,
        MapType::PROG_ARRAY | MapType::ARRAY_OF_MAPS | MapType::HASH_OF_MAPS
    );
    Some(
        map.entries()
            .into_iter()
            .map(|(k, v)| (k, if ids { Vec::new() } else { v }))
            .collect(),
    )
}

/// The runtime's outcome of one case.
pub fn runtime_case(obj: &mut TestObject, case: &Case) -> Outcome {
    let run = TestRun {
        data: &case.data,
        ctx_in: case.ctx.as_deref(),
        data_size_out: (case.data_size_out > 0).then_some(case.data_size_out),
        ctx_size_out: (case.ctx_size_out > 0).then_some(case.ctx_size_out),
        repeat: case.repeat,
        flags: case.flags,
        cpu: case.cpu,
    };
    let result = obj.test_run(&case.prog, &run);
    let keep = |out: TestOutput, errno: i64| Outcome {
        errno,
        retval: out.retval,
        data_out: if case.data_size_out > 0 {
            out.data_out
        } else {
            Vec::new()
        },
        // Without a ctx_out buffer the kernel returns no context (a syscall program's comes
        // back in its ctx_in).
        ctx_out: if errno == 0
            && (case.ctx_size_out > 0
                || obj
                    .program(&case.prog)
                    .is_some_and(|p| p.prog_type == bpfkit_uapi::ProgType::SYSCALL))
        {
            out.ctx_out
        } else {
            None
        },
        ..Outcome::default()
    };
    let mut outcome = match result {
        Ok(out) => keep(out, 0),
        Err(TestRunError::NoSpace(out)) => {
            // When the kernel copies nothing (fragments that do not fit), the caller's
            // buffer keeps its zeros.
            let mut o = keep(*out, 28);
            if o.data_out.is_empty() {
                o.data_out.resize(case.data_size_out as usize, 0);
            }
            o
        }
        Err(e) => Outcome {
            errno: e.errno().unwrap_or(-1),
            retval: 0,
            data_out: if e.errno().is_none() {
                e.to_string().into_bytes()
            } else {
                Vec::new()
            },
            ..Outcome::default()
        },
    };
    let names: Vec<String> = obj.map_names().map(str::to_string).collect();
    for (i, name) in names.iter().enumerate() {
        let map = obj.map_mut(name).unwrap();
        outcome.maps.push(dump(map));
        for r in map.ringbuf_consume() {
            outcome.ringbuf.push((i, r));
        }
        for r in map.take_perf_records() {
            // A perf sample's raw data is padded with zeros so that its u32 size and the data
            // end on an 8-byte boundary.
            let mut data = r.data;
            let padded = (data.len() + 4).next_multiple_of(8) - 4;
            data.resize(padded, 0);
            outcome.perf.push((i, r.cpu, data));
        }
    }
    outcome
}

/// Why `prog` cannot be compared: it has CO-RE relocations and bpfkit-relo's CO-RE engine
/// has not landed yet (any other load error is a failure).
pub fn core_missing(obj: &TestObject, prog: &str) -> Option<String> {
    let error = obj.program(prog)?.error()?;
    error
        .contains("CO-RE relocation is not implemented")
        .then(|| error.to_string())
}

/// The runtime for `object` on a machine of `cpus` CPUs.
pub fn runtime(object: &Path, cpus: u32) -> TestObject {
    let bytes = std::fs::read(object).unwrap();
    TestObject::builder(&bytes).cpus(cpus).build().unwrap()
}

/// A fixture: the kernel's outcome digests, by case.
pub struct Fixture {
    pub cpus: u32,
    pub cases: Vec<(u64, u64, i64, u32)>,
}

pub fn read_fixture(path: &Path) -> Option<Fixture> {
    let text = std::fs::read_to_string(path).ok()?;
    let mut cpus = 0;
    let mut cases = Vec::new();
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("# cpus ") {
            cpus = rest.trim().parse().ok()?;
            continue;
        }
        if line.starts_with('#') || line.is_empty() {
            continue;
        }
        let f: Vec<&str> = line.split_whitespace().collect();
        cases.push((
            u64::from_str_radix(f[1], 16).ok()?,
            u64::from_str_radix(f[2], 16).ok()?,
            f[3].parse().ok()?,
            f[4].parse().ok()?,
        ));
    }
    Some(Fixture { cpus, cases })
}

pub fn write_fixture(
    path: &Path,
    object: &str,
    prog: &str,
    cpus: u32,
    cases: &[Case],
    outcomes: &[Outcome],
) {
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default();
    let mut text = format!(
        "# BPF_PROG_TEST_RUN outcomes of {prog} in {object}, recorded from Linux {} (BLESS=1)\n\
         # case input-digest outcome-digest errno retval\n# cpus {cpus}\n",
        kernel.trim()
    );
    for (i, (c, o)) in cases.iter().zip(outcomes).enumerate() {
        text += &format!(
            "{i} {:016x} {:016x} {} {}\n",
            c.digest(),
            o.digest(),
            o.errno,
            o.retval
        );
    }
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

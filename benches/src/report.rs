//! Turns criterion's results for the `interp` bench into a Markdown table of medians and ratios.
//!
//! Criterion writes one `estimates.json` per benchmark, under
//! `<target>/criterion/interp-<program>/<engine>/new/`; the median of its samples
//! (`median.point_estimate`, in nanoseconds per run) is what the table shows.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::path::Path;

use crate::{Engine, PROGRAMS};

/// Median nanoseconds per run, by program name and engine.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Medians(HashMap<(String, Engine), f64>);

impl Medians {
    /// Reads every `interp-<program>/<engine>` result of the corpus under `criterion_dir`;
    /// benchmarks never run are left out.
    pub fn read(criterion_dir: &Path) -> Result<Medians, String> {
        let mut medians = HashMap::new();
        for program in &PROGRAMS {
            for engine in Engine::ALL {
                let path = criterion_dir
                    .join(format!("interp-{}", program.name))
                    .join(engine.name())
                    .join("new/estimates.json");
                let text = match std::fs::read_to_string(&path) {
                    Ok(text) => text,
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                    Err(e) => return Err(format!("{}: {e}", path.display())),
                };
                let median = median_of(&text).map_err(|e| format!("{}: {e}", path.display()))?;
                medians.insert((program.name.to_string(), engine), median);
            }
        }
        Ok(Medians(medians))
    }

    /// Sets the median of `program` on `engine`, in nanoseconds per run.
    pub fn insert(&mut self, program: &str, engine: Engine, ns: f64) {
        self.0.insert((program.to_string(), engine), ns);
    }

    /// The median of `program` on `engine`, in nanoseconds per run.
    pub fn get(&self, program: &str, engine: Engine) -> Option<f64> {
        self.0.get(&(program.to_string(), engine)).copied()
    }

    /// Whether no result was found.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// Where criterion's results are: the report binary's first argument, else `criterion` under
/// `CARGO_TARGET_DIR` or the workspace's `target`.
pub fn criterion_dir() -> std::path::PathBuf {
    use std::path::PathBuf;
    match std::env::args_os().nth(1) {
        Some(dir) => PathBuf::from(dir),
        None => std::env::var_os("CARGO_TARGET_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target"))
            .join("criterion"),
    }
}

/// `median.point_estimate` of an `estimates.json`, in nanoseconds.
pub fn median_of(estimates_json: &str) -> Result<f64, String> {
    let value: serde_json::Value =
        serde_json::from_str(estimates_json).map_err(|e| e.to_string())?;
    value["median"]["point_estimate"]
        .as_f64()
        .ok_or_else(|| "no median.point_estimate".to_string())
}

/// The fastest sample of a `sample.json`: the least time per iteration (`times[i] / iters[i]`,
/// in nanoseconds) over criterion's samples. On a host whose other tenants slow whole stretches
/// of a run down, the median moves with them; the fastest sample is the stretch least
/// disturbed, the estimate that robust benchmarking takes (Chen and Revels, "Robust
/// benchmarking in noisy environments", 2016: noise only ever adds time).
pub fn fastest_of(sample_json: &str) -> Result<f64, String> {
    let value: serde_json::Value = serde_json::from_str(sample_json).map_err(|e| e.to_string())?;
    let numbers = |key: &str| -> Result<Vec<f64>, String> {
        value[key]
            .as_array()
            .ok_or_else(|| format!("no {key}"))?
            .iter()
            .map(|v| {
                v.as_f64()
                    .ok_or_else(|| format!("a {key} entry is not a number"))
            })
            .collect()
    };
    let (iters, times) = (numbers("iters")?, numbers("times")?);
    if iters.len() != times.len() {
        return Err("iters and times differ in length".to_string());
    }
    iters
        .iter()
        .zip(&times)
        .filter(|(n, _)| **n > 0.0)
        .map(|(n, t)| t / n)
        .min_by(f64::total_cmp)
        .ok_or_else(|| "no samples".to_string())
}

/// A time per run with three significant digits, in ns, µs or ms.
fn time(ns: f64) -> String {
    let (value, unit) = if ns >= 1e6 {
        (ns / 1e6, "ms")
    } else if ns >= 1e3 {
        (ns / 1e3, "µs")
    } else {
        (ns, "ns")
    };
    let decimals = if value >= 100.0 {
        0
    } else if value >= 10.0 {
        1
    } else {
        2
    };
    format!("{value:.decimals$} {unit}")
}

fn ratio(r: Option<f64>) -> String {
    r.map_or_else(|| "–".to_string(), |r| format!("{r:.2}×"))
}

fn geomean(values: &[f64]) -> Option<f64> {
    (!values.is_empty())
        .then(|| (values.iter().map(|v| v.ln()).sum::<f64>() / values.len() as f64).exp())
}

/// The two Markdown tables of the report: median time per run on each engine (with
/// instructions per run, from `counts`, and bpfkit's time per instruction), then the ratios:
/// bpfkit's speed-up over each peer (the peer's time ÷ bpfkit's: above 1, bpfkit is faster) and
/// each engine's slowdown against native (its time ÷ native's), with geometric means.
pub fn markdown(medians: &Medians, counts: &HashMap<String, u64>) -> String {
    let peers = [Engine::Rbpf, Engine::SolanaSbpf];
    let interpreters = [Engine::Bpfkit, Engine::Rbpf, Engine::SolanaSbpf];
    let mut out = String::new();
    out.push_str(
        "| program | insns/run | bpfkit | rbpf | solana-sbpf | native | bpfkit ns/insn |\n",
    );
    out.push_str("|---|--:|--:|--:|--:|--:|--:|\n");
    for program in &PROGRAMS {
        let name = program.name;
        let cell = |engine| {
            medians
                .get(name, engine)
                .map_or_else(|| "–".to_string(), time)
        };
        let count = counts.get(name).copied();
        let per_insn = match (medians.get(name, Engine::Bpfkit), count) {
            (Some(ns), Some(n)) if n > 0 => format!("{:.2}", ns / n as f64),
            _ => "–".to_string(),
        };
        let _ = writeln!(
            out,
            "| {name} | {} | {} | {} | {} | {} | {per_insn} |",
            count.map_or_else(|| "–".to_string(), |n| n.to_string()),
            cell(Engine::Bpfkit),
            cell(Engine::Rbpf),
            cell(Engine::SolanaSbpf),
            cell(Engine::Native),
        );
    }
    out.push('\n');
    out.push_str(
        "| program | bpfkit speed-up vs rbpf | vs solana-sbpf | bpfkit ÷ native \
         | rbpf ÷ native | solana-sbpf ÷ native |\n",
    );
    out.push_str("|---|--:|--:|--:|--:|--:|\n");
    let mut columns: [Vec<f64>; 5] = Default::default();
    for program in &PROGRAMS {
        let name = program.name;
        let over = |a: Engine, b: Engine| Some(medians.get(name, a)? / medians.get(name, b)?);
        let row = [
            over(peers[0], Engine::Bpfkit),
            over(peers[1], Engine::Bpfkit),
            over(interpreters[0], Engine::Native),
            over(interpreters[1], Engine::Native),
            over(interpreters[2], Engine::Native),
        ];
        for (column, r) in columns.iter_mut().zip(row) {
            column.extend(r);
        }
        let cells: Vec<String> = row.into_iter().map(ratio).collect();
        let _ = writeln!(out, "| {name} | {} |", cells.join(" | "));
    }
    let means: Vec<String> = columns.iter().map(|c| ratio(geomean(c))).collect();
    let _ = writeln!(out, "| **geometric mean** | {} |", means.join(" | "));
    out
}

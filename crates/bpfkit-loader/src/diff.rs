//! The kernel as the oracle: run a [`ProgramImage`] in the kernel (`BPF_PROG_TEST_RUN`) and in
//! our engines with the same input, and compare everything: the return value, the packet and
//! the context after the run, and the contents of every map (global data included).
//!
//! The engines' side is the [`Engine`] trait, which the interpreter, the JITs and the runtime
//! implement in their own tests (this crate does not depend on them). The kernel's side is
//! [`Kernel`], itself an [`Engine`].
//!
//! ```
//! use bpfkit_isa::{Insn, Opcode, Reg};
//! use bpfkit_loader::diff::{self, Engine, Input, RunOutput};
//! use bpfkit_relo::{MapSlot, ProgramImage};
//! use bpfkit_sys::ProgType;
//!
//! /// An "engine" that knows the answer: r0 = 7.
//! struct Seven;
//! impl Engine for Seven {
//!     fn name(&self) -> String { "seven".into() }
//!     fn run(&mut self, _: &ProgramImage, _: &Input) -> Result<RunOutput, String> {
//!         Ok(RunOutput { retval: 7, ..RunOutput::default() })
//!     }
//!     fn lookup(&mut self, _: MapSlot, _: &[u8]) -> Result<Option<Vec<u8>>, String> {
//!         Ok(None)
//!     }
//! }
//!
//! let image = diff::raw_image(
//!     ProgType::SOCKET_FILTER,
//!     vec![Insn::new(Opcode::Mov64Imm).with_dst(Reg::R0).with_imm(7), Insn::new(Opcode::Exit)],
//!     Vec::new(),
//! );
//! if bpfkit_sys::probe().is_ok() {
//!     let comparison = diff::compare(&image, &Input::packet(vec![0; 14]), &mut [&mut Seven]);
//!     assert!(comparison.agree(), "{comparison}");
//! }
//! ```

use std::fmt;
use std::sync::Arc;

use bpfkit_isa::Insn;
use bpfkit_relo::{MapOrigin, MapSlot, MapSpec, ObjectImage, ProgramImage};
use bpfkit_sys::{MapType, ProgType, TestRun, UpdateMode, is_per_cpu};

use crate::error::LoadError;
use crate::object::LoadedObject;
use crate::spec::LoadOptions;

/// The input of one run.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Input {
    /// The packet (`data_in`), at least an Ethernet header for XDP and socket programs.
    pub data: Vec<u8>,
    /// The context (`ctx_in`: `struct __sk_buff`, `struct xdp_md`, ...); empty for none.
    pub ctx: Vec<u8>,
    /// Whether to compare the context after the run.
    pub ctx_out: bool,
    /// Map elements to store before the run (on top of the image's initial global data).
    pub maps: Vec<MapUpdate>,
}

impl Input {
    /// A packet and nothing else.
    pub fn packet(data: Vec<u8>) -> Input {
        Input {
            data,
            ..Input::default()
        }
    }
}

/// A map element stored before a run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MapUpdate {
    /// The map.
    pub map: MapSlot,
    /// The key.
    pub key: Vec<u8>,
    /// The value.
    pub value: Vec<u8>,
}

/// What a run returned.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RunOutput {
    /// The return value (the low 32 bits of `r0`: all a test run reports).
    pub retval: u32,
    /// The packet after the run as `BPF_PROG_TEST_RUN` reports it (for socket filters and
    /// other non-L2 types, the kernel zeroes the Ethernet header it gives back); `None` from an
    /// engine that does not model it (then it is not compared).
    pub data_out: Option<Vec<u8>>,
    /// The context after the run, when asked for; `None` from an engine that does not model it.
    pub ctx_out: Option<Vec<u8>>,
}

/// One side of the comparison: runs an image and answers questions about its maps after the
/// run.
pub trait Engine {
    /// Its name in reports (`kernel`, `interp`, `jit`).
    fn name(&self) -> String;

    /// Runs `image` once on `input`, from fresh maps: the image's initial contents (global
    /// data), then `input.maps`.
    fn run(&mut self, image: &ProgramImage, input: &Input) -> Result<RunOutput, String>;

    /// The value under `key` in map `map` after the last run.
    fn lookup(&mut self, map: MapSlot, key: &[u8]) -> Result<Option<Vec<u8>>, String>;

    /// The keys of map `map` after the last run, if the engine can list them; otherwise the
    /// kernel's keys are looked up.
    fn keys(&mut self, _map: MapSlot) -> Result<Option<Vec<Vec<u8>>>, String> {
        Ok(None)
    }
}

/// The kernel as an [`Engine`]: each run loads the image (its maps created from the image's
/// object) and runs it with `BPF_PROG_TEST_RUN`.
#[derive(Debug, Default)]
pub struct Kernel {
    loaded: Option<LoadedObject>,
    /// Options of the loads (log level, ...).
    pub options: LoadOptions,
}

impl Kernel {
    /// A kernel engine with default load options.
    pub fn new() -> Kernel {
        Kernel::default()
    }

    /// The object of the last run, still loaded.
    pub fn loaded(&self) -> Option<&LoadedObject> {
        self.loaded.as_ref()
    }
}

impl Engine for Kernel {
    fn name(&self) -> String {
        "kernel".into()
    }

    fn run(&mut self, image: &ProgramImage, input: &Input) -> Result<RunOutput, String> {
        self.loaded = None;
        let loaded = LoadedObject::from_images(std::slice::from_ref(image), &self.options)
            .map_err(|e| e.to_string())?;
        for update in &input.maps {
            let map = loaded
                .map_at(update.map)
                .ok_or_else(|| format!("no map in slot {}", update.map))?;
            map.map
                .update(&update.key, &update.value, UpdateMode::Any)
                .map_err(|e| format!("map '{}': {e}", map.name))?;
        }
        let program = &loaded.programs()[0].program;
        let out = program
            .test_run(&TestRun {
                data_in: &input.data,
                // Room for a packet that grew (xdp_adjust_head/tail).
                data_out_len: if input.data.is_empty() {
                    0
                } else {
                    input.data.len() + 512
                },
                ctx_in: &input.ctx,
                ctx_out_len: if input.ctx_out { input.ctx.len() } else { 0 },
                ..TestRun::default()
            })
            .map_err(|e| e.to_string())?;
        self.loaded = Some(loaded);
        Ok(RunOutput {
            retval: out.retval,
            data_out: Some(out.data_out),
            ctx_out: input.ctx_out.then_some(out.ctx_out),
        })
    }

    fn lookup(&mut self, map: MapSlot, key: &[u8]) -> Result<Option<Vec<u8>>, String> {
        let loaded = self.loaded.as_ref().ok_or("nothing ran")?;
        let map = loaded.map_at(map).ok_or("no such map")?;
        map.map.get(key).map_err(|e| e.to_string())
    }

    fn keys(&mut self, map: MapSlot) -> Result<Option<Vec<Vec<u8>>>, String> {
        let loaded = self.loaded.as_ref().ok_or("nothing ran")?;
        let map = loaded.map_at(map).ok_or("no such map")?;
        map.map.keys().map(Some).map_err(|e| e.to_string())
    }
}

/// One map's contents after a run: its keys, in order, with their values.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MapDump {
    /// The map.
    pub map: MapSlot,
    /// Its name.
    pub name: String,
    /// Keys and values, sorted by key.
    pub entries: Vec<(Vec<u8>, Vec<u8>)>,
}

/// A run and the maps after it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Outcome {
    /// What the run returned.
    pub run: RunOutput,
    /// The compared maps.
    pub maps: Vec<MapDump>,
}

/// The maps whose contents are compared: arrays and hashes (global data included), not per-cpu
/// ones (whose values depend on the cpu the run landed on) nor maps of programs, maps,
/// events or sockets.
pub fn compared_maps(object: &ObjectImage) -> Vec<MapSlot> {
    object
        .maps
        .iter()
        .enumerate()
        .filter(|(_, m)| {
            matches!(
                m.def.map_type,
                MapType::ARRAY | MapType::HASH | MapType::LRU_HASH
            ) && !is_per_cpu(m.def.map_type)
        })
        .map(|(i, _)| MapSlot(i as u32))
        .collect()
}

/// Runs `engine` and reads the compared maps; `keys` gives the keys to look up in each map
/// when the engine cannot list them.
fn outcome(
    engine: &mut dyn Engine,
    image: &ProgramImage,
    input: &Input,
    keys: &dyn Fn(MapSlot) -> Vec<Vec<u8>>,
) -> Result<Outcome, String> {
    let run = engine.run(image, input)?;
    let mut maps = Vec::new();
    for slot in compared_maps(&image.object) {
        let spec = &image.object.maps[slot.0 as usize];
        let mut listed = match engine.keys(slot)? {
            Some(keys) => keys,
            None => keys(slot),
        };
        listed.sort();
        listed.dedup();
        let mut entries = Vec::with_capacity(listed.len());
        for key in listed {
            if let Some(value) = engine.lookup(slot, &key)? {
                entries.push((key, value));
            }
        }
        maps.push(MapDump {
            map: slot,
            name: spec.name.clone(),
            entries,
        });
    }
    Ok(Outcome { run, maps })
}

/// The kernel's outcome and each engine's.
#[derive(Debug)]
pub struct Comparison {
    /// The kernel's outcome (or why it could not run).
    pub kernel: Result<Outcome, String>,
    /// Each engine's, by name.
    pub engines: Vec<(String, Result<Outcome, String>)>,
}

/// One way an engine's outcome differs from the kernel's.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Difference {
    /// The engine.
    pub engine: String,
    /// What differs (`retval`, `data_out`, `map 'counts' key 00000000`).
    pub what: String,
    /// The kernel's.
    pub kernel: String,
    /// The engine's.
    pub ours: String,
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

impl Comparison {
    /// Every difference between an engine and the kernel; an engine failing where the kernel
    /// ran (or the reverse) is one.
    pub fn differences(&self) -> Vec<Difference> {
        let mut out = Vec::new();
        for (name, engine) in &self.engines {
            let diff = |what: String, kernel: String, ours: String| Difference {
                engine: name.clone(),
                what,
                kernel,
                ours,
            };
            let (k, e) = match (&self.kernel, engine) {
                (Ok(k), Ok(e)) => (k, e),
                (Err(a), Err(b)) => {
                    // Both refused: agreement at this level (the callers decide whether that is
                    // what they wanted).
                    let _ = (a, b);
                    continue;
                }
                (k, e) => {
                    let show = |r: &Result<Outcome, String>| match r {
                        Ok(o) => format!("ran, retval {:#x}", o.run.retval),
                        Err(why) => format!("failed: {why}"),
                    };
                    out.push(diff("outcome".into(), show(k), show(e)));
                    continue;
                }
            };
            if k.run.retval != e.run.retval {
                out.push(diff(
                    "retval".into(),
                    format!("{:#x}", k.run.retval),
                    format!("{:#x}", e.run.retval),
                ));
            }
            let outputs = [
                ("data_out", &k.run.data_out, &e.run.data_out),
                ("ctx_out", &k.run.ctx_out, &e.run.ctx_out),
            ];
            for (what, kernel, ours) in outputs {
                if let (Some(kernel), Some(ours)) = (kernel, ours)
                    && kernel != ours
                {
                    out.push(diff(what.into(), hex(kernel), hex(ours)));
                }
            }
            for (km, em) in k.maps.iter().zip(&e.maps) {
                let kkeys: Vec<&Vec<u8>> = km.entries.iter().map(|(k, _)| k).collect();
                let ekeys: Vec<&Vec<u8>> = em.entries.iter().map(|(k, _)| k).collect();
                if kkeys != ekeys {
                    out.push(diff(
                        format!("map '{}' keys", km.name),
                        kkeys.iter().map(|k| hex(k)).collect::<Vec<_>>().join(","),
                        ekeys.iter().map(|k| hex(k)).collect::<Vec<_>>().join(","),
                    ));
                    continue;
                }
                for ((key, kv), (_, ev)) in km.entries.iter().zip(&em.entries) {
                    if kv != ev {
                        out.push(diff(
                            format!("map '{}' key {}", km.name, hex(key)),
                            hex(kv),
                            hex(ev),
                        ));
                    }
                }
            }
        }
        out
    }

    /// Runs one more engine and adds its outcome: for engines that may only run what the
    /// kernel's verifier accepted (a JIT with trusted memory), called once
    /// [`Comparison::kernel`] is known to be `Ok`.
    pub fn add_engine(&mut self, image: &ProgramImage, input: &Input, engine: &mut dyn Engine) {
        let kernel = &self.kernel;
        let kernel_keys = |slot: MapSlot| -> Vec<Vec<u8>> {
            kernel
                .as_ref()
                .ok()
                .and_then(|o| o.maps.iter().find(|m| m.map == slot))
                .map(|m| m.entries.iter().map(|(k, _)| k.clone()).collect())
                .unwrap_or_default()
        };
        let outcome = outcome(engine, image, input, &kernel_keys);
        self.engines.push((engine.name(), outcome));
    }

    /// Whether every engine agrees with the kernel.
    pub fn agree(&self) -> bool {
        self.differences().is_empty()
    }
}

impl fmt::Display for Comparison {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kernel {
            Ok(k) => writeln!(f, "kernel: retval {:#x}", k.run.retval)?,
            Err(e) => writeln!(f, "kernel: {e}")?,
        }
        let differences = self.differences();
        if differences.is_empty() {
            return writeln!(f, "every engine agrees");
        }
        for d in differences {
            writeln!(
                f,
                "{}: {} differs: kernel {}, ours {}",
                d.engine, d.what, d.kernel, d.ours
            )?;
        }
        Ok(())
    }
}

/// Runs `image` on `input` in the kernel and in each engine, and compares.
pub fn compare(image: &ProgramImage, input: &Input, engines: &mut [&mut dyn Engine]) -> Comparison {
    let mut kernel = Kernel::new();
    let kernel_outcome = outcome(&mut kernel, image, input, &|_| Vec::new());
    // Engines that cannot list keys are asked for the kernel's.
    let kernel_keys = |slot: MapSlot| -> Vec<Vec<u8>> {
        kernel_outcome
            .as_ref()
            .ok()
            .and_then(|o| o.maps.iter().find(|m| m.map == slot))
            .map(|m| m.entries.iter().map(|(k, _)| k.clone()).collect())
            .unwrap_or_default()
    };
    let engines = engines
        .iter_mut()
        .map(|e| (e.name(), outcome(&mut **e, image, input, &kernel_keys)))
        .collect();
    Comparison {
        kernel: kernel_outcome,
        engines,
    }
}

/// The kernel's verdict on `image`: the verifier log (at `log_level`; level 0 still gets a log
/// when the program is rejected) if it loads, the error (with the log) if not.
pub fn verdict(image: &ProgramImage, log_level: u32) -> Result<String, LoadError> {
    let options = LoadOptions {
        log_level,
        ..LoadOptions::default()
    };
    let loaded = LoadedObject::from_images(std::slice::from_ref(image), &options)?;
    Ok(loaded.programs()[0].log.clone())
}

/// An image of bare instructions (an `lddw map_idx(N)` reaching map `N` of `maps`), for tests
/// that build programs rather than compile them.
pub fn raw_image(prog_type: ProgType, insns: Vec<Insn>, maps: Vec<MapSpec>) -> ProgramImage {
    let slots = insns.iter().map(Insn::slots).sum();
    ProgramImage {
        name: "bpfkit_diff".into(),
        section: String::new(),
        prog_type,
        expected_attach_type: None,
        attach_target: None,
        prog_flags: Default::default(),
        insns,
        functions: vec![bpfkit_relo::ImageFunction {
            name: "bpfkit_diff".into(),
            start: 0,
            slots,
            global: false,
        }],
        func_info: Vec::new(),
        line_info: Vec::new(),
        refs: Vec::new(),
        core: Vec::new(),
        object: Arc::new(ObjectImage {
            maps,
            license: "GPL".into(),
            ..ObjectImage::default()
        }),
    }
}

/// A map for [`raw_image`]: `def`, named `name`, with `data` as the initial value of key 0 (an
/// array's, like global data).
pub fn raw_map(name: &str, def: bpfkit_sys::MapDef, data: Vec<u8>) -> MapSpec {
    MapSpec {
        name: name.into(),
        origin: MapOrigin::Map(bpfkit_elf::MapIndex(0)),
        def,
        types: Default::default(),
        pinning: bpfkit_elf::Pinning::None,
        inner: None,
        data,
        frozen: false,
        slots: Vec::new(),
    }
}

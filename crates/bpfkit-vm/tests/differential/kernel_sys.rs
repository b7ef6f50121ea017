//! A minimal kernel side for objects libbpf 1.x refuses (legacy `maps` sections), through
//! bpfkit-sys' existing API: maps created from the image's `MapSpec`s, the image's map
//! indices rewritten into file descriptors, the program loaded, test-run, and its maps read
//! at the keys the runtime holds (bpfkit-sys has no `BPF_MAP_GET_NEXT_KEY` yet). To be
//! replaced by bpfkit-sys' object loader when it lands on main.

use bpfkit_isa::{Insn, Kind, Pseudo};
use bpfkit_relo::ProgramImage;
use bpfkit_sys::{Map, MapCreate, MapType, Program, ProgramLoad, TestRun, UpdateMode};

/// An image loaded into the kernel with its own maps.
pub struct Loaded {
    pub program: Program,
    pub maps: Vec<Option<Map>>,
}

/// A map name the kernel accepts: at most 15 letters, digits, `_` or `.`.
fn kernel_name(name: &str) -> String {
    name.chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '.')
        .take(15)
        .collect()
}

/// Loads `image`: Err says why the kernel side cannot (a map it cannot create, the
/// verifier's refusal).
pub fn load(image: &ProgramImage, cpus: u32) -> Result<Loaded, String> {
    let mut maps = Vec::new();
    for spec in &image.object.maps {
        let mut def = spec.def;
        if matches!(def.map_type, MapType::ARRAY_OF_MAPS | MapType::HASH_OF_MAPS) {
            return Err(format!(
                "map '{}': maps of maps need inner_map_fd",
                spec.name
            ));
        }
        if def.map_type == MapType::PERF_EVENT_ARRAY && def.max_entries == 0 {
            def.max_entries = cpus;
        }
        let name = kernel_name(&spec.name);
        let map = Map::create(MapCreate::new(def).with_name(&name))
            .map_err(|e| format!("map '{}': {e}", spec.name))?;
        if !spec.data.is_empty() {
            map.update(&0u32.to_le_bytes(), &spec.data, UpdateMode::Any)
                .map_err(|e| format!("map '{}': {e}", spec.name))?;
        }
        maps.push(Some(map));
    }
    let fd = |slot: u32| -> Result<i32, String> {
        use std::os::fd::AsRawFd;
        maps.get(slot as usize)
            .and_then(Option::as_ref)
            .map(|m| m.as_raw_fd())
            .ok_or_else(|| format!("no map {slot}"))
    };
    let mut insns: Vec<Insn> = image.insns.clone();
    for insn in &mut insns {
        if let Kind::LoadImm64 { pseudo } = insn.kind() {
            match pseudo {
                Pseudo::MapIdx => {
                    insn.opcode = bpfkit_isa::Opcode::LdMapFd;
                    insn.imm = fd(insn.imm as u32)?;
                }
                Pseudo::MapIdxValue => {
                    insn.opcode = bpfkit_isa::Opcode::LdMapValue;
                    insn.imm = fd(insn.imm as u32)?;
                }
                _ => {}
            }
        }
    }
    let mut load = ProgramLoad::new(image.prog_type, &insns).license(&image.object.license);
    if let Some(t) = image.expected_attach_type {
        load = load.expected_attach_type(t);
    }
    let program = load.load().map_err(|e| {
        let text = e.to_string();
        // The verifier's message is the last line before its statistics.
        let last = text
            .lines()
            .rev()
            .find(|l| {
                let l = l.trim();
                !l.is_empty()
                    && !l.starts_with("processed ")
                    && !l.starts_with("verification time")
                    && !l.starts_with("stack depth")
            })
            .unwrap_or("");
        format!(
            "the kernel refuses it: {}",
            last.chars().take(160).collect::<String>()
        )
    })?;
    Ok(Loaded { program, maps })
}

/// The kernel's test run: (errno, retval, data_out, ctx_out).
pub fn test_run(
    loaded: &Loaded,
    data: &[u8],
    ctx: Option<&[u8]>,
    ctx_size_out: usize,
    repeat: u32,
) -> (i64, u32, Vec<u8>, Option<Vec<u8>>) {
    let run = TestRun {
        data_in: data,
        data_out_len: 1 << 16,
        ctx_in: ctx.unwrap_or(&[]),
        ctx_out_len: ctx_size_out,
        repeat,
        ..TestRun::default()
    };
    match loaded.program.test_run(&run) {
        Ok(out) => (
            0,
            out.retval,
            out.data_out,
            (ctx_size_out > 0).then_some(out.ctx_out),
        ),
        Err(bpfkit_sys::Error::Syscall { errno, .. }) => (errno.0 as i64, 0, Vec::new(), None),
        Err(e) => panic!("test run: {e}"),
    }
}

/// The kernel's mean run time in nanoseconds over `repeat` runs of `data` (`None`: the test
/// run failed).
pub fn duration(loaded: &Loaded, data: &[u8], repeat: u32) -> Option<u32> {
    let run = TestRun {
        data_in: data,
        data_out_len: data.len() + 512,
        repeat,
        ..TestRun::default()
    };
    loaded.program.test_run(&run).ok().map(|o| o.duration_ns)
}

/// The kernel's value of `key` in map `slot` (`None`: absent, or a map it cannot read).
pub fn lookup(loaded: &Loaded, slot: usize, key: &[u8]) -> Option<Vec<u8>> {
    loaded.maps.get(slot)?.as_ref()?.get(key).ok()?
}

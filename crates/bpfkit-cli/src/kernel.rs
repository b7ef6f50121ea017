//! The running kernel as a verifier and an engine, for raw programs that take `r1` = a pointer
//! to their input and `r2` = its length (as `bpfkit run` passes them).
//!
//! The kernel passes a socket filter its `__sk_buff`, not raw memory, so the program runs as a
//! subprogram of a wrapper, as in bpfkit-sys's differential test: the input is the value of a
//! one-entry array map of exactly `LEN`-byte values, the result goes to another map,
//!
//! ```text
//! main:  r1 = map_value(input, 0) ll ; r1 = 0 when the input is empty
//!        r2 = LEN
//!        call body
//!        r1 = map_value(result, 0) ll
//!        *(u64 *)(r1 + 0) = r0       ; all 64 bits of r0
//!        r0 = 0; exit
//! body:  the program
//! ```
//!
//! The verifier proves the body's accesses inside those `LEN` bytes, its frame, or memory
//! helpers returned: what trusted mode needs.

use std::os::fd::AsRawFd;

use bpfkit_isa::{Insn, Opcode, Reg};
use bpfkit_sys::{Map, MapDef, MapType, ProgType, ProgramLoad, TestRun, UpdateMode};

use crate::CliError;

/// A program loaded in the kernel inside its wrapper, with its input map.
pub struct KernelProgram {
    prog: bpfkit_sys::Program,
    /// The input, when there is one.
    input: Option<Map>,
    result: Map,
}

fn wrapper(input: Option<&Map>, result: &Map, body: &[Insn], len: usize) -> Vec<Insn> {
    let mut insns = vec![
        match input {
            Some(map) => Insn::new(Opcode::LdMapValue)
                .with_dst(Reg::R1)
                .with_imm(map.as_raw_fd()),
            None => Insn::new(Opcode::LdImm64).with_dst(Reg::R1),
        },
        Insn::new(Opcode::Mov64Imm)
            .with_dst(Reg::R2)
            .with_imm(len as i32),
        Insn::new(Opcode::CallLocal),
        Insn::new(Opcode::LdMapValue)
            .with_dst(Reg::R1)
            .with_imm(result.as_raw_fd()),
        Insn::new(Opcode::StxDW).with_dst(Reg::R1).with_src(Reg::R0),
        Insn::new(Opcode::Mov64Imm).with_dst(Reg::R0),
        Insn::new(Opcode::Exit),
    ];
    // The call (slot 3, after a two-slot lddw) jumps to the body after `exit`.
    let slots: usize = insns.iter().map(Insn::slots).sum();
    insns[2].imm = (slots - 4) as i32;
    insns.extend_from_slice(body);
    insns
}

impl KernelProgram {
    /// Loads `body` for inputs of `len` bytes. Exit 2 when bpf(2) cannot be used here, exit 1
    /// (with the verifier's log) when the verifier rejects it.
    pub fn load(body: &[Insn], len: usize) -> Result<KernelProgram, CliError> {
        bpfkit_sys::probe().map_err(|e| {
            CliError::input(format!("the kernel cannot be used as a verifier here: {e}"))
        })?;
        let map = |size: usize| {
            let size = u32::try_from(size)
                .ok()
                .filter(|&s| s <= i32::MAX as u32)
                .ok_or_else(|| CliError::input(format!("an input of {size} bytes")))?;
            Map::create(MapDef::new(MapType::ARRAY, 4, size, 1))
                .map_err(|e| CliError::input(format!("creating a map: {e}")))
        };
        // The input map's values are exactly the input: the verifier bounds accesses by them.
        let input = if len == 0 { None } else { Some(map(len)?) };
        let result = map(8)?;
        let insns = wrapper(input.as_ref(), &result, body, len);
        let prog = ProgramLoad::new(ProgType::SOCKET_FILTER, &insns)
            .name("bpfkit_run")
            .load()
            .map_err(|e| match e {
                bpfkit_sys::Error::Verifier { log, .. } => CliError::judged(
                    "the kernel's verifier rejects the program (as the body of a wrapper \
                     passing the input in r1 and r2)",
                )
                .with_details(log),
                e => CliError::input(format!("loading into the kernel: {e}")),
            })?;
        Ok(KernelProgram {
            prog,
            input,
            result,
        })
    }

    /// Runs the program `repeat` times on `input` (which every run may change, as on the other
    /// engines): `r0` of the last run, and the kernel's average time per run in ns.
    pub fn run(&self, input: &[u8], repeat: u32) -> Result<(u64, u32), CliError> {
        let err = |what: &str, e: bpfkit_sys::Error| CliError::judged(format!("{what}: {e}"));
        let key = 0u32.to_ne_bytes();
        if let Some(map) = &self.input {
            map.update(&key, input, UpdateMode::Any)
                .map_err(|e| err("storing the input", e))?;
        }
        // A socket filter's test run needs a packet: an Ethernet header, unused.
        let packet = [0u8; 14];
        let out = self
            .prog
            .test_run(&TestRun {
                data_in: &packet,
                repeat,
                ..TestRun::default()
            })
            .map_err(|e| err("test run", e))?;
        let value = self
            .result
            .get(&key)
            .map_err(|e| err("reading the result", e))?
            .unwrap_or_default();
        let r0 = value.try_into().map_or(0, u64::from_le_bytes);
        Ok((r0, out.duration_ns))
    }
}

/// Fails unless the kernel's verifier accepts `body` for inputs of `len` bytes.
pub fn accept(body: &[Insn], len: usize) -> Result<(), CliError> {
    KernelProgram::load(body, len).map(|_| ())
}

//! Raw-memory programs in the kernel: programs written for `r1` = a pointer to their input and
//! `r2` = its length (as bpfkit's VM, `bpfkit run` and the conformance suite pass them), loaded
//! and run by the kernel.
//!
//! The kernel passes a socket filter its `__sk_buff`, not raw memory, so the program runs as a
//! subprogram of a wrapper (as in this crate's differential test): the input is the value of a
//! one-entry array map whose values are exactly the input's size, and the result goes to
//! another map, all 64 bits of it:
//!
//! ```text
//! main:  r1 = map_value(input, 0) ll ; r1 = 0 when the input is empty
//!        r2 = LEN
//!        call body
//!        r1 = map_value(result, 0) ll
//!        *(u64 *)(r1 + 0) = r0
//!        r0 = 0; exit
//! body:  the program
//! ```
//!
//! So the verifier judges the program for exactly that input size: every access it accepts
//! stays inside those `LEN` bytes, the body's frames, or memory helpers returned.

use std::os::fd::AsRawFd;

use bpfkit_isa::{Insn, Opcode, Reg};
use bpfkit_uapi::{MapDef, MapType, ProgType};

use crate::error::{Error, Result};
use crate::load::ProgramLoad;
use crate::map::{Map, UpdateMode};
use crate::prog::{Program, TestRun};

/// A raw-memory program loaded in the kernel inside its wrapper, for inputs of one size.
#[derive(Debug)]
pub struct RawProgram {
    prog: Program,
    /// The input, when there is one.
    input: Option<Map>,
    result: Map,
}

fn wrapper(input: Option<&Map>, result: &Map, body: &[Insn], len: i32) -> Vec<Insn> {
    let mut insns = vec![
        match input {
            Some(map) => Insn::new(Opcode::LdMapValue)
                .with_dst(Reg::R1)
                .with_imm(map.as_raw_fd()),
            None => Insn::new(Opcode::LdImm64).with_dst(Reg::R1),
        },
        Insn::new(Opcode::Mov64Imm).with_dst(Reg::R2).with_imm(len),
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

impl RawProgram {
    /// Loads `body` for inputs of `len` bytes. A rejection is [`Error::Verifier`], whose log
    /// counts instructions from the wrapper's start (the body starts at slot 9).
    pub fn load(body: &[Insn], len: usize) -> Result<RawProgram> {
        let too_big = || Error::InvalidArgument(format!("an input of {len} bytes"));
        let len = i32::try_from(len).map_err(|_| too_big())?;
        let map = |size: u32| Map::create(MapDef::new(MapType::ARRAY, 4, size, 1));
        let input = if len == 0 {
            None
        } else {
            Some(map(len as u32)?)
        };
        let result = map(8)?;
        let insns = wrapper(input.as_ref(), &result, body, len);
        let prog = ProgramLoad::new(ProgType::SOCKET_FILTER, &insns)
            .name("bpfkit_raw")
            .load()?;
        Ok(RawProgram {
            prog,
            input,
            result,
        })
    }

    /// Runs the program `repeat` times (at least once) on `input`, which every run may change,
    /// as on bpfkit's engines: `r0` of the last run and the kernel's average time per run in
    /// ns (of the wrapper and the program).
    pub fn run(&self, input: &[u8], repeat: u32) -> Result<(u64, u32)> {
        let key = 0u32.to_ne_bytes();
        if let Some(map) = &self.input {
            map.update(&key, input, UpdateMode::Any)?;
        }
        // A socket filter's test run needs a packet: an Ethernet header, unused.
        let out = self.prog.test_run(&TestRun {
            data_in: &[0; 14],
            repeat,
            ..TestRun::default()
        })?;
        let value = self.result.get(&key)?.unwrap_or_default();
        let r0 = value.try_into().map_or(0, u64::from_le_bytes);
        Ok((r0, out.duration_ns))
    }

    /// The input as the last run left it (empty when there is none).
    pub fn input(&self) -> Result<Vec<u8>> {
        match &self.input {
            Some(map) => Ok(map.get(&0u32.to_ne_bytes())?.unwrap_or_default()),
            None => Ok(Vec::new()),
        }
    }
}

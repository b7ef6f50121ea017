//! The programs of the interpreter benchmark, and which engines run each of them.

use bpfkit_isa::{Dialect, Insn};

use crate::{engines, inputs, native};

/// An engine that runs the corpus: one of the three interpreters, or native Rust.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Engine {
    /// bpfkit's interpreter (`bpfkit_vm::Vm`), every load and store checked.
    Bpfkit,
    /// rbpf 0.4.1's interpreter (`EbpfVmRaw`), with its own memory checks.
    Rbpf,
    /// solana-sbpf 0.26's interpreter at SBPF v4, with address translation (its memory checks).
    SolanaSbpf,
    /// The native Rust implementation of the same algorithm: the floor.
    Native,
}

impl Engine {
    /// Every engine, in the order the benches and the report list them.
    pub const ALL: [Engine; 4] = [
        Engine::Bpfkit,
        Engine::Rbpf,
        Engine::SolanaSbpf,
        Engine::Native,
    ];

    /// The engine's name: the criterion function name and the report's column.
    pub const fn name(self) -> &'static str {
        match self {
            Engine::Bpfkit => "bpfkit",
            Engine::Rbpf => "rbpf",
            Engine::SolanaSbpf => "solana-sbpf",
            Engine::Native => "native",
        }
    }

    /// Runs `program` once on this engine, from scratch (load, then run), on `input`, which is
    /// left as the program left it. Returns `r0`, or the engine's error as text.
    pub fn run_once(self, program: &Program, input: &mut Vec<u8>) -> Result<u64, String> {
        match self {
            Engine::Bpfkit => engines::bpfkit_vm(program)?
                .run(input)
                .map_err(|e| e.to_string()),
            Engine::Rbpf => {
                let code = engines::rbpf_code(program, input.len())?;
                engines::Rbpf::new(&code)?.run(input)
            }
            Engine::SolanaSbpf => {
                let sbpf = engines::Sbpf::new(program, false)?;
                let mut context = sbpf.context(std::mem::take(input));
                let result = sbpf.vm(&mut context).run();
                *input = context.into_input();
                result
            }
            Engine::Native => Ok((program.native)(input)),
        }
    }
}

impl std::fmt::Display for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// One benchmark program: its eBPF source, its input, its native reference and the engines that
/// run it.
#[derive(Debug)]
pub struct Program {
    /// Short name: the file `benches/programs/<name>.s` and the criterion group `interp-<name>`.
    pub name: &'static str,
    /// What the program does and what it exercises, in one line.
    pub summary: &'static str,
    /// The program in the LLVM dialect.
    pub source: &'static str,
    /// The benchmark input (`r1`/`r2`).
    pub input: fn() -> Vec<u8>,
    /// Smaller inputs for the correctness tests: edge cases the benchmark input does not reach.
    pub edge_inputs: fn() -> Vec<Vec<u8>>,
    /// The native Rust implementation: same algorithm, same input buffer, same result.
    pub native: fn(&mut [u8]) -> u64,
    /// The engines that run this program, native included.
    pub engines: &'static [Engine],
}

impl Program {
    /// The program's instructions.
    ///
    /// # Panics
    /// If the source does not assemble (the corpus's own tests catch that).
    pub fn insns(&self) -> Vec<Insn> {
        bpfkit_asm::assemble(self.source, Dialect::Llvm)
            .unwrap_or_else(|e| panic!("{}.s: {e}", self.name))
    }

    /// Whether `engine` runs this program.
    pub fn runs_on(&self, engine: Engine) -> bool {
        self.engines.contains(&engine)
    }

    /// The program named `name`, in [`PROGRAMS`] or [`BOUNDED`].
    pub fn by_name(name: &str) -> Option<&'static Program> {
        PROGRAMS.iter().chain(&BOUNDED).find(|p| p.name == name)
    }
}

/// All four engines. Every program is written in the subset of eBPF on which the three
/// interpreters agree (see `benches/README.md`), so every program runs everywhere.
const EVERYWHERE: &[Engine] = &Engine::ALL;

/// The corpus, in the order of the report.
pub static PROGRAMS: [Program; 8] = [
    Program {
        name: "sieve",
        summary: "prime sieve over a 4 KiB buffer: u64 fill, strided byte stores, byte loads",
        source: include_str!("../programs/sieve.s"),
        input: inputs::sieve,
        edge_inputs: inputs::sieve_edges,
        native: native::sieve,
        engines: EVERYWHERE,
    },
    Program {
        name: "log2",
        summary: "floor(log2) by binary search over 256 u64s: shifts, unpredictable branches",
        source: include_str!("../programs/log2.s"),
        input: inputs::log2,
        edge_inputs: inputs::log2_edges,
        native: native::log2,
        engines: EVERYWHERE,
    },
    Program {
        name: "memcpy",
        summary: "memcpy of 1 KiB, four u64 moves per iteration",
        source: include_str!("../programs/memcpy.s"),
        input: inputs::memcpy,
        edge_inputs: inputs::memcpy_edges,
        native: native::memcpy,
        engines: EVERYWHERE,
    },
    Program {
        name: "strcmp",
        summary: "strcmp of two equal 1 KiB strings, byte by byte",
        source: include_str!("../programs/strcmp.s"),
        input: inputs::strcmp,
        edge_inputs: inputs::strcmp_edges,
        native: native::strcmp,
        engines: EVERYWHERE,
    },
    Program {
        name: "switch",
        summary: "16-way switch as a binary search of JMP32 compares over 1024 opcodes",
        source: include_str!("../programs/switch.s"),
        input: inputs::switch,
        edge_inputs: inputs::switch_edges,
        native: native::switch,
        engines: EVERYWHERE,
    },
    Program {
        name: "checksum",
        summary: "Internet checksum (RFC 1071) of 1 KiB, a byte at a time",
        source: include_str!("../programs/checksum.s"),
        input: inputs::checksum,
        edge_inputs: inputs::checksum_edges,
        native: native::checksum,
        engines: EVERYWHERE,
    },
    Program {
        name: "packet",
        summary: "Ethernet/VLAN/IPv4/TCP/UDP parse with bounds checks over 32 frames",
        source: include_str!("../programs/packet.s"),
        input: inputs::packet,
        edge_inputs: inputs::packet_edges,
        native: native::packet,
        engines: EVERYWHERE,
    },
    Program {
        name: "calls",
        summary: "hash of 128 u64s through bpf-to-bpf calls: 4 calls per word, 3 deep",
        source: include_str!("../programs/calls.s"),
        input: inputs::calls,
        edge_inputs: inputs::calls_edges,
        native: native::calls,
        engines: EVERYWHERE,
    },
];

/// The corpus rewritten so that the kernel's verifier accepts it for its bench input
/// (`benches/programs/bounded/*.s`), for the JIT bench's kernel column: the same algorithms,
/// inputs and native references, but each load and store goes through an index compared with
/// the length (a scalar the verifier bounds) instead of a cursor compared with an end pointer
/// (two pointers, which it cannot), and `checksum`'s carry fold has a bound; `packet` forms
/// each header's address from the batch's address and an offset only after checking the
/// offset.
pub static BOUNDED: [Program; 8] = [
    Program {
        name: "sieve-bounded",
        summary: "sieve, through indexes the kernel's verifier bounds",
        source: include_str!("../programs/bounded/sieve.s"),
        input: inputs::sieve,
        edge_inputs: inputs::sieve_edges,
        native: native::sieve,
        engines: EVERYWHERE,
    },
    Program {
        name: "log2-bounded",
        summary: "log2, through an index the kernel's verifier bounds",
        source: include_str!("../programs/bounded/log2.s"),
        input: inputs::log2,
        edge_inputs: inputs::log2_edges,
        native: native::log2,
        engines: EVERYWHERE,
    },
    Program {
        name: "memcpy-bounded",
        summary: "memcpy, through an index the kernel's verifier bounds",
        source: include_str!("../programs/bounded/memcpy.s"),
        input: inputs::memcpy,
        edge_inputs: inputs::memcpy_edges,
        native: native::memcpy,
        engines: EVERYWHERE,
    },
    Program {
        name: "strcmp-bounded",
        summary: "strcmp, through an index the kernel's verifier bounds",
        source: include_str!("../programs/bounded/strcmp.s"),
        input: inputs::strcmp,
        edge_inputs: inputs::strcmp_edges,
        native: native::strcmp,
        engines: EVERYWHERE,
    },
    Program {
        name: "switch-bounded",
        summary: "switch, through an index the kernel's verifier bounds",
        source: include_str!("../programs/bounded/switch.s"),
        input: inputs::switch,
        edge_inputs: inputs::switch_edges,
        native: native::switch,
        engines: EVERYWHERE,
    },
    Program {
        name: "checksum-bounded",
        summary: "checksum, through an index the kernel's verifier bounds, a bounded carry fold",
        source: include_str!("../programs/bounded/checksum.s"),
        input: inputs::checksum,
        edge_inputs: inputs::checksum_edges,
        native: native::checksum,
        engines: EVERYWHERE,
    },
    Program {
        name: "packet-bounded",
        summary: "packet, through offsets the kernel's verifier bounds",
        source: include_str!("../programs/bounded/packet.s"),
        input: inputs::packet,
        edge_inputs: inputs::packet_edges,
        native: native::packet,
        engines: EVERYWHERE,
    },
    Program {
        name: "calls-bounded",
        summary: "calls, through an index the kernel's verifier bounds",
        source: include_str!("../programs/bounded/calls.s"),
        input: inputs::calls,
        edge_inputs: inputs::calls_edges,
        native: native::calls,
        engines: EVERYWHERE,
    },
];

//! One module per subcommand.

use std::process::ExitCode;

use clap::Subcommand;

use crate::CliError;

mod asm;
mod attach;
mod bench;
mod btf;
mod conformance;
mod disasm;
mod feature;
mod load;
mod objdump;
mod plugin;
mod reloc;
mod run;
mod test_run;
mod verify;

/// The subcommands of `bpfkit`.
#[derive(Subcommand)]
pub enum Command {
    /// Assemble a program (LLVM or uBPF dialect) into raw instructions or an ELF object.
    Asm(asm::AsmArgs),
    /// Disassemble raw instructions or every program of an ELF object.
    Disasm(disasm::DisasmArgs),
    /// Run a program once and print r0.
    Run(run::RunArgs),
    /// Test-run a program of an object as BPF_PROG_TEST_RUN does, in userspace (no root).
    TestRun(test_run::TestRunArgs),
    /// Speak the bpf_conformance plugin protocol (program hex on stdin).
    Plugin(plugin::PluginArgs),
    /// Run every bpf_conformance .data file of a directory.
    Conformance(conformance::ConformanceArgs),
    /// Show a BPF object's sections, programs, maps, relocations, symbols and disassembly.
    Objdump(objdump::ObjdumpArgs),
    /// Time a program on several engines side by side (ns per run, compile time, ratios).
    Bench(bench::BenchArgs),
    /// Show every CO-RE relocation of an object against a target BTF.
    Reloc(reloc::RelocArgs),
    /// Predict the kernel verifier's verdict, offline, with explanations.
    Verify(verify::VerifyArgs),
    /// Inspect BTF type information.
    #[command(subcommand)]
    Btf(btf::BtfCommand),
    /// Load every program of an object into the running kernel.
    Load(load::LoadArgs),
    /// Load and attach a program, printing what it outputs until interrupted.
    Attach(attach::AttachArgs),
    /// Show what the running kernel supports.
    Feature(feature::FeatureArgs),
}

impl Command {
    /// Runs the subcommand.
    pub fn run(self) -> Result<ExitCode, CliError> {
        match self {
            Command::Asm(args) => args.run(),
            Command::Disasm(args) => args.run(),
            Command::Run(args) => args.run(),
            Command::TestRun(args) => args.run(),
            Command::Bench(args) => args.run(),
            Command::Plugin(args) => args.run(),
            Command::Conformance(args) => args.run(),
            Command::Objdump(args) => args.run(),
            Command::Reloc(args) => args.run(),
            Command::Btf(cmd) => cmd.run(),
            Command::Load(args) => args.run(),
            Command::Attach(args) => args.run(),
            Command::Feature(args) => args.run(),
            Command::Verify(args) => args.run(),
        }
    }
}

//! The `bpfkit` command line.
//!
//! Every subcommand lives in its own module under `cmd/` and returns a [`CliError`] on failure;
//! `main` turns that into the exit-code contract of ARCHITECTURE.md: 0 success, 1 the program or
//! object was judged bad, 2 the input could not be read or parsed or the usage was wrong.

mod cmd;
mod engine;
mod error;
mod kernel;
mod target;

use std::process::ExitCode;

use clap::Parser;

pub use error::CliError;

/// A pure-Rust eBPF toolchain.
#[derive(Parser)]
#[command(name = "bpfkit", version, about)]
struct Cli {
    #[command(subcommand)]
    command: cmd::Command,
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            // clap prints help and version to stdout with success; usage errors get exit code 2.
            let _ = e.print();
            return if e.use_stderr() {
                ExitCode::from(2)
            } else {
                ExitCode::SUCCESS
            };
        }
    };
    match cli.command.run() {
        Ok(code) => code,
        Err(e) => e.report(),
    }
}

//! One module per subcommand.

use std::process::ExitCode;

use clap::Subcommand;

use crate::CliError;

mod btf;

/// The subcommands of `bpfkit`.
#[derive(Subcommand)]
pub enum Command {
    /// Inspect BTF type information.
    #[command(subcommand)]
    Btf(btf::BtfCommand),
}

impl Command {
    /// Runs the subcommand.
    pub fn run(self) -> Result<ExitCode, CliError> {
        match self {
            Command::Btf(cmd) => cmd.run(),
        }
    }
}

//! The error every subcommand returns, and how it is printed.

use std::fmt;
use std::process::ExitCode;

/// Why a subcommand failed, with the exit code the contract assigns to it.
#[derive(Debug)]
pub struct CliError {
    /// 1: the program or object was judged bad; 2: bad input or usage.
    pub code: u8,
    /// The one-line summary printed after `error: `.
    pub message: String,
    /// Optional further lines (an excerpt with a caret, a verifier log, ...).
    pub details: Option<String>,
}

impl CliError {
    /// The input could not be read or parsed, or the usage was wrong (exit 2).
    pub fn input(message: impl fmt::Display) -> Self {
        CliError {
            code: 2,
            message: message.to_string(),
            details: None,
        }
    }

    /// The program or object was judged bad: rejected, faulted (exit 1).
    pub fn judged(message: impl fmt::Display) -> Self {
        CliError {
            code: 1,
            message: message.to_string(),
            details: None,
        }
    }

    /// Attaches further lines printed after the summary.
    pub fn with_details(mut self, details: impl Into<String>) -> Self {
        self.details = Some(details.into());
        self
    }

    /// Prints `error: ...` and the details to stderr and returns the exit code.
    pub fn report(&self) -> ExitCode {
        eprintln!("error: {}", self.message);
        if let Some(details) = &self.details {
            eprintln!("{}", details.trim_end());
        }
        ExitCode::from(self.code)
    }
}

/// Reads a whole file, mapping failure to an exit-2 error that names the path.
pub fn read_file(path: &std::path::Path) -> Result<Vec<u8>, CliError> {
    std::fs::read(path).map_err(|e| CliError::input(format!("{}: {e}", path.display())))
}

/// Reads a whole text file, mapping failure to an exit-2 error that names the path.
pub fn read_text(path: &std::path::Path) -> Result<String, CliError> {
    let bytes = read_file(path)?;
    String::from_utf8(bytes)
        .map_err(|e| CliError::input(format!("{}: not UTF-8 text: {e}", path.display())))
}

/// Writes a whole file, mapping failure to an exit-2 error that names the path.
pub fn write_file(path: &std::path::Path, bytes: &[u8]) -> Result<(), CliError> {
    std::fs::write(path, bytes).map_err(|e| CliError::input(format!("{}: {e}", path.display())))
}

//! Prints the Markdown tables of `benches/README.md` from the results of
//! `cargo bench -p bpfkit-benches --bench interp`.
//!
//! Usage: `cargo run -p bpfkit-benches --bin interp-report [CRITERION_DIR]`. The directory
//! defaults to `$CARGO_TARGET_DIR/criterion`, else `target/criterion` of the workspace.

use std::collections::HashMap;
use std::path::PathBuf;
use std::process::ExitCode;

use bpfkit_benches::report::{Medians, markdown};
use bpfkit_benches::{PROGRAMS, engines};

fn main() -> ExitCode {
    let dir = match std::env::args_os().nth(1) {
        Some(dir) => PathBuf::from(dir),
        None => std::env::var_os("CARGO_TARGET_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target"))
            .join("criterion"),
    };
    let medians = match Medians::read(&dir) {
        Ok(m) if !m.is_empty() => m,
        Ok(_) => {
            eprintln!(
                "error: no interp results under {}; run `cargo bench -p bpfkit-benches --bench interp` first",
                dir.display()
            );
            return ExitCode::from(2);
        }
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    let mut counts = HashMap::new();
    for program in &PROGRAMS {
        match engines::instruction_count(program) {
            Ok(n) => {
                counts.insert(program.name.to_string(), n);
            }
            Err(e) => eprintln!("warning: {}: no instruction count: {e}", program.name),
        }
    }
    print!("{}", markdown(&medians, &counts));
    ExitCode::SUCCESS
}

//! Prints the Markdown tables of `benches/README.md` from the results of
//! `cargo bench -p bpfkit-benches --bench interp`.
//!
//! Usage: `cargo run -p bpfkit-benches --bin interp-report [CRITERION_DIR]`. The directory
//! defaults to `$CARGO_TARGET_DIR/criterion`, else `target/criterion` of the workspace.

use std::collections::HashMap;
use std::process::ExitCode;

use bpfkit_benches::report::{Medians, criterion_dir, markdown};
use bpfkit_benches::{PROGRAMS, engines};

fn main() -> ExitCode {
    let dir = criterion_dir();
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

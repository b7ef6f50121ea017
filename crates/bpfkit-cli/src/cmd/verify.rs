//! `bpfkit verify [--prog-type T] [--section S] [--format text|json] [--log] OBJ.o|PROG.bin`:
//! the kernel verifier's verdict, offline.
//!
//! For an object, every program is linked and verified with the program type of its section
//! (or only the programs of section `--section`); `--prog-type` overrides the type. Raw
//! instructions need `--prog-type`. Exit 0 when every program is accepted, 1 when one is
//! rejected, 2 for bad input. `--format json` prints one object per program per line (name,
//! section, verdict, kernel message, instruction, source, explanation, fix, statistics), for CI
//! annotations.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use bpfkit_isa::decode;
use bpfkit_uapi::ProgType;
use bpfkit_verifier::{Options, Program, Verdict, verify_image, verify_with};
use clap::{Args, ValueEnum};

use crate::CliError;
use crate::error::read_file;
use crate::target::{link_program, parse_object};

/// Output format.
#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// Human-readable.
    Text,
    /// One JSON object per program per line.
    Json,
}

/// Arguments of `bpfkit verify`.
#[derive(Args)]
pub struct VerifyArgs {
    /// Program type, by the kernel's lower-case name (`socket_filter`, `xdp`, `sched_cls`,
    /// `kprobe`, `tracepoint`, `raw_tracepoint`, ...); required for raw instructions.
    #[arg(long = "prog-type")]
    prog_type: Option<String>,
    /// Only the programs of this section.
    #[arg(long)]
    section: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value = "text")]
    format: Format,
    /// Print a kernel-style verifier log.
    #[arg(long)]
    log: bool,
    /// A BPF ELF object, or raw 8-byte instruction slots.
    file: PathBuf,
}

/// One program's result.
struct Outcome {
    name: String,
    section: String,
    verdict: Verdict,
    micros: u128,
}

impl VerifyArgs {
    /// Runs `bpfkit verify`.
    pub fn run(self) -> Result<ExitCode, CliError> {
        let prog_type = match &self.prog_type {
            Some(t) => Some(
                t.parse::<ProgType>()
                    .map_err(|e| CliError::input(format!("--prog-type: {e}")))?,
            ),
            None => None,
        };
        let bytes = read_file(&self.file)?;
        let opts = Options { log: self.log };
        let outcomes = if bytes.starts_with(b"\x7fELF") {
            self.verify_object(&bytes, prog_type, opts)?
        } else {
            let Some(prog_type) = prog_type else {
                return Err(CliError::input(format!(
                    "{}: raw instructions need --prog-type",
                    self.file.display()
                )));
            };
            let insns = decode(&bytes)
                .map_err(|e| CliError::input(format!("{}: {e}", self.file.display())))?;
            let start = Instant::now();
            let verdict = verify_with(&Program::new(&insns, prog_type), opts);
            vec![Outcome {
                name: self.file.display().to_string(),
                section: String::new(),
                verdict,
                micros: start.elapsed().as_micros(),
            }]
        };
        let mut rejected = false;
        for o in &outcomes {
            rejected |= !o.verdict.accepted();
            match self.format {
                Format::Text => print_text(o, self.log),
                Format::Json => println!("{}", json(o)),
            }
        }
        Ok(if rejected {
            ExitCode::from(1)
        } else {
            ExitCode::SUCCESS
        })
    }

    fn verify_object(
        &self,
        bytes: &[u8],
        prog_type: Option<ProgType>,
        opts: Options,
    ) -> Result<Vec<Outcome>, CliError> {
        let object = parse_object(&self.file, bytes)?;
        // The running kernel's BTF types the context of fentry/fexit/tp_btf/lsm programs.
        let vmlinux = std::fs::read(bpfkit_btf::vmlinux::VMLINUX_PATH).ok();
        let kernel_btf = vmlinux
            .as_deref()
            .and_then(|b| bpfkit_btf::Btf::parse(b).ok());
        let mut out = Vec::new();
        for program in object.programs() {
            if self
                .section
                .as_deref()
                .is_some_and(|s| s != program.section_name())
            {
                continue;
            }
            let image = link_program(&self.file, &object, program.name(), None, None)?;
            let start = Instant::now();
            let verdict = verify_image(&image, prog_type, kernel_btf.as_ref(), opts);
            out.push(Outcome {
                name: program.name().to_string(),
                section: program.section_name().to_string(),
                verdict,
                micros: start.elapsed().as_micros(),
            });
        }
        if out.is_empty() {
            return Err(CliError::input(match &self.section {
                Some(s) => format!("{}: no program in section `{s}`", self.file.display()),
                None => format!("{}: no programs", self.file.display()),
            }));
        }
        Ok(out)
    }
}

fn print_text(o: &Outcome, log: bool) {
    let what = if o.section.is_empty() {
        o.name.clone()
    } else {
        format!("{} ({})", o.name, o.section)
    };
    if log {
        print!("{}", o.verdict.log);
    }
    match &o.verdict.error {
        None => println!("{what}: accepted; {}", o.verdict.stats),
        Some(e) => {
            println!("{what}: rejected");
            for n in &e.notes {
                println!("  {n}");
            }
            for line in e.to_string().lines() {
                println!("  {line}");
            }
            println!("  {}", o.verdict.stats);
        }
    }
    let _ = o.micros;
}

/// A JSON string literal.
fn js(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn json(o: &Outcome) -> String {
    let s = &o.verdict.stats;
    let stats = format!(
        "{{\"processed_insns\":{},\"total_states\":{},\"peak_states\":{},\"max_states_per_insn\":{},\"verification_time_usec\":{}}}",
        s.insns, s.states, s.peak_states, s.max_states_per_insn, o.micros
    );
    let mut fields = vec![
        format!("\"name\":{}", js(&o.name)),
        format!("\"section\":{}", js(&o.section)),
        format!(
            "\"verdict\":{}",
            js(if o.verdict.accepted() {
                "accepted"
            } else {
                "rejected"
            })
        ),
    ];
    if let Some(e) = &o.verdict.error {
        fields.push(format!("\"kernel_message\":{}", js(&e.message.to_string())));
        fields.push(format!("\"insn\":{}", e.pc));
        fields.push(format!("\"insn_text\":{}", js(&e.insn)));
        match &e.line {
            Some(l) => {
                fields.push(format!("\"file\":{}", js(&l.file)));
                fields.push(format!("\"line\":{}", l.line));
                fields.push(format!("\"source\":{}", js(l.text.trim())));
            }
            None => {
                fields.push("\"file\":null".into());
                fields.push("\"line\":null".into());
            }
        }
        fields.push(format!("\"explanation\":{}", js(&e.explanation)));
        fields.push(format!(
            "\"fix\":{}",
            e.fix.as_deref().map_or("null".to_string(), js)
        ));
        let path: Vec<String> = e
            .path
            .iter()
            .map(|p| format!("{{\"insn\":{},\"taken\":{}}}", p.pc, p.taken))
            .collect();
        fields.push(format!("\"path\":[{}]", path.join(",")));
    }
    fields.push(format!("\"statistics\":{stats}"));
    format!("{{{}}}", fields.join(","))
}

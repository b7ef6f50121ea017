//! `bpfkit feature`: what the running kernel supports — program types, map types, helpers per
//! program type, BTF kinds — printed as `bpftool feature probe` prints those parts.

use std::process::ExitCode;

use bpfkit_loader::features;
use bpfkit_uapi::HelperId;
use clap::Args;

use crate::CliError;

/// Arguments of `bpfkit feature`.
#[derive(Args)]
pub struct FeatureArgs {
    /// Skip probing helpers (one program load per program type and helper).
    #[arg(long)]
    no_helpers: bool,
}

impl FeatureArgs {
    /// Runs `bpfkit feature`.
    pub fn run(self) -> Result<ExitCode, CliError> {
        println!("Scanning system call availability...");
        if let Err(why) = bpfkit_sys::probe() {
            println!("bpf() syscall is NOT available: {why}");
            return Err(CliError::judged(format!(
                "bpf(2) cannot be used here: {why}"
            )));
        }
        println!("bpf() syscall is available");
        let found = features::probe_all(!self.no_helpers)
            .map_err(|e| CliError::judged(format!("probing: {e}")))?;
        let available = |ok: bool| {
            if ok {
                "is available"
            } else {
                "is NOT available"
            }
        };

        println!("Scanning eBPF program types...");
        for (t, ok) in &found.prog_types {
            println!("eBPF program_type {t:#} {}", available(*ok));
        }
        println!("Scanning eBPF map types...");
        for (t, ok) in &found.map_types {
            println!("eBPF map_type {t:#} {}", available(*ok));
        }
        if !self.no_helpers {
            println!("Scanning eBPF helper functions...");
            for (t, helpers) in &found.helpers {
                println!("eBPF helpers supported for program type {t:#}:");
                for h in helpers {
                    println!("\t- {}", helper_name(*h));
                }
            }
        }
        println!("Scanning BTF kinds...");
        let b = found.btf;
        for (kind, ok) in [
            ("FUNC and FUNC_PROTO", b.func),
            ("global FUNC", b.func_global),
            ("VAR and DATASEC", b.datasec),
            ("FLOAT", b.float),
            ("DECL_TAG", b.decl_tag),
            ("TYPE_TAG", b.type_tag),
            ("ENUM64", b.enum64),
        ] {
            println!("BTF kind {kind} {}", available(ok));
        }
        println!("Scanning miscellaneous eBPF features...");
        println!("Map binding through fd_array {}", available(found.fd_array));
        Ok(ExitCode::SUCCESS)
    }
}

/// `bpf_map_lookup_elem`.
fn helper_name(h: HelperId) -> String {
    h.c_name().unwrap_or_else(|| format!("{h}"))
}

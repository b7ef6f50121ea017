//! Loading a clang-built object into the running kernel and talking to it from Rust, without
//! libbpf: set a `.rodata` constant before load, run the XDP program on a packet with
//! `BPF_PROG_TEST_RUN`, read what it counted in its map and its globals.
//!
//! `cargo run --example kernel_load` (as root).

use bpfkit::loader::ObjectSpec;
use bpfkit::sys::TestRun;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    if let Err(why) = bpfkit::sys::probe() {
        println!("bpf(2) cannot be used here: {why}");
        return Ok(());
    }
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../testdata/obj/global_data.v3.g.o"
    );
    let mut spec = ObjectSpec::open_file(path)?;
    // `const volatile __u32 max_len = 1500;`: frozen once loaded, so set it now.
    spec.set_global("max_len", &100u32.to_ne_bytes())?;
    let loaded = spec.load()?;
    let program = loaded.program("xdp_globals")?;
    println!(
        "loaded {} as program id {}",
        program.name,
        program.program.info()?.id
    );

    for len in [60, 200] {
        let out = program.program.test_run(&TestRun {
            data_in: &vec![0u8; len],
            ..TestRun::default()
        })?;
        let verdict = if out.retval == 2 {
            "XDP_PASS"
        } else {
            "XDP_DROP"
        };
        println!("a {len}-byte packet: {verdict}");
    }
    for name in ["packets", "passes", "drops", "bytes_total"] {
        let bytes = loaded.global(name)?;
        let mut value = [0u8; 8];
        value[..bytes.len()].copy_from_slice(&bytes);
        println!("{name} = {}", u64::from_le_bytes(value));
    }
    Ok(())
}

//! `bpfkit test-run`: the output contract (one `key: value` line each, lowercase hex, `map`
//! lines with `--maps`) and the exit codes. Expected values follow from the testdata C sources.

mod common;

use common::{bpfkit, root};

fn obj(name: &str) -> String {
    root().join("testdata/obj").join(name).display().to_string()
}

fn udp_frame() -> String {
    let mut f = [0u8; 42];
    f[12..14].copy_from_slice(&[0x08, 0x00]);
    f[14] = 0x45;
    f[23] = 17;
    f.iter().map(|b| format!("{b:02x}")).collect()
}

#[test]
fn an_xdp_program_counts_packets_and_the_maps_are_printed() {
    let frame = udp_frame();
    let out = bpfkit(&[
        "test-run",
        &obj("xdp_parse.v3.g.o"),
        "xdp_parse",
        "--data-hex",
        &frame,
        "--repeat",
        "3",
        "--maps",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[0], "retval: 2");
    assert!(
        lines[1].starts_with("duration: ") && lines[1].ends_with(" ns"),
        "{}",
        lines[1]
    );
    assert_eq!(lines[2], format!("data_out: {frame}"));
    assert!(
        lines.contains(&"map proto_count 11000000 0300000000000000"),
        "{text}"
    );
    // 3 runs of 42 bytes on CPU 0 of the one simulated CPU.
    assert!(
        lines.contains(&"map byte_count 00000000 7e00000000000000"),
        "{text}"
    );
}

#[test]
fn a_context_comes_back_and_network_layer_programs_get_14_zero_bytes() {
    let dir = std::env::temp_dir().join(format!("bpfkit-test-run-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let ctx = dir.join("skb.bin");
    let mut skb = vec![0u8; 192];
    skb[32..36].copy_from_slice(&7u32.to_le_bytes()); // priority
    std::fs::write(&ctx, &skb).unwrap();
    let frame = udp_frame();
    let out = bpfkit(&[
        "test-run",
        &obj("tc_classifier.v3.o"),
        "tc_mark",
        "--data-hex",
        &frame,
        "--ctx",
        ctx.to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    let ctx_out = text
        .lines()
        .find_map(|l| l.strip_prefix("ctx_out: "))
        .unwrap();
    // tc_mark sets mark (offset 8) to 0x42; priority stays 7; ifindex (40) is loopback's.
    assert_eq!(&ctx_out[16..24], "42000000");
    assert_eq!(&ctx_out[64..72], "07000000");
    assert_eq!(&ctx_out[80..88], "01000000");

    let out = bpfkit(&[
        "test-run",
        &obj("socket_filter.v3.o"),
        "socket",
        "--data-hex",
        &frame,
    ]);
    let text = String::from_utf8(out.stdout).unwrap();
    // A socket filter sees the packet from its IP header; the kernel pushes 14 zero bytes back.
    let expected = format!("data_out: {}{}", "00".repeat(14), &frame[28..]);
    assert!(text.contains(&expected), "{text}");
    // The filter returns skb->len for IPv4: 42 - 14.
    assert!(text.starts_with("retval: 28\n"), "{text}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn the_kernels_errors_are_usage_errors_and_faults_are_judged() {
    let out = bpfkit(&[
        "test-run",
        &obj("xdp_pass.v3.o"),
        "xdp_pass",
        "--data-hex",
        "0011",
    ]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.starts_with("error: ") && err.contains("EINVAL"),
        "{err}"
    );
    let out = bpfkit(&["test-run", &obj("xdp_pass.v3.o"), "nope"]);
    assert_eq!(out.status.code(), Some(2));
    // maps.v3.g.o's socket_maps reads 8 bytes of a 4-byte stack key: the kernel's verifier
    // refuses it; the runtime faults.
    let out = bpfkit(&[
        "test-run",
        &obj("maps.v3.g.o"),
        "socket_maps",
        "--data-hex",
        &udp_frame(),
    ]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

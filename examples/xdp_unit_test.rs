//! Unit-test a clang-built XDP program without root or a kernel: load the object, run it on
//! three UDP packets, read its map back. `cargo run --example xdp_unit_test`; the same runs
//! as a test under `cargo test`.

use bpfkit::vm::{TestObject, TestRun};

/// Runs `xdp_parse` (testdata/src/xdp_parse.bpf.c) on three UDP packets; returns its count.
fn udp_packets_counted() -> Result<u64, Box<dyn std::error::Error>> {
    let object = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../testdata/obj/xdp_parse.v3.g.o"
    );
    let mut obj = TestObject::open(&std::fs::read(object)?)?;
    let mut packet = [0u8; 42]; // Ethernet, IPv4, UDP
    packet[12..14].copy_from_slice(&[0x08, 0x00]); // ETH_P_IP
    packet[14] = 0x45; // IPv4, 20-byte header
    packet[23] = 17; // IPPROTO_UDP
    for _ in 0..3 {
        let out = obj.test_run(
            "xdp_parse",
            &TestRun {
                data: &packet,
                ..TestRun::default()
            },
        )?;
        assert_eq!(out.retval, 2); // XDP_PASS
    }
    let count = obj
        .map("proto_count")
        .unwrap()
        .lookup(&17u32.to_le_bytes())
        .unwrap();
    Ok(u64::from_le_bytes(count.try_into()?))
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    println!(
        "UDP packets counted by xdp_parse: {}",
        udp_packets_counted()?
    );
    Ok(())
}

#[test]
fn xdp_parse_counts_three_udp_packets() {
    assert_eq!(udp_packets_counted().unwrap(), 3);
}

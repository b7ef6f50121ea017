//! The test-run API on clang-built objects, for what the kernel differential cannot compare:
//! values the kernel takes from the machine (time, task, routes, random seeds), output the
//! kernel keeps out of reach (trace lines), program types the kernel cannot test-run
//! (kprobes, tracepoints), and the runtime's own errors. Expected values come from the C
//! sources and the test's own settings, never from a previous run.

use bpfkit_vm::{
    Interface, Neighbour, Redirect, Route, TestObject, TestRun, TestRunError, libc_errno,
};

fn obj(name: &str) -> TestObject {
    let path = format!("{}/../../testdata/obj/{name}", env!("CARGO_MANIFEST_DIR"));
    TestObject::builder(&std::fs::read(path).unwrap())
        .cpus(2)
        .build()
        .unwrap()
}

fn result(obj: &TestObject, map: &str, i: u32) -> i64 {
    let v = obj.map(map).unwrap().lookup(&i.to_le_bytes()).unwrap();
    i64::from_le_bytes(v.try_into().unwrap())
}

fn ipv4_frame(proto: u8, dst: [u8; 4]) -> Vec<u8> {
    let mut f = vec![0u8; 14 + 20 + 8];
    f[12..14].copy_from_slice(&[0x08, 0x00]);
    f[14] = 0x45;
    f[16..18].copy_from_slice(&28u16.to_be_bytes());
    f[23] = proto;
    f[26..30].copy_from_slice(&[10, 0, 0, 1]);
    f[30..34].copy_from_slice(&dst);
    f
}

#[test]
fn packets_are_counted_in_maps_and_per_cpu_values_read_back() {
    let mut o = obj("xdp_parse.v3.g.o");
    for (proto, times) in [(6u8, 3), (17, 2)] {
        for _ in 0..times {
            let out = o
                .test_run(
                    "xdp_parse",
                    &TestRun {
                        data: &ipv4_frame(proto, [1, 2, 3, 4]),
                        ..TestRun::default()
                    },
                )
                .unwrap();
            assert_eq!(out.retval, 2, "XDP_PASS");
        }
    }
    let counts = o.map("proto_count").unwrap();
    let count =
        |p: u32| u64::from_le_bytes(counts.lookup(&p.to_le_bytes()).unwrap().try_into().unwrap());
    assert_eq!((count(6), count(17), count(1)), (3, 2, 0));
    // byte_count is per cpu: everything ran on CPU 0, CPU 1's value stayed 0.
    let bytes = o
        .map("byte_count")
        .unwrap()
        .lookup_percpu(&0u32.to_le_bytes())
        .unwrap();
    assert_eq!(bytes.len(), 2);
    assert_eq!(u64::from_le_bytes(bytes[0].try_into().unwrap()), 5 * 42);
    assert_eq!(bytes[1], [0; 8]);
    // On CPU 1, the other value grows.
    o.host_mut().cpu = 1;
    o.test_run(
        "xdp_parse",
        &TestRun {
            data: &ipv4_frame(1, [1, 2, 3, 4]),
            ..TestRun::default()
        },
    )
    .unwrap();
    let bytes = o
        .map("byte_count")
        .unwrap()
        .lookup_percpu(&0u32.to_le_bytes())
        .unwrap();
    assert_eq!(u64::from_le_bytes(bytes[1].try_into().unwrap()), 42);
}

#[test]
fn globals_are_read_and_set_by_name() {
    // Names come from the ELF symbols, as in a libbpf skeleton: no BTF needed.
    let mut o = obj("global_data.v3.o");
    assert_eq!(o.global_value::<u32>("max_len"), Some(1500));
    assert_eq!(o.global_value::<i32>("packets"), Some(1));
    let frame = vec![0u8; 100];
    let run = TestRun {
        data: &frame,
        ..TestRun::default()
    };
    assert_eq!(
        o.test_run("xdp_globals", &run).unwrap().retval,
        2,
        "XDP_PASS"
    );
    assert_eq!(o.global_value::<i32>("packets"), Some(2));
    assert_eq!(o.global_value::<u64>("bytes_total"), Some(100));
    assert_eq!(o.global_value::<u32>("last_len"), Some(100));
    assert_eq!(o.global_value::<u64>("passes"), Some(1));
    // .rodata set before a run, as a skeleton does before loading.
    o.set_global_value("max_len", 64u32).unwrap();
    assert_eq!(
        o.test_run("xdp_globals", &run).unwrap().retval,
        1,
        "XDP_DROP"
    );
    assert_eq!(o.global_value::<u64>("drops"), Some(1));
    assert!(o.set_global("max_len", &[0; 8]).is_err());
    assert!(o.global("no_such_variable").is_none());
}

#[test]
#[cfg_attr(
    miri,
    ignore = "opens rt_helpers.v3.g.o, 30 programs: minutes under miri (this crate has no unsafe code)"
)]
fn tail_calls_go_through_the_objects_prog_array() {
    let mut o = obj("rt_helpers.v3.g.o");
    // rt_tail: byte 18 odd tail-calls jump[byte 20 % 4] with cb[1] = byte 19.
    let mut frame = vec![0u8; 60];
    frame[14..22].copy_from_slice(&[0, 60, 0, 0, 1, 4, 0, 0]);
    let out = o
        .test_run(
            "rt_tail",
            &TestRun {
                data: &frame,
                ..TestRun::default()
            },
        )
        .unwrap();
    // jump[0] is rt_tail_a: cb[1] + 1 = 5, returns 105.
    assert_eq!(out.retval, 105);
    frame[20] = 1; // jump[1] is rt_tail_b, which jumps to rt_tail_a as cb[1] (4) is even.
    let out = o
        .test_run(
            "rt_tail",
            &TestRun {
                data: &frame,
                ..TestRun::default()
            },
        )
        .unwrap();
    assert_eq!(out.retval, 106);
    frame[20] = 3; // empty: falls through and returns the redirect's TC_ACT_REDIRECT.
    let out = o
        .test_run(
            "rt_tail",
            &TestRun {
                data: &frame,
                ..TestRun::default()
            },
        )
        .unwrap();
    assert_eq!(out.retval, 7);
    assert_eq!(
        out.redirect,
        Some(Redirect::Ifindex {
            ifindex: 0,
            flags: 0
        })
    );
    assert_eq!(result(&o, "results", 3), -1);
}

#[test]
#[cfg_attr(
    miri,
    ignore = "opens rt_helpers.v3.g.o, 30 programs: minutes under miri (this crate has no unsafe code)"
)]
fn redirect_map_finds_a_devmap_entry_set_from_userspace() {
    let mut o = obj("rt_helpers.v3.g.o");
    o.map_mut("devices")
        .unwrap()
        .update(&2u32.to_le_bytes(), &1u32.to_le_bytes(), 0)
        .unwrap();
    // act 5: bpf_redirect_map(&devices, key = byte 20 % 5, flags = byte 19 & 0x1f).
    let mut frame = vec![0u8; 64];
    frame[17] = 5;
    frame[19] = 1; // fallback XDP_DROP
    frame[20] = 2;
    let out = o
        .test_run(
            "rt_xdp",
            &TestRun {
                data: &frame,
                ..TestRun::default()
            },
        )
        .unwrap();
    assert_eq!(out.retval, 4, "XDP_REDIRECT");
    assert!(
        matches!(
            out.redirect,
            Some(Redirect::Map {
                key: 2,
                flags: 1,
                ..
            })
        ),
        "{:?}",
        out.redirect
    );
    frame[20] = 3; // no entry: the flags' action
    let out = o
        .test_run(
            "rt_xdp",
            &TestRun {
                data: &frame,
                ..TestRun::default()
            },
        )
        .unwrap();
    assert_eq!((out.retval, out.redirect), (1, None));
}

#[test]
#[cfg_attr(
    miri,
    ignore = "opens rt_helpers.v3.g.o, 30 programs: minutes under miri (this crate has no unsafe code)"
)]
fn fib_lookup_uses_the_hosts_routes_and_neighbours() {
    let mut o = obj("rt_helpers.v3.g.o");
    let host = o.host_mut();
    host.interfaces.push(Interface {
        ifindex: 7,
        mac: [2, 0, 0, 0, 0, 7],
        mtu: 1500,
        rx_queues: 1,
    });
    host.routes.push(Route {
        dst: vec![192, 168, 0, 0],
        prefix_len: 16,
        ifindex: 7,
        gateway: vec![],
    });
    host.routes.push(Route {
        dst: vec![0, 0, 0, 0],
        prefix_len: 0,
        ifindex: 7,
        gateway: vec![192, 168, 0, 1],
    });
    host.neighbours.push(Neighbour {
        ifindex: 7,
        addr: vec![192, 168, 0, 1],
        mac: [2, 0, 0, 0, 0, 1],
    });
    host.neighbours.push(Neighbour {
        ifindex: 7,
        addr: vec![192, 168, 5, 5],
        mac: [2, 0, 0, 0, 5, 5],
    });
    let run = |o: &mut TestObject, dst| {
        let frame = ipv4_frame(6, dst);
        let out = o
            .test_run(
                "rt_fib",
                &TestRun {
                    data: &frame,
                    ..TestRun::default()
                },
            )
            .unwrap();
        (out.retval as i32, out.data_out[..12].to_vec())
    };
    // On-link, known neighbour: BPF_FIB_LKUP_RET_SUCCESS, its MAC and the interface's.
    let (r, macs) = run(&mut o, [192, 168, 5, 5]);
    assert_eq!(
        (r, &macs[..]),
        (0, &[2, 0, 0, 0, 5, 5, 2, 0, 0, 0, 0, 7][..])
    );
    assert_eq!(result(&o, "results", 0), 7);
    // Through the gateway.
    let (r, macs) = run(&mut o, [8, 8, 8, 8]);
    assert_eq!((r, &macs[..6]), (0, &[2, 0, 0, 0, 0, 1][..]));
    // On-link, unknown neighbour: BPF_FIB_LKUP_RET_NO_NEIGH.
    assert_eq!(run(&mut o, [192, 168, 9, 9]).0, 7);
    o.host_mut().routes.clear();
    // No route: BPF_FIB_LKUP_RET_NOT_FWDED.
    assert_eq!(run(&mut o, [8, 8, 8, 8]).0, 4);
}

#[test]
#[cfg_attr(
    miri,
    ignore = "opens rt_helpers.v3.g.o, 30 programs: minutes under miri (this crate has no unsafe code)"
)]
fn the_flow_hash_is_stable_for_a_seed_and_set_in_the_skb() {
    let mut o = obj("rt_helpers.v3.g.o");
    let frame = ipv4_frame(17, [10, 9, 8, 7]);
    let run = TestRun {
        data: &frame,
        ..TestRun::default()
    };
    o.test_run("rt_hash", &run).unwrap();
    let first = result(&o, "results", 0);
    assert_ne!(first, 0);
    assert_eq!(result(&o, "results", 1), 1, "skb->hash holds it");
    assert_eq!(
        result(&o, "results", 2),
        0,
        "bpf_set_hash_invalid clears it"
    );
    o.test_run("rt_hash", &run).unwrap();
    assert_eq!(result(&o, "results", 0), first);
    o.host_mut().flow_hash_seed = 99;
    o.test_run("rt_hash", &run).unwrap();
    assert_ne!(result(&o, "results", 0), first);
}

#[test]
#[cfg_attr(
    miri,
    ignore = "opens rt_helpers.v3.g.o, 30 programs: minutes under miri (this crate has no unsafe code)"
)]
fn probe_reads_see_the_memory_the_test_gives() {
    let mut o = obj("rt_helpers.v3.g.o");
    let kaddr = 0xffff_8880_0000_1000u64;
    let uaddr = 0x7ffd_0000_2000u64;
    o.host_mut()
        .kernel_memory
        .insert(kaddr, b"kernel!\0".to_vec());
    o.host_mut()
        .user_memory
        .insert(uaddr, b"user!\0..".to_vec());
    let mut args = kaddr.to_le_bytes().to_vec();
    args.extend_from_slice(&uaddr.to_le_bytes());
    o.test_run(
        "rt_probe",
        &TestRun {
            ctx_in: Some(&args),
            ..TestRun::default()
        },
    )
    .unwrap();
    assert_eq!(result(&o, "results", 0), 0);
    assert_eq!(result(&o, "results", 1), i64::from_le_bytes(*b"kernel!\0"));
    assert_eq!(result(&o, "results", 2), 0);
    assert_eq!(result(&o, "results", 3), i64::from_le_bytes(*b"user!\0.."));
    assert_eq!(result(&o, "results", 4), 6, "strlen + 1");
    assert_eq!(result(&o, "results", 5), 8 * 256 + b'k' as i64);
    // Four bytes of a longer string: three and a NUL, length 4.
    assert_eq!(result(&o, "results", 6), 4 * 256);
    // Unmapped: -EFAULT for user memory, -ERANGE for a user address read as kernel memory.
    let args = [0x7ffd_0000_9000u64.to_le_bytes(), 0x9000u64.to_le_bytes()].concat();
    o.test_run(
        "rt_probe",
        &TestRun {
            ctx_in: Some(&args),
            ..TestRun::default()
        },
    )
    .unwrap();
    assert_eq!(result(&o, "results", 0), -libc_errno::ERANGE);
    assert_eq!(result(&o, "results", 2), -libc_errno::EFAULT);
}

#[test]
fn trace_printk_lines_and_task_values_are_captured() {
    let mut o = obj("tracing.v3.g.o");
    o.host_mut().pid_tgid = (4321 << 32) | 4322;
    // A tracepoint program's record comes from the caller: the kernel cannot test-run it.
    let record = [0u8; 16];
    let out = o
        .test_run(
            "openat_enter",
            &TestRun {
                ctx_in: Some(&record),
                ..TestRun::default()
            },
        )
        .unwrap();
    assert_eq!(out.retval, 0);
    o.test_run(
        "process_exec",
        &TestRun {
            ctx_in: Some(&record),
            ..TestRun::default()
        },
    )
    .unwrap();
    assert_eq!(o.host().trace, ["openat by 4321", "exec\n"]);
    // A kprobe's pt_regs likewise; the ring buffer consumer reads what it emitted.
    let regs = [0u8; 168];
    o.test_run(
        "unlink_enter_pid",
        &TestRun {
            ctx_in: Some(&regs),
            ..TestRun::default()
        },
    )
    .unwrap();
    let records = o.map_mut("trace_events").unwrap().ringbuf_consume();
    // process_exec emitted 3 first.
    assert_eq!(
        records,
        vec![3u64.to_le_bytes().to_vec(), 4321u64.to_le_bytes().to_vec()]
    );
}

#[test]
#[cfg_attr(
    miri,
    ignore = "opens rt_helpers.v3.g.o, 30 programs: minutes under miri (this crate has no unsafe code)"
)]
fn perf_events_are_kept_per_cpu_with_their_packet_bytes() {
    let mut o = obj("rt_helpers.v3.g.o");
    // rt_events: byte 22 % 5 == 1 is BPF_F_CURRENT_CPU with byte 23 % 64 packet bytes after
    // byte 24 & 31 bytes of data.
    let mut frame = vec![0u8; 80];
    frame[14 + 8] = 1;
    frame[14 + 9] = 5;
    frame[14 + 10] = 3;
    o.test_run(
        "rt_events",
        &TestRun {
            data: &frame,
            ..TestRun::default()
        },
    )
    .unwrap();
    let records = o.map_mut("events").unwrap().take_perf_records();
    assert_eq!(records.len(), 1);
    assert_eq!(records[0].cpu, 0);
    assert_eq!(records[0].data.len(), 3 + 5);
    assert_eq!(&records[0].data[3..], &frame[..5]);
    // A closed index is ENOENT, as without a reader.
    o.map_mut("events")
        .unwrap()
        .set_perf_reader(0, None)
        .unwrap();
    o.test_run(
        "rt_events",
        &TestRun {
            data: &frame,
            ..TestRun::default()
        },
    )
    .unwrap();
    assert_eq!(result(&o, "results", 3), -libc_errno::ENOENT);
}

#[test]
fn runtime_errors_name_what_is_missing() {
    let mut o = obj("xdp_pass.v3.o");
    let err = o.test_run("nope", &TestRun::default()).unwrap_err();
    assert!(err.to_string().contains("no such program"), "{err}");
    let err = o
        .test_run(
            "xdp_pass",
            &TestRun {
                data: &[0; 10],
                ..TestRun::default()
            },
        )
        .unwrap_err();
    assert_eq!(err.errno(), Some(libc_errno::EINVAL));
    let err = o
        .test_run(
            "xdp_pass",
            &TestRun {
                data: &[0; 20],
                // An xdp_md whose data_end is not the packet's size.
                ctx_in: Some(&[0; 24][..]),
                ..TestRun::default()
            },
        )
        .unwrap_err();
    assert!(matches!(err, TestRunError::Invalid(_)), "{err}");
    let f = bpfkit_vm::Fault::UnknownHelper { pc: 3, id: 52 };
    assert_eq!(
        f.to_string(),
        "pc 3: unsupported helper 52 (bpf_sk_redirect_map)"
    );
}

#[test]
fn a_program_type_given_by_the_test_overrides_the_section() {
    let path = format!(
        "{}/../../testdata/obj/xdp_parse.v3.g.o",
        env!("CARGO_MANIFEST_DIR")
    );
    let bytes = std::fs::read(path).unwrap();
    let o = TestObject::builder(&bytes)
        .program_type("xdp_parse", bpfkit_uapi::ProgType::SCHED_CLS)
        .build()
        .unwrap();
    let p = o.program("xdp_parse").unwrap();
    assert_eq!(p.prog_type, bpfkit_uapi::ProgType::SCHED_CLS);
    // Its context accesses were converted as __sk_buff ones (xdp_md's offsets 0, 4 and 8 are
    // len, pkt_type and mark there, all readable), so it loads.
    assert_eq!(p.error(), None);
}

/// A fuzzer-found object (testdata/regressions/global_past_section.o) whose symbol table puts a
/// variable past the end of its data section: opening it and reading every global must not
/// panic, and the variable outside its section is not offered as a global.
#[test]
fn a_symbol_past_its_section_names_no_global() {
    let path = format!(
        "{}/../../testdata/regressions/global_past_section.o",
        env!("CARGO_MANIFEST_DIR")
    );
    let bytes = std::fs::read(path).unwrap();
    let Ok(o) = TestObject::builder(&bytes)
        .core_target(&empty_btf())
        .build()
    else {
        panic!("the object opens (only its symbol is out of place)");
    };
    for g in o.globals() {
        let value = o.global(&g.name).expect("every global offered can be read");
        assert_eq!(value.len(), g.size as usize, "{}", g.name);
    }
}

/// A BTF blob with no types, so the test needs no vmlinux.
fn empty_btf() -> Vec<u8> {
    let mut b = vec![0x9f, 0xeb, 1, 0, 24, 0, 0, 0];
    b.extend_from_slice(&[0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0]);
    b
}

//! The loader against the running kernel: maps, program loads, test runs, info and errors.
//! Each test needs `bpf(2)` and skips under the one rule of `bpfkit-test-support` without it.

use bpfkit_isa::{Insn, Opcode, Reg};
use bpfkit_sys::{
    Command, Errno, Error, Map, MapCreate, MapDef, MapType, ProgType, ProgramLoad, TestRun,
    UpdateMode,
};
use bpfkit_test_support::{Need, require};
use std::os::fd::AsRawFd;

/// An Ethernet header's worth of packet, the least a socket filter's test run takes. Its
/// EtherType (0x88b5, for local experiments) is not IP, so the kernel looks no further.
const PACKET: [u8; 14] = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 0x88, 0xb5];

fn mov(dst: Reg, imm: i32) -> Insn {
    Insn::new(Opcode::Mov64Imm).with_dst(dst).with_imm(imm)
}

fn exit() -> Insn {
    Insn::new(Opcode::Exit)
}

fn errno_of<T: std::fmt::Debug>(result: Result<T, Error>) -> i32 {
    result.unwrap_err().errno().expect("a system call error").0
}

/// The example at the top of the crate's documentation (a `no_run` doctest, since a doctest
/// cannot skip under the rule), run here where it can.
#[test]
fn crate_example_runs() {
    require!(Need::Kernel);
    let insns = [mov(Reg::R0, 42), exit()];
    let prog = ProgramLoad::new(ProgType::SOCKET_FILTER, &insns)
        .load()
        .unwrap();
    let out = prog
        .test_run(&TestRun {
            data_in: &[0; 14],
            ..TestRun::default()
        })
        .unwrap();
    assert_eq!(out.retval, 42);

    let err = ProgramLoad::new(ProgType::SOCKET_FILTER, &insns[1..])
        .load()
        .unwrap_err();
    assert!(matches!(err, Error::Verifier { .. }));
    assert!(err.to_string().contains("R0 !read_ok"), "{err}");
}

#[test]
fn array_map_elements() {
    require!(Need::Kernel);
    let map =
        Map::create(MapCreate::new(MapDef::new(MapType::ARRAY, 4, 8, 2)).with_name("api_array"))
            .unwrap();
    assert_eq!(
        (map.key_size(), map.value_size(), map.max_entries()),
        (4, 8, 2)
    );
    // Arrays start zeroed.
    assert_eq!(map.get(&1u32.to_ne_bytes()).unwrap(), Some(vec![0; 8]));
    map.update(
        &1u32.to_ne_bytes(),
        &u64::MAX.to_ne_bytes(),
        UpdateMode::Any,
    )
    .unwrap();
    assert_eq!(
        map.get(&1u32.to_ne_bytes()).unwrap(),
        Some(u64::MAX.to_ne_bytes().to_vec())
    );
    // Past the end: no element to look up, and none to store (E2BIG), per bpf(2).
    assert_eq!(map.get(&2u32.to_ne_bytes()).unwrap(), None);
    let err = map
        .update(&2u32.to_ne_bytes(), &[0; 8], UpdateMode::Any)
        .unwrap_err();
    assert_eq!(err.errno(), Some(Errno(libc::E2BIG)));
    assert_eq!(err.command(), Some(Command::MapUpdateElem));
    assert_eq!(
        err.to_string(),
        "bpf(BPF_MAP_UPDATE_ELEM) failed: E2BIG (Argument list too long)"
    );
    // Array elements cannot be deleted.
    assert_eq!(errno_of(map.delete(&0u32.to_ne_bytes())), libc::EINVAL);
    // Buffers of the wrong size never reach the kernel.
    let err = map.update(&[0; 8], &[0; 8], UpdateMode::Any).unwrap_err();
    assert_eq!(
        err.to_string(),
        "key is 8 bytes, but the map's key size is 4"
    );
    assert!(map.lookup(&[0; 4], &mut [0; 7]).is_err());
}

#[test]
fn hash_map_elements() {
    require!(Need::Kernel);
    let map = Map::create(MapDef::new(MapType::HASH, 8, 4, 16)).unwrap();
    let key = 0x1122_3344_5566_7788u64.to_ne_bytes();
    assert_eq!(map.get(&key).unwrap(), None);
    assert_eq!(
        errno_of(map.update(&key, &[1; 4], UpdateMode::Exist)),
        libc::ENOENT
    );
    map.update(&key, &[1; 4], UpdateMode::NoExist).unwrap();
    assert_eq!(
        errno_of(map.update(&key, &[2; 4], UpdateMode::NoExist)),
        libc::EEXIST
    );
    map.update(&key, &[3; 4], UpdateMode::Exist).unwrap();
    assert_eq!(map.get(&key).unwrap(), Some(vec![3; 4]));
    assert!(map.delete(&key).unwrap());
    assert!(!map.delete(&key).unwrap());
    assert_eq!(map.get(&key).unwrap(), None);
}

#[test]
fn prog_array_takes_program_fds() {
    require!(Need::Kernel);
    let prog = ProgramLoad::new(ProgType::SOCKET_FILTER, &[mov(Reg::R0, 0), exit()])
        .load()
        .unwrap();
    let map = Map::create(MapDef::new(MapType::PROG_ARRAY, 4, 4, 4)).unwrap();
    let fd = (prog.as_raw_fd() as u32).to_ne_bytes();
    map.update(&0u32.to_ne_bytes(), &fd, UpdateMode::Any)
        .unwrap();
    // A lookup answers the program's id, not a file descriptor.
    let id = prog.info().unwrap().id;
    assert_eq!(
        map.get(&0u32.to_ne_bytes()).unwrap(),
        Some(id.to_ne_bytes().to_vec())
    );
    assert!(map.delete(&0u32.to_ne_bytes()).unwrap());
    // A map is not a program.
    let not_a_prog = (map.as_raw_fd() as u32).to_ne_bytes();
    assert_eq!(
        errno_of(map.update(&1u32.to_ne_bytes(), &not_a_prog, UpdateMode::Any)),
        libc::EINVAL
    );
}

#[test]
fn map_creation_errors() {
    require!(Need::Kernel);
    // An array's key is a u32.
    let err = Map::create(MapDef::new(MapType::ARRAY, 8, 8, 1)).unwrap_err();
    assert_eq!(err.errno(), Some(Errno(libc::EINVAL)));
    assert_eq!(err.command(), Some(Command::MapCreate));
    assert!(matches!(
        Map::create(MapCreate::new(MapDef::new(MapType::ARRAY, 4, 8, 1)).with_name("has space")),
        Err(Error::InvalidArgument(_))
    ));
    assert!(matches!(
        Map::create(
            MapCreate::new(MapDef::new(MapType::ARRAY, 4, 8, 1)).with_name("sixteen_chars_xx")
        ),
        Err(Error::InvalidArgument(_))
    ));
}

#[test]
fn load_and_test_run() {
    require!(Need::Kernel);
    // r0 = 0x12345678; r0 += r0 (the retval is the low 32 bits: 0x2468acf0)
    let insns = [
        mov(Reg::R0, 0x1234_5678),
        Insn::new(Opcode::Add64Reg)
            .with_dst(Reg::R0)
            .with_src(Reg::R0),
        exit(),
    ];
    let (prog, log) = ProgramLoad::new(ProgType::SOCKET_FILTER, &insns)
        .name("api_add")
        .log_level(1)
        .load_with_log()
        .unwrap();
    assert!(log.contains("processed 3 insns"), "{log}");
    assert_eq!(prog.prog_type(), ProgType::SOCKET_FILTER);

    let packet = [&PACKET[..], b"data"].concat();
    let out = prog
        .test_run(&TestRun {
            data_in: &packet,
            data_out_len: 64,
            repeat: 10,
            ..TestRun::default()
        })
        .unwrap();
    assert_eq!(out.retval, 0x2468_acf0);
    // The packet comes back, with the link-layer header zeroed for a program that runs above
    // it (net/bpf/test_run.c).
    assert_eq!(out.data_out, [&[0; 14][..], b"data"].concat());

    let info = prog.info().unwrap();
    assert_eq!(info.prog_type, ProgType::SOCKET_FILTER);
    assert_eq!(info.name, "api_add");
    assert!(info.gpl_compatible);
    assert!(info.id > 0);
    assert_eq!(info.xlated_len, 3 * 8);
    assert_eq!(prog.xlated_code().unwrap().len(), 3 * 8);
    if info.jited_len > 0 {
        assert_eq!(prog.jited_code().unwrap().len(), info.jited_len as usize);
    }
}

#[test]
fn test_run_errors() {
    require!(Need::Kernel);
    let prog = ProgramLoad::new(ProgType::SOCKET_FILTER, &[mov(Reg::R0, 0), exit()])
        .load()
        .unwrap();
    // Shorter than an Ethernet header.
    let err = prog
        .test_run(&TestRun {
            data_in: &PACKET[..10],
            ..TestRun::default()
        })
        .unwrap_err();
    assert_eq!(err.errno(), Some(Errno(libc::EINVAL)));
    assert_eq!(err.command(), Some(Command::ProgTestRun));
}

#[test]
fn rejected_program_carries_the_verifier_log() {
    require!(Need::Kernel);
    // r0 = r5; exit: r5 is never written.
    let insns = [
        Insn::new(Opcode::Mov64Reg)
            .with_dst(Reg::R0)
            .with_src(Reg::R5),
        exit(),
    ];
    // No log asked for: the failed load is repeated with one.
    let err = ProgramLoad::new(ProgType::SOCKET_FILTER, &insns)
        .load()
        .unwrap_err();
    let Error::Verifier {
        errno,
        log,
        truncated,
    } = &err
    else {
        panic!("expected a verifier error, got {err:?}");
    };
    assert_eq!(*errno, Errno(libc::EACCES));
    assert!(log.contains("R5 !read_ok"), "{log}");
    assert!(!truncated);
    let text = err.to_string();
    assert!(
        text.starts_with("bpf(BPF_PROG_LOAD) failed: EACCES (Permission denied); verifier log:\n"),
        "{text}"
    );
    assert!(text.contains("R5 !read_ok"), "{text}");

    // A log buffer too small for the log: fetched again at the size the kernel reports.
    let err = ProgramLoad::new(ProgType::SOCKET_FILTER, &insns)
        .log_level(2)
        .log_size(16)
        .load()
        .unwrap_err();
    assert!(err.to_string().contains("R5 !read_ok"), "{err}");

    // Both: no log asked for, and the retry's buffer too small.
    let err = ProgramLoad::new(ProgType::SOCKET_FILTER, &insns)
        .log_size(16)
        .load()
        .unwrap_err();
    assert_eq!(err.errno(), Some(Errno(libc::EACCES)), "{err}");
    assert!(err.to_string().contains("R5 !read_ok"), "{err}");
}

#[test]
fn errors_found_before_the_verifier_have_no_log() {
    require!(Need::Kernel);
    let err = ProgramLoad::new(ProgType(0xffff), &[mov(Reg::R0, 0), exit()])
        .load()
        .unwrap_err();
    assert!(
        matches!(
            err,
            Error::Syscall {
                command: Command::ProgLoad,
                errno: Errno(libc::EINVAL)
            }
        ),
        "{err:?}"
    );
    assert!(matches!(
        ProgramLoad::new(ProgType::SOCKET_FILTER, &[exit()])
            .license("G\0PL")
            .load(),
        Err(Error::InvalidArgument(_))
    ));
}

#[test]
fn errno_display() {
    assert_eq!(
        Errno(libc::EPERM).to_string(),
        "EPERM (Operation not permitted)"
    );
    assert_eq!(
        Errno(524).to_string(),
        "ENOTSUPP (Operation is not supported)"
    );
    assert_eq!(Errno(4000).to_string(), "errno 4000 (Unknown error 4000)");
}

/// A log that does not fit the buffer is fetched again whole: the error's log is complete and
/// ends with the verifier's reason.
#[test]
fn a_log_too_long_for_its_buffer_is_fetched_again() {
    require!(Need::Kernel);
    // exit, with r0 never set, behind enough instructions to make a log longer than 64 bytes.
    let mut insns = vec![mov(Reg::R1, 1); 40];
    insns.push(exit());
    let err = ProgramLoad::new(ProgType::SOCKET_FILTER, &insns)
        .log_level(1)
        .log_size(64)
        .load()
        .unwrap_err();
    let Error::Verifier { log, truncated, .. } = &err else {
        panic!("{err}")
    };
    assert!(!truncated, "{log}");
    assert!(log.len() > 64, "{log}");
    assert!(log.contains("R0 !read_ok"), "{log}");
}

//! Objects written by `bpfkit-asm`'s ELF writer (through the `object` crate) read back: the
//! program sits in the section it was given, with its bytes, its libbpf meaning, or none for a
//! section name libbpf does not know; `.text` makes a subprogram, not a program.

use bpfkit_asm::elf::{ElfOptions, write_object};
use bpfkit_elf::Object;
use bpfkit_isa::{Dialect, encode};
use bpfkit_uapi::{AttachType, ProgType};

const PROGRAM: &str = "
    r0 = 0
    r1 = 7
    if r1 > 5 goto +1
    r0 = 1
    exit
";

#[test]
fn assembled_objects_read_back() {
    let insns = bpfkit_asm::assemble(PROGRAM, Dialect::Llvm).unwrap();
    let code = encode(&insns);
    type Meaning = (ProgType, Option<AttachType>, Option<&'static str>);
    let cases: &[(&str, Option<Meaning>)] = &[
        ("xdp", Some((ProgType::XDP, Some(AttachType::XDP), None))),
        ("socket", Some((ProgType::SOCKET_FILTER, None, None))),
        (
            "kprobe/do_unlinkat",
            Some((ProgType::KPROBE, None, Some("do_unlinkat"))),
        ),
        (
            "lsm.s/file_open",
            Some((ProgType::LSM, Some(AttachType::LSM_MAC), Some("file_open"))),
        ),
        ("not_a_libbpf_section", None),
    ];
    for &(section, meaning) in cases {
        for license in [Some("GPL"), None] {
            let options = ElfOptions {
                section: section.into(),
                function: "entry".into(),
                license: license.map(Into::into),
            };
            let bytes = write_object(&insns, &options).unwrap();
            let object = Object::parse(&bytes).unwrap();
            assert_eq!(object.license(), license, "{section}");
            assert_eq!(object.programs().len(), 1, "{section}");
            assert!(object.subprograms().is_empty());
            let prog = &object.programs()[0];
            assert_eq!((prog.name(), prog.section_name()), ("entry", section));
            assert_eq!(prog.function.code, code.as_slice(), "{section}");
            let decoded: Vec<_> = prog
                .function
                .decode()
                .unwrap()
                .into_iter()
                .map(|(_, i)| i)
                .collect();
            assert_eq!(decoded, insns, "{section}");
            let got = prog
                .section
                .as_ref()
                .map(|s| (s.prog_type(), s.expected_attach_type(), s.attach_target()));
            assert_eq!(got, meaning, "{section}");
            if meaning.is_none() {
                assert_eq!(prog.prog_type(), ProgType::UNSPEC);
            }
        }
    }

    let options = ElfOptions {
        section: ".text".into(),
        function: "helper".into(),
        license: None,
    };
    let bytes = write_object(&insns, &options).unwrap();
    let object = Object::parse(&bytes).unwrap();
    assert!(object.programs().is_empty());
    assert_eq!(object.subprograms().len(), 1);
    assert_eq!(object.subprograms()[0].name, "helper");
    assert_eq!(object.subprograms()[0].insn_count(), insns.len());
}

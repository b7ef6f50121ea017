//! bpfkit: a pure-Rust eBPF toolchain. This facade re-exports the workspace's crates under
//! short names; each is usable on its own.
//!
//! | module | crate | what |
//! |---|---|---|
//! | [`isa`] | `bpfkit-isa` | instructions: decode, encode, print in both dialects |
//! | [`asm`] | `bpfkit-asm` | the assembler (LLVM and uBPF dialects), ELF writer |
//! | [`elf`] | `bpfkit-elf` | BPF objects: programs, maps, data, relocations, BTF.ext |
//! | [`btf`] | `bpfkit-btf` | BTF: parse, type graph, dumps, vmlinux |
//! | [`uapi`] | `bpfkit-uapi` | the kernel's UAPI as data: types, helpers, contexts |
//! | [`relo`] | `bpfkit-relo` | linking and CO-RE: an object's program as a `ProgramImage` |
//! | [`vm`] | `bpfkit-vm` | the userspace runtime: interpreter, maps, helpers, test runs |
//! | [`jit`] | `bpfkit-jit` | the JIT for x86_64 and aarch64, on the runtime of `vm` |
//! | [`verifier`] | `bpfkit-verifier` | the kernel verifier's verdict, offline, with explanations |
//! | [`loader`] | `bpfkit-loader` | objects into the kernel: BTF, maps, programs, attach (feature `sys`) |
//! | [`sys`] | `bpfkit-sys` | the `bpf(2)` system calls (feature `sys`, on by default) |
//!
//! # Testing a BPF program without root
//!
//! For authors of BPF programs: open the object clang built, run a program as
//! `BPF_PROG_TEST_RUN` would (the packet laid out, the context converted, the errors the
//! kernel gives), then read its maps and globals back by name. No root, no kernel, any
//! machine; the results are checked against the kernel's own test runs.
//!
//! ```
//! use bpfkit::vm::{TestObject, TestRun};
//!
//! let bytes = std::fs::read(concat!(
//!     env!("CARGO_MANIFEST_DIR"),
//!     "/../../testdata/obj/xdp_parse.v3.g.o"
//! ))?;
//! let mut obj = TestObject::builder(&bytes).cpus(2).build()?;
//! let mut packet = [0u8; 42]; // Ethernet, IPv4 with protocol 6 (TCP)
//! packet[12..14].copy_from_slice(&[0x08, 0x00]);
//! packet[14] = 0x45;
//! packet[23] = 6;
//! let out = obj.test_run("xdp_parse", &TestRun { data: &packet, ..TestRun::default() })?;
//! assert_eq!(out.retval, 2); // XDP_PASS
//! assert_eq!(out.data_out, packet);
//! let tcp = obj.map("proto_count").unwrap().lookup(&6u32.to_le_bytes()).unwrap();
//! assert_eq!(tcp, 1u64.to_le_bytes());
//! // byte_count is per-cpu: one value per simulated CPU; the run was on CPU 0.
//! let bytes = obj.map("byte_count").unwrap().lookup_percpu(&0u32.to_le_bytes()).unwrap();
//! assert_eq!(bytes, [&42u64.to_le_bytes()[..], &[0; 8][..]]);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! Global variables are read and set by name, time, CPU, task and random numbers are settable
//! on the [`vm::Host`], and ring buffer and perf records are kept for the test:
//!
//! ```
//! use bpfkit::vm::{TestObject, TestRun};
//!
//! let bytes = std::fs::read(concat!(
//!     env!("CARGO_MANIFEST_DIR"),
//!     "/../../testdata/obj/global_data.v3.o"
//! ))?;
//! let mut obj = TestObject::open(&bytes)?;
//! obj.set_global_value("max_len", 60u32)?; // a `const volatile` in .rodata
//! let out = obj.test_run("xdp_globals", &TestRun { data: &[0; 100], ..TestRun::default() })?;
//! assert_eq!(out.retval, 1); // XDP_DROP: longer than max_len
//! assert_eq!(obj.global_value::<u64>("drops"), Some(1));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Running bytecode
//!
//! For embedders of a VM: assemble (or decode) instructions, give them helpers and maps, run
//! them on memory. Every access is bounds-checked; a bad program faults, it never escapes.
//!
//! ```
//! use bpfkit::asm::assemble;
//! use bpfkit::isa::Dialect;
//! use bpfkit::vm::Vm;
//!
//! let prog = assemble("r0 = *(u8 *)(r1 + 2)\nr0 += r2\nexit", Dialect::Llvm)?;
//! let mut vm = Vm::new(&prog)?;
//! assert_eq!(vm.run(&mut [1, 2, 3])?, 3 + 3);
//! assert!(vm.run(&mut [1]).is_err()); // reads past the input: a typed fault
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! The same program compiled by the JIT runs on the same runtime, with the same checks:
//!
//! ```
//! # #[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))] {
//! use bpfkit::asm::assemble;
//! use bpfkit::isa::Dialect;
//! use bpfkit::jit::Jit;
//! use bpfkit::vm::Vm;
//!
//! let prog = assemble("r0 = *(u8 *)(r1 + 2)\nr0 += r2\nexit", Dialect::Llvm)?;
//! let mut jit = Jit::new(Vm::new(&prog)?)?;
//! assert_eq!(jit.run(&mut [1, 2, 3])?, 3 + 3);
//! assert!(jit.run(&mut [1]).is_err());
//! # }
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Checking a program offline
//!
//! For CI pipelines that lint BPF code: the kernel verifier's verdict without root, with the
//! instruction, the path and a hint when it would reject.
//!
//! ```
//! use bpfkit::asm::assemble;
//! use bpfkit::isa::Dialect;
//! use bpfkit::uapi::ProgType;
//! use bpfkit::verifier::{Program, verify};
//!
//! let insns = assemble("r2 = *(u32 *)(r1 + 0)\nr0 = *(u8 *)(r2 + 0)\nexit", Dialect::Llvm)?;
//! let verdict = verify(&Program::new(&insns, ProgType::XDP));
//! let diag = verdict.error.unwrap();
//! assert_eq!(diag.message.to_string(), "R2 offset is outside of the packet");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Reading objects and BTF
//!
//! For tools (what `bpfkit objdump` and `bpfkit btf dump` are built on): the programs, maps
//! and types of an object, as a loader sees them.
//!
//! ```
//! use bpfkit::btf::Kind;
//! use bpfkit::elf::Object;
//! use bpfkit::uapi::{MapType, ProgType};
//!
//! let bytes = std::fs::read(concat!(
//!     env!("CARGO_MANIFEST_DIR"),
//!     "/../../testdata/obj/xdp_parse.v3.g.o"
//! ))?;
//! let object = Object::parse(&bytes)?;
//! let program = object.program("xdp_parse").unwrap();
//! assert_eq!(program.prog_type(), ProgType::XDP);
//! let maps: Vec<(&str, MapType)> = object.maps().iter().map(|m| (m.name, m.def.map_type)).collect();
//! assert!(maps.contains(&("byte_count", MapType::PERCPU_ARRAY)));
//! let btf = object.btf().unwrap();
//! assert!(btf.find_by_name_kind("xdp_parse", Kind::Func).is_some());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Linking and CO-RE
//!
//! For loaders: one program of an object becomes a [`relo::ProgramImage`] (subprograms
//! appended, calls fixed, CO-RE applied against a target BTF, maps kept as indices into the
//! object's map table), the form the runtime, the verifier and the kernel loader take.
//!
//! ```
//! use bpfkit::elf::Object;
//! use bpfkit::relo::Linker;
//!
//! let bytes = std::fs::read(concat!(
//!     env!("CARGO_MANIFEST_DIR"),
//!     "/../../testdata/obj/subprogs.v3.g.o"
//! ))?;
//! let object = Object::parse(&bytes)?;
//! let image = Linker::new(&object).link("xdp_subprogs")?;
//! let names: Vec<&str> = image.functions.iter().map(|f| f.name.as_str()).collect();
//! assert_eq!(names[0], "xdp_subprogs");
//! assert!(names.contains(&"sum_bytes") && names.contains(&"clamp"));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # The kernel
//!
//! With the `sys` feature, [`loader`] hands a whole object to the running kernel as libbpf
//! would (BTF fixed up, maps created, globals, CO-RE, programs with their line info) and
//! attaches its programs; the verifier's log comes back with a rejection:
//!
//! ```
//! # #[cfg(feature = "sys")] {
//! use bpfkit::loader::ObjectSpec;
//!
//! let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../testdata/obj/xdp_parse.v3.g.o");
//! let spec = ObjectSpec::open_file(path)?;
//! if bpfkit::sys::probe().is_ok() {
//!     let loaded = spec.load()?;
//!     let counts = loaded.map("proto_count")?;
//!     assert_eq!(counts.map.get(&6u32.to_ne_bytes()).unwrap(), Some(vec![0; 8]));
//! }
//! # }
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! With the `sys` feature: load programs into the running kernel and test-run them there,
//! the oracle every userspace result is checked against (needs root).
//!
//! ```
//! # #[cfg(feature = "sys")] {
//! use bpfkit::isa::{Insn, Opcode, Reg};
//! use bpfkit::sys::{ProgType, ProgramLoad, TestRun};
//!
//! if bpfkit::sys::probe().is_ok() {
//!     let insns = [
//!         Insn::new(Opcode::Mov64Imm).with_dst(Reg::R0).with_imm(2),
//!         Insn::new(Opcode::Exit),
//!     ];
//!     let prog = ProgramLoad::new(ProgType::XDP, &insns).load()?;
//!     let out = prog.test_run(&TestRun { data_in: &[0; 14], ..TestRun::default() })?;
//!     assert_eq!(out.retval, 2);
//! }
//! # }
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub use bpfkit_asm as asm;
pub use bpfkit_btf as btf;
pub use bpfkit_elf as elf;
pub use bpfkit_isa as isa;
#[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
pub use bpfkit_jit as jit;
#[cfg(feature = "sys")]
pub use bpfkit_loader as loader;
pub use bpfkit_relo as relo;
#[cfg(feature = "sys")]
pub use bpfkit_sys as sys;
pub use bpfkit_uapi as uapi;
pub use bpfkit_verifier as verifier;
pub use bpfkit_vm as vm;

//! Loads clang-built BPF objects into the running kernel, without libbpf: BTF (fixed up and
//! sanitized for the kernel), maps of every kind (BTF-defined and legacy, map-in-map, program
//! arrays, pinned by name), global data (mmapable, `.rodata` frozen), CO-RE against the
//! running kernel, `.kconfig`/`__ksym`/kfunc externs, func_info and line_info, programs with
//! their BTF attach targets; then attach points, links and event readers.
//!
//! Built on [`bpfkit_relo`] (linking: every program becomes a
//! [`ProgramImage`](bpfkit_relo::ProgramImage)) and [`bpfkit_sys`] (the system calls).
//!
//! - [`ObjectSpec`]: an object opened for loading; global variables and map definitions can be
//!   changed before [`ObjectSpec::load`].
//! - [`LoadedObject`]: the object in the kernel: [`LoadedMap`]s, [`LoadedProgram`]s, global
//!   variables read and written from Rust. Everything is closed on drop.
//! - [`LoadedProgram::attach`]: the program on its hook, as an [`Attachment`] that detaches
//!   on drop.
//! - [`features`]: what the running kernel supports.
//! - [`diff`]: the kernel as the oracle of our engines: the same image and input in both,
//!   everything compared.
//!
//! ```
//! use bpfkit_loader::ObjectSpec;
//!
//! let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../testdata/obj/xdp_parse.v3.g.o");
//! let spec = ObjectSpec::open_file(path)?;
//! if bpfkit_sys::probe().is_ok() {
//!     let loaded = spec.load()?;
//!     let info = loaded.program("xdp_parse")?.program.info().unwrap();
//!     assert_eq!(info.name, "xdp_parse");
//!     // The map the program counts into, read from Rust.
//!     let counts = loaded.map("proto_count")?;
//!     assert_eq!(counts.map.get(&6u32.to_ne_bytes()).unwrap(), Some(vec![0; 8]));
//! }
//! # Ok::<(), bpfkit_loader::LoadError>(())
//! ```

#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod attach;
mod bind;
pub mod btf_fixup;
pub mod diff;
mod error;
pub mod features;
mod kernel_btf;
mod maps;
mod object;
pub mod sanitize;
mod spec;
pub mod uprobe;
pub mod verifier_log;

pub use attach::{AttachPoint, Attachment};
pub use bind::Binding;
pub use bpfkit_sys::netlink::TcDirection;
pub use btf_fixup::{FixupError, fixup_btf, fixup_btf_for_load};
pub use error::LoadError;
pub use kernel_btf::{Found, KernelBtf};
pub use maps::LoadedMap;
pub use object::{LoadedObject, LoadedProgram};
pub use sanitize::{BtfFeatures, sanitize_btf};
pub use spec::{CoreSource, GlobalVar, LoadOptions, ObjectSpec, ProgramSpec};

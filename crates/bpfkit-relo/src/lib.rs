//! Linking and CO-RE: one program of an [`Object`](bpfkit_elf::Object) becomes a
//! [`ProgramImage`], the form every consumer takes (the userspace VM, both JITs, the verifier
//! and the kernel loader), so that no consumer links an object its own way.
//!
//! - [`Linker`] links programs as libbpf does: CO-RE relocations on every function first
//!   ([`core`], all 13 kinds against a [`CoreTarget`]), then each program gets every
//!   subprogram it reaches appended depth-first, calls and function addresses fixed,
//!   func_info and line_info rebased.
//! - Maps, global data, `.kconfig` values and `__ksym`s stay symbolic in the image
//!   ([`Reference`]): an `lddw` with `BPF_PSEUDO_MAP_IDX(_VALUE)` indexes the object's map table
//!   ([`ObjectImage::maps`]: its maps, then global data sections and `.kconfig` as one-value
//!   arrays), which the VM binds to its maps and the kernel loader to file descriptors.
//! - `.kconfig` values come from the running kernel's config or a [`Kconfig`] the caller gives,
//!   typed and laid out as libbpf does.
//!
//! ```
//! use bpfkit_elf::Object;
//! use bpfkit_relo::{Linker, RefTarget};
//!
//! let bytes = std::fs::read(concat!(
//!     env!("CARGO_MANIFEST_DIR"),
//!     "/../../testdata/obj/xdp_parse.v3.g.o"
//! ))?;
//! let object = Object::parse(&bytes)?;
//! let image = Linker::new(&object).link("xdp_parse")?;
//! // Every map reference is an lddw of the map's slot in the object's table.
//! let maps: Vec<&str> = image
//!     .refs
//!     .iter()
//!     .filter_map(|r| match r.target {
//!         RefTarget::Map(slot) => Some(image.map(slot).unwrap().name.as_str()),
//!         _ => None,
//!     })
//!     .collect();
//! assert!(maps.contains(&"proto_count"));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod core;
mod error;
mod image;
mod kconfig;
mod link;
mod object;

pub use crate::core::{CoreError, CoreOutcome, CoreTarget};
pub use error::{CoreFailure, LinkError, LinkErrorKind};
pub use image::{
    CoreReport, ExternSpec, ExternSpecKind, FuncInfo, ImageFunction, LineInfo, MapOrigin, MapSlot,
    MapSpec, ObjectImage, ProgramImage, RefTarget, Reference, SlotTarget,
};
pub use kconfig::{Kconfig, KconfigError, kernel_version, version_code};
pub use link::Linker;

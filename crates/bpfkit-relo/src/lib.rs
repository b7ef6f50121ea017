//! Linking and CO-RE: one program of an [`Object`](bpfkit_elf::Object) becomes a
//! [`ProgramImage`], the form every consumer takes (the userspace VM, both JITs, the verifier
//! and the kernel loader), so that no consumer links an object its own way.
//!
//! - [`core`]: CO-RE relocation of one instruction against a target BTF (libbpf's
//!   `relo_core.c` rules, all 13 kinds).

#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod core;

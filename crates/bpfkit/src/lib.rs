//! bpfkit: a pure-Rust eBPF toolchain.
//!
//! This facade re-exports the workspace's crates under short names.

pub use bpfkit_asm as asm;
pub use bpfkit_isa as isa;
pub use bpfkit_loader as loader;
pub use bpfkit_sys as sys;
pub use bpfkit_vm as vm;

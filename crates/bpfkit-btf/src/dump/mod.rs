//! Text dumps of BTF, the same as bpftool's.
//!
//! - [`raw()`]: `bpftool btf dump file FILE format raw`, byte for byte.
//! - [`c()`]: `bpftool btf dump file FILE format c`, a header that compiles (the
//!   [`c` module](mod@c) lists what cannot be the same, and why).

pub mod c;
mod out;
mod raw;

pub use c::{CDumpOptions, c};
pub use raw::raw;

/// Why a dump stopped.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DumpError {
    /// Writing the output failed.
    #[error("writing the dump: {0}")]
    Io(#[from] std::io::Error),
    /// The types cannot be printed as C (a cycle C cannot express, nesting too deep, ...).
    #[error(transparent)]
    Btf(#[from] crate::BtfError),
}

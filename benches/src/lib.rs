//! Shared helpers for the criterion benches: the interpreter benchmark corpus, adapters that run
//! it on bpfkit and on its peers (rbpf 0.4.1, solana-sbpf 0.26), and the native Rust baselines.
//!
//! Every program of the corpus (`benches/programs/*.s`, LLVM dialect) takes its input the way
//! `bpfkit run` passes it: `r1` points at a mutable input buffer and `r2` holds its length. Each
//! returns a checksum-like `r0`, and each has a native Rust implementation of the same algorithm
//! ([`native`]) that serves both as the reference result and as the speed floor.
//!
//! ```
//! use bpfkit_benches::{Engine, PROGRAMS};
//!
//! let checksum = PROGRAMS.iter().find(|p| p.name == "checksum").unwrap();
//! let mut input = (checksum.input)();
//! let expected = (checksum.native)(&mut input.clone());
//! for &engine in checksum.engines {
//!     assert_eq!(engine.run_once(checksum, &mut input.clone()), Ok(expected), "{engine}");
//! }
//! ```

#![deny(missing_docs)]

mod corpus;
pub mod engines;
pub mod inputs;
pub mod jit;
pub mod native;
pub mod report;

pub use corpus::{BOUNDED, Engine, PROGRAMS, Program};

//! The `bpfkit` command line.

fn main() {}

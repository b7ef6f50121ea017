//! bpfkit-isa (work in progress).

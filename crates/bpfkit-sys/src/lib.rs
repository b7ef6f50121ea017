//! bpfkit-sys (work in progress).

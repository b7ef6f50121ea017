//! bpfkit-btf (work in progress).

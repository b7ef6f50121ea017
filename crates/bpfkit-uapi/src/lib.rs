//! bpfkit-uapi (work in progress).

//! bpfkit-vm (work in progress).

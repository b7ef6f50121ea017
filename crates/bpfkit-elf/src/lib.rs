//! bpfkit-elf (work in progress).

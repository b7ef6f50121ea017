//! bpfkit-asm (work in progress).

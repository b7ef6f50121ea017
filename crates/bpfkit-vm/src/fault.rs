//! Why a run stopped early.

use crate::memory::{Access, Memory};

/// A run ended abnormally. `pc` is the slot index of the instruction at fault.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Fault {
    /// A load or store outside every region, past a region's end, or into a handle region.
    #[error("pc {pc}: {access} of {size} bytes at {addr:#x} is outside the program's memory")]
    OutOfBounds {
        /// The instruction.
        pc: usize,
        /// The virtual address.
        addr: u64,
        /// The access size in bytes.
        size: usize,
        /// Read or write.
        access: Access,
    },
    /// A store into a read-only region.
    #[error("pc {pc}: write of {size} bytes at {addr:#x} into read-only memory")]
    ReadOnly {
        /// The instruction.
        pc: usize,
        /// The virtual address.
        addr: u64,
        /// The access size in bytes.
        size: usize,
    },
    /// An access not aligned to its size while strict alignment is on.
    #[error("pc {pc}: misaligned {access} of {size} bytes at {addr:#x}")]
    Misaligned {
        /// The instruction.
        pc: usize,
        /// The virtual address.
        addr: u64,
        /// The access size in bytes.
        size: usize,
        /// Read or write.
        access: Access,
    },
    /// A bpf-to-bpf call past the kernel's limit of 8 frames.
    #[error("pc {pc}: call depth exceeds {max} frames")]
    CallDepth {
        /// The call instruction.
        pc: usize,
        /// The limit.
        max: usize,
    },
    /// A call to a helper id with no registered function.
    #[error("pc {pc}: unsupported helper {id}{}", helper_suffix(*id))]
    UnknownHelper {
        /// The call instruction.
        pc: usize,
        /// The helper id.
        id: u32,
    },
    /// A helper reported an error.
    #[error("pc {pc}: helper {id} failed: {message}")]
    Helper {
        /// The call instruction.
        pc: usize,
        /// The helper id.
        id: u32,
        /// The helper's explanation.
        message: String,
    },
    /// A kfunc call: there are no kernel functions in userspace.
    #[error("pc {pc}: kfunc call (BTF id {btf_id}) cannot run in userspace")]
    Kfunc {
        /// The call instruction.
        pc: usize,
        /// The kfunc's BTF id.
        btf_id: i32,
    },
    /// More tail calls than the kernel's limit, when such calls are set to fault.
    #[error("pc {pc}: more than {max} tail calls")]
    TailCallLimit {
        /// The call instruction.
        pc: usize,
        /// The limit.
        max: u32,
    },
    /// The instruction budget ran out.
    #[error("pc {pc}: instruction budget of {budget} exhausted")]
    Budget {
        /// The instruction that would have run next.
        pc: usize,
        /// The budget.
        budget: u64,
    },
}

/// ` (bpf_name)` for a helper the UAPI table names.
fn helper_suffix(id: u32) -> String {
    crate::helpers::helper_name(id).map_or_else(String::new, |n| format!(" ({n})"))
}

impl Fault {
    /// The fault for a store of `size` bytes at `addr` that `mem` refused: read-only memory,
    /// or no memory at all.
    #[cold]
    pub fn on_write(mem: &Memory<'_>, pc: usize, addr: u64, size: usize) -> Fault {
        Fault::write_refused(pc, addr, size, mem.is_read_only(addr))
    }

    /// The fault for a refused store of `size` bytes at `addr`, given whether `addr` is in
    /// read-only memory (else it is in no memory at all): for engines that keep their own view
    /// of the regions, as the JIT's region table.
    #[cold]
    pub fn write_refused(pc: usize, addr: u64, size: usize, read_only: bool) -> Fault {
        if read_only {
            Fault::ReadOnly { pc, addr, size }
        } else {
            Fault::OutOfBounds {
                pc,
                addr,
                size,
                access: Access::Write,
            }
        }
    }

    /// The slot index of the faulting instruction.
    pub fn pc(&self) -> usize {
        match *self {
            Fault::OutOfBounds { pc, .. }
            | Fault::ReadOnly { pc, .. }
            | Fault::Misaligned { pc, .. }
            | Fault::CallDepth { pc, .. }
            | Fault::UnknownHelper { pc, .. }
            | Fault::Helper { pc, .. }
            | Fault::Kfunc { pc, .. }
            | Fault::TailCallLimit { pc, .. }
            | Fault::Budget { pc, .. } => pc,
        }
    }
}

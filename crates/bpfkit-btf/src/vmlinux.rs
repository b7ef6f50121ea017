//! The running kernel's BTF in sysfs: vmlinux's, and each module's as split BTF on top of it.
//!
//! Reading is separate from parsing because [`Btf`](crate::Btf) borrows its bytes: read once,
//! keep the `Vec`, parse as often as needed.
//!
//! ```no_run
//! use bpfkit_btf::{Btf, vmlinux};
//!
//! let base_data = vmlinux::read_vmlinux()?;
//! let base = Btf::parse(&base_data)?;
//! for name in vmlinux::module_names()? {
//!     let data = vmlinux::read_module(&name)?;
//!     let module = Btf::parse_split(&data, &base)?;
//!     println!("{name}: {} types", module.own_type_count());
//! }
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::io;
use std::path::PathBuf;

/// Where the kernel exposes BTF: `vmlinux` and one file per module.
pub const SYSFS_BTF_DIR: &str = "/sys/kernel/btf";

/// The kernel's own BTF.
pub const VMLINUX_PATH: &str = "/sys/kernel/btf/vmlinux";

/// Reads `/sys/kernel/btf/vmlinux`.
pub fn read_vmlinux() -> io::Result<Vec<u8>> {
    std::fs::read(VMLINUX_PATH)
}

/// Reads a module's split BTF, `/sys/kernel/btf/NAME`.
pub fn read_module(name: &str) -> io::Result<Vec<u8>> {
    if name.contains('/') || name == ".." {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "not a module name",
        ));
    }
    std::fs::read(PathBuf::from(SYSFS_BTF_DIR).join(name))
}

/// Names of the modules that have BTF, sorted.
pub fn module_names() -> io::Result<Vec<String>> {
    let mut names: Vec<String> = std::fs::read_dir(SYSFS_BTF_DIR)?
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|n| n != "vmlinux")
        .collect();
    names.sort();
    Ok(names)
}

//! The running kernel's types and symbols, for what the loader resolves against it: vmlinux's
//! BTF and its modules' (CO-RE, typed `__ksym`s, kfuncs, BTF attach targets), the kernel's
//! BTF objects (a module's id goes with a type found in it), and `/proc/kallsyms` (typeless
//! `__ksym`s).

use std::collections::HashMap;
use std::os::fd::{AsFd, BorrowedFd};
use std::path::PathBuf;

use bpfkit_btf::{Btf, Kind, TypeId};
use bpfkit_sys::{BtfObject, ObjectKind};

use crate::error::LoadError;

/// The kernel's BTF, read once: vmlinux and, read when first needed, each module's.
pub struct KernelBtf {
    vmlinux: Vec<u8>,
    /// Names looked up in vmlinux so far, and what was found.
    cache: HashMap<(Kind, String), Option<TypeId>>,
    modules: Option<Vec<(String, Vec<u8>)>>,
    module_dir: PathBuf,
    objects: HashMap<String, BtfObject>,
}

/// Where a type was found: vmlinux or a module (whose BTF object the kernel must be given).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Found {
    /// The type's id (in the module's split BTF, ids continue after vmlinux's).
    pub id: TypeId,
    /// The module, or `None` for vmlinux.
    pub module: Option<String>,
}

impl KernelBtf {
    /// Reads `/sys/kernel/btf/vmlinux`.
    pub fn running() -> Result<KernelBtf, LoadError> {
        let vmlinux = bpfkit_btf::vmlinux::read_vmlinux().map_err(|e| LoadError::KernelBtf {
            path: bpfkit_btf::vmlinux::VMLINUX_PATH.into(),
            reason: e.to_string(),
        })?;
        Ok(KernelBtf::from_vmlinux(vmlinux))
    }

    /// Kernel BTF from a vmlinux blob; no modules.
    pub fn from_vmlinux(vmlinux: Vec<u8>) -> KernelBtf {
        KernelBtf {
            vmlinux,
            cache: HashMap::new(),
            modules: None,
            module_dir: PathBuf::from(bpfkit_btf::vmlinux::SYSFS_BTF_DIR),
            objects: HashMap::new(),
        }
    }

    /// vmlinux's raw BTF.
    pub fn vmlinux_bytes(&self) -> &[u8] {
        &self.vmlinux
    }

    /// vmlinux's BTF, parsed.
    pub fn vmlinux(&self) -> Result<Btf<'_>, LoadError> {
        Btf::parse(&self.vmlinux).map_err(|e| LoadError::KernelBtf {
            path: "vmlinux".into(),
            reason: e.to_string(),
        })
    }

    fn read_modules(&mut self) {
        if self.modules.is_some() {
            return;
        }
        let mut modules = Vec::new();
        if self.module_dir.as_os_str() == bpfkit_btf::vmlinux::SYSFS_BTF_DIR {
            for name in bpfkit_btf::vmlinux::module_names().unwrap_or_default() {
                if let Ok(data) = bpfkit_btf::vmlinux::read_module(&name) {
                    modules.push((name, data));
                }
            }
        }
        self.modules = Some(modules);
    }

    /// Looks up every `(kind, name)` of `wanted` in vmlinux in one pass (one parse of
    /// vmlinux), so that [`KernelBtf::find`] answers them from memory.
    pub fn prefetch(&mut self, wanted: &[(Kind, String)]) -> Result<(), LoadError> {
        let missing: Vec<&(Kind, String)> = wanted
            .iter()
            .filter(|w| !self.cache.contains_key(*w))
            .collect();
        if missing.is_empty() {
            return Ok(());
        }
        let mut found: HashMap<(Kind, String), Option<TypeId>> =
            missing.iter().map(|w| ((*w).clone(), None)).collect();
        let vmlinux = self.vmlinux()?;
        for t in vmlinux.types() {
            let kind = t.kind();
            if !missing.iter().any(|(k, _)| *k == kind) {
                continue;
            }
            let name = t.name_bytes();
            for (k, n) in &missing {
                if *k == kind && n.as_bytes() == name {
                    let slot = found.get_mut(&(*k, n.clone())).expect("inserted above");
                    // The first of a name wins, as in a search by id.
                    slot.get_or_insert(t.id());
                }
            }
        }
        self.cache.extend(found);
        Ok(())
    }

    /// Finds the type named `name` of kind `kind`: in vmlinux first, then in each module.
    pub fn find(&mut self, name: &str, kind: Kind) -> Result<Option<Found>, LoadError> {
        let key = (kind, name.to_string());
        self.prefetch(std::slice::from_ref(&key))?;
        if let Some(Some(id)) = self.cache.get(&key) {
            return Ok(Some(Found {
                id: *id,
                module: None,
            }));
        }
        self.read_modules();
        let base = self.vmlinux()?;
        for (module, data) in self.modules.as_deref().unwrap_or_default() {
            let Ok(btf) = Btf::parse_split(data, &base) else {
                continue;
            };
            // Only the module's own types: the base's were searched above.
            if let Some(id) = btf.find_by_name_kind(name, kind)
                && id.0 >= btf.first_id().0
            {
                return Ok(Some(Found {
                    id,
                    module: Some(module.clone()),
                }));
            }
        }
        Ok(None)
    }

    /// The kernel's BTF object of `module`, opened once (its file descriptor goes into
    /// `fd_array` for kfuncs and into `lddw` for typed ksyms).
    pub fn module_object(&mut self, module: &str) -> Result<BorrowedFd<'_>, LoadError> {
        if !self.objects.contains_key(module) {
            let object = find_kernel_btf_object(module)?;
            self.objects.insert(module.to_string(), object);
        }
        Ok(self.objects[module].as_fd())
    }
}

impl KernelBtf {
    /// The BTF object of `module`, if [`KernelBtf::module_object`] opened it.
    pub fn opened_module_object(&self, module: &str) -> Option<BorrowedFd<'_>> {
        self.objects.get(module).map(|o| o.as_fd())
    }
}

/// Opens the kernel's BTF object named `name` by walking the BTF ids.
fn find_kernel_btf_object(name: &str) -> Result<BtfObject, LoadError> {
    let fail = |reason: String| LoadError::KernelBtf {
        path: format!("BTF object of module {name}"),
        reason,
    };
    let ids = bpfkit_sys::ids(ObjectKind::Btf).map_err(|e| fail(e.to_string()))?;
    for id in ids {
        let Ok(object) = BtfObject::from_id(id) else {
            continue;
        };
        match object.info() {
            Ok(info) if info.kernel_btf && info.name == name => return Ok(object),
            _ => {}
        }
    }
    Err(fail("no kernel BTF object has that name".into()))
}

/// The addresses of `names` in `/proc/kallsyms` (readable as root; zeros otherwise), as
/// libbpf's `kallsyms_cb` resolves typeless `__ksym`s. A name listed twice at different
/// addresses is ambiguous.
pub fn kallsyms(names: &[&str]) -> Result<HashMap<String, u64>, LoadError> {
    let text = std::fs::read("/proc/kallsyms").map_err(|e| LoadError::KernelBtf {
        path: "/proc/kallsyms".into(),
        reason: e.to_string(),
    })?;
    let mut found: HashMap<String, u64> = HashMap::new();
    // `ADDRESS TYPE NAME[\t[MODULE]]` per line; 100k+ lines, so no per-line allocation.
    for line in text.split(|&b| b == b'\n') {
        let Some(sp1) = line.iter().position(|&b| b == b' ') else {
            continue;
        };
        let rest = &line[sp1 + 1..];
        let Some(sp2) = rest.iter().position(|&b| b == b' ') else {
            continue;
        };
        let name_field = &rest[sp2 + 1..];
        let end = name_field
            .iter()
            .position(|&b| b == b'\t' || b == b' ')
            .unwrap_or(name_field.len());
        let name = &name_field[..end];
        let Some(name) = names.iter().find(|n| n.as_bytes() == name) else {
            continue;
        };
        let Some(addr) = std::str::from_utf8(&line[..sp1])
            .ok()
            .and_then(|a| u64::from_str_radix(a, 16).ok())
        else {
            continue;
        };
        if let Some(&prev) = found.get(*name)
            && prev != addr
        {
            return Err(LoadError::Extern {
                name: name.to_string(),
                reason: format!("resolution is ambiguous: {prev:#x} or {addr:#x}"),
            });
        }
        found.insert(name.to_string(), addr);
    }
    Ok(found)
}

//! [`ObjectSpec`]: an object opened for loading — parsed, every program linked (CO-RE against
//! the running kernel), its BTF fixed up — whose global variables and map definitions can still
//! be changed before [`ObjectSpec::load`] puts it into the kernel.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use bpfkit_btf::Btf;
use bpfkit_elf::Object;
use bpfkit_relo::{
    CoreTarget, Kconfig, LinkError, Linker, MapOrigin, MapSlot, MapSpec, ObjectImage, ProgramImage,
};
use bpfkit_uapi::ProgType;

use crate::btf_fixup::fixup_btf_for_load;
use crate::error::{LoadError, position_named};
use crate::kernel_btf::KernelBtf;
use crate::sanitize::BtfFeatures;

/// Where CO-RE relocations look for the kernel's types.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum CoreSource {
    /// The running kernel's BTF (`/sys/kernel/btf/vmlinux`).
    #[default]
    RunningKernel,
    /// A raw BTF file (a vmlinux BTF blob of another kernel).
    File(PathBuf),
}

/// How to open and load an object.
#[derive(Clone, Debug)]
pub struct LoadOptions {
    /// The BTF CO-RE relocations are applied against.
    pub core: CoreSource,
    /// `.kconfig` values (default: the running kernel's config, read only if needed).
    pub kconfig: Option<Kconfig>,
    /// Where maps with `pinning = LIBBPF_PIN_BY_NAME` are pinned (`DIR/NAME`).
    pub pin_root: PathBuf,
    /// The verifier log level of every program load (0: a log only when a load fails).
    pub log_level: u32,
    /// The BTF kinds to assume the kernel has, instead of probing (to check sanitizing).
    pub btf_features: Option<BtfFeatures>,
}

impl Default for LoadOptions {
    fn default() -> LoadOptions {
        LoadOptions {
            core: CoreSource::RunningKernel,
            kconfig: None,
            pin_root: PathBuf::from("/sys/fs/bpf"),
            log_level: 0,
            btf_features: None,
        }
    }
}

/// A program of an [`ObjectSpec`]: linked, or why it could not be.
#[derive(Debug)]
pub struct ProgramSpec {
    /// Its name (the function symbol).
    pub name: String,
    /// Its section.
    pub section: String,
    /// Its program type from the section name.
    pub prog_type: ProgType,
    /// The linked image, or why linking failed (the program cannot be loaded).
    pub image: Result<ProgramImage, Arc<LinkError>>,
    /// Whether [`ObjectSpec::load`] loads it (default: yes).
    pub autoload: bool,
}

/// A global variable: where its bytes live in the object's map table.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GlobalVar {
    /// Its name.
    pub name: String,
    /// The data map holding it.
    pub map: MapSlot,
    /// Byte offset in the map's value.
    pub offset: usize,
    /// Size in bytes.
    pub size: usize,
}

/// An object opened for loading.
///
/// ```
/// use bpfkit_loader::ObjectSpec;
///
/// let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../testdata/obj/global_data.v3.g.o");
/// let mut spec = ObjectSpec::open_file(path)?;
/// // Global variables can be read and changed before the object is loaded.
/// assert_eq!(spec.global("packets"), Some(&1i32.to_ne_bytes()[..]));
/// spec.set_global("packets", &7i32.to_ne_bytes())?;
/// if bpfkit_sys::probe().is_ok() {
///     let loaded = spec.load()?;
///     assert_eq!(loaded.global("packets")?, 7i32.to_ne_bytes());
/// }
/// # Ok::<(), bpfkit_loader::LoadError>(())
/// ```
#[derive(Debug)]
pub struct ObjectSpec {
    pub(crate) name: String,
    pub(crate) object: Arc<ObjectImage>,
    pub(crate) programs: Vec<ProgramSpec>,
    pub(crate) globals: Vec<GlobalVar>,
    pub(crate) options: LoadOptions,
}

impl ObjectSpec {
    /// Opens the object file at `path` with default options.
    pub fn open_file(path: impl AsRef<Path>) -> Result<ObjectSpec, LoadError> {
        ObjectSpec::open_file_with(path, LoadOptions::default())
    }

    /// Opens the object file at `path`.
    pub fn open_file_with(
        path: impl AsRef<Path>,
        options: LoadOptions,
    ) -> Result<ObjectSpec, LoadError> {
        let path = path.as_ref();
        let bytes = std::fs::read(path).map_err(|source| LoadError::Read {
            path: path.display().to_string(),
            source,
        })?;
        ObjectSpec::open_with(&bytes, &object_name(path), options)
    }

    /// Opens an object from its bytes, with default options; `name` is the object's name
    /// (libbpf's: the file name up to its first dot), which prefixes the kernel names of its
    /// global data maps.
    pub fn open(bytes: &[u8], name: &str) -> Result<ObjectSpec, LoadError> {
        ObjectSpec::open_with(bytes, name, LoadOptions::default())
    }

    /// Opens an object from its bytes.
    pub fn open_with(
        bytes: &[u8],
        name: &str,
        options: LoadOptions,
    ) -> Result<ObjectSpec, LoadError> {
        let object = Object::parse(bytes)?;
        let has_core = object.functions().any(|f| !f.core_relos.is_empty());
        let target_bytes = if has_core {
            Some(match &options.core {
                CoreSource::RunningKernel => KernelBtf::running()?.vmlinux_bytes().to_vec(),
                CoreSource::File(path) => {
                    std::fs::read(path).map_err(|e| LoadError::KernelBtf {
                        path: path.display().to_string(),
                        reason: e.to_string(),
                    })?
                }
            })
        } else {
            None
        };
        let target_btf = match &target_bytes {
            Some(bytes) => Some(Btf::parse(bytes).map_err(|e| LoadError::KernelBtf {
                path: "CO-RE target".into(),
                reason: e.to_string(),
            })?),
            None => None,
        };
        let target = target_btf.as_ref().map(CoreTarget::new);
        let mut linker = Linker::new(&object);
        if let Some(target) = &target {
            linker = linker.with_core_target(target);
        }
        if let Some(kconfig) = &options.kconfig {
            linker = linker.with_kconfig(kconfig.clone());
        }
        let shared = linker.object_image()?;
        let mut image = (*shared).clone();
        image.btf = fixup_btf_for_load(&object, &shared)?;
        let object_image = Arc::new(image);
        let programs = object
            .programs()
            .iter()
            .map(|p| {
                let image = linker.link(p.name()).map_err(Arc::new).map(|mut image| {
                    image.object = object_image.clone();
                    image
                });
                ProgramSpec {
                    name: p.name().to_string(),
                    section: p.section_name().to_string(),
                    prog_type: p.prog_type(),
                    image,
                    autoload: true,
                }
            })
            .collect();
        let globals = collect_globals(&object, &object_image);
        Ok(ObjectSpec {
            name: name.to_string(),
            object: object_image,
            programs,
            globals,
            options,
        })
    }

    /// The object's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// What the programs share: maps (with initial data), externs, the fixed-up BTF.
    pub fn object(&self) -> &Arc<ObjectImage> {
        &self.object
    }

    /// The options the object was opened with (load-time ones may still be changed).
    pub fn options_mut(&mut self) -> &mut LoadOptions {
        &mut self.options
    }

    /// The programs, in object order.
    pub fn programs(&self) -> &[ProgramSpec] {
        &self.programs
    }

    /// The linked image of the program named `name`, sharing this spec's maps and globals as
    /// they are now; its object carries the fixed-up BTF, so it loads on its own with
    /// [`LoadedObject::from_image`](crate::LoadedObject::from_image).
    pub fn image(&self, name: &str) -> Result<ProgramImage, LoadError> {
        let program = self.program(name)?;
        let mut image = program.image.clone().map_err(|e| LoadError::ProgramLink {
            program: name.to_string(),
            source: e,
        })?;
        image.object = self.object.clone();
        Ok(image)
    }

    fn program(&self, name: &str) -> Result<&ProgramSpec, LoadError> {
        Ok(&self.programs[self.program_index(name)?])
    }

    fn program_index(&self, name: &str) -> Result<usize, LoadError> {
        position_named(&self.programs, "program", name, |p| &p.name)
    }

    /// Whether [`ObjectSpec::load`] loads the program named `name`.
    pub fn set_autoload(&mut self, name: &str, autoload: bool) -> Result<(), LoadError> {
        let index = self.program_index(name)?;
        let program = &mut self.programs[index];
        program.autoload = autoload;
        Ok(())
    }

    /// Gives the program named `name` its type and expected attach type, for sections that
    /// name none (cilium's tail-call sections `2/7`, `from-netdev`) or to load it as another.
    pub fn set_prog_type(
        &mut self,
        name: &str,
        prog_type: ProgType,
        expected_attach_type: Option<bpfkit_uapi::AttachType>,
    ) -> Result<(), LoadError> {
        let index = self.program_index(name)?;
        let program = &mut self.programs[index];
        program.prog_type = prog_type;
        if let Ok(image) = &mut program.image {
            image.prog_type = prog_type;
            image.expected_attach_type = expected_attach_type;
        }
        Ok(())
    }

    /// The maps, as the kernel will get them (the object's, then its global data).
    pub fn maps(&self) -> &[MapSpec] {
        &self.object.maps
    }

    /// The map named `name`, to change before loading (its size, flags, pinning).
    pub fn map_mut(&mut self, name: &str) -> Result<&mut MapSpec, LoadError> {
        let index = position_named(&self.object.maps, "map", name, |m| &m.name)?;
        Ok(&mut self.object_mut().maps[index])
    }

    /// The global variables (of `.data`, `.rodata`, `.bss` and their `.*` variants).
    pub fn globals(&self) -> &[GlobalVar] {
        &self.globals
    }

    /// The initial bytes of global variable `name`.
    pub fn global(&self, name: &str) -> Option<&[u8]> {
        let var = self.globals.iter().find(|g| g.name == name)?;
        let data = &self.object.maps.get(var.map.0 as usize)?.data;
        data.get(var.offset..var.offset + var.size)
    }

    /// Sets the initial bytes of global variable `name` (`.rodata` constants included: they are
    /// frozen only once loaded). `bytes` must have the variable's size.
    pub fn set_global(&mut self, name: &str, bytes: &[u8]) -> Result<(), LoadError> {
        let var = self.globals
            [position_named(&self.globals, "global variable", name, |g| &g.name)?]
        .clone();
        if bytes.len() != var.size {
            return Err(LoadError::Invalid(format!(
                "global '{name}' is {} bytes, {} given",
                var.size,
                bytes.len()
            )));
        }
        let map = &mut self.object_mut().maps[var.map.0 as usize];
        map.data[var.offset..var.offset + var.size].copy_from_slice(bytes);
        Ok(())
    }

    /// The shared image, to change. The programs' images keep the copy they were linked
    /// with; [`ObjectSpec::image`] and loading use this one.
    fn object_mut(&mut self) -> &mut ObjectImage {
        Arc::make_mut(&mut self.object)
    }
}

/// libbpf's object name: the file name up to its first dot.
fn object_name(path: &Path) -> String {
    let file = path
        .file_name()
        .map(|f| f.to_string_lossy().into_owned())
        .unwrap_or_default();
    file.split('.').next().unwrap_or_default().to_string()
}

/// Every variable symbol of every global data section, with the map that holds it.
fn collect_globals(object: &Object<'_>, image: &ObjectImage) -> Vec<GlobalVar> {
    let mut out = Vec::new();
    for (i, data) in object.data_sections().iter().enumerate() {
        let Some(slot) = image
            .maps
            .iter()
            .position(|m| m.origin == MapOrigin::Data(bpfkit_elf::DataIndex(i)))
        else {
            continue;
        };
        for var in &data.variables {
            if var.name.is_empty() || var.size == 0 || var.offset + var.size > data.size {
                continue;
            }
            out.push(GlobalVar {
                name: var.name.to_string(),
                map: MapSlot(slot as u32),
                offset: var.offset as usize,
                size: var.size as usize,
            });
        }
    }
    out
}

//! [`LoadedObject`]: an object in the kernel — its BTF, maps and programs, each owned (closed
//! on drop), global variables readable and writable from Rust.

use std::os::fd::{AsFd, AsRawFd, BorrowedFd};
use std::path::Path;
use std::sync::Arc;

use bpfkit_relo::{MapSlot, ObjectImage, ProgramImage, SlotTarget};
use bpfkit_sys::{
    BtfObject, FuncInfoRecord, LineInfoRecord, MapType, Program, ProgramLoad, UpdateMode,
};

use crate::bind::{self, Binding, FdArray};
use crate::btf_fixup::needs_fixup;
use crate::error::{LoadError, position_named};
use crate::features;
use crate::kernel_btf::KernelBtf;
use crate::maps::{self, LoadedMap};
use crate::sanitize::sanitize_btf;
use crate::spec::{GlobalVar, LoadOptions, ObjectSpec};

/// A program in the kernel.
#[derive(Debug)]
pub struct LoadedProgram {
    /// Its name.
    pub name: String,
    /// Its section.
    pub section: String,
    /// The image it was loaded from (before externs were bound).
    pub image: ProgramImage,
    /// The program.
    pub program: Program,
    /// The verifier log, when a log level was asked for.
    pub log: String,
}

impl LoadedProgram {
    /// Pins the program at `path`.
    pub fn pin(&self, path: impl AsRef<Path>) -> Result<(), LoadError> {
        self.program.pin(path).map_err(|source| LoadError::Program {
            program: self.name.clone(),
            source,
        })
    }
}

/// An object loaded into the kernel.
#[derive(Debug)]
pub struct LoadedObject {
    name: String,
    object: Arc<ObjectImage>,
    btf: Option<BtfObject>,
    maps: Vec<LoadedMap>,
    programs: Vec<LoadedProgram>,
    globals: Vec<GlobalVar>,
    warnings: Vec<String>,
}

impl ObjectSpec {
    /// Loads the object: its BTF, every map, every program marked to load. The first program
    /// the kernel rejects fails the load ([`LoadError::Program`], with the verifier log).
    pub fn load(&self) -> Result<LoadedObject, LoadError> {
        let (loaded, failures) = self.load_lenient()?;
        match failures.into_iter().next() {
            Some((_, error)) => Err(error),
            None => Ok(loaded),
        }
    }

    /// Loads the object, keeping going past programs that fail: the loaded object and each
    /// failed program with its error. Map and BTF failures still fail the whole load.
    pub fn load_lenient(&self) -> Result<(LoadedObject, Vec<(String, LoadError)>), LoadError> {
        let mut images = Vec::new();
        let mut failures = Vec::new();
        for p in self.programs.iter().filter(|p| p.autoload) {
            match &p.image {
                Ok(image) => {
                    let mut image = image.clone();
                    image.object = self.object.clone();
                    images.push(image);
                }
                Err(e) => failures.push((
                    p.name.clone(),
                    LoadError::ProgramLink {
                        program: p.name.clone(),
                        source: e.clone(),
                    },
                )),
            }
        }
        let (mut loaded, more) = load(
            &self.name,
            self.object.clone(),
            images,
            self.globals.clone(),
            &self.options,
        )?;
        failures.extend(more);
        // Report failures in object order.
        let order = |name: &str| self.programs.iter().position(|p| p.name == name);
        failures.sort_by_key(|(name, _)| order(name));
        loaded.programs.sort_by_key(|p| order(&p.name));
        Ok((loaded, failures))
    }
}

impl LoadedObject {
    /// Loads linked images that share one object (their maps are created once): the way to
    /// run images of [`ObjectSpec::image`], or built by hand, in the kernel.
    pub fn from_images(
        images: &[ProgramImage],
        options: &LoadOptions,
    ) -> Result<LoadedObject, LoadError> {
        let Some(first) = images.first() else {
            return Err(LoadError::Invalid("no image to load".into()));
        };
        let (loaded, failures) = load(
            "",
            first.object.clone(),
            images.to_vec(),
            Vec::new(),
            options,
        )?;
        match failures.into_iter().next() {
            Some((_, e)) => Err(e),
            None => Ok(loaded),
        }
    }

    /// Loads one linked image and its object's maps.
    pub fn from_image(image: &ProgramImage) -> Result<LoadedObject, LoadError> {
        LoadedObject::from_images(std::slice::from_ref(image), &LoadOptions::default())
    }

    /// The object's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// What the programs share: the map table, externs, BTF.
    pub fn object(&self) -> &Arc<ObjectImage> {
        &self.object
    }

    /// The object's BTF in the kernel, if it could be loaded.
    pub fn btf(&self) -> Option<&BtfObject> {
        self.btf.as_ref()
    }

    /// What was tolerated on the way, as libbpf tolerates it (BTF the kernel refused, ...).
    pub fn warnings(&self) -> &[String] {
        &self.warnings
    }

    /// The maps, slot for slot as the object's map table.
    pub fn maps(&self) -> &[LoadedMap] {
        &self.maps
    }

    /// The map named `name`.
    pub fn map(&self, name: &str) -> Result<&LoadedMap, LoadError> {
        let index = position_named(&self.maps, "map", name, |m| &m.name)?;
        Ok(&self.maps[index])
    }

    /// The map in slot `slot` of the object's map table.
    pub fn map_at(&self, slot: MapSlot) -> Option<&LoadedMap> {
        self.maps.get(slot.0 as usize)
    }

    /// The loaded programs, in object order.
    pub fn programs(&self) -> &[LoadedProgram] {
        &self.programs
    }

    /// The program named `name`.
    pub fn program(&self, name: &str) -> Result<&LoadedProgram, LoadError> {
        let index = position_named(&self.programs, "program", name, |p| &p.name)?;
        Ok(&self.programs[index])
    }

    /// The global variables.
    pub fn globals(&self) -> &[GlobalVar] {
        &self.globals
    }

    fn global_var(&self, name: &str) -> Result<(&GlobalVar, &LoadedMap), LoadError> {
        let var =
            &self.globals[position_named(&self.globals, "global variable", name, |g| &g.name)?];
        let map = &self.maps[var.map.0 as usize];
        Ok((var, map))
    }

    /// The current bytes of global variable `name`: read from the mapped memory of an
    /// mmapable data map, else looked up.
    pub fn global(&self, name: &str) -> Result<Vec<u8>, LoadError> {
        let (var, map) = self.global_var(name)?;
        let fail = |source| LoadError::Map {
            map: map.name.clone(),
            source,
        };
        if let Some(mmap) = &map.mmap {
            return mmap.read_vec(var.offset, var.size).map_err(fail);
        }
        let value = map
            .map
            .get(&0u32.to_ne_bytes())
            .map_err(fail)?
            .unwrap_or_default();
        Ok(value[var.offset..var.offset + var.size].to_vec())
    }

    /// Writes global variable `name` while programs run: into the mapped memory of an mmapable
    /// data map, else by updating the map's value. The kernel refuses writes to frozen maps
    /// (`.rodata`).
    pub fn set_global(&self, name: &str, bytes: &[u8]) -> Result<(), LoadError> {
        let (var, map) = self.global_var(name)?;
        if bytes.len() != var.size {
            return Err(LoadError::Invalid(format!(
                "global '{name}' is {} bytes, {} given",
                var.size,
                bytes.len()
            )));
        }
        let fail = |source| LoadError::Map {
            map: map.name.clone(),
            source,
        };
        if let Some(mmap) = map.mmap.as_ref().filter(|m| m.is_writable()) {
            return mmap.write(var.offset, bytes).map_err(fail);
        }
        let key = 0u32.to_ne_bytes();
        let mut value = map.map.get(&key).map_err(fail)?.unwrap_or_default();
        value[var.offset..var.offset + var.size].copy_from_slice(bytes);
        map.map.update(&key, &value, UpdateMode::Any).map_err(fail)
    }
}

/// Loads `images` (sharing `object`) into the kernel.
fn load(
    name: &str,
    object: Arc<ObjectImage>,
    images: Vec<ProgramImage>,
    globals: Vec<GlobalVar>,
    options: &LoadOptions,
) -> Result<(LoadedObject, Vec<(String, LoadError)>), LoadError> {
    let mut kernel: Option<KernelBtf> = None;
    let wanted = bind::wanted_names(&object, &images);
    if !wanted.is_empty() {
        bind::kernel_btf(&mut kernel)?.prefetch(&wanted)?;
    }
    let mut warnings = Vec::new();
    let bindings = bind::resolve_externs(&object, &mut kernel)?;

    let btf = load_btf(&object, options, &mut warnings)?;
    let btf_fd = btf.as_ref().map(|b| b.as_fd());

    let mut maps = Vec::with_capacity(object.maps.len());
    for spec in &object.maps {
        maps.push(maps::create_map(name, spec, btf_fd, &options.pin_root)?);
    }
    maps::fill_map_slots(&maps)?;

    let map_fds = maps.iter().map(|m| m.map.as_raw_fd()).collect();
    let fd_array = FdArray::new(map_fds, &bindings, &object, &mut kernel)?;

    let mut programs = Vec::new();
    let mut failures = Vec::new();
    for image in images {
        match load_program(
            &image,
            &object,
            btf_fd,
            &bindings,
            &fd_array,
            &mut kernel,
            options,
        ) {
            Ok((program, log)) => programs.push(LoadedProgram {
                name: image.name.clone(),
                section: image.section.clone(),
                image,
                program,
                log,
            }),
            Err(e) => failures.push((image.name.clone(), e)),
        }
    }

    fill_prog_arrays(&object, &maps, &programs, &mut warnings)?;
    bind_rodata(&object, &maps, &programs, &mut warnings);
    map_data(&mut maps)?;
    Ok((
        LoadedObject {
            name: name.to_string(),
            object,
            btf,
            maps,
            programs,
            globals,
            warnings,
        },
        failures,
    ))
}

/// Loads the object's BTF, sanitized for the kernel; a BTF the kernel refuses is left out, as
/// libbpf does (maps and programs then load without types and source lines).
fn load_btf(
    object: &ObjectImage,
    options: &LoadOptions,
    warnings: &mut Vec<String>,
) -> Result<Option<BtfObject>, LoadError> {
    let Some(raw) = &object.btf else {
        return Ok(None);
    };
    if needs_fixup(raw) {
        return Err(LoadError::Invalid(
            "the image's BTF has not been fixed up (DATASEC sizes, externs): \
             open the object with ObjectSpec, whose images carry the fixed BTF"
                .into(),
        ));
    }
    if !features::btf_supported() {
        warnings.push("the kernel does not support BTF; loading without it".into());
        return Ok(None);
    }
    let kinds = options.btf_features.unwrap_or_else(features::btf);
    let data = match sanitize_btf(raw, &kinds) {
        Ok(data) => data,
        Err(e) => {
            warnings.push(format!(
                "object BTF does not parse ({e}); loading without it"
            ));
            return Ok(None);
        }
    };
    match BtfObject::load(&data) {
        Ok(btf) => Ok(Some(btf)),
        Err(e) => {
            warnings.push(format!(
                "the kernel refused the object's BTF ({e}); loading without it"
            ));
            Ok(None)
        }
    }
}

/// Binds and loads one program.
fn load_program(
    image: &ProgramImage,
    object: &ObjectImage,
    btf: Option<BorrowedFd<'_>>,
    bindings: &[Binding],
    fd_array: &FdArray,
    kernel: &mut Option<KernelBtf>,
    options: &LoadOptions,
) -> Result<(Program, String), LoadError> {
    let fail = |source| LoadError::Program {
        program: image.name.clone(),
        source,
    };
    if image.prog_type == bpfkit_sys::ProgType::UNSPEC {
        return Err(LoadError::Invalid(format!(
            "program '{}': section '{}' names no program type",
            image.name, image.section
        )));
    }
    let insns = bind::bind_insns(image, bindings, fd_array, kernel)?;
    let target = bind::attach_target(image, kernel)?;
    let func_info: Vec<FuncInfoRecord> = image
        .func_info
        .iter()
        .map(|f| FuncInfoRecord {
            insn_off: f.insn as u32,
            type_id: f.type_id.0,
        })
        .collect();
    let line_info: Vec<LineInfoRecord> = image
        .line_info
        .iter()
        .map(|l| LineInfoRecord {
            insn_off: l.insn as u32,
            file_name_off: l.file_name_off,
            line_off: l.line_off,
            line_col: (l.line << 10) | (l.column & 0x3ff),
        })
        .collect();
    let name: String = image.name.chars().take(15).collect();
    let kern_version = match object.kernel_version {
        0 => features::kernel_version_code(),
        v => v,
    };
    if let Some((_, Some(module))) = &target {
        bind::kernel_btf(kernel)?.module_object(module)?;
    }
    let kernel = kernel.as_ref();
    let mut load = ProgramLoad::new(image.prog_type, &insns)
        .license(&object.license)
        .name(&name)
        .flags(image.prog_flags)
        .kern_version(kern_version)
        .log_level(options.log_level)
        .fd_array(&fd_array.fds);
    if let Some(attach) = image.expected_attach_type {
        load = load.expected_attach_type(attach);
    }
    if let Some(btf) = btf {
        load = load.btf(btf, &func_info, &line_info);
    }
    if let Some((id, module)) = &target {
        let object = module
            .as_deref()
            .and_then(|m| kernel.and_then(|k| k.opened_module_object(m)));
        load = load.attach_btf(*id, object);
    }
    load.load_with_log().map_err(fail)
}

/// Fills the initial slots of program arrays with the loaded programs.
fn fill_prog_arrays(
    object: &ObjectImage,
    maps: &[LoadedMap],
    programs: &[LoadedProgram],
    warnings: &mut Vec<String>,
) -> Result<(), LoadError> {
    for m in maps {
        if m.spec.def.map_type != MapType::PROG_ARRAY || m.reused {
            continue;
        }
        for &(slot, target) in &m.spec.slots {
            let SlotTarget::Program(index) = target else {
                continue;
            };
            let Some(name) = object.programs.get(index) else {
                continue;
            };
            let Some(program) = programs.iter().find(|p| &p.name == name) else {
                warnings.push(format!(
                    "map '{}': slot {slot} stays empty: program '{name}' was not loaded",
                    m.name
                ));
                continue;
            };
            let fd = program.program.as_raw_fd() as u32;
            m.map
                .update(&slot.to_ne_bytes(), &fd.to_ne_bytes(), UpdateMode::Any)
                .map_err(|source| LoadError::Map {
                    map: m.name.clone(),
                    source,
                })?;
        }
    }
    Ok(())
}

/// Keeps `.rodata` maps alive with every program, as libbpf does (`BPF_PROG_BIND_MAP`).
fn bind_rodata(
    object: &ObjectImage,
    maps: &[LoadedMap],
    programs: &[LoadedProgram],
    warnings: &mut Vec<String>,
) {
    for (spec, map) in object.maps.iter().zip(maps) {
        let rodata = matches!(spec.origin, bpfkit_relo::MapOrigin::Data(_))
            && (spec.name == ".rodata" || spec.name.starts_with(".rodata."));
        if !rodata {
            continue;
        }
        for p in programs {
            if let Err(e) = p.program.bind_map(map.map.as_fd()) {
                warnings.push(format!("program '{}': binding '{}': {e}", p.name, map.name));
            }
        }
    }
}

/// Maps the values of mmapable global data maps into memory.
fn map_data(maps: &mut [LoadedMap]) -> Result<(), LoadError> {
    for m in maps {
        let mmapable = m
            .map
            .def()
            .map_flags
            .contains(bpfkit_sys::MapFlags::MMAPABLE);
        if !mmapable || m.spec.def.map_type != MapType::ARRAY || m.reused {
            continue;
        }
        let mmap = m.map.mmap(m.spec.frozen).map_err(|source| LoadError::Map {
            map: m.name.clone(),
            source,
        })?;
        m.mmap = Some(mmap);
    }
    Ok(())
}

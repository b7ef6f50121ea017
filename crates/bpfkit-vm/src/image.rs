//! Running a linked [`ProgramImage`]: its map table becomes the VM's maps, slot for slot, so
//! the image's `lddw map_idx(N)` and `map_idx_value(N, OFF)` reach map `N`; global data and
//! `.kconfig` maps start with their initial bytes.

use bpfkit_relo::{ProgramImage, RefTarget};

use crate::maps::MapError;
use crate::program::{LoadError, Program};
use crate::vm::Vm;

/// Why an image cannot be made into a [`Vm`].
#[derive(Debug, thiserror::Error)]
pub enum ImageError {
    /// The instructions do not load.
    #[error(transparent)]
    Load(#[from] LoadError),
    /// A map of the object cannot be created in userspace.
    #[error("map '{name}': {source}")]
    Map {
        /// The map's name.
        name: String,
        /// Why.
        source: MapError,
    },
    /// The program refers to a kernel symbol or function, which userspace does not have.
    #[error("insn {insn}: '{name}' is a kernel {what} (__ksym); userspace runs cannot bind it")]
    Kernel {
        /// The instruction's slot.
        insn: usize,
        /// The extern's name.
        name: String,
        /// `variable` or `function`.
        what: &'static str,
    },
}

impl Vm {
    /// A VM running `image`, with every map of its object created (map `N` of the VM is slot
    /// `N` of [`ObjectImage::maps`](bpfkit_relo::ObjectImage::maps)) and global data filled in.
    ///
    /// ```
    /// use bpfkit_elf::Object;
    /// use bpfkit_relo::{Kconfig, Linker};
    /// use bpfkit_vm::Vm;
    ///
    /// let bytes = std::fs::read(concat!(
    ///     env!("CARGO_MANIFEST_DIR"),
    ///     "/../../testdata/obj/socket_filter.v3.o"
    /// ))?;
    /// let object = Object::parse(&bytes)?;
    /// let image = Linker::new(&object).link("socket_filter")?;
    /// let vm = Vm::from_image(&image)?;
    /// assert_eq!(vm.maps().len(), image.object.maps.len());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn from_image(image: &ProgramImage) -> Result<Vm, ImageError> {
        for r in &image.refs {
            let (index, what) = match r.target {
                RefTarget::Ksym(e) => (e, "variable"),
                RefTarget::Kfunc(e) => (e, "function"),
                RefTarget::Map(_) | RefTarget::MapValue { .. } => continue,
            };
            let name = image
                .object
                .externs
                .get(index.0)
                .map_or_else(String::new, |e| e.name.clone());
            return Err(ImageError::Kernel {
                insn: r.insn,
                name,
                what,
            });
        }
        let mut vm = Vm::with_program(Program::new(&image.insns)?);
        for spec in &image.object.maps {
            let fail = |source| ImageError::Map {
                name: spec.name.clone(),
                source,
            };
            let id = vm.create_map(spec.def).map_err(fail)?;
            if !spec.data.is_empty() {
                let map = vm.map_mut(id).expect("just created");
                map.update(&0u32.to_le_bytes(), &spec.data, crate::BPF_ANY)
                    .map_err(fail)?;
            }
        }
        Ok(vm)
    }
}

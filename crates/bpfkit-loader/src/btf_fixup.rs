//! The object's `.BTF` made loadable, as libbpf 1.x prepares it at open time: clang leaves
//! DATASEC sizes and variable offsets at zero and describes externs as `extern` variables and
//! functions the kernel does not accept; the loader fills in what only the ELF file knows.
//!
//! In libbpf's order:
//!
//! 1. `bpf_object__collect_externs`: a `dummy_ksym` VAR (of the first 32-bit INT) is appended
//!    when `.ksyms` holds a FUNC; every `.ksyms` entry becomes a 4-byte slot at offset 4·i —
//!    a VAR turns into an allocated global `int`, a FUNC into a global function whose
//!    unnamed parameters borrow the dummy's name and whose slot points at the dummy;
//!    `.kconfig` VARs become allocated globals at the offsets of the `.kconfig` map's layout.
//! 2. `btf_fixup_datasec`: every other DATASEC of size 0 gets its ELF section's size and
//!    each global VAR the offset of its ELF symbol; a global VAR whose symbol is hidden
//!    (`STV_HIDDEN`/`STV_INTERNAL`) becomes static; variables are sorted by offset.
//! 3. At load (`bpf_object__sanitize_and_load_btf`): a global FUNC of a hidden `.text`
//!    function becomes static, so the kernel verifies it with its caller's context.
//!
//! Only type records change, and the dummy is appended, so every type id of the object (in
//! func_info, map definitions, CO-RE records) stays valid.

use bpfkit_btf::{Btf, BtfBuilder, BtfType, Kind, Linkage, TypeData, TypeId};
use bpfkit_elf::{Object, SymbolBinding, SymbolKind};
use bpfkit_relo::{ExternSpecKind, ObjectImage};

/// Why an object's BTF cannot be fixed up (libbpf fails the open for the same reasons).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FixupError {
    /// A DATASEC names no section of the file, or an empty one.
    #[error("DATASEC '{0}': failed to determine its size from the ELF file")]
    SectionSize(String),
    /// A global variable of a DATASEC has no ELF symbol.
    #[error("DATASEC '{section}': no ELF symbol for variable '{var}'")]
    NoSymbol {
        /// The section.
        section: String,
        /// The variable.
        var: String,
    },
    /// A DATASEC entry is not a variable (or, in `.ksyms`, a function).
    #[error("DATASEC '{section}': entry #{index} is not a variable")]
    NotAVar {
        /// The section.
        section: String,
        /// Its index in the DATASEC.
        index: usize,
    },
    /// A `.ksyms` or `.kconfig` entry with no extern symbol of that name.
    #[error("DATASEC '{section}': no extern definition for '{name}'")]
    NoExtern {
        /// The section.
        section: String,
        /// The entry's name.
        name: String,
    },
    /// A type id out of range (the object's BTF is malformed).
    #[error("BTF type [{0}] does not exist")]
    BadType(u32),
}

/// The object's `.BTF` as libbpf holds it after opening the object (steps 1 and 2 above),
/// encoded; `None` when the object has no BTF.
///
/// `image` is the object's shared image (for the `.kconfig` layout, computed once by the
/// linker).
pub fn fixup_btf(object: &Object<'_>, image: &ObjectImage) -> Result<Option<Vec<u8>>, FixupError> {
    fixup(object, image, false)
}

/// The object's `.BTF` as libbpf gives it to the kernel on a kernel that lacks no BTF kind:
/// [`fixup_btf`] and the load-time step 3.
pub fn fixup_btf_for_load(
    object: &Object<'_>,
    image: &ObjectImage,
) -> Result<Option<Vec<u8>>, FixupError> {
    fixup(object, image, true)
}

fn fixup(
    object: &Object<'_>,
    image: &ObjectImage,
    hidden: bool,
) -> Result<Option<Vec<u8>>, FixupError> {
    let Some(btf) = object.btf() else {
        return Ok(None);
    };
    let mut b = BtfBuilder::from_btf(btf);
    let mut fix = Fixup {
        object,
        image,
        btf,
        b: &mut b,
    };
    fix.externs()?;
    fix.datasecs()?;
    if hidden {
        fix.hidden_functions();
    }
    Ok(Some(b.encode()))
}

struct Fixup<'a, 'data> {
    object: &'a Object<'data>,
    image: &'a ObjectImage,
    btf: &'a Btf<'data>,
    b: &'a mut BtfBuilder,
}

impl Fixup<'_, '_> {
    fn ty(&self, id: TypeId) -> Result<&BtfType, FixupError> {
        self.b.type_by_id(id).ok_or(FixupError::BadType(id.0))
    }

    fn ty_mut(&mut self, id: TypeId) -> Result<&mut BtfType, FixupError> {
        let first = self.b.first_id().0;
        let index = id.0.checked_sub(first).ok_or(FixupError::BadType(id.0))? as usize;
        self.b
            .types_mut()
            .get_mut(index)
            .ok_or(FixupError::BadType(id.0))
    }

    fn name(&self, name_off: u32) -> String {
        self.b
            .strings()
            .get(name_off)
            .map(|s| String::from_utf8_lossy(s).into_owned())
            .unwrap_or_default()
    }

    fn datasec_ids(&self) -> Vec<TypeId> {
        (0..self.b.types().len())
            .filter(|&i| self.b.types()[i].data.kind() == Kind::Datasec)
            .map(|i| TypeId(self.b.first_id().0 + i as u32))
            .collect()
    }

    fn datasec_named(&self, name: &str) -> Option<TypeId> {
        self.datasec_ids()
            .into_iter()
            .find(|&id| self.ty(id).is_ok_and(|t| self.name(t.name_off) == name))
    }

    /// The first INT of 32 bits (libbpf's `find_int_btf_id`), 0 if none.
    fn int32(&self) -> TypeId {
        self.b
            .types()
            .iter()
            .position(|t| matches!(&t.data, TypeData::Int(i) if i.bits == 32))
            .map_or(TypeId(0), |i| TypeId(self.b.first_id().0 + i as u32))
    }

    /// Step 1: `.ksyms` and `.kconfig`.
    fn externs(&mut self) -> Result<(), FixupError> {
        // libbpf collects externs only when the object has extern symbols.
        if self.object.externs().is_empty() {
            return Ok(());
        }
        if let Some(sec) = self.datasec_named(".ksyms") {
            self.ksyms(sec)?;
        }
        if let Some(sec) = self.datasec_named(".kconfig") {
            self.kconfig(sec)?;
        }
        Ok(())
    }

    fn datasec_vars(&self, sec: TypeId) -> Result<Vec<bpfkit_btf::VarSecinfo>, FixupError> {
        match &self.ty(sec)?.data {
            TypeData::Datasec { vars, .. } => Ok(vars.clone()),
            _ => Err(FixupError::BadType(sec.0)),
        }
    }

    fn set_datasec(
        &mut self,
        sec: TypeId,
        size: Option<u32>,
        new_vars: Vec<bpfkit_btf::VarSecinfo>,
    ) -> Result<(), FixupError> {
        if let TypeData::Datasec { size: s, vars } = &mut self.ty_mut(sec)?.data {
            if let Some(size) = size {
                *s = size;
            }
            *vars = new_vars;
        }
        Ok(())
    }

    fn ksyms(&mut self, sec: TypeId) -> Result<(), FixupError> {
        let mut vars = self.datasec_vars(sec)?;
        let has_func = vars.iter().any(|v| {
            self.ty(v.type_id)
                .is_ok_and(|t| t.data.kind() == Kind::Func)
        });
        let int = self.int32();
        let dummy = has_func.then(|| self.b.add_var("dummy_ksym", int, Linkage::Global));
        let dummy_name = dummy.and_then(|d| self.b.type_by_id(d)).map(|t| t.name_off);

        for (i, vs) in vars.iter_mut().enumerate() {
            let t = self.ty(vs.type_id)?.clone();
            let name = self.name(t.name_off);
            if !self.object.externs().iter().any(|e| e.name == name) {
                return Err(FixupError::NoExtern {
                    section: ".ksyms".into(),
                    name,
                });
            }
            match t.data {
                TypeData::Func { proto, .. } => {
                    let dummy_name = dummy_name.unwrap_or(0);
                    if let TypeData::FuncProto { params, .. } = &mut self.ty_mut(proto)?.data {
                        for p in params.iter_mut() {
                            if p.type_id.0 != 0 && p.name_off == 0 {
                                p.name_off = dummy_name;
                            }
                        }
                    }
                    if let TypeData::Func { linkage, .. } = &mut self.ty_mut(vs.type_id)?.data {
                        *linkage = Linkage::Global;
                    }
                    vs.type_id = dummy.unwrap_or(vs.type_id);
                }
                TypeData::Var { .. } => {
                    if let TypeData::Var { type_id, linkage } = &mut self.ty_mut(vs.type_id)?.data {
                        *linkage = Linkage::Global;
                        *type_id = int;
                    }
                }
                _ => {
                    return Err(FixupError::NotAVar {
                        section: ".ksyms".into(),
                        index: i,
                    });
                }
            }
            vs.offset = 4 * i as u32;
            vs.size = 4;
        }
        let size = 4 * vars.len() as u32;
        vars.sort_by_key(|v| v.offset);
        self.set_datasec(sec, Some(size), vars)
    }

    fn kconfig(&mut self, sec: TypeId) -> Result<(), FixupError> {
        let size = self
            .image
            .maps
            .iter()
            .find(|m| m.origin == bpfkit_relo::MapOrigin::Kconfig)
            .map_or(0, |m| m.def.value_size);
        let mut vars = self.datasec_vars(sec)?;
        for vs in vars.iter_mut() {
            let t = self.ty(vs.type_id)?.clone();
            let name = self.name(t.name_off);
            let offset = self.image.externs.iter().find_map(|e| match e.kind {
                ExternSpecKind::Kconfig { offset, .. } if e.name == name => Some(offset),
                _ => None,
            });
            let Some(offset) = offset else {
                return Err(FixupError::NoExtern {
                    section: ".kconfig".into(),
                    name,
                });
            };
            if let TypeData::Var { linkage, .. } = &mut self.ty_mut(vs.type_id)?.data {
                *linkage = Linkage::Global;
            }
            vs.offset = offset;
        }
        vars.sort_by_key(|v| v.offset);
        self.set_datasec(sec, Some(size), vars)
    }

    /// Step 2: sizes and offsets of the other DATASECs, hidden globals made static.
    fn datasecs(&mut self) -> Result<(), FixupError> {
        for sec in self.datasec_ids() {
            let t = self.ty(sec)?.clone();
            let name = self.name(t.name_off);
            let TypeData::Datasec { size, mut vars } = t.data else {
                continue;
            };
            if name == ".kconfig" || name == ".ksyms" {
                vars.sort_by_key(|v| v.offset);
                self.set_datasec(sec, None, vars)?;
                continue;
            }
            let mut new_size = None;
            if size == 0 {
                let section_size = self
                    .object
                    .elf()
                    .section_by_name(&name)
                    .map_or(0, |s| s.size);
                if section_size == 0 || section_size > u64::from(u32::MAX) {
                    return Err(FixupError::SectionSize(name));
                }
                new_size = Some(section_size as u32);
            }
            for (index, vs) in vars.iter_mut().enumerate() {
                let var = self.ty(vs.type_id)?.clone();
                let TypeData::Var { linkage, .. } = var.data else {
                    return Err(FixupError::NotAVar {
                        section: name.clone(),
                        index,
                    });
                };
                if matches!(linkage, Linkage::Static | Linkage::Extern) {
                    continue;
                }
                let var_name = self.name(var.name_off);
                let symbol = self.object.elf().symbols().iter().find(|s| {
                    s.kind == SymbolKind::Object
                        && matches!(s.binding, SymbolBinding::Global | SymbolBinding::Weak)
                        && s.name == var_name
                });
                let Some(symbol) = symbol else {
                    return Err(FixupError::NoSymbol {
                        section: name.clone(),
                        var: var_name,
                    });
                };
                if new_size.is_some() {
                    vs.offset = symbol.value as u32;
                }
                // STV_INTERNAL (1) and STV_HIDDEN (2).
                if matches!(symbol.visibility & 3, 1 | 2)
                    && let TypeData::Var { linkage, .. } = &mut self.ty_mut(vs.type_id)?.data
                {
                    *linkage = Linkage::Static;
                }
            }
            vars.sort_by_key(|v| v.offset);
            self.set_datasec(sec, new_size, vars)?;
        }
        Ok(())
    }

    /// Step 3: a hidden global subprogram's FUNC becomes static.
    fn hidden_functions(&mut self) {
        // libbpf marks subprograms only when the object has more than one program function.
        for func in self.object.subprograms() {
            if !(func.is_global() && matches!(func.visibility & 3, 1 | 2)) {
                continue;
            }
            let Some(id) = self
                .btf
                .types()
                .find(|t| t.kind() == Kind::Func && t.name() == Ok(func.name))
                .map(|t| t.id())
            else {
                continue;
            };
            if let Ok(t) = self.ty_mut(id)
                && let TypeData::Func { linkage, .. } = &mut t.data
                && *linkage == Linkage::Global
            {
                *linkage = Linkage::Static;
            }
        }
    }
}

/// Whether raw BTF still has what only [`fixup_btf`] fills in: a DATASEC of size 0 other than
/// `.ksyms`/`.kconfig`, or an extern VAR or FUNC (which the kernel refuses).
pub fn needs_fixup(raw: &[u8]) -> bool {
    let Ok(btf) = Btf::parse(raw) else {
        return false;
    };
    btf.types().any(|t| match t.kind() {
        Kind::Datasec => t.size() == Some(0) && t.vlen() > 0,
        Kind::Var | Kind::Func => t.linkage() == Some(Linkage::Extern),
        _ => false,
    })
}

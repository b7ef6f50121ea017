//! The [`Linker`]: turns programs of an [`Object`] into [`ProgramImage`]s as libbpf's
//! `bpf_object__relocate` does: CO-RE first, on each function of the object; then, for each
//! program, every subprogram it reaches is appended depth-first at the first call to it
//! (`bpf_object__reloc_code`), calls and function addresses are pointed at the copies, and
//! func_info/line_info follow their functions (`reloc_prog_func_and_line_info`); last, map,
//! data and extern references are written in their symbolic form (`bpf_object__relocate_data`).

use std::collections::HashMap;
use std::sync::{Arc, OnceLock};

use bpfkit_elf::{ExternIndex, Function, Object, RelocTarget, SectionIndex};
use bpfkit_isa::{CallTarget, Insn, Kind, Opcode, Pseudo};

use crate::core::{CoreRecord, CoreTarget, relocate, relocate_object};
use crate::error::{LinkError, LinkErrorKind};
use crate::image::{
    CoreReport, FuncInfo, ImageFunction, LineInfo, MapSlot, ObjectImage, ProgramImage, RefTarget,
    Reference,
};
use crate::kconfig::Kconfig;
use crate::object::build_object_image;

/// Links the programs of one object.
///
/// ```
/// use bpfkit_elf::Object;
/// use bpfkit_relo::{Linker, RefTarget};
///
/// let bytes = std::fs::read(concat!(
///     env!("CARGO_MANIFEST_DIR"),
///     "/../../testdata/obj/subprogs.v3.g.o"
/// ))?;
/// let object = Object::parse(&bytes)?;
/// let image = Linker::new(&object).link("xdp_subprogs")?;
/// // The program comes first, then each subprogram it calls.
/// assert_eq!(image.functions[0].name, "xdp_subprogs");
/// assert!(image.functions.len() > 1);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct Linker<'a, 'data> {
    object: &'a Object<'data>,
    target: Option<&'a CoreTarget<'a>>,
    kconfig: Option<Kconfig>,
    shared: OnceLock<Arc<ObjectImage>>,
    core: OnceLock<HashMap<(String, usize), CoreReport>>,
}

impl<'a, 'data> Linker<'a, 'data> {
    /// A linker for `object`, with no CO-RE target (objects with CO-RE relocations then fail
    /// to link) and the running kernel's configuration for `.kconfig` externs (read only if the
    /// object has some).
    pub fn new(object: &'a Object<'data>) -> Linker<'a, 'data> {
        Linker {
            object,
            target: None,
            kconfig: None,
            shared: OnceLock::new(),
            core: OnceLock::new(),
        }
    }

    /// Applies CO-RE relocations against `target`.
    pub fn with_core_target(mut self, target: &'a CoreTarget<'a>) -> Self {
        self.target = Some(target);
        self.core = OnceLock::new();
        self
    }

    /// Takes `.kconfig` values from `kconfig` instead of the running kernel.
    pub fn with_kconfig(mut self, kconfig: Kconfig) -> Self {
        self.kconfig = Some(kconfig);
        self.shared = OnceLock::new();
        self
    }

    /// The object being linked.
    pub fn object(&self) -> &'a Object<'data> {
        self.object
    }

    /// What the object's programs share: the map table, externs, BTF. Built once.
    pub fn object_image(&self) -> Result<Arc<ObjectImage>, LinkError> {
        if let Some(image) = self.shared.get() {
            return Ok(image.clone());
        }
        let image = Arc::new(build_object_image(self.object, self.kconfig.as_ref())?);
        Ok(self.shared.get_or_init(|| image).clone())
    }

    /// Links the program named `name`.
    pub fn link(&self, name: &str) -> Result<ProgramImage, LinkError> {
        let program = self
            .object
            .program(name)
            .ok_or_else(|| LinkError::object(LinkErrorKind::NoSuchProgram(name.to_string())))?;
        self.link_function(&program.function)
            .map_err(|e| e.in_program(name))
    }

    /// Links every program of the object, in object order, each to its own result.
    pub fn link_all(&self) -> Vec<(String, Result<ProgramImage, LinkError>)> {
        self.object
            .programs()
            .iter()
            .map(|p| (p.name().to_string(), self.link(p.name())))
            .collect()
    }

    /// The CO-RE relocations of every function of the object (what `bpfkit reloc` prints):
    /// functions in object order, records in `.BTF.ext` order, each with its result; a failed
    /// record does not stop the others.
    pub fn core_reports(&self) -> Result<Vec<CoreReport>, LinkError> {
        let mut reports = Vec::new();
        for func in self.object.functions() {
            let mut insns = decode(func)?;
            reports.extend(self.apply_core(func, &mut insns)?);
        }
        Ok(reports)
    }

    fn link_function(&self, main: &Function<'data>) -> Result<ProgramImage, LinkError> {
        let object = self.object_image()?;
        let program = self
            .object
            .programs()
            .iter()
            .find(|p| p.function.symbol == main.symbol)
            .expect("linked functions are programs of the object");
        let mut image = ProgramImage {
            name: main.name.to_string(),
            section: main.section_name.to_string(),
            prog_type: program.prog_type(),
            expected_attach_type: program.expected_attach_type(),
            attach_target: program.attach_target().map(str::to_string),
            prog_flags: program
                .section
                .as_ref()
                .map(|s| s.prog_flags())
                .unwrap_or_default(),
            insns: Vec::new(),
            functions: Vec::new(),
            func_info: Vec::new(),
            line_info: Vec::new(),
            refs: Vec::new(),
            core: Vec::new(),
            object: object.clone(),
        };
        let mut placed = HashMap::new();
        let mut build = Build {
            linker: self,
            object: &object,
            image: &mut image,
            placed: &mut placed,
            next_slot: 0,
        };
        build.append(main)?;
        // Callees' references were recorded before their callers'.
        image.refs.sort_by_key(|r| r.insn);
        Ok(image)
    }

    /// Decodes `func` and applies its CO-RE relocations; the first failed one is the error.
    fn prepare(&self, func: &Function<'data>) -> Result<Prepared, LinkError> {
        let mut insns = decode(func)?;
        let core = self.apply_core(func, &mut insns)?;
        if let Some(failed) = core.iter().find(|r| r.result.is_err()) {
            let Err(error) = failed.result.clone() else {
                unreachable!("found by is_err")
            };
            return Err(LinkError::object(LinkErrorKind::Core {
                function: failed.function.clone(),
                insn: failed.insn,
                index: failed.index,
                error,
            }));
        }
        Ok(Prepared { insns, core })
    }

    /// Every CO-RE record of the object relocated once, in libbpf's order with one candidate
    /// cache (an earlier record's matches narrow a later one's candidates, as in libbpf), keyed
    /// by function and instruction.
    fn object_core(&self, target: &CoreTarget<'_>) -> &HashMap<(String, usize), CoreReport> {
        self.core.get_or_init(|| {
            relocate_object(self.object, target)
                .into_iter()
                .map(|applied| {
                    let key = (applied.function.to_string(), applied.insn);
                    let report = CoreReport {
                        function: applied.function.to_string(),
                        insn: applied.insn,
                        index: applied.record.index,
                        result: applied.result,
                    };
                    (key, report)
                })
                .collect()
        })
    }

    /// Applies every CO-RE record of `func` to `insns`: a failed record leaves its instruction
    /// alone and is reported with its error.
    fn apply_core(
        &self,
        func: &Function<'data>,
        insns: &mut Vec<(usize, Insn)>,
    ) -> Result<Vec<CoreReport>, LinkError> {
        if func.core_relos.is_empty() {
            return Ok(Vec::new());
        }
        let btf = self.object.btf().expect("CO-RE records come with .BTF");
        let target = self.target.ok_or_else(|| {
            LinkError::object(LinkErrorKind::NoCoreTarget {
                function: func.name.to_string(),
            })
        })?;
        let computed = self.object_core(target);
        let mut reports = Vec::with_capacity(func.core_relos.len());
        for (i, relo) in func.core_relos.iter().enumerate() {
            let at = insns
                .iter()
                .position(|(slot, _)| *slot == relo.insn)
                .ok_or_else(|| {
                    LinkError::object(LinkErrorKind::BadRelocation {
                        function: func.name.to_string(),
                        insn: relo.insn,
                        reason: format!(
                            "CO-RE relocation #{i} is not on the start of an instruction"
                        ),
                    })
                })?;
            // Functions libbpf does not load by default (`?` sections) are not in the
            // object-wide pass; relocate their records on their own.
            let report = match computed.get(&(func.name.to_string(), relo.insn)) {
                Some(report) => report.clone(),
                None => {
                    let record = CoreRecord {
                        index: i,
                        type_id: relo.type_id,
                        access_str: relo.access_str,
                        kind: relo.kind,
                    };
                    CoreReport {
                        function: func.name.to_string(),
                        insn: relo.insn,
                        index: i,
                        result: relocate(btf, &record, &insns[at].1, target),
                    }
                }
            };
            if let Ok(outcome) = &report.result {
                let mut slot = insns[at].0;
                let replacement: Vec<(usize, Insn)> = outcome
                    .insns
                    .iter()
                    .map(|insn| {
                        let at = slot;
                        slot += insn.slots();
                        (at, *insn)
                    })
                    .collect();
                insns.splice(at..=at, replacement);
            }
            reports.push(report);
        }
        Ok(reports)
    }
}

/// Decodes `func`'s instructions with their slots.
fn decode(func: &Function<'_>) -> Result<Vec<(usize, Insn)>, LinkError> {
    func.decode().map_err(|source| {
        LinkError::object(LinkErrorKind::Decode {
            function: func.name.to_string(),
            source,
        })
    })
}

/// A function decoded, with CO-RE applied: instructions with their slot in the function.
struct Prepared {
    insns: Vec<(usize, Insn)>,
    core: Vec<CoreReport>,
}

/// The state of linking one program.
struct Build<'l, 'a, 'data> {
    linker: &'l Linker<'a, 'data>,
    object: &'l ObjectImage,
    image: &'l mut ProgramImage,
    /// Functions already in the image, by (section, first instruction): their start slot.
    placed: &'l mut HashMap<(SectionIndex, u64), usize>,
    next_slot: usize,
}

impl<'data> Build<'_, '_, 'data> {
    /// Appends `func` at the end of the image, then every function it reaches that is not
    /// there yet (depth-first, at the first reference), and returns its start slot.
    fn append(&mut self, func: &Function<'data>) -> Result<usize, LinkError> {
        let prepared = self.linker.prepare(func)?;
        let start = self.next_slot;
        let slots = func.insn_count();
        self.placed.insert((func.section, func.first_insn()), start);
        self.next_slot += slots;
        let first = self.image.insns.len();
        self.image
            .insns
            .extend(prepared.insns.iter().map(|(_, insn)| *insn));
        self.image.functions.push(ImageFunction {
            name: func.name.to_string(),
            start,
            slots,
            global: func.is_global() && func.visibility == 0,
        });
        self.image.core.extend(prepared.core);
        self.image
            .func_info
            .extend(func.func_info.iter().map(|f| FuncInfo {
                insn: start + f.insn,
                type_id: f.type_id,
            }));
        self.image
            .line_info
            .extend(func.line_info.iter().map(|l| LineInfo {
                insn: start + l.insn,
                file_name_off: l.file_name_off,
                line_off: l.line_off,
                file: l.file_name.to_string(),
                text: l.line.to_string(),
                line: l.line_num,
                column: l.column,
            }));

        // Calls and function addresses, in instruction order. clang writes a function's
        // address as a plain `lddw` with a relocation; libbpf makes it BPF_PSEUDO_FUNC.
        for (i, &(slot, insn)) in prepared.insns.iter().enumerate() {
            let relocation = func.relocation_at(slot).map(|r| r.target);
            let (what, target) = match (insn.kind(), relocation) {
                (
                    Kind::Call {
                        target: CallTarget::Local,
                    },
                    Some(RelocTarget::Call { section, insn }),
                ) => ("call", (section, insn)),
                // A call within the section: relative to the instruction's place there.
                (
                    Kind::Call {
                        target: CallTarget::Local,
                    },
                    None,
                ) => {
                    let t = func.first_insn() as i64 + slot as i64 + i64::from(insn.imm) + 1;
                    ("call", (func.section, t.max(0) as u64))
                }
                // clang writes a kfunc call as a local call with a relocation against the
                // extern; it becomes a kfunc call with the externs below.
                (
                    Kind::Call {
                        target: CallTarget::Local,
                    },
                    Some(RelocTarget::ExternCall(_)),
                ) => continue,
                (
                    Kind::Call {
                        target: CallTarget::Local,
                    },
                    Some(_),
                ) => {
                    return Err(self.bad(func, slot, "relocation does not fit a call"));
                }
                (Kind::LoadImm64 { .. }, Some(RelocTarget::FuncAddr { section, insn })) => {
                    ("func address", (section, insn))
                }
                (
                    Kind::LoadImm64 {
                        pseudo: Pseudo::Func,
                    },
                    _,
                ) => {
                    return Err(self.bad(func, slot, "function address without a relocation"));
                }
                _ => continue,
            };
            let callee = self
                .linker
                .object
                .subprograms()
                .iter()
                .find(|f| f.section == target.0 && f.first_insn() == target.1)
                .ok_or_else(|| {
                    LinkError::object(LinkErrorKind::BadCallTarget {
                        function: func.name.to_string(),
                        insn: slot,
                        what,
                    })
                })?;
            let callee_start = match self.placed.get(&(callee.section, callee.first_insn())) {
                Some(&s) => s,
                None => self.append(callee)?,
            };
            let here = start + slot;
            let distance = callee_start as i64 - here as i64 - 1;
            let imm = i32::try_from(distance)
                .map_err(|_| self.bad(func, slot, "call distance does not fit 32 bits"))?;
            let patched = &mut self.image.insns[first + i];
            if what == "func address" {
                set_lddw(patched, Opcode::LdFunc, imm, 0);
            } else {
                patched.imm = imm;
            }
        }

        // Maps, data and externs.
        for relocation in &func.relocations {
            let slot = relocation.insn;
            let Some(i) = prepared.insns.iter().position(|(s, _)| *s == slot) else {
                return Err(self.bad(func, slot, "relocation inside an instruction"));
            };
            let here = start + slot;
            let mut insn = self.image.insns[first + i];
            let original = insn;
            let target = match relocation.target {
                RelocTarget::Call { .. } | RelocTarget::FuncAddr { .. } => continue,
                RelocTarget::Map(m) => {
                    let map = self.slot_of(crate::image::MapOrigin::Map(m));
                    set_lddw(&mut insn, Opcode::LdMapIdx, map.0 as i32, 0);
                    RefTarget::Map(map)
                }
                RelocTarget::Data { data, offset } => {
                    let map = self.slot_of(crate::image::MapOrigin::Data(data));
                    set_lddw(
                        &mut insn,
                        Opcode::LdMapIdxValue,
                        map.0 as i32,
                        offset as i32,
                    );
                    RefTarget::MapValue {
                        map,
                        offset: offset as u32,
                    }
                }
                RelocTarget::ExternVar(e) => self.extern_var(&mut insn, e),
                RelocTarget::ExternCall(e) => {
                    insn = Insn::new(Opcode::CallKfunc);
                    RefTarget::Kfunc(e)
                }
            };
            // bpfkit-elf only resolves relocations on lddw and call; the kind must match.
            let fits = match target {
                RefTarget::Kfunc(_) => matches!(original.kind(), Kind::Call { .. }),
                _ => matches!(original.kind(), Kind::LoadImm64 { .. }),
            };
            if !fits {
                return Err(self.bad(
                    func,
                    slot,
                    "relocation on an instruction that cannot take it",
                ));
            }
            self.image.insns[first + i] = insn;
            self.image.refs.push(Reference { insn: here, target });
        }
        Ok(start)
    }

    /// Writes the symbolic form of an extern variable's `lddw`.
    fn extern_var(&self, insn: &mut Insn, e: ExternIndex) -> RefTarget {
        use crate::image::ExternSpecKind;
        match self.object.externs.get(e.0).map(|x| x.kind) {
            Some(ExternSpecKind::Kconfig { offset, .. }) => {
                let map = self.slot_of(crate::image::MapOrigin::Kconfig);
                set_lddw(insn, Opcode::LdMapIdxValue, map.0 as i32, offset as i32);
                RefTarget::MapValue { map, offset }
            }
            // Typed ksyms, and kfuncs whose address is taken (`bpf_ksym_exists`): a BTF id
            // for the executor, as libbpf writes them.
            Some(ExternSpecKind::Ksym { typed: true } | ExternSpecKind::Kfunc) => {
                set_lddw(insn, Opcode::LdBtfId, 0, 0);
                RefTarget::Ksym(e)
            }
            // Typeless ksyms: an address for the executor.
            _ => {
                set_lddw(insn, Opcode::LdImm64, 0, 0);
                RefTarget::Ksym(e)
            }
        }
    }

    fn slot_of(&self, origin: crate::image::MapOrigin) -> MapSlot {
        let index = self
            .object
            .maps
            .iter()
            .position(|m| m.origin == origin)
            .expect("every map, data section and .kconfig has a slot");
        MapSlot(index as u32)
    }

    fn bad(&self, func: &Function<'_>, insn: usize, reason: &str) -> LinkError {
        LinkError::object(LinkErrorKind::BadRelocation {
            function: func.name.to_string(),
            insn,
            reason: reason.to_string(),
        })
    }
}

/// Rewrites an `lddw` into `opcode` with the given immediates, keeping its destination.
fn set_lddw(insn: &mut Insn, opcode: Opcode, imm: i32, next_imm: i32) {
    let dst = insn.dst;
    *insn = Insn::new(opcode).with_dst(dst).with_imm(imm);
    insn.next_imm = next_imm;
}

//! The engine type: programs, helpers, maps, the host and options, and `run`.

use bpfkit_isa::Insn;
use bpfkit_uapi::HelperId;

use crate::fault::Fault;
use crate::helpers::{self, Helper, HelperEnv, ids};
use crate::host::Host;
use crate::interp::Machine;
use crate::maps::Keys;
use crate::maps::{Map, MapDef, MapError, MapId};
use crate::memory::{FrameUse, MAP_VALUE_REGION, Memory, Region, RegionSpan, STACK_SIZE, Stack};
use crate::packet::Packet;
use crate::program::{LoadError, Program};
use crate::runtime::{Entry, Runtime};

/// Identifies a program of a [`Vm`]; the first one is `ProgId(0)`, the entry of [`Vm::run`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ProgId(pub u32);

/// What `bpf_tail_call` does once 33 tail calls have been made in one run.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum TailCallOverflow {
    /// Fall through to the next instruction, as the kernel does.
    #[default]
    FallThrough,
    /// Stop the run with [`Fault::TailCallLimit`], to catch runaway chains in tests.
    Fault,
}

/// What `r1` points at in a run: the input memory, or a program context with its packet.
pub struct RunInput<'r> {
    /// The bytes of the input region (the context struct, or raw input memory).
    pub ctx: &'r mut [u8],
    /// Whether the program may write them.
    pub ctx_writable: bool,
    /// `r2` at entry (the input's length for raw runs, else 0).
    pub r2: u64,
    /// The packet buffer and its geometry, for XDP and skb contexts.
    pub packet: Option<(&'r mut [u8], &'r mut Packet)>,
}

/// The memory of a raw run for an engine that needs nothing else from the runtime (see
/// [`Vm::direct_memory`]).
pub struct DirectMemory<'v> {
    /// The stack, clean: frame `k` is bytes `STACK_SIZE * k ..`, region `STACK_REGION + k`.
    pub stack: &'v mut [u8],
    maps: &'v mut [Map],
}

impl<'v> DirectMemory<'v> {
    /// The host memory of each map's values, in map id order: map `i` is region
    /// `MAP_VALUE_REGION + i`.
    #[inline]
    pub fn map_values(&mut self) -> impl Iterator<Item = RegionSpan> + '_ {
        self.maps.iter_mut().map(map_values)
    }

    /// The stack and the host memory of each map's values (see [`DirectMemory::map_values`]),
    /// both at once.
    #[inline]
    pub fn into_parts(self) -> (&'v mut [u8], impl Iterator<Item = RegionSpan> + 'v) {
        (self.stack, self.maps.iter_mut().map(map_values))
    }
}

/// Where `map`'s values are.
fn map_values(map: &mut Map) -> RegionSpan {
    RegionSpan {
        ptr: map.values.as_mut_ptr(),
        len: map.values.len(),
        writable: true,
    }
}

/// An eBPF virtual machine: programs, the helpers they may call, their maps, the host they
/// believe they run on, and how to run them. Every load and store is checked against the
/// regions of the run.
///
/// ```
/// use bpfkit_isa::{Dialect, Insn, Opcode, Reg};
/// use bpfkit_vm::Vm;
///
/// // r0 = *(u8 *)(r1 + 1) + r2  (r1: the input, r2: its length)
/// let prog = [
///     Insn::new(Opcode::LdxB).with_dst(Reg::R0).with_src(Reg::R1).with_off(1),
///     Insn::new(Opcode::Add64Reg).with_dst(Reg::R0).with_src(Reg::R2),
///     Insn::new(Opcode::Exit),
/// ];
/// let mut vm = Vm::new(&prog)?;
/// assert_eq!(vm.run(&mut [10, 20, 30])?, 23);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct Vm {
    programs: Vec<Program>,
    helpers: Vec<Option<Helper>>,
    pub(crate) maps: Vec<Map>,
    host: Host,
    budget: Option<u64>,
    strict_alignment: bool,
    tail_call_overflow: TailCallOverflow,
    /// Whether some program calls a helper that uses the scratch region.
    uses_scratch: bool,
    /// The runs' stack, kept from run to run and cleaned at the start of each.
    stack: Stack,
    /// The last run's region list and map keys, emptied, so a run reuses their allocations.
    spare_regions: Vec<Region<'static>>,
    spare_keys: Vec<&'static mut Keys>,
}

impl std::fmt::Debug for Vm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Vm")
            .field("programs", &self.programs.len())
            .field(
                "helpers",
                &self
                    .helpers
                    .iter()
                    .enumerate()
                    .filter(|(_, h)| h.is_some())
                    .map(|(i, _)| i)
                    .collect::<Vec<_>>(),
            )
            .field("maps", &self.maps)
            .field("host", &self.host)
            .field("budget", &self.budget)
            .field("strict_alignment", &self.strict_alignment)
            .field("tail_call_overflow", &self.tail_call_overflow)
            .finish()
    }
}

impl Vm {
    /// A VM running `insns`, with the standard helpers.
    pub fn new(insns: &[Insn]) -> Result<Vm, LoadError> {
        Ok(Vm::with_program(Program::new(insns)?))
    }

    /// A VM running the program in `bytes` (8-byte slots), with the standard helpers.
    pub fn from_bytes(bytes: &[u8]) -> Result<Vm, LoadError> {
        Ok(Vm::with_program(Program::from_bytes(bytes)?))
    }

    /// A VM whose entry program is `program`, with the standard helpers (see
    /// [`helpers::standard`]; `bpf_tail_call` is built into the interpreter).
    pub fn with_program(program: Program) -> Vm {
        let mut vm = Vm::empty();
        vm.add_program(program);
        vm
    }

    /// A VM with no programs yet (add them with [`Vm::add_program`]) and the standard helpers.
    pub fn empty() -> Vm {
        let mut vm = Vm {
            programs: Vec::new(),
            helpers: Vec::new(),
            maps: Vec::new(),
            host: Host::default(),
            budget: None,
            strict_alignment: false,
            tail_call_overflow: TailCallOverflow::default(),
            uses_scratch: false,
            stack: Stack::default(),
            spare_regions: Vec::new(),
            spare_keys: Vec::new(),
        };
        for (id, f) in helpers::standard() {
            vm.set_helper(id.0, Helper::Builtin(f));
        }
        vm
    }

    /// Adds a program (e.g. a tail-call target) and returns its id.
    pub fn add_program(&mut self, program: Program) -> ProgId {
        self.uses_scratch |= program.insns().any(|(_, i)| {
            i.opcode == bpfkit_isa::Opcode::Call && i.imm as u32 == HelperId::FOR_EACH_MAP_ELEM.0
        });
        self.programs.push(program);
        ProgId(self.programs.len() as u32 - 1)
    }

    /// A program of this VM.
    pub fn program(&self, id: ProgId) -> Option<&Program> {
        self.programs.get(id.0 as usize)
    }

    /// Number of programs; their ids are `ProgId(0)` up to this, in the order they were added.
    pub fn program_count(&self) -> usize {
        self.programs.len()
    }

    fn set_helper(&mut self, id: u32, helper: Helper) {
        let i = id as usize;
        if self.helpers.len() <= i {
            self.helpers.resize_with(i + 1, || None);
        }
        self.helpers[i] = Some(helper);
    }

    /// Makes helper `id` call `f`, replacing any helper registered under that id. Helper 12
    /// (`bpf_tail_call`) is built into the interpreter and cannot be replaced.
    pub fn register_helper<F>(&mut self, id: u32, f: F) -> &mut Self
    where
        F: FnMut(&mut HelperEnv<'_, '_, '_>, [u64; 5]) -> Result<u64, Fault> + Send + 'static,
    {
        self.set_helper(id, Helper::Custom(Box::new(f)));
        self
    }

    /// Removes helper `id`; calls to it then fault.
    pub fn unregister_helper(&mut self, id: u32) -> &mut Self {
        if let Some(slot) = self.helpers.get_mut(id as usize) {
            *slot = None;
        }
        self
    }

    /// Whether helper `id` has an implementation (`bpf_tail_call` always has).
    pub fn has_helper(&self, id: u32) -> bool {
        id == ids::TAIL_CALL || matches!(self.helpers.get(id as usize), Some(Some(_)))
    }

    /// The helpers `program` calls that have no implementation, each once, by id.
    pub fn missing_helpers(&self, program: ProgId) -> Vec<HelperId> {
        let Some(p) = self.program(program) else {
            return Vec::new();
        };
        let mut missing: Vec<HelperId> = p
            .insns()
            .filter(|(_, i)| i.opcode == bpfkit_isa::Opcode::Call)
            .map(|(_, i)| i.imm as u32)
            .filter(|&id| !self.has_helper(id))
            .map(HelperId)
            .collect();
        missing.sort_by_key(|h| h.0);
        missing.dedup();
        missing
    }

    /// Creates a map for the host's CPUs (see [`Host::cpus`]); programs name it `map_fd(N)`
    /// where `N` is the returned id.
    pub fn create_map(&mut self, def: MapDef) -> Result<MapId, MapError> {
        self.add_map(Map::with_cpus(def, self.host.cpus)?)
    }

    /// The number of CPUs of the host.
    pub fn cpus(&self) -> u32 {
        self.host.cpus.max(1)
    }

    /// Adds a map made elsewhere (with [`Map::with_cpus`] or [`Map::map_of_maps`]).
    pub fn add_map(&mut self, map: Map) -> Result<MapId, MapError> {
        self.maps.push(map);
        Ok(MapId(self.maps.len() as u32 - 1))
    }

    /// A map, to read from userspace.
    pub fn map(&self, id: MapId) -> Option<&Map> {
        self.maps.get(id.0 as usize)
    }

    /// A map, to change from userspace.
    pub fn map_mut(&mut self, id: MapId) -> Option<&mut Map> {
        self.maps.get_mut(id.0 as usize)
    }

    /// The maps, in id order.
    pub fn maps(&self) -> &[Map] {
        &self.maps
    }

    /// The host programs run on: time, CPU, task, captured output.
    pub fn host(&self) -> &Host {
        &self.host
    }

    /// The host, to set what programs see.
    pub fn host_mut(&mut self) -> &mut Host {
        &mut self.host
    }

    /// Limits each run to `budget` instructions (`None`: no limit, and no cost).
    pub fn set_budget(&mut self, budget: Option<u64>) -> &mut Self {
        self.budget = budget;
        self
    }

    /// The instruction budget of each run (see [`Vm::set_budget`]).
    pub fn budget(&self) -> Option<u64> {
        self.budget
    }

    /// Makes misaligned loads and stores fault, as on architectures without unaligned access.
    pub fn set_strict_alignment(&mut self, strict: bool) -> &mut Self {
        self.strict_alignment = strict;
        self
    }

    /// Whether misaligned loads and stores fault (see [`Vm::set_strict_alignment`]).
    pub fn strict_alignment(&self) -> bool {
        self.strict_alignment
    }

    /// Chooses what happens past the kernel's limit of 33 tail calls.
    pub fn set_tail_call_overflow(&mut self, overflow: TailCallOverflow) -> &mut Self {
        self.tail_call_overflow = overflow;
        self
    }

    /// What happens past 33 tail calls (see [`Vm::set_tail_call_overflow`]).
    pub fn tail_call_overflow(&self) -> TailCallOverflow {
        self.tail_call_overflow
    }

    /// Runs the entry program with `r1` pointing at `input` (0 when it is empty) and `r2` its
    /// length; returns `r0`.
    pub fn run(&mut self, input: &mut [u8]) -> Result<u64, Fault> {
        self.run_program(ProgId(0), input)
    }

    /// Runs program `id` like [`Vm::run`].
    ///
    /// # Panics
    /// If `id` is not a program of this VM.
    pub fn run_program(&mut self, id: ProgId, input: &mut [u8]) -> Result<u64, Fault> {
        let r2 = input.len() as u64;
        self.run_input(
            id,
            RunInput {
                ctx: input,
                ctx_writable: true,
                r2,
                packet: None,
            },
        )
    }

    /// Runs program `id` on `input` in the interpreter: a raw input, or a context with its
    /// packet (what [`TestObject::test_run`](crate::TestObject::test_run) builds).
    ///
    /// # Panics
    /// If `id` is not a program of this VM.
    pub fn run_input(&mut self, id: ProgId, input: RunInput<'_>) -> Result<u64, Fault> {
        let (metered, strict) = (self.budget.is_some(), self.strict_alignment);
        self.run_input_with(id, input, |rt| {
            let Entry { program, r1, r2 } = rt.entry;
            let entry = program.0 as usize;
            let machine = &mut rt.machine;
            match (metered, strict) {
                (false, false) => machine.run::<false, false>(entry, r1, r2),
                (false, true) => machine.run::<false, true>(entry, r1, r2),
                (true, false) => machine.run::<true, false>(entry, r1, r2),
                (true, true) => machine.run::<true, true>(entry, r1, r2),
            }
        })
    }

    /// Builds the address space of a run of program `id` on raw `input` (a zeroed stack
    /// per frame, the input, map values) and hands it to `engine` with the helpers and maps:
    /// the one place that decides the run's memory layout, for the interpreter and the JIT
    /// alike.
    ///
    /// # Panics
    /// If `id` is not a program of this VM.
    pub fn run_with<R>(
        &mut self,
        id: ProgId,
        input: &mut [u8],
        engine: impl FnOnce(&mut Runtime<'_, '_>) -> R,
    ) -> R {
        let r2 = input.len() as u64;
        self.run_input_with(
            id,
            RunInput {
                ctx: input,
                ctx_writable: true,
                r2,
                packet: None,
            },
            engine,
        )
    }

    /// The memory of a raw run ([`Vm::run_with`]'s) for an engine that runs a program without
    /// the runtime: one that makes no helper call, tail call or legacy packet load, so what
    /// the run's memory holds is all it needs. The stack is cleaned as
    /// [`Vm::run_frames_with`] cleans it for a run that writes `frames`; the regions are the
    /// ones [`Vm::run_with`] builds: the frames, the input at
    /// [`INPUT_REGION`](crate::memory::INPUT_REGION) (writable), the map values from
    /// [`MAP_VALUE_REGION`], and every other region empty. `None` when a
    /// raw run has more (the scratch region, once some program calls
    /// `bpf_for_each_map_elem`): run through [`Vm::run_frames_with`] then.
    #[inline]
    pub fn direct_memory(&mut self, frames: FrameUse) -> Option<DirectMemory<'_>> {
        if self.uses_scratch {
            return None;
        }
        Some(DirectMemory {
            stack: self.stack.prepare(frames),
            maps: &mut self.maps,
        })
    }

    /// Records that the last run may have written the stack frames `frames`, beyond what it
    /// was started for (with [`Vm::direct_memory`] or [`Vm::run_frames_with`]): the next run
    /// cleans them too. For an engine that promises less before a run and learns during it
    /// that the promise did not hold.
    pub fn frames_written(&mut self, frames: FrameUse) {
        self.stack.written(frames);
    }

    /// [`Vm::run_with`] for any [`RunInput`]: a program context with its packet too.
    ///
    /// # Panics
    /// If `id` is not a program of this VM.
    pub fn run_input_with<R>(
        &mut self,
        id: ProgId,
        input: RunInput<'_>,
        engine: impl FnOnce(&mut Runtime<'_, '_>) -> R,
    ) -> R {
        assert!((id.0 as usize) < self.programs.len(), "no program {id:?}");
        let frames = self.programs[id.0 as usize].frame_use();
        self.run_frames_with(id, input, frames, engine)
    }

    /// [`Vm::run_input_with`] for an engine that vouches that the run writes only the stack
    /// frames `frames` says (what [`Program::frame_use`] says of the program on every engine, or
    /// less, as trusted code can promise): the next run then cleans only those. Every frame
    /// still reads as zero until the run writes it, as long as the promise holds.
    ///
    /// # Panics
    /// If `id` is not a program of this VM.
    pub fn run_frames_with<R>(
        &mut self,
        id: ProgId,
        input: RunInput<'_>,
        frames: FrameUse,
        engine: impl FnOnce(&mut Runtime<'_, '_>) -> R,
    ) -> R {
        assert!((id.0 as usize) < self.programs.len(), "no program {id:?}");
        let r1 = crate::memory::input_pointer(input.ctx.len());
        let r2 = input.r2;
        let frames = self.stack.prepare(frames);
        // Only bpf_for_each_map_elem hands the program bytes of its own, so only programs
        // calling it pay for zeroing the scratch region.
        let mut scratch = if self.uses_scratch {
            vec![0u8; crate::memory::SCRATCH_SIZE]
        } else {
            Vec::new()
        };
        let mut regions = recycle(std::mem::take(&mut self.spare_regions));
        regions.reserve(MAP_VALUE_REGION as usize + self.maps.len());
        regions.push(Region::empty());
        regions.extend(frames.chunks_exact_mut(STACK_SIZE).map(Region::writable));
        regions.push(if input.ctx_writable {
            Region::writable(input.ctx)
        } else {
            Region::read_only(input.ctx)
        });
        regions.push(Region::empty()); // map handles
        regions.push(Region::empty()); // subprogram addresses
        let packet = match input.packet {
            Some((bytes, packet)) => {
                regions.push(Region::writable(bytes));
                Some(packet)
            }
            None => {
                regions.push(Region::empty());
                None
            }
        };
        regions.push(Region::read_only(&mut scratch));
        let mut keys = recycle(std::mem::take(&mut self.spare_keys));
        keys.reserve(self.maps.len());
        for map in &mut self.maps {
            regions.push(Region::writable(&mut map.values));
            keys.push(&mut map.keys);
        }
        let mut runtime = Runtime {
            machine: Machine {
                programs: &self.programs,
                helpers: &mut self.helpers,
                mem: Memory::new(regions),
                maps: keys,
                host: &mut self.host,
                packet,
                budget: self.budget.unwrap_or(0),
                remaining: self.budget.unwrap_or(0),
                metered: self.budget.is_some(),
                strict: self.strict_alignment,
                tail_call_overflow: self.tail_call_overflow,
                tail_calls: 0,
                program: id.0 as usize,
                depth: 0,
            },
            entry: Entry {
                program: id,
                r1,
                r2,
            },
            budget: self.budget,
        };
        if let Some(p) = runtime.machine.packet.as_deref() {
            p.sync(&mut runtime.machine.mem);
        }
        let result = engine(&mut runtime);
        let Machine { mem, maps, .. } = runtime.machine;
        self.spare_regions = recycle(mem.into_regions());
        self.spare_keys = recycle(maps);
        result
    }
}

/// `v`'s allocation, emptied, for elements of another lifetime: the region list of one run
/// becomes the next run's without a new allocation (collecting a `vec::IntoIter` mapped to a
/// type of the same layout reuses its buffer).
fn recycle<T, U>(mut v: Vec<T>) -> Vec<U> {
    v.clear();
    v.into_iter()
        .map(|_| unreachable!("the vector is empty"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A run's region list is the next run's allocation: no allocation per run for it.
    #[test]
    fn recycle_keeps_the_allocation() {
        let mut bytes = [0u8; 4];
        let mut regions = Vec::with_capacity(20);
        regions.push(Region::writable(&mut bytes));
        let ptr = regions.as_ptr() as usize;
        let spare: Vec<Region<'static>> = recycle(regions);
        assert!(spare.is_empty());
        assert_eq!(spare.capacity(), 20);
        assert_eq!(spare.as_ptr() as usize, ptr);
    }
}

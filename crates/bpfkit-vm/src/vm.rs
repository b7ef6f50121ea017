//! The engine type: programs, helpers, maps and options, and `run`.

use bpfkit_isa::Insn;

use crate::fault::Fault;
use crate::helpers::{self, HelperEnv, HelperFn, ids};
use crate::interp::Machine;
use crate::maps::{Map, MapDef, MapError, MapId};
use crate::memory::{
    INPUT_REGION, MAP_VALUE_REGION, MAX_FRAMES, Memory, Region, STACK_SIZE, region_base,
};
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

/// An eBPF virtual machine: programs, the helpers they may call, their maps, and how to run
/// them. Every load and store is checked against the regions of the run.
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
    helpers: Vec<Option<Box<HelperFn>>>,
    pub(crate) maps: Vec<Map>,
    budget: Option<u64>,
    strict_alignment: bool,
    tail_call_overflow: TailCallOverflow,
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

    /// A VM whose entry program is `program`, with the standard helpers: map lookup, update and
    /// delete (1-3) and tail calls (12).
    pub fn with_program(program: Program) -> Vm {
        let mut vm = Vm {
            programs: vec![program],
            helpers: Vec::new(),
            maps: Vec::new(),
            budget: None,
            strict_alignment: false,
            tail_call_overflow: TailCallOverflow::default(),
        };
        vm.register_helper(ids::MAP_LOOKUP_ELEM, helpers::map_lookup_elem);
        vm.register_helper(ids::MAP_UPDATE_ELEM, helpers::map_update_elem);
        vm.register_helper(ids::MAP_DELETE_ELEM, helpers::map_delete_elem);
        vm
    }

    /// Adds a program (e.g. a tail-call target) and returns its id.
    pub fn add_program(&mut self, program: Program) -> ProgId {
        self.programs.push(program);
        ProgId(self.programs.len() as u32 - 1)
    }

    /// A program of this VM.
    pub fn program(&self, id: ProgId) -> Option<&Program> {
        self.programs.get(id.0 as usize)
    }

    /// Makes helper `id` call `f`, replacing any helper registered under that id. Helper 12
    /// (`bpf_tail_call`) is built into the interpreter and cannot be replaced.
    pub fn register_helper<F>(&mut self, id: u32, f: F) -> &mut Self
    where
        F: FnMut(&mut HelperEnv<'_, '_>, [u64; 5]) -> Result<u64, Fault> + Send + 'static,
    {
        let i = id as usize;
        if self.helpers.len() <= i {
            self.helpers.resize_with(i + 1, || None);
        }
        self.helpers[i] = Some(Box::new(f));
        self
    }

    /// Removes helper `id`; calls to it then fault.
    pub fn unregister_helper(&mut self, id: u32) -> &mut Self {
        if let Some(slot) = self.helpers.get_mut(id as usize) {
            *slot = None;
        }
        self
    }

    /// Creates a map; programs name it `map_fd(N)` where `N` is the returned id.
    pub fn create_map(&mut self, def: MapDef) -> Result<MapId, MapError> {
        self.maps.push(Map::new(def)?);
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

    /// Limits each run to `budget` instructions (`None`: no limit, and no cost).
    pub fn set_budget(&mut self, budget: Option<u64>) -> &mut Self {
        self.budget = budget;
        self
    }

    /// Makes misaligned loads and stores fault, as on architectures without unaligned access.
    pub fn set_strict_alignment(&mut self, strict: bool) -> &mut Self {
        self.strict_alignment = strict;
        self
    }

    /// Chooses what happens past the kernel's limit of 33 tail calls.
    pub fn set_tail_call_overflow(&mut self, overflow: TailCallOverflow) -> &mut Self {
        self.tail_call_overflow = overflow;
        self
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
        let (metered, strict) = (self.budget.is_some(), self.strict_alignment);
        self.run_with(id, input, |rt| {
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

    /// Builds the address space of a run of program `id` on `input` (a fresh zeroed stack per
    /// frame, the input, map values) and hands it to `engine` with the helpers and maps: the
    /// one place that decides the run's memory layout, for the interpreter and the JIT alike.
    ///
    /// # Panics
    /// If `id` is not a program of this VM.
    pub fn run_with<R>(
        &mut self,
        id: ProgId,
        input: &mut [u8],
        engine: impl FnOnce(&mut Runtime<'_, '_>) -> R,
    ) -> R {
        assert!((id.0 as usize) < self.programs.len(), "no program {id:?}");
        let r1 = if input.is_empty() {
            0
        } else {
            region_base(INPUT_REGION)
        };
        let r2 = input.len() as u64;
        let mut stack = [0u8; MAX_FRAMES * STACK_SIZE];
        let mut regions = Vec::with_capacity(MAP_VALUE_REGION as usize + self.maps.len());
        regions.push(Region::empty());
        regions.extend(stack.chunks_exact_mut(STACK_SIZE).map(Region::writable));
        regions.push(Region::writable(input));
        regions.push(Region::empty()); // map handles
        regions.push(Region::empty()); // subprogram addresses
        let mut keys = Vec::with_capacity(self.maps.len());
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
                budget: self.budget.unwrap_or(0),
                tail_call_overflow: self.tail_call_overflow,
            },
            entry: Entry {
                program: id,
                r1,
                r2,
            },
            budget: self.budget,
            tail_calls: 0,
        };
        engine(&mut runtime)
    }

    /// Number of programs; their ids are `ProgId(0)` up to this, in the order they were added.
    pub fn program_count(&self) -> usize {
        self.programs.len()
    }

    /// The instruction budget of each run (see [`Vm::set_budget`]).
    pub fn budget(&self) -> Option<u64> {
        self.budget
    }

    /// Whether misaligned loads and stores fault (see [`Vm::set_strict_alignment`]).
    pub fn strict_alignment(&self) -> bool {
        self.strict_alignment
    }

    /// What happens past 33 tail calls (see [`Vm::set_tail_call_overflow`]).
    pub fn tail_call_overflow(&self) -> TailCallOverflow {
        self.tail_call_overflow
    }
}

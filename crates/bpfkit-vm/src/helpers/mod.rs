//! Helper functions: a table of Rust functions keyed by helper id, the environment they see
//! (the run's memory, maps, host and packet), and the standard helpers with the kernel's
//! semantics.
//!
//! Every engine calls helpers the same way (the interpreter directly, the JIT through the
//! runtime), so a helper written here behaves identically on both. Callbacks
//! (`bpf_loop`, `bpf_for_each_map_elem`) run through [`HelperEnv::call_function`], which
//! executes the callback in the same address space on a new frame.
//!
//! A helper id with nothing registered fails the run with
//! [`Fault::UnknownHelper`], whose message names the helper
//! (`unsupported helper 51 (bpf_redirect_map)`).

mod csum;
mod fib;
mod maps;
mod misc;
mod packet;
mod printk;
mod ringbuf;
mod trace;

use bpfkit_uapi::HelperId;

use crate::fault::Fault;
use crate::host::Host;
use crate::interp::Machine;
use crate::maps::{Keys, MapId};
use crate::memory::{
    Access, CODE_REGION, MAP_HANDLE_REGION, MAP_VALUE_REGION, MAX_FRAMES, Memory, region_base,
};
use crate::packet::Packet;

/// A helper: takes `r1`-`r5`, returns the new `r0`, or stops the run with a [`Fault`].
pub type HelperFn = dyn FnMut(&mut HelperEnv<'_, '_, '_>, [u64; 5]) -> Result<u64, Fault> + Send;

/// A built-in helper: a plain function, so it can be called while another helper runs (a
/// `bpf_loop` callback calling `bpf_map_lookup_elem`, a nested `bpf_loop`).
pub type BuiltinFn = fn(&mut HelperEnv<'_, '_, '_>, [u64; 5]) -> Result<u64, Fault>;

/// One entry of the helper table.
pub enum Helper {
    /// A built-in helper.
    Builtin(BuiltinFn),
    /// A helper registered by the user.
    Custom(Box<HelperFn>),
}

/// Helper ids of the kernel's UAPI the runtime refers to by number.
pub mod ids {
    /// `bpf_map_lookup_elem(map, key)`.
    pub const MAP_LOOKUP_ELEM: u32 = bpfkit_uapi::HelperId::MAP_LOOKUP_ELEM.0;
    /// `bpf_map_update_elem(map, key, value, flags)`.
    pub const MAP_UPDATE_ELEM: u32 = bpfkit_uapi::HelperId::MAP_UPDATE_ELEM.0;
    /// `bpf_map_delete_elem(map, key)`.
    pub const MAP_DELETE_ELEM: u32 = bpfkit_uapi::HelperId::MAP_DELETE_ELEM.0;
    /// `bpf_tail_call(ctx, prog_array, index)`, built into the interpreter.
    pub const TAIL_CALL: u32 = bpfkit_uapi::HelperId::TAIL_CALL.0;
}

/// The kernel's name of helper `id` (`bpf_redirect_map`), if the UAPI table knows it.
pub fn helper_name(id: u32) -> Option<String> {
    let helper = HelperId(id);
    helper
        .is_known()
        .then(|| format!("bpf_{helper:#}"))
        .filter(|_| id != 0)
}

/// Every helper the runtime implements, with the kernel's semantics (what each does lives in
/// its module: maps, packets, tracing, ring buffers, checksums, routing, the rest).
pub fn standard() -> Vec<(HelperId, BuiltinFn)> {
    use HelperId as H;
    vec![
        (H::MAP_LOOKUP_ELEM, maps::map_lookup_elem),
        (H::MAP_UPDATE_ELEM, maps::map_update_elem),
        (H::MAP_DELETE_ELEM, maps::map_delete_elem),
        (H::MAP_PUSH_ELEM, maps::map_push_elem),
        (H::MAP_POP_ELEM, maps::map_pop_elem),
        (H::MAP_PEEK_ELEM, maps::map_peek_elem),
        (H::MAP_LOOKUP_PERCPU_ELEM, maps::map_lookup_percpu_elem),
        (H::FOR_EACH_MAP_ELEM, maps::for_each_map_elem),
        (H::PERF_EVENT_OUTPUT, maps::perf_event_output),
        (H::REDIRECT_MAP, maps::redirect_map),
        (H::RINGBUF_OUTPUT, ringbuf::ringbuf_output),
        (H::RINGBUF_RESERVE, ringbuf::ringbuf_reserve),
        (H::RINGBUF_SUBMIT, ringbuf::ringbuf_submit),
        (H::RINGBUF_DISCARD, ringbuf::ringbuf_discard),
        (H::RINGBUF_QUERY, ringbuf::ringbuf_query),
        (H::PROBE_READ, trace::probe_read),
        (H::PROBE_READ_STR, trace::probe_read_str),
        (H::PROBE_READ_KERNEL, trace::probe_read_kernel),
        (H::PROBE_READ_KERNEL_STR, trace::probe_read_kernel_str),
        (H::PROBE_READ_USER, trace::probe_read_user),
        (H::PROBE_READ_USER_STR, trace::probe_read_user_str),
        (H::GET_CURRENT_PID_TGID, trace::get_current_pid_tgid),
        (H::GET_CURRENT_UID_GID, trace::get_current_uid_gid),
        (H::GET_CURRENT_COMM, trace::get_current_comm),
        (H::TRACE_PRINTK, printk::trace_printk),
        (H::KTIME_GET_NS, misc::ktime_get_ns),
        (H::KTIME_GET_BOOT_NS, misc::ktime_get_boot_ns),
        (H::KTIME_GET_COARSE_NS, misc::ktime_get_ns),
        (H::KTIME_GET_TAI_NS, misc::ktime_get_ns),
        (H::JIFFIES64, misc::jiffies64),
        (H::GET_PRANDOM_U32, misc::get_prandom_u32),
        (H::GET_SMP_PROCESSOR_ID, misc::get_smp_processor_id),
        (H::GET_NUMA_NODE_ID, misc::get_numa_node_id),
        (H::LOOP, misc::bpf_loop),
        (H::SPIN_LOCK, misc::spin_lock),
        (H::SPIN_UNLOCK, misc::spin_unlock),
        (H::CSUM_DIFF, csum::csum_diff),
        (H::L3_CSUM_REPLACE, csum::l3_csum_replace),
        (H::L4_CSUM_REPLACE, csum::l4_csum_replace),
        (H::SKB_LOAD_BYTES, packet::skb_load_bytes),
        (H::SKB_STORE_BYTES, packet::skb_store_bytes),
        (H::SKB_CHANGE_TAIL, packet::skb_change_tail),
        (H::GET_HASH_RECALC, packet::get_hash_recalc),
        (H::SET_HASH_INVALID, packet::set_hash_invalid),
        (H::XDP_ADJUST_HEAD, packet::xdp_adjust_head),
        (H::XDP_ADJUST_TAIL, packet::xdp_adjust_tail),
        (H::XDP_ADJUST_META, packet::xdp_adjust_meta),
        (H::REDIRECT, packet::redirect),
        (H::FIB_LOOKUP, fib::fib_lookup),
    ]
}

/// What a helper sees of the run: the address space, the maps, the host, the packet.
pub struct HelperEnv<'e, 'v, 'a> {
    pub(crate) m: &'e mut Machine<'v, 'a>,
    pub(crate) pc: usize,
    pub(crate) id: u32,
}

impl<'v, 'a> HelperEnv<'_, 'v, 'a> {
    /// The slot index of the call instruction.
    pub fn pc(&self) -> usize {
        self.pc
    }

    /// The id of the helper being called.
    pub fn id(&self) -> u32 {
        self.id
    }

    /// A fault that stops the run, with the helper's explanation.
    pub fn fail(&self, message: impl Into<String>) -> Fault {
        Fault::Helper {
            pc: self.pc,
            id: self.id,
            message: message.into(),
        }
    }

    /// The program's bytes at `addr..addr + len`.
    pub fn read(&self, addr: u64, len: usize) -> Result<&[u8], Fault> {
        self.m.mem.slice(addr, len).ok_or(Fault::OutOfBounds {
            pc: self.pc,
            addr,
            size: len,
            access: Access::Read,
        })
    }

    /// Writes `bytes` into the program's memory at `addr`.
    pub fn write(&mut self, addr: u64, bytes: &[u8]) -> Result<(), Fault> {
        let Some(dst) = self.m.mem.slice_mut(addr, bytes.len()) else {
            return Err(Fault::on_write(&self.m.mem, self.pc, addr, bytes.len()));
        };
        dst.copy_from_slice(bytes);
        Ok(())
    }

    /// Fills `len` bytes at `addr` with zeros.
    pub fn zero(&mut self, addr: u64, len: usize) -> Result<(), Fault> {
        let Some(dst) = self.m.mem.slice_mut(addr, len) else {
            return Err(Fault::on_write(&self.m.mem, self.pc, addr, len));
        };
        dst.fill(0);
        Ok(())
    }

    /// The whole address space, for helpers that need more than `read` and `write`.
    pub fn memory(&mut self) -> &mut Memory<'a> {
        &mut self.m.mem
    }

    /// The host: the time, the CPU, the task, captured output.
    pub fn host(&mut self) -> &mut Host {
        self.m.host
    }

    /// The packet of the context, for networking programs.
    pub fn packet(&self) -> Option<&Packet> {
        self.m.packet.as_deref()
    }

    /// The packet for a helper that moves it; call [`HelperEnv::sync_packet`] afterwards.
    pub(crate) fn packet_mut(&mut self) -> Option<&mut Packet> {
        self.m.packet.as_deref_mut()
    }

    /// Writes the packet's geometry back into the context (pointer fields, `len`).
    pub(crate) fn sync_packet(&mut self) {
        if let Some(p) = self.m.packet.as_deref() {
            p.sync(&mut self.m.mem);
        }
    }

    /// The map a `map_fd(N)` handle names.
    pub fn map(&self, handle: u64) -> Result<MapId, Fault> {
        let index = handle.wrapping_sub(region_base(MAP_HANDLE_REGION));
        if index < self.m.maps.len() as u64 {
            Ok(MapId(index as u32))
        } else {
            Err(self.fail(format!("{handle:#x} is not a map")))
        }
    }

    /// A map's definition and element index.
    pub fn keys(&self, map: MapId) -> &Keys {
        self.m.maps[map.0 as usize]
    }

    pub(crate) fn keys_mut(&mut self, map: MapId) -> &mut Keys {
        self.m.maps[map.0 as usize]
    }

    /// The virtual address of byte `offset` of `map`'s value region.
    pub fn value_addr(&self, map: MapId, offset: u64) -> u64 {
        region_base(MAP_VALUE_REGION + map.0 as u64) + offset
    }

    /// The map's value region, for helpers that work on it as a whole (ring buffers).
    pub(crate) fn value_region(&mut self, map: MapId) -> &mut [u8] {
        self.m
            .mem
            .region_mut(MAP_VALUE_REGION + map.0 as u64)
            .expect("every map has a value region")
    }

    /// Calls the BPF function at `func` (a `lddw rX, func(+N)` address of the running program)
    /// with `args` in `r1`-`r5`, on a new stack frame, and returns its `r0`: how `bpf_loop` and
    /// `bpf_for_each_map_elem` run their callbacks.
    pub fn call_function(&mut self, func: u64, args: [u64; 5]) -> Result<u64, Fault> {
        let slot = func.wrapping_sub(region_base(CODE_REGION));
        let program = self.m.program;
        if slot >= self.m.programs[program].len() as u64 {
            return Err(self.fail(format!("{func:#x} is not a function of the program")));
        }
        let depth = self.m.depth + 1;
        if depth >= MAX_FRAMES {
            return Err(Fault::CallDepth {
                pc: self.pc,
                max: MAX_FRAMES,
            });
        }
        let saved = (self.m.program, self.m.depth);
        let result = self.m.call_function(program, slot as usize, args, depth);
        (self.m.program, self.m.depth) = saved;
        result
    }
}

/// `-errno` as a helper's return value.
pub(crate) fn neg(errno: i64) -> u64 {
    (-errno) as u64
}

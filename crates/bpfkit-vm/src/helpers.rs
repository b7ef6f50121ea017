//! Helper functions: a table of Rust functions keyed by helper id, and the environment they
//! see (the run's memory and maps).

use crate::fault::Fault;
use crate::maps::{Keys, MapError, MapId};
use crate::memory::{Access, MAP_HANDLE_REGION, MAP_VALUE_REGION, Memory, region_base};

/// A helper: takes `r1`-`r5`, returns the new `r0`, or stops the run with a [`Fault`].
pub type HelperFn = dyn FnMut(&mut HelperEnv<'_, '_>, [u64; 5]) -> Result<u64, Fault> + Send;

/// Helper ids of the kernel's UAPI that the runtime implements.
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

/// What a helper sees of the run: the address space and the maps.
pub struct HelperEnv<'e, 'a> {
    pub(crate) mem: &'e mut Memory<'a>,
    pub(crate) maps: &'e mut [&'a mut Keys],
    pub(crate) pc: usize,
    pub(crate) id: u32,
}

impl<'a> HelperEnv<'_, 'a> {
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
        self.mem.slice(addr, len).ok_or(Fault::OutOfBounds {
            pc: self.pc,
            addr,
            size: len,
            access: Access::Read,
        })
    }

    /// Writes `bytes` into the program's memory at `addr`.
    pub fn write(&mut self, addr: u64, bytes: &[u8]) -> Result<(), Fault> {
        let Some(dst) = self.mem.slice_mut(addr, bytes.len()) else {
            return Err(Fault::on_write(self.mem, self.pc, addr, bytes.len()));
        };
        dst.copy_from_slice(bytes);
        Ok(())
    }

    /// The whole address space, for helpers that need more than `read` and `write`.
    pub fn memory(&mut self) -> &mut Memory<'a> {
        self.mem
    }

    /// The map a `map_fd(N)` handle names.
    pub fn map(&self, handle: u64) -> Result<MapId, Fault> {
        let index = handle.wrapping_sub(region_base(MAP_HANDLE_REGION));
        if index < self.maps.len() as u64 {
            Ok(MapId(index as u32))
        } else {
            Err(self.fail(format!("{handle:#x} is not a map")))
        }
    }

    fn keys(&self, map: MapId) -> &Keys {
        self.maps[map.0 as usize]
    }

    /// The address of value slot `slot` of `map`.
    fn value_addr(&self, map: MapId, slot: u32) -> u64 {
        let size = self.keys(map).def.value_size as u64;
        region_base(MAP_VALUE_REGION + map.0 as u64) + slot as u64 * size
    }
}

/// `bpf_map_lookup_elem`: a pointer to the value, or 0.
pub(crate) fn map_lookup_elem(env: &mut HelperEnv<'_, '_>, args: [u64; 5]) -> Result<u64, Fault> {
    let map = env.map(args[0])?;
    let key = env
        .read(args[1], env.keys(map).def.key_size as usize)?
        .to_vec();
    Ok(env
        .keys(map)
        .slot_of(&key)
        .map_or(0, |slot| env.value_addr(map, slot)))
}

/// `bpf_map_update_elem`: 0 or a negative errno.
pub(crate) fn map_update_elem(env: &mut HelperEnv<'_, '_>, args: [u64; 5]) -> Result<u64, Fault> {
    let map = env.map(args[0])?;
    let def = env.keys(map).def;
    let key = env.read(args[1], def.key_size as usize)?.to_vec();
    let value = env.read(args[2], def.value_size as usize)?.to_vec();
    let result: Result<u32, MapError> = env.maps[map.0 as usize].slot_for_update(&key, args[3]);
    match result {
        Ok(slot) => {
            let addr = env.value_addr(map, slot);
            env.write(addr, &value)?;
            Ok(0)
        }
        Err(e) => Ok(e.errno() as u64),
    }
}

/// `bpf_map_delete_elem`: 0 or a negative errno.
pub(crate) fn map_delete_elem(env: &mut HelperEnv<'_, '_>, args: [u64; 5]) -> Result<u64, Fault> {
    let map = env.map(args[0])?;
    let key = env
        .read(args[1], env.keys(map).def.key_size as usize)?
        .to_vec();
    Ok(env.maps[map.0 as usize]
        .delete(&key)
        .map_or_else(|e| e.errno() as u64, |()| 0))
}

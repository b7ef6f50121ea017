//! Bloom filter maps (`kernel/bpf/bloom_filter.c`): `nr_hash_funcs` jhash functions (seeds
//! `seed + i`) set and test bits of a power-of-two bit array sized `max_entries * k * 7 / 5`.
//!
//! The kernel seeds with a random number unless the map has `BPF_F_ZERO_SEED`; here the seed is
//! always 0, so with `BPF_F_ZERO_SEED` the same values give the same bits (and the same false
//! positives) as in the kernel, and without it the runtime stays deterministic.

use super::{BPF_ANY, MapError};
use crate::jhash::{jhash, jhash2};

#[derive(Debug)]
pub(crate) struct Bloom {
    bits: Vec<u64>,
    mask: u32,
    nr_hash_funcs: u32,
    seed: u32,
    /// The value size in u32 words when it is a multiple of 4 (then jhash2 is used).
    aligned_words: u32,
}

impl Bloom {
    /// The bytes of the bit array of a filter of `max_entries` and `extra` (hash functions).
    pub fn bytes(max_entries: u32, extra: u32) -> u64 {
        Bloom::geometry(max_entries, extra).0.div_ceil(8)
    }

    /// (bits, mask) as bloom_map_alloc computes them.
    fn geometry(max_entries: u32, extra: u32) -> (u64, u32) {
        let k = if extra == 0 { 5 } else { extra };
        let nr_bits = max_entries
            .checked_mul(k)
            .and_then(|n| (n / 5).checked_mul(7))
            .filter(|&n| n <= 1 << 31);
        match nr_bits {
            None => (1u64 << 32, u32::MAX),
            Some(n) if n <= 64 => (64, 63),
            Some(n) => {
                let p = n.next_power_of_two();
                (p as u64, p - 1)
            }
        }
    }

    /// An empty filter (the seed is 0 whatever `_zero_seed` says: see the module docs).
    pub fn new(max_entries: u32, extra: u32, value_size: u32, _zero_seed: bool) -> Bloom {
        let k = if extra == 0 { 5 } else { extra };
        let (nr_bits, mask) = Bloom::geometry(max_entries, extra);
        Bloom {
            bits: vec![0; nr_bits.div_ceil(64) as usize],
            mask,
            nr_hash_funcs: k,
            seed: 0,
            aligned_words: if value_size % 4 == 0 {
                value_size / 4
            } else {
                0
            },
        }
    }

    fn hash(&self, value: &[u8], index: u32) -> u32 {
        let seed = self.seed.wrapping_add(index);
        let h = if self.aligned_words != 0 {
            let words: Vec<u32> = value
                .chunks_exact(4)
                .map(|c| u32::from_le_bytes(c.try_into().unwrap()))
                .collect();
            jhash2(&words, seed)
        } else {
            jhash(value, seed)
        };
        h & self.mask
    }

    pub fn push(&mut self, value: &[u8], flags: u64) -> Result<(), MapError> {
        if flags != BPF_ANY {
            return Err(MapError::Invalid);
        }
        for i in 0..self.nr_hash_funcs {
            let h = self.hash(value, i);
            self.bits[(h / 64) as usize] |= 1 << (h % 64);
        }
        Ok(())
    }

    pub fn peek(&self, value: &[u8]) -> Result<(), MapError> {
        for i in 0..self.nr_hash_funcs {
            let h = self.hash(value, i);
            if self.bits[(h / 64) as usize] & (1 << (h % 64)) == 0 {
                return Err(MapError::NotFound);
            }
        }
        Ok(())
    }
}

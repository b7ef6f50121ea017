//! Unit tests of the maps' userspace side. Their behaviour against the kernel's is checked by
//! the kernel differential (`tests/test_run_kernel.rs`).

use super::*;

fn hash(max: u32) -> Map {
    Map::new(MapDef::new(MapType::HASH, 4, 8, max)).unwrap()
}

#[test]
fn hash_update_flags_follow_the_kernel() {
    let mut m = hash(1);
    let k = 7u32.to_le_bytes();
    assert_eq!(m.update(&k, &[1; 8], BPF_EXIST), Err(MapError::NotFound));
    m.update(&k, &[1; 8], BPF_NOEXIST).unwrap();
    assert_eq!(m.update(&k, &[2; 8], BPF_NOEXIST), Err(MapError::Exists));
    m.update(&k, &[2; 8], BPF_ANY).unwrap();
    assert_eq!(m.lookup(&k), Some(&[2u8; 8][..]));
    assert_eq!(
        m.update(&8u32.to_le_bytes(), &[3; 8], BPF_ANY),
        Err(MapError::TooBig)
    );
    m.delete(&k).unwrap();
    assert_eq!(m.delete(&k), Err(MapError::NotFound));
    m.update(&8u32.to_le_bytes(), &[3; 8], BPF_ANY).unwrap();
    assert_eq!(m.update(&k, &[3; 8], 4 | 3), Err(MapError::Invalid));
}

#[test]
fn arrays_have_every_index_and_cannot_delete() {
    let mut m = Map::new(MapDef::new(MapType::ARRAY, 4, 4, 2)).unwrap();
    assert_eq!(m.lookup(&1u32.to_le_bytes()), Some(&[0u8; 4][..]));
    assert_eq!(m.lookup(&2u32.to_le_bytes()), None);
    assert_eq!(
        m.update(&0u32.to_le_bytes(), &[1; 4], BPF_NOEXIST),
        Err(MapError::Exists)
    );
    assert_eq!(
        m.update(&2u32.to_le_bytes(), &[1; 4], BPF_ANY),
        Err(MapError::TooBig)
    );
    assert_eq!(m.delete(&0u32.to_le_bytes()), Err(MapError::Invalid));
    assert_eq!(m.keys().len(), 2);
}

#[test]
fn definitions_are_checked_as_bpf_map_create_does() {
    let bad = [
        MapDef::new(MapType::ARRAY, 8, 4, 1),
        MapDef::new(MapType::ARRAY, 4, 0, 1),
        MapDef::new(MapType::HASH, 0, 4, 1),
        MapDef::new(MapType::HASH, 4, 4, 0),
        MapDef::new(MapType::LPM_TRIE, 8, 4, 1),
        MapDef::new(MapType::RINGBUF, 0, 0, 1000),
        MapDef::new(MapType::QUEUE, 4, 4, 4),
        MapDef::new(MapType::BLOOM_FILTER, 0, 4, 4).with_extra(16),
    ];
    for def in bad {
        assert_eq!(Map::new(def).unwrap_err(), MapError::Invalid, "{def:?}");
    }
    assert_eq!(
        Map::new(MapDef::new(MapType::HASH, 513, 4, 1)).unwrap_err(),
        MapError::TooBig
    );
    assert_eq!(
        Map::new(MapDef::new(MapType::STACK_TRACE, 4, 8, 1)).unwrap_err(),
        MapError::Unsupported(MapType::STACK_TRACE)
    );
}

#[test]
fn percpu_values_are_padded_to_8_bytes_per_cpu_for_userspace() {
    let mut m = Map::with_cpus(MapDef::new(MapType::PERCPU_ARRAY, 4, 4, 2), 3).unwrap();
    let key = 1u32.to_le_bytes();
    let value: Vec<u8> = [1u8, 2, 3]
        .iter()
        .flat_map(|&c| [c, 0, 0, 0, 0xee, 0xee, 0xee, 0xee])
        .collect();
    m.update(&key, &value, BPF_ANY).unwrap();
    let percpu = m.lookup_percpu(&key).unwrap();
    assert_eq!(
        percpu,
        vec![&[1, 0, 0, 0][..], &[2, 0, 0, 0], &[3, 0, 0, 0]]
    );
    let elem = m.lookup_elem(&key).unwrap();
    assert_eq!(elem.len(), 24);
    assert_eq!(&elem[8..12], &[2, 0, 0, 0]);
    assert_eq!(&elem[12..16], &[0; 4], "padding reads as zero");
    assert_eq!(m.update(&key, &[0; 12], BPF_ANY), Err(MapError::Invalid));
}

#[test]
fn lru_maps_round_to_cpus_and_evict_the_least_recently_used() {
    let mut m = Map::with_cpus(MapDef::new(MapType::LRU_HASH, 4, 4, 3), 2).unwrap();
    assert_eq!(m.def().max_entries, 4);
    for k in 0..4u32 {
        m.update(&k.to_le_bytes(), &k.to_le_bytes(), BPF_ANY)
            .unwrap();
    }
    // A program's lookup of 0 makes it recent; 1 is now the oldest.
    let id = m.keys.lookup(&0u32.to_le_bytes(), 0);
    assert!(id.is_some());
    m.update(&9u32.to_le_bytes(), &[9; 4], BPF_ANY).unwrap();
    assert_eq!(m.lookup(&1u32.to_le_bytes()), None);
    assert!(m.lookup(&0u32.to_le_bytes()).is_some());
    assert_eq!(m.keys().len(), 4);
}

#[test]
fn queues_and_stacks_overwrite_only_with_bpf_exist() {
    let mut q = Map::new(MapDef::new(MapType::QUEUE, 0, 1, 2)).unwrap();
    let mut s = Map::new(MapDef::new(MapType::STACK, 0, 1, 2)).unwrap();
    for m in [&mut q, &mut s] {
        m.push(&[1], BPF_ANY).unwrap();
        m.push(&[2], BPF_ANY).unwrap();
        assert_eq!(m.push(&[3], BPF_ANY), Err(MapError::TooBig));
        assert_eq!(m.push(&[3], BPF_NOEXIST), Err(MapError::Invalid));
        m.push(&[3], BPF_EXIST).unwrap();
    }
    // The queue dropped its oldest (1): 2, 3. The stack dropped its bottom (1): 3, 2.
    assert_eq!((q.pop().unwrap(), q.pop().unwrap()), (vec![2], vec![3]));
    assert_eq!((s.pop().unwrap(), s.pop().unwrap()), (vec![3], vec![2]));
    assert_eq!(q.pop(), Err(MapError::NotFound));
}

#[test]
fn bloom_filters_have_no_false_negatives() {
    let mut b = Map::new(MapDef::new(MapType::BLOOM_FILTER, 0, 4, 100).with_extra(3)).unwrap();
    for v in 0..100u32 {
        b.push(&v.to_le_bytes(), BPF_ANY).unwrap();
    }
    for v in 0..100u32 {
        b.peek_bloom(&v.to_le_bytes()).unwrap();
    }
    let absent = (1000..2000u32)
        .filter(|v| b.peek_bloom(&v.to_le_bytes()).is_err())
        .count();
    assert!(absent > 900, "{absent} of 1000 reported absent");
    assert_eq!(b.push(&[0; 4], BPF_EXIST), Err(MapError::Invalid));
}

#[test]
fn maps_over_the_runtimes_memory_limit_are_refused_before_allocating() {
    for def in [
        MapDef::new(MapType::PROG_ARRAY, 4, 4, u32::MAX),
        MapDef::new(MapType::ARRAY, 4, 4096, 1 << 20),
        MapDef::new(MapType::BLOOM_FILTER, 0, 8, u32::MAX),
        MapDef::new(MapType::RINGBUF, 0, 0, 1 << 31),
        MapDef::new(MapType::PERCPU_ARRAY, 4, 1024, 1 << 18),
    ] {
        let e = Map::with_cpus(def, 2).unwrap_err();
        assert!(
            matches!(e, MapError::TooLarge(b) if b > MAX_MAP_BYTES),
            "{def:?}: {e}"
        );
        assert_eq!(e.errno(), -libc_errno::ENOMEM);
    }
    // Just under it, an array is created (its zeroed values are not touched).
    Map::new(MapDef::new(MapType::ARRAY, 4, 4096, 1 << 16)).unwrap();
}

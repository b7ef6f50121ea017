//! `enum bpf_map_type`: the kinds of maps.

use crate::macros::uapi_enum;

uapi_enum! {
    /// A map type (`enum bpf_map_type`),
    /// values from the kernel's `include/uapi/linux/bpf.h` (libbpf's copy at f7081a6, 2026-07).
    ///
    /// ```
    /// use bpfkit_uapi::MapType;
    /// assert_eq!(MapType::RINGBUF.0, 27);
    /// assert_eq!(MapType::LRU_HASH.to_string(), "BPF_MAP_TYPE_LRU_HASH");
    /// assert_eq!(format!("{:#}", MapType::ARRAY_OF_MAPS), "array_of_maps");
    /// assert_eq!(MapType::CGROUP_STORAGE_DEPRECATED, MapType::CGROUP_STORAGE);
    /// ```
    MapType(u32), prefix = "BPF_MAP_TYPE_", kind = "map type" {
        /// `BPF_MAP_TYPE_UNSPEC`: No map type (reserved).
        UNSPEC = 0 => "unspec",
        /// `BPF_MAP_TYPE_HASH`: Hash table.
        HASH = 1 => "hash",
        /// `BPF_MAP_TYPE_ARRAY`: Array indexed by a `u32`, preallocated and zeroed.
        ARRAY = 2 => "array",
        /// `BPF_MAP_TYPE_PROG_ARRAY`: Array of programs, the target of `bpf_tail_call`.
        PROG_ARRAY = 3 => "prog_array",
        /// `BPF_MAP_TYPE_PERF_EVENT_ARRAY`:
        /// Per-CPU perf event ring buffers (`bpf_perf_event_output`).
        PERF_EVENT_ARRAY = 4 => "perf_event_array",
        /// `BPF_MAP_TYPE_PERCPU_HASH`: Hash table with one value per CPU.
        PERCPU_HASH = 5 => "percpu_hash",
        /// `BPF_MAP_TYPE_PERCPU_ARRAY`: Array with one value per CPU.
        PERCPU_ARRAY = 6 => "percpu_array",
        /// `BPF_MAP_TYPE_STACK_TRACE`: Stack traces collected by `bpf_get_stackid`.
        STACK_TRACE = 7 => "stack_trace",
        /// `BPF_MAP_TYPE_CGROUP_ARRAY`: Array of cgroup file descriptors.
        CGROUP_ARRAY = 8 => "cgroup_array",
        /// `BPF_MAP_TYPE_LRU_HASH`: Hash table evicting the least recently used entries.
        LRU_HASH = 9 => "lru_hash",
        /// `BPF_MAP_TYPE_LRU_PERCPU_HASH`: LRU hash table with one value per CPU.
        LRU_PERCPU_HASH = 10 => "lru_percpu_hash",
        /// `BPF_MAP_TYPE_LPM_TRIE`: Longest-prefix-match trie.
        LPM_TRIE = 11 => "lpm_trie",
        /// `BPF_MAP_TYPE_ARRAY_OF_MAPS`: Array whose values are maps.
        ARRAY_OF_MAPS = 12 => "array_of_maps",
        /// `BPF_MAP_TYPE_HASH_OF_MAPS`: Hash table whose values are maps.
        HASH_OF_MAPS = 13 => "hash_of_maps",
        /// `BPF_MAP_TYPE_DEVMAP`: Array of network devices for XDP redirects.
        DEVMAP = 14 => "devmap",
        /// `BPF_MAP_TYPE_SOCKMAP`: Array of sockets for redirects.
        SOCKMAP = 15 => "sockmap",
        /// `BPF_MAP_TYPE_CPUMAP`: Array of CPUs for XDP redirects.
        CPUMAP = 16 => "cpumap",
        /// `BPF_MAP_TYPE_XSKMAP`: Array of AF_XDP sockets.
        XSKMAP = 17 => "xskmap",
        /// `BPF_MAP_TYPE_SOCKHASH`: Hash table of sockets for redirects.
        SOCKHASH = 18 => "sockhash",
        /// `BPF_MAP_TYPE_CGROUP_STORAGE`: Per-cgroup local storage (superseded by `CGRP_STORAGE`).
        CGROUP_STORAGE = 19 => "cgroup_storage",
        /// `BPF_MAP_TYPE_REUSEPORT_SOCKARRAY`: Array of sockets for `SO_REUSEPORT` selection.
        REUSEPORT_SOCKARRAY = 20 => "reuseport_sockarray",
        /// `BPF_MAP_TYPE_PERCPU_CGROUP_STORAGE`: Per-CPU per-cgroup local storage (deprecated).
        PERCPU_CGROUP_STORAGE = 21 => "percpu_cgroup_storage",
        /// `BPF_MAP_TYPE_QUEUE`: FIFO queue (no keys).
        QUEUE = 22 => "queue",
        /// `BPF_MAP_TYPE_STACK`: LIFO stack (no keys).
        STACK = 23 => "stack",
        /// `BPF_MAP_TYPE_SK_STORAGE`: Socket-local storage.
        SK_STORAGE = 24 => "sk_storage",
        /// `BPF_MAP_TYPE_DEVMAP_HASH`: Hash table of network devices for XDP redirects.
        DEVMAP_HASH = 25 => "devmap_hash",
        /// `BPF_MAP_TYPE_STRUCT_OPS`: Holds a `struct *_ops` implemented by BPF programs.
        STRUCT_OPS = 26 => "struct_ops",
        /// `BPF_MAP_TYPE_RINGBUF`: Multi-producer ring buffer shared with user space.
        RINGBUF = 27 => "ringbuf",
        /// `BPF_MAP_TYPE_INODE_STORAGE`: Inode-local storage.
        INODE_STORAGE = 28 => "inode_storage",
        /// `BPF_MAP_TYPE_TASK_STORAGE`: Task-local storage.
        TASK_STORAGE = 29 => "task_storage",
        /// `BPF_MAP_TYPE_BLOOM_FILTER`: Bloom filter (values only; `map_extra` = number of hashes).
        BLOOM_FILTER = 30 => "bloom_filter",
        /// `BPF_MAP_TYPE_USER_RINGBUF`: Ring buffer written by user space, drained by the program.
        USER_RINGBUF = 31 => "user_ringbuf",
        /// `BPF_MAP_TYPE_CGRP_STORAGE`: Cgroup-local storage.
        CGRP_STORAGE = 32 => "cgrp_storage",
        /// `BPF_MAP_TYPE_ARENA`: Memory region shared by the program and user space.
        ARENA = 33 => "arena",
        /// `BPF_MAP_TYPE_INSN_ARRAY`: Instruction offsets of a program (indirect jump tables).
        INSN_ARRAY = 34 => "insn_array",
        /// `BPF_MAP_TYPE_RHASH`: Resizable hash table.
        RHASH = 35 => "rhash",
    }
    aliases {
        /// `BPF_MAP_TYPE_CGROUP_STORAGE_DEPRECATED`:
        /// the kernel's other name for [`MapType::CGROUP_STORAGE`].
        CGROUP_STORAGE_DEPRECATED = CGROUP_STORAGE,
        /// `BPF_MAP_TYPE_PERCPU_CGROUP_STORAGE_DEPRECATED`:
        /// the kernel's other name for [`MapType::PERCPU_CGROUP_STORAGE`].
        PERCPU_CGROUP_STORAGE_DEPRECATED = PERCPU_CGROUP_STORAGE,
    }
}

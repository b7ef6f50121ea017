//! Flag sets of the UAPI: map creation flags and program load flags.

use crate::macros::uapi_flags;

uapi_flags! {
    /// `map_flags` of `BPF_MAP_CREATE` (the anonymous enum of `BPF_F_*` map flags in
    /// `include/uapi/linux/bpf.h`).
    ///
    /// ```
    /// use bpfkit_uapi::MapFlags;
    /// let flags = MapFlags::NO_PREALLOC | MapFlags::RDONLY_PROG;
    /// assert_eq!(flags.to_string(), "BPF_F_NO_PREALLOC|BPF_F_RDONLY_PROG");
    /// assert_eq!(format!("{flags:#}"), "no_prealloc|rdonly_prog");
    /// assert_eq!(MapFlags(1 << 30).to_string(), "0x40000000");
    /// ```
    MapFlags(u32), prefix = "BPF_F_" {
        /// Allocate hash table elements on demand instead of up front.
        NO_PREALLOC = 1 << 0 => "no_prealloc",
        /// LRU maps: one LRU list per CPU instead of a common one.
        NO_COMMON_LRU = 1 << 1 => "no_common_lru",
        /// `numa_node` is valid.
        NUMA_NODE = 1 << 2 => "numa_node",
        /// User space may only read the map.
        RDONLY = 1 << 3 => "rdonly",
        /// User space may only write the map.
        WRONLY = 1 << 4 => "wronly",
        /// Stack trace maps store build ids and offsets.
        STACK_BUILD_ID = 1 << 5 => "stack_build_id",
        /// Hash maps: a random seed of zero (for tests).
        ZERO_SEED = 1 << 6 => "zero_seed",
        /// Programs may only read the map.
        RDONLY_PROG = 1 << 7 => "rdonly_prog",
        /// Programs may only write the map.
        WRONLY_PROG = 1 << 8 => "wronly_prog",
        /// Storage maps: clone the value into a new socket.
        CLONE = 1 << 9 => "clone",
        /// The map may be `mmap`ed.
        MMAPABLE = 1 << 10 => "mmapable",
        /// Perf event arrays: keep entries when the file is released.
        PRESERVE_ELEMS = 1 << 11 => "preserve_elems",
        /// The inner map of a map-in-map may vary in `max_entries`.
        INNER_MAP = 1 << 12 => "inner_map",
        /// struct_ops maps: attached through a link.
        LINK = 1 << 13 => "link",
        /// Pinning by path file descriptor.
        PATH_FD = 1 << 14 => "path_fd",
        /// Value type BTF is given by an object file descriptor.
        VTYPE_BTF_OBJ_FD = 1 << 15 => "vtype_btf_obj_fd",
        /// A BPF token is given.
        TOKEN_FD = 1 << 16 => "token_fd",
        /// Arena: fault on an access to an unmapped page.
        SEGV_ON_FAULT = 1 << 17 => "segv_on_fault",
        /// Arena: do not convert user space addresses.
        NO_USER_CONV = 1 << 18 => "no_user_conv",
        /// Ring buffer: overwrite the oldest records when full.
        RB_OVERWRITE = 1 << 19 => "rb_overwrite",
    }
}

uapi_flags! {
    /// `prog_flags` of `BPF_PROG_LOAD` (the `BPF_F_*` program load flags).
    ///
    /// ```
    /// use bpfkit_uapi::ProgFlags;
    /// assert_eq!(ProgFlags::SLEEPABLE.bits(), 16);
    /// assert_eq!(ProgFlags::XDP_HAS_FRAGS.to_string(), "BPF_F_XDP_HAS_FRAGS");
    /// ```
    ProgFlags(u32), prefix = "BPF_F_" {
        /// Check every memory access for alignment.
        STRICT_ALIGNMENT = 1 << 0 => "strict_alignment",
        /// Accept any alignment (for tests).
        ANY_ALIGNMENT = 1 << 1 => "any_alignment",
        /// Randomise the upper 32 bits after 32-bit operations (for tests).
        TEST_RND_HI32 = 1 << 2 => "test_rnd_hi32",
        /// Record verifier states more often (for tests).
        TEST_STATE_FREQ = 1 << 3 => "test_state_freq",
        /// The program may sleep.
        SLEEPABLE = 1 << 4 => "sleepable",
        /// XDP: the program handles multi-buffer (fragmented) packets.
        XDP_HAS_FRAGS = 1 << 5 => "xdp_has_frags",
        /// XDP: bound to one device, may use its kfuncs.
        XDP_DEV_BOUND_ONLY = 1 << 6 => "xdp_dev_bound_only",
        /// Check register invariants after every instruction (for tests).
        TEST_REG_INVARIANTS = 1 << 7 => "test_reg_invariants",
    }
}

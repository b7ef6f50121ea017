//! `enum bpf_cmd` (the commands of `bpf(2)`) and the flags of map element updates.

use crate::macros::{uapi_enum, uapi_flags};

uapi_enum! {
    /// A `bpf(2)` command (`enum bpf_cmd`; checked against the running kernel's BTF).
    ///
    /// ```
    /// use bpfkit_uapi::BpfCmd;
    /// assert_eq!(BpfCmd::PROG_LOAD.0, 5);
    /// assert_eq!(BpfCmd::PROG_LOAD.to_string(), "BPF_PROG_LOAD");
    /// assert_eq!("BPF_PROG_RUN".parse::<BpfCmd>(), Ok(BpfCmd::PROG_TEST_RUN));
    /// ```
    BpfCmd(u32), prefix = "BPF_", kind = "bpf command" {
        /// `BPF_MAP_CREATE`.
        MAP_CREATE = 0 => "map_create",
        /// `BPF_MAP_LOOKUP_ELEM`.
        MAP_LOOKUP_ELEM = 1 => "map_lookup_elem",
        /// `BPF_MAP_UPDATE_ELEM`.
        MAP_UPDATE_ELEM = 2 => "map_update_elem",
        /// `BPF_MAP_DELETE_ELEM`.
        MAP_DELETE_ELEM = 3 => "map_delete_elem",
        /// `BPF_MAP_GET_NEXT_KEY`.
        MAP_GET_NEXT_KEY = 4 => "map_get_next_key",
        /// `BPF_PROG_LOAD`.
        PROG_LOAD = 5 => "prog_load",
        /// `BPF_OBJ_PIN`.
        OBJ_PIN = 6 => "obj_pin",
        /// `BPF_OBJ_GET`.
        OBJ_GET = 7 => "obj_get",
        /// `BPF_PROG_ATTACH`.
        PROG_ATTACH = 8 => "prog_attach",
        /// `BPF_PROG_DETACH`.
        PROG_DETACH = 9 => "prog_detach",
        /// `BPF_PROG_TEST_RUN`.
        PROG_TEST_RUN = 10 => "prog_test_run",
        /// `BPF_PROG_GET_NEXT_ID`.
        PROG_GET_NEXT_ID = 11 => "prog_get_next_id",
        /// `BPF_MAP_GET_NEXT_ID`.
        MAP_GET_NEXT_ID = 12 => "map_get_next_id",
        /// `BPF_PROG_GET_FD_BY_ID`.
        PROG_GET_FD_BY_ID = 13 => "prog_get_fd_by_id",
        /// `BPF_MAP_GET_FD_BY_ID`.
        MAP_GET_FD_BY_ID = 14 => "map_get_fd_by_id",
        /// `BPF_OBJ_GET_INFO_BY_FD`.
        OBJ_GET_INFO_BY_FD = 15 => "obj_get_info_by_fd",
        /// `BPF_PROG_QUERY`.
        PROG_QUERY = 16 => "prog_query",
        /// `BPF_RAW_TRACEPOINT_OPEN`.
        RAW_TRACEPOINT_OPEN = 17 => "raw_tracepoint_open",
        /// `BPF_BTF_LOAD`.
        BTF_LOAD = 18 => "btf_load",
        /// `BPF_BTF_GET_FD_BY_ID`.
        BTF_GET_FD_BY_ID = 19 => "btf_get_fd_by_id",
        /// `BPF_TASK_FD_QUERY`.
        TASK_FD_QUERY = 20 => "task_fd_query",
        /// `BPF_MAP_LOOKUP_AND_DELETE_ELEM`.
        MAP_LOOKUP_AND_DELETE_ELEM = 21 => "map_lookup_and_delete_elem",
        /// `BPF_MAP_FREEZE`.
        MAP_FREEZE = 22 => "map_freeze",
        /// `BPF_BTF_GET_NEXT_ID`.
        BTF_GET_NEXT_ID = 23 => "btf_get_next_id",
        /// `BPF_MAP_LOOKUP_BATCH`.
        MAP_LOOKUP_BATCH = 24 => "map_lookup_batch",
        /// `BPF_MAP_LOOKUP_AND_DELETE_BATCH`.
        MAP_LOOKUP_AND_DELETE_BATCH = 25 => "map_lookup_and_delete_batch",
        /// `BPF_MAP_UPDATE_BATCH`.
        MAP_UPDATE_BATCH = 26 => "map_update_batch",
        /// `BPF_MAP_DELETE_BATCH`.
        MAP_DELETE_BATCH = 27 => "map_delete_batch",
        /// `BPF_LINK_CREATE`.
        LINK_CREATE = 28 => "link_create",
        /// `BPF_LINK_UPDATE`.
        LINK_UPDATE = 29 => "link_update",
        /// `BPF_LINK_GET_FD_BY_ID`.
        LINK_GET_FD_BY_ID = 30 => "link_get_fd_by_id",
        /// `BPF_LINK_GET_NEXT_ID`.
        LINK_GET_NEXT_ID = 31 => "link_get_next_id",
        /// `BPF_ENABLE_STATS`.
        ENABLE_STATS = 32 => "enable_stats",
        /// `BPF_ITER_CREATE`.
        ITER_CREATE = 33 => "iter_create",
        /// `BPF_LINK_DETACH`.
        LINK_DETACH = 34 => "link_detach",
        /// `BPF_PROG_BIND_MAP`.
        PROG_BIND_MAP = 35 => "prog_bind_map",
        /// `BPF_TOKEN_CREATE`.
        TOKEN_CREATE = 36 => "token_create",
        /// `BPF_PROG_STREAM_READ_BY_FD`.
        PROG_STREAM_READ_BY_FD = 37 => "prog_stream_read_by_fd",
    }
    aliases {
        /// `BPF_PROG_RUN`: another name for `BPF_PROG_TEST_RUN`.
        PROG_RUN = PROG_TEST_RUN,
    }
}

uapi_flags! {
    /// The `flags` of `BPF_MAP_UPDATE_ELEM` and `bpf_map_update_elem` (`BPF_ANY` is
    /// [`MapUpdateFlags::ANY`], no bit set).
    ///
    /// ```
    /// use bpfkit_uapi::MapUpdateFlags;
    /// assert_eq!(MapUpdateFlags::NOEXIST.bits(), 1);
    /// assert_eq!(MapUpdateFlags::EXIST.to_string(), "BPF_EXIST");
    /// assert_eq!(MapUpdateFlags::ANY.bits(), 0);
    /// ```
    MapUpdateFlags(u64), prefix = "BPF_" {
        /// Create a new element only; fail with `EEXIST` if the key is present.
        NOEXIST = 1 => "noexist",
        /// Update an existing element only; fail with `ENOENT` if the key is absent.
        EXIST = 2 => "exist",
        /// Update a value holding a `bpf_spin_lock` under that lock.
        F_LOCK = 4 => "f_lock",
    }
}

impl MapUpdateFlags {
    /// `BPF_ANY`: create a new element or update an existing one.
    pub const ANY: MapUpdateFlags = MapUpdateFlags(0);
}

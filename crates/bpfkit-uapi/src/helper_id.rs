//! `enum bpf_func_id`: the helper functions a program calls with `call N`.

use crate::macros::uapi_enum;

uapi_enum! {
    /// A helper function id (`enum bpf_func_id`, the `BPF_FUNC_*` values of the kernel's
    /// `include/uapi/linux/bpf.h`; checked against the running kernel's BTF). Prototypes are in
    /// [`HELPER_PROTOS`](crate::HELPER_PROTOS).
    ///
    /// ```
    /// use bpfkit_uapi::HelperId;
    /// assert_eq!(HelperId::MAP_LOOKUP_ELEM.0, 1);
    /// assert_eq!(HelperId::MAP_LOOKUP_ELEM.to_string(), "BPF_FUNC_map_lookup_elem");
    /// assert_eq!(format!("{:#}", HelperId::RINGBUF_RESERVE), "ringbuf_reserve");
    /// assert_eq!("bpf_loop".parse::<HelperId>().ok(), None);
    /// assert_eq!("loop".parse::<HelperId>(), Ok(HelperId::LOOP));
    /// ```
    HelperId(u32), prefix = "BPF_FUNC_", kind = "helper", names = short {
        /// No helper (reserved).
        UNSPEC = 0 => "unspec",
        /// `bpf_map_lookup_elem`.
        MAP_LOOKUP_ELEM = 1 => "map_lookup_elem",
        /// `bpf_map_update_elem`.
        MAP_UPDATE_ELEM = 2 => "map_update_elem",
        /// `bpf_map_delete_elem`.
        MAP_DELETE_ELEM = 3 => "map_delete_elem",
        /// `bpf_probe_read`.
        PROBE_READ = 4 => "probe_read",
        /// `bpf_ktime_get_ns`.
        KTIME_GET_NS = 5 => "ktime_get_ns",
        /// `bpf_trace_printk`.
        TRACE_PRINTK = 6 => "trace_printk",
        /// `bpf_get_prandom_u32`.
        GET_PRANDOM_U32 = 7 => "get_prandom_u32",
        /// `bpf_get_smp_processor_id`.
        GET_SMP_PROCESSOR_ID = 8 => "get_smp_processor_id",
        /// `bpf_skb_store_bytes`.
        SKB_STORE_BYTES = 9 => "skb_store_bytes",
        /// `bpf_l3_csum_replace`.
        L3_CSUM_REPLACE = 10 => "l3_csum_replace",
        /// `bpf_l4_csum_replace`.
        L4_CSUM_REPLACE = 11 => "l4_csum_replace",
        /// `bpf_tail_call`.
        TAIL_CALL = 12 => "tail_call",
        /// `bpf_clone_redirect`.
        CLONE_REDIRECT = 13 => "clone_redirect",
        /// `bpf_get_current_pid_tgid`.
        GET_CURRENT_PID_TGID = 14 => "get_current_pid_tgid",
        /// `bpf_get_current_uid_gid`.
        GET_CURRENT_UID_GID = 15 => "get_current_uid_gid",
        /// `bpf_get_current_comm`.
        GET_CURRENT_COMM = 16 => "get_current_comm",
        /// `bpf_get_cgroup_classid`.
        GET_CGROUP_CLASSID = 17 => "get_cgroup_classid",
        /// `bpf_skb_vlan_push`.
        SKB_VLAN_PUSH = 18 => "skb_vlan_push",
        /// `bpf_skb_vlan_pop`.
        SKB_VLAN_POP = 19 => "skb_vlan_pop",
        /// `bpf_skb_get_tunnel_key`.
        SKB_GET_TUNNEL_KEY = 20 => "skb_get_tunnel_key",
        /// `bpf_skb_set_tunnel_key`.
        SKB_SET_TUNNEL_KEY = 21 => "skb_set_tunnel_key",
        /// `bpf_perf_event_read`.
        PERF_EVENT_READ = 22 => "perf_event_read",
        /// `bpf_redirect`.
        REDIRECT = 23 => "redirect",
        /// `bpf_get_route_realm`.
        GET_ROUTE_REALM = 24 => "get_route_realm",
        /// `bpf_perf_event_output`.
        PERF_EVENT_OUTPUT = 25 => "perf_event_output",
        /// `bpf_skb_load_bytes`.
        SKB_LOAD_BYTES = 26 => "skb_load_bytes",
        /// `bpf_get_stackid`.
        GET_STACKID = 27 => "get_stackid",
        /// `bpf_csum_diff`.
        CSUM_DIFF = 28 => "csum_diff",
        /// `bpf_skb_get_tunnel_opt`.
        SKB_GET_TUNNEL_OPT = 29 => "skb_get_tunnel_opt",
        /// `bpf_skb_set_tunnel_opt`.
        SKB_SET_TUNNEL_OPT = 30 => "skb_set_tunnel_opt",
        /// `bpf_skb_change_proto`.
        SKB_CHANGE_PROTO = 31 => "skb_change_proto",
        /// `bpf_skb_change_type`.
        SKB_CHANGE_TYPE = 32 => "skb_change_type",
        /// `bpf_skb_under_cgroup`.
        SKB_UNDER_CGROUP = 33 => "skb_under_cgroup",
        /// `bpf_get_hash_recalc`.
        GET_HASH_RECALC = 34 => "get_hash_recalc",
        /// `bpf_get_current_task`.
        GET_CURRENT_TASK = 35 => "get_current_task",
        /// `bpf_probe_write_user`.
        PROBE_WRITE_USER = 36 => "probe_write_user",
        /// `bpf_current_task_under_cgroup`.
        CURRENT_TASK_UNDER_CGROUP = 37 => "current_task_under_cgroup",
        /// `bpf_skb_change_tail`.
        SKB_CHANGE_TAIL = 38 => "skb_change_tail",
        /// `bpf_skb_pull_data`.
        SKB_PULL_DATA = 39 => "skb_pull_data",
        /// `bpf_csum_update`.
        CSUM_UPDATE = 40 => "csum_update",
        /// `bpf_set_hash_invalid`.
        SET_HASH_INVALID = 41 => "set_hash_invalid",
        /// `bpf_get_numa_node_id`.
        GET_NUMA_NODE_ID = 42 => "get_numa_node_id",
        /// `bpf_skb_change_head`.
        SKB_CHANGE_HEAD = 43 => "skb_change_head",
        /// `bpf_xdp_adjust_head`.
        XDP_ADJUST_HEAD = 44 => "xdp_adjust_head",
        /// `bpf_probe_read_str`.
        PROBE_READ_STR = 45 => "probe_read_str",
        /// `bpf_get_socket_cookie`.
        GET_SOCKET_COOKIE = 46 => "get_socket_cookie",
        /// `bpf_get_socket_uid`.
        GET_SOCKET_UID = 47 => "get_socket_uid",
        /// `bpf_set_hash`.
        SET_HASH = 48 => "set_hash",
        /// `bpf_setsockopt`.
        SETSOCKOPT = 49 => "setsockopt",
        /// `bpf_skb_adjust_room`.
        SKB_ADJUST_ROOM = 50 => "skb_adjust_room",
        /// `bpf_redirect_map`.
        REDIRECT_MAP = 51 => "redirect_map",
        /// `bpf_sk_redirect_map`.
        SK_REDIRECT_MAP = 52 => "sk_redirect_map",
        /// `bpf_sock_map_update`.
        SOCK_MAP_UPDATE = 53 => "sock_map_update",
        /// `bpf_xdp_adjust_meta`.
        XDP_ADJUST_META = 54 => "xdp_adjust_meta",
        /// `bpf_perf_event_read_value`.
        PERF_EVENT_READ_VALUE = 55 => "perf_event_read_value",
        /// `bpf_perf_prog_read_value`.
        PERF_PROG_READ_VALUE = 56 => "perf_prog_read_value",
        /// `bpf_getsockopt`.
        GETSOCKOPT = 57 => "getsockopt",
        /// `bpf_override_return`.
        OVERRIDE_RETURN = 58 => "override_return",
        /// `bpf_sock_ops_cb_flags_set`.
        SOCK_OPS_CB_FLAGS_SET = 59 => "sock_ops_cb_flags_set",
        /// `bpf_msg_redirect_map`.
        MSG_REDIRECT_MAP = 60 => "msg_redirect_map",
        /// `bpf_msg_apply_bytes`.
        MSG_APPLY_BYTES = 61 => "msg_apply_bytes",
        /// `bpf_msg_cork_bytes`.
        MSG_CORK_BYTES = 62 => "msg_cork_bytes",
        /// `bpf_msg_pull_data`.
        MSG_PULL_DATA = 63 => "msg_pull_data",
        /// `bpf_bind`.
        BIND = 64 => "bind",
        /// `bpf_xdp_adjust_tail`.
        XDP_ADJUST_TAIL = 65 => "xdp_adjust_tail",
        /// `bpf_skb_get_xfrm_state`.
        SKB_GET_XFRM_STATE = 66 => "skb_get_xfrm_state",
        /// `bpf_get_stack`.
        GET_STACK = 67 => "get_stack",
        /// `bpf_skb_load_bytes_relative`.
        SKB_LOAD_BYTES_RELATIVE = 68 => "skb_load_bytes_relative",
        /// `bpf_fib_lookup`.
        FIB_LOOKUP = 69 => "fib_lookup",
        /// `bpf_sock_hash_update`.
        SOCK_HASH_UPDATE = 70 => "sock_hash_update",
        /// `bpf_msg_redirect_hash`.
        MSG_REDIRECT_HASH = 71 => "msg_redirect_hash",
        /// `bpf_sk_redirect_hash`.
        SK_REDIRECT_HASH = 72 => "sk_redirect_hash",
        /// `bpf_lwt_push_encap`.
        LWT_PUSH_ENCAP = 73 => "lwt_push_encap",
        /// `bpf_lwt_seg6_store_bytes`.
        LWT_SEG6_STORE_BYTES = 74 => "lwt_seg6_store_bytes",
        /// `bpf_lwt_seg6_adjust_srh`.
        LWT_SEG6_ADJUST_SRH = 75 => "lwt_seg6_adjust_srh",
        /// `bpf_lwt_seg6_action`.
        LWT_SEG6_ACTION = 76 => "lwt_seg6_action",
        /// `bpf_rc_repeat`.
        RC_REPEAT = 77 => "rc_repeat",
        /// `bpf_rc_keydown`.
        RC_KEYDOWN = 78 => "rc_keydown",
        /// `bpf_skb_cgroup_id`.
        SKB_CGROUP_ID = 79 => "skb_cgroup_id",
        /// `bpf_get_current_cgroup_id`.
        GET_CURRENT_CGROUP_ID = 80 => "get_current_cgroup_id",
        /// `bpf_get_local_storage`.
        GET_LOCAL_STORAGE = 81 => "get_local_storage",
        /// `bpf_sk_select_reuseport`.
        SK_SELECT_REUSEPORT = 82 => "sk_select_reuseport",
        /// `bpf_skb_ancestor_cgroup_id`.
        SKB_ANCESTOR_CGROUP_ID = 83 => "skb_ancestor_cgroup_id",
        /// `bpf_sk_lookup_tcp`.
        SK_LOOKUP_TCP = 84 => "sk_lookup_tcp",
        /// `bpf_sk_lookup_udp`.
        SK_LOOKUP_UDP = 85 => "sk_lookup_udp",
        /// `bpf_sk_release`.
        SK_RELEASE = 86 => "sk_release",
        /// `bpf_map_push_elem`.
        MAP_PUSH_ELEM = 87 => "map_push_elem",
        /// `bpf_map_pop_elem`.
        MAP_POP_ELEM = 88 => "map_pop_elem",
        /// `bpf_map_peek_elem`.
        MAP_PEEK_ELEM = 89 => "map_peek_elem",
        /// `bpf_msg_push_data`.
        MSG_PUSH_DATA = 90 => "msg_push_data",
        /// `bpf_msg_pop_data`.
        MSG_POP_DATA = 91 => "msg_pop_data",
        /// `bpf_rc_pointer_rel`.
        RC_POINTER_REL = 92 => "rc_pointer_rel",
        /// `bpf_spin_lock`.
        SPIN_LOCK = 93 => "spin_lock",
        /// `bpf_spin_unlock`.
        SPIN_UNLOCK = 94 => "spin_unlock",
        /// `bpf_sk_fullsock`.
        SK_FULLSOCK = 95 => "sk_fullsock",
        /// `bpf_tcp_sock`.
        TCP_SOCK = 96 => "tcp_sock",
        /// `bpf_skb_ecn_set_ce`.
        SKB_ECN_SET_CE = 97 => "skb_ecn_set_ce",
        /// `bpf_get_listener_sock`.
        GET_LISTENER_SOCK = 98 => "get_listener_sock",
        /// `bpf_skc_lookup_tcp`.
        SKC_LOOKUP_TCP = 99 => "skc_lookup_tcp",
        /// `bpf_tcp_check_syncookie`.
        TCP_CHECK_SYNCOOKIE = 100 => "tcp_check_syncookie",
        /// `bpf_sysctl_get_name`.
        SYSCTL_GET_NAME = 101 => "sysctl_get_name",
        /// `bpf_sysctl_get_current_value`.
        SYSCTL_GET_CURRENT_VALUE = 102 => "sysctl_get_current_value",
        /// `bpf_sysctl_get_new_value`.
        SYSCTL_GET_NEW_VALUE = 103 => "sysctl_get_new_value",
        /// `bpf_sysctl_set_new_value`.
        SYSCTL_SET_NEW_VALUE = 104 => "sysctl_set_new_value",
        /// `bpf_strtol`.
        STRTOL = 105 => "strtol",
        /// `bpf_strtoul`.
        STRTOUL = 106 => "strtoul",
        /// `bpf_sk_storage_get`.
        SK_STORAGE_GET = 107 => "sk_storage_get",
        /// `bpf_sk_storage_delete`.
        SK_STORAGE_DELETE = 108 => "sk_storage_delete",
        /// `bpf_send_signal`.
        SEND_SIGNAL = 109 => "send_signal",
        /// `bpf_tcp_gen_syncookie`.
        TCP_GEN_SYNCOOKIE = 110 => "tcp_gen_syncookie",
        /// `bpf_skb_output`.
        SKB_OUTPUT = 111 => "skb_output",
        /// `bpf_probe_read_user`.
        PROBE_READ_USER = 112 => "probe_read_user",
        /// `bpf_probe_read_kernel`.
        PROBE_READ_KERNEL = 113 => "probe_read_kernel",
        /// `bpf_probe_read_user_str`.
        PROBE_READ_USER_STR = 114 => "probe_read_user_str",
        /// `bpf_probe_read_kernel_str`.
        PROBE_READ_KERNEL_STR = 115 => "probe_read_kernel_str",
        /// `bpf_tcp_send_ack`.
        TCP_SEND_ACK = 116 => "tcp_send_ack",
        /// `bpf_send_signal_thread`.
        SEND_SIGNAL_THREAD = 117 => "send_signal_thread",
        /// `bpf_jiffies64`.
        JIFFIES64 = 118 => "jiffies64",
        /// `bpf_read_branch_records`.
        READ_BRANCH_RECORDS = 119 => "read_branch_records",
        /// `bpf_get_ns_current_pid_tgid`.
        GET_NS_CURRENT_PID_TGID = 120 => "get_ns_current_pid_tgid",
        /// `bpf_xdp_output`.
        XDP_OUTPUT = 121 => "xdp_output",
        /// `bpf_get_netns_cookie`.
        GET_NETNS_COOKIE = 122 => "get_netns_cookie",
        /// `bpf_get_current_ancestor_cgroup_id`.
        GET_CURRENT_ANCESTOR_CGROUP_ID = 123 => "get_current_ancestor_cgroup_id",
        /// `bpf_sk_assign`.
        SK_ASSIGN = 124 => "sk_assign",
        /// `bpf_ktime_get_boot_ns`.
        KTIME_GET_BOOT_NS = 125 => "ktime_get_boot_ns",
        /// `bpf_seq_printf`.
        SEQ_PRINTF = 126 => "seq_printf",
        /// `bpf_seq_write`.
        SEQ_WRITE = 127 => "seq_write",
        /// `bpf_sk_cgroup_id`.
        SK_CGROUP_ID = 128 => "sk_cgroup_id",
        /// `bpf_sk_ancestor_cgroup_id`.
        SK_ANCESTOR_CGROUP_ID = 129 => "sk_ancestor_cgroup_id",
        /// `bpf_ringbuf_output`.
        RINGBUF_OUTPUT = 130 => "ringbuf_output",
        /// `bpf_ringbuf_reserve`.
        RINGBUF_RESERVE = 131 => "ringbuf_reserve",
        /// `bpf_ringbuf_submit`.
        RINGBUF_SUBMIT = 132 => "ringbuf_submit",
        /// `bpf_ringbuf_discard`.
        RINGBUF_DISCARD = 133 => "ringbuf_discard",
        /// `bpf_ringbuf_query`.
        RINGBUF_QUERY = 134 => "ringbuf_query",
        /// `bpf_csum_level`.
        CSUM_LEVEL = 135 => "csum_level",
        /// `bpf_skc_to_tcp6_sock`.
        SKC_TO_TCP6_SOCK = 136 => "skc_to_tcp6_sock",
        /// `bpf_skc_to_tcp_sock`.
        SKC_TO_TCP_SOCK = 137 => "skc_to_tcp_sock",
        /// `bpf_skc_to_tcp_timewait_sock`.
        SKC_TO_TCP_TIMEWAIT_SOCK = 138 => "skc_to_tcp_timewait_sock",
        /// `bpf_skc_to_tcp_request_sock`.
        SKC_TO_TCP_REQUEST_SOCK = 139 => "skc_to_tcp_request_sock",
        /// `bpf_skc_to_udp6_sock`.
        SKC_TO_UDP6_SOCK = 140 => "skc_to_udp6_sock",
        /// `bpf_get_task_stack`.
        GET_TASK_STACK = 141 => "get_task_stack",
        /// `bpf_load_hdr_opt`.
        LOAD_HDR_OPT = 142 => "load_hdr_opt",
        /// `bpf_store_hdr_opt`.
        STORE_HDR_OPT = 143 => "store_hdr_opt",
        /// `bpf_reserve_hdr_opt`.
        RESERVE_HDR_OPT = 144 => "reserve_hdr_opt",
        /// `bpf_inode_storage_get`.
        INODE_STORAGE_GET = 145 => "inode_storage_get",
        /// `bpf_inode_storage_delete`.
        INODE_STORAGE_DELETE = 146 => "inode_storage_delete",
        /// `bpf_d_path`.
        D_PATH = 147 => "d_path",
        /// `bpf_copy_from_user`.
        COPY_FROM_USER = 148 => "copy_from_user",
        /// `bpf_snprintf_btf`.
        SNPRINTF_BTF = 149 => "snprintf_btf",
        /// `bpf_seq_printf_btf`.
        SEQ_PRINTF_BTF = 150 => "seq_printf_btf",
        /// `bpf_skb_cgroup_classid`.
        SKB_CGROUP_CLASSID = 151 => "skb_cgroup_classid",
        /// `bpf_redirect_neigh`.
        REDIRECT_NEIGH = 152 => "redirect_neigh",
        /// `bpf_per_cpu_ptr`.
        PER_CPU_PTR = 153 => "per_cpu_ptr",
        /// `bpf_this_cpu_ptr`.
        THIS_CPU_PTR = 154 => "this_cpu_ptr",
        /// `bpf_redirect_peer`.
        REDIRECT_PEER = 155 => "redirect_peer",
        /// `bpf_task_storage_get`.
        TASK_STORAGE_GET = 156 => "task_storage_get",
        /// `bpf_task_storage_delete`.
        TASK_STORAGE_DELETE = 157 => "task_storage_delete",
        /// `bpf_get_current_task_btf`.
        GET_CURRENT_TASK_BTF = 158 => "get_current_task_btf",
        /// `bpf_bprm_opts_set`.
        BPRM_OPTS_SET = 159 => "bprm_opts_set",
        /// `bpf_ktime_get_coarse_ns`.
        KTIME_GET_COARSE_NS = 160 => "ktime_get_coarse_ns",
        /// `bpf_ima_inode_hash`.
        IMA_INODE_HASH = 161 => "ima_inode_hash",
        /// `bpf_sock_from_file`.
        SOCK_FROM_FILE = 162 => "sock_from_file",
        /// `bpf_check_mtu`.
        CHECK_MTU = 163 => "check_mtu",
        /// `bpf_for_each_map_elem`.
        FOR_EACH_MAP_ELEM = 164 => "for_each_map_elem",
        /// `bpf_snprintf`.
        SNPRINTF = 165 => "snprintf",
        /// `bpf_sys_bpf`.
        SYS_BPF = 166 => "sys_bpf",
        /// `bpf_btf_find_by_name_kind`.
        BTF_FIND_BY_NAME_KIND = 167 => "btf_find_by_name_kind",
        /// `bpf_sys_close`.
        SYS_CLOSE = 168 => "sys_close",
        /// `bpf_timer_init`.
        TIMER_INIT = 169 => "timer_init",
        /// `bpf_timer_set_callback`.
        TIMER_SET_CALLBACK = 170 => "timer_set_callback",
        /// `bpf_timer_start`.
        TIMER_START = 171 => "timer_start",
        /// `bpf_timer_cancel`.
        TIMER_CANCEL = 172 => "timer_cancel",
        /// `bpf_get_func_ip`.
        GET_FUNC_IP = 173 => "get_func_ip",
        /// `bpf_get_attach_cookie`.
        GET_ATTACH_COOKIE = 174 => "get_attach_cookie",
        /// `bpf_task_pt_regs`.
        TASK_PT_REGS = 175 => "task_pt_regs",
        /// `bpf_get_branch_snapshot`.
        GET_BRANCH_SNAPSHOT = 176 => "get_branch_snapshot",
        /// `bpf_trace_vprintk`.
        TRACE_VPRINTK = 177 => "trace_vprintk",
        /// `bpf_skc_to_unix_sock`.
        SKC_TO_UNIX_SOCK = 178 => "skc_to_unix_sock",
        /// `bpf_kallsyms_lookup_name`.
        KALLSYMS_LOOKUP_NAME = 179 => "kallsyms_lookup_name",
        /// `bpf_find_vma`.
        FIND_VMA = 180 => "find_vma",
        /// `bpf_loop`.
        LOOP = 181 => "loop",
        /// `bpf_strncmp`.
        STRNCMP = 182 => "strncmp",
        /// `bpf_get_func_arg`.
        GET_FUNC_ARG = 183 => "get_func_arg",
        /// `bpf_get_func_ret`.
        GET_FUNC_RET = 184 => "get_func_ret",
        /// `bpf_get_func_arg_cnt`.
        GET_FUNC_ARG_CNT = 185 => "get_func_arg_cnt",
        /// `bpf_get_retval`.
        GET_RETVAL = 186 => "get_retval",
        /// `bpf_set_retval`.
        SET_RETVAL = 187 => "set_retval",
        /// `bpf_xdp_get_buff_len`.
        XDP_GET_BUFF_LEN = 188 => "xdp_get_buff_len",
        /// `bpf_xdp_load_bytes`.
        XDP_LOAD_BYTES = 189 => "xdp_load_bytes",
        /// `bpf_xdp_store_bytes`.
        XDP_STORE_BYTES = 190 => "xdp_store_bytes",
        /// `bpf_copy_from_user_task`.
        COPY_FROM_USER_TASK = 191 => "copy_from_user_task",
        /// `bpf_skb_set_tstamp`.
        SKB_SET_TSTAMP = 192 => "skb_set_tstamp",
        /// `bpf_ima_file_hash`.
        IMA_FILE_HASH = 193 => "ima_file_hash",
        /// `bpf_kptr_xchg`.
        KPTR_XCHG = 194 => "kptr_xchg",
        /// `bpf_map_lookup_percpu_elem`.
        MAP_LOOKUP_PERCPU_ELEM = 195 => "map_lookup_percpu_elem",
        /// `bpf_skc_to_mptcp_sock`.
        SKC_TO_MPTCP_SOCK = 196 => "skc_to_mptcp_sock",
        /// `bpf_dynptr_from_mem`.
        DYNPTR_FROM_MEM = 197 => "dynptr_from_mem",
        /// `bpf_ringbuf_reserve_dynptr`.
        RINGBUF_RESERVE_DYNPTR = 198 => "ringbuf_reserve_dynptr",
        /// `bpf_ringbuf_submit_dynptr`.
        RINGBUF_SUBMIT_DYNPTR = 199 => "ringbuf_submit_dynptr",
        /// `bpf_ringbuf_discard_dynptr`.
        RINGBUF_DISCARD_DYNPTR = 200 => "ringbuf_discard_dynptr",
        /// `bpf_dynptr_read`.
        DYNPTR_READ = 201 => "dynptr_read",
        /// `bpf_dynptr_write`.
        DYNPTR_WRITE = 202 => "dynptr_write",
        /// `bpf_dynptr_data`.
        DYNPTR_DATA = 203 => "dynptr_data",
        /// `bpf_tcp_raw_gen_syncookie_ipv4`.
        TCP_RAW_GEN_SYNCOOKIE_IPV4 = 204 => "tcp_raw_gen_syncookie_ipv4",
        /// `bpf_tcp_raw_gen_syncookie_ipv6`.
        TCP_RAW_GEN_SYNCOOKIE_IPV6 = 205 => "tcp_raw_gen_syncookie_ipv6",
        /// `bpf_tcp_raw_check_syncookie_ipv4`.
        TCP_RAW_CHECK_SYNCOOKIE_IPV4 = 206 => "tcp_raw_check_syncookie_ipv4",
        /// `bpf_tcp_raw_check_syncookie_ipv6`.
        TCP_RAW_CHECK_SYNCOOKIE_IPV6 = 207 => "tcp_raw_check_syncookie_ipv6",
        /// `bpf_ktime_get_tai_ns`.
        KTIME_GET_TAI_NS = 208 => "ktime_get_tai_ns",
        /// `bpf_user_ringbuf_drain`.
        USER_RINGBUF_DRAIN = 209 => "user_ringbuf_drain",
        /// `bpf_cgrp_storage_get`.
        CGRP_STORAGE_GET = 210 => "cgrp_storage_get",
        /// `bpf_cgrp_storage_delete`.
        CGRP_STORAGE_DELETE = 211 => "cgrp_storage_delete",
    }
}

impl HelperId {
    /// One past the largest id the table knows (`__BPF_FUNC_MAX_ID`).
    pub const MAX_ID: u32 = 212;

    /// The C function name programs call it by (`bpf_map_lookup_elem`), or `None` if unknown.
    pub fn c_name(self) -> Option<String> {
        self.short_name().map(|s| format!("bpf_{s}"))
    }
}

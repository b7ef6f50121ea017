// SPDX-License-Identifier: GPL-2.0
/* maps: every shape of BTF-defined map in .maps.
 *
 * Exercises: array, hash (key/value given by type), percpu array, percpu
 * hash, LRU hash with map_flags, a hash with key_size/value_size given as
 * numbers, ringbuf (no key/value), perf event array, bloom filter
 * (map_extra), pinning = LIBBPF_PIN_BY_NAME, a prog array whose initial
 * value (.values) points at a program (a relocation in .rel.maps), an
 * array-of-maps whose inner maps are other .maps variables (initialised
 * with .values), a hash-of-maps with an anonymous inner map definition via
 * __array(values, struct { ... }), a bpf_tail_call, and ld_imm64 map
 * relocations from two programs. Built with -g only (BTF maps need BTF).
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct flow_key {
	__u32 saddr;
	__u32 daddr;
	__u16 sport;
	__u16 dport;
};

struct flow_stats {
	__u64 packets;
	__u64 bytes;
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 16);
	__type(key, __u32);
	__type(value, __u64);
} array_map SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, struct flow_key);
	__type(value, struct flow_stats);
} hash_map SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, struct flow_stats);
} percpu_array_map SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, 128);
	__type(key, __u32);
	__type(value, __u32);
	__uint(map_flags, BPF_F_NO_PREALLOC);
} percpu_hash_map SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 512);
	__type(key, __u64);
	__type(value, struct flow_stats);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} lru_map SEC(".maps");

/* Sizes given as numbers rather than types. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 64);
	__uint(key_size, 8);
	__uint(value_size, 24);
} sized_map SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 256 * 1024);
} events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERF_EVENT_ARRAY);
	__uint(key_size, sizeof(int));
	__uint(value_size, sizeof(int));
} perf_events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_BLOOM_FILTER);
	__uint(max_entries, 100);
	__type(value, __u32);
	__uint(map_extra, 3);
} bloom SEC(".maps");

SEC("xdp")
int tail_target(struct xdp_md *ctx)
{
	return XDP_PASS;
}

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, 4);
	__type(key, __u32);
	__array(values, int (struct xdp_md *));
} jump_table SEC(".maps") = {
	.values = {
		[2] = (void *)&tail_target,
	},
};

struct inner_array {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 8);
	__type(key, __u32);
	__type(value, __u32);
};

struct inner_array inner_a SEC(".maps"), inner_b SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, 2);
	__type(key, __u32);
	__array(values, struct inner_array);
} outer_array SEC(".maps") = {
	.values = { &inner_a, &inner_b },
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH_OF_MAPS);
	__uint(max_entries, 32);
	__type(key, __u32);
	__array(values, struct {
		__uint(type, BPF_MAP_TYPE_HASH);
		__uint(max_entries, 64);
		__type(key, __u32);
		__type(value, __u64);
	});
} outer_hash SEC(".maps");

SEC("xdp")
int xdp_maps(struct xdp_md *ctx)
{
	struct flow_key fk = { .sport = 1, .dport = 2 };
	struct flow_stats *fs, zero = {};
	__u32 key = 0, *inner_value;
	__u64 *value, k64 = 5;
	void *inner;

	value = bpf_map_lookup_elem(&array_map, &key);
	if (value)
		__sync_fetch_and_add(value, 1);

	fs = bpf_map_lookup_elem(&hash_map, &fk);
	if (!fs) {
		bpf_map_update_elem(&hash_map, &fk, &zero, BPF_ANY);
		return XDP_PASS;
	}
	fs->packets++;

	fs = bpf_map_lookup_elem(&percpu_array_map, &key);
	if (fs)
		fs->bytes += ctx->data_end - ctx->data;

	inner_value = bpf_map_lookup_elem(&percpu_hash_map, &key);
	if (inner_value)
		*inner_value += 1;

	fs = bpf_map_lookup_elem(&lru_map, &k64);
	if (fs)
		fs->packets++;

	inner = bpf_map_lookup_elem(&outer_array, &key);
	if (inner) {
		inner_value = bpf_map_lookup_elem(inner, &key);
		if (inner_value)
			*inner_value += 1;
	}

	inner = bpf_map_lookup_elem(&outer_hash, &key);
	if (inner) {
		value = bpf_map_lookup_elem(inner, &key);
		if (value)
			*value += 1;
	}

	if (bpf_map_peek_elem(&bloom, &key) == 0)
		return XDP_DROP;

	bpf_tail_call(ctx, &jump_table, 2);
	return XDP_PASS;
}

SEC("socket")
int socket_maps(struct __sk_buff *skb)
{
	__u64 *slot;
	__u32 key = 1;

	slot = bpf_ringbuf_reserve(&events, sizeof(*slot), 0);
	if (slot) {
		*slot = skb->len;
		bpf_ringbuf_submit(slot, 0);
	}
	bpf_perf_event_output(skb, &perf_events, BPF_F_CURRENT_CPU, &key, sizeof(key));
	slot = bpf_map_lookup_elem(&sized_map, &key);
	if (slot)
		return *slot;
	return 0;
}

char LICENSE[] SEC("license") = "GPL";

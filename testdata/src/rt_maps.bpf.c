// SPDX-License-Identifier: GPL-2.0
/* rt_maps: every map type the userspace runtime has, driven by the packet.
 *
 * The bytes after the Ethernet header are a small script: up to 12 operations of four
 * bytes (opcode, three arguments) on small maps (few keys, small max_entries, so updates
 * hit every flag and limit: EEXIST, ENOENT, E2BIG, ENOSPC, EINVAL). Every operation's return
 * value (or the value it read) goes to `results`, so the differential against the kernel
 * compares each helper's errno as well as every map's contents afterwards.
 *
 * Exercises: array, percpu array, hash, percpu hash, LRU hash, LRU percpu hash, LPM trie,
 * queue, stack, bloom filter (BPF_F_ZERO_SEED, so its bits are the kernel's), array and hash
 * of maps (initialised with .values), bpf_map_lookup_percpu_elem, bpf_map_push/pop/peek_elem,
 * bpf_skb_load_bytes. SEC("tc"). Built with -g (BTF maps).
 */
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>

#define OPS 12

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, OPS);
	__type(key, __u32);
	__type(value, __s64);
} results SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, __u64);
} hash SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, 3);
	__type(key, __u32);
	__type(value, __u32);
} percpu_hash SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16);
	__type(key, __u32);
	__type(value, __u64);
} lru SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_PERCPU_HASH);
	__uint(max_entries, 16);
	__type(key, __u32);
	__type(value, __u32);
} lru_percpu SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, __u64);
} array SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, __u64);
} percpu_array SEC(".maps");

struct lpm_key {
	__u32 prefixlen;
	__u8 addr[4];
};

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, 4);
	__type(key, struct lpm_key);
	__type(value, __u32);
	__uint(map_flags, BPF_F_NO_PREALLOC);
} lpm SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_QUEUE);
	__uint(max_entries, 3);
	__type(value, __u32);
} queue SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_STACK);
	__uint(max_entries, 3);
	__type(value, __u32);
} stack SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_BLOOM_FILTER);
	__uint(max_entries, 8);
	__type(value, __u32);
	__uint(map_extra, 3);
	__uint(map_flags, BPF_F_ZERO_SEED);
} bloom SEC(".maps");

struct inner {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, __u64);
};

struct inner inner_a SEC(".maps"), inner_b SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, 3);
	__type(key, __u32);
	__array(values, struct inner);
} outer_array SEC(".maps") = {
	.values = { &inner_a, &inner_b },
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH_OF_MAPS);
	__uint(max_entries, 4);
	__type(key, __u32);
	__array(values, struct inner);
} outer_hash SEC(".maps") = {
	.values = { [1] = &inner_b, [3] = &inner_a },
};

static __always_inline void put(__u32 i, __s64 v)
{
	bpf_map_update_elem(&results, &i, &v, BPF_ANY);
}

/* Reads a u64 through a map value pointer, -1 for none. */
static __always_inline __s64 get64(void *v)
{
	return v ? (__s64)*(__u64 *)v : -1;
}

static __always_inline __s64 get32(void *v)
{
	return v ? (__s64)*(__u32 *)v : -1;
}

static __noinline __s64 op(__u8 code, __u8 a, __u8 b, __u8 c)
{
	__u32 key = a % 6;
	__u64 value = b | ((__u64)c << 8);
	__u32 small = b;
	__u64 flags = c % 5;
	struct lpm_key lk = { .prefixlen = a % 40, .addr = { 10, b & 0xf0, c, 0 } };
	void *inner;

	switch (code % 20) {
	case 0:
		return bpf_map_update_elem(&hash, &key, &value, flags);
	case 1:
		return bpf_map_delete_elem(&hash, &key);
	case 2:
		return get64(bpf_map_lookup_elem(&hash, &key));
	case 3:
		return bpf_map_update_elem(&percpu_hash, &key, &small, flags);
	case 4:
		return get32(bpf_map_lookup_elem(&percpu_hash, &key));
	case 5:
		return bpf_map_update_elem(&lru, &key, &value, flags);
	case 6:
		return bpf_map_update_elem(&lru_percpu, &key, &small, flags) * 1000 +
		       get32(bpf_map_lookup_elem(&lru_percpu, &key));
	case 7:
		return bpf_map_update_elem(&array, &key, &value, flags) * 1000 +
		       bpf_map_delete_elem(&array, &key);
	case 8:
		return bpf_map_update_elem(&percpu_array, &key, &value, flags) * 1000 +
		       get64(bpf_map_lookup_percpu_elem(&percpu_array, &key, c % 3));
	case 9:
		return bpf_map_update_elem(&lpm, &lk, &small, flags);
	case 10:
		lk.prefixlen = 32;
		return get32(bpf_map_lookup_elem(&lpm, &lk));
	case 11:
		return bpf_map_delete_elem(&lpm, &lk);
	case 12:
		return bpf_map_push_elem(&queue, &small, flags);
	case 13:
		return bpf_map_pop_elem(&queue, &small) * 1000 + small;
	case 14:
		return bpf_map_push_elem(&stack, &small, flags) * 1000 +
		       bpf_map_peek_elem(&stack, &small) * 100 + (small & 0xf);
	case 15:
		return bpf_map_pop_elem(&stack, &small) * 1000 + small;
	case 16:
		small &= 7;
		return bpf_map_push_elem(&bloom, &small, flags & 1);
	case 17:
		small &= 15;
		return bpf_map_peek_elem(&bloom, &small);
	case 18:
		key = a % 4;
		inner = bpf_map_lookup_elem(&outer_array, &key);
		if (!inner)
			return -1000;
		key = b % 3;
		return bpf_map_update_elem(inner, &key, &value, BPF_ANY) * 1000 +
		       get64(bpf_map_lookup_elem(inner, &key));
	default:
		key = a % 5;
		inner = bpf_map_lookup_elem(&outer_hash, &key);
		if (!inner)
			return -1000;
		key = b % 2;
		return get64(bpf_map_lookup_elem(inner, &key));
	}
}

SEC("tc")
int rt_maps(struct __sk_buff *skb)
{
	__u8 script[OPS * 4];
	__u32 n = 0;

	for (int i = 0; i < OPS; i++) {
		if (bpf_skb_load_bytes(skb, 14 + i * 4, &script[i * 4], 4))
			break;
		put(i, op(script[i * 4], script[i * 4 + 1], script[i * 4 + 2],
			  script[i * 4 + 3]));
		n++;
	}
	return n;
}

char LICENSE[] SEC("license") = "GPL";

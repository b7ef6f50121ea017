// SPDX-License-Identifier: GPL-2.0
/* legacy_maps: maps declared the old way.
 *
 * Exercises: a SEC("maps") section of struct bpf_map_def (the five-field
 * layout libbpf used before v1.0; libbpf >= 1.0 refuses to load such
 * objects, so this one is for parsing only), ld_imm64 map relocations
 * against the map symbols, a `version` section holding a fixed
 * KERNEL_VERSION(6, 1, 0) = 0x060100, SEC("socket"), and a non-GPL
 * ("Dual BSD/GPL") license. No BTF needed. Built in all eight variants.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

/* Modern libbpf headers no longer define it. */
struct bpf_map_def {
	unsigned int type;
	unsigned int key_size;
	unsigned int value_size;
	unsigned int max_entries;
	unsigned int map_flags;
};

struct bpf_map_def SEC("maps") packet_count = {
	.type = BPF_MAP_TYPE_ARRAY,
	.key_size = sizeof(__u32),
	.value_size = sizeof(__u64),
	.max_entries = 256,
};

struct bpf_map_def SEC("maps") flow_bytes = {
	.type = BPF_MAP_TYPE_HASH,
	.key_size = sizeof(__u32),
	.value_size = sizeof(__u64),
	.max_entries = 1024,
	.map_flags = BPF_F_NO_PREALLOC,
};

struct bpf_map_def SEC("maps") percpu_stats = {
	.type = BPF_MAP_TYPE_PERCPU_ARRAY,
	.key_size = sizeof(__u32),
	.value_size = 16,
	.max_entries = 4,
};

SEC("socket")
int legacy_count(struct __sk_buff *skb)
{
	__u32 proto = skb->protocol & 0xff;
	__u32 hash = skb->hash;
	__u64 *count, *bytes, init = 0;

	count = bpf_map_lookup_elem(&packet_count, &proto);
	if (count)
		__sync_fetch_and_add(count, 1);

	bytes = bpf_map_lookup_elem(&flow_bytes, &hash);
	if (bytes)
		__sync_fetch_and_add(bytes, skb->len);
	else
		bpf_map_update_elem(&flow_bytes, &hash, &init, BPF_NOEXIST);

	proto = 0;
	count = bpf_map_lookup_elem(&percpu_stats, &proto);
	if (count)
		*count += 1;
	return skb->len;
}

__u32 _version SEC("version") = 0x060100; /* KERNEL_VERSION(6, 1, 0) */
char _license[] SEC("license") = "Dual BSD/GPL";

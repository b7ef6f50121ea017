// SPDX-License-Identifier: GPL-2.0
/* xdp_parse: a realistic XDP parser with BTF-defined maps.
 *
 * Exercises: Ethernet/IPv4 header parsing with packet bounds checks, a
 * BTF-defined array map and a per-CPU array map in .maps (R_BPF_64_64
 * relocations on ld_imm64 against the map symbols), atomic adds, a bounded
 * loop, SEC("xdp"), a GPL license. Loadable by the running kernel. Needs
 * BTF for its maps, so it is built with -g only, for every cpu level.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

/* Packets per IP protocol number. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 256);
	__type(key, __u32);
	__type(value, __u64);
} proto_count SEC(".maps");

/* Bytes seen, per CPU, in slot 0. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} byte_count SEC(".maps");

SEC("xdp")
int xdp_parse(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct iphdr *ip;
	__u32 key = 0, proto;
	__u64 *value;
	__u8 xor = 0;

	if ((void *)(eth + 1) > data_end)
		return XDP_DROP;

	value = bpf_map_lookup_elem(&byte_count, &key);
	if (value)
		*value += data_end - data;

	if (eth->h_proto != bpf_htons(ETH_P_IP))
		return XDP_PASS;
	ip = (void *)(eth + 1);
	if ((void *)(ip + 1) > data_end)
		return XDP_DROP;

	/* A bounded loop over the fixed IPv4 header. */
	for (int i = 0; i < (int)sizeof(*ip); i++)
		xor ^= ((__u8 *)ip)[i];
	if (xor == 0xff)
		return XDP_ABORTED;

	proto = ip->protocol;
	value = bpf_map_lookup_elem(&proto_count, &proto);
	if (value)
		__sync_fetch_and_add(value, 1);
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";

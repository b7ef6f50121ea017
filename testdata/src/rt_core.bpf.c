// SPDX-License-Identifier: GPL-2.0
/* rt_core: CO-RE in a test-runnable program. Local definitions of the packet headers
 * (flavoured ___rt, marked preserve_access_index) are relocated against the kernel's BTF
 * (struct ethhdr, struct iphdr, enum bpf_func_id), and the program reads the packet through
 * them, so a test run exercises field offsets, type sizes, field existence, bitfields and
 * enum values relocated by the loader. SEC("tc"). Built with -g (CO-RE needs BTF).
 */
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>

struct ethhdr___rt {
	unsigned char h_dest[6];
	unsigned char h_source[6];
	__be16 h_proto;
} __attribute__((preserve_access_index));

struct iphdr___rt {
	__u8 ihl : 4, version : 4;
	__u8 tos;
	__be16 tot_len;
	__be16 id;
	__be16 frag_off;
	__u8 ttl;
	__u8 protocol;
	__sum16 check;
	__be32 saddr;
	__be32 daddr;
} __attribute__((preserve_access_index));

struct not_in_the_kernel___rt {
	int x;
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 8);
	__type(key, __u32);
	__type(value, __u64);
} core_results SEC(".maps");

static __always_inline void put(__u32 i, __u64 v)
{
	bpf_map_update_elem(&core_results, &i, &v, BPF_ANY);
}

SEC("tc")
int rt_core(struct __sk_buff *skb)
{
	void *data = (void *)(long)skb->data;
	void *data_end = (void *)(long)skb->data_end;
	struct ethhdr___rt *eth = data;
	struct iphdr___rt *ip;

	put(0, bpf_core_field_offset(struct iphdr___rt, protocol) |
		       bpf_core_type_size(struct iphdr___rt) << 8 |
		       bpf_core_field_exists(struct iphdr___rt, tos) << 16 |
		       bpf_core_type_exists(struct not_in_the_kernel___rt) << 17);
	put(1, bpf_core_enum_value(enum bpf_func_id, BPF_FUNC_tail_call));
	if (data + 34 > data_end)
		return TC_ACT_OK;
	put(2, eth->h_proto);
	ip = data + bpf_core_type_size(struct ethhdr___rt);
	if ((void *)(ip + 1) > data_end)
		return TC_ACT_OK;
	put(3, ip->protocol | ip->ttl << 8 | (__u64)ip->daddr << 16);
	put(4, BPF_CORE_READ_BITFIELD(ip, ihl) | BPF_CORE_READ_BITFIELD(ip, version) << 4);
	ip->ttl -= 1;
	return ip->protocol;
}

char LICENSE[] SEC("license") = "GPL";

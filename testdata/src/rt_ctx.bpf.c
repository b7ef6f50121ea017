// SPDX-License-Identifier: GPL-2.0
/* rt_ctx: every context field a test-runnable program may read or write, so that the
 * runtime's conversion of context accesses is compared with the kernel's field by field.
 *
 * Exercises: every readable __sk_buff field of a tc program (narrow loads of protocol and
 * pkt_type included), stores to mark, priority, cb, tc_index and tc_classid (16 bits in the
 * kernel), queue_mapping and tstamp, then reads them back; the fields a socket filter may read
 * and its cb stores; a cgroup skb program's socket fields (family, addresses, ports) and its
 * data/data_end (which a test run never computes); xdp_md's fields and packet writes through
 * data; a raw tracepoint's arguments read at every size; the legacy packet loads (BPF_ABS and
 * BPF_IND, from skb->data and from the SKF_NET_OFF and SKF_LL_OFF areas, out-of-range loads
 * ending the program with 0) of a socket filter and a tc program. Built with -g.
 */
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>

#define N 48

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, N);
	__type(key, __u32);
	__type(value, __u64);
} fields SEC(".maps");

static __always_inline void put(__u32 i, __u64 v)
{
	bpf_map_update_elem(&fields, &i, &v, BPF_ANY);
}

/* One load per field: clang must not merge neighbours into an 8-byte load the kernel refuses. */
#define F(x) (*(volatile __typeof__(x) *)&(x))
#define BYTE(ctx, off) (*(volatile __u8 *)((char *)(ctx) + (off)))
#define HALF(ctx, off) (*(volatile __u16 *)((char *)(ctx) + (off)))

SEC("tc")
int rt_ctx_tc(struct __sk_buff *skb)
{
	void *data = (void *)(long)skb->data;
	void *data_end = (void *)(long)skb->data_end;
	__u8 *p = data;
	__u32 w;

	put(0, F(skb->len));
	put(1, F(skb->pkt_type));
	put(2, F(skb->mark));
	put(3, F(skb->queue_mapping));
	put(4, F(skb->protocol));
	put(5, F(skb->vlan_present) | F(skb->vlan_tci) << 1 | (__u64)F(skb->vlan_proto) << 20);
	put(6, F(skb->priority));
	put(7, F(skb->ingress_ifindex) | (__u64)F(skb->ifindex) << 32);
	put(8, F(skb->tc_index) | (__u64)F(skb->tc_classid) << 32);
	put(9, F(skb->cb[0]) ^ F(skb->cb[1]) ^ F(skb->cb[2]) ^ F(skb->cb[3]) ^ ((__u64)F(skb->cb[4]) << 32));
	put(10, F(skb->hash));
	put(11, data_end - data);
	put(12, F(skb->napi_id));
	put(13, (void *)(long)F(skb->data_meta) == data);
	put(14, F(skb->tstamp));
	put(15, F(skb->wire_len) | (__u64)F(skb->gso_segs) << 32);
	put(16, F(skb->gso_size) | (__u64)F(skb->tstamp_type) << 32);
	put(17, F(skb->hwtstamp));
	/* Narrow loads: bytes and halves of 4-byte fields. */
	put(18, BYTE(skb, 16) | BYTE(skb, 17) << 8 | (__u64)HALF(skb, 18) << 16 |
		(__u64)BYTE(skb, 4) << 32 | (__u64)HALF(skb, 0) << 40);

	if (data + 26 > data_end)
		return TC_ACT_OK;
	w = *(__u32 *)(p + 14);
	skb->mark = w;
	skb->priority = w ^ 0x5a5a;
	switch (p[18] % 5) {
	case 0:
		skb->cb[0] = *(__u32 *)(p + 20);
		break;
	case 1:
		skb->cb[1] = *(__u32 *)(p + 20);
		break;
	case 2:
		skb->cb[2] = *(__u32 *)(p + 20);
		break;
	case 3:
		skb->cb[3] = *(__u32 *)(p + 20);
		break;
	default:
		skb->cb[4] = *(__u32 *)(p + 20);
	}
	skb->tc_index = w;
	skb->tc_classid = w >> 3;
	skb->queue_mapping = p[22] | (p[23] & 0x7f) << 8;
	skb->tstamp = *(__u64 *)(p + 14);
	put(19, F(skb->mark) | (__u64)F(skb->priority) << 32);
	put(20, F(skb->tc_index) | (__u64)F(skb->tc_classid) << 32);
	put(21, F(skb->queue_mapping));
	put(22, F(skb->cb[0]) ^ F(skb->cb[1]) ^ F(skb->cb[2]) ^ F(skb->cb[3]) ^ ((__u64)F(skb->cb[4]) << 32));
	put(23, F(skb->tstamp));
	/* Swap the MAC addresses in the packet. */
	for (int i = 0; i < 6; i++) {
		__u8 t = p[i];

		p[i] = p[i + 6];
		p[i + 6] = t;
	}
	return p[24] % 9;
}

SEC("socket")
int rt_ctx_sock(struct __sk_buff *skb)
{
	put(24, F(skb->len) | (__u64)F(skb->pkt_type) << 32);
	put(25, F(skb->mark) | (__u64)F(skb->queue_mapping) << 32);
	put(26, F(skb->protocol) | (__u64)F(skb->vlan_present) << 32);
	put(27, F(skb->priority) | (__u64)F(skb->ingress_ifindex) << 32);
	put(28, F(skb->ifindex) | (__u64)F(skb->tc_index) << 32);
	put(29, F(skb->hash) | (__u64)F(skb->cb[2]) << 32);
	skb->cb[0] = skb->len;
	skb->cb[3] = skb->protocol;
	return skb->len / 2;
}

SEC("cgroup_skb/ingress")
int rt_ctx_cg(struct __sk_buff *skb)
{
	void *data = (void *)(long)skb->data;
	void *data_end = (void *)(long)skb->data_end;

	put(30, F(skb->family) | (__u64)F(skb->len) << 32);
	put(31, F(skb->remote_ip4) | (__u64)F(skb->local_ip4) << 32);
	put(32, F(skb->remote_ip6[0]) ^ F(skb->remote_ip6[3]) ^ ((__u64)F(skb->local_ip6[1]) << 32) ^
		skb->local_ip6[2]);
	put(33, F(skb->remote_port) | (__u64)F(skb->local_port) << 32);
	put(34, (data != 0) | (data_end == 0) << 1);
	skb->mark = skb->len;
	skb->cb[1] = skb->protocol;
	if (data + 20 > data_end)
		return 1;
	return *(__u8 *)data & 1;
}

SEC("xdp")
int rt_ctx_xdp(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	__u8 *p = data;

	put(35, F(ctx->ingress_ifindex) | (__u64)F(ctx->rx_queue_index) << 32);
	put(36, (data_end - data) | (__u64)(data - (void *)(long)F(ctx->data_meta)) << 32);
	if (data + 16 > data_end)
		return XDP_DROP;
	p[15] ^= p[14];
	return XDP_PASS;
}

SEC("raw_tp/sched_switch")
int rt_ctx_raw(struct bpf_raw_tracepoint_args *ctx)
{
	put(37, F(ctx->args[0]) ^ (__u64)BYTE(ctx, 9) << 56 ^ (__u64)HALF(ctx, 10) << 40);
	put(38, *(volatile __u32 *)((char *)ctx + 20) ^ F(ctx->args[3]));
	return ctx->args[1] + ctx->args[2];
}

unsigned long long load_byte(void *skb, unsigned long long off) asm("llvm.bpf.load.byte");
unsigned long long load_half(void *skb, unsigned long long off) asm("llvm.bpf.load.half");
unsigned long long load_word(void *skb, unsigned long long off) asm("llvm.bpf.load.word");

#define SKF_NET_OFF (-0x100000)
#define SKF_LL_OFF (-0x200000)

/* A socket filter's skb->data is the network header. */
SEC("socket")
int rt_ld_abs_sock(struct __sk_buff *skb)
{
	__u32 len = skb->len;

	put(39, load_byte(skb, 0) | load_half(skb, 2) << 8 | load_word(skb, 12) << 24);
	put(40, load_half(skb, SKF_LL_OFF + 12) | load_byte(skb, SKF_NET_OFF + 9) << 16);
	put(41, load_word(skb, len - 4) | (__u64)load_byte(skb, len - 1) << 32);
	if (len > 60)
		load_word(skb, len - 2);
	return len;
}

/* A tc program's skb->data is the link-layer header. */
SEC("tc")
int rt_ld_abs_tc(struct __sk_buff *skb)
{
	__u32 ihl;

	put(42, load_half(skb, 12) | load_word(skb, SKF_NET_OFF + 12) << 16);
	ihl = (load_byte(skb, 14) & 0xf) << 2;
	put(43, load_half(skb, 14 + ihl) | load_half(skb, 16 + ihl) << 16);
	put(44, load_byte(skb, SKF_LL_OFF + 14 + ihl + 13));
	return ihl;
}

char LICENSE[] SEC("license") = "GPL";

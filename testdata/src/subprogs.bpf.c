// SPDX-License-Identifier: GPL-2.0
/* subprogs: bpf-to-bpf calls and loops.
 *
 * Exercises: static and global (non-static) __noinline subprograms in .text
 * called with BPF_PSEUDO_CALL instructions (R_BPF_64_32 relocations against
 * .text or the function's symbol), a subprogram shared by two programs, a
 * bpf_loop() callback (ld_imm64 with BPF_PSEUDO_FUNC), a bounded loop the
 * compiler must not unroll, SEC("xdp") and SEC("tc"). Loadable by the
 * running kernel when built with -g (global functions need BTF func_info).
 * Built in all eight variants.
 */
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>

/* A static subprogram: sums the first `n` bytes of the packet, at most 16. */
static __noinline int sum_bytes(const __u8 *data, const __u8 *end, int n)
{
	int sum = 0;

#pragma clang loop unroll(disable)
	for (int i = 0; i < 16; i++) {
		if (i >= n || data + i + 1 > end)
			break;
		sum += data[i];
	}
	return sum;
}

/* A global subprogram: verified on its own, so it takes only scalars. */
__noinline int clamp(int value, int max)
{
	if (value > max)
		return max;
	if (value < 0)
		return 0;
	return value;
}

struct loop_ctx {
	int total;
};

/* bpf_loop() callback: adds the index to the total; stops after 10. */
static int loop_body(__u32 index, void *data)
{
	struct loop_ctx *lc = data;

	lc->total += index;
	return index >= 10;
}

SEC("xdp")
int xdp_subprogs(struct xdp_md *ctx)
{
	const __u8 *data = (const __u8 *)(long)ctx->data;
	const __u8 *end = (const __u8 *)(long)ctx->data_end;
	struct loop_ctx lc = { .total = 0 };
	int sum;

	sum = sum_bytes(data, end, 8);
	bpf_loop(32, loop_body, &lc, 0);
	sum = clamp(sum + lc.total, 4096);
	return sum > 2048 ? XDP_DROP : XDP_PASS;
}

SEC("tc")
int tc_subprogs(struct __sk_buff *skb)
{
	return clamp(skb->len, 1500) == 1500 ? TC_ACT_SHOT : TC_ACT_OK;
}

char LICENSE[] SEC("license") = "GPL";

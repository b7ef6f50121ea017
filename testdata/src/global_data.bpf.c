// SPDX-License-Identifier: GPL-2.0
/* global_data: global variables in every data section libbpf maps.
 *
 * Exercises: .data, .rodata (const volatile), .bss, a custom .data.counters
 * and .rodata.limits section, a string literal in .rodata.str1.1, ld_imm64
 * relocations against those sections (R_BPF_64_64 with a section symbol and
 * an offset in the instruction's imm) and against variable symbols, a
 * static global, SEC("xdp"). Loadable by the running kernel. Built in all
 * eight variants.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

int packets = 1;			/* .data */
static __u64 static_seen = 7;		/* .data, local symbol */
const volatile __u32 max_len = 1500;	/* .rodata */
const volatile __u8 drop_odd = 0;	/* .rodata */
__u64 bytes_total;			/* .bss */
__u32 last_len;				/* .bss */
__u64 drops SEC(".data.counters") = 0;	/* .data.counters */
__u64 passes SEC(".data.counters") = 0;
const volatile __u32 min_len SEC(".rodata.limits") = 14;

SEC("xdp")
int xdp_globals(struct xdp_md *ctx)
{
	__u32 len = ctx->data_end - ctx->data;

	packets++;
	static_seen += len;
	bytes_total += len;
	last_len = len;
	if (len > max_len || len < min_len || (drop_odd && (len & 1))) {
		drops++;
		return XDP_DROP;
	}
	passes++;
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";

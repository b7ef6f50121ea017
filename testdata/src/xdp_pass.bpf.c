// SPDX-License-Identifier: GPL-2.0
/* xdp_pass: the smallest loadable program.
 *
 * Exercises: SEC("xdp"), a single program with no maps, relocations or
 * subprograms, a GPL license section. Loadable by the running kernel (used by
 * the kernel differential tests). Built in all eight variants.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

SEC("xdp")
int xdp_pass(struct xdp_md *ctx)
{
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";

// SPDX-License-Identifier: GPL-2.0
/* socket_filter: a classic socket filter.
 *
 * Exercises: SEC("socket"), reading __sk_buff fields, branches, a GPL license
 * section, no maps. Loadable by the running kernel. Built in all eight variants.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

/* Keep IPv4 packets of at most 1500 bytes whole, truncate other packets to
 * their first 64 bytes. */
SEC("socket")
int socket_filter(struct __sk_buff *skb)
{
	if (skb->protocol != __builtin_bswap16(0x0800))
		return 64;
	if (skb->len > 1500)
		return 64;
	return skb->len;
}

char LICENSE[] SEC("license") = "GPL";

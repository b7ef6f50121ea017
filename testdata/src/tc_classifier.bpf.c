// SPDX-License-Identifier: GPL-2.0
/* tc_classifier: traffic control programs.
 *
 * Exercises: SEC("tc") and the older alias SEC("classifier") (both
 * BPF_PROG_TYPE_SCHED_CLS), two programs in one section (split by their FUNC
 * symbols), __sk_buff reads and writes, a helper call, a GPL license section.
 * No maps, so it needs no BTF. Loadable by the running kernel. Built in all
 * eight variants.
 */
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>

/* Marks every packet with 0x42 and lets it pass. */
SEC("tc")
int tc_mark(struct __sk_buff *skb)
{
	skb->mark = 0x42;
	return TC_ACT_OK;
}

/* Drops packets longer than 9000 bytes; a second program in section "tc". */
SEC("tc")
int tc_drop_jumbo(struct __sk_buff *skb)
{
	if (skb->len > 9000)
		return TC_ACT_SHOT;
	return TC_ACT_OK;
}

/* Sets the priority from the packet's hash. */
SEC("classifier")
int cls_prio(struct __sk_buff *skb)
{
	__u32 hash = bpf_get_hash_recalc(skb);

	skb->priority = hash & 7;
	return TC_ACT_OK;
}

char LICENSE[] SEC("license") = "GPL";

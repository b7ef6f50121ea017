// SPDX-License-Identifier: GPL-2.0
/* core: CO-RE relocations without vmlinux.h.
 *
 * Exercises: local struct definitions marked preserve_access_index,
 * BPF_CORE_READ chains (field byte offsets), BPF_CORE_READ_BITFIELD_PROBED
 * (field signedness, lshift/rshift), bpf_core_field_exists and
 * bpf_core_field_size, a ___flavor struct, bpf_core_type_exists,
 * bpf_core_type_size, bpf_core_type_id_kernel, bpf_core_enum_value_exists
 * and bpf_core_enum_value, so .BTF.ext carries core_relo records of many
 * kinds; plus func_info/line_info for two programs and a static subprogram.
 * Built with -g only (CO-RE needs BTF).
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>

struct mm_struct {
	unsigned long total_vm;
} __attribute__((preserve_access_index));

struct task_struct {
	int pid;
	int tgid;
	unsigned int flags;
	struct task_struct *real_parent;
	struct mm_struct *mm;
} __attribute__((preserve_access_index));

/* The same struct as an older kernel had it: a "flavor". */
struct task_struct___old {
	long state;
} __attribute__((preserve_access_index));

struct sk_buff {
	unsigned int len;
	unsigned char pkt_type : 3;
} __attribute__((preserve_access_index));

enum pid_type {
	PIDTYPE_PID,
	PIDTYPE_TGID,
	PIDTYPE_PGID,
};

struct not_in_any_kernel {
	int x;
};

static __noinline __u64 parent_info(struct task_struct *task)
{
	int ppid = BPF_CORE_READ(task, real_parent, tgid);
	unsigned long vm = BPF_CORE_READ(task, mm, total_vm);

	return ((__u64)ppid << 32) | (vm & 0xffffffff);
}

SEC("kprobe/do_unlinkat")
int core_task(void *ctx)
{
	struct task_struct *task = (void *)bpf_get_current_task();
	__u64 result = parent_info(task);

	if (bpf_core_field_exists(task->mm))
		result += bpf_core_field_size(task->flags);
	if (bpf_core_field_exists(((struct task_struct___old *)task)->state))
		result += 1;
	if (bpf_core_type_exists(struct not_in_any_kernel))
		result += 2;
	result += bpf_core_type_size(struct task_struct);
	result += bpf_core_type_id_kernel(struct task_struct);
	if (bpf_core_enum_value_exists(enum pid_type, PIDTYPE_TGID))
		result += bpf_core_enum_value(enum pid_type, PIDTYPE_TGID);
	bpf_printk("core %llu", result);
	return 0;
}

SEC("kprobe/__kfree_skb")
int core_skb(void *ctx)
{
	struct sk_buff *skb = (struct sk_buff *)ctx;
	unsigned int len = BPF_CORE_READ(skb, len);
	unsigned int type = BPF_CORE_READ_BITFIELD_PROBED(skb, pkt_type);

	return len + type;
}

char LICENSE[] SEC("license") = "GPL";

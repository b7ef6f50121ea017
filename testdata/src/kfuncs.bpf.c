// SPDX-License-Identifier: GPL-2.0
/* kfuncs: calls of kernel functions declared __ksym.
 *
 * clang writes a kfunc call as a local call (src_reg 1) with a relocation
 * against the undefined extern; libbpf turns it into a kfunc call (src_reg 2)
 * with the function's BTF id. Exercises: a tc program calling conntrack kfuncs
 * (bpf_skb_ct_lookup, bpf_ct_release), a tp_btf program acquiring and releasing
 * a task, a __weak kfunc that does not exist (its call removed as dead code
 * once bpf_ksym_exists is 0) and a __weak one that exists; and programs the
 * kernel rejects: a leaked reference, a release before the NULL check, a
 * double release, a conntrack kfunc from a socket filter. Built with -g only
 * (externs need BTF).
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

/* libbpf 1.1's headers (Debian's) lack it; newer ones define it the same way. */
#ifndef bpf_ksym_exists
#define bpf_ksym_exists(sym) (!!(sym))
#endif

/* CO-RE-style compatibility checks of kfunc prototypes match structs by name
 * and kind, so empty structs stand for the kernel's. */
struct nf_conn {};
struct bpf_ct_opts {};
struct task_struct {};
struct bpf_cpumask {};

extern struct nf_conn *bpf_skb_ct_lookup(struct __sk_buff *, struct bpf_sock_tuple *, __u32,
					 struct bpf_ct_opts *, __u32) __ksym;
extern void bpf_ct_release(struct nf_conn *) __ksym;
extern struct task_struct *bpf_task_acquire(struct task_struct *p) __ksym;
extern void bpf_task_release(struct task_struct *p) __ksym;
extern void bpf_kfunc_that_does_not_exist(void) __ksym __weak;
extern struct bpf_cpumask *bpf_cpumask_create(void) __ksym __weak;
extern void bpf_cpumask_release(struct bpf_cpumask *cpumask) __ksym __weak;

SEC("tc")
int kfunc_ct_lookup(struct __sk_buff *skb)
{
	struct bpf_ct_opts opts = {};
	struct bpf_sock_tuple tuple = {};
	struct nf_conn *ct;

	ct = bpf_skb_ct_lookup(skb, &tuple, 0, &opts, 0);
	if (ct)
		bpf_ct_release(ct);
	return 0;
}

SEC("tp_btf/task_newtask")
int BPF_PROG(kfunc_task_acquire, struct task_struct *task, __u64 clone_flags)
{
	struct task_struct *acquired = bpf_task_acquire(task);

	if (!acquired)
		return 0;
	bpf_task_release(acquired);
	return 1;
}

SEC("tp_btf/task_newtask")
int kfunc_weak(void *ctx)
{
	struct bpf_cpumask *mask;

	if (bpf_ksym_exists(bpf_kfunc_that_does_not_exist)) {
		bpf_kfunc_that_does_not_exist();
		return 2;
	}
	if (!bpf_ksym_exists(bpf_cpumask_create))
		return 0;
	mask = bpf_cpumask_create();
	if (mask)
		bpf_cpumask_release(mask);
	return 1;
}

/* Rejected: the acquired task is never released. */
SEC("tp_btf/task_newtask")
int BPF_PROG(kfunc_leak, struct task_struct *task, __u64 clone_flags)
{
	return bpf_task_acquire(task) != 0;
}

/* Rejected: released before checking for NULL. */
SEC("tp_btf/task_newtask")
int BPF_PROG(kfunc_release_unchecked, struct task_struct *task, __u64 clone_flags)
{
	bpf_task_release(bpf_task_acquire(task));
	return 0;
}

/* Rejected: released twice. */
SEC("tp_btf/task_newtask")
int BPF_PROG(kfunc_double_release, struct task_struct *task, __u64 clone_flags)
{
	struct task_struct *acquired = bpf_task_acquire(task);

	if (!acquired)
		return 0;
	bpf_task_release(acquired);
	bpf_task_release(acquired);
	return 1;
}

/* Rejected: the conntrack kfuncs are registered for XDP and tc only. */
SEC("socket")
int kfunc_ct_socket(struct __sk_buff *skb)
{
	struct bpf_ct_opts opts = {};
	struct bpf_sock_tuple tuple = {};
	struct nf_conn *ct;

	ct = bpf_skb_ct_lookup(skb, &tuple, 0, &opts, 0);
	if (ct)
		bpf_ct_release(ct);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";

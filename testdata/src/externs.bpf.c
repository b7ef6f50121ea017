// SPDX-License-Identifier: GPL-2.0
/* externs: values the loader fills in.
 *
 * Exercises: .kconfig externs (LINUX_KERNEL_VERSION, CONFIG_HZ, a __weak
 * bool CONFIG_BPF_SYSCALL, a __weak tristate-ish char), .ksyms externs: a
 * typeless ksym (bpf_prog_active, via bpf_this_cpu_ptr), a typed ksym
 * (runqueues), and kfuncs declared __ksym (bpf_task_acquire /
 * bpf_task_release; a __weak kfunc that may be missing), all as undefined
 * symbols with relocations; SEC("fentry/do_unlinkat") and
 * SEC("tp_btf/task_newtask"). Built with -g only (externs need BTF).
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

extern int LINUX_KERNEL_VERSION __kconfig;
extern int CONFIG_HZ __kconfig;
extern _Bool CONFIG_BPF_SYSCALL __kconfig __weak;
extern char CONFIG_NOT_A_REAL_OPTION __kconfig __weak;

struct rq {
	int cpu;
};

struct task_struct {
	int pid;
} __attribute__((preserve_access_index));

extern const void bpf_prog_active __ksym;
extern const struct rq runqueues __ksym;

extern struct task_struct *bpf_task_acquire(struct task_struct *p) __ksym;
extern void bpf_task_release(struct task_struct *p) __ksym;
extern void bpf_kfunc_that_may_not_exist(void) __ksym __weak;

__u64 seen;

SEC("fentry/do_unlinkat")
int BPF_PROG(externs_fentry)
{
	int *active = bpf_this_cpu_ptr(&bpf_prog_active);
	struct rq *rq = bpf_this_cpu_ptr(&runqueues);

	if (LINUX_KERNEL_VERSION < 0x050a00 || CONFIG_HZ == 0)
		return 0;
	if (CONFIG_BPF_SYSCALL && CONFIG_NOT_A_REAL_OPTION != 'y')
		seen += *active + rq->cpu;
	if (bpf_kfunc_that_may_not_exist)
		bpf_kfunc_that_may_not_exist();
	return 0;
}

SEC("tp_btf/task_newtask")
int BPF_PROG(externs_newtask, struct task_struct *task, __u64 clone_flags)
{
	struct task_struct *acquired = bpf_task_acquire(task);

	if (!acquired)
		return 0;
	seen += acquired->pid;
	bpf_task_release(acquired);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";

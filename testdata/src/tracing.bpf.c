// SPDX-License-Identifier: GPL-2.0
/* tracing: program types whose SEC name carries an attach target.
 *
 * Exercises: SEC("kprobe/do_unlinkat") (twice: two programs in one
 * section), SEC("kretprobe/do_unlinkat"), SEC("tracepoint/syscalls/
 * sys_enter_openat"), SEC("tp/sched/sched_process_exec") (the short
 * alias), SEC("raw_tp/sched_switch"), SEC("raw_tracepoint/sched_wakeup"),
 * SEC("tp_btf/sched_switch"), SEC("fentry/do_unlinkat"),
 * SEC("fexit/do_unlinkat"), SEC("fentry.s/do_unlinkat") (sleepable),
 * SEC("lsm/file_open"), SEC("uprobe") (no target), SEC("perf_event"),
 * SEC("iter/task"), a ringbuf map, bpf_printk (its format string is a
 * static array in .rodata), bpf_trace_printk with a string literal (in
 * .rodata.str1.1), a GPL license. Built with -g only.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4096);
} trace_events SEC(".maps");

static __always_inline void emit(__u64 what)
{
	__u64 *slot = bpf_ringbuf_reserve(&trace_events, sizeof(*slot), 0);

	if (slot) {
		*slot = what;
		bpf_ringbuf_submit(slot, 0);
	}
}

SEC("kprobe/do_unlinkat")
int unlink_enter(void *ctx)
{
	emit(1);
	return 0;
}

SEC("kprobe/do_unlinkat")
int unlink_enter_pid(void *ctx)
{
	emit(bpf_get_current_pid_tgid() >> 32);
	return 0;
}

SEC("kretprobe/do_unlinkat")
int unlink_exit(void *ctx)
{
	emit(2);
	return 0;
}

SEC("tracepoint/syscalls/sys_enter_openat")
int openat_enter(void *ctx)
{
	bpf_printk("openat by %d", (int)(bpf_get_current_pid_tgid() >> 32));
	return 0;
}

SEC("tp/sched/sched_process_exec")
int process_exec(void *ctx)
{
	bpf_trace_printk("exec\n", sizeof("exec\n"));
	emit(3);
	return 0;
}

SEC("raw_tp/sched_switch")
int raw_switch(struct bpf_raw_tracepoint_args *ctx)
{
	emit(ctx->args[0]);
	return 0;
}

SEC("raw_tracepoint/sched_wakeup")
int raw_wakeup(struct bpf_raw_tracepoint_args *ctx)
{
	emit(4);
	return 0;
}

SEC("tp_btf/sched_switch")
int btf_switch(__u64 *ctx)
{
	emit(ctx[0]);
	return 0;
}

SEC("fentry/do_unlinkat")
int fentry_unlink(__u64 *ctx)
{
	emit(ctx[0]);
	return 0;
}

SEC("fexit/do_unlinkat")
int fexit_unlink(__u64 *ctx)
{
	emit(ctx[2]);
	return 0;
}

SEC("fentry.s/do_unlinkat")
int fentry_sleepable(__u64 *ctx)
{
	emit(5);
	return 0;
}

SEC("lsm/file_open")
int lsm_open(__u64 *ctx)
{
	emit(6);
	return 0;
}

SEC("uprobe")
int uprobe_any(void *ctx)
{
	emit(7);
	return 0;
}

SEC("perf_event")
int on_sample(void *ctx)
{
	emit(8);
	return 0;
}

SEC("iter/task")
int iter_task(void *ctx)
{
	return 0;
}

char LICENSE[] SEC("license") = "GPL";

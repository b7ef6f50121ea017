// SPDX-License-Identifier: GPL-2.0
/* attach: programs made for the loader's attach tests, each firing on
 * something a test does and leaving a trace the test reads back.
 *
 * Exercises: SEC("xdp"), SEC("tc"), SEC("socket") and
 * SEC("cgroup_skb/egress") counting into an array map;
 * SEC("raw_tp/sys_enter"), SEC("tracepoint/syscalls/sys_enter_getppid"),
 * SEC("kprobe/__x64_sys_getppid"), SEC("uprobe") and SEC("uretprobe")
 * writing to a ringbuf, filtered by a .rodata constant the loader sets
 * before load (target_pid); SEC("perf_event") counting samples;
 * bpf_perf_event_output to a perf event array; bpf_printk; a tail call
 * through a prog array initialised with .values. Built with -g only.
 */
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>

const volatile __u32 target_pid = 0;

struct event {
	__u32 kind;
	__u32 pid;
	__u64 value;
};

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 64 * 1024);
} events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERF_EVENT_ARRAY);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, sizeof(__u32));
} perf_events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 8);
	__type(key, __u32);
	__type(value, __u64);
} counters SEC(".maps");

enum { XDP_SEEN, TC_SEEN, SOCKET_SEEN, CGROUP_SEEN, PERF_SEEN, TAIL_SEEN };

enum {
	EV_RAW_TP = 1,
	EV_TRACEPOINT,
	EV_KPROBE,
	EV_UPROBE,
	EV_URETPROBE,
	EV_PERF_OUTPUT,
};

static __always_inline void count(__u32 which)
{
	__u64 *c = bpf_map_lookup_elem(&counters, &which);

	if (c)
		__sync_fetch_and_add(c, 1);
}

static __always_inline int mine(void)
{
	return (bpf_get_current_pid_tgid() >> 32) == target_pid;
}

static __always_inline void emit(__u32 kind, __u64 value)
{
	struct event *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);

	if (!e)
		return;
	e->kind = kind;
	e->pid = bpf_get_current_pid_tgid() >> 32;
	e->value = value;
	bpf_ringbuf_submit(e, 0);
}

SEC("xdp")
int xdp_count(struct xdp_md *ctx)
{
	count(XDP_SEEN);
	return XDP_PASS;
}

SEC("tc")
int tc_count(struct __sk_buff *skb)
{
	count(TC_SEEN);
	return TC_ACT_OK;
}

SEC("socket")
int socket_count(struct __sk_buff *skb)
{
	count(SOCKET_SEEN);
	return skb->len;
}

SEC("cgroup_skb/egress")
int cgroup_egress(struct __sk_buff *skb)
{
	count(CGROUP_SEEN);
	return 1;
}

SEC("raw_tp/sys_enter")
int raw_tp_enter(struct bpf_raw_tracepoint_args *ctx)
{
	if (mine())
		emit(EV_RAW_TP, ctx->args[1]);
	return 0;
}

SEC("tracepoint/syscalls/sys_enter_getppid")
int tp_getppid(void *ctx)
{
	if (mine())
		emit(EV_TRACEPOINT, 0);
	return 0;
}

SEC("kprobe/__x64_sys_getppid")
int kprobe_getppid(void *ctx)
{
	if (mine())
		emit(EV_KPROBE, 0);
	return 0;
}

SEC("uprobe")
int uprobe_hit(void *ctx)
{
	if (mine())
		emit(EV_UPROBE, 0);
	return 0;
}

SEC("uretprobe")
int uretprobe_hit(void *ctx)
{
	if (mine())
		emit(EV_URETPROBE, 0);
	return 0;
}

SEC("perf_event")
int on_sample(void *ctx)
{
	count(PERF_SEEN);
	return 0;
}

SEC("tracepoint/syscalls/sys_enter_getpgid")
int perf_output(void *ctx)
{
	struct event e = { .kind = EV_PERF_OUTPUT, .value = 42 };

	if (!mine())
		return 0;
	e.pid = target_pid;
	bpf_perf_event_output(ctx, &perf_events, BPF_F_CURRENT_CPU, &e, sizeof(e));
	return 0;
}

SEC("tracepoint/syscalls/sys_enter_getsid")
int printk_sid(void *ctx)
{
	if (mine())
		bpf_printk("bpfkit printk from %u", target_pid);
	return 0;
}

SEC("socket")
int tail_target(struct __sk_buff *skb)
{
	count(TAIL_SEEN);
	return 42;
}

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, 4);
	__type(key, __u32);
	__array(values, int (struct __sk_buff *));
} jump SEC(".maps") = {
	.values = {
		[1] = (void *)&tail_target,
	},
};

SEC("socket")
int tail_entry(struct __sk_buff *skb)
{
	bpf_tail_call(skb, &jump, 1);
	return 7;
}

char LICENSE[] SEC("license") = "GPL";

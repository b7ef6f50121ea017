// SPDX-License-Identifier: GPL-2.0
/* rt_helpers: the helpers real programs use most, driven by the packet so that generated
 * inputs reach every argument check and error path. Each program stores what the helpers
 * returned in `results` (and changes the packet), so the differential compares the kernel's
 * and the runtime's answers one by one.
 *
 * Exercises: bpf_csum_diff (every size, odd ones included), bpf_l3_csum_replace,
 * bpf_l4_csum_replace (every flag), bpf_skb_load_bytes, bpf_skb_store_bytes,
 * bpf_skb_change_tail, bpf_redirect (tc and XDP), bpf_redirect_map (an empty devmap: the
 * fallback action), bpf_tail_call through a prog array initialised with .values (a chain of
 * three programs), bpf_xdp_adjust_head/tail/meta, bpf_loop, bpf_for_each_map_elem,
 * bpf_ringbuf_output/reserve/submit/discard/query, bpf_perf_event_output (indexes, flags,
 * packet bytes), bpf_trace_printk (return values of many formats), bpf_spin_lock,
 * bpf_probe_read_kernel(_str), ktime/boot time/jiffies (only their order, which is
 * deterministic), bpf_get_prandom_u32, bpf_get_smp_processor_id, the current task helpers in
 * a raw tracepoint, a syscall program reading and writing its context. Built with -g.
 */
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>

#define N 16

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, N);
	__type(key, __u32);
	__type(value, __s64);
} results SEC(".maps");

static __always_inline void put(__u32 i, __s64 v)
{
	bpf_map_update_elem(&results, &i, &v, BPF_ANY);
}

/* ---- checksums, loads and stores (tc) ---- */

SEC("tc")
int rt_csum(struct __sk_buff *skb)
{
	__u8 b[64] = {};
	__u32 fs, ts, off;

	if (bpf_skb_load_bytes(skb, 14, b, 16))
		return TC_ACT_OK;
	bpf_skb_load_bytes(skb, 0, b, sizeof(b));
	/* Sizes 0 to 32 the verifier can bound (a % would become a multiplication). */
	fs = (b[20] & 31) + (b[20] >> 7);
	ts = (b[21] & 31) + (b[21] >> 7);
	put(0, bpf_csum_diff((__be32 *)b, fs, (__be32 *)&b[32], ts, b[22]));
	put(1, bpf_csum_diff(0, 0, (__be32 *)&b[16], ts, 0));
	put(2, bpf_csum_diff((__be32 *)&b[4], fs, 0, 0, 0x12345678));
	put(3, bpf_csum_diff(0, 0, 0, 0, 0xabcd));

	off = (b[23] & 3) == 0 ? 24 : b[24] * 3;
	put(4, bpf_l3_csum_replace(skb, off, b[25] | (b[26] << 8), b[27] | (b[28] << 8),
				   b[29] & 0x17));
	off = (b[30] & 3) == 0 ? 36 + (b[31] & 2) : b[31] * 5;
	put(5, bpf_l4_csum_replace(skb, off, b[32] & 3 ? *(__u32 *)&b[33] : 0,
				   *(__u32 *)&b[37], b[41]));
	put(6, bpf_skb_store_bytes(skb, b[42] * 2, &b[48], (b[43] & 7) + 1, b[44] & 7));
	off = b[45] * 13;
	put(7, bpf_skb_load_bytes(skb, off, &b[56], 8) * 0x100000000LL + *(__u32 *)&b[56]);
	return TC_ACT_OK;
}

/* ---- the packet's tail, redirects and tail calls (tc) ---- */

struct jump_table {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, 4);
	__type(key, __u32);
	__array(values, int (struct __sk_buff *));
};

/* Declared here, initialised below with the programs it jumps to. */
struct jump_table jump SEC(".maps");

SEC("tc")
int rt_tail_a(struct __sk_buff *skb)
{
	skb->cb[1] += 1;
	return 100 + skb->cb[1];
}

SEC("tc")
int rt_tail_b(struct __sk_buff *skb)
{
	__u32 i = skb->cb[1]++;

	bpf_tail_call(skb, &jump, i & 1);
	return 200;
}

SEC("tc")
int rt_tail(struct __sk_buff *skb)
{
	__u8 b[8];
	long r;

	if (bpf_skb_load_bytes(skb, 14, b, sizeof(b)))
		return TC_ACT_UNSPEC;
	put(0, bpf_skb_change_tail(skb, b[0] * 16 + b[1], b[2] == 7));
	put(1, skb->len);
	r = bpf_redirect(b[3] % 4, (b[2] >> 4) & 3);
	put(2, r);
	if (b[4] & 1) {
		skb->cb[1] = b[5];
		bpf_tail_call(skb, &jump, b[6] % 4);
		put(3, -1);
	}
	return r;
}

struct jump_table jump SEC(".maps") = {
	.values = { [0] = (void *)&rt_tail_a, [1] = (void *)&rt_tail_b },
};

/* ---- XDP: moving the packet's head, tail and metadata ---- */

struct {
	__uint(type, BPF_MAP_TYPE_DEVMAP);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, __u32);
} devices SEC(".maps");

SEC("xdp")
int rt_xdp(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	__u8 *b = data;
	int head, meta, tail;
	__u8 act, ifindex, flags, key;
	long r;

	if (data + 22 > data_end)
		return XDP_ABORTED;
	head = (signed char)b[14] * 2;
	meta = -(int)(b[15] % 48);
	tail = (signed char)b[16] * 8;
	act = b[17];
	ifindex = b[18];
	flags = b[19];
	key = b[20];

	r = bpf_xdp_adjust_meta(ctx, meta);
	put(0, r);
	if (r == 0) {
		void *m = (void *)(long)ctx->data_meta;

		data = (void *)(long)ctx->data;
		if (m + 4 <= data)
			*(__u32 *)m = 0xfeedf00d;
	}
	put(1, bpf_xdp_adjust_head(ctx, head));
	put(2, bpf_xdp_adjust_tail(ctx, tail));
	put(3, ctx->data_end - ctx->data);
	put(4, ctx->data - ctx->data_meta);
	data = (void *)(long)ctx->data;
	data_end = (void *)(long)ctx->data_end;
	if (data + 1 <= data_end)
		*(__u8 *)data ^= 0xff;
	switch (act % 6) {
	case 4:
		return bpf_redirect(ifindex % 3, flags & 1);
	case 5:
		return bpf_redirect_map(&devices, key % 5, flags & 0x1f);
	default:
		return act % 6;
	}
}

/* ---- callbacks: bpf_loop and bpf_for_each_map_elem ---- */

struct loop_ctx {
	__u64 sum;
	__u32 stop;
	__u8 bytes[16];
};

static int loop_body(__u32 i, void *data)
{
	struct loop_ctx *lc = data;

	lc->sum += lc->bytes[i & 15] * (i + 1);
	return i == lc->stop;
}

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 8);
	__type(key, __u32);
	__type(value, __u64);
} seen SEC(".maps");

struct walk {
	__u64 total;
	__u32 limit;
	__u32 count;
};

static long walk_body(void *map, __u32 *key, __u64 *value, struct walk *w)
{
	w->total += *key * 1000 + *value;
	w->count++;
	return w->count >= w->limit;
}

SEC("xdp")
int rt_loop(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct loop_ctx lc = {};
	struct walk w = {};
	__u32 key;
	__u64 value;
	__u8 *b = data;
	__u32 n;

	if (data + 34 > data_end)
		return XDP_PASS;
	for (int i = 0; i < 16; i++)
		lc.bytes[i] = b[14 + i];
	lc.stop = b[30] % 48;
	n = b[31] == 0xff ? (1 << 24) : b[31] % 40;
	put(0, bpf_loop(n, loop_body, &lc, b[32] == 0xff));
	put(1, lc.sum);

	key = b[14] % 8;
	value = b[15];
	bpf_map_update_elem(&seen, &key, &value, BPF_ANY);
	/* A hash map's order is the kernel's bucket order: walk all of it. */
	w.limit = 1000;
	put(2, bpf_for_each_map_elem(&seen, walk_body, &w, 0));
	put(3, w.total);
	w.total = 0;
	w.count = 0;
	w.limit = b[33] % 20;
	put(4, bpf_for_each_map_elem(&results, walk_body, &w, 0));
	put(5, bpf_for_each_map_elem(&seen, walk_body, &w, 1));
	return XDP_PASS;
}

/* ---- ring buffer and perf events (tc) ---- */

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4096);
} ring SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERF_EVENT_ARRAY);
	__uint(key_size, sizeof(int));
	__uint(value_size, sizeof(int));
} events SEC(".maps");

SEC("tc")
int rt_events(struct __sk_buff *skb)
{
	__u8 b[64] = {};
	__u64 *slot;
	__u64 flags;

	if (bpf_skb_load_bytes(skb, 14, b, 16))
		return TC_ACT_OK;
	bpf_skb_load_bytes(skb, 14, b, sizeof(b));
	put(0, bpf_ringbuf_output(&ring, &b[16], b[0] & 31, b[1] % 5));
	slot = bpf_ringbuf_reserve(&ring, 16, b[3] == 0x55);
	put(1, slot != 0);
	if (slot) {
		slot[0] = b[4] | ((__u64)b[5] << 8);
		slot[1] = b[2];
		if (b[6] & 1)
			bpf_ringbuf_discard(slot, 0);
		else
			bpf_ringbuf_submit(slot, BPF_RB_NO_WAKEUP);
	}
	put(2, bpf_ringbuf_query(&ring, b[7] % 5));
	switch (b[8] % 5) {
	case 0:
		flags = BPF_F_CURRENT_CPU;
		break;
	case 1:
		flags = BPF_F_CURRENT_CPU | ((__u64)(b[9] % 64) << 32);
		break;
	case 2:
		flags = b[9] % 4;
		break;
	case 3:
		flags = BPF_F_CURRENT_CPU | (1ULL << 60);
		break;
	default:
		flags = 0;
	}
	put(3, bpf_perf_event_output(skb, &events, flags, &b[24], b[10] & 31));
	return TC_ACT_OK;
}

/* ---- time, randomness, the CPU, printk, spin locks, probe reads (tc) ---- */

struct locked {
	struct bpf_spin_lock lock;
	__u64 value;
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct locked);
} locks SEC(".maps");

SEC("tc")
int rt_misc(struct __sk_buff *skb)
{
	char text[] = "hello, world";
	__u8 b[16];
	__u64 t1, t2, copy = 0;
	char str[16] = {};
	struct locked *l;
	__u32 zero = 0;
	long r;

	if (bpf_skb_load_bytes(skb, 14, b, sizeof(b)))
		return TC_ACT_OK;
	t1 = bpf_ktime_get_ns();
	t2 = bpf_ktime_get_ns();
	put(0, (t2 >= t1) + 2 * (bpf_ktime_get_boot_ns() >= t1) + 4 * (bpf_jiffies64() > 0));
	put(1, bpf_get_prandom_u32() & 0);
	put(2, bpf_get_smp_processor_id());

	switch (b[0] % 8) {
	case 0: {
		char fmt[] = "%d %u %x\n";
		r = bpf_trace_printk(fmt, sizeof(fmt), (int)b[1] - 128, b[2], b[3]);
		break;
	}
	case 1: {
		char fmt[] = "%llx|%5d|%-5d";
		r = bpf_trace_printk(fmt, sizeof(fmt), *(__u64 *)&b[4], b[1], b[2]);
		break;
	}
	case 2: {
		char fmt[] = "%s and %c";
		r = bpf_trace_printk(fmt, sizeof(fmt), (long)text, b[1] % 26 + 'a');
		break;
	}
	case 3: {
		char fmt[] = "%pI4 %pi4";
		r = bpf_trace_printk(fmt, sizeof(fmt), (long)&b[4], (long)&b[8]);
		break;
	}
	case 4: {
		char fmt[] = "%q";
		r = bpf_trace_printk(fmt, sizeof(fmt));
		break;
	}
	case 5: {
		char fmt[] = "%d %d %d %d";
		r = bpf_trace_printk(fmt, sizeof(fmt), 1, 2, 3) * 1000;
		{
			char fmt2[] = "%05d|% d|%+i";
			r += bpf_trace_printk(fmt2, sizeof(fmt2), b[1], b[2], -(int)b[3]);
		}
		break;
	}
	case 6: {
		char fmt[] = "no terminator";
		r = bpf_trace_printk(fmt, sizeof(fmt) - 1);
		break;
	}
	default: {
		char fmt[] = "%%%ld %lu %+d";
		r = bpf_trace_printk(fmt, sizeof(fmt), -(long)b[1], b[2], b[3]);
	}
	}
	put(3, r);

	l = bpf_map_lookup_elem(&locks, &zero);
	if (l) {
		bpf_spin_lock(&l->lock);
		l->value += b[5];
		bpf_spin_unlock(&l->lock);
	}
	put(4, bpf_probe_read_kernel(&copy, 8, &t1) == 0 && copy == t1);
	put(5, bpf_probe_read_kernel(&copy, 8, 0) * 1000 + copy);
	put(6, bpf_probe_read_kernel_str(str, b[6] % 16, text) * 1000 + str[0]);
	return TC_ACT_OK;
}

/* ---- the current task (raw tracepoint) and a syscall program ---- */

SEC("raw_tp/sched_switch")
int rt_task(struct bpf_raw_tracepoint_args *ctx)
{
	char comm[16] = {};
	__u64 a = ctx->args[0], b = ctx->args[1];

	put(0, (bpf_get_current_pid_tgid() >> 32) != 0);
	put(1, bpf_get_current_uid_gid());
	put(2, bpf_get_current_comm(comm, a % 16 + 1) * 100 + (comm[a % 16] == 0));
	put(3, bpf_probe_read(&a, 8, &ctx->args[1]) * 1000 + (a == b));
	return a * 3 + b;
}

struct args {
	__u64 a;
	__u64 b;
	__u32 sum;
	__u32 loops;
};

static int add_one(__u32 i, void *data)
{
	((struct args *)data)->loops++;
	return 0;
}

SEC("syscall")
int rt_syscall(struct args *args)
{
	struct args local = {};

	local.loops = 0;
	bpf_loop(args->a % 8, add_one, &local, 0);
	args->sum = args->a + args->b;
	args->loops = local.loops;
	return args->a ^ args->b;
}

/* ---- not in the kernel differential: the host's routes, flow hash and memory ---- */

/* bpf_fib_lookup against the routes a test gives (the kernel's answer depends on the
 * machine's routing table). Returns the lookup's result, leaves the MACs in the packet. */
SEC("xdp")
int rt_fib(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct bpf_fib_lookup fib = {};
	__u8 *p = data;
	long r;

	if (data + 34 > data_end)
		return -1;
	fib.family = 2; /* AF_INET */
	fib.tot_len = (p[16] << 8) | p[17];
	fib.ipv4_src = *(__u32 *)(p + 26);
	fib.ipv4_dst = *(__u32 *)(p + 30);
	fib.ifindex = ctx->ingress_ifindex;
	r = bpf_fib_lookup(ctx, &fib, sizeof(fib), 0);
	put(0, fib.ifindex);
	__builtin_memcpy(p, fib.dmac, 6);
	__builtin_memcpy(p + 6, fib.smac, 6);
	return r;
}

/* bpf_get_hash_recalc: the flow hash (random per boot in the kernel). */
SEC("tc")
int rt_hash(struct __sk_buff *skb)
{
	__u32 h = bpf_get_hash_recalc(skb);

	put(0, h);
	put(1, skb->hash == h);
	bpf_set_hash_invalid(skb);
	put(2, skb->hash);
	return TC_ACT_OK;
}

/* Probe reads of the kernel and user memory at the addresses in the arguments. */
SEC("raw_tp/sys_enter")
int rt_probe(struct bpf_raw_tracepoint_args *ctx)
{
	__u64 k = 0, u = 0;
	char s[16] = {};

	put(0, bpf_probe_read_kernel(&k, sizeof(k), (void *)ctx->args[0]));
	put(1, k);
	put(2, bpf_probe_read_user(&u, sizeof(u), (void *)ctx->args[1]));
	put(3, u);
	put(4, bpf_probe_read_user_str(s, sizeof(s), (void *)ctx->args[1]));
	put(5, bpf_probe_read_kernel_str(s, sizeof(s), (void *)ctx->args[0]) * 256 + s[0]);
	put(6, bpf_probe_read_str(s, 4, (void *)ctx->args[1]) * 256 + s[3]);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";

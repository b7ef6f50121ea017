// SPDX-License-Identifier: GPL-2.0
/* verifier_locks: bpf_spin_lock rules, for the static verifier's comparison
 * with the kernel (crates/bpfkit-verifier/tests/kernel_corpus.rs compares
 * every testdata program's verdict and message with the running kernel's).
 *
 * One program takes and releases a lock correctly; each of the others breaks
 * one rule of the kernel's process_spin_lock and do_check: two locks at once,
 * an unlock without a lock, a helper call inside the locked region, an exit
 * with the lock held, a lock at the wrong offset, a lock in a map whose
 * value has none, and a global function called inside the locked region
 * (check_func_call; a static function is allowed there, which
 * static_call_while_locked shows).
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct locked {
	int counter;
	struct bpf_spin_lock lock;
	int other;
};

struct plain {
	int counter;
	int pad;
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, struct locked);
} locks SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct plain);
} plain SEC(".maps");

static struct locked *slot(__u32 key)
{
	return bpf_map_lookup_elem(&locks, &key);
}

SEC("tc")
int lock_ok(struct __sk_buff *skb)
{
	struct locked *l = slot(0);

	if (!l)
		return 0;
	bpf_spin_lock(&l->lock);
	l->counter += 1;
	l->other = skb->len;
	bpf_spin_unlock(&l->lock);
	return 0;
}

SEC("tc")
int lock_twice(struct __sk_buff *skb)
{
	struct locked *a = slot(0), *b = slot(1);

	if (!a || !b)
		return 0;
	bpf_spin_lock(&a->lock);
	bpf_spin_lock(&b->lock);
	a->counter = b->counter;
	bpf_spin_unlock(&b->lock);
	bpf_spin_unlock(&a->lock);
	return 0;
}

SEC("tc")
int unlock_unlocked(struct __sk_buff *skb)
{
	struct locked *l = slot(0);

	if (!l)
		return 0;
	l->counter = 1;
	bpf_spin_unlock(&l->lock);
	return 0;
}

SEC("tc")
int call_while_locked(struct __sk_buff *skb)
{
	struct locked *l = slot(0);

	if (!l)
		return 0;
	bpf_spin_lock(&l->lock);
	l->counter = bpf_get_prandom_u32();
	bpf_spin_unlock(&l->lock);
	return 0;
}

SEC("tc")
int exit_while_locked(struct __sk_buff *skb)
{
	struct locked *l = slot(0);

	if (!l)
		return 0;
	bpf_spin_lock(&l->lock);
	l->counter = 2;
	if (skb->len > 100)
		return 1;
	bpf_spin_unlock(&l->lock);
	return 0;
}

SEC("tc")
int lock_wrong_offset(struct __sk_buff *skb)
{
	struct locked *l = slot(0);

	if (!l)
		return 0;
	bpf_spin_lock((struct bpf_spin_lock *)&l->other);
	l->counter = 3;
	bpf_spin_unlock((struct bpf_spin_lock *)&l->other);
	return 0;
}

SEC("tc")
int lock_without_lock_field(struct __sk_buff *skb)
{
	__u32 key = 0;
	struct plain *p = bpf_map_lookup_elem(&plain, &key);

	if (!p)
		return 0;
	bpf_spin_lock((struct bpf_spin_lock *)&p->counter);
	p->pad = 1;
	bpf_spin_unlock((struct bpf_spin_lock *)&p->counter);
	return 0;
}

/* Global: verified on its own, so the kernel cannot tell what it does with
 * the lock held. */
__attribute__((noinline)) int global_double(int x)
{
	return x * 2;
}

/* Static: verified in the caller's state, lock included. */
static __attribute__((noinline)) int static_double(int x)
{
	return x * 2;
}

SEC("tc")
int global_call_while_locked(struct __sk_buff *skb)
{
	struct locked *l = slot(0);

	if (!l)
		return 0;
	bpf_spin_lock(&l->lock);
	l->counter = global_double(l->counter);
	bpf_spin_unlock(&l->lock);
	return 0;
}

SEC("tc")
int static_call_while_locked(struct __sk_buff *skb)
{
	struct locked *l = slot(0);

	if (!l)
		return 0;
	bpf_spin_lock(&l->lock);
	l->counter = static_double(l->counter);
	bpf_spin_unlock(&l->lock);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";

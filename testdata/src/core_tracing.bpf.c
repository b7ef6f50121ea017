// SPDX-License-Identifier: GPL-2.0
/* core_tracing: a tracing object of the usual kind, reading kernel structs
 * (task_struct, mm_struct, cred, files, signal_struct, sk_buff, sock, socket,
 * file, inode, dentry, super_block, net_device) through a few hundred
 * BPF_CORE_READ chains and direct loads, with existence checks, a bitfield,
 * flavors that only old kernels have, enum values and type checks.
 *
 * The local types below declare only the members read, in an order of our
 * own, with preserve_access_index: the offsets come from the target (the
 * running kernel's BTF) at load time. Relocated against /sys/kernel/btf/vmlinux
 * by the CO-RE tests, every relocation compared with libbpf's.
 */
#include "core_reloc.h"

char LICENSE[] SEC("license") = "GPL";

typedef struct {
	unsigned int val;
} kuid_t;

typedef struct {
	unsigned int val;
} kgid_t;

struct qstr {
	union {
		struct {
			__u32 hash;
			__u32 len;
		};
		__u64 hash_len;
	};
	const unsigned char *name;
} __pai;

struct super_block {
	unsigned int s_dev;
	unsigned long s_blocksize;
	unsigned long s_magic;
	unsigned long s_flags;
	long long s_maxbytes;
	char s_id[32];
	struct dentry *s_root;
} __pai;

struct inode {
	unsigned short i_mode;
	kuid_t i_uid;
	kgid_t i_gid;
	unsigned int i_flags;
	unsigned long i_ino;
	long long i_size;
	unsigned int i_nlink;
	unsigned long long i_blocks;
	struct super_block *i_sb;
	unsigned int i_rdev;
	__u32 i_generation;
	__u8 i_blkbits;
} __pai;

struct dentry {
	unsigned int d_flags;
	struct qstr d_name;
	struct dentry *d_parent;
	struct inode *d_inode;
	struct super_block *d_sb;
} __pai;

struct path {
	struct vfsmount *mnt;
	struct dentry *dentry;
} __pai;

struct cred {
	kuid_t uid;
	kgid_t gid;
	kuid_t suid;
	kgid_t sgid;
	kuid_t euid;
	kgid_t egid;
	kuid_t fsuid;
	kgid_t fsgid;
	unsigned int securebits;
} __pai;

struct file {
	unsigned int f_flags;
	unsigned int f_mode;
	long long f_pos;
	struct inode *f_inode;
	struct path f_path;
	const struct cred *f_cred;
} __pai;

struct mm_struct {
	unsigned long total_vm;
	unsigned long locked_vm;
	unsigned long data_vm;
	unsigned long exec_vm;
	unsigned long stack_vm;
	unsigned long start_code, end_code, start_data, end_data;
	unsigned long start_brk, brk, start_stack;
	unsigned long arg_start, arg_end, env_start, env_end;
	int map_count;
	struct file *exe_file;
	struct task_struct *owner;
} __pai;

struct fdtable {
	unsigned int max_fds;
	struct file **fd;
} __pai;

struct files_struct {
	struct fdtable *fdt;
	unsigned int next_fd;
	struct file *fd_array[64];
} __pai;

struct signal_struct {
	int nr_threads;
	int group_exit_code;
	unsigned int flags;
	int leader;
	__u64 utime, stime, cutime, cstime;
	unsigned long nvcsw, nivcsw, min_flt, maj_flt, maxrss;
	short oom_score_adj;
} __pai;

struct upid {
	int nr;
} __pai;

struct pid {
	unsigned int level;
	struct upid numbers[1];
} __pai;

struct task_struct {
	unsigned int __state;
	unsigned int flags;
	unsigned int ptrace;
	int on_cpu;
	int prio, static_prio, normal_prio;
	unsigned int rt_priority;
	unsigned int policy;
	int nr_cpus_allowed;
	int exit_state, exit_code, exit_signal, pdeath_signal;
	unsigned int personality;
	unsigned int sched_reset_on_fork: 1;
	unsigned int in_execve: 1;
	int pid;
	int tgid;
	char comm[16];
	struct task_struct *real_parent;
	struct task_struct *parent;
	struct task_struct *group_leader;
	struct mm_struct *mm;
	struct mm_struct *active_mm;
	const struct cred *cred;
	const struct cred *real_cred;
	struct files_struct *files;
	struct signal_struct *signal;
	struct pid *thread_pid;
	__u64 utime, stime, start_time;
	unsigned long nvcsw, nivcsw, min_flt, maj_flt;
	void *stack;
} __pai;

/* What task_struct looked like before 5.14: `state` was renamed `__state`. */
struct task_struct___pre514 {
	long state;
} __pai;

struct net_device {
	char name[16];
	int ifindex;
	unsigned int mtu;
	unsigned int flags;
	unsigned short type;
	unsigned int min_mtu;
	unsigned int max_mtu;
	unsigned char addr_len;
	unsigned short hard_header_len;
} __pai;

struct sock_common {
	unsigned short skc_family;
	__u16 skc_num;
	__u16 skc_dport;
	__u32 skc_daddr;
	__u32 skc_rcv_saddr;
	volatile unsigned char skc_state;
	int skc_bound_dev_if;
	unsigned char skc_reuse: 4;
} __pai;

struct socket {
	short type;
	unsigned long flags;
	struct file *file;
	struct sock *sk;
} __pai;

struct sock {
	struct sock_common __sk_common;
	int sk_rcvbuf;
	int sk_sndbuf;
	__u32 sk_priority;
	__u32 sk_mark;
	__u16 sk_protocol;
	__u16 sk_type;
	int sk_wmem_queued;
	__u32 sk_ack_backlog;
	__u32 sk_max_ack_backlog;
	int sk_err;
	struct socket *sk_socket;
	kuid_t sk_uid;
	__u8 sk_shutdown;
} __pai;

struct sk_buff {
	unsigned int len;
	unsigned int data_len;
	__u16 mac_len;
	__u16 hdr_len;
	__u16 protocol;
	__u32 mark;
	__u32 priority;
	__u32 hash;
	__u16 queue_mapping;
	unsigned char *head;
	unsigned char *data;
	unsigned int tail;
	unsigned int end;
	struct net_device *dev;
	struct sock *sk;
	__s64 tstamp;
	__u8 pkt_type: 3;
	__u8 cloned: 1;
	__u8 ip_summed: 2;
	__u16 transport_header;
	__u16 network_header;
	__u16 mac_header;
	__u16 vlan_tci;
	int skb_iif;
} __pai;

/* An sk_buff as old kernels had it. */
struct sk_buff___old {
	__u32 rxhash;
} __pai;

enum pid_type {
	PIDTYPE_PID,
	PIDTYPE_TGID,
	PIDTYPE_PGID,
	PIDTYPE_SID,
	PIDTYPE_MAX,
};

/* linux/bpf.h has the real one: flavored enumerator names keep them apart
 * (enumerators are matched by essential name, like types). */
enum bpf_map_type___local {
	BPF_MAP_TYPE_HASH___l = 1,
	BPF_MAP_TYPE_RINGBUF___l = 27,
	BPF_MAP_TYPE_NOT_A_TYPE___l = 999,
};

#define O(v) OUT(__COUNTER__ % 64, (v))

static __always_inline void read_cred(const struct cred *c)
{
	O(BPF_CORE_READ(c, uid.val));
	O(BPF_CORE_READ(c, gid.val));
	O(BPF_CORE_READ(c, suid.val));
	O(BPF_CORE_READ(c, sgid.val));
	O(BPF_CORE_READ(c, euid.val));
	O(BPF_CORE_READ(c, egid.val));
	O(BPF_CORE_READ(c, fsuid.val));
	O(BPF_CORE_READ(c, fsgid.val));
	O(BPF_CORE_READ(c, securebits));
}

static __always_inline void read_inode(struct inode *i)
{
	O(BPF_CORE_READ(i, i_mode));
	O(BPF_CORE_READ(i, i_uid.val));
	O(BPF_CORE_READ(i, i_gid.val));
	O(BPF_CORE_READ(i, i_flags));
	O(BPF_CORE_READ(i, i_ino));
	O(BPF_CORE_READ(i, i_size));
	O(BPF_CORE_READ(i, i_nlink));
	O(BPF_CORE_READ(i, i_blocks));
	O(BPF_CORE_READ(i, i_rdev));
	O(BPF_CORE_READ(i, i_generation));
	O(BPF_CORE_READ(i, i_blkbits));
	O(BPF_CORE_READ(i, i_sb, s_dev));
	O(BPF_CORE_READ(i, i_sb, s_blocksize));
	O(BPF_CORE_READ(i, i_sb, s_magic));
	O(BPF_CORE_READ(i, i_sb, s_flags));
	O(BPF_CORE_READ(i, i_sb, s_maxbytes));
	O(BPF_CORE_READ(i, i_sb, s_root, d_name.len));
}

static __always_inline void read_file(struct file *f)
{
	const unsigned char *dname;
	char name[32];

	O(BPF_CORE_READ(f, f_flags));
	O(BPF_CORE_READ(f, f_mode));
	O(BPF_CORE_READ(f, f_pos));
	O(BPF_CORE_READ(f, f_path.dentry, d_flags));
	O(BPF_CORE_READ(f, f_path.dentry, d_name.hash));
	O(BPF_CORE_READ(f, f_path.dentry, d_name.len));
	O(BPF_CORE_READ(f, f_path.dentry, d_name.hash_len));
	O(BPF_CORE_READ(f, f_path.dentry, d_parent, d_name.len));
	O(BPF_CORE_READ(f, f_path.dentry, d_parent, d_parent, d_name.len));
	O(BPF_CORE_READ(f, f_path.dentry, d_inode, i_ino));
	O(BPF_CORE_READ(f, f_path.dentry, d_sb, s_magic));
	O(BPF_CORE_READ(f, f_path.mnt));
	O(BPF_CORE_READ(f, f_cred, uid.val));
	O(BPF_CORE_READ(f, f_cred, euid.val));
	dname = BPF_CORE_READ(f, f_path.dentry, d_name.name);
	bpf_core_read_str(name, sizeof(name), dname);
	O(name[0]);
	bpf_core_read(name, sizeof(name), &f->f_inode->i_sb->s_id);
	O(name[1]);
	read_inode(BPF_CORE_READ(f, f_inode));
}

PROG(trace_task)
{
	struct task_struct *t = (void *)ctx->args[0];

	O(BPF_CORE_READ(t, __state));
	O(BPF_CORE_READ(t, flags));
	O(BPF_CORE_READ(t, ptrace));
	O(BPF_CORE_READ(t, on_cpu));
	O(BPF_CORE_READ(t, prio));
	O(BPF_CORE_READ(t, static_prio));
	O(BPF_CORE_READ(t, normal_prio));
	O(BPF_CORE_READ(t, rt_priority));
	O(BPF_CORE_READ(t, policy));
	O(BPF_CORE_READ(t, nr_cpus_allowed));
	O(BPF_CORE_READ(t, exit_state));
	O(BPF_CORE_READ(t, exit_code));
	O(BPF_CORE_READ(t, exit_signal));
	O(BPF_CORE_READ(t, pdeath_signal));
	O(BPF_CORE_READ(t, personality));
	O(BPF_CORE_READ_BITFIELD_PROBED(t, sched_reset_on_fork));
	O(BPF_CORE_READ_BITFIELD_PROBED(t, in_execve));
	O(BPF_CORE_READ(t, pid));
	O(BPF_CORE_READ(t, tgid));
	O(BPF_CORE_READ(t, real_parent, pid));
	O(BPF_CORE_READ(t, real_parent, tgid));
	O(BPF_CORE_READ(t, real_parent, real_parent, pid));
	O(BPF_CORE_READ(t, parent, pid));
	O(BPF_CORE_READ(t, group_leader, pid));
	O(BPF_CORE_READ(t, group_leader, start_time));
	O(BPF_CORE_READ(t, utime));
	O(BPF_CORE_READ(t, stime));
	O(BPF_CORE_READ(t, start_time));
	O(BPF_CORE_READ(t, nvcsw));
	O(BPF_CORE_READ(t, nivcsw));
	O(BPF_CORE_READ(t, min_flt));
	O(BPF_CORE_READ(t, maj_flt));
	O((long)BPF_CORE_READ(t, stack));
	O(BPF_CORE_READ(t, thread_pid, level));
	O(BPF_CORE_READ(t, thread_pid, numbers[0].nr));
	O(bpf_core_field_exists(t->__state));
	if (bpf_core_field_exists(struct task_struct___pre514, state))
		O(BPF_CORE_READ((struct task_struct___pre514 *)t, state));
	O(bpf_core_field_size(t->comm));
	O(bpf_core_type_size(struct task_struct));
	O(bpf_core_type_exists(struct task_struct));
	O(bpf_core_type_id_kernel(struct task_struct));
	O(bpf_core_enum_value(enum pid_type, PIDTYPE_TGID));
	O(bpf_core_enum_value_exists(enum pid_type, PIDTYPE_SID));
	O(bpf_core_enum_value(enum pid_type, PIDTYPE_MAX));
	O(bpf_core_enum_value_exists(enum bpf_map_type___local, BPF_MAP_TYPE_RINGBUF___l));
	O(bpf_core_enum_value(enum bpf_map_type___local, BPF_MAP_TYPE_RINGBUF___l));
	O(bpf_core_enum_value_exists(enum bpf_map_type___local, BPF_MAP_TYPE_NOT_A_TYPE___l));
	/* Direct loads: the loads themselves are relocated. */
	O(t->pid);
	O(t->tgid);
	O(t->flags);
	O(t->prio);
	O(t->utime);
	O(t->comm[1]);
	return 0;
}

PROG(trace_mm)
{
	struct task_struct *t = (void *)ctx->args[0];
	struct mm_struct *mm = BPF_CORE_READ(t, mm);

	O(BPF_CORE_READ(mm, total_vm));
	O(BPF_CORE_READ(mm, locked_vm));
	O(BPF_CORE_READ(mm, data_vm));
	O(BPF_CORE_READ(mm, exec_vm));
	O(BPF_CORE_READ(mm, stack_vm));
	O(BPF_CORE_READ(mm, start_code));
	O(BPF_CORE_READ(mm, end_code));
	O(BPF_CORE_READ(mm, start_data));
	O(BPF_CORE_READ(mm, end_data));
	O(BPF_CORE_READ(mm, start_brk));
	O(BPF_CORE_READ(mm, brk));
	O(BPF_CORE_READ(mm, start_stack));
	O(BPF_CORE_READ(mm, arg_start));
	O(BPF_CORE_READ(mm, arg_end));
	O(BPF_CORE_READ(mm, env_start));
	O(BPF_CORE_READ(mm, env_end));
	O(BPF_CORE_READ(mm, map_count));
	O(BPF_CORE_READ(mm, owner, pid));
	O(BPF_CORE_READ(t, active_mm, total_vm));
	O(BPF_CORE_READ(t, mm, exe_file, f_flags));
	O(BPF_CORE_READ(t, mm, exe_file, f_path.dentry, d_name.len));
	read_file(BPF_CORE_READ(t, mm, exe_file));
	O(mm->total_vm);
	O(mm->map_count);
	O(mm->start_stack);
	return 0;
}

PROG(trace_cred)
{
	struct task_struct *t = (void *)ctx->args[0];

	read_cred(BPF_CORE_READ(t, cred));
	read_cred(BPF_CORE_READ(t, real_cred));
	read_cred(BPF_CORE_READ(t, real_parent, cred));
	O(BPF_CORE_READ(t, signal, nr_threads));
	O(BPF_CORE_READ(t, signal, group_exit_code));
	O(BPF_CORE_READ(t, signal, flags));
	O(BPF_CORE_READ(t, signal, leader));
	O(BPF_CORE_READ(t, signal, utime));
	O(BPF_CORE_READ(t, signal, stime));
	O(BPF_CORE_READ(t, signal, cutime));
	O(BPF_CORE_READ(t, signal, cstime));
	O(BPF_CORE_READ(t, signal, nvcsw));
	O(BPF_CORE_READ(t, signal, nivcsw));
	O(BPF_CORE_READ(t, signal, min_flt));
	O(BPF_CORE_READ(t, signal, maj_flt));
	O(BPF_CORE_READ(t, signal, maxrss));
	O(BPF_CORE_READ(t, signal, oom_score_adj));
	return 0;
}

PROG(trace_files)
{
	struct task_struct *t = (void *)ctx->args[0];
	struct files_struct *files = BPF_CORE_READ(t, files);
	struct file *f;

	O(BPF_CORE_READ(files, next_fd));
	O(BPF_CORE_READ(files, fdt, max_fds));
	f = BPF_CORE_READ(files, fd_array[3]);
	read_file(f);
	f = BPF_CORE_READ(files, fd_array[0]);
	O(BPF_CORE_READ(f, f_inode, i_ino));
	O(bpf_core_field_size(files->fd_array));
	O(bpf_core_field_offset(files->fd_array[63]));
	return 0;
}

PROG(trace_skb)
{
	struct sk_buff *skb = (void *)ctx->args[0];

	O(BPF_CORE_READ(skb, len));
	O(BPF_CORE_READ(skb, data_len));
	O(BPF_CORE_READ(skb, mac_len));
	O(BPF_CORE_READ(skb, hdr_len));
	O(BPF_CORE_READ(skb, protocol));
	O(BPF_CORE_READ(skb, mark));
	O(BPF_CORE_READ(skb, priority));
	O(BPF_CORE_READ(skb, hash));
	O(BPF_CORE_READ(skb, queue_mapping));
	O((long)BPF_CORE_READ(skb, head));
	O((long)BPF_CORE_READ(skb, data));
	O(BPF_CORE_READ(skb, tail));
	O(BPF_CORE_READ(skb, end));
	O(BPF_CORE_READ(skb, tstamp));
	O(BPF_CORE_READ(skb, transport_header));
	O(BPF_CORE_READ(skb, network_header));
	O(BPF_CORE_READ(skb, mac_header));
	O(BPF_CORE_READ(skb, vlan_tci));
	O(BPF_CORE_READ(skb, skb_iif));
	O(BPF_CORE_READ_BITFIELD_PROBED(skb, pkt_type));
	O(BPF_CORE_READ_BITFIELD_PROBED(skb, cloned));
	O(BPF_CORE_READ_BITFIELD_PROBED(skb, ip_summed));
	O(BPF_CORE_READ(skb, dev, ifindex));
	O(BPF_CORE_READ(skb, dev, mtu));
	O(BPF_CORE_READ(skb, dev, flags));
	O(BPF_CORE_READ(skb, dev, type));
	O(BPF_CORE_READ(skb, dev, min_mtu));
	O(BPF_CORE_READ(skb, dev, max_mtu));
	O(BPF_CORE_READ(skb, dev, addr_len));
	O(BPF_CORE_READ(skb, dev, hard_header_len));
	O(bpf_core_field_exists(skb->hash));
	if (bpf_core_field_exists(struct sk_buff___old, rxhash))
		O(BPF_CORE_READ((struct sk_buff___old *)skb, rxhash));
	O(skb->len);
	O(skb->mark);
	O(skb->protocol);
	O(skb->queue_mapping);
	O(skb->tail);
	return 0;
}

PROG(trace_sock)
{
	struct sock *sk = (void *)ctx->args[0];
	struct sk_buff *skb = (void *)ctx->args[1];

	O(BPF_CORE_READ(sk, __sk_common.skc_family));
	O(BPF_CORE_READ(sk, __sk_common.skc_num));
	O(BPF_CORE_READ(sk, __sk_common.skc_dport));
	O(BPF_CORE_READ(sk, __sk_common.skc_daddr));
	O(BPF_CORE_READ(sk, __sk_common.skc_rcv_saddr));
	O(BPF_CORE_READ(sk, __sk_common.skc_state));
	O(BPF_CORE_READ(sk, __sk_common.skc_bound_dev_if));
	O(BPF_CORE_READ_BITFIELD_PROBED(&sk->__sk_common, skc_reuse));
	O(BPF_CORE_READ(sk, sk_rcvbuf));
	O(BPF_CORE_READ(sk, sk_sndbuf));
	O(BPF_CORE_READ(sk, sk_priority));
	O(BPF_CORE_READ(sk, sk_mark));
	O(BPF_CORE_READ(sk, sk_protocol));
	O(BPF_CORE_READ(sk, sk_type));
	O(BPF_CORE_READ(sk, sk_wmem_queued));
	O(BPF_CORE_READ(sk, sk_ack_backlog));
	O(BPF_CORE_READ(sk, sk_max_ack_backlog));
	O(BPF_CORE_READ(sk, sk_err));
	O(BPF_CORE_READ(sk, sk_uid.val));
	O(BPF_CORE_READ(sk, sk_shutdown));
	O(BPF_CORE_READ(sk, sk_socket, type));
	O(BPF_CORE_READ(sk, sk_socket, flags));
	O(BPF_CORE_READ(sk, sk_socket, file, f_flags));
	O(BPF_CORE_READ(sk, sk_socket, file, f_inode, i_ino));
	O(BPF_CORE_READ(sk, sk_socket, sk, sk_mark));
	O(BPF_CORE_READ(skb, sk, __sk_common.skc_family));
	O(BPF_CORE_READ(skb, sk, sk_protocol));
	O(BPF_CORE_READ(skb, sk, sk_socket, file, f_path.dentry, d_name.len));
	O(sk->__sk_common.skc_family);
	O(sk->__sk_common.skc_dport);
	O(sk->sk_protocol);
	O(sk->sk_mark);
	O(bpf_core_type_size(struct sock));
	O(bpf_core_type_matches(kuid_t));
	return 0;
}

// SPDX-License-Identifier: GPL-2.0
/* kconfig: .kconfig externs of every type libbpf accepts, and nothing else
 * that needs the kernel, so libbpf relocates the object without one.
 *
 * Exercises: bool (CONFIG_BPF_SYSCALL), enum libbpf_tristate (CONFIG_IPV6),
 * char taking a tristate letter (CONFIG_BPF_JIT), integers of 1, 2, 4 and 8
 * bytes, signed and unsigned (CONFIG_HZ, CONFIG_NR_CPUS, CONFIG_LOG_BUF_SHIFT,
 * CONFIG_DEFAULT_MMAP_MIN_ADDR, CONFIG_PANIC_TIMEOUT), char arrays taking
 * strings, one shorter than the value (truncated) (CONFIG_LOCALVERSION,
 * CONFIG_DEFAULT_HOSTNAME), libbpf's virtual LINUX_KERNEL_VERSION and
 * LINUX_HAS_BPF_COOKIE, and __weak externs the config lacks, which stay zero.
 * The layout libbpf gives them (alignment descending, size ascending, name)
 * differs from declaration order on purpose.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

/* enum libbpf_tristate comes from bpf_helpers.h. */
extern _Bool CONFIG_BPF_SYSCALL __kconfig;
extern enum libbpf_tristate CONFIG_IPV6 __kconfig;
extern char CONFIG_BPF_JIT __kconfig;
extern int CONFIG_HZ __kconfig;
extern unsigned long long CONFIG_NR_CPUS __kconfig;
extern unsigned short CONFIG_LOG_BUF_SHIFT __kconfig;
extern long long CONFIG_DEFAULT_MMAP_MIN_ADDR __kconfig;
extern signed char CONFIG_PANIC_TIMEOUT __kconfig;
extern char CONFIG_LOCALVERSION[4] __kconfig;
extern char CONFIG_DEFAULT_HOSTNAME[16] __kconfig;
extern int LINUX_KERNEL_VERSION __kconfig;
extern _Bool LINUX_HAS_BPF_COOKIE __kconfig;
extern _Bool CONFIG_BPFKIT_NOT_A_REAL_OPTION __kconfig __weak;
extern int LINUX_BPFKIT_NOT_VIRTUAL __kconfig __weak;

__u64 sum;

SEC("socket")
int kconfig_sum(struct __sk_buff *skb)
{
	__u64 s = CONFIG_BPF_SYSCALL + CONFIG_IPV6 + CONFIG_BPF_JIT + CONFIG_HZ;

	s += CONFIG_NR_CPUS + CONFIG_LOG_BUF_SHIFT + CONFIG_DEFAULT_MMAP_MIN_ADDR;
	s += CONFIG_PANIC_TIMEOUT + CONFIG_LOCALVERSION[0] + CONFIG_DEFAULT_HOSTNAME[1];
	s += LINUX_KERNEL_VERSION + LINUX_HAS_BPF_COOKIE;
	s += CONFIG_BPFKIT_NOT_A_REAL_OPTION + LINUX_BPFKIT_NOT_VIRTUAL;
	sum = s;
	return 0;
}

char LICENSE[] SEC("license") = "GPL";

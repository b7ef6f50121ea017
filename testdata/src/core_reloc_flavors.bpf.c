// SPDX-License-Identifier: GPL-2.0
/* core_reloc_flavors: one target type read through two local flavors.
 *
 * core_flavors___reversed and core_flavors___weird are both candidates-to-be
 * of any target type whose essential name is core_flavors; the fields are
 * matched by name, whatever their order or nesting in each flavor.
 */
#include "core_reloc.h"

char LICENSE[] SEC("license") = "GPL";

struct core_flavors___reversed {
	int c;
	int b;
	int a;
} __pai;

struct core_flavors___weird {
	struct {
		int b;
	};
	/* a and c share a union here: offsets mean nothing, names do. */
	union {
		int a;
		int c;
	};
} __pai;

PROG(flavors)
{
	struct core_flavors___reversed *rev = INPUT(struct core_flavors___reversed);
	struct core_flavors___weird *weird = INPUT(struct core_flavors___weird);

	OUT(0, weird->a);
	OUT(1, rev->b);
	OUT(2, rev->c);
	OUT(3, BPF_CORE_READ(weird, b));
	OUT(4, bpf_core_field_exists(rev->a));
	return 0;
}

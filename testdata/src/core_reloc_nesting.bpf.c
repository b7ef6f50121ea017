// SPDX-License-Identifier: GPL-2.0
/* core_reloc_nesting: fields behind named and anonymous structs and unions.
 *
 * The access paths go through members whose container changes between
 * targets (struct/union swapped, an extra anonymous level, a field moved
 * into an anonymous member); matching follows names, looking through
 * anonymous members.
 */
#include "core_reloc.h"

char LICENSE[] SEC("license") = "GPL";

struct core_nesting_substruct {
	int a;
};

union core_nesting_subunion {
	int b;
};

struct core_nesting {
	union {
		struct core_nesting_substruct a;
	} a;
	struct {
		union core_nesting_subunion b;
	} b;
	int c;
} __pai;

PROG(nesting)
{
	struct core_nesting *in = INPUT(struct core_nesting);

	OUT(0, in->a.a.a);
	OUT(1, in->b.b.b);
	OUT(2, BPF_CORE_READ(in, a.a.a));
	OUT(3, bpf_core_field_exists(in->b.b));
	OUT(4, bpf_core_field_size(in->a));
	OUT(5, bpf_core_field_offset(in->c));
	return 0;
}

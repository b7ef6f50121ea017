// SPDX-License-Identifier: GPL-2.0
/* core_reloc_ptr_as_arr: a pointer indexed as an array: the first index of
 * the access string (2 in "2:0") scales with the target type's size.
 */
#include "core_reloc.h"

char LICENSE[] SEC("license") = "GPL";

struct core_ptr_as_arr {
	int a;
} __pai;

PROG(ptr_as_arr)
{
	struct core_ptr_as_arr *in = INPUT(struct core_ptr_as_arr);

	OUT(0, in[1].a);
	OUT(1, BPF_CORE_READ(&in[2], a));
	OUT(2, bpf_core_field_offset(in[3].a));
	return 0;
}

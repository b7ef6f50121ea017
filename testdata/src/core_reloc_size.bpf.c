// SPDX-License-Identifier: GPL-2.0
/* core_reloc_size: field sizes (bpf_core_field_size) and offsets of fields of
 * every kind, whose sizes change in the targets.
 */
#include "core_reloc.h"

char LICENSE[] SEC("license") = "GPL";

struct core_size {
	int int_field;
	struct {
		int x;
	} struct_field;
	union {
		int x;
	} union_field;
	int arr_field[4];
	void *ptr_field;
	enum {
		SIZE_VALUE = 123,
	} enum_field;
	float float_field;
} __pai;

PROG(size)
{
	struct core_size *in = INPUT(struct core_size);

	OUT(0, bpf_core_field_size(in->int_field));
	OUT(1, bpf_core_field_size(in->struct_field));
	OUT(2, bpf_core_field_size(in->union_field));
	OUT(3, bpf_core_field_size(in->arr_field));
	OUT(4, bpf_core_field_size(in->arr_field[0]));
	OUT(5, bpf_core_field_size(in->ptr_field));
	OUT(6, bpf_core_field_size(in->enum_field));
	OUT(7, bpf_core_field_size(in->float_field));
	OUT(8, bpf_core_field_offset(in->float_field));
	OUT(9, bpf_core_type_size(struct core_size));
	return 0;
}

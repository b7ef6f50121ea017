// SPDX-License-Identifier: GPL-2.0
/* core_reloc_arrays: array elements in access paths.
 *
 * One- and multi-dimensional arrays, arrays of structs, a flexible array
 * member, and element accesses whose element size changes in the target.
 */
#include "core_reloc.h"

char LICENSE[] SEC("license") = "GPL";

struct core_arrays_substruct {
	int c;
	int d;
};

struct core_arrays {
	int a[5];
	char b[2][3][4];
	struct core_arrays_substruct c[3];
	struct core_arrays_substruct d[1][2];
	struct core_arrays_substruct f[];
} __pai;

PROG(arrays)
{
	struct core_arrays *in = INPUT(struct core_arrays);

	OUT(0, in->a[2]);
	OUT(1, in->b[1][2][3]);
	OUT(2, in->c[1].c);
	OUT(3, in->d[0][0].d);
	OUT(4, in->f[1].c);
	OUT(5, BPF_CORE_READ(in, c[2].d));
	OUT(6, bpf_core_field_exists(in->a[4]));
	OUT(7, bpf_core_field_size(in->c[1]));
	OUT(8, bpf_core_field_offset(in->b[1][1]));
	return 0;
}

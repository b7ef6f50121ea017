// SPDX-License-Identifier: GPL-2.0
/* core_reloc_existence: field existence checks (0 when the field is missing
 * or of an incompatible type, never poisoned), and reads guarded by them
 * (poisoned when the field is missing).
 */
#include "core_reloc.h"

char LICENSE[] SEC("license") = "GPL";

struct core_existence {
	int a;
	struct {
		int x;
	} b;
	int c;
	int arr[1];
	int d;
	enum {
		EXIST_A,
	} e;
} __pai;

PROG(existence)
{
	struct core_existence *in = INPUT(struct core_existence);

	OUT(0, bpf_core_field_exists(in->a));
	OUT(1, bpf_core_field_exists(in->b));
	OUT(2, bpf_core_field_exists(in->c));
	OUT(3, bpf_core_field_exists(in->arr));
	OUT(4, bpf_core_field_exists(in->d));
	OUT(5, bpf_core_field_exists(in->e));
	OUT(6, bpf_core_field_exists(in->arr[0]));
	if (bpf_core_field_exists(in->a))
		OUT(7, in->a);
	if (bpf_core_field_exists(in->b))
		OUT(8, in->b.x);
	if (bpf_core_field_exists(in->c))
		OUT(9, BPF_CORE_READ(in, c));
	if (bpf_core_field_exists(in->arr))
		OUT(10, in->arr[0]);
	return 0;
}

// SPDX-License-Identifier: GPL-2.0
/* core_reloc_type_id: bpf_core_type_id_local (the object's own id, never
 * checked: linking may renumber) and bpf_core_type_id_kernel (the target's id,
 * 0 when missing) for types of several kinds.
 */
#include "core_reloc.h"

char LICENSE[] SEC("license") = "GPL";

struct a_struct {
	int x;
};

union a_union {
	int y;
};

enum an_enum {
	AN_ENUM_VAL1 = 1,
};

typedef struct a_struct named_struct_typedef;
typedef int (*func_proto_typedef)(long);
typedef char arr_typedef[20];
typedef int int_typedef;

PROG(type_id)
{
	struct a_struct s;

	OUT(0, bpf_core_type_id_local(struct a_struct));
	OUT(1, bpf_core_type_id_local(union a_union));
	OUT(2, bpf_core_type_id_local(enum an_enum));
	OUT(3, bpf_core_type_id_local(named_struct_typedef));
	OUT(4, bpf_core_type_id_local(func_proto_typedef));
	OUT(5, bpf_core_type_id_local(arr_typedef));
	OUT(6, bpf_core_type_id_local(int));
	OUT(7, bpf_core_type_id_local(s));

	OUT(10, bpf_core_type_id_kernel(struct a_struct));
	OUT(11, bpf_core_type_id_kernel(union a_union));
	OUT(12, bpf_core_type_id_kernel(enum an_enum));
	OUT(13, bpf_core_type_id_kernel(named_struct_typedef));
	OUT(14, bpf_core_type_id_kernel(func_proto_typedef));
	OUT(15, bpf_core_type_id_kernel(arr_typedef));
	OUT(16, bpf_core_type_id_kernel(int_typedef));
	return 0;
}

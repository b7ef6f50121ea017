// SPDX-License-Identifier: GPL-2.0
/* core_reloc_enumval: bpf_core_enum_value_exists (0 when missing) and
 * bpf_core_enum_value (poisoned when missing) for named enums and typedef'd
 * anonymous ones, enumerators matched by essential name.
 */
#include "core_reloc.h"

char LICENSE[] SEC("license") = "GPL";

enum named_enum {
	NAMED_ENUM_VAL1 = 1,
	NAMED_ENUM_VAL2 = 2,
	NAMED_ENUM_VAL3 = 3,
};

typedef enum {
	ANON_ENUM_VAL1 = 0x10,
	ANON_ENUM_VAL2 = 0x20,
	ANON_ENUM_VAL3 = 0x30,
} anon_enum;

enum signed_enum {
	SIGNED_ENUM_VAL1 = -1,
	SIGNED_ENUM_VAL2 = 2,
};

PROG(enumval)
{
	OUT(0, bpf_core_enum_value_exists(enum named_enum, NAMED_ENUM_VAL1));
	OUT(1, bpf_core_enum_value_exists(enum named_enum, NAMED_ENUM_VAL2));
	OUT(2, bpf_core_enum_value_exists(enum named_enum, NAMED_ENUM_VAL3));
	OUT(3, bpf_core_enum_value_exists(anon_enum, ANON_ENUM_VAL1));
	OUT(4, bpf_core_enum_value_exists(anon_enum, ANON_ENUM_VAL3));
	OUT(5, bpf_core_enum_value(enum named_enum, NAMED_ENUM_VAL1));
	OUT(6, bpf_core_enum_value(enum named_enum, NAMED_ENUM_VAL2));
	OUT(7, bpf_core_enum_value(enum named_enum, NAMED_ENUM_VAL3));
	OUT(8, bpf_core_enum_value(anon_enum, ANON_ENUM_VAL1));
	OUT(9, bpf_core_enum_value(anon_enum, ANON_ENUM_VAL2));
	OUT(10, bpf_core_enum_value(enum signed_enum, SIGNED_ENUM_VAL1));
	OUT(11, bpf_core_enum_value(enum signed_enum, SIGNED_ENUM_VAL2));
	return 0;
}

// SPDX-License-Identifier: GPL-2.0
/* core_reloc_enum64val: 64-bit enumerator values (ENUM64), unsigned and
 * signed, and an ENUM64 local matched against a 32-bit ENUM target; the values
 * travel in 64-bit immediate loads.
 */
#include "core_reloc.h"

char LICENSE[] SEC("license") = "GPL";

enum named_unsigned_enum64 {
	UNSIGNED_ENUM64_VAL1 = 0x1ffffffffULL,
	UNSIGNED_ENUM64_VAL2 = 0x2ULL,
	UNSIGNED_ENUM64_VAL3 = 0x3ffffffffULL,
};

enum named_signed_enum64 {
	SIGNED_ENUM64_VAL1 = 0x1ffffffffLL,
	SIGNED_ENUM64_VAL2 = -2,
	SIGNED_ENUM64_VAL3 = 0x3ffffffffLL,
};

enum named_unsigned_enum {
	UNSIGNED_ENUM_VAL1 = 0xff000000U,
	UNSIGNED_ENUM_VAL2 = 0x2U,
};

PROG(enum64val)
{
	OUT(0, bpf_core_enum_value_exists(enum named_unsigned_enum64, UNSIGNED_ENUM64_VAL1));
	OUT(1, bpf_core_enum_value_exists(enum named_unsigned_enum64, UNSIGNED_ENUM64_VAL3));
	OUT(2, bpf_core_enum_value_exists(enum named_signed_enum64, SIGNED_ENUM64_VAL1));
	OUT(3, bpf_core_enum_value_exists(enum named_signed_enum64, SIGNED_ENUM64_VAL3));
	OUT(4, bpf_core_enum_value(enum named_unsigned_enum64, UNSIGNED_ENUM64_VAL1));
	OUT(5, bpf_core_enum_value(enum named_unsigned_enum64, UNSIGNED_ENUM64_VAL2));
	OUT(6, bpf_core_enum_value(enum named_signed_enum64, SIGNED_ENUM64_VAL1));
	OUT(7, bpf_core_enum_value(enum named_signed_enum64, SIGNED_ENUM64_VAL2));
	OUT(8, bpf_core_enum_value(enum named_unsigned_enum, UNSIGNED_ENUM_VAL1));
	OUT(9, bpf_core_enum_value(enum named_unsigned_enum, UNSIGNED_ENUM_VAL2));
	return 0;
}

// SPDX-License-Identifier: GPL-2.0
/* core_reloc_type_based: bpf_core_type_exists, bpf_core_type_matches and
 * bpf_core_type_size over structs, unions, enums, enum64s, typedefs of ints,
 * enums, function pointers and arrays; compatibility is loose for "exists"
 * and "size", strict for "matches".
 */
#include "core_reloc.h"

char LICENSE[] SEC("license") = "GPL";

struct a_struct {
	int x;
};

struct a_complex_struct {
	union {
		struct a_struct *a;
		void *b;
	} x;
	volatile long y;
};

union a_union {
	int y;
	int z;
};

typedef struct a_struct named_struct_typedef;

typedef struct {
	int x, y, z;
} anon_struct_typedef;

typedef struct {
	int a, b, c;
} *struct_ptr_typedef;

enum an_enum {
	AN_ENUM_VAL1 = 1,
	AN_ENUM_VAL2 = 2,
	AN_ENUM_VAL3 = 3,
};

enum an_enum64 {
	AN_ENUM64_VAL1 = 0x1ffffffffULL,
	AN_ENUM64_VAL2 = 0x2ffffffffULL,
};

typedef int int_typedef;

typedef enum {
	TYPEDEF_ENUM_VAL1,
	TYPEDEF_ENUM_VAL2,
} enum_typedef;

typedef void *void_ptr_typedef;
typedef int *restrict restrict_ptr_typedef;

typedef int (*func_proto_typedef)(long);

typedef char arr_typedef[20];

PROG(type_based)
{
	OUT(0, bpf_core_type_exists(struct a_struct));
	OUT(1, bpf_core_type_exists(struct a_complex_struct));
	OUT(2, bpf_core_type_exists(union a_union));
	OUT(3, bpf_core_type_exists(enum an_enum));
	OUT(4, bpf_core_type_exists(enum an_enum64));
	OUT(5, bpf_core_type_exists(named_struct_typedef));
	OUT(6, bpf_core_type_exists(anon_struct_typedef));
	OUT(7, bpf_core_type_exists(struct_ptr_typedef));
	OUT(8, bpf_core_type_exists(int_typedef));
	OUT(9, bpf_core_type_exists(enum_typedef));
	OUT(10, bpf_core_type_exists(void_ptr_typedef));
	OUT(11, bpf_core_type_exists(restrict_ptr_typedef));
	OUT(12, bpf_core_type_exists(func_proto_typedef));
	OUT(13, bpf_core_type_exists(arr_typedef));

	OUT(20, bpf_core_type_matches(struct a_struct));
	OUT(21, bpf_core_type_matches(struct a_complex_struct));
	OUT(22, bpf_core_type_matches(union a_union));
	OUT(23, bpf_core_type_matches(enum an_enum));
	OUT(24, bpf_core_type_matches(enum an_enum64));
	OUT(25, bpf_core_type_matches(named_struct_typedef));
	OUT(26, bpf_core_type_matches(anon_struct_typedef));
	OUT(27, bpf_core_type_matches(struct_ptr_typedef));
	OUT(28, bpf_core_type_matches(int_typedef));
	OUT(29, bpf_core_type_matches(enum_typedef));
	OUT(30, bpf_core_type_matches(void_ptr_typedef));
	OUT(31, bpf_core_type_matches(restrict_ptr_typedef));
	OUT(32, bpf_core_type_matches(func_proto_typedef));
	OUT(33, bpf_core_type_matches(arr_typedef));

	OUT(40, bpf_core_type_size(struct a_struct));
	OUT(41, bpf_core_type_size(union a_union));
	OUT(42, bpf_core_type_size(enum an_enum));
	OUT(43, bpf_core_type_size(enum an_enum64));
	OUT(44, bpf_core_type_size(anon_struct_typedef));
	OUT(45, bpf_core_type_size(struct_ptr_typedef));
	OUT(46, bpf_core_type_size(int_typedef));
	OUT(47, bpf_core_type_size(func_proto_typedef));
	OUT(48, bpf_core_type_size(arr_typedef));
	return 0;
}

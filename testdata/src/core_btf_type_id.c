// SPDX-License-Identifier: GPL-2.0
/* Target types for core_reloc_type_id (built once per variant by build.sh). */

#if defined(base)
/* Some unrelated types first, so that target ids differ from local ones. */
struct pad1 { int a; } p1;
struct pad2 { long b; } p2;
struct a_struct {
	int x;
} v1;
union a_union {
	int y;
	long z;
} v2;
enum an_enum {
	AN_ENUM_VAL1 = 1,
	AN_ENUM_VAL2 = 2,
} v3;
typedef struct a_struct named_struct_typedef;
named_struct_typedef v4;
typedef int (*func_proto_typedef)(long);
func_proto_typedef v5;
typedef char arr_typedef[20];
arr_typedef v6;
typedef int int_typedef;
int_typedef v7;
#elif defined(missing)
struct a_struct___other {
	char c;
} v1;
typedef long int_typedef;
int_typedef v7;
#else
#error "unknown variant"
#endif

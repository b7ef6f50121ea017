// SPDX-License-Identifier: GPL-2.0
/* Target types for core_reloc_type_based (built once per variant by build.sh). */

#if defined(base)
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
#elif defined(diff)
/* Same names, different shapes: they exist, most do not match. */
struct a_struct___diff {
	long x;
	long extra;
};
struct a_complex_struct {
	union {
		struct a_struct *a;
		const char *b;
	} x;
	long y;
	int z;
};
union a_union {
	int y;
};
typedef union a_union named_struct_typedef;
typedef struct {
	int x, y;
} anon_struct_typedef;
typedef struct {
	int a, b;
} *struct_ptr_typedef;
enum an_enum___diff {
	AN_ENUM_VAL1 = 10,
	AN_ENUM_VAL2 = 20,
	AN_ENUM_VAL3 = 30,
	AN_ENUM_VAL4 = 40,
};
enum an_enum64 {
	AN_ENUM64_VAL1 = 1,
};
typedef unsigned int int_typedef;
typedef enum {
	TYPEDEF_ENUM_VAL2,
	TYPEDEF_ENUM_VAL1,
} enum_typedef;
typedef const void *void_ptr_typedef;
typedef long *restrict_ptr_typedef;
typedef int (*func_proto_typedef)(int);
typedef int arr_typedef[10];
#elif defined(all_missing)
struct not_a_struct {
	int x;
};
#else
#error "unknown variant"
#endif

/* Make every type above appear in the BTF. */
#if defined(base)
struct a_struct v1;
#endif
#if defined(base) || defined(diff)
struct a_complex_struct v2;
union a_union v3;
named_struct_typedef v4;
anon_struct_typedef v5;
struct_ptr_typedef v6;
int_typedef v8;
enum_typedef v9;
void_ptr_typedef v10;
restrict_ptr_typedef v11;
func_proto_typedef v12;
arr_typedef v13;
#endif
#if defined(base)
enum an_enum v14;
enum an_enum64 v15;
#elif defined(diff)
struct a_struct___diff v16;
enum an_enum___diff v14;
enum an_enum64 v15;
#else
struct not_a_struct v1;
#endif

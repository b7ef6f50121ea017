// SPDX-License-Identifier: GPL-2.0
/* Target types for core_reloc_primitives (built once per variant by build.sh). */

#if defined(base)
enum core_primitives_enum {
	PRIM_A = 0,
	PRIM_B = 1,
};
struct core_primitives {
	char a;
	int b;
	enum core_primitives_enum c;
	void *d;
	int (*f)(const char *);
} v;
#elif defined(diff_enum_def)
/* Another enum definition (and flavor) of the same essential name, wider. */
enum core_primitives_enum___diff {
	PRIM_X = 100,
	PRIM_Y = 200,
	PRIM_BIG = 0x100000000ULL,
};
struct core_primitives___diff_enum_def {
	void *d;
	long b;
	enum core_primitives_enum___diff c;
	unsigned char a;
	int (*f)(int);
} v;
#elif defined(anon_enum)
/* An anonymous enum matches any enum. */
struct core_primitives___anon_enum {
	int b;
	char a;
	enum {
		ANON_X = 1,
	} c;
	char *f;
	void *d;
} v;
#elif defined(diff_ptr_type)
/* Pointers to anything are compatible; char became signed char. */
struct core_primitives___diff_ptr_type {
	const char *d;
	signed char a;
	short b;
	enum core_primitives_enum {
		PRIM_A = 0,
	} c;
	void (*f)(void);
} v;
#elif defined(err_non_enum)
/* c is an int: enums only match enums. */
struct core_primitives___err_non_enum {
	char a;
	int b;
	int c;
	void *d;
	int (*f)(const char *);
} v;
#elif defined(err_non_int)
/* b is a pointer, a is a struct. */
struct core_primitives___err_non_int {
	struct {
		char x;
	} a;
	int *b;
	enum core_primitives_enum {
		PRIM_A = 0,
	} c;
	void *d;
	int (*f)(const char *);
} v;
#elif defined(err_non_ptr)
/* d and f are integers. */
struct core_primitives___err_non_ptr {
	char a;
	int b;
	enum core_primitives_enum {
		PRIM_A = 0,
	} c;
	long d;
	long f;
} v;
#else
#error "unknown variant"
#endif

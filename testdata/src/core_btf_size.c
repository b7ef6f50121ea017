// SPDX-License-Identifier: GPL-2.0
/* Target types for core_reloc_size (built once per variant by build.sh). */

#if defined(base)
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
} v;
#elif defined(diff_sz)
struct core_size___diff_sz {
	long int_field;
	struct {
		int x;
		int y;
		int z;
	} struct_field;
	union {
		int x;
		char yy[64];
	} union_field;
	int arr_field[2];
	unsigned int ptr_field; /* not a pointer: size differs, no match */
	enum {
		SIZE_OTHER_VALUE = 0xFFFFFFFFFFFFFFFF,
	} enum_field;
	double float_field;
} v;
#elif defined(diff_offs)
struct core_size___diff_offs {
	float float_field;
	enum {
		SIZE_VALUE = 123,
	} enum_field;
	void *ptr_field;
	int arr_field[4];
	union {
		int x;
	} union_field;
	struct {
		int x;
	} struct_field;
	int int_field;
} v;
#elif defined(err_ambiguous)
/* Two candidates giving different sizes. */
struct core_size___err_ambiguous1 {
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
} v1;
struct core_size___err_ambiguous2 {
	unsigned int int_field;
	struct {
		int x;
	} struct_field;
	union {
		int x;
	} union_field;
	int arr_field[4];
	void *ptr_field;
	enum {
		SIZE_VALUE2 = 123,
	} enum_field;
	float float_field;
	long extra;
} v2;
#else
#error "unknown variant"
#endif

// SPDX-License-Identifier: GPL-2.0
/* Target types for core_reloc_mods (built once per variant by build.sh). */

#if defined(base)
struct core_mods {
	int a;
	int b;
	char *c;
	const char *d;
	int e[3];
	int f[7];
	struct {
		int x;
		int y;
	} g;
	struct {
		int x;
		int y;
	} h;
} v;
typedef struct core_mods core_mods_t;
core_mods_t v2;
#elif defined(mods_only)
/* Modifiers and typedefs everywhere, fields reordered. */
typedef const volatile int cv_int;
typedef cv_int *const volatile cv_int_ptr;
typedef volatile struct {
	const int x;
	volatile int y;
} cv_sub;
struct core_mods___mods_only {
	const volatile char *const d;
	volatile cv_int b;
	const int a;
	char *restrict c;
	const cv_int f[7];
	volatile int e[3];
	const cv_sub h;
	cv_sub g;
} v;
typedef const struct core_mods___mods_only core_mods_t;
core_mods_t v2;
#elif defined(typedefs)
typedef int int1_t;
typedef int1_t int2_t;
typedef char *char_ptr_t;
typedef int2_t arr_t[3];
typedef struct {
	int2_t x;
	int1_t y;
} sub_t;
struct core_mods___typedefs {
	int2_t a;
	int1_t b;
	char_ptr_t c;
	char_ptr_t d;
	arr_t e;
	int2_t f[8];
	sub_t g;
	sub_t h;
	long tail;
} v;
#else
#error "unknown variant"
#endif

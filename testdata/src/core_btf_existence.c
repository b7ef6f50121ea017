// SPDX-License-Identifier: GPL-2.0
/* Target types for core_reloc_existence (built once per variant by build.sh). */

#if defined(base)
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
} v;
#elif defined(minimal)
struct core_existence___minimal {
	int a;
} v;
#elif defined(wrong_field_defs)
/* Every field is there, of the wrong kind. */
struct core_existence___wrong_field_defs {
	void *a;
	int b[1];
	struct {
		int x;
	} c;
	int arr;
	char *d;
	int e;
} v;
#elif defined(none)
struct core_existence_is_not_here {
	int a;
} v;
#else
#error "unknown variant"
#endif

// SPDX-License-Identifier: GPL-2.0
/* Target types for core_reloc_misc (built once per variant by build.sh). */

#if defined(base)
struct core_misc_a {
	int a1;
	int a2;
} va;
struct core_misc_b {
	int b1;
	int b2;
} vb;
typedef struct {
	int x;
	int y;
} core_misc_anon_t;
core_misc_anon_t vt;
struct core_misc_extensible {
	int a;
	int b;
	int c;
	int d;
} ve;
#elif defined(moved)
struct core_misc_a___v2 {
	int pad;
	int a2;
	int a1;
} va;
struct core_misc_b {
	long b2;
	int b1;
} vb;
typedef struct {
	int y;
	long x;
} core_misc_anon_t;
core_misc_anon_t vt;
/* Grew: e[2] moves further. */
struct core_misc_extensible {
	int a;
	int b;
	int c;
	int d;
	int e;
	int f;
} ve;
#else
#error "unknown variant"
#endif

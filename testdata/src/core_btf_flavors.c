// SPDX-License-Identifier: GPL-2.0
/* Target types for core_reloc_flavors (built once per variant by build.sh). */

#if defined(base)
struct core_flavors {
	int a;
	int b;
	int c;
} core_flavors_v;
#elif defined(reversed)
struct core_flavors___reversed {
	int c;
	int b;
	int a;
} v;
#elif defined(renamed_fields)
/* b is missing: reading it poisons, its existence check gives 0. */
struct core_flavors___renamed {
	int a;
	int bb;
	int c;
} v;
#elif defined(two_agreeing)
/* Two candidates with the same layout: no ambiguity. */
struct core_flavors___one {
	int a;
	int b;
	int c;
} v1;
struct core_flavors___two {
	int a;
	int b;
	int c;
	int d;
} v2;
#elif defined(err_ambiguous)
/* Two candidates that disagree on a's offset. */
struct core_flavors___one {
	int a;
	int b;
	int c;
} v1;
struct core_flavors___two {
	int c;
	int b;
	int a;
} v2;
#elif defined(no_separator)
/* Four underscores are no flavor separator: no candidate at all. */
struct core_flavors____x {
	int a;
	int b;
	int c;
} v;
#else
#error "unknown variant"
#endif

// SPDX-License-Identifier: GPL-2.0
/* Target types for core_reloc_ptr_as_arr (built once per variant by build.sh). */

#if defined(base)
struct core_ptr_as_arr {
	int a;
} v;
#elif defined(diff_sz)
struct core_ptr_as_arr___diff_sz {
	int :32; /* padding */
	char __some_more_padding;
	int a;
} v;
#else
#error "unknown variant"
#endif

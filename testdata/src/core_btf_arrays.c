// SPDX-License-Identifier: GPL-2.0
/* Target types for core_reloc_arrays (built once per variant by build.sh). */

struct core_arrays_substruct {
	int c;
	int d;
};

#if defined(base)
struct core_arrays {
	int a[5];
	char b[2][3][4];
	struct core_arrays_substruct c[3];
	struct core_arrays_substruct d[1][2];
	struct core_arrays_substruct f[];
} v;
#elif defined(diff_arr_dim)
/* Bigger dimensions: elements move. */
struct core_arrays___diff_arr_dim {
	int a[7];
	char b[3][4][5];
	struct core_arrays_substruct c[4];
	struct core_arrays_substruct d[2][3];
	struct core_arrays_substruct f[1];
} v;
#elif defined(diff_arr_val_sz)
/* Bigger elements: every index scales differently. */
struct core_arrays_substruct_big {
	long __pad;
	int c;
	long d;
};
struct core_arrays___diff_arr_val_sz {
	long a[5];
	short b[2][3][4];
	struct core_arrays_substruct_big c[3];
	struct core_arrays_substruct_big d[1][2];
	struct core_arrays_substruct_big f[];
} v;
#elif defined(equiv_zero_sz_arr)
/* f as a zero-length array: still a flexible array. */
struct core_arrays___equiv_zero_sz_arr {
	int a[5];
	char b[2][3][4];
	struct core_arrays_substruct c[3];
	struct core_arrays_substruct d[1][2];
	struct core_arrays_substruct f[0];
} v;
#elif defined(fixed_tail_arr)
/* f with one element: f[1] is past its end. */
struct core_arrays___fixed_tail_arr {
	int a[5];
	char b[2][3][4];
	struct core_arrays_substruct c[3];
	struct core_arrays_substruct d[1][2];
	struct core_arrays_substruct f[1];
} v;
#elif defined(err_too_small)
/* a has 2 elements: a[2] and a[4] are past the end. */
struct core_arrays___err_too_small {
	int a[2];
	char b[2][3][4];
	struct core_arrays_substruct c[3];
	struct core_arrays_substruct d[1][2];
	struct core_arrays_substruct f[];
} v;
#elif defined(err_too_shallow)
/* b has one dimension less. */
struct core_arrays___err_too_shallow {
	int a[5];
	char b[2][12];
	struct core_arrays_substruct c[3];
	struct core_arrays_substruct d[2];
	struct core_arrays_substruct f[];
} v;
#elif defined(err_non_array)
struct core_arrays___err_non_array {
	int a;
	char b[2][3][4];
	struct core_arrays_substruct c;
	struct core_arrays_substruct d[1][2];
	struct core_arrays_substruct f[];
} v;
#elif defined(err_wrong_val_type)
/* Elements of another kind: int where a struct was, struct where an int was. */
struct core_arrays___err_wrong_val_type {
	struct core_arrays_substruct a[5];
	char b[2][3][4];
	int c[3];
	struct core_arrays_substruct d[1][2];
	struct core_arrays_substruct f[];
} v;
#elif defined(err_bad_zero_sz_arr)
/* f is zero-length but not last: not flexible, f[1] is out of bounds. */
struct core_arrays___err_bad_zero_sz_arr {
	int a[5];
	char b[2][3][4];
	struct core_arrays_substruct c[3];
	struct core_arrays_substruct d[1][2];
	struct core_arrays_substruct f[0];
	int end;
} v;
#else
#error "unknown variant"
#endif

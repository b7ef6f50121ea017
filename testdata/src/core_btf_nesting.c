// SPDX-License-Identifier: GPL-2.0
/* Target types for core_reloc_nesting (built once per variant by build.sh). */

#if defined(base)
struct core_nesting___base {
	union {
		struct {
			int a;
		} a;
	} a;
	struct {
		union {
			int b;
		} b;
	} b;
	int c;
} v;
#elif defined(anon_embed)
/* The containers are anonymous here and the fields moved. */
struct core_nesting___anon_embed {
	int __pad1[3];
	union {
		int __pad2;
		struct {
			struct {
				int __pad3;
				int a;
			} a;
		};
	} a;
	int __pad4;
	struct {
		union {
			int __pad5;
			int b;
		} b;
	} b;
	int c;
} v;
#elif defined(struct_union_mixup)
/* Structs became unions and the other way round: still compatible. */
struct core_nesting___struct_union_mixup {
	int __pad1;
	struct {
		int __pad2;
		union {
			int __pad3;
			int a;
		} a;
	} a;
	int __pad4;
	union {
		struct {
			int __pad5;
			int b;
		} b;
	} b;
	long c;
} v;
#elif defined(extra_nesting)
/* c moved into two levels of anonymous members. */
struct core_nesting___extra_nesting {
	struct {
		struct {
			int a;
		} a;
	} a;
	union {
		struct {
			struct {
				int __pad;
				int b;
			} b;
		};
	} b;
	struct {
		struct {
			int __pad2[2];
			int c;
		};
	};
} v;
#elif defined(err_missing_field)
struct core_nesting___err_missing_field {
	struct {
		struct {
			int x;
		} a;
	} a;
	struct {
		struct {
			int b;
		} b;
	} b;
	int c;
} v;
#elif defined(err_array_field)
/* a.a is an array: not compatible with a struct, so no match. */
struct core_nesting___err_array_field {
	struct {
		struct {
			int a;
		} a[1];
	} a;
	struct {
		struct {
			int b;
		} b;
	} b;
	int c;
} v;
#elif defined(err_nonstruct_container)
/* a is an int: nothing to find a member in. */
struct core_nesting___err_nonstruct_container {
	int a;
	struct {
		struct {
			int b;
		} b;
	} b;
	int c;
} v;
#elif defined(err_dup_incompat_types)
/* Two candidates, the fields at different offsets: ambiguity. */
struct core_nesting___dup1 {
	struct {
		struct {
			int a;
		} a;
	} a;
	struct {
		struct {
			int b;
		} b;
	} b;
	int c;
} v1;
struct core_nesting___dup2 {
	int __pad;
	struct {
		struct {
			int a;
		} a;
	} a;
	struct {
		struct {
			int b;
		} b;
	} b;
	int c;
} v2;
#elif defined(err_partial_match_dups)
/* Each candidate has only some of the fields: the first relocation prunes the
 * candidate list, the later ones see only what is left. */
struct core_nesting___first {
	struct {
		struct {
			int a;
		} a;
	} a;
	int c;
} v1;
struct core_nesting___second {
	struct {
		struct {
			int b;
		} b;
	} b;
	int c;
} v2;
#else
#error "unknown variant"
#endif

// SPDX-License-Identifier: GPL-2.0
/* core_reloc_misc: several relocations against one root (the candidate cache
 * is shared), a typedef'd anonymous struct as root, an extensible struct
 * indexed as an array, and two programs relocating the same types.
 */
#include "core_reloc.h"

char LICENSE[] SEC("license") = "GPL";

struct core_misc_a {
	int a1;
	int a2;
} __pai;

struct core_misc_b {
	int b1;
	int b2;
} __pai;

/* A typedef of an anonymous struct: relocated against the typedef's name. */
typedef struct {
	int x;
	int y;
} __pai core_misc_anon_t;

struct core_misc_extensible {
	int a;
	int b;
	int c;
	int d;
} __pai;

PROG(misc)
{
	struct core_misc_a *a = INPUT(struct core_misc_a);
	struct core_misc_b *b = INPUT(struct core_misc_b);
	core_misc_anon_t *t = INPUT(core_misc_anon_t);
	struct core_misc_extensible *e = INPUT(struct core_misc_extensible);

	OUT(0, a->a1);
	OUT(1, a->a2);
	OUT(2, b->b1);
	OUT(3, b->b2);
	OUT(4, t->y);
	OUT(5, e[2].c);
	OUT(6, BPF_CORE_READ(&e[1], d));
	OUT(7, bpf_core_type_exists(core_misc_anon_t));
	return 0;
}

PROG(misc_again)
{
	struct core_misc_a *a = INPUT(struct core_misc_a);
	struct core_misc_extensible *e = INPUT(struct core_misc_extensible);

	OUT(10, a->a2);
	OUT(11, e->b);
	return 0;
}

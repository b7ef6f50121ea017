// SPDX-License-Identifier: GPL-2.0
/* core_reloc_primitives: fields of each scalar kind (char, int, enum, data
 * and function pointers), matched by kind compatibility: any two pointers,
 * any two integers, enums by name.
 */
#include "core_reloc.h"

char LICENSE[] SEC("license") = "GPL";

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
} __pai;

PROG(primitives)
{
	struct core_primitives *in = INPUT(struct core_primitives);

	OUT(0, in->a);
	OUT(1, in->b);
	OUT(2, in->c);
	OUT(3, (long)in->d);
	OUT(4, (long)in->f);
	OUT(5, BPF_CORE_READ(in, c));
	OUT(6, FIELD_SIGNED(in->c));
	OUT(7, FIELD_SIGNED(in->b));
	return 0;
}

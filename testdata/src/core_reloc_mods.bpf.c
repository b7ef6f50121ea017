// SPDX-License-Identifier: GPL-2.0
/* core_reloc_mods: const, volatile, restrict and typedefs around fields and
 * their types, in the local type and in the target: all are looked through.
 */
#include "core_reloc.h"

char LICENSE[] SEC("license") = "GPL";

typedef const int int_t;
typedef const char *char_ptr_t;
typedef const int arr_t[7];

struct core_mods_substruct {
	int x;
	int y;
};

typedef struct {
	int x;
	int y;
} core_mods_substruct_t;

struct core_mods {
	int a;
	int_t b;
	char *c;
	char_ptr_t d;
	int e[3];
	arr_t f;
	struct core_mods_substruct g;
	core_mods_substruct_t h;
} __pai;

typedef struct core_mods core_mods_t;

PROG(mods)
{
	core_mods_t *in = INPUT(core_mods_t);

	OUT(0, in->a);
	OUT(1, in->b);
	OUT(2, (long)in->c);
	OUT(3, (long)in->d);
	OUT(4, in->e[2]);
	OUT(5, in->f[1]);
	OUT(6, in->g.x);
	OUT(7, in->h.y);
	OUT(8, bpf_core_type_size(core_mods_t));
	return 0;
}

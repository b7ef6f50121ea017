// SPDX-License-Identifier: GPL-2.0
/* core_reloc_ints: integers of every size and signedness read with direct
 * loads, so the load itself is relocated: its offset, and its size where the
 * target's field has another size and libbpf may adjust it (unsigned integers
 * and pointers; a signed field of another size poisons the load).
 */
#include "core_reloc.h"

char LICENSE[] SEC("license") = "GPL";

struct core_ints {
	__u8 u8_field;
	__s8 s8_field;
	__u16 u16_field;
	__s16 s16_field;
	__u32 u32_field;
	__s32 s32_field;
	__u64 u64_field;
	__s64 s64_field;
	void *ptr_field;
} __pai;

PROG(ints)
{
	struct core_ints *in = INPUT(struct core_ints);

	OUT(0, in->u8_field);
	OUT(1, in->s8_field);
	OUT(2, in->u16_field);
	OUT(3, in->s16_field);
	OUT(4, in->u32_field);
	OUT(5, in->s32_field);
	OUT(6, in->u64_field);
	OUT(7, in->s64_field);
	OUT(8, (long)in->ptr_field);
	OUT(9, FIELD_SIGNED(in->s16_field));
	OUT(10, FIELD_SIGNED(in->u32_field));
	OUT(11, bpf_core_field_size(in->u64_field));
	/* Stores are relocated like loads. */
	in->u32_field = 7;
	in->u8_field = (__u8)ctx->args[1];
	return 0;
}

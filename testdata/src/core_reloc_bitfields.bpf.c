// SPDX-License-Identifier: GPL-2.0
/* core_reloc_bitfields: bitfields read three ways: probed (byte offset and
 * size, left and right shift, signedness, then bpf_probe_read_kernel), direct
 * (BPF_CORE_READ_BITFIELD: a relocated load of the relocated size), and plain
 * C (clang's own load and shifts, the offset relocated). Offsets and shifts of
 * bitfields are not checked against the instruction (the compiler may choose
 * another load), signedness and right shifts are.
 */
#include "core_reloc.h"

char LICENSE[] SEC("license") = "GPL";

struct core_bitfields {
	/* unsigned bitfields */
	__u8 ub1: 1;
	__u8 ub2: 2;
	__u32 ub7: 7;
	/* signed bitfields */
	__s8 sb4: 4;
	__s32 sb20: 20;
	/* non-bitfields */
	__u32 u32;
	__s32 s32;
} __pai;

PROG(bitfields_probed)
{
	struct core_bitfields *in = INPUT(struct core_bitfields);

	OUT(0, BPF_CORE_READ_BITFIELD_PROBED(in, ub1));
	OUT(1, BPF_CORE_READ_BITFIELD_PROBED(in, ub2));
	OUT(2, BPF_CORE_READ_BITFIELD_PROBED(in, ub7));
	OUT(3, BPF_CORE_READ_BITFIELD_PROBED(in, sb4));
	OUT(4, BPF_CORE_READ_BITFIELD_PROBED(in, sb20));
	OUT(5, BPF_CORE_READ_BITFIELD_PROBED(in, u32));
	OUT(6, BPF_CORE_READ_BITFIELD_PROBED(in, s32));
	return 0;
}

PROG(bitfields_direct)
{
	struct core_bitfields *in = INPUT(struct core_bitfields);

	OUT(10, BPF_CORE_READ_BITFIELD(in, ub1));
	OUT(11, BPF_CORE_READ_BITFIELD(in, ub2));
	OUT(12, BPF_CORE_READ_BITFIELD(in, ub7));
	OUT(13, BPF_CORE_READ_BITFIELD(in, sb4));
	OUT(14, BPF_CORE_READ_BITFIELD(in, sb20));
	OUT(15, BPF_CORE_READ_BITFIELD(in, u32));
	OUT(16, BPF_CORE_READ_BITFIELD(in, s32));
	return 0;
}

PROG(bitfields_plain)
{
	struct core_bitfields *in = INPUT(struct core_bitfields);

	OUT(20, in->ub2);
	OUT(21, in->sb20);
	OUT(22, FIELD_LSHIFT(in->ub7));
	OUT(23, FIELD_RSHIFT(in->sb4));
	return 0;
}

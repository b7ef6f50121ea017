// SPDX-License-Identifier: GPL-2.0
/* Target types for core_reloc_bitfields (built once per variant by build.sh). */

typedef unsigned char u8;
typedef signed char s8;
typedef unsigned short u16;
typedef unsigned int u32;
typedef int s32;
typedef unsigned long long u64;
typedef long long s64;

#if defined(base)
struct core_bitfields {
	u8 ub1: 1;
	u8 ub2: 2;
	u32 ub7: 7;
	s8 sb4: 4;
	s32 sb20: 20;
	u32 u32;
	s32 s32;
} v;
#elif defined(arrays)
/* Other widths and positions, and the plain fields became bitfields. */
struct core_bitfields___bit_sz_change {
	u16 ub1: 3;
	u32 ub2: 20;
	u8 ub7: 1;
	s8 sb4: 1;
	s32 sb20: 30;
	u16 u32: 2;
	s32 s32: 29;
} v;
#elif defined(bitfield_vs_int)
/* Bitfields became plain integers and the other way round. */
struct core_bitfields___bitfield_vs_int {
	u64 ub1;
	u8 ub2;
	s64 ub7;
	s64 sb4;
	s32 sb20;
	u32 u32: 20;
	s32 s32: 10;
} v;
#elif defined(just_big_enough)
/* The fields end exactly at 8-byte boundaries. */
struct core_bitfields___just_big_enough {
	u64 ub1: 4;
	u64 ub2: 60;
	u64 ub7;
	u64 sb4: 32;
	u64 sb20: 30;
	u32 u32;
	s32 s32;
} __attribute__((packed)) v;
#elif defined(err_too_big_bitfield)
/* ub2 straddles an 8-byte boundary: no single load reads it. */
struct core_bitfields___err_too_big_bitfield {
	u64 ub1: 4;
	u64 ub2: 62;
	u64 ub7: 63;
	u64 sb4: 32;
	u64 sb20: 30;
	u32 u32;
	s32 s32;
} __attribute__((packed)) v;
#else
#error "unknown variant"
#endif

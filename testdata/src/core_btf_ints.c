// SPDX-License-Identifier: GPL-2.0
/* Target types for core_reloc_ints (built once per variant by build.sh). */

typedef unsigned char u8;
typedef signed char s8;
typedef unsigned short u16;
typedef short s16;
typedef unsigned int u32;
typedef int s32;
typedef unsigned long long u64;
typedef long long s64;

#if defined(base)
struct core_ints {
	u8 u8_field;
	s8 s8_field;
	u16 u16_field;
	s16 s16_field;
	u32 u32_field;
	s32 s32_field;
	u64 u64_field;
	s64 s64_field;
	void *ptr_field;
} v;
#elif defined(reverse_sign)
/* Signedness flipped, sizes kept. */
struct core_ints___reverse_sign {
	s8 u8_field;
	u8 s8_field;
	s16 u16_field;
	u16 s16_field;
	s32 u32_field;
	u32 s32_field;
	s64 u64_field;
	u64 s64_field;
	void *ptr_field;
} v;
#elif defined(wider)
/* Every field twice as wide: unsigned ones and the pointer can be read with a
 * wider load, signed ones cannot. */
struct core_ints___wider {
	u16 u8_field;
	s16 s8_field;
	u32 u16_field;
	s32 s16_field;
	u64 u32_field;
	s64 s32_field;
	u64 u64_field;
	s64 s64_field;
	void *ptr_field;
} v;
#elif defined(narrower)
/* Every field narrower (a 32-bit kernel's pointer, too). */
struct core_ints___narrower {
	u8 u8_field;
	s8 s8_field;
	u8 u16_field;
	s8 s16_field;
	u16 u32_field;
	s16 s32_field;
	u32 u64_field;
	s32 s64_field;
	u32 ptr_field;
} v;
#elif defined(err_bitfield)
/* The fields became bitfields: a plain load cannot read them. */
struct core_ints___err_bitfield {
	u8 u8_field: 7;
	s8 s8_field: 7;
	u16 u16_field: 15;
	s16 s16_field: 15;
	u32 u32_field: 31;
	s32 s32_field: 31;
	u64 u64_field: 63;
	s64 s64_field: 63;
	void *ptr_field;
} v;
#elif defined(far)
/* Fields far apart: an offset past 32767 cannot be patched into a load. */
struct core_ints___far {
	u8 u8_field;
	char __pad1[30000];
	s8 s8_field;
	u16 u16_field;
	s16 s16_field;
	char __pad2[3000];
	u32 u32_field;
	s32 s32_field;
	u64 u64_field;
	s64 s64_field;
	void *ptr_field;
} v;
#else
#error "unknown variant"
#endif

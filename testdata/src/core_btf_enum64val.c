// SPDX-License-Identifier: GPL-2.0
/* Target types for core_reloc_enum64val (built once per variant by build.sh). */

#if defined(base)
enum named_unsigned_enum64 {
	UNSIGNED_ENUM64_VAL1 = 0x1ffffffffULL,
	UNSIGNED_ENUM64_VAL2 = 0x2ULL,
	UNSIGNED_ENUM64_VAL3 = 0x3ffffffffULL,
} v1;
enum named_signed_enum64 {
	SIGNED_ENUM64_VAL1 = 0x1ffffffffLL,
	SIGNED_ENUM64_VAL2 = -2,
	SIGNED_ENUM64_VAL3 = 0x3ffffffffLL,
} v2;
enum named_unsigned_enum {
	UNSIGNED_ENUM_VAL1 = 0xff000000U,
	UNSIGNED_ENUM_VAL2 = 0x2U,
} v3;
#elif defined(diff)
enum named_unsigned_enum64___diff {
	UNSIGNED_ENUM64_VAL1 = 0x1ffffffffULL + 0x100,
	UNSIGNED_ENUM64_VAL2 = 0xffffffffffffffffULL,
	UNSIGNED_ENUM64_VAL3 = 0x7,
} v1;
/* Fits in 32 bits here: a 32-bit ENUM target for a 64-bit local. */
enum named_signed_enum64 {
	SIGNED_ENUM64_VAL1 = 1,
	SIGNED_ENUM64_VAL2 = -20,
	SIGNED_ENUM64_VAL3 = 3,
} v2;
/* And a 64-bit target for a 32-bit local. */
enum named_unsigned_enum {
	UNSIGNED_ENUM_VAL1 = 0xfffffffff0000000ULL,
	UNSIGNED_ENUM_VAL2 = 0x22,
} v3;
#elif defined(val3_missing)
enum named_unsigned_enum64 {
	UNSIGNED_ENUM64_VAL1 = 0x1ffffffffULL,
	UNSIGNED_ENUM64_VAL2 = 0x2ULL,
} v1;
enum named_signed_enum64 {
	SIGNED_ENUM64_VAL1 = 0x1ffffffffLL,
	SIGNED_ENUM64_VAL2 = -2,
} v2;
#else
#error "unknown variant"
#endif

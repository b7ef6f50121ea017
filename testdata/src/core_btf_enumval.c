// SPDX-License-Identifier: GPL-2.0
/* Target types for core_reloc_enumval (built once per variant by build.sh). */

#if defined(base)
enum named_enum {
	NAMED_ENUM_VAL1 = 1,
	NAMED_ENUM_VAL2 = 2,
	NAMED_ENUM_VAL3 = 3,
} v1;
typedef enum {
	ANON_ENUM_VAL1 = 0x10,
	ANON_ENUM_VAL2 = 0x20,
	ANON_ENUM_VAL3 = 0x30,
} anon_enum;
anon_enum v2;
enum signed_enum {
	SIGNED_ENUM_VAL1 = -1,
	SIGNED_ENUM_VAL2 = 2,
} v3;
#elif defined(diff)
/* Other values, other order, flavored names (enumerators too). */
enum named_enum___diff {
	NAMED_ENUM_VAL1___x = 101,
	NAMED_ENUM_VAL2 = 202,
	NAMED_ENUM_VAL3 = 303,
} v1;
typedef enum {
	ANON_ENUM_VAL3 = 0x300,
	ANON_ENUM_VAL2 = 0x200,
	ANON_ENUM_VAL1 = 0x100,
} anon_enum;
anon_enum v2;
/* A 64-bit enum with the same essential name matches a 32-bit one. */
enum signed_enum {
	SIGNED_ENUM_VAL1 = -0x100000000LL,
	SIGNED_ENUM_VAL2 = 0x7fffffff,
} v3;
#elif defined(val3_missing)
enum named_enum {
	NAMED_ENUM_VAL1 = 1,
	NAMED_ENUM_VAL2 = 2,
} v1;
typedef enum {
	ANON_ENUM_VAL1 = 0x10,
	ANON_ENUM_VAL2 = 0x20,
} anon_enum;
anon_enum v2;
enum signed_enum {
	SIGNED_ENUM_VAL2 = 2,
} v3;
#elif defined(err_missing)
/* No such enums at all. */
enum other_enum {
	OTHER = 1,
} v1;
#else
#error "unknown variant"
#endif

#!/bin/sh
# Rebuilds the BPF test objects in testdata/obj/ from the C sources in testdata/src/.
#
#   testdata/build.sh            rebuild everything
#   CLANG=clang-19 testdata/build.sh
#
# Deterministic: compiles from inside src/ with relative file names and
# -fdebug-compilation-dir=. so no absolute path of this machine ends up in the
# DWARF or in BTF line_info; rerunning produces byte-identical objects with the
# same clang version. Idempotent: it rewrites every object and removes stale ones.
set -eu

CLANG=${CLANG:-clang-19}
if ! command -v "$CLANG" >/dev/null 2>&1; then
	echo "build.sh: $CLANG not found; install it (Debian: apt-get install -y clang-19)" >&2
	exit 1
fi

here=$(cd "$(dirname "$0")" && pwd)
src="$here/src"
out="$here/obj"

# linux/bpf.h includes <asm/types.h>, which lives in the multiarch directory
# that -target bpf does not search.
multiarch=$(gcc -dumpmachine 2>/dev/null || echo "$(uname -m)-linux-gnu")
if [ ! -e /usr/include/linux/bpf.h ] || [ ! -e /usr/include/bpf/bpf_helpers.h ]; then
	echo "build.sh: kernel and libbpf headers missing (Debian: apt-get install -y linux-libc-dev libbpf-dev)" >&2
	exit 1
fi

# name: which variants to build. "all" = v1..v4, each with and without -g;
# "g" = v1..v4 with -g only (objects that need BTF: .maps, CO-RE, externs);
# "g34" = v3 and v4 with -g (the userspace runtime's test-run programs).
# "v3g" = v3 with -g only (the CO-RE test programs: the cpu level changes
# nothing CO-RE does, one build is enough).
objects="
xdp_pass:all
socket_filter:all
tc_classifier:all
legacy_maps:all
subprogs:all
global_data:all
xdp_parse:g
maps:g
tracing:g
core:g
externs:g
kfuncs:v3g
core_tracing:v3g
core_reloc_flavors:v3g
core_reloc_nesting:v3g
core_reloc_arrays:v3g
core_reloc_primitives:v3g
core_reloc_mods:v3g
core_reloc_ptr_as_arr:v3g
core_reloc_ints:v3g
core_reloc_misc:v3g
core_reloc_existence:v3g
core_reloc_bitfields:v3g
core_reloc_size:v3g
core_reloc_type_based:v3g
core_reloc_type_id:v3g
core_reloc_enumval:v3g
core_reloc_enum64val:v3g
kconfig:g
verifier_locks:v3g
rt_maps:g34
rt_helpers:g34
rt_ctx:g34
rt_core:g34
attach:g
"

# CO-RE target BTFs: family:variant,variant,... Each variant of
# src/core_btf_FAMILY.c (selected with -DVARIANT) is compiled with -g and its
# .BTF section extracted as a raw BTF file, btf/core_FAMILY___VARIANT.btf, the
# form libbpf takes as btf_custom_path. Type names carry ___flavor suffixes
# where the test is about candidate matching by essential name.
core_targets="
flavors:base,reversed,renamed_fields,two_agreeing,err_ambiguous,no_separator
nesting:base,anon_embed,struct_union_mixup,extra_nesting,err_missing_field,err_array_field,err_nonstruct_container,err_dup_incompat_types,err_partial_match_dups
arrays:base,diff_arr_dim,diff_arr_val_sz,equiv_zero_sz_arr,fixed_tail_arr,err_too_small,err_too_shallow,err_non_array,err_wrong_val_type,err_bad_zero_sz_arr
primitives:base,diff_enum_def,anon_enum,diff_ptr_type,err_non_enum,err_non_int,err_non_ptr
mods:base,mods_only,typedefs
ptr_as_arr:base,diff_sz
ints:base,reverse_sign,wider,narrower,err_bitfield,far
misc:base,moved
existence:base,minimal,wrong_field_defs,none
bitfields:base,arrays,bitfield_vs_int,just_big_enough,err_too_big_bitfield
size:base,diff_sz,diff_offs,err_ambiguous
type_based:base,diff,all_missing
type_id:base,missing
enumval:base,diff,val3_missing,err_missing
enum64val:base,diff,val3_missing
"

mkdir -p "$out"
rm -f "$out"/*.o

cd "$src"
for entry in $objects; do
	name=${entry%%:*}
	kind=${entry#*:}
	cpus="v1 v2 v3 v4"
	if [ "$kind" = g34 ]; then
		cpus="v3 v4"
	fi
	[ "$kind" = v3g ] && cpus=v3
	for cpu in $cpus; do
		if [ "$kind" = all ]; then
			debugs="nog g"
		else
			debugs="g"
		fi
		for debug in $debugs; do
			if [ "$debug" = g ]; then
				flags="-g"
				obj="$out/$name.$cpu.g.o"
			else
				flags=""
				obj="$out/$name.$cpu.o"
			fi
			# shellcheck disable=SC2086
			"$CLANG" -O2 -target bpf -mcpu="$cpu" $flags \
				-Wall -Werror \
				-fdebug-compilation-dir=. -fdebug-prefix-map="$src"=. \
				-idirafter "/usr/include/$multiarch" \
				-c "$name.bpf.c" -o "$obj"
		done
	done
done

OBJCOPY=${OBJCOPY:-llvm-objcopy-19}
btfdir="$here/btf"
mkdir -p "$btfdir"
rm -f "$btfdir"/core_*.btf
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for entry in $core_targets; do
	family=${entry%%:*}
	for variant in $(echo "${entry#*:}" | tr , ' '); do
		"$CLANG" -O2 -target bpf -g -Wall -Werror -D"$variant" \
			-fdebug-compilation-dir=. -fdebug-prefix-map="$src"=. \
			-c "core_btf_$family.c" -o "$tmp/t.o"
		"$OBJCOPY" --dump-section .BTF="$btfdir/core_${family}___$variant.btf" "$tmp/t.o"
	done
done
echo "build.sh: $(ls "$btfdir"/core_*.btf | wc -l) CO-RE target BTFs in $btfdir"

count=$(ls "$out"/*.o | wc -l)
size=$(du -ck "$out"/*.o | tail -n 1 | cut -f 1)
echo "build.sh: $count objects, ${size} KiB in $out"

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
# "g" = v1..v4 with -g only (objects that need BTF: .maps, CO-RE, externs).
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
kconfig:g
attach:g
"

mkdir -p "$out"
rm -f "$out"/*.o

cd "$src"
for entry in $objects; do
	name=${entry%%:*}
	kind=${entry#*:}
	for cpu in v1 v2 v3 v4; do
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

count=$(ls "$out"/*.o | wc -l)
size=$(du -ck "$out"/*.o | tail -n 1 | cut -f 1)
echo "build.sh: $count objects, ${size} KiB in $out"

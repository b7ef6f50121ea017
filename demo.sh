#!/usr/bin/env bash
# The main job on the project's own testdata: a clang-built XDP program counting packets runs
# in userspace (no root) and its maps are read back, the same object is shown as a loader
# sees it; then assemble, disassemble in both dialects, and check the round trip over the
# whole bpf_conformance suite.
set -euo pipefail
cd "$(dirname "$0")"
cargo build --release -q -p bpfkit-cli
bpfkit=target/release/bpfkit
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

echo "== testdata/src/xdp_parse.bpf.c, built by clang, test-run in userspace on 3 UDP packets; its maps after"
# Ethernet (IPv4), an IPv4 header with protocol 17 (UDP), 8 bytes of UDP header.
udp="000000000000020000000001080045000024000040004011000000000a0000010a000002""1f90303900100000"
$bpfkit test-run testdata/obj/xdp_parse.v3.g.o xdp_parse --data-hex "$udp" --repeat 3 --maps \
  | grep -v ' 0000000000000000$'

echo "== the same object as a loader sees it: programs, maps"
$bpfkit objdump -p -m testdata/obj/xdp_parse.v3.g.o | sed -n '/^Programs:/,/^$/p;/^Maps:/,/^$/p'

echo "== a conformance program (uBPF dialect), assembled and disassembled in the LLVM dialect"
awk '/^-- asm/{on=1; next} /^-- /{on=0} on' testdata/conformance/tests/prime.data > "$tmp/prime.s"
$bpfkit asm --dialect ubpf "$tmp/prime.s" -o "$tmp/prime.bin"
$bpfkit disasm --dialect llvm "$tmp/prime.bin"

echo "== the same as an ELF object in section xdp"
$bpfkit asm --dialect ubpf --elf --section xdp "$tmp/prime.s" -o "$tmp/prime.o"
$bpfkit disasm "$tmp/prime.o" | head -5

echo "== an assembler error"
printf 'mov %%r0, 1\nor %%r0, %%r50\n' > "$tmp/bad.s"
$bpfkit asm --dialect ubpf "$tmp/bad.s" -o "$tmp/bad.bin" || echo "(exit $?)"

echo "== round trip of all conformance programs through both dialects"
n=0
for f in testdata/conformance/tests/*.data; do
  awk '/^-- asm/{on=1; next} /^-- /{on=0} on' "$f" > "$tmp/p.s"
  $bpfkit asm --dialect ubpf "$tmp/p.s" -o "$tmp/p.bin"
  for d in llvm ubpf; do
    $bpfkit disasm --dialect $d "$tmp/p.bin" > "$tmp/p.$d.s"
    $bpfkit asm --dialect $d "$tmp/p.$d.s" -o "$tmp/p.$d.bin"
    cmp -s "$tmp/p.bin" "$tmp/p.$d.bin" || { echo "mismatch: $f ($d)"; exit 1; }
  done
  n=$((n + 1))
done
echo "$n programs: identical bytes after disasm+asm in both dialects"

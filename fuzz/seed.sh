#!/usr/bin/env bash
# Fills fuzz/corpus/<target>/ with seeds taken from the project's own test data, so fuzzing
# starts from real programs: the conformance suite's assembly (uBPF dialect), its LLVM-dialect
# disassembly, and its raw bytecode. Other helpers' targets add their own seeds below.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
cd "$root"
cargo build -q -p bpfkit-cli
bpfkit=target/debug/bpfkit
mkdir -p fuzz/corpus/asm_ubpf fuzz/corpus/asm_llvm fuzz/corpus/isa_decode
for f in testdata/conformance/tests/*.data; do
  name=$(basename "$f" .data)
  # The -- asm section, comments and all.
  awk '/^-- asm/{on=1; next} /^-- /{on=0} on' "$f" > "fuzz/corpus/asm_ubpf/$name"
  if "$bpfkit" asm --dialect ubpf "fuzz/corpus/asm_ubpf/$name" -o "fuzz/corpus/isa_decode/$name" 2>/dev/null; then
    "$bpfkit" disasm --dialect llvm "fuzz/corpus/isa_decode/$name" > "fuzz/corpus/asm_llvm/$name"
  fi
done
# ELF and BTF parsers: the clang-built objects, and the raw .BTF of vmlinux when present.
mkdir -p fuzz/corpus/elf_parse fuzz/corpus/btf_parse fuzz/corpus/btf_ext_parse
cp testdata/obj/*.o fuzz/corpus/elf_parse/
# Shapes clang no longer writes (iproute2 maps, RELA, NOTYPE functions, ...), built by the
# bpfkit-elf tests.
BPFKIT_WRITE_SEEDS="$root/fuzz/corpus/elf_parse" \
  cargo test -q -p bpfkit-elf --test shapes -- --ignored write_fuzz_seeds >/dev/null
for o in testdata/obj/*.g.o; do
  llvm-objcopy-19 --dump-section .BTF="fuzz/corpus/btf_parse/$(basename "$o").btf" "$o" /dev/null 2>/dev/null || true
  llvm-objcopy-19 --dump-section .BTF.ext="fuzz/corpus/btf_ext_parse/$(basename "$o").ext" "$o" /dev/null 2>/dev/null || true
done
# Verifier logs: what the kernel says about the testdata programs it rejects, and a few
# made-up ones (the target needs no kernel).
mkdir -p fuzz/corpus/verifier_log
printf '0: R1=ctx() R10=fp0\n0: (95) exit\nR0 !read_ok\nprocessed 1 insns (limit 1000000)\n' > fuzz/corpus/verifier_log/r0
printf 'missing btf func_info\nprocessed 0 insns\n' > fuzz/corpus/verifier_log/func_info
if [ "$(id -u)" = 0 ]; then
  "$bpfkit" load testdata/obj/maps.v3.g.o 2> fuzz/corpus/verifier_log/maps >/dev/null || true
fi
echo "seeded: $(ls fuzz/corpus/asm_ubpf | wc -l) programs per assembler target, $(ls fuzz/corpus/elf_parse | wc -l) objects"

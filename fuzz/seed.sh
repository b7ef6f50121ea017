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
# The test runtime: [program][flags][data_len u16][ctx_len u16][data][ctx][object], every
# clang-built object behind a 64-byte Ethernet/IPv4/UDP frame, once per program index 0-3.
mkdir -p fuzz/corpus/runtime
frame='\0\0\0\0\0\0\0\0\0\0\0\0\x08\0\x45\0\0\x32\0\0\0\0\x40\x11\0\0\x0a\0\0\x01\x0a\0\0\x02'
for o in testdata/obj/*.o; do
  for p in 0 1 2 3; do
    { printf "\\x0$p\\x00\\x40\\x00\\x00\\x00$frame"; head -c 30 /dev/zero; cat "$o"; } \
      > "fuzz/corpus/runtime/$(basename "$o").$p"
  done
done
# Verifier logs: what the kernel says about the testdata programs it rejects, and a few
# made-up ones (the target needs no kernel).
mkdir -p fuzz/corpus/verifier_log
printf '0: R1=ctx() R10=fp0\n0: (95) exit\nR0 !read_ok\nprocessed 1 insns (limit 1000000)\n' > fuzz/corpus/verifier_log/r0
printf 'missing btf func_info\nprocessed 0 insns\n' > fuzz/corpus/verifier_log/func_info
if [ "$(id -u)" = 0 ]; then
  "$bpfkit" load testdata/obj/maps.v3.g.o 2> fuzz/corpus/verifier_log/maps >/dev/null || true
fi
# CO-RE: objects against the running kernel (mode 0), against their own BTF (mode 2), the
# core_reloc objects against each of their target BTFs (mode 1), and made-up records on a
# core_reloc object's BTF (mode 3: every kind, a few access strings, an ALU, a load and an
# lddw instruction).
mkdir -p fuzz/corpus/relo_core
for o in testdata/obj/core*.o; do
  b=$(basename "$o" .o)
  { printf '\x00'; cat "$o"; } > "fuzz/corpus/relo_core/vmlinux-$b"
  { printf '\x02'; cat "$o"; } > "fuzz/corpus/relo_core/own-$b"
done
for o in /usr/share/gocode/src/github.com/cilium/ebpf/btf/testdata/*-el.elf; do
  [ -f "$o" ] || continue
  b=cilium-$(basename "$o" .elf)
  { printf '\x00'; cat "$o"; } > "fuzz/corpus/relo_core/vmlinux-$b"
  { printf '\x02'; cat "$o"; } > "fuzz/corpus/relo_core/own-$b"
done
python3 - <<'PY'
import glob, os, struct, subprocess, tempfile
out = "fuzz/corpus/relo_core"
for t in sorted(glob.glob("testdata/btf/core_*___*.btf")):
    family = os.path.basename(t)[len("core_"):].split("___")[0]
    obj = f"testdata/obj/core_reloc_{family}.v3.g.o"
    if not os.path.exists(obj):
        continue
    btf = open(t, "rb").read()
    name = os.path.basename(t)[:-4]
    with open(f"{out}/target-{name}", "wb") as f:
        f.write(b"\x01" + struct.pack("<I", len(btf)) + btf + open(obj, "rb").read())
    with tempfile.NamedTemporaryFile() as tmp:
        subprocess.run(["llvm-objcopy-19", "--dump-section", f".BTF={tmp.name}", obj, "/dev/null"], check=True)
        local = open(tmp.name, "rb").read()
    insns = [
        bytes([0x07, 0x01, 0, 0, 0, 0, 0, 0]) + bytes(8),          # r1 += 0
        bytes([0x61, 0x21, 0, 0, 0, 0, 0, 0]) + bytes(8),          # r1 = *(u32 *)(r2 + 0)
        bytes([0x18, 0x01, 0, 0, 1, 0, 0, 0]) + bytes(8),          # r1 = 1 ll
    ]
    recs = b""
    for kind in range(13):
        for type_id in range(1, 12):
            for access in (b"0", b"0:0", b"0:1", b"1:0:0"):
                recs += struct.pack("<IB", type_id, kind) + access + b"\x00" + insns[(type_id + kind) % 3]
    with open(f"{out}/records-{name}", "wb") as f:
        f.write(b"\x03" + struct.pack("<I", len(local)) + local + struct.pack("<I", len(btf)) + btf + recs)
PY
# JIT against interpreter: the input is a stream of choices for bpfkit_jit::differential, so
# the seeds are deterministic pseudo-random bytes.
mkdir -p fuzz/corpus/jit_vs_interp
python3 -c '
import random, sys
for i in range(64):
    r = random.Random(i)
    open(f"fuzz/corpus/jit_vs_interp/seed{i}", "wb").write(bytes(r.randrange(256) for _ in range(r.randrange(64, 4096))))
'
echo "seeded: $(ls fuzz/corpus/asm_ubpf | wc -l) programs per assembler target, $(ls fuzz/corpus/elf_parse | wc -l) objects"
# The verifier: the first byte selects the program type (0: socket_filter), then bytecode.
mkdir -p fuzz/corpus/verifier
for f in fuzz/corpus/isa_decode/*; do
  { printf '\0'; cat "$f"; } > "fuzz/corpus/verifier/$(basename "$f")"
done

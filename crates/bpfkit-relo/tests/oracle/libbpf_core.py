#!/usr/bin/env python3
"""The CO-RE oracle: libbpf itself (Debian's libbpf.so.1) relocates an object at debug log level.

libbpf applies CO-RE while loading an object (bpf_object__load: maps are created, then every
function is relocated, then programs are loaded). Its debug log states, for every relocation,
the local spec, each candidate it matched, and the patched instruction with the old and new
value, or the poisoning, or the error. Programs may be rejected by the kernel afterwards; the
relocation has happened and been logged before that. Needs root (bpf(2) for maps and loads).

Usage: libbpf_core.py OBJ.o [TARGET.btf]
  TARGET.btf: a raw BTF file used as btf_custom_path; without it, the running kernel's BTF
  (vmlinux, then module BTFs).
Output, one item per line:
  LOG <libbpf debug/warn line>        every line libbpf printed, in order
  LOAD <err>                          bpf_object__load's return value
  INSNS <program> <hex>               each program's instructions after load (if available)
"""
import ctypes
import sys

lib = ctypes.CDLL("libbpf.so.1")
libc = ctypes.CDLL("libc.so.6")
vp = ctypes.c_void_p

PRINT_FN = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_int, ctypes.c_char_p, vp)
libc.vsnprintf.argtypes = [ctypes.c_char_p, ctypes.c_size_t, ctypes.c_char_p, vp]
libc.vsnprintf.restype = ctypes.c_int

lines = []


def capture(level, fmt, args):
    buf = ctypes.create_string_buffer(4096)
    libc.vsnprintf(buf, len(buf), fmt, args)
    for line in buf.value.decode("utf-8", "replace").splitlines():
        lines.append(line)
    return 0


printer = PRINT_FN(capture)
lib.libbpf_set_print.argtypes = [PRINT_FN]
lib.libbpf_set_print(printer)


class OpenOpts(ctypes.Structure):
    _fields_ = [
        ("sz", ctypes.c_size_t),
        ("object_name", ctypes.c_char_p),
        ("relaxed_maps", ctypes.c_bool),
        ("pin_root_path", ctypes.c_char_p),
        ("_stub", ctypes.c_uint32),
        ("kconfig", ctypes.c_char_p),
        ("btf_custom_path", ctypes.c_char_p),
        ("kernel_log_buf", ctypes.c_char_p),
        ("kernel_log_size", ctypes.c_size_t),
        ("kernel_log_level", ctypes.c_uint32),
    ]


lib.bpf_object__open_file.restype = vp
lib.bpf_object__open_file.argtypes = [ctypes.c_char_p, ctypes.POINTER(OpenOpts)]
lib.libbpf_get_error.argtypes = [vp]
lib.libbpf_get_error.restype = ctypes.c_long
lib.bpf_object__load.argtypes = [vp]
lib.bpf_object__next_program.restype = vp
lib.bpf_object__next_program.argtypes = [vp, vp]
lib.bpf_program__name.restype = ctypes.c_char_p
lib.bpf_program__name.argtypes = [vp]
lib.bpf_program__insns.restype = vp
lib.bpf_program__insns.argtypes = [vp]
lib.bpf_program__insn_cnt.restype = ctypes.c_size_t
lib.bpf_program__insn_cnt.argtypes = [vp]
lib.bpf_object__next_map.restype = vp
lib.bpf_object__next_map.argtypes = [vp, vp]
lib.bpf_map__set_pin_path.argtypes = [vp, ctypes.c_char_p]

path = sys.argv[1]
target = sys.argv[2] if len(sys.argv) > 2 else None
opts = OpenOpts()
opts.sz = ctypes.sizeof(OpenOpts)
if target:
    opts.btf_custom_path = target.encode()
obj = lib.bpf_object__open_file(path.encode(), ctypes.byref(opts))
if not obj or lib.libbpf_get_error(obj):
    for line in lines:
        print("LOG", line)
    print("error: libbpf cannot open the object", file=sys.stderr)
    sys.exit(2)
# Pinning is not what is being tested.
m = None
while True:
    m = lib.bpf_object__next_map(obj, m)
    if not m:
        break
    lib.bpf_map__set_pin_path(m, None)
err = lib.bpf_object__load(obj)
for line in lines:
    print("LOG", line)
print("LOAD", err)
prog = None
while True:
    prog = lib.bpf_object__next_program(obj, prog)
    if not prog:
        break
    count = lib.bpf_program__insn_cnt(prog)
    at = lib.bpf_program__insns(prog)
    if at and count:
        print("INSNS", lib.bpf_program__name(prog).decode(), ctypes.string_at(at, count * 8).hex())

#!/usr/bin/env python3
"""The linking oracle: libbpf itself (Debian's libbpf.so.1) relocates an object in gen_loader
mode, which needs no kernel and leaves maps as BPF_PSEUDO_MAP_IDX(_VALUE) indices into libbpf's
map table, then prints each program's final instructions.

With `--kernel`, the object is loaded into the running kernel instead (needs root): map file
descriptors in the final instructions are turned back into map indices (BPF_PSEUDO_MAP_FD ->
MAP_IDX, MAP_VALUE -> MAP_IDX_VALUE), for objects gen_loader mode refuses (prog array
initialisers). Every program must load.

Usage: libbpf_link.py [--kernel] OBJ.o
Output: one line per program: NAME HEX; then one line per map with an initial value (global
data, .kconfig): `map INDEX HEX`; or 'error: ...' on stderr with exit 1.
"""
import ctypes
import sys

lib = ctypes.CDLL("libbpf.so.1")
vp = ctypes.c_void_p
lib.bpf_object__open_file.restype = vp
lib.bpf_object__open_file.argtypes = [ctypes.c_char_p, vp]
lib.libbpf_get_error.argtypes = [vp]
lib.libbpf_get_error.restype = ctypes.c_long
lib.bpf_object__next_program.restype = vp
lib.bpf_object__next_program.argtypes = [vp, vp]
lib.bpf_program__name.restype = ctypes.c_char_p
lib.bpf_program__name.argtypes = [vp]
lib.bpf_program__insns.restype = vp
lib.bpf_program__insns.argtypes = [vp]
lib.bpf_program__insn_cnt.restype = ctypes.c_size_t
lib.bpf_program__insn_cnt.argtypes = [vp]
lib.bpf_object__gen_loader.argtypes = [vp, vp]
lib.bpf_object__load.argtypes = [vp]
lib.bpf_object__next_map.restype = vp
lib.bpf_object__next_map.argtypes = [vp, vp]
lib.bpf_map__set_pin_path.argtypes = [vp, ctypes.c_char_p]

PRINT_FN = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_int, ctypes.c_char_p, vp)
# Keep libbpf quiet: its warnings would go to stderr and hide the answer.
quiet = PRINT_FN(lambda level, fmt, args: 0)
lib.libbpf_set_print.argtypes = [PRINT_FN]
lib.libbpf_set_print(quiet)


class GenLoaderOpts(ctypes.Structure):
    _fields_ = [
        ("sz", ctypes.c_size_t),
        ("data", ctypes.c_char_p),
        ("insns", ctypes.c_char_p),
        ("data_sz", ctypes.c_uint32),
        ("insns_sz", ctypes.c_uint32),
    ]


lib.bpf_map__fd.argtypes = [vp]
lib.bpf_map__initial_value.restype = vp
lib.bpf_map__initial_value.argtypes = [vp, ctypes.POINTER(ctypes.c_size_t)]
kernel = sys.argv[1] == "--kernel"
path = sys.argv[-1]
obj = lib.bpf_object__open_file(path.encode(), None)
if not obj or lib.libbpf_get_error(obj):
    print("error: libbpf cannot open the object", file=sys.stderr)
    sys.exit(1)
# Pinning is the loader's business, not linking's: gen_loader mode cannot pin.
m = None
while True:
    m = lib.bpf_object__next_map(obj, m)
    if not m:
        break
    lib.bpf_map__set_pin_path(m, None)
if not kernel:
    opts = GenLoaderOpts(ctypes.sizeof(GenLoaderOpts), None, None, 0, 0)
    if lib.bpf_object__gen_loader(obj, ctypes.byref(opts)) != 0:
        print("error: gen_loader", file=sys.stderr)
        sys.exit(1)
err = lib.bpf_object__load(obj)
if err != 0:
    mode = "kernel" if kernel else "gen_loader"
    print(f"error: load ({mode}) failed: {err}", file=sys.stderr)
    sys.exit(1)
fd_to_index = {}
m = None
while kernel:
    m = lib.bpf_object__next_map(obj, m)
    if not m:
        break
    fd_to_index[lib.bpf_map__fd(m)] = len(fd_to_index)


def normalize(insns):
    """MAP_FD/MAP_VALUE with a file descriptor -> MAP_IDX/MAP_IDX_VALUE with its map index."""
    out = bytearray(insns)
    i = 0
    while i + 16 <= len(out):
        code, regs = out[i], out[i + 1]
        src = regs >> 4
        if code == 0x18:
            if src in (1, 2):
                fd = int.from_bytes(out[i + 4:i + 8], "little", signed=True)
                out[i + 1] = (regs & 0x0F) | ((5 if src == 1 else 6) << 4)
                out[i + 4:i + 8] = fd_to_index[fd].to_bytes(4, "little")
            i += 16
        else:
            i += 8
    return bytes(out)

prog = None
while True:
    prog = lib.bpf_object__next_program(obj, prog)
    if not prog:
        break
    count = lib.bpf_program__insn_cnt(prog)
    insns = ctypes.string_at(lib.bpf_program__insns(prog), count * 8)
    if kernel:
        insns = normalize(insns)
    print(lib.bpf_program__name(prog).decode(), insns.hex())
index = 0
m = None
while True:
    m = lib.bpf_object__next_map(obj, m)
    if not m:
        break
    size = ctypes.c_size_t(0)
    data = lib.bpf_map__initial_value(m, ctypes.byref(size))
    if data:
        print("map", index, ctypes.string_at(data, size.value).hex())
    index += 1

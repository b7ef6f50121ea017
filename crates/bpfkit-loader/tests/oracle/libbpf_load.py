#!/usr/bin/env python3
"""The loading oracle: Debian's libbpf.so.1 driven through ctypes.

Usage:
  libbpf_load.py btf OBJ.o...         each object's BTF as libbpf holds it after opening the
                                      object (DATASEC sizes, offsets, externs fixed up), as hex,
                                      one line per object (`open-error ERRNO` if libbpf refuses)
  libbpf_load.py btf-load OBJ.o...    the same after bpf_object__load (hidden functions made
                                      static), whatever the load's outcome (needs root)
  libbpf_load.py load PIN_ROOT OBJ.o...
                                      loads each object into the running kernel (needs root),
                                      maps pinned by name under PIN_ROOT: `== OBJ.o`, then one
                                      line per program (a rejected one is left out of the next
                                      try, as libbpf stops at the first):
                                      `NAME ok`, `NAME err ERRNO` (the kernel rejected it) or
                                      `NAME object-error ERRNO` (libbpf failed before loading
                                      it); or `open-error ERRNO`

Exit status 0 unless the arguments are wrong.
"""
import ctypes
import sys

lib = ctypes.CDLL("libbpf.so.1")
vp = ctypes.c_void_p
lib.bpf_object__open_file.restype = vp
lib.bpf_object__open_file.argtypes = [ctypes.c_char_p, vp]
lib.libbpf_get_error.argtypes = [vp]
lib.libbpf_get_error.restype = ctypes.c_long
lib.bpf_object__load.argtypes = [vp]
lib.bpf_object__close.argtypes = [vp]
lib.bpf_object__btf.restype = vp
lib.bpf_object__btf.argtypes = [vp]
lib.btf__raw_data.restype = vp
lib.btf__raw_data.argtypes = [vp, ctypes.POINTER(ctypes.c_uint32)]
lib.bpf_object__next_program.restype = vp
lib.bpf_object__next_program.argtypes = [vp, vp]
lib.bpf_program__name.restype = ctypes.c_char_p
lib.bpf_program__name.argtypes = [vp]
lib.bpf_program__set_autoload.argtypes = [vp, ctypes.c_bool]
lib.bpf_program__fd.argtypes = [vp]
lib.bpf_object__next_map.restype = vp
lib.bpf_object__next_map.argtypes = [vp, vp]
lib.bpf_map__name.restype = ctypes.c_char_p
lib.bpf_map__name.argtypes = [vp]
lib.bpf_map__set_pin_path.argtypes = [vp, ctypes.c_char_p]
lib.bpf_map__pin_path.restype = ctypes.c_char_p
lib.bpf_map__pin_path.argtypes = [vp]
lib.bpf_object__unpin_maps.argtypes = [vp, ctypes.c_char_p]

PRINT_FN = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_int, ctypes.c_char_p, vp)
libc = ctypes.CDLL(None)
libc.vsnprintf.argtypes = [ctypes.c_char_p, ctypes.c_size_t, ctypes.c_char_p, vp]
# libbpf's messages, formatted with the C library (a va_list is passed on as the pointer the
# callback receives).
messages = []


def record(level, fmt, args):
    buf = ctypes.create_string_buffer(4096)
    libc.vsnprintf(buf, len(buf), fmt, args)
    messages.append(buf.value.decode(errors="replace"))
    return 0


recorder = PRINT_FN(record)
lib.libbpf_set_print.argtypes = [PRINT_FN]
lib.libbpf_set_print(recorder)


class OpenOpts(ctypes.Structure):
    """struct bpf_object_open_opts of libbpf 1.1, up to pin_root_path."""
    _fields_ = [
        ("sz", ctypes.c_size_t),
        ("object_name", ctypes.c_char_p),
        ("relaxed_maps", ctypes.c_bool),
        ("pin_root_path", ctypes.c_char_p),
    ]


def open_object(path, pin_root=None):
    opts = None
    if pin_root is not None:
        opts = OpenOpts(ctypes.sizeof(OpenOpts), None, False, pin_root.encode())
        opts = ctypes.byref(opts)
    obj = lib.bpf_object__open_file(path.encode(), opts)
    err = lib.libbpf_get_error(obj) if obj else -1
    if not obj or err:
        return None, -err if err else 22
    return obj, 0


def programs(obj):
    p = None
    while True:
        p = lib.bpf_object__next_program(obj, p)
        if not p:
            return
        yield p


def btf_hex(obj):
    btf = lib.bpf_object__btf(obj)
    if not btf:
        return ""
    size = ctypes.c_uint32()
    data = lib.btf__raw_data(btf, ctypes.byref(size))
    return ctypes.string_at(data, size.value).hex()


def load(pin_root, path):
    """Prints libbpf's verdict on each program of the object at `path`."""
    obj, err = open_object(path, pin_root)
    if obj is None:
        print(f"open-error {err}")
        return
    names = [lib.bpf_program__name(p).decode() for p in programs(obj)]
    lib.bpf_object__close(obj)
    # libbpf stops at the first program the kernel rejects: load again without it until the
    # rest loads, or libbpf fails outside any program.
    verdicts = {}
    while True:
        obj, err = open_object(path, pin_root)
        for p in programs(obj):
            lib.bpf_program__set_autoload(p, lib.bpf_program__name(p).decode() not in verdicts)
        messages.clear()
        err = lib.bpf_object__load(obj)
        lib.bpf_object__unpin_maps(obj, None)
        lib.bpf_object__close(obj)
        rejected = [m for m in messages if "BPF program load failed" in m]
        if err == 0:
            for name in names:
                verdicts.setdefault(name, "ok")
            break
        if not rejected:
            for name in names:
                verdicts.setdefault(name, f"object-error {-err}")
            break
        name = rejected[0].split("'")[1]
        verdicts[name] = f"err {-err}"
    for name in names:
        print(f"{name} {verdicts[name]}")


def main():
    cmd = sys.argv[1]
    if cmd in ("btf", "btf-load"):
        for path in sys.argv[2:]:
            obj, err = open_object(path)
            if obj is None:
                print(f"open-error {err}")
                continue
            if cmd == "btf-load":
                lib.bpf_object__load(obj)
            print(btf_hex(obj))
            lib.bpf_object__close(obj)
    elif cmd == "load":
        pin_root = sys.argv[2]
        for path in sys.argv[3:]:
            print(f"== {path}")
            load(pin_root, path)
    else:
        sys.exit(f"unknown command {cmd}")


main()

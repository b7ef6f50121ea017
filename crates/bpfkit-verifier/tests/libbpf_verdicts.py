#!/usr/bin/env python3
"""The kernel's verdict on every program of BPF objects, loaded by Debian's libbpf.so.1.

Usage: libbpf_verdicts.py [--log-level N] [--repeat N] OBJ.o...

For each program of each object, the object is opened again with only that program set to
load, so one program's rejection does not hide another's verdict. libbpf creates the maps,
fills and freezes global data, applies CO-RE against the running kernel and resolves attach
targets, then the kernel verifies the program with log level 1|4 (messages and statistics; or
`--log-level N`: 4 alone times the verifier without the cost of printing every instruction).
`--repeat N` loads each program N times and reports the median verification time.

Prints one JSON object per program per line:
  {"object": ..., "program": ..., "section": ..., "verdict": "accepted"|"rejected"|"unloadable",
   "message": <the kernel's final error line>, "kernel_usec": <verification time>,
   "processed": <processed insns>, "error": <libbpf's errno when unloadable>}
A program is "unloadable" when libbpf fails before the kernel's verifier ran (no log): the
object cannot be opened, a map cannot be created, an attach target is missing, ...
"""

import ctypes
import json
import re
import sys

LIBBPF = "/usr/lib/x86_64-linux-gnu/libbpf.so.1"
lib = ctypes.CDLL(LIBBPF, use_errno=True)
vp = ctypes.c_void_p
lib.bpf_object__open_file.restype = vp
lib.bpf_object__open_file.argtypes = [ctypes.c_char_p, vp]
lib.bpf_object__next_program.restype = vp
lib.bpf_object__next_program.argtypes = [vp, vp]
lib.bpf_program__name.restype = ctypes.c_char_p
lib.bpf_program__name.argtypes = [vp]
lib.bpf_program__section_name.restype = ctypes.c_char_p
lib.bpf_program__section_name.argtypes = [vp]
lib.bpf_program__set_autoload.argtypes = [vp, ctypes.c_bool]
lib.bpf_program__set_log_level.argtypes = [vp, ctypes.c_uint32]
lib.bpf_program__set_log_buf.argtypes = [vp, ctypes.c_char_p, ctypes.c_size_t]
lib.bpf_object__load.argtypes = [vp]
lib.bpf_object__close.argtypes = [vp]
lib.libbpf_get_error.argtypes = [vp]
lib.libbpf_get_error.restype = ctypes.c_long

# Silence libbpf's own messages (they go to stderr otherwise).
PRINT_FN = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_int, ctypes.c_char_p, vp)
_silent = PRINT_FN(lambda level, fmt, args: 0)
lib.libbpf_set_print.argtypes = [PRINT_FN]
lib.libbpf_set_print(_silent)

LOG_SIZE = 64 << 20


def programs(obj):
    prog = lib.bpf_object__next_program(obj, None)
    while prog:
        yield prog
        prog = lib.bpf_object__next_program(obj, prog)


def final_line(log):
    for marker in ("infinite loop detected at insn", "BPF program is too large."):
        for line in reversed(log.splitlines()):
            if marker in line:
                return line[line.index(marker):].strip()
    lines = log.splitlines()
    end = len(lines)
    for i in range(len(lines) - 1, -1, -1):
        if lines[i].startswith("processed "):
            end = i
            break
    for line in reversed(lines[:end]):
        # Statistics of log level 4 come before "processed".
        if line.startswith("verification time") or line.startswith("stack depth"):
            continue
        if line.strip():
            return line.strip()
    return ""


def open_obj(path):
    obj = lib.bpf_object__open_file(path.encode(), None)
    if not obj or lib.libbpf_get_error(obj):
        return None
    return obj


def load_once(path, name, buf, log_level):
    """Loads program `name` of `path` alone: (libbpf's error, the verifier log)."""
    obj = open_obj(path)
    target = None
    for p in programs(obj):
        if lib.bpf_program__name(p).decode() == name:
            target = p
        else:
            lib.bpf_program__set_autoload(p, False)
    buf[0] = b"\0"
    lib.bpf_program__set_log_buf(target, buf, LOG_SIZE)
    lib.bpf_program__set_log_level(target, log_level)
    err = lib.bpf_object__load(obj)
    log = buf.value.decode(errors="replace")
    lib.bpf_object__close(obj)
    return err, log


def usec(log):
    m = re.search(r"verification time (\d+) usec", log)
    return int(m.group(1)) if m else None


def verdicts(path, log_level=1 | 4, repeat=1):
    obj = open_obj(path)
    if obj is None:
        yield {"object": path, "program": None, "verdict": "unloadable", "error": "open failed"}
        return
    names = [(lib.bpf_program__name(p).decode(), lib.bpf_program__section_name(p).decode())
             for p in programs(obj)]
    lib.bpf_object__close(obj)
    buf = ctypes.create_string_buffer(LOG_SIZE)
    for name, section in names:
        err, log = load_once(path, name, buf, log_level)
        row = {"object": path, "program": name, "section": section}
        times = [usec(log)] + [usec(load_once(path, name, buf, log_level)[1])
                               for _ in range(repeat - 1)]
        times = sorted(t for t in times if t is not None)
        row["kernel_usec"] = times[len(times) // 2] if times else None
        m = re.search(r"processed (\d+) insns", log)
        row["processed"] = int(m.group(1)) if m else None
        message = final_line(log)
        if err == 0:
            row["verdict"] = "accepted"
        elif "processed " in log and (not message or re.match(r"^\d+: \(", message)):
            # The verifier got to the end (its last line is an instruction's): the program was
            # accepted, and libbpf failed afterwards (e.g. filling a program array with a
            # program it did not load).
            row["verdict"] = "accepted"
            row["error"] = err
        elif "processed " in log or log.strip():
            row["verdict"] = "rejected"
            row["message"] = message
        else:
            row["verdict"] = "unloadable"
            row["error"] = err
        yield row


def main():
    args = sys.argv[1:]
    options = {"--log-level": 1 | 4, "--repeat": 1}
    while args and args[0] in options:
        options[args[0]] = int(args[1])
        args = args[2:]
    for path in args:
        for row in verdicts(path, options["--log-level"], options["--repeat"]):
            print(json.dumps(row), flush=True)


if __name__ == "__main__":
    main()

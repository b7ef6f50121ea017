#!/usr/bin/env python3
"""The kernel side of the test-run differential: loads an object into the running kernel with
libbpf (Debian's libbpf.so.1: maps, BTF, global data, program arrays, map-in-map), then runs
test cases read from stdin with BPF_PROG_TEST_RUN and reports what the kernel returned and what
every map holds afterwards. Needs root.

The thread is pinned to CPU 0, so per-cpu values and bpf_get_smp_processor_id() are CPU 0's.
Perf event arrays get a reader on every CPU (libbpf's perf buffer), ring buffers a consumer.

Usage: test_run.py OBJ.o [PROGRAM...]   (the programs to load; default: every program)
Input: one JSON object per line: {"prog", "data" (hex), "ctx" (hex or null), "data_size_out",
"ctx_size_out", "repeat", "flags", "cpu"}.
Output: first {"maps": [...], "cpus": N}; then one JSON object per case: {"errno", "retval",
"data_out", "ctx_out", "maps", "ringbuf", "perf"}; 'error: ...' on stderr with exit 1.
"""
import ctypes
import json
import os
import sys

lib = ctypes.CDLL("libbpf.so.1")
vp = ctypes.c_void_p
u32 = ctypes.c_uint32


def fn(name, restype, *argtypes):
    f = getattr(lib, name)
    f.restype = restype
    f.argtypes = list(argtypes)
    return f


open_file = fn("bpf_object__open_file", vp, ctypes.c_char_p, vp)
get_error = fn("libbpf_get_error", ctypes.c_long, vp)
next_program = fn("bpf_object__next_program", vp, vp, vp)
program_name = fn("bpf_program__name", ctypes.c_char_p, vp)
program_fd = fn("bpf_program__fd", ctypes.c_int, vp)
program_type = fn("bpf_program__type", ctypes.c_int, vp)
set_autoload = fn("bpf_program__set_autoload", ctypes.c_int, vp, ctypes.c_bool)
obj_load = fn("bpf_object__load", ctypes.c_int, vp)
next_map = fn("bpf_object__next_map", vp, vp, vp)
map_name = fn("bpf_map__name", ctypes.c_char_p, vp)
map_fd = fn("bpf_map__fd", ctypes.c_int, vp)
map_type = fn("bpf_map__type", ctypes.c_int, vp)
map_key_size = fn("bpf_map__key_size", u32, vp)
map_value_size = fn("bpf_map__value_size", u32, vp)
map_max_entries = fn("bpf_map__max_entries", u32, vp)
set_pin_path = fn("bpf_map__set_pin_path", ctypes.c_int, vp, ctypes.c_char_p)
get_next_key = fn("bpf_map_get_next_key", ctypes.c_int, ctypes.c_int, vp, vp)
lookup_elem = fn("bpf_map_lookup_elem", ctypes.c_int, ctypes.c_int, vp, vp)
lookup_and_delete = fn("bpf_map_lookup_and_delete_elem", ctypes.c_int, ctypes.c_int, vp, vp)
update_elem = fn("bpf_map_update_elem", ctypes.c_int, ctypes.c_int, vp, vp, ctypes.c_uint64)
num_possible_cpus = fn("libbpf_num_possible_cpus", ctypes.c_int)

PRINT_FN = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_int, ctypes.c_char_p, vp)
quiet = PRINT_FN(lambda level, fmt, args: 0)
fn("libbpf_set_print", vp, PRINT_FN)(quiet)


class TestRunOpts(ctypes.Structure):
    _fields_ = [
        ("sz", ctypes.c_size_t),
        ("data_in", vp),
        ("data_out", vp),
        ("data_size_in", u32),
        ("data_size_out", u32),
        ("ctx_in", vp),
        ("ctx_out", vp),
        ("ctx_size_in", u32),
        ("ctx_size_out", u32),
        ("retval", u32),
        ("repeat", ctypes.c_int),
        ("duration", u32),
        ("flags", u32),
        ("cpu", u32),
        ("batch_size", u32),
    ]


prog_test_run = fn("bpf_prog_test_run_opts", ctypes.c_int, ctypes.c_int, ctypes.POINTER(TestRunOpts))

RINGBUF_CB = ctypes.CFUNCTYPE(ctypes.c_int, vp, vp, ctypes.c_size_t)
ring_buffer_new = fn("ring_buffer__new", vp, ctypes.c_int, RINGBUF_CB, vp, vp)
ring_buffer_add = fn("ring_buffer__add", ctypes.c_int, vp, ctypes.c_int, RINGBUF_CB, vp)
ring_buffer_consume = fn("ring_buffer__consume", ctypes.c_int, vp)
PERF_SAMPLE_CB = ctypes.CFUNCTYPE(None, vp, ctypes.c_int, vp, u32)
PERF_LOST_CB = ctypes.CFUNCTYPE(None, vp, ctypes.c_int, ctypes.c_uint64)
perf_buffer_new = fn("perf_buffer__new", vp, ctypes.c_int, ctypes.c_size_t, PERF_SAMPLE_CB, PERF_LOST_CB, vp, vp)
perf_buffer_consume = fn("perf_buffer__consume", ctypes.c_int, vp)

# Map types (enum bpf_map_type).
HASH, ARRAY, PROG_ARRAY, PERF_EVENT_ARRAY, PERCPU_HASH, PERCPU_ARRAY = 1, 2, 3, 4, 5, 6
LRU_HASH, LRU_PERCPU_HASH, LPM_TRIE, ARRAY_OF_MAPS, HASH_OF_MAPS = 9, 10, 11, 12, 13
DEVMAP, CPUMAP, XSKMAP, QUEUE, STACK, DEVMAP_HASH, RINGBUF, BLOOM = 14, 16, 17, 22, 23, 25, 27, 30
PERCPU = (PERCPU_HASH, PERCPU_ARRAY, LRU_PERCPU_HASH)
SYSCALL = 31  # BPF_PROG_TYPE_SYSCALL
ID_VALUES = (PROG_ARRAY, ARRAY_OF_MAPS, HASH_OF_MAPS)


def fail(message):
    print(f"error: {message}", file=sys.stderr)
    sys.exit(1)


os.sched_setaffinity(0, {0})
path = sys.argv[1]
wanted = set(sys.argv[2:])
obj = open_file(path.encode(), None)
if not obj or get_error(obj):
    fail("libbpf cannot open the object")
programs = {}
p = None
while True:
    p = next_program(obj, p)
    if not p:
        break
    name = program_name(p).decode()
    if wanted and name not in wanted:
        set_autoload(p, False)
    else:
        programs[name] = p
m = None
maps = []
while True:
    m = next_map(obj, m)
    if not m:
        break
    set_pin_path(m, None)
    maps.append(m)
err = obj_load(obj)
if err != 0:
    fail(f"load failed: {err}")
cpus = num_possible_cpus()

records = {"ringbuf": [], "perf": []}
callbacks = []
rb = None
pbs = []
for i, m in enumerate(maps):
    t = map_type(m)
    if t == RINGBUF:
        def on_record(ctx, data, size, i=i):
            records["ringbuf"].append([i, ctypes.string_at(data, size).hex()])
            return 0
        cb = RINGBUF_CB(on_record)
        callbacks.append(cb)
        if rb is None:
            rb = ring_buffer_new(map_fd(m), cb, None, None)
            if not rb:
                fail("ring_buffer__new")
        elif ring_buffer_add(rb, map_fd(m), cb, None) != 0:
            fail("ring_buffer__add")
    elif t == PERF_EVENT_ARRAY:
        def on_sample(ctx, cpu, data, size, i=i):
            records["perf"].append([i, cpu, ctypes.string_at(data, size).hex()])
        def on_lost(ctx, cpu, count):
            records["perf"].append([i, cpu, f"lost {count}"])
        sample, lost = PERF_SAMPLE_CB(on_sample), PERF_LOST_CB(on_lost)
        callbacks += [sample, lost]
        pb = perf_buffer_new(map_fd(m), 8, sample, lost, None, None)
        if not pb or get_error(pb):
            fail("perf_buffer__new")
        pbs.append(pb)

print(json.dumps({
    "maps": [{"name": map_name(m).decode(), "type": map_type(m), "key_size": map_key_size(m),
              "value_size": map_value_size(m), "max_entries": map_max_entries(m)} for m in maps],
    "cpus": cpus,
}), flush=True)


def dump(m):
    """Every (key, value) of a map as hex, keys ascending; None for maps with no dump."""
    t = map_type(m)
    fd = map_fd(m)
    ks, vs = map_key_size(m), map_value_size(m)
    if t in PERCPU:
        vs = ((vs + 7) // 8 * 8) * cpus
    if t in (QUEUE, STACK):
        values = []
        buf = ctypes.create_string_buffer(vs)
        while lookup_and_delete(fd, None, buf) == 0:
            values.append(buf.raw)
        # Put them back, oldest first for a queue, bottom first for a stack.
        for v in (values if t == QUEUE else reversed(values)):
            update_elem(fd, None, ctypes.c_char_p(v), 0)
        return [["", v.hex()] for v in values]
    if t in (RINGBUF, PERF_EVENT_ARRAY, BLOOM) or ks == 0:
        return None
    out = []
    key = ctypes.create_string_buffer(ks)
    nxt = ctypes.create_string_buffer(ks)
    value = ctypes.create_string_buffer(vs)
    prev = None
    while get_next_key(fd, prev, nxt) == 0:
        key.raw = nxt.raw
        prev = key
        if lookup_elem(fd, key, value) != 0:
            continue
        out.append([key.raw.hex(), "" if t in ID_VALUES else value.raw.hex()])
        if len(out) > 100000:
            break
    out.sort()
    return out


for line in sys.stdin:
    case = json.loads(line)
    prog = programs.get(case["prog"])
    if prog is None:
        fail(f"no program {case['prog']}")
    data = bytes.fromhex(case["data"])
    ctx = bytes.fromhex(case["ctx"]) if case.get("ctx") is not None else None
    data_out = ctypes.create_string_buffer(max(case.get("data_size_out", 0), 1))
    ctx_out = ctypes.create_string_buffer(max(case.get("ctx_size_out", 0), 1))
    data_in = ctypes.create_string_buffer(data, len(data)) if data else None
    ctx_in = ctypes.create_string_buffer(ctx, len(ctx)) if ctx is not None else None
    opts = TestRunOpts()
    opts.sz = ctypes.sizeof(TestRunOpts)
    opts.data_in = ctypes.cast(data_in, vp) if data else None
    opts.data_size_in = len(data)
    if case.get("data_size_out", 0):
        opts.data_out = ctypes.cast(data_out, vp)
        opts.data_size_out = case["data_size_out"]
    if ctx is not None:
        opts.ctx_in = ctypes.cast(ctx_in, vp)
        opts.ctx_size_in = len(ctx)
    if case.get("ctx_size_out", 0):
        opts.ctx_out = ctypes.cast(ctx_out, vp)
        opts.ctx_size_out = case["ctx_size_out"]
    opts.repeat = case.get("repeat", 0)
    opts.flags = case.get("flags", 0)
    opts.cpu = case.get("cpu", 0)
    rc = prog_test_run(program_fd(prog), ctypes.byref(opts))
    out_len = min(opts.data_size_out, case.get("data_size_out", 0))
    ctx_len = min(opts.ctx_size_out, case.get("ctx_size_out", 0))
    errno = -rc if rc < 0 else 0
    ENOSPC = 28
    if errno not in (0, ENOSPC):
        result = {"errno": errno, "retval": 0, "data_out": "", "ctx_out": None}
    else:
        result = {
            "errno": errno,
            "retval": opts.retval,
            "data_out": data_out.raw[:out_len].hex() if case.get("data_size_out", 0) else "",
            # A syscall program's context comes back in ctx_in.
            "ctx_out": (ctx_out.raw[:ctx_len].hex() if case.get("ctx_size_out", 0) and errno == 0
                        else (ctx_in.raw.hex() if ctx is not None and errno == 0
                              and program_type(prog) == SYSCALL else None)),
        }
    if rb:
        ring_buffer_consume(rb)
    for pb in pbs:
        perf_buffer_consume(pb)
    result["maps"] = [dump(m) for m in maps]
    result["ringbuf"], result["perf"] = records["ringbuf"], records["perf"]
    records["ringbuf"], records["perf"] = [], []
    print(json.dumps(result), flush=True)

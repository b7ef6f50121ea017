/* SPDX-License-Identifier: GPL-2.0 */
/* core_reloc.h: what every core_reloc_*.bpf.c test program shares.
 *
 * The programs read a local view of a type (marked preserve_access_index, so
 * clang emits a CO-RE record for every access) and store what they read into
 * the global array `out`. The CO-RE tests relocate them against the target
 * BTFs in testdata/btf/ (built from the matching core_btf_*.c) and compare
 * every relocation with libbpf's. Where a program reads the input directly
 * (`in->field`) the load itself is relocated (offset, and load size where
 * libbpf adjusts it); through bpf_core_read() it is an `rX += off`.
 */
#include <linux/bpf.h>
#include <linux/types.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>

#define __pai __attribute__((preserve_access_index))

__u64 out[64];

#define OUT(i, v) (out[(i)] = (__u64)(v))

/* The input: what raw_tp's first argument points to, as far as clang knows. */
#define INPUT(type) ((type *)ctx->args[0])

#define PROG(name) \
	SEC("raw_tp/sys_enter") int name(struct bpf_raw_tracepoint_args *ctx)


/* bpf_core_field_signed() is newer than Debian's libbpf headers. */
#define FIELD_SIGNED(field) __builtin_preserve_field_info(field, BPF_FIELD_SIGNED)
#define FIELD_LSHIFT(field) __builtin_preserve_field_info(field, BPF_FIELD_LSHIFT_U64)
#define FIELD_RSHIFT(field) __builtin_preserve_field_info(field, BPF_FIELD_RSHIFT_U64)

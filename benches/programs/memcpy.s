# memcpy of the first half of the input onto the second half, 32 bytes per iteration.
#
# In:  r1 = a buffer of 2 * n bytes: the source, then the destination; r2 = 2 * n, where n is a
#      multiple of 32
# Out: r0 = the destination's first and last u64 words, read back and xored, plus n
#
# Exercises: double-word loads and stores (the fast path of every memory model), a tight loop.

    r5 = r2
    r5 >>= 1                        # n
    r3 = r1                         # source cursor
    r4 = r1
    r4 += r5                        # destination cursor
    r7 = r4                         # destination (and end of the source)
    if r3 >= r7 goto copied
copy:
    r6 = *(u64 *)(r3 + 0)
    *(u64 *)(r4 + 0) = r6
    r6 = *(u64 *)(r3 + 8)
    *(u64 *)(r4 + 8) = r6
    r6 = *(u64 *)(r3 + 16)
    *(u64 *)(r4 + 16) = r6
    r6 = *(u64 *)(r3 + 24)
    *(u64 *)(r4 + 24) = r6
    r3 += 32
    r4 += 32
    if r3 < r7 goto copy
copied:
    r0 = r5
    if r5 == 0 goto done
    r6 = *(u64 *)(r7 + 0)           # first word copied
    r0 ^= r6
    r6 = *(u64 *)(r4 - 8)           # last word copied
    r0 ^= r6
done:
    exit
